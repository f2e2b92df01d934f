import type { TypedArray } from '../../dtype.js';
import { splitAt } from '../../shape.js';

/**
 * Reductions walk the input once in memory order and accumulate into the output through an
 * odometer whose strides are 0 on reduced axes: cache-friendly whichever axes are reduced.
 * Sums accumulate in float64 whatever the dtype.
 */
export type ReduceKind = 'sum' | 'max' | 'min';

export function reduce(kind: ReduceKind, x: TypedArray, shape: readonly number[], axes: readonly number[], out: TypedArray): void {
  const rank = shape.length;
  const outSize = out.length;
  const acc = new Float64Array(outSize);
  const init = kind === 'sum' ? 0 : kind === 'max' ? -Infinity : Infinity;
  acc.fill(init);
  if (x.length === 0) {
    out.set(acc);
    return;
  }
  // output strides over the input's axes, 0 on reduced ones
  const ostr = new Array<number>(rank).fill(0);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    if (axes.includes(i)) continue;
    ostr[i] = s;
    s *= shape[i]!;
  }
  if (rank === 0) {
    acc[0] = x[0]!;
    out.set(acc);
    return;
  }
  const inner = shape[rank - 1]!;
  const is = ostr[rank - 1]!;
  const idx = new Array<number>(rank).fill(0);
  let o = 0;
  const n = x.length;
  for (let base = 0; base < n; base += inner) {
    let p = o;
    if (kind === 'sum') {
      if (is === 0) {
        let t = 0;
        for (let j = 0; j < inner; j++) t += x[base + j]!;
        acc[p] += t;
      } else for (let j = 0; j < inner; j++, p += is) acc[p] += x[base + j]!;
    } else if (kind === 'max') {
      for (let j = 0; j < inner; j++, p += is) {
        const v = x[base + j]!;
        if (v > acc[p]! || v !== v) acc[p] = v;
      }
    } else {
      for (let j = 0; j < inner; j++, p += is) {
        const v = x[base + j]!;
        if (v < acc[p]! || v !== v) acc[p] = v;
      }
    }
    for (let ax = rank - 2; ax >= 0; ax--) {
      idx[ax]++;
      o += ostr[ax]!;
      if (idx[ax]! < shape[ax]!) break;
      o -= ostr[ax]! * idx[ax]!;
      idx[ax] = 0;
    }
  }
  out.set(acc);
}

/** Index of the first max (or min) along axis; NaN counts as the extreme, as in NumPy. */
export function argExtreme(max: boolean, x: TypedArray, shape: readonly number[], axis: number, out: Int32Array): void {
  const [outer, k, inner] = splitAt(shape, axis);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * k * inner + i;
      let best = x[base]!;
      let bi = 0;
      if (best === best) {
        for (let j = 1; j < k; j++) {
          const v = x[base + j * inner]!;
          if (v !== v) {
            bi = j;
            break;
          }
          if (max ? v > best : v < best) {
            best = v;
            bi = j;
          }
        }
      }
      out[o * inner + i] = bi;
    }
  }
}

export function cumsum(x: TypedArray, shape: readonly number[], axis: number, reverse: boolean, out: TypedArray): void {
  const [outer, k, inner] = splitAt(shape, axis);
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    const base = o * k * inner;
    for (let jj = 0; jj < k; jj++) {
      const j = reverse ? k - 1 - jj : jj;
      const row = base + j * inner;
      for (let i = 0; i < inner; i++) {
        acc[i] += x[row + i]!;
        out[row + i] = acc[i]!;
      }
    }
  }
}
