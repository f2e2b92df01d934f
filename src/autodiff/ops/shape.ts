import type { Tensor } from '../../tensor.js';
import { bind1 } from '../core.js';
import type { Aval, Primitive } from '../primitive.js';
import { ShapeError } from '../../errors.js';
import { assertSameDType } from '../../dtype.js';
import { assertShape, broadcastShapes, fmtShape, normalizeAxis, shapesEqual, sizeOf } from '../../shape.js';
import { zeros } from './creation.js';
import { sum } from './reduce.js';

/** Shape primitives: data movement only; their derivatives are other shape ops. */

const same = (inputs: readonly Aval[], shape: readonly number[]): Aval[] => [{ shape, dtype: inputs[0]!.dtype }];

const reshapePrim: Primitive<{ shape: number[] }> = {
  name: 'reshape',
  view: true,
  shape: (inputs, p) => same(inputs, p.shape),
  jvp: (_x, [t], p) => [reshape(t!, p.shape)],
  vjp: ([ct], [x]) => [ct && reshape(ct, x!.shape)],
  batch: ([x], _d, p) => [reshape(x!, [x!.shape[0]!, ...p.shape])],
};

const transposePrim: Primitive<{ perm: number[] }> = {
  name: 'transpose',
  shape: (inputs, p) => same(inputs, p.perm.map((i) => inputs[0]!.shape[i]!)),
  jvp: (_x, [t], p) => [transpose(t!, p.perm)],
  vjp: ([ct], _x, _o, p) => [ct && transpose(ct, inversePerm(p.perm))],
  batch: ([x], _d, p) => [transpose(x!, [0, ...p.perm.map((i) => i + 1)])],
};

const broadcastToPrim: Primitive<{ shape: number[] }> = {
  name: 'broadcastTo',
  shape: (inputs, p) => {
    const s = inputs[0]!.shape;
    const b = broadcastShapes('broadcastTo', s, p.shape);
    if (!shapesEqual(b, p.shape)) {
      throw new ShapeError(`broadcastTo: shape ${fmtShape(s)} cannot be broadcast to ${fmtShape(p.shape)} (sizes must match or be 1, aligned from the right).`);
    }
    return same(inputs, p.shape);
  },
  jvp: (_x, [t], p) => [broadcastTo(t!, p.shape)],
  vjp: ([ct], [x]) => [ct && sumTo(ct, x!.shape)],
  batch: ([x], _d, p) => {
    const inner = x!.shape.slice(1);
    const padded = reshape(x!, [x!.shape[0]!, ...new Array<number>(p.shape.length - inner.length).fill(1), ...inner]);
    return [broadcastTo(padded, [x!.shape[0]!, ...p.shape])];
  },
};

const slicePrim: Primitive<{ starts: number[]; sizes: number[] }> = {
  name: 'slice',
  shape: (inputs, p) => same(inputs, p.sizes),
  jvp: (_x, [t], p) => [slice(t!, p.starts, p.sizes)],
  vjp: ([ct], [x], _o, p) => [ct && pad(ct, p.starts, x!.shape.map((d, i) => d - p.starts[i]! - p.sizes[i]!))],
  batch: ([x], _d, p) => [slice(x!, [0, ...p.starts], [x!.shape[0]!, ...p.sizes])],
};

const padPrim: Primitive<{ lo: number[]; hi: number[] }> = {
  name: 'pad',
  shape: (inputs, p) => same(inputs, inputs[0]!.shape.map((d, i) => d + p.lo[i]! + p.hi[i]!)),
  jvp: (_x, [t], p) => [pad(t!, p.lo, p.hi)],
  vjp: ([ct], [x], _o, p) => [ct && slice(ct, p.lo, x!.shape)],
  batch: ([x], _d, p) => [pad(x!, [0, ...p.lo], [0, ...p.hi])],
};

const concatPrim: Primitive<{ axis: number }> = {
  name: 'concat',
  shape: (inputs, p) => {
    const dtype = assertSameDType('concat', inputs.map((i) => i.dtype));
    const first = inputs[0]!.shape;
    let total = 0;
    for (const inp of inputs) {
      const ok = inp.shape.length === first.length && inp.shape.every((d, i) => i === p.axis || d === first[i]);
      if (!ok) {
        throw new ShapeError(`concat: shapes ${inputs.map((i) => fmtShape(i.shape)).join(', ')} differ outside axis ${p.axis}; all other sizes must match.`);
      }
      total += inp.shape[p.axis]!;
    }
    return [{ shape: first.map((d, i) => (i === p.axis ? total : d)), dtype }];
  },
  jvp: (xs, ts, p) => {
    if (ts.every((t) => t === null)) return [null];
    return [concat(ts.map((t, i) => t ?? zeros(xs[i]!.shape, xs[i]!.dtype)), p.axis)];
  },
  vjp: ([ct], xs, _o, p) => {
    if (!ct) return xs.map(() => null);
    let start = 0;
    return xs.map((x) => {
      const starts = ct.shape.map((_, i) => (i === p.axis ? start : 0));
      start += x.shape[p.axis]!;
      return slice(ct, starts, x.shape);
    });
  },
  batch: (xs, dims, p, size) => [
    concat(xs.map((x, i) => (dims[i] === 0 ? x : broadcastTo(expandDims(x, 0), [size, ...x.shape]))), p.axis + 1),
  ],
};

export const shapePrims = { reshape: reshapePrim, transpose: transposePrim, broadcastTo: broadcastToPrim, slice: slicePrim, pad: padPrim, concat: concatPrim };

function inversePerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

/** reshape(x, shape); one entry may be -1 (inferred). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const s = [...shape];
  const neg = s.indexOf(-1);
  if (neg >= 0) {
    const rest = sizeOf(s.filter((_, i) => i !== neg));
    if (rest === 0 || x.size % rest !== 0) {
      throw new ShapeError(`reshape: cannot infer -1 in ${fmtShape(shape)} for ${x.size} elements (shape ${fmtShape(x.shape)}).`);
    }
    s[neg] = x.size / rest;
  }
  assertShape('reshape', s);
  if (sizeOf(s) !== x.size) {
    throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) into ${fmtShape(shape)} (${sizeOf(s)} elements).`);
  }
  if (shapesEqual(s, x.shape)) return x;
  return bind1(reshapePrim, [x], { shape: s });
}

/** transpose(x, perm?): reverses the axes by default. */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const r = x.ndim;
  const p = perm ? perm.map((a) => normalizeAxis('transpose', a, r)) : Array.from({ length: r }, (_, i) => r - 1 - i);
  if (p.length !== r || new Set(p).size !== r) {
    throw new ShapeError(`transpose: perm [${perm?.join(', ')}] is not a permutation of the ${r} axes of ${fmtShape(x.shape)}.`);
  }
  if (p.every((a, i) => a === i)) return x;
  return bind1(transposePrim, [x], { perm: p });
}

/** Swap the last two axes (matrix transpose over a batch). */
export function mT(x: Tensor): Tensor {
  if (x.ndim < 2) throw new ShapeError(`mT: needs at least 2 dimensions, got ${fmtShape(x.shape)}.`);
  const perm = Array.from({ length: x.ndim }, (_, i) => i);
  perm[x.ndim - 2] = x.ndim - 1;
  perm[x.ndim - 1] = x.ndim - 2;
  return transpose(x, perm);
}

/** `x` broadcast to `shape` (NumPy rules). */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  assertShape('broadcastTo', [...shape]);
  if (shapesEqual(x.shape, shape)) return x;
  if (x.size === sizeOf(shape)) {
    // only leading ones added: a reshape is free
    const b = broadcastShapes('broadcastTo', x.shape, shape);
    if (shapesEqual(b, shape)) return reshape(x, shape);
  }
  return bind1(broadcastToPrim, [x], { shape: [...shape] });
}

/** Sum ct over the axes along which `shape` was broadcast (the reverse of broadcastTo). */
export function sumTo(ct: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(ct.shape, shape)) return ct;
  const lead = ct.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < ct.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && ct.shape[i] !== 1)) axes.push(i);
  }
  return reshape(sum(ct, { axis: axes }), shape);
}

/** `x` with a new axis of size 1 at `axis`. */
export function expandDims(x: Tensor, axis: number): Tensor {
  const a = normalizeAxis('expandDims', axis, x.ndim + 1);
  const s = [...x.shape];
  s.splice(a, 0, 1);
  return reshape(x, s);
}

/** `x` without the given size-1 axes (all size-1 axes by default). */
export function squeeze(x: Tensor, axis?: number | number[]): Tensor {
  const axes = axis === undefined ? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : (typeof axis === 'number' ? [axis] : axis).map((a) => normalizeAxis('squeeze', a, x.ndim));
  for (const a of axes) {
    if (x.shape[a] !== 1) throw new ShapeError(`squeeze: axis ${a} of ${fmtShape(x.shape)} has size ${x.shape[a]}, not 1.`);
  }
  return reshape(x, x.shape.filter((_, i) => !axes.includes(i)));
}

/** `x` as a 1-d tensor. */
export function flatten(x: Tensor): Tensor {
  return reshape(x, [x.size]);
}

/** slice(x, starts, sizes): sizes entries of -1 run to the end; negative starts count from the end. */
export function slice(x: Tensor, starts: readonly number[], sizes?: readonly number[]): Tensor {
  if (starts.length > x.ndim) throw new ShapeError(`slice: ${starts.length} starts for a tensor of rank ${x.ndim}.`);
  const st = x.shape.map((d, i) => {
    const s = starts[i] ?? 0;
    return s < 0 ? s + d : s;
  });
  const sz = x.shape.map((d, i) => {
    const s = sizes?.[i];
    return s === undefined || s === -1 ? d - st[i]! : s;
  });
  st.forEach((s, i) => {
    if (!Number.isInteger(s) || s < 0 || !Number.isInteger(sz[i]) || sz[i]! < 0 || s + sz[i]! > x.shape[i]!) {
      throw new ShapeError(`slice: start ${starts[i]} with size ${sizes?.[i]} is out of bounds for axis ${i} of ${fmtShape(x.shape)}.`);
    }
  });
  if (shapesEqual(sz, x.shape)) return x;
  return bind1(slicePrim, [x], { starts: st, sizes: sz });
}

/** `x` zero-padded by `lo` and `hi` elements before and after each axis. */
export function pad(x: Tensor, lo: readonly number[], hi: readonly number[]): Tensor {
  if (lo.length !== x.ndim || hi.length !== x.ndim || [...lo, ...hi].some((v) => !Number.isInteger(v) || v < 0)) {
    throw new ShapeError(`pad: lo [${lo.join(', ')}] and hi [${hi.join(', ')}] must give a non-negative integer per axis of ${fmtShape(x.shape)}.`);
  }
  if (lo.every((v) => v === 0) && hi.every((v) => v === 0)) return x;
  return bind1(padPrim, [x], { lo: [...lo], hi: [...hi] });
}

/** The tensors joined along an existing axis. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new ShapeError('concat: needs at least one tensor.');
  const a = normalizeAxis('concat', axis, xs[0]!.ndim);
  if (xs.length === 1) return xs[0]!;
  return bind1(concatPrim, [...xs], { axis: a });
}

/** The tensors (of one shape) stacked along a new axis. */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new ShapeError('stack: needs at least one tensor.');
  const a = normalizeAxis('stack', axis, xs[0]!.ndim + 1);
  for (const x of xs) {
    if (!shapesEqual(x.shape, xs[0]!.shape)) throw new ShapeError(`stack: all shapes must be equal, got ${xs.map((t) => fmtShape(t.shape)).join(', ')}.`);
  }
  return concat(xs.map((x) => expandDims(x, a)), a);
}

/** Moves axis `from` to position `to`. */
export function moveAxis(x: Tensor, from: number, to: number): Tensor {
  const f = normalizeAxis('moveAxis', from, x.ndim);
  const t = normalizeAxis('moveAxis', to, x.ndim);
  const perm = Array.from({ length: x.ndim }, (_, i) => i).filter((i) => i !== f);
  perm.splice(t, 0, f);
  return transpose(x, perm);
}
