import { splitAt } from '../../shape.js';
import { ShapeError } from '../../errors.js';
import type { TypedArray } from '../../dtype.js';

function checkIndex(op: string, j: number, k: number): number {
  const r = j < 0 ? j + k : j;
  if (r < 0 || r >= k) throw new ShapeError(`${op}: index ${j} is out of bounds for an axis of size ${k}.`);
  return r;
}

/** out[o, j, i] = x[o, idx[j], i] with negative indices counted from the end. */
export function take(x: TypedArray, shape: readonly number[], idx: Int32Array, axis: number, out: TypedArray): void {
  const [outer, k, inner] = splitAt(shape, axis);
  const m = idx.length;
  for (let j = 0; j < m; j++) {
    const src = checkIndex('take', idx[j]!, k);
    for (let o = 0; o < outer; o++) {
      const from = (o * k + src) * inner;
      const to = (o * m + j) * inner;
      if (inner === 1) out[to] = x[from]!;
      else out.set(x.subarray(from, from + inner), to);
    }
  }
}

/** out = operand; out[o, idx[j], i] += updates[o, j, i] (repeated indices accumulate). */
export function scatterAdd(operand: TypedArray, shape: readonly number[], idx: Int32Array, updates: TypedArray, axis: number, out: TypedArray): void {
  out.set(operand);
  const [outer, k, inner] = splitAt(shape, axis);
  const m = idx.length;
  for (let j = 0; j < m; j++) {
    const dst = checkIndex('scatterAdd', idx[j]!, k);
    for (let o = 0; o < outer; o++) {
      const to = (o * k + dst) * inner;
      const from = (o * m + j) * inner;
      for (let i = 0; i < inner; i++) out[to + i] += updates[from + i]!;
    }
  }
}

/** Stable argsort along axis; NaNs sort last (ascending) as in NumPy. */
export function argsort(x: TypedArray, shape: readonly number[], axis: number, descending: boolean, out: Int32Array): void {
  const [outer, k, inner] = splitAt(shape, axis);
  const vals = new Float64Array(k);
  const order = new Array<number>(k);
  const cmp = descending
    ? (a: number, b: number) => {
        const va = vals[a]!, vb = vals[b]!;
        if (va !== va) return vb !== vb ? a - b : -1;
        if (vb !== vb) return 1;
        return vb - va || a - b;
      }
    : (a: number, b: number) => {
        const va = vals[a]!, vb = vals[b]!;
        if (va !== va) return vb !== vb ? a - b : 1;
        if (vb !== vb) return -1;
        return va - vb || a - b;
      };
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * k * inner + i;
      for (let j = 0; j < k; j++) {
        vals[j] = x[base + j * inner]!;
        order[j] = j;
      }
      order.sort(cmp);
      for (let j = 0; j < k; j++) out[base + j * inner] = order[j]!;
    }
  }
}
