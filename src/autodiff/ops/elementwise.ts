import type { Tensor } from '../../tensor.js';
import { bind1 } from '../core.js';
import type { Aval, Primitive } from '../primitive.js';
import { assertFloat, assertSameDType, type DType } from '../../dtype.js';
import { broadcastShapes } from '../../shape.js';
import { operands, type TensorLike } from './util.js';
import { broadcastTo, reshape, sumTo } from './shape.js';
import { zeros } from './creation.js';
import { customJvp } from '../custom.js';

/**
 * Elementwise primitives. Derivative rules are written with the public ops, so they are
 * themselves differentiable (grad of grad, forward-over-reverse).
 */

function elementwiseShape(name: string, opts: { float?: boolean; out?: DType } = {}) {
  return (inputs: readonly Aval[]): Aval[] => {
    const dtype = assertSameDType(name, inputs.map((i) => i.dtype));
    if (opts.float) assertFloat(name, dtype);
    return [{ shape: broadcastShapes(name, ...inputs.map((i) => i.shape)), dtype: opts.out ?? dtype }];
  };
}

/** vmap rule shared by all elementwise ops: pad batched operands so broadcasting lines up. */
function batchElementwise(prim: () => Primitive) {
  return (args: Tensor[], dims: (0 | null)[], params: unknown): Tensor[] => [bind1(prim(), alignBatched(args, dims), params)];
}

/**
 * Pads batched operands ([B, ...s]) to [B, 1, ..., ...s] so that, with unbatched operands, NumPy
 * broadcasting lines up per example. Shared by every op that broadcasts (elementwise, matmul, solves).
 */
export function alignBatched(args: Tensor[], dims: (0 | null)[]): Tensor[] {
  let rank = 0;
  args.forEach((a, i) => (rank = Math.max(rank, a.ndim - (dims[i] === 0 ? 1 : 0))));
  return args.map((a, i) => {
    if (dims[i] !== 0) return a;
    const inner = a.shape.slice(1);
    return reshape(a, [a.shape[0]!, ...new Array<number>(rank - inner.length).fill(1), ...inner]);
  });
}

type UnaryRule = (x: Tensor, y: Tensor) => Tensor; // dy/dx given x and y = f(x)

function unaryPrim(name: string, deriv: UnaryRule | null, opts: { float?: boolean; nondiff?: boolean } = {}): Primitive {
  const p: Primitive = {
    name,
    shape: elementwiseShape(name, { float: opts.float ?? true }),
    nondiff: opts.nondiff,
  };
  if (deriv) {
    p.jvp = ([x], [t], _params, [y]) => [mul(t!, deriv(x!, y!))];
    p.vjp = ([ct], [x], [y]) => [ct ? mul(ct, deriv(x!, y!)) : null];
  }
  return p;
}

export const prims = {
  neg: {
    ...unaryPrim('neg', null, { float: false }),
    jvp: (_x, [t]) => [neg(t!)],
    vjp: ([ct]) => [ct && neg(ct)],
  } as Primitive,
  exp: unaryPrim('exp', (_x, y) => y),
  log: unaryPrim('log', (x) => reciprocal(x)),
  log1p: unaryPrim('log1p', (x) => reciprocal(add(x, 1))),
  expm1: unaryPrim('expm1', (_x, y) => add(y, 1)),
  sqrt: unaryPrim('sqrt', (_x, y) => div(0.5, y)),
  rsqrt: unaryPrim('rsqrt', (x, y) => mul(div(y, x), -0.5)),
  sin: unaryPrim('sin', (x) => cos(x)),
  cos: unaryPrim('cos', (x) => neg(sin(x))),
  tanh: unaryPrim('tanh', (_x, y) => sub(1, mul(y, y))),
  sigmoid: unaryPrim('sigmoid', (_x, y) => mul(y, sub(1, y))),
  abs: unaryPrim('abs', (x) => sign(x), { float: false }),
  erf: unaryPrim('erf', (x) => mul(exp(neg(mul(x, x))), 2 / Math.sqrt(Math.PI))),
  erfinv: unaryPrim('erfinv', (_x, y) => mul(exp(mul(y, y)), Math.sqrt(Math.PI) / 2)),
  // dΦ⁻¹/du = 1/φ(x) = √(2π)·exp(x²/2)
  ndtri: unaryPrim('ndtri', (_x, y) => mul(exp(mul(mul(y, y), 0.5)), Math.sqrt(2 * Math.PI))),
  sign: unaryPrim('sign', null, { float: false, nondiff: true }),
  floor: unaryPrim('floor', null, { nondiff: true }),
  ceil: unaryPrim('ceil', null, { nondiff: true }),
  round: unaryPrim('round', null, { nondiff: true }),
  isFinite: { name: 'isFinite', shape: elementwiseShape('isFinite', { out: 'int32' }), nondiff: true } as Primitive,
  isNan: { name: 'isNan', shape: elementwiseShape('isNan', { out: 'int32' }), nondiff: true } as Primitive,
  add: {
    name: 'add',
    shape: elementwiseShape('add'),
    jvp: (_p, [ta, tb], _q, [y]) => [ta && tb ? add(ta, tb) : broadcastTo((ta ?? tb)!, y!.shape)],
    vjp: ([ct], [a, b], _o, _p, needs) => (ct ? [needs[0] ? sumTo(ct, a!.shape) : null, needs[1] ? sumTo(ct, b!.shape) : null] : [null, null]),
  } as Primitive,
  sub: {
    name: 'sub',
    shape: elementwiseShape('sub'),
    jvp: (_p, [ta, tb], _q, [y]) => [broadcastTo(ta && tb ? sub(ta, tb) : (ta ?? neg(tb!)), y!.shape)],
    vjp: ([ct], [a, b], _o, _p, needs) => (ct ? [needs[0] ? sumTo(ct, a!.shape) : null, needs[1] ? sumTo(neg(ct), b!.shape) : null] : [null, null]),
  } as Primitive,
  mul: {
    name: 'mul',
    shape: elementwiseShape('mul'),
    jvp: ([a, b], [ta, tb]) => [sumTerms(ta && mul(ta, b!), tb && mul(a!, tb))],
    vjp: ([ct], [a, b], _o, _p, needs) =>
      ct ? [needs[0] ? sumTo(mul(ct, b!), a!.shape) : null, needs[1] ? sumTo(mul(ct, a!), b!.shape) : null] : [null, null],
  } as Primitive,
  div: {
    name: 'div',
    shape: elementwiseShape('div'),
    jvp: ([a, b], [ta, tb], _p, [y]) => [sumTerms(ta && div(ta, b!), tb && neg(mul(tb, div(y!, b!))))],
    vjp: ([ct], [a, b], [y], _p, needs) =>
      ct ? [needs[0] ? sumTo(div(ct, b!), a!.shape) : null, needs[1] ? sumTo(neg(mul(ct, div(y!, b!))), b!.shape) : null] : [null, null],
  } as Primitive,
  // d/da a^b = b a^(b-1); d/db a^b = a^b log a (taken as 0 where a = 0, the limit used by JAX)
  pow: binaryPrim('pow', (a, b) => powDa(a, b), (a, _b, y) => powDb(a, y), { float: true }),
  // ties split the derivative evenly, as JAX does
  maximum: binaryPrim('maximum', (a, b) => pickA(a, b, true), (a, b) => pickA(b, a, true)),
  minimum: binaryPrim('minimum', (a, b) => pickA(a, b, false), (a, b) => pickA(b, a, false)),
  atan2: binaryPrim('atan2', (a, b) => div(b, hypot2(a, b)), (a, b) => neg(div(a, hypot2(a, b))), { float: true }),
  where: {
    name: 'where',
    shape: (inputs: readonly Aval[]) => {
      const dtype = assertSameDType('where', [inputs[1]!.dtype, inputs[2]!.dtype]);
      return [{ shape: broadcastShapes('where', ...inputs.map((i) => i.shape)), dtype }];
    },
    jvp: ([c, a, b], [, ta, tb]) => {
      if (!ta && !tb) return [null];
      const out = broadcastShapes('where', c!.shape, a!.shape, b!.shape);
      return [broadcastTo(where(c!, ta ?? 0, tb ?? 0), out)];
    },
    vjp: ([ct], [c, a, b]) => {
      if (!ct) return [null, null, null];
      const z = zeros(ct.shape, ct.dtype);
      return [null, sumTo(where(c!, ct, z), a!.shape), sumTo(where(c!, z, ct), b!.shape)];
    },
  } as Primitive,
  cast: {
    name: 'cast',
    shape: (inputs: readonly Aval[], p: { dtype: DType }) => [{ shape: inputs[0]!.shape, dtype: p.dtype }],
    jvp: ([x], [t], p: { dtype: DType }) => [p.dtype === 'int32' || x!.dtype === 'int32' ? null : cast(t!, p.dtype)],
    vjp: ([ct], [x], _o, p: { dtype: DType }) => [ct && p.dtype !== 'int32' && x!.dtype !== 'int32' ? cast(ct, x!.dtype) : null],
  } as Primitive,
};

const COMPARISONS = ['equal', 'notEqual', 'less', 'lessEqual', 'greater', 'greaterEqual'] as const;
/** The comparison primitives (int32 results, no derivative). */
export const comparisonPrims = Object.fromEntries(
  COMPARISONS.map((name) => [name, { name, shape: elementwiseShape(name, { out: 'int32' }), nondiff: true } as Primitive]),
) as Record<(typeof COMPARISONS)[number], Primitive>;

for (const p of [...Object.values(prims), ...Object.values(comparisonPrims)]) {
  (p as { batch?: Primitive['batch'] }).batch = batchElementwise(() => p);
}

type Partial = (a: Tensor, b: Tensor, y: Tensor) => Tensor;

/** A broadcasting binary op from its partial derivatives ∂y/∂a and ∂y/∂b (each built only when needed). */
function binaryPrim(name: string, da: Partial, db: Partial, opts: { float?: boolean } = {}): Primitive {
  return {
    name,
    shape: elementwiseShape(name, opts),
    jvp: ([a, b], [ta, tb], _p, [y]) => [sumTerms(ta && mul(ta, da(a!, b!, y!)), tb && mul(tb, db(a!, b!, y!)))],
    vjp: ([ct], [a, b], [y], _p, needs) =>
      ct
        ? [needs[0] ? sumTo(mul(ct, da(a!, b!, y!)), a!.shape) : null, needs[1] ? sumTo(mul(ct, db(a!, b!, y!)), b!.shape) : null]
        : [null, null],
  };
}

function hypot2(a: Tensor, b: Tensor): Tensor {
  return add(mul(a, a), mul(b, b));
}

function sumTerms(a: Tensor | null, b: Tensor | null): Tensor | null {
  return a && b ? add(a, b) : a ?? b;
}

/** 1 where a wins, 0 where it loses, 1/2 at ties (derivative of max/min). */
function pickA(a: Tensor, b: Tensor, isMax: boolean): Tensor {
  const wins = cast(isMax ? bind1(comparisonPrims.greater, [a, b], {}) : bind1(comparisonPrims.less, [a, b], {}), a.dtype);
  const ties = cast(bind1(comparisonPrims.equal, [a, b], {}), a.dtype);
  return add(wins, mul(ties, 0.5));
}

function powDa(a: Tensor, b: Tensor): Tensor {
  return mul(b, pow(a, sub(b, 1)));
}

function powDb(a: Tensor, y: Tensor): Tensor {
  const zero = equal(a, 0);
  return where(zero, 0, mul(y, log(where(zero, 1, a))));
}

// Public functions.
const u = (p: Primitive) => (x: TensorLike): Tensor => bind1(p, operands(p.name, [x]), {});
const b = (p: Primitive) => (x: TensorLike, y: TensorLike): Tensor => bind1(p, operands(p.name, [x, y]), {});

/** Element-wise −x. */
export const neg = u(prims.neg);
/** Element-wise eˣ. */
export const exp = u(prims.exp);
/** Element-wise natural logarithm. */
export const log = u(prims.log);
/** Element-wise log(1 + x), accurate for small x. */
export const log1p = u(prims.log1p);
/** Element-wise eˣ − 1, accurate for small x. */
export const expm1 = u(prims.expm1);
/** Element-wise square root. */
export const sqrt = u(prims.sqrt);
/** Element-wise 1/√x. */
export const rsqrt = u(prims.rsqrt);
/** Element-wise sine. */
export const sin = u(prims.sin);
/** Element-wise cosine. */
export const cos = u(prims.cos);
/** Element-wise hyperbolic tangent. */
export const tanh = u(prims.tanh);
/** Element-wise logistic function 1/(1 + e⁻ˣ). */
export const sigmoid = u(prims.sigmoid);
/** Element-wise |x|. */
export const abs = u(prims.abs);
/** Element-wise sign (−1, 0 or 1); its derivative is zero. */
export const sign = u(prims.sign);
/** Element-wise error function. */
export const erf = u(prims.erf);
/** Element-wise inverse error function. */
export const erfinv = u(prims.erfinv);
/** Φ⁻¹(u), the standard normal quantile (scipy.special.ndtri), accurate in both tails. */
export const ndtri = u(prims.ndtri);
/** Element-wise floor (zero derivative). */
export const floor = u(prims.floor);
/** Element-wise ceiling (zero derivative). */
export const ceil = u(prims.ceil);
/** Element-wise rounding to the nearest integer (zero derivative). */
export const round = u(prims.round);
/** Element-wise test for a finite value (int32 0/1; not differentiable). */
export const isFinite = u(prims.isFinite);
/** Element-wise test for NaN (int32 0/1; not differentiable). */
export const isNan = u(prims.isNan);
/** Element-wise x + y, broadcasting. */
export const add = b(prims.add);
/** Element-wise x − y, broadcasting. */
export const sub = b(prims.sub);
/** Element-wise x · y, broadcasting. */
export const mul = b(prims.mul);
/** Element-wise x / y, broadcasting. */
export const div = b(prims.div);
/** Element-wise xʸ, broadcasting. */
export const pow = b(prims.pow);
/** Element-wise maximum of x and y, broadcasting. */
export const maximum = b(prims.maximum);
/** Element-wise minimum of x and y, broadcasting. */
export const minimum = b(prims.minimum);
/** Element-wise atan2(y, x) — the angle of the point (x, y) — for arguments (y, x), broadcasting. */
export const atan2 = b(prims.atan2);
/** Element-wise x == y as int32 0/1, broadcasting. */
export const equal = b(comparisonPrims.equal);
/** Element-wise x != y as int32 0/1, broadcasting. */
export const notEqual = b(comparisonPrims.notEqual);
/** Element-wise x < y as int32 0/1, broadcasting. */
export const less = b(comparisonPrims.less);
/** Element-wise x <= y as int32 0/1, broadcasting. */
export const lessEqual = b(comparisonPrims.lessEqual);
/** Element-wise x > y as int32 0/1, broadcasting. */
export const greater = b(comparisonPrims.greater);
/** Element-wise x >= y as int32 0/1, broadcasting. */
export const greaterEqual = b(comparisonPrims.greaterEqual);

/** where(cond, x, y): x where cond is non-zero, else y. cond may be int32 (a comparison) or float. */
export function where(cond: TensorLike, x: TensorLike, y: TensorLike): Tensor {
  const [xx, yy] = operands('where', [x, y]);
  const c = operands('where', [cond, xx!])[0]!;
  return bind1(prims.where, [c, xx!, yy!], {});
}

/** `x` converted to `dtype` (returned as is when it already has it). */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  return bind1(prims.cast, [x], { dtype });
}

// Composites: derivatives follow from the primitives above.
/** Element-wise x². */
export function square(x: TensorLike): Tensor {
  const [t] = operands('square', [x]);
  return mul(t!, t!);
}
/** Element-wise 1/x. */
export function reciprocal(x: TensorLike): Tensor {
  return div(1, operands('reciprocal', [x])[0]!);
}
// The stable forms below have kinks (max, |·|) whose derivatives are exact to first order but
// lose the curvature at the kink (the second derivative of softplus at 0 would be 0, not 1/4), so
// their tangents are given as the smooth expressions, as JAX does with custom_jvp.
const softplusStable = (x: Tensor) => add(maximum(x, 0), log1p(exp(neg(abs(x)))));
let smoothSoftplus: ((x: Tensor) => Tensor) | undefined;
let smoothLogaddexp: ((a: Tensor, b: Tensor) => Tensor) | undefined;

/** softplus(x) = log(1 + eˣ), stable for large |x|; d/dx = σ(x) everywhere, to every order. */
export function softplus(x: TensorLike): Tensor {
  const [t] = operands('softplus', [x]);
  smoothSoftplus ??= customJvp(softplusStable, ([p], [dp]) => [softplusStable(p), mul(dp, sigmoid(p))]);
  return smoothSoftplus(t!);
}
/** log σ(x) = −softplus(−x), stable for large |x|. */
export function logSigmoid(x: TensorLike): Tensor {
  return neg(softplus(neg(operands('logSigmoid', [x])[0]!)));
}
/** logaddexp(a, b) = log(eᵃ + eᵇ), stable, broadcasting; ∂/∂a = σ(a − b) (smooth where a = b). */
export function logaddexp(a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = operands('logaddexp', [a, b]);
  // a − b is NaN at equal infinities (logaddexp(∞, ∞) = ∞, as in JAX): read it as 0 there only,
  // so finite ties keep their derivatives through a − b
  const diff = (p: Tensor, q: Tensor) => {
    const d = sub(p, q);
    return where(isNan(d), where(equal(p, q), 0, d), d); // NaN inputs stay NaN (WGSL's max may drop them)
  };
  const value = (p: Tensor, q: Tensor) => add(maximum(p, q), log1p(exp(neg(abs(diff(p, q))))));
  smoothLogaddexp ??= customJvp(
    value,
    ([p, q], [dp, dq]) => {
      const out = value(p, q);
      const w = sigmoid(diff(p, q)); // weight of a; b gets 1 − w
      return [out, add(mul(dp, w), mul(dq, sub(1, w)))];
    },
  );
  return smoothLogaddexp(ta!, tb!);
}
/** Element-wise max(x, 0). */
export function relu(x: TensorLike): Tensor {
  const [t] = operands('relu', [x]);
  // the zero branch is a constant, not t·0: that would be NaN at −∞ (and −0 for negatives)
  return where(greater(t!, 0), t!, 0);
}
/** `x` clipped element-wise to [lo, hi]. */
export function clip(x: TensorLike, lo: TensorLike, hi: TensorLike): Tensor {
  const [t] = operands('clip', [x]);
  return minimum(maximum(t!, lo), hi);
}
