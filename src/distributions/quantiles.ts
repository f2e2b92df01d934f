import type { Tensor } from '../tensor.js';
import { add, cos, div, ndtri, exp, less, log, log1p, mul, neg, sin, sqrt, square, sub, where, equal, abs, sign } from '../autodiff/ops/elementwise.js';
import { betaincDa, betaincinv, gammaincinv, lgamma } from '../autodiff/ops/special-functions.js';
import { customJvp } from '../autodiff/custom.js';
import { operands, type TensorLike } from '../autodiff/ops/util.js';

/**
 * Quantile functions (inverse CDFs) of the priors the nested sampler maps the unit cube through,
 * in the parametrisations of jaxns/TFP. Each is differentiable in u and in every parameter (the
 * incomplete-gamma/beta inverses by the implicit function theorem), broadcasts, and gives NaN
 * outside the support of u or for invalid parameters (as scipy's ppf); validating prior
 * parameters (ConfigError) is the caller's job.
 */

/** Quantile of Uniform(low, high): low + u·(high − low). */
export function uniformQuantile(u: TensorLike, low: TensorLike = 0, high: TensorLike = 1): Tensor {
  const [uu, lo, hi] = operands('uniformQuantile', [u, low, high]);
  return add(lo!, mul(uu!, sub(hi!, lo!)));
}

/**
 * Quantile of Normal(loc, scale): loc + scale·Φ⁻¹(u). Φ⁻¹ is `ndtri`, not √2·erf⁻¹(2u − 1): 2u − 1
 * rounds to −1 for u < 1.1e-16 and loses digits beyond ~8σ, and ndtri is ~7× cheaper on the CPU.
 */
export function normalQuantile(u: TensorLike, loc: TensorLike = 0, scale: TensorLike = 1): Tensor {
  const [uu, m, s] = operands('normalQuantile', [u, loc, scale]);
  return add(m!, mul(s!, ndtri(uu!)));
}

/** Quantile of LogNormal(loc, scale) (log X ~ Normal(loc, scale)). */
export function logNormalQuantile(u: TensorLike, loc: TensorLike = 0, scale: TensorLike = 1): Tensor {
  return exp(normalQuantile(u, loc, scale));
}

/** Quantile of Exponential(rate): −log(1 − u)/rate. */
export function exponentialQuantile(u: TensorLike, rate: TensorLike = 1): Tensor {
  const [uu, r] = operands('exponentialQuantile', [u, rate]);
  return div(neg(log1p(neg(uu!))), r!);
}

/**
 * Quantile of Laplace(loc, scale): loc + scale·log(2u) below the median, loc − scale·log(2 − 2u)
 * above (two smooth branches meeting with slope 2·scale at u = ½, so the median has a derivative).
 */
export function laplaceQuantile(u: TensorLike, loc: TensorLike = 0, scale: TensorLike = 1): Tensor {
  const [uu, m, s] = operands('laplaceQuantile', [u, loc, scale]);
  const lower = less(uu!, 0.5);
  // each branch sees a safe argument where it is not selected (no log(≤ 0) in the unused side)
  const lo = log(mul(where(lower, uu!, 0.25), 2));
  const hi = neg(log(sub(2, mul(where(lower, 0.75, uu!), 2))));
  return add(m!, mul(s!, where(lower, lo, hi)));
}

/**
 * Quantile of Cauchy(loc, scale): loc + scale·tan(π(u − ½)), evaluated as ∓cot(π·w) with w the
 * nearer tail mass min(u, 1 − u), so the tails keep relative accuracy (π(u − ½) next to ±π/2
 * would lose it).
 */
export function cauchyQuantile(u: TensorLike, loc: TensorLike = 0, scale: TensorLike = 1): Tensor {
  const [uu, m, s] = operands('cauchyQuantile', [u, loc, scale]);
  const lower = less(uu!, 0.5);
  const w = mul(where(lower, uu!, sub(1, uu!)), Math.PI);
  const cot = div(cos(w), sin(w));
  return add(m!, mul(s!, where(lower, neg(cot), cot)));
}

/** Quantile of Gamma(concentration, rate): P⁻¹(concentration, u)/rate. */
export function gammaQuantile(u: TensorLike, concentration: TensorLike, rate: TensorLike = 1): Tensor {
  const [uu, k, r] = operands('gammaQuantile', [u, concentration, rate]);
  return div(gammaincinv(k!, uu!), r!);
}

/** Quantile of Beta(a, b): I⁻¹(a, b, u). */
export function betaQuantile(u: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  const [uu, aa, bb] = operands('betaQuantile', [u, a, b]);
  return betaincinv(aa!, bb!, uu!);
}

/** log density of Student's t with df ν at t (standard). */
function studentTLogPdf(t: Tensor, df: Tensor): Tensor {
  const half = mul(add(df, 1), 0.5);
  return sub(sub(sub(lgamma(half), lgamma(mul(df, 0.5))), mul(log(mul(df, Math.PI)), 0.5)), mul(half, log1p(div(square(t), df))));
}

/**
 * Standard Student-t quantile: |t| = √(ν y/(1 − y)), y = I⁻¹(½, ν/2, |1 − 2u|) (the tail mass in
 * the beta form). Its derivatives are given directly (a custom JVP): ∂t/∂u = 1/f(t) and
 * ∂t/∂ν = −(∂F/∂ν)/f(t), which stay finite at the median where the composite's √ and the inverse's
 * derivative would meet as ∞·0.
 */
const tQuantile = customJvp(
  (u: Tensor, df: Tensor) => studentTPrimal(u, df),
  ([u, df], [du, ddf]) => {
    const t = studentTPrimal(u, df);
    const invPdf = exp(neg(studentTLogPdf(t, df)));
    // F(t; ν) = 1 − ½ I_x(ν/2, ½) for t ≥ 0 (½ I_x for t < 0), x = ν/(ν + t²):
    // ∂F/∂ν = −sign(t)·½·(½ ∂I/∂a + f_B(x)·∂x/∂ν), 0 at t = 0 by symmetry
    const zero = equal(t, 0);
    const ts = where(zero, 1, t);
    const t2 = square(ts);
    const x = div(df, add(df, t2));
    const a = mul(df, 0.5);
    const dIda = betaincDa(a, 0.5, x);
    // f_B(x)·∂x/∂ν with f_B the Beta(ν/2, ½) density; (1 − x)^{−½} = √(ν + t²)/|t|
    const fB = exp(add(add(mul(sub(a, 1), log(x)), mul(-0.5, log1p(neg(x)))), sub(lgamma(add(a, 0.5)), add(lgamma(a), LGAMMA_HALF))));
    const dxdnu = div(t2, square(add(df, t2)));
    const dFdnu = where(zero, 0, mul(mul(sign(ts), -0.5), add(mul(dIda, 0.5), mul(fB, dxdnu))));
    const tan = add(mul(du, invPdf), mul(ddf, neg(mul(dFdnu, invPdf))));
    return [t, tan];
  },
);
const LGAMMA_HALF = 0.5723649429247001; // log Γ(½) = ½ log π

function studentTPrimal(u: Tensor, df: Tensor): Tensor {
  const v = sub(mul(u, 2), 1); // 2u − 1 ∈ (−1, 1)
  const y = betaincinv(0.5, mul(df, 0.5), abs(v));
  // y/(1 − y) through the complementary form keeps precision in both tails
  return mul(sign(v), sqrt(div(mul(df, y), sub(1, y))));
}

/** Quantile of StudentT(df, loc, scale): loc + scale·t_ν⁻¹(u), t_ν⁻¹ through the incomplete beta inverse. */
export function studentTQuantile(u: TensorLike, df: TensorLike, loc: TensorLike = 0, scale: TensorLike = 1): Tensor {
  const [uu, nu, m, s] = operands('studentTQuantile', [u, df, loc, scale]);
  return add(m!, mul(s!, tQuantile(uu!, nu!)));
}

