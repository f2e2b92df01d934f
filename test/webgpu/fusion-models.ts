/**
 * The expressions of fusion.test.ts whose fused kernels a compiler may contract (a·b + c in one
 * rounding) or that divide, written once against `Arith` (test/f32-bound.ts): fusion.test.ts
 * evaluates them with `bounds` to check the GPU's results, and f32-bound.test.ts with emulated
 * NVIDIA arithmetic to show those results stay inside the bounds. Each model mirrors its tensor
 * expression op for op (and autodiff's rules where it differentiates), element by element.
 */
import type { Arith } from '../f32-bound.js';
import { ravelBroadcastIndex, rng, shapeSize, unravelIndex } from '../helpers.js';

/** Named float32/int32 inputs with their shapes, as fusion.test.ts makes tensors of them. */
export type Inputs = Record<string, { v: Float32Array | Int32Array; shape: number[] }>;

/** n float32 numbers uniform in [lo, hi) from `seed`. */
export function values(n: number, seed: number, lo = -2, hi = 2): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

/** f at every element of `shape`, each input read there as broadcasting reads it; one array per output of f. */
export function pointwise<T>(A: Arith<T>, shape: number[], x: Inputs, f: (e: Record<string, T>) => T[]): T[][] {
  const outs: T[][] = [];
  for (let i = 0; i < shapeSize(shape); i++) {
    const idx = unravelIndex(i, shape);
    const e = Object.fromEntries(Object.entries(x).map(([k, { v, shape: s }]) => [k, A.of(v[ravelBroadcastIndex(idx, s)]!)]));
    f(e).forEach((r, o) => (outs[o] ??= []).push(r));
  }
  return outs;
}

const f32 = Math.fround;

/** The inputs of the 'chains with broadcasting' test: x [2,3,4], row [4], col [3,1], s []. */
export const chainInputs = (): Inputs => ({
  x: { v: values(24, 1), shape: [2, 3, 4] },
  row: { v: values(4, 2), shape: [4] },
  col: { v: values(3, 3, 0.5, 2), shape: [3, 1] },
  s: { v: values(1, 4), shape: [] },
});

/** tanh(x·col + row), x [2,3,4], col [3,1], row [4]. */
export const mlpLike = <T>(A: Arith<T>, x: Inputs): T[][] => pointwise(A, [2, 3, 4], x, (e) => [A.tanh(A.add(A.mul(e.x!, e.col!), e.row!))]);

/** z·z + exp(−z) − z, z = sin(x + row), x [2,3,4], row [4]. */
export const sharedSubexpression = <T>(A: Arith<T>, x: Inputs): T[][] =>
  pointwise(A, [2, 3, 4], x, (e) => {
    const z = A.sin(A.add(e.x!, e.row!));
    return [A.sub(A.add(A.mul(z, z), A.exp(A.neg(z))), z)];
  });

/** sqrt(x·x + 1)·s / 3 − 0.25, x [2,3,4], s []. */
export const scalarOperands = <T>(A: Arith<T>, x: Inputs): T[][] =>
  pointwise(A, [2, 3, 4], x, (e) => [A.sub(A.div(A.mul(A.sqrt(A.add(A.mul(e.x!, e.x!), A.of(1))), e.s!), A.of(3)), A.of(0.25))]);

/** (1 − y·y)·row, y = tanh(x), x [2,3,4], row [4]. */
export const tanhBackward = <T>(A: Arith<T>, x: Inputs): T[][] =>
  pointwise(A, [2, 3, 4], x, (e) => {
    const y = A.tanh(e.x!);
    return [A.mul(A.sub(A.of(1), A.mul(y, y)), e.row!)];
  });

/** The inputs of the broadcastTo test: x [2,3], c [3], k [3] int32. */
export const broadcastInputs = (): Inputs => ({ x: { v: values(6, 15), shape: [2, 3] }, c: { v: values(3, 16), shape: [3] }, k: { v: Int32Array.from([4, -5, 6]), shape: [3] } });

/** broadcastTo(c, [4,2,3])·x + 1, x [2,3], c [3]. */
export const broadcastRow = <T>(A: Arith<T>, x: Inputs): T[][] => pointwise(A, [4, 2, 3], x, (e) => [A.add(A.mul(e.c!, e.x!), A.of(1))]);

/** The inputs of the 'input used twice past the node budget' test: x [16] in [−0.5, 0.5). */
export const squarePlusInputs = (): Inputs => ({ x: { v: values(16, 11, -0.5, 0.5), shape: [16] } });

/** (y·y + y)·1.5, y = cumsum(x) (a GPU scan: each a sum of its prefix) through `len` steps of c·0.99 + 0.01; x [16]. */
export function squarePlusChain<T>(A: Arith<T>, x: Inputs, len: number): T[][] {
  const xs = Array.from(x.x!.v, (v) => A.of(v));
  return [
    xs.map((_, k) => {
      let c = A.sum(xs.slice(0, k + 1));
      for (let i = 0; i < len; i++) c = A.add(A.mul(c, A.of(f32(0.99))), A.of(f32(0.01)));
      return A.mul(A.add(A.mul(c, c), c), A.of(1.5));
    }),
  ];
}

/** The '16 inputs' case: a00 + a01·2 + … + a15·16 over sixteen [10] inputs (more than one kernel can bind). */
export const sixteenInputs = (): Inputs =>
  Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`a${String(i).padStart(2, '0')}`, { v: values(10, 100 + i), shape: [10] }]));
export const sixteen = <T>(A: Arith<T>, x: Inputs): T[][] =>
  pointwise(A, [10], x, (e) => [Object.values(e).reduce((acc, t, i) => A.add(acc, A.mul(t, A.of(i + 1))))]);

/** A value and its tangent; a null tangent is no tangent, as autodiff's rules skip it. */
export interface Dual<T> {
  x: T;
  t: T | null;
}

/** Forward mode over A with the jvp rules of src/autodiff/ops/elementwise.ts (for hvp = jvp of grad). */
export function dual<T>(A: Arith<T>): Arith<Dual<T>> {
  const one = A.of(1);
  const sumTerms = (a: T | null, b: T | null) => (a !== null && b !== null ? A.add(a, b) : (a ?? b));
  const unary = (f: (x: T) => T, deriv: (x: T, y: T) => T) => (a: Dual<T>): Dual<T> => {
    const y = f(a.x);
    return { x: y, t: a.t === null ? null : A.mul(a.t, deriv(a.x, y)) };
  };
  const mul = (a: Dual<T>, b: Dual<T>): Dual<T> => ({ x: A.mul(a.x, b.x), t: sumTerms(a.t === null ? null : A.mul(a.t, b.x), b.t === null ? null : A.mul(a.x, b.t)) });
  return {
    of: (x) => ({ x: A.of(x), t: null }),
    add: (a, b) => ({ x: A.add(a.x, b.x), t: sumTerms(a.t, b.t) }),
    sub: (a, b) => ({ x: A.sub(a.x, b.x), t: a.t !== null && b.t !== null ? A.sub(a.t, b.t) : b.t !== null ? A.neg(b.t) : a.t }),
    mul,
    div: (a, b) => {
      const y = A.div(a.x, b.x);
      return { x: y, t: sumTerms(a.t === null ? null : A.div(a.t, b.x), b.t === null ? null : A.neg(A.mul(b.t, A.div(y, b.x)))) };
    },
    neg: (a) => ({ x: A.neg(a.x), t: a.t === null ? null : A.neg(a.t) }),
    sqrt: unary(A.sqrt, (_x, y) => A.div(A.of(0.5), y)),
    exp: unary(A.exp, (_x, y) => y),
    sin: () => {
      throw new Error('dual: sin (its tangent needs cos) is not modelled');
    },
    tanh: unary(A.tanh, (_x, y) => A.sub(one, A.mul(y, y))),
    sigmoid: unary(A.sigmoid, (_x, y) => A.mul(y, A.sub(one, y))),
    sum: (xs) => ({ x: A.sum(xs.map((d) => d.x)), t: xs.some((d) => d.t !== null) ? A.sum(xs.flatMap((d) => (d.t === null ? [] : [d.t]))) : null }),
  };
}

/**
 * f(z) = sigmoid(tanh(z·w) + (z·z)·0.1) (one element of the sum) and ∂f/∂z by the vjp rules of
 * src/autodiff/ops/elementwise.ts, seeded with 1: sigmoid's ct·y(1 − y), tanh's ct·(1 − y·y), a
 * product's ct·(other operand), z's three cotangents (z·w, and z·z's two operands) accumulated.
 */
function gradChain<T>(A: Arith<T>, z: T, w: T): { s: T; g: T } {
  const one = A.of(1);
  const c = A.of(f32(0.1));
  const t = A.tanh(A.mul(z, w));
  const s = A.sigmoid(A.add(t, A.mul(A.mul(z, z), c)));
  const du = A.mul(one, A.mul(s, A.sub(one, s)));
  const dzz = A.mul(du, c);
  return { s, g: A.sum([A.mul(A.mul(du, A.sub(one, A.mul(t, t))), w), A.mul(dzz, z), A.mul(dzz, z)]) };
}

/** The 'gradients through fused chains' inputs: x [3,4], w [4]. */
export const gradInputs = (): Inputs => ({ x: { v: values(12, 7), shape: [3, 4] }, w: { v: values(4, 8), shape: [4] } });
/** valueAndGrad(f)(x) and hvp(f, x, w) for f(x) = Σ sigmoid(tanh(x·w) + (x·x)·0.1): [[value], gradient, hvp]. */
export function grad<T>(A: Arith<T>, x: Inputs): T[][] {
  const D = dual(A);
  const [s, g, h] = pointwise(A, [3, 4], x, (e) => {
    const { s, g } = gradChain(A, e.x!, e.w!);
    const hv = gradChain(D, { x: e.x!, t: e.w! }, { x: e.w!, t: null }).g.t!;
    return [s, g, hv];
  });
  return [[A.sum(s!)], g!, h!];
}
