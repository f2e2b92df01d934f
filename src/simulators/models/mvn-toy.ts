/**
 * The multivariate-normal toy: n i.i.d. draws x_i = θ + L ε_i (ε_i ~ N(0, I) from key), with a
 * fixed covariance Σ = L Lᵀ. θ is the mean [d]; returns [n, d]. With a Gaussian prior on θ and the
 * Gaussian log-likelihood loss the posterior is Gaussian in closed form (see conjugatePosterior).
 */
import type { Tensor } from '../../tensor.js';
import { tensor } from '../../autodiff/ops/creation.js';
import { matmul } from '../../autodiff/ops/matmul.js';
import { cholesky } from '../../autodiff/ops/linalg.js';
import { normal } from '../../random.js';
import { withBackend } from '../../backends/backend.js';
import { tidy } from '../../memory.js';
import { add, perBackend, reshape } from '../ops.js';
import { checkPositiveInt } from '../../validate.js';

/** The multivariate-normal toy simulator: (θ, key) → n draws [n, d] of N(θ, covariance). */
export function mvnToy(covariance: number[][], n: number): (theta: Tensor, key: Tensor) => Tensor {
  const d = covariance.length;
  checkPositiveInt('simulators.mvnToy', 'n', n);
  // Lᵀ, factored once in float64 on the CPU, then held in θ's dtype on whichever backend θ lives
  const factorT = withBackend('cpu', () => tidy(() => Array.from(cholesky(tensor(covariance)).mT.dataSync())));
  const Lt = perBackend((dtype) => tensor(factorT, { shape: [d, d], dtype }));
  return (theta, key) => {
    const dtype = theta.dtype === 'float32' ? 'float32' : 'float64';
    return add(matmul(normal(key, [n, d], { dtype }), Lt(dtype)), reshape(theta, [d]));
  };
}

/**
 * The exact posterior of θ for y_i ~ N(θ, Σ), i = 1..n, and prior N(m0, S0):
 * S = (S0⁻¹ + n Σ⁻¹)⁻¹,  m = S (S0⁻¹ m0 + Σ⁻¹ Σ_i y_i). Plain host arithmetic (small d).
 */
export function conjugatePosterior(y: number[][], covariance: number[][], priorMean: number[], priorCovariance: number[][]): { mean: number[]; covariance: number[][] } {
  const n = y.length;
  const si = inv(covariance);
  const s0i = inv(priorCovariance);
  const prec = s0i.map((r, i) => r.map((v, j) => v + n * si[i]![j]!));
  const S = inv(prec);
  const ysum = priorMean.map((_, j) => y.reduce((a, r) => a + r[j]!, 0));
  const rhs = mv(s0i, priorMean).map((v, i) => v + mv(si, ysum)[i]!);
  return { mean: mv(S, rhs), covariance: S };
}

function mv(a: number[][], v: number[]): number[] {
  return a.map((r) => r.reduce((s, x, j) => s + x * v[j]!, 0));
}

/** Gauss–Jordan inverse of a small matrix. */
export function inv(a: number[][]): number[][] {
  const n = a.length;
  const m = a.map((r, i) => [...r, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    const pv = m[c]![c]!;
    for (let j = 0; j < 2 * n; j++) m[c]![j]! /= pv;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]!;
      for (let j = 0; j < 2 * n; j++) m[r]![j]! -= f * m[c]![j]!;
    }
  }
  return m.map((r) => r.slice(n));
}
