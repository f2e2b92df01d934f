import type { Tensor } from '../../tensor.js';
import { bind1 } from '../core.js';
import type { Aval, Primitive } from '../primitive.js';
import { ConfigError } from '../../errors.js';
import { normalizeAxes, normalizeAxis } from '../../shape.js';
import { add, cast, div, equal, exp, greater, isFinite, log, logaddexp, mul, sub, where } from './elementwise.js';
import { broadcastTo, concat, reshape, slice } from './shape.js';
import { full } from './creation.js';
import { stopGradient } from './special.js';
import { checkKnown } from '../../validate.js';

/** Options of the reductions: the axis or axes to reduce (default: all) and whether to keep them as size 1. */
export interface AxisOptions {
  axis?: number | number[];
  keepdims?: boolean;
}

interface ReduceParams {
  axes: number[];
  keepdims: boolean;
}

function reducedShape(shape: readonly number[], axes: readonly number[], keepdims: boolean): number[] {
  return keepdims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

/** Re-inserts reduced axes as size 1 so a reduced value broadcasts against the input. */
function unreduce(y: Tensor, x: Aval, p: ReduceParams): Tensor {
  return p.keepdims ? y : reshape(y, reducedShape(x.shape, p.axes, true));
}

const reduceShape = (inputs: readonly Aval[], p: ReduceParams): Aval[] => [
  { shape: reducedShape(inputs[0]!.shape, p.axes, p.keepdims), dtype: inputs[0]!.dtype },
];

const batchReduce = (prim: () => Primitive<ReduceParams>) => ([x]: Tensor[], _d: unknown, p: ReduceParams) => [
  bind1(prim(), [x!], { axes: p.axes.map((a) => a + 1), keepdims: p.keepdims }),
];

const reduceSumPrim: Primitive<ReduceParams> = {
  name: 'reduceSum',
  shape: reduceShape,
  jvp: (_x, [t], p) => [bind1(reduceSumPrim, [t!], p)],
  vjp: ([ct], [x], _o, p) => [ct && broadcastTo(unreduce(ct, x!, p), x!.shape)],
  batch: batchReduce(() => reduceSumPrim),
};

/** max/min pass the derivative to the extreme entries, split evenly among ties (as JAX). */
function extremePrim(name: string): Primitive<ReduceParams> {
  const p: Primitive<ReduceParams> = {
    name,
    shape: reduceShape,
    jvp: ([x], [t], params, [y]) => {
      const w = tieWeights(x!, y!, params);
      return [bind1(reduceSumPrim, [mul(t!, w)], params)];
    },
    vjp: ([ct], [x], [y], params) => [ct && mul(broadcastTo(unreduce(ct, x!, params), x!.shape), tieWeights(x!, y!, params))],
    batch: batchReduce(() => p),
  };
  return p;
}

function tieWeights(x: Tensor, y: Tensor, p: ReduceParams): Tensor {
  const hit = cast(equal(x, unreduce(y, x, p)), x.dtype);
  const count = bind1(reduceSumPrim, [hit], { axes: p.axes, keepdims: true });
  return div(hit, count);
}

const reduceMaxPrim = extremePrim('reduceMax');
const reduceMinPrim = extremePrim('reduceMin');

function argPrim(name: string): Primitive<{ axis: number; keepdims: boolean }> {
  const p: Primitive<{ axis: number; keepdims: boolean }> = {
    name,
    nondiff: true,
    shape: (inputs, q) => [{ shape: reducedShape(inputs[0]!.shape, [q.axis], q.keepdims), dtype: 'int32' }],
    batch: ([x], _d, q) => [bind1(p, [x!], { axis: q.axis + 1, keepdims: q.keepdims })],
  };
  return p;
}
const argmaxPrim = argPrim('argmax');
const argminPrim = argPrim('argmin');

const cumsumPrim: Primitive<{ axis: number; reverse: boolean }> = {
  name: 'cumsum',
  shape: (inputs) => [inputs[0]!],
  jvp: (_x, [t], p) => [bind1(cumsumPrim, [t!], p)],
  vjp: ([ct], _x, _o, p) => [ct && bind1(cumsumPrim, [ct], { axis: p.axis, reverse: !p.reverse })],
  batch: ([x], _d, p) => [bind1(cumsumPrim, [x!], { axis: p.axis + 1, reverse: p.reverse })],
};

export const reducePrims = { reduceSum: reduceSumPrim, reduceMax: reduceMaxPrim, reduceMin: reduceMinPrim, argmax: argmaxPrim, argmin: argminPrim, cumsum: cumsumPrim };

const AXIS_KEYS = ['axis', 'keepdims'];
function params(op: string, x: Tensor, opts: AxisOptions | undefined): ReduceParams {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null)) {
    throw new ConfigError(`${op}: options must be an object like { axis: 0, keepdims: true }, got ${String(opts)}.`);
  }
  checkKnown(op, opts, AXIS_KEYS);
  return { axes: normalizeAxes(op, opts?.axis, x.ndim), keepdims: opts?.keepdims ?? false };
}

/** Sum over the axes (all by default). */
export function sum(x: Tensor, opts?: AxisOptions): Tensor {
  const p = params('sum', x, opts);
  if (p.axes.length === 0) return x;
  return bind1(reduceSumPrim, [x], p);
}

/** Maximum over the axes (all by default). */
export function max(x: Tensor, opts?: AxisOptions): Tensor {
  return bind1(reduceMaxPrim, [x], params('max', x, opts));
}

/** Minimum over the axes (all by default). */
export function min(x: Tensor, opts?: AxisOptions): Tensor {
  return bind1(reduceMinPrim, [x], params('min', x, opts));
}

/** Mean over the axes (all by default). */
export function mean(x: Tensor, opts?: AxisOptions): Tensor {
  const p = params('mean', x, opts);
  let n = 1;
  for (const a of p.axes) n *= x.shape[a]!;
  return div(sum(x, opts), n);
}

/** Variance over the axes (ddof = 0 by default, as NumPy). */
export function variance(x: Tensor, opts?: AxisOptions & { ddof?: number }): Tensor {
  const { ddof = 0, ...rest } = opts ?? {};
  const p = params('variance', x, rest);
  let n = 1;
  for (const a of p.axes) n *= x.shape[a]!;
  const d = sub(x, mean(x, { axis: p.axes, keepdims: true }));
  return div(sum(mul(d, d), rest), n - ddof);
}

/**
 * log Σ exp(x), shifted by a stop-gradient max for stability. A non-finite max (all −∞, say) is
 * replaced by 0, so an all −∞ row gives −∞ rather than NaN.
 */
export function logsumexp(x: Tensor, opts?: AxisOptions): Tensor {
  const p = params('logsumexp', x, opts);
  const m0 = stopGradient(bind1(reduceMaxPrim, [x], { axes: p.axes, keepdims: true }));
  const m = where(isFinite(m0), m0, 0);
  const s = safeLog(bind1(reduceSumPrim, [exp(sub(x, m))], { axes: p.axes, keepdims: true }));
  const out = add(s, m);
  return p.keepdims ? out : reshape(out, reducedShape(x.shape, p.axes, false));
}

/**
 * log softmax along an axis (default the last), as jax.nn.log_softmax: (x − m) − log Σ exp(x − m)
 * with m the stop-gradient max. Not x − logsumexp(x): that subtracts two rounded numbers near m and
 * loses digits (up to |m|·eps). A row that is all −∞, holds +∞ or NaN is NaN, as in JAX.
 */
export function logSoftmax(x: Tensor, opts?: { axis?: number }): Tensor {
  const axis = normalizeAxis('logSoftmax', opts?.axis ?? -1, x.ndim);
  const shifted = sub(x, stopGradient(bind1(reduceMaxPrim, [x], { axes: [axis], keepdims: true })));
  return sub(shifted, log(bind1(reduceSumPrim, [exp(shifted)], { axes: [axis], keepdims: true })));
}

/** Softmax along an axis (default the last), as jax.nn.softmax: exp(x − m) / Σ exp(x − m). */
export function softmax(x: Tensor, opts?: { axis?: number }): Tensor {
  const axis = normalizeAxis('softmax', opts?.axis ?? -1, x.ndim);
  const e = exp(sub(x, stopGradient(bind1(reduceMaxPrim, [x], { axes: [axis], keepdims: true }))));
  return div(e, bind1(reduceSumPrim, [e], { axes: [axis], keepdims: true }));
}

/** Index of the maximum (int32), along an axis or over the flattened tensor. */
export function argmax(x: Tensor, opts?: { axis?: number; keepdims?: boolean }): Tensor {
  if (opts?.axis === undefined) return bind1(argmaxPrim, [reshape(x, [x.size])], { axis: 0, keepdims: false });
  return bind1(argmaxPrim, [x], { axis: normalizeAxis('argmax', opts.axis, x.ndim), keepdims: opts.keepdims ?? false });
}

/** Index of the minimum (int32), along an axis or over the flattened tensor. */
export function argmin(x: Tensor, opts?: { axis?: number; keepdims?: boolean }): Tensor {
  if (opts?.axis === undefined) return bind1(argminPrim, [reshape(x, [x.size])], { axis: 0, keepdims: false });
  return bind1(argminPrim, [x], { axis: normalizeAxis('argmin', opts.axis, x.ndim), keepdims: opts.keepdims ?? false });
}

/** Cumulative sum along an axis (default the last), optionally from the end. */
export function cumsum(x: Tensor, opts?: { axis?: number; reverse?: boolean }): Tensor {
  const axis = normalizeAxis('cumsum', opts?.axis ?? -1, x.ndim);
  return bind1(cumsumPrim, [x], { axis, reverse: opts?.reverse ?? false });
}

/**
 * log Σ_{j≤i} exp(x_j) along an axis (default the last), optionally from the end, as JAX's
 * cumlogsumexp: an associative scan of logaddexp (Hillis–Steele, ⌈log₂ n⌉ rounds of
 * y_i ← logaddexp(y_i, y_{i−d}), −∞ past the edge). Not cumsum(exp(x − max)) + max: a term more
 * than ~745 below the row's max underflows there (logcumsumexp([−1000, 0])[0] would be −∞).
 */
export function logcumsumexp(x: Tensor, opts?: { axis?: number; reverse?: boolean }): Tensor {
  const axis = normalizeAxis('logcumsumexp', opts?.axis ?? -1, x.ndim);
  const reverse = opts?.reverse ?? false;
  const n = x.shape[axis]!;
  let y = x;
  for (let d = 1; d < n; d *= 2) {
    const starts = x.shape.map((_, i) => (i === axis && reverse ? d : 0));
    const kept = slice(y, starts, x.shape.map((s, i) => (i === axis ? n - d : s)));
    const edge = full(x.shape.map((s, i) => (i === axis ? d : s)), -Infinity, x.dtype);
    y = logaddexp(y, concat(reverse ? [kept, edge] : [edge, kept], axis));
  }
  return y;
}

/**
 * log s for sums s ≥ 0 of exponentials: −∞ where s = 0 (an all −∞ group), with a zero (not NaN)
 * derivative there, so a fully masked row does not poison the gradient of the others.
 */
function safeLog(s: Tensor): Tensor {
  const pos = greater(s, 0);
  // s = 0 gives −∞ and NaN stays NaN (−∞ + NaN), neither with a derivative through s
  return where(pos, log(where(pos, s, 1)), add(stopGradient(s), -Infinity));
}
