/**
 * The IMNN's statistics and loss (Charnock, Lavaux & Wandelt 2018; imnn's `_imnn.py`):
 * the Gaussian Fisher information of the network outputs x = f_w(d) about θ_fid,
 *
 *   μ = mean_i x_i,   C = Σ_i (x_i − μ)(x_i − μ)ᵀ / (nS − 1),   ∂μ/∂θ = mean_{i ≤ nD} ∂x_i/∂θ,
 *   F = (∂μ/∂θ)ᵀ C⁻¹ (∂μ/∂θ),
 *
 * and the loss Λ = −log|F| + r(Λ₂)Λ₂ with Λ₂ = ‖C − I‖_F + ‖C⁻¹ − I‖_F (Frobenius norms, not
 * squared, as imnn's code) and r(Λ₂) = λΛ₂ / (Λ₂ + exp(−αΛ₂)) — the code's "+", not the
 * docstring's "−" (with "−" r has a pole at Λ₂ ≈ 0.567).
 */
import { Tensor } from '../../tensor.js';
import { ConfigError } from '../../errors.js';
import { eye } from '../../autodiff/ops/creation.js';
import { exp, mul, sqrt, square, sub, add, div, neg } from '../../autodiff/ops/elementwise.js';
import { mean, sum } from '../../autodiff/ops/reduce.js';
import { mT, slice } from '../../autodiff/ops/shape.js';
import { matmul } from '../../autodiff/ops/matmul.js';
import { inv, slogdet } from '../../autodiff/ops/linalg.js';

/**
 * The rate α of the regularisation switch from the closeness criterion: with
 * α = −ln(ε(λ − 1) + ε²/(1 + ε)) / ε, r(ε) = λ/(λ + ε/(1+ε)) ≈ 1, i.e. the regularisation is
 * about switched off once Λ₂ ≈ ε. getα(10, 0.1) = 0.9531, getα(10, 0.01) = 240.68.
 */
export function getα(λ: number, ε: number): number {
  if (typeof λ !== 'number' || !Number.isFinite(λ) || λ <= 0) throw new ConfigError(`imnn getα: λ must be a finite number > 0, got ${String(λ)}.`);
  if (typeof ε !== 'number' || !Number.isFinite(ε) || ε <= 0) throw new ConfigError(`imnn getα: ε must be a finite number > 0, got ${String(ε)}.`);
  const arg = ε * (λ - 1) + (ε * ε) / (1 + ε);
  if (!(arg > 0)) throw new ConfigError(`imnn getα: ε(λ − 1) + ε²/(1 + ε) must be > 0 for the logarithm, got ${arg} (λ = ${λ}, ε = ${ε}); use λ > 1.`);
  return -Math.log(arg) / ε;
}

/** The statistics behind a Fisher information: F, C, C⁻¹, ∂μ/∂θ [nSummaries, nParams], μ. */
export interface FStatistics {
  F: Tensor;
  C: Tensor;
  invC: Tensor;
  dμdθ: Tensor;
  μ: Tensor;
}

/** F, C, C⁻¹, ∂μ/∂θ and μ from outputs x [nS, nSummaries] and derivatives dx [nD, nSummaries, nParams]. */
export function fisherStatistics(x: Tensor, dx: Tensor): FStatistics {
  const nS = x.shape[0]!;
  const μ = mean(x, { axis: 0 });
  const r = sub(x, μ);
  const C = div(matmul(mT(r), r), nS - 1);
  const invC = inv(C, { onFailure: 'nan' });
  const dμdθ = mean(dx, { axis: 0 });
  const F = matmul(mT(dμdθ), matmul(invC, dμdθ));
  return { F, C, invC, dμdθ, μ };
}

/** sign · log|det A| (imnn's `_slogdet`): −∞ … for a singular A, negative for an indefinite one. */
export function signedLogdet(a: Tensor): Tensor {
  const [s, l] = slogdet(a);
  return mul(s, l);
}

/** Λ₂ = ‖C − I‖_F + ‖C⁻¹ − I‖_F. */
export function regularisation(C: Tensor, invC: Tensor): Tensor {
  const I = eye(C.shape[0]!, C.shape[0]!, C.dtype);
  const fro = (a: Tensor) => sqrt(sum(square(sub(a, I))));
  return add(fro(C), fro(invC));
}

/** r(Λ₂) = λΛ₂ / (Λ₂ + exp(−αΛ₂)): 0 at Λ₂ = 0, → λ for large Λ₂. */
export function regularisationStrength(Λ2: Tensor, λ: number, α: number): Tensor {
  return div(mul(Λ2, λ), add(Λ2, exp(mul(Λ2, -α))));
}

/** The loss and what the history records about it. */
export interface LossAux extends FStatistics {
  Λ2: Tensor;
  r: Tensor;
}

/** Λ = −log|F| + r(Λ₂)Λ₂ from outputs and derivatives; returns [Λ, statistics]. */
export function imnnLoss(x: Tensor, dx: Tensor, λ: number, α: number): [Tensor, LossAux] {
  const st = fisherStatistics(x, dx);
  const Λ2 = regularisation(st.C, st.invC);
  const r = regularisationStrength(Λ2, λ, α);
  return [add(neg(signedLogdet(st.F)), mul(r, Λ2)), { ...st, Λ2, r }];
}

/** The first n rows of x (the derivative set is the first nD of the fiducial ones). */
export function firstRows(x: Tensor, n: number): Tensor {
  return n === x.shape[0] ? x : slice(x, [0], [n]);
}
