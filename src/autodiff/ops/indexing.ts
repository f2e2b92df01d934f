import type { Tensor } from '../../tensor.js';
import { bind1 } from '../core.js';
import type { Primitive } from '../primitive.js';
import { DTypeError, ShapeError } from '../../errors.js';
import { fmtShape, normalizeAxis, shapesEqual, stridesOf } from '../../shape.js';
import { allocArray } from '../../dtype.js';
import { fromHost } from '../core.js';
import { add, greaterEqual, less, mul, where } from './elementwise.js';
import { zeros } from './creation.js';
import { broadcastTo, expandDims, moveAxis, reshape } from './shape.js';
import { loopBatch } from '../batching.js';

/** Gather/scatter along one axis, sorting, and triangle/diagonal helpers. */

function checkIndices(op: string, idx: Tensor): void {
  if (idx.dtype !== 'int32') throw new DTypeError(`${op}: indices must be int32, got ${idx.dtype}. Build them with bt.tensor(values, { dtype: 'int32' }) or x.astype('int32').`);
}

function takeShape(x: readonly number[], idx: readonly number[], axis: number): number[] {
  return [...x.slice(0, axis), ...idx, ...x.slice(axis + 1)];
}

const takePrim: Primitive<{ axis: number }> = {
  name: 'take',
  shape: ([x, idx], p) => {
    checkIndices('take', idx as Tensor);
    return [{ shape: takeShape(x!.shape, idx!.shape, p.axis), dtype: x!.dtype }];
  },
  jvp: ([, idx], [t], p) => [t && take(t, idx!, p.axis)],
  vjp: ([ct], [x, idx], _o, p) => [ct && bind1(scatterAddPrim, [zeros(x!.shape, x!.dtype), idx!, ct], p), null],
  batch: ([x, idx], dims, p, size) => {
    if (dims[1] === null) return [bind1(takePrim, [x!, idx!], { axis: p.axis + 1 })];
    if (p.axis === 0) {
      // per-example gather on axis 0: offset each example's indices into a flattened [B*K, ...] operand
      const xb = dims[0] === 0 ? x! : broadcastTo(expandDims(x!, 0), [size, ...x!.shape]);
      const k = xb.shape[1]!;
      const flatX = reshape(xb, [size * k, ...xb.shape.slice(2)]);
      const offs = reshape(mul(iota(size), k), [size, ...new Array<number>(idx!.ndim - 1).fill(1)]);
      // wrap negative indices within each example before offsetting (−1 is that example's last row)
      const wrapped = where(less(idx!, 0), add(idx!, k), idx!);
      return [bind1(takePrim, [flatX, add(wrapped, offs)], { axis: 0 })];
    }
    return loopBatch(takePrim, [x!, idx!], dims, p, size);
  },
};

const scatterAddPrim: Primitive<{ axis: number }> = {
  name: 'scatterAdd',
  shape: ([x, idx, upd], p) => {
    checkIndices('scatterAdd', idx as Tensor);
    const want = takeShape(x!.shape, idx!.shape, p.axis);
    if (!shapesEqual(want, upd!.shape)) {
      throw new ShapeError(`scatterAdd: updates have shape ${fmtShape(upd!.shape)}, expected ${fmtShape(want)} for operand ${fmtShape(x!.shape)}, indices ${fmtShape(idx!.shape)}, axis ${p.axis}.`);
    }
    if (x!.dtype !== upd!.dtype) throw new DTypeError(`scatterAdd: operand is ${x!.dtype} but updates are ${upd!.dtype}.`);
    return [{ shape: x!.shape, dtype: x!.dtype }];
  },
  jvp: ([x, idx, upd], [tx, , tu], p) => {
    if (!tx && !tu) return [null];
    return [bind1(scatterAddPrim, [tx ?? zeros(x!.shape, x!.dtype), idx!, tu ?? zeros(upd!.shape, upd!.dtype)], p)];
  },
  vjp: ([ct], [, idx], _o, p) => (ct ? [ct, null, take(ct, idx!, p.axis)] : [null, null, null]),
  batch: (args, dims, p, size) => {
    if (dims[1] !== null) return loopBatch(scatterAddPrim, args, dims, p, size);
    // idx is unbatched here: it stays as is (the same indices for every example, on axis + 1)
    const [x, , upd] = args.map((a, i) => (dims[i] === 0 || i === 1 ? a : broadcastTo(expandDims(a!, 0), [size, ...a!.shape])));
    return [bind1(scatterAddPrim, [x!, args[1]!, upd!], { axis: p.axis + 1 })];
  },
};

const argsortPrim: Primitive<{ axis: number; descending: boolean }> = {
  name: 'argsort',
  nondiff: true,
  shape: ([x]) => [{ shape: x!.shape, dtype: 'int32' }],
  batch: ([x], _d, p) => [bind1(argsortPrim, [x!], { axis: p.axis + 1, descending: p.descending })],
};

export const indexingPrims = { take: takePrim, scatterAdd: scatterAddPrim, argsort: argsortPrim };

function iota(n: number): Tensor {
  const d = allocArray('int32', n);
  for (let i = 0; i < n; i++) d[i] = i;
  return fromHost(d, [n]);
}

/** take(x, indices, axis): x[..., indices, ...] along axis (NumPy take); negative indices count from the end. */
export function take(x: Tensor, indices: Tensor, axis = 0): Tensor {
  const a = normalizeAxis('take', axis, x.ndim);
  return bind1(takePrim, [x, indices], { axis: a });
}

/** scatterAdd(x, indices, updates, axis): a copy of x with updates added at indices along axis (repeats accumulate). */
export function scatterAdd(x: Tensor, indices: Tensor, updates: Tensor, axis = 0): Tensor {
  const a = normalizeAxis('scatterAdd', axis, x.ndim);
  return bind1(scatterAddPrim, [x, indices, updates], { axis: a });
}

/** takeAlongAxis(x, idx, axis): out[..., j, ...] = x[..., idx[..., j, ...], ...] (idx has x's rank). */
export function takeAlongAxis(x: Tensor, idx: Tensor, axis = -1): Tensor {
  checkIndices('takeAlongAxis', idx);
  const a = normalizeAxis('takeAlongAxis', axis, x.ndim);
  if (idx.ndim !== x.ndim || idx.shape.some((d, i) => i !== a && d !== x.shape[i])) {
    throw new ShapeError(`takeAlongAxis: indices ${fmtShape(idx.shape)} must match x ${fmtShape(x.shape)} except on axis ${a}.`);
  }
  // gather from the flattened tensor: flat = base(other coords) + idx * stride(axis)
  const strides = stridesOf(x.shape);
  const base = allocArray('int32', idx.size);
  const istr = stridesOf(idx.shape);
  for (let f = 0; f < idx.size; f++) {
    let rem = f;
    let off = 0;
    for (let d = 0; d < idx.ndim; d++) {
      const c = Math.floor(rem / istr[d]!);
      rem -= c * istr[d]!;
      if (d !== a) off += c * strides[d]!;
    }
    base[f] = off;
  }
  const k = x.shape[a]!;
  const be = idx._backend;
  if (be?.readSync) {
    // concrete indices on a backend that can read them: the error names this op and the index
    const v = be.readSync(idx._handle, 'int32', idx.size);
    const bad = v.findIndex((i) => i < -k || i >= k);
    if (bad >= 0) throw new ShapeError(`takeAlongAxis: index ${v[bad]} (at flat position ${bad}) is out of bounds for axis ${a} of size ${k} (valid: ${-k} … ${k - 1}).`);
  }
  const wrapped = where(less(idx, 0), add(idx, k), idx);
  // an index outside [-k, k) must not land in a neighbouring row of the flat tensor: it is sent
  // past the end, where take raises the ShapeError (at the next read on WebGPU)
  const outside = fromHost(Int32Array.of(x.size), []);
  const flat = add(fromHost(base, idx.shape), mul(wrapped, strides[a]!));
  const checked = where(less(wrapped, 0), outside, where(greaterEqual(wrapped, k), outside, flat));
  return reshape(take(reshape(x, [x.size]), reshape(checked, [idx.size]), 0), idx.shape);
}

/** Indices (int32) that sort `x` along an axis (default the last), ascending unless `descending`. */
export function argsort(x: Tensor, opts?: { axis?: number; descending?: boolean }): Tensor {
  const axis = normalizeAxis('argsort', opts?.axis ?? -1, x.ndim);
  return bind1(argsortPrim, [x], { axis, descending: opts?.descending ?? false });
}

/** Sorted values (differentiable: a gather by the argsort permutation). */
export function sort(x: Tensor, opts?: { axis?: number; descending?: boolean }): Tensor {
  const axis = normalizeAxis('sort', opts?.axis ?? -1, x.ndim);
  return takeAlongAxis(x, argsort(x, { axis, descending: opts?.descending }), axis);
}

/** The diagonal of the last two axes: [..., n, m] -> [..., min(n, m)] (offset k above the main one). */
export function diagonal(x: Tensor, k = 0): Tensor {
  if (x.ndim < 2) throw new ShapeError(`diagonal: needs at least 2 dimensions, got ${fmtShape(x.shape)}.`);
  const n = x.shape[x.ndim - 2]!;
  const m = x.shape[x.ndim - 1]!;
  const len = Math.max(0, Math.min(n - Math.max(0, -k), m - Math.max(0, k)));
  const idx = allocArray('int32', len);
  for (let i = 0; i < len; i++) idx[i] = (i + Math.max(0, -k)) * m + i + Math.max(0, k);
  const flat = reshape(x, [...x.shape.slice(0, -2), n * m]);
  return take(flat, fromHost(idx, [len]), -1);
}

/** diag(v): [..., n] -> [..., n, n] with v on the diagonal. */
export function diag(v: Tensor): Tensor {
  if (v.ndim < 1) throw new ShapeError('diag: needs at least 1 dimension.');
  const n = v.shape[v.ndim - 1]!;
  return mul(expandDims(v, -1), eyeLike(n, v));
}

function eyeLike(n: number, like: Tensor): Tensor {
  const d = allocArray(like.dtype, n * n);
  for (let i = 0; i < n; i++) d[i * n + i] = 1;
  return fromHost(d, [n, n]);
}

function triMask(x: Tensor, k: number, lower: boolean): Tensor {
  const n = x.shape[x.ndim - 2]!;
  const m = x.shape[x.ndim - 1]!;
  const d = allocArray(x.dtype, n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) d[i * m + j] = (lower ? j - i <= k : j - i >= k) ? 1 : 0;
  return fromHost(d, [n, m]);
}

/** Lower triangle of the last two axes (entries with j - i <= k). */
export function tril(x: Tensor, k = 0): Tensor {
  if (x.ndim < 2) throw new ShapeError(`tril: needs at least 2 dimensions, got ${fmtShape(x.shape)}.`);
  return mul(x, triMask(x, k, true));
}

/** Upper triangle of the last two axes (entries with j - i >= k). */
export function triu(x: Tensor, k = 0): Tensor {
  if (x.ndim < 2) throw new ShapeError(`triu: needs at least 2 dimensions, got ${fmtShape(x.shape)}.`);
  return mul(x, triMask(x, k, false));
}

export { moveAxis };
