import type { Tensor } from '../../tensor.js';
import { bind1 } from '../core.js';
import type { Aval, Primitive } from '../primitive.js';
import { assertFloat, assertSameDType } from '../../dtype.js';
import { broadcastShapes } from '../../shape.js';
import { ConfigError } from '../../errors.js';
import { operands, type TensorLike } from './util.js';
import { sumTo } from './shape.js';
import { add, alignBatched, div, exp, log, log1p, mul, neg, sub } from './elementwise.js';

/**
 * Gamma-family special functions as elementwise primitives (broadcasting, float only). Their
 * derivatives are other primitives of this file, so grad of grad works in x; the derivatives of
 * the incomplete functions in their shape parameters (a, b) are primitives of their own: the
 * incomplete gamma has ∂P/∂a and ∂²P/∂a², the incomplete beta its first and second derivatives
 * in (a, b) (so Hessians of Gamma/Beta/Student-t quantiles in their parameters work); third
 * order in a shape parameter is not provided: it raises ConfigError naming the op.
 * Kernels: src/backends/cpu/special-functions.ts (float64) and the WGSL in
 * src/backends/webgpu/kernels/special-functions.ts (float32).
 *
 * Accuracy measured against mpmath (40 digits): float64 — lgamma, digamma, trigamma, polygamma
 * ≤ 4e-16 relative to max(1, |y|) (digamma ≤ 8e-16 next to its root); gammainc/gammaincc and
 * ∂P/∂a ≤ 1e-15 for a ≤ 10, ≤ 5e-14 at a = 100 (the prefactor's lgamma differences lose
 * ~a·eps); betainc and ∂I/∂a, ∂I/∂b likewise (≤ 5e-14 at a + b = 110); inverses to 1e-13
 * relative (their conditioning). float32 (WebGPU): lgamma/trigamma ≤ 2 ulp, digamma ≤ 5 ulp,
 * gammainc ≤ 3 ulp and betainc ≤ 7 ulp for a ≤ 10 / a + b < 40, growing as a·2⁻²⁴ beyond
 * (≈ 80 ulp at a = 100); inverses ≤ 4e-6 relative.
 */

/** ∂y/∂(input i), built only when that input carries a tangent or needs a cotangent. */
type Partial = (args: Tensor[], y: Tensor, params: any) => Tensor;

function shapeRule(name: string) {
  return (inputs: readonly Aval[]): Aval[] => {
    const dtype = assertSameDType(name, inputs.map((i) => i.dtype));
    assertFloat(name, dtype);
    return [{ shape: broadcastShapes(name, ...inputs.map((i) => i.shape)), dtype }];
  };
}

/** Second derivatives in a shape parameter are not implemented: say so where one is asked for. */
const noSecondOrder = (op: string, arg: string): Partial => () => {
  throw new ConfigError(
    `${op}: the derivative in ${arg} of this shape-parameter derivative (a second derivative of the incomplete gamma/beta function in its shape parameter) is not implemented. Differentiate once in ${arg}, or use finite differences for the second order.`,
  );
};

function specialPrim(name: string, partials: Partial[]): Primitive {
  const p: Primitive = {
    name,
    shape: shapeRule(name),
    jvp: (args, ts, params, [y]) => {
      let out: Tensor | null = null;
      ts.forEach((t, i) => {
        if (!t) return;
        const term = mul(t, partials[i]!(args, y!, params));
        out = out ? add(out, term) : term;
      });
      return [out];
    },
    vjp: ([ct], args, [y], params, needs) =>
      args.map((a, i) => (ct && needs[i] ? sumTo(mul(ct, partials[i]!(args, y!, params)), a.shape) : null)),
    batch: (args, dims, params) => [bind1(p, alignBatched(args, dims), params)],
  };
  return p;
}

// density of Gamma(a, 1) at x, ∂P/∂x
const gammaPdf = (a: Tensor, x: Tensor) => exp(sub(sub(mul(sub(a, 1), log(x)), x), lgamma(a)));
// density of Beta(a, b) at x, ∂I/∂x
const betaPdf = (a: Tensor, b: Tensor, x: Tensor) =>
  exp(add(add(mul(sub(a, 1), log(x)), mul(sub(b, 1), log1p(neg(x)))), sub(lgamma(add(a, b)), add(lgamma(a), lgamma(b)))));

/** The special-function primitives by name (for the kernel tables and the op registry). */
export const specialFunctionPrims = {
  lgamma: specialPrim('lgamma', [([x]) => digamma(x!)]),
  digamma: specialPrim('digamma', [([x]) => polygamma(1, x!)]),
  polygamma: specialPrim('polygamma', [([x], _y, p: { n: number }) => polygamma(p.n + 1, x!)]),
  gammainc: specialPrim('gammainc', [([a, x]) => gammaincDa(a!, x!), ([a, x]) => gammaPdf(a!, x!)]),
  gammaincc: specialPrim('gammaincc', [([a, x]) => neg(gammaincDa(a!, x!)), ([a, x]) => neg(gammaPdf(a!, x!))]),
  gammaincDa: specialPrim('gammaincDa', [
    ([a, x]) => gammaincDaa(a!, x!),
    ([a, x]) => mul(gammaPdf(a!, x!), sub(log(x!), digamma(a!))),
  ]),
  // ∂/∂x ∂²P/∂a² = ∂²pdf/∂a² = pdf·((log x − ψ(a))² − ψ′(a)); third order in a is not provided
  gammaincDaa: specialPrim('gammaincDaa', [
    noSecondOrder('gammaincDaa', 'a'),
    ([a, x]) => {
      const L = sub(log(x!), digamma(a!));
      return mul(gammaPdf(a!, x!), sub(mul(L, L), polygamma(1, a!)));
    },
  ]),
  // implicit function theorem on P(a, x(a, p)) = p
  gammaincinv: specialPrim('gammaincinv', [
    ([a], x) => neg(div(gammaincDa(a!, x), gammaPdf(a!, x))),
    ([a], x) => div(1, gammaPdf(a!, x)),
  ]),
  betainc: specialPrim('betainc', [
    ([a, b, x]) => betaincDa(a!, b!, x!),
    ([a, b, x]) => betaincDb(a!, b!, x!),
    ([a, b, x]) => betaPdf(a!, b!, x!),
  ]),
  betaincDa: specialPrim('betaincDa', [
    ([a, b, x]) => betaincD2(a!, b!, x!, 'aa'),
    ([a, b, x]) => betaincD2(a!, b!, x!, 'ab'),
    ([a, b, x]) => mul(betaPdf(a!, b!, x!), add(sub(log(x!), digamma(a!)), digamma(add(a!, b!)))),
  ]),
  betaincDb: specialPrim('betaincDb', [
    ([a, b, x]) => betaincD2(a!, b!, x!, 'ab'),
    ([a, b, x]) => betaincD2(a!, b!, x!, 'bb'),
    ([a, b, x]) => mul(betaPdf(a!, b!, x!), add(sub(log1p(neg(x!)), digamma(b!)), digamma(add(a!, b!)))),
  ]),
  // ∂²I/∂a², ∂²I/∂a∂b, ∂²I/∂b² (params.which); in x: the same derivatives of the Beta density,
  // pdf·(LₐLᵦ-type products + trigamma terms), L_a = log x − ψ(a) + ψ(a+b), L_b = log(1−x) − ψ(b) + ψ(a+b)
  betaincD2: specialPrim('betaincD2', [
    noSecondOrder('betaincD2', 'a'),
    noSecondOrder('betaincD2', 'b'),
    ([a, b, x], _y, p: { which: 'aa' | 'ab' | 'bb' }) => {
      const pab = polygamma(1, add(a!, b!));
      const La = add(sub(log(x!), digamma(a!)), digamma(add(a!, b!)));
      const Lb = add(sub(log1p(neg(x!)), digamma(b!)), digamma(add(a!, b!)));
      const k =
        p.which === 'aa' ? add(sub(mul(La, La), polygamma(1, a!)), pab) : p.which === 'ab' ? add(mul(La, Lb), pab) : add(sub(mul(Lb, Lb), polygamma(1, b!)), pab);
      return mul(betaPdf(a!, b!, x!), k);
    },
  ]),
  betaincinv: specialPrim('betaincinv', [
    ([a, b], x) => neg(div(betaincDa(a!, b!, x), betaPdf(a!, b!, x))),
    ([a, b], x) => neg(div(betaincDb(a!, b!, x), betaPdf(a!, b!, x))),
    ([a, b], x) => div(1, betaPdf(a!, b!, x)),
  ]),
};

const P = specialFunctionPrims;
const un = (p: Primitive, x: TensorLike, params: object = {}) => bind1(p, operands(p.name, [x]), params);

/** log|Γ(x)| elementwise (jax.scipy.special.gammaln); d/dx = digamma(x). */
export const lgamma = (x: TensorLike): Tensor => un(P.lgamma, x);
/** ψ(x) = d log Γ(x)/dx elementwise (NaN at the poles 0, −1, −2, …). */
export const digamma = (x: TensorLike): Tensor => un(P.digamma, x);
/** ψ⁽ⁿ⁾(x), the n-th derivative of digamma (n a non-negative integer; n = 0 is digamma). */
export function polygamma(n: number, x: TensorLike): Tensor {
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`polygamma: n must be a non-negative integer, got ${n}.`);
  return n === 0 ? digamma(x) : un(P.polygamma, x, { n });
}
/** ψ′(x), the trigamma function (polygamma(1, x)). */
export const trigamma = (x: TensorLike): Tensor => polygamma(1, x);

/** Regularised lower incomplete gamma P(a, x) (scipy/JAX gammainc), differentiable in a and x. */
export const gammainc = (a: TensorLike, x: TensorLike): Tensor => bind1(P.gammainc, operands('gammainc', [a, x]), {});
/** Regularised upper incomplete gamma Q(a, x) = 1 − P(a, x) (gammaincc), differentiable in a and x. */
export const gammaincc = (a: TensorLike, x: TensorLike): Tensor => bind1(P.gammaincc, operands('gammaincc', [a, x]), {});
/** ∂P(a, x)/∂a (differentiable in a and x). */
export const gammaincDa = (a: TensorLike, x: TensorLike): Tensor => bind1(P.gammaincDa, operands('gammaincDa', [a, x]), {});
/** ∂²P(a, x)/∂a² (differentiable in x only). */
export const gammaincDaa = (a: TensorLike, x: TensorLike): Tensor => bind1(P.gammaincDaa, operands('gammaincDaa', [a, x]), {});
/** x with P(a, x) = p (scipy.special.gammaincinv), differentiable in a and p (implicit function theorem). */
export const gammaincinv = (a: TensorLike, p: TensorLike): Tensor => bind1(P.gammaincinv, operands('gammaincinv', [a, p]), {});
/** Regularised incomplete beta I_x(a, b) (scipy/JAX betainc(a, b, x)), differentiable in a, b and x. */
export const betainc = (a: TensorLike, b: TensorLike, x: TensorLike): Tensor => bind1(P.betainc, operands('betainc', [a, b, x]), {});
/** ∂I_x(a, b)/∂a (differentiable in x only). */
export const betaincDa = (a: TensorLike, b: TensorLike, x: TensorLike): Tensor => bind1(P.betaincDa, operands('betaincDa', [a, b, x]), {});
/** ∂I_x(a, b)/∂b (differentiable in x only). */
export const betaincDb = (a: TensorLike, b: TensorLike, x: TensorLike): Tensor => bind1(P.betaincDb, operands('betaincDb', [a, b, x]), {});
/** ∂²I_x(a, b)/∂a², ∂a∂b or ∂b² (`which`; differentiable in x only). */
export const betaincD2 = (a: TensorLike, b: TensorLike, x: TensorLike, which: 'aa' | 'ab' | 'bb'): Tensor =>
  bind1(P.betaincD2, operands('betaincD2', [a, b, x]), { which });
/** x with I_x(a, b) = p (scipy.special.betaincinv), differentiable in a, b and p. */
export const betaincinv = (a: TensorLike, b: TensorLike, p: TensorLike): Tensor => bind1(P.betaincinv, operands('betaincinv', [a, b, p]), {});

/**
 * d sample/d a of a Gamma(a, 1) sample x, by implicit reparameterisation (Figurnov et al. 2018):
 * P(a, x) = u held fixed gives −(∂P/∂a)/(∂P/∂x) (what jax.random.gamma's gradient uses).
 */
export function gammaSampleGrad(a: Tensor, x: Tensor): Tensor {
  return neg(div(gammaincDa(a, x), gammaPdf(a, x)));
}
