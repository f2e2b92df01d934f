import { allocArray, type TypedArray } from '../../dtype.js';
import { NumericalError } from '../../errors.js';
import type { CpuInput, CpuKernel } from '../../autodiff/primitive.js';
import { elementwiseKernel } from './elementwise.js';
import { ELEMENTWISE_OPS, type ElementwiseOp, type KernelOp } from '../../autodiff/builtins.js';
import { argExtreme, cumsum, reduce } from './reduce.js';
import { broadcastTo, concat, pad, slice, transpose } from './shape-kernels.js';
import { argsort, scatterAdd, take } from './index-kernels.js';
import { matmul } from './matmul/matmul.js';
import { conv2dKernel } from './conv.js';
import { cholesky, luFactor, luSolve, slogdetFromLu, triangularSolve, triangularSolveResident, type FloatArray } from './linalg.js';
import { randintOffset } from './randint.js';
import { fma } from './special.js';
import { gammaOneJax } from './gamma.js';
import { foldInKeys, randomBits64, randomBits32, randomUniform32, randomUniform64, splitKeys } from '../../prng/threefry.js';
import { sizeOf as sizeOfShape, stridesOf } from '../../shape.js';
import { allocPooled } from './pool.js';
import { appendContiguous, notePlainConcat } from './growable.js';
import { specialCpuKernels } from './special-kernels.js';


const out1 = (outs: { dtype: any; shape: readonly number[] }[]): TypedArray => allocPooled(outs[0]!.dtype, sizeOfShape(outs[0]!.shape));

/** an output the kernel writes in full: a pooled array without the zeroing pass */
const outFull = (outs: { dtype: any; shape: readonly number[] }[]): TypedArray => allocPooled(outs[0]!.dtype, sizeOfShape(outs[0]!.shape), true);

const elementwise = (op: ElementwiseOp): CpuKernel => (inputs, _p, outs) => {
  const out = outFull(outs);
  const k = elementwiseKernel(op, inputs[0]!.dtype === 'int32', outs[0]!.dtype === 'float32');
  k(inputs.map((i) => i.data), inputs.map((i) => i.shape), out, outs[0]!.shape);
  return out;
};

const reduceKernel = (kind: 'sum' | 'max' | 'min'): CpuKernel => ([x], p: { axes: number[] }, outs) => {
  const out = out1(outs);
  reduce(kind, x!.data, x!.shape, p.axes, out);
  return out;
};

const argKernel = (isMax: boolean): CpuKernel => ([x], p: { axis: number }, outs) => {
  const out = out1(outs) as Int32Array;
  argExtreme(isMax, x!.data, x!.shape, p.axis, out);
  return out;
};

const cumsumKernel: CpuKernel = ([x], p: { axis: number; reverse: boolean }, outs) => {
  const out = out1(outs);
  cumsum(x!.data, x!.shape, p.axis, p.reverse, out);
  return out;
};

const transposeKernel: CpuKernel = ([x], p: { perm: number[] }, outs) => {
  const out = out1(outs);
  transpose(x!.data, x!.shape, p.perm, out);
  return out;
};

const broadcastToKernel: CpuKernel = ([x], _p, outs) => {
  const out = out1(outs);
  broadcastTo(x!.data, x!.shape, outs[0]!.shape, out);
  return out;
};

const sliceKernel: CpuKernel = ([x], p: { starts: number[]; sizes: number[] }, outs) => {
  const out = out1(outs);
  slice(x!.data, x!.shape, p.starts, p.sizes, out);
  return out;
};

const padKernel: CpuKernel = ([x], p: { lo: number[] }, outs) => {
  const out = out1(outs);
  pad(x!.data, x!.shape, p.lo, outs[0]!.shape, out);
  return out;
};

const concatKernel: CpuKernel = (inputs, p: { axis: number }, outs) => {
  const shape = outs[0]!.shape;
  if (shape.slice(0, p.axis).every((n) => n === 1)) {
    // contiguous parts: an append (growable.ts) when it continues a chain of concats
    const grown = appendContiguous(inputs.map((i) => i.data), outs[0]!.dtype, sizeOfShape(shape));
    if (grown) return grown;
  }
  const out = out1(outs);
  concat(inputs.map((i) => i.data), inputs.map((i) => i.shape), p.axis, shape, out);
  notePlainConcat(out);
  return out;
};

const takeKernel: CpuKernel = ([x, idx], p: { axis: number }, outs) => {
  const out = out1(outs);
  take(x!.data, x!.shape, idx!.data as Int32Array, p.axis, out);
  return out;
};

const scatterAddKernel: CpuKernel = ([x, idx, upd], p: { axis: number }, outs) => {
  const out = out1(outs);
  scatterAdd(x!.data, x!.shape, idx!.data as Int32Array, upd!.data, p.axis, out);
  return out;
};

const argsortKernel: CpuKernel = ([x], p: { axis: number; descending: boolean }, outs) => {
  const out = out1(outs) as Int32Array;
  argsort(x!.data, x!.shape, p.axis, p.descending, out);
  return out;
};

/** Offsets of each batch matrix of x when its batch dims broadcast to `batchShape`. */
export function batchOffsets(shape: readonly number[], batchShape: readonly number[], matSize: number): Int32Array {
  const xb = shape.slice(0, -2);
  const total = sizeOfShape(batchShape);
  const offs = new Int32Array(total);
  if (sizeOfShape(xb) === total && xb.length === batchShape.length) {
    for (let i = 0; i < total; i++) offs[i] = i * matSize;
    return offs;
  }
  const rank = batchShape.length;
  const xs = stridesOf(xb);
  const str = batchShape.map((_, j) => {
    const i = j - (rank - xb.length);
    return i < 0 || xb[i] === 1 ? 0 : xs[i]! * matSize;
  });
  const idx = new Array<number>(rank).fill(0);
  for (let b = 0; b < total; b++) {
    let o = 0;
    for (let j = 0; j < rank; j++) o += idx[j]! * str[j]!;
    offs[b] = o;
    for (let j = rank - 1; j >= 0; j--) {
      if (++idx[j]! < batchShape[j]!) break;
      idx[j] = 0;
    }
  }
  return offs;
}

const matmulKernel: CpuKernel = ([a, b], p: { transA?: boolean; transB?: boolean }, outs) => {
  const out = out1(outs) as FloatArray;
  const os = outs[0]!.shape;
  const r = os.length;
  const m = os[r - 2]!;
  const n = os[r - 1]!;
  const ash = a!.shape;
  const k = p.transA ? ash[ash.length - 2]! : ash[ash.length - 1]!;
  const batchShape = os.slice(0, -2);
  const batch = sizeOfShape(batchShape);
  const aOff = batchOffsets(ash, batchShape, m * k);
  const bOff = batchOffsets(b!.shape, batchShape, k * n);
  matmul(a!.data as FloatArray, aOff, b!.data as FloatArray, bOff, out, batch, m, k, n, !!p.transA, !!p.transB);
  return out;
};

const choleskyKernel: CpuKernel = ([a], p: { onFailure?: 'nan' }, outs) => {
  const out = out1(outs) as FloatArray;
  const sh = a!.shape;
  const n = sh[sh.length - 1]!;
  const batch = n === 0 ? 0 : a!.data.length / (n * n);
  const info = { pivot: -1, value: 0 };
  const bad = cholesky(a!.data as FloatArray, out, batch, n, info);
  if (bad < 0) return out;
  if (p.onFailure === 'nan') {
    // a failed factorisation has NaN rows from its failing pivot on, so a NaN diagonal marks it
    const nn = n * n;
    for (let t = bad; t < batch; t++) {
      let failed = false;
      for (let i = 0; i < n && !failed; i++) failed = Number.isNaN(out[t * nn + i * (n + 1)]!);
      if (failed) out.fill(NaN, t * nn, (t + 1) * nn);
    }
    return out;
  }
  throw new NumericalError(
    `cholesky: matrix ${batch > 1 ? `#${bad} of the batch ` : ''}(${n}×${n}) is not positive definite: ` +
      `pivot ${info.pivot} is ${info.value}. Symmetrise it and add jitter to the diagonal (A + εI), or check for NaNs.`,
  );
};

function broadcastBatch(x: CpuInput, batchShape: readonly number[], matSize: number): { data: TypedArray; stride: number } {
  const own = sizeOfShape(x.shape.slice(0, -2));
  const total = sizeOfShape(batchShape);
  if (own === total) return { data: x.data, stride: matSize };
  if (own === 1) return { data: x.data, stride: 0 };
  // general broadcasting: materialise
  const offs = batchOffsets(x.shape, batchShape, matSize);
  const data = allocArray(x.dtype, total * matSize);
  for (let b = 0; b < total; b++) data.set(x.data.subarray(offs[b]!, offs[b]! + matSize), b * matSize);
  return { data, stride: matSize };
}

const triangularSolveKernel: CpuKernel = ([a, b], p: { lower: boolean; transposeA: boolean; unitDiagonal: boolean }, outs) => {
  const os = outs[0]!.shape;
  const n = os[os.length - 2]!;
  const m = os[os.length - 1]!;
  const batchShape = os.slice(0, -2);
  const A = broadcastBatch(a!, batchShape, n * n);
  const B = broadcastBatch(b!, batchShape, n * m);
  // Large solves: the result stays in the Wasm memory the kernels computed it in (no copy out).
  const resident = triangularSolveResident(A.data as FloatArray, B.data as FloatArray, sizeOfShape(batchShape), n, m, p.lower, p.transposeA, p.unitDiagonal, A.stride, B.stride);
  if (resident) return resident;
  const out = out1(outs) as FloatArray;
  triangularSolve(A.data as FloatArray, B.data as FloatArray, out, sizeOfShape(batchShape), n, m, p.lower, p.transposeA, p.unitDiagonal, A.stride, B.stride);
  return out;
};

function luOf(a: CpuInput, batchShape: readonly number[], n: number, op: string, singular?: Uint8Array) {
  const A = broadcastBatch(a, batchShape, n * n);
  const batch = sizeOfShape(batchShape);
  const full = A.stride === 0 && batch > 1 ? (() => {
    const d = allocArray(a.dtype, batch * n * n);
    for (let i = 0; i < batch; i++) d.set(A.data.subarray(0, n * n), i * n * n);
    return d;
  })() : A.data;
  const lu = allocArray(a.dtype, batch * n * n) as FloatArray;
  const perm = new Int32Array(batch * n);
  const sign = allocArray(a.dtype, batch) as FloatArray;
  const bad = luFactor(full as FloatArray, lu, perm, sign, batch, n, singular);
  return { lu, perm, sign, bad, batch, op };
}

const solveKernel: CpuKernel = ([a, b], p: { onFailure?: 'nan' }, outs) => {
  const out = out1(outs) as FloatArray;
  const os = outs[0]!.shape;
  const n = os[os.length - 2]!;
  const m = os[os.length - 1]!;
  const batchShape = os.slice(0, -2);
  const nanMode = p.onFailure === 'nan';
  const singular = nanMode ? new Uint8Array(sizeOfShape(batchShape)) : undefined;
  const f = luOf(a!, batchShape, n, 'solve', singular);
  if (f.bad >= 0 && !nanMode) {
    throw new NumericalError(`solve: matrix ${f.batch > 1 ? `#${f.bad} of the batch ` : ''}(${n}×${n}) is singular. Check the system, or regularise it (A + εI).`);
  }
  const B = broadcastBatch(b!, batchShape, n * m);
  luSolve(f.lu, f.perm, B.data as FloatArray, out, f.batch, n, m, B.stride);
  if (f.bad >= 0) {
    // 'nan' mode: a singular matrix's solution is all NaN (not the inf/NaN mix substitution leaves)
    for (let t = f.bad; t < f.batch; t++) if (singular![t]) out.fill(NaN, t * n * m, (t + 1) * n * m);
  }
  return out;
};

const slogdetKernel: CpuKernel = ([a], _p, outs) => {
  const sh = a!.shape;
  const n = sh[sh.length - 1]!;
  const batchShape = sh.slice(0, -2);
  const f = luOf(a!, batchShape, n, 'slogdet');
  const sign = out1(outs) as FloatArray;
  const logabs = allocArray(outs[1]!.dtype, f.batch) as FloatArray;
  slogdetFromLu(f.lu, sign, f.sign, logabs, f.batch, n);
  return [sign, logabs];
};

// Random streams: keys [..., 2] (int32 bit patterns); outputs [..., ...shape].
const randomRandintKernel: CpuKernel = ([keys], p, outs) => {
  const { span, minval, width } = p as { span: number; minval: number; width: 32 | 64 };
  const pairs = keys!.data.length / 4;
  const n = sizeOfShape(outs[0]!.shape);
  const count = pairs === 0 ? 0 : n / pairs;
  const out = new Int32Array(n);
  for (let j = 0; j < pairs; j++) {
    const kj = keys!.data as Int32Array;
    const hiBits = (width === 64 ? randomBits64 : randomBits32)(kj.subarray(4 * j, 4 * j + 2), 1, count);
    const loBits = (width === 64 ? randomBits64 : randomBits32)(kj.subarray(4 * j + 2, 4 * j + 4), 1, count);
    for (let i = 0; i < count; i++) {
      out[j * count + i] = (minval + randintOffset(hiBits, loBits, i, span, width)) | 0;
    }
  }
  return out;
};

const randomBitsKernel: CpuKernel = ([keys], _p, outs) => {
  const nKeys = keys!.data.length / 2;
  const count = nKeys === 0 ? 0 : sizeOfShape(outs[0]!.shape) / nKeys;
  return randomBits32(keys!.data as Int32Array, nKeys, count);
};

const randomUniformKernel: CpuKernel = ([keys], p, outs) => {
  const nKeys = keys!.data.length / 2;
  const count = nKeys === 0 ? 0 : sizeOfShape(outs[0]!.shape) / nKeys;
  const f64 = outs[0]!.dtype === 'float64';
  const u = f64 ? randomUniform64(keys!.data as Int32Array, nKeys, count) : randomUniform32(keys!.data as Int32Array, nKeys, count);
  const { minval = 0, span = 1 } = p as { minval?: number; span?: number };
  // max(minval, u·span + minval) with one rounding, as XLA fuses it (bounds already in the dtype)
  if (minval !== 0 || span !== 1) {
    for (let i = 0; i < u.length; i++) u[i] = Math.max(minval, f64 ? fma(u[i]!, span, minval) : u[i]! * span + minval);
  }
  return u;
};

const randomSplitKernel: CpuKernel = ([keys], p: { num: number }) => {
  return splitKeys(keys!.data as Int32Array, keys!.data.length / 2, p.num);
};

const randomFoldInKernel: CpuKernel = ([keys], p: { data: number }) => {
  return foldInKeys(keys!.data as Int32Array, keys!.data.length / 2, p.data);
};

/**
 * Gamma(α, 1) as jax.random.gamma: key j splits into one key per element of α (its own α row
 * when `perKey`, else α shared by every key), each drawn by gammaOneJax (./gamma.ts).
 */
const randomGammaKernel: CpuKernel = ([keys, alpha], p: { perKey?: boolean }, outs) => {
  const out = out1(outs);
  const nKeys = keys!.data.length / 2;
  const n = sizeOfShape(outs[0]!.shape);
  const m = nKeys === 0 ? 0 : n / nKeys;
  const a = alpha!.data;
  const f32 = outs[0]!.dtype === 'float32';
  for (let j = 0; j < nKeys; j++) {
    const ks = splitKeys((keys!.data as Int32Array).subarray(2 * j, 2 * j + 2), 1, m);
    for (let i = 0; i < m; i++) out[j * m + i] = gammaOneJax(ks.subarray(2 * i, 2 * i + 2), a[p.perKey ? j * m + i : i]!, f32);
  }
  return out;
};


/** The CPU kernel table: total over the built-in ops (a missing kernel is a compile error). */
export const cpuKernels: Record<KernelOp, CpuKernel> = {
  ...(Object.fromEntries(ELEMENTWISE_OPS.map((op) => [op, elementwise(op)])) as Record<ElementwiseOp, CpuKernel>),
  // special functions (lgamma, digamma, incomplete gamma/beta and inverses): their own file
  ...specialCpuKernels,
  reduceSum: reduceKernel('sum'),
  reduceMax: reduceKernel('max'),
  reduceMin: reduceKernel('min'),
  argmax: argKernel(true),
  argmin: argKernel(false),
  cumsum: cumsumKernel,
  transpose: transposeKernel,
  broadcastTo: broadcastToKernel,
  slice: sliceKernel,
  pad: padKernel,
  concat: concatKernel,
  take: takeKernel,
  scatterAdd: scatterAddKernel,
  argsort: argsortKernel,
  matmul: matmulKernel,
  conv2d: conv2dKernel,
  cholesky: choleskyKernel,
  triangularSolve: triangularSolveKernel,
  solve: solveKernel,
  slogdet: slogdetKernel,
  randomBits: randomBitsKernel,
  randomUniform: randomUniformKernel,
  randomSplit: randomSplitKernel,
  randomFoldIn: randomFoldInKernel,
  randomGamma: randomGammaKernel,
  randomRandint: randomRandintKernel,
};
