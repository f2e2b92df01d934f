import type { TypedArray } from '../../dtype.js';
import type { Aval } from '../../autodiff/primitive.js';
import { broadcastTo, concat, pad, slice, transpose } from '../../backends/cpu/shape-kernels.js';
import { scatterAdd, take } from '../../backends/cpu/index-kernels.js';
import { argExtreme, cumsum, reduce } from '../../backends/cpu/reduce.js';
import { batchOffsets } from '../../backends/cpu/kernels.js';
import { matmul, type FloatArray } from '../../backends/cpu/matmul/matmul.js';
import { tanhF32Array } from '../../backends/cpu/tanh-wasm.js';
import { tanhF64Array } from '../../backends/cpu/tanh-wasm64.js';
import type { Eqn } from '../ir.js';

/**
 * Ops whose CPU kernel is a thin wrapper over a routine that writes a given output array: the
 * compiled program calls the routine itself with a planned output buffer (the same routine and
 * arguments as the kernel in backends/cpu/kernels.ts, so the same values), instead of letting the
 * kernel allocate an array per call. Each routine writes every element of its output.
 */
type Run = (B: unknown[]) => void;
type Maker = (e: Eqn, avals: readonly Aval[], root: Int32Array) => Run;

const io = (e: Eqn, root: Int32Array) => ({ x: root[e.inputs[0]!]!, o: e.outputs[0]! });

export const directOps: Record<string, Maker> = {
  transpose: (e, avals, root) => {
    const { x, o } = io(e, root);
    const sh = avals[e.inputs[0]!]!.shape;
    const perm = (e.params as { perm: number[] }).perm;
    return (B) => transpose(B[x] as TypedArray, sh, perm, B[o] as TypedArray);
  },
  broadcastTo: (e, avals, root) => {
    const { x, o } = io(e, root);
    const sh = avals[e.inputs[0]!]!.shape;
    const os = avals[o]!.shape;
    return (B) => broadcastTo(B[x] as TypedArray, sh, os, B[o] as TypedArray);
  },
  slice: (e, avals, root) => {
    const { x, o } = io(e, root);
    const sh = avals[e.inputs[0]!]!.shape;
    const p = e.params as { starts: number[]; sizes: number[] };
    return (B) => slice(B[x] as TypedArray, sh, p.starts, p.sizes, B[o] as TypedArray);
  },
  pad: (e, avals, root) => {
    const { x, o } = io(e, root);
    const sh = avals[e.inputs[0]!]!.shape;
    const os = avals[o]!.shape;
    const lo = (e.params as { lo: number[] }).lo;
    return (B) => pad(B[x] as TypedArray, sh, lo, os, B[o] as TypedArray);
  },
  concat: (e, avals, root) => {
    const xs = e.inputs.map((u) => root[u]!);
    const shapes = e.inputs.map((u) => avals[u]!.shape);
    const o = e.outputs[0]!;
    const os = avals[o]!.shape;
    const axis = (e.params as { axis: number }).axis;
    const arrays: TypedArray[] = new Array(xs.length);
    return (B) => {
      for (let i = 0; i < xs.length; i++) arrays[i] = B[xs[i]!] as TypedArray;
      concat(arrays, shapes, axis, os, B[o] as TypedArray);
    };
  },
  take: (e, avals, root) => {
    const { x, o } = io(e, root);
    const idx = root[e.inputs[1]!]!;
    const sh = avals[e.inputs[0]!]!.shape;
    const axis = (e.params as { axis: number }).axis;
    return (B) => take(B[x] as TypedArray, sh, B[idx] as Int32Array, axis, B[o] as TypedArray);
  },
  scatterAdd: (e, avals, root) => {
    const { x, o } = io(e, root);
    const idx = root[e.inputs[1]!]!;
    const upd = root[e.inputs[2]!]!;
    const sh = avals[e.inputs[0]!]!.shape;
    const axis = (e.params as { axis: number }).axis;
    return (B) => scatterAdd(B[x] as TypedArray, sh, B[idx] as Int32Array, B[upd] as TypedArray, axis, B[o] as TypedArray);
  },
  cumsum: (e, avals, root) => {
    const { x, o } = io(e, root);
    const sh = avals[e.inputs[0]!]!.shape;
    const p = e.params as { axis: number; reverse: boolean };
    return (B) => cumsum(B[x] as TypedArray, sh, p.axis, p.reverse, B[o] as TypedArray);
  },
  // the Wasm routines, as the eager kernel (tanh is not fused where they run, see ./exprs.ts)
  tanh: (e, avals, root) => {
    const { x, o } = io(e, root);
    if (avals[o]!.dtype === 'float32') return (B) => tanhF32Array(B[x] as Float32Array, B[o] as Float32Array);
    return (B) => tanhF64Array(B[x] as Float64Array, B[o] as Float64Array);
  },
  ...Object.fromEntries((['sum', 'max', 'min'] as const).map((kind) => [
    `reduce${kind[0]!.toUpperCase()}${kind.slice(1)}`,
    ((e, avals, root) => {
      const { x, o } = io(e, root);
      const sh = avals[e.inputs[0]!]!.shape;
      const axes = (e.params as { axes: number[] }).axes;
      return (B) => reduce(kind, B[x] as TypedArray, sh, axes, B[o] as TypedArray);
    }) as Maker,
  ])),
  ...Object.fromEntries((['argmax', 'argmin'] as const).map((name) => [
    name,
    ((e, avals, root) => {
      const { x, o } = io(e, root);
      const sh = avals[e.inputs[0]!]!.shape;
      const axis = (e.params as { axis: number }).axis;
      return (B) => argExtreme(name === 'argmax', B[x] as TypedArray, sh, axis, B[o] as Int32Array);
    }) as Maker,
  ])),
};

/**
 * A matmul into a planned output, with the batch offsets the kernel would compute worked out once;
 * with a third input, the bias it adds to each row of the product (./epilogue.ts).
 */
export function matmulStep(e: Eqn, avals: readonly Aval[], root: Int32Array): Run {
  const [a, b, bias] = e.inputs.map((u) => root[u]!);
  const o = e.outputs[0]!;
  const p = e.params as { transA?: boolean; transB?: boolean };
  const os = avals[o]!.shape;
  const r = os.length;
  const m = os[r - 2]!;
  const n = os[r - 1]!;
  const ash = avals[e.inputs[0]!]!.shape;
  const k = p.transA ? ash[ash.length - 2]! : ash[ash.length - 1]!;
  const batchShape = os.slice(0, -2);
  const batch = batchShape.reduce((x, y) => x * y, 1);
  const aOff = batchOffsets(ash, batchShape, m * k);
  const bOff = batchOffsets(avals[e.inputs[1]!]!.shape, batchShape, k * n);
  const ta = !!p.transA;
  const tb = !!p.transB;
  if (bias === undefined) return (Bf) => matmul(Bf[a!] as FloatArray, aOff, Bf[b!] as FloatArray, bOff, Bf[o] as FloatArray, batch, m, k, n, ta, tb);
  return (Bf) => matmul(Bf[a!] as FloatArray, aOff, Bf[b!] as FloatArray, bOff, Bf[o] as FloatArray, batch, m, k, n, ta, tb, Bf[bias] as FloatArray);
}
