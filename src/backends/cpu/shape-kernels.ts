import ndarray from 'ndarray';
import ops from 'ndarray-ops';
import type { TypedArray } from '../../dtype.js';
import { broadcastStrides, splitAt } from '../../shape.js';

/**
 * Data movement through ndarray strided views: a transpose, broadcast or slice is a view on the
 * input, and ndarray-ops' compiled assign copies it into a fresh contiguous output.
 */
type Arr = ndarray.Data<number>;

function view(data: TypedArray, shape: readonly number[], strides?: number[], offset = 0) {
  return ndarray(data as unknown as Arr, [...shape], strides, offset);
}

function copyInto(dst: ndarray.NdArray, src: ndarray.NdArray): void {
  if (dst.shape.length === 0) {
    (dst.data as unknown as TypedArray)[dst.offset] = (src.data as unknown as TypedArray)[src.offset]!;
    return;
  }
  ops.assign(dst, src);
}

export function transpose(x: TypedArray, shape: readonly number[], perm: readonly number[], out: TypedArray): void {
  const outShape = perm.map((p) => shape[p]!);
  const nd = shape.length;
  let lead = 0;
  while (lead < nd && perm[lead] === lead) lead++;
  if (lead === nd - 2 && perm[nd - 2] === nd - 1) {
    // swapping the last two axes (mT, a matrix transpose): tiled loops instead of the generic
    // machinery, which costs ≈20 ns an element on [K, N, d] residuals
    let batch = 1;
    for (let i = 0; i < lead; i++) batch *= shape[i]!;
    const r = shape[nd - 2]!, c = shape[nd - 1]!;
    for (let b = 0; b < batch; b++) transpose2d(x, b * r * c, r, c, out);
    return;
  }
  copyInto(view(out, outShape), view(x, shape).transpose(...perm));
}

const TILE = 16;

/** out[o + j·r + i] = x[o + i·c + j] for the r × c matrix at offset o, a TILE × TILE block at a time. */
function transpose2d(x: TypedArray, o: number, r: number, c: number, out: TypedArray): void {
  for (let i0 = 0; i0 < r; i0 += TILE) {
    const i1 = Math.min(r, i0 + TILE);
    for (let j0 = 0; j0 < c; j0 += TILE) {
      const j1 = Math.min(c, j0 + TILE);
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) out[o + j * r + i] = x[o + i * c + j]!;
    }
  }
}

export function broadcastTo(x: TypedArray, shape: readonly number[], outShape: readonly number[], out: TypedArray): void {
  if (x.length === 1) {
    out.fill(x[0]!);
    return;
  }
  copyInto(view(out, outShape), view(x, outShape, broadcastStrides(shape, outShape)));
}

export function slice(x: TypedArray, shape: readonly number[], starts: readonly number[], sizes: readonly number[], out: TypedArray): void {
  let v = view(x, shape);
  v = v.lo(...starts).hi(...sizes);
  copyInto(view(out, sizes), v);
}

export function pad(x: TypedArray, shape: readonly number[], lo: readonly number[], outShape: readonly number[], out: TypedArray): void {
  out.fill(0);
  copyInto(view(out, outShape).lo(...lo).hi(...shape), view(x, shape));
}

export function concat(xs: TypedArray[], shapes: (readonly number[])[], axis: number, outShape: readonly number[], out: TypedArray): void {
  const [outer, , inner] = splitAt(outShape, axis);
  const kOut = outShape[axis]!;
  let offset = 0;
  for (let t = 0; t < xs.length; t++) {
    const x = xs[t]!;
    const k = shapes[t]![axis]!;
    const block = k * inner;
    for (let o = 0; o < outer; o++) {
      out.set(x.subarray(o * block, (o + 1) * block), o * kOut * inner + offset * inner);
    }
    offset += k;
  }
}
