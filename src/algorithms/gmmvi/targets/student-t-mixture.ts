/**
 * gmmvi's Student-t mixture target (STM, §9 of the notes): K equal-weight multivariate Student-t
 * components with ν = 2, means U(−r, r)^d and scale matrices Σ = (BᵀB + I)⁻¹ with B entries
 * 0.1·d·N(0, 1); stm20: d = 20, K = 10, r = 20; stm300: d = 300, K = 20, r = 25. Drawn from our
 * PRNG, so not gmmvi's numbers. The mixture is normalised (−ELBO = KL ≥ 0). We keep the precision
 * P = BᵀB + I and its Cholesky factor L (P = LLᵀ): the Mahalanobis term is ‖Lᵀ(x − μ)‖².
 */
import type { Tensor } from '../../../tensor.js';
import { ConfigError } from '../../../errors.js';
import { tidy } from '../../../memory.js';
import { add, div, log, mul, sqrt, square, sub } from '../../../autodiff/ops/elementwise.js';
import { matmul } from '../../../autodiff/ops/matmul.js';
import { eye, tensor } from '../../../autodiff/ops/creation.js';
import { diagonal, take } from '../../../autodiff/ops/indexing.js';
import { cholesky, triangularSolve } from '../../../autodiff/ops/linalg.js';
import { expandDims, mT } from '../../../autodiff/ops/shape.js';
import { logsumexp, sum } from '../../../autodiff/ops/reduce.js';

import { foldIn, gamma, normal, uniform, categorical } from '../../../random.js';
import { lgamma } from '../../../backends/cpu/special-functions.js';
import type { LNPDF } from '../target.js';
import { detectedModesOf } from './modes.js';

/** A Student-t mixture LNPDF with exact samples and the detected-modes count. */
export interface StudentTMixtureTarget extends LNPDF {
  /** component means [K, d] */
  means: Tensor;
  /** Cholesky factors of the precisions [K, d, d] (P = LLᵀ, Σ = P⁻¹) */
  precisionChols: Tensor;
  /** degrees of freedom ν */
  df: number;
  canSample: true;
  /** n exact samples [n, d] */
  sample(n: number, key: Tensor): Tensor;
  /** how many target means have a model mean within 6√d */
  detectedModes(modelMeans: Tensor): Promise<number>;
}

/** An equal-weight Student-t mixture from means [K, d], precisions [K, d, d] and ν. */
export function studentTMixtureTarget(means: Tensor, precisions: Tensor, df = 2): StudentTMixtureTarget {
  const k = means.shape[0]!;
  const d = means.shape[1]!;
  if (!(df > 0)) throw new ConfigError(`gmmvi.studentTMixtureTarget: df must be > 0, got ${String(df)}.`);
  const L = cholesky(precisions);
  // per component: log Γ((ν+d)/2) − log Γ(ν/2) − d/2 log(νπ) + ½ log|P| − log K
  const halfLogDetP = sum(log(diagonal(L)), { axis: -1 });
  const constant = add(halfLogDetP, lgamma((df + d) / 2) - lgamma(df / 2) - (d / 2) * Math.log(df * Math.PI) - Math.log(k));
  return {
    means,
    precisionChols: L,
    df,
    numDimensions: d,
    canSample: true,
    logDensity(x: Tensor): Tensor {
      // z = (x − μ_k) L_k: [K, N, d]; δ = ‖z‖²
      const diff = sub(expandDims(x, 0), expandDims(means, 1));
      const delta = sum(square(matmul(diff, L)), { axis: -1 });
      const comp = add(mul(log(add(div(delta, df), 1)), -(df + d) / 2), expandDims(constant, 1));
      return logsumexp(comp, { axis: 0 });
    },
    sample(n: number, key: Tensor): Tensor {
      return tidy(() => {
        const dt = means.dtype as 'float64' | 'float32';
        const idx = categorical(foldIn(key, 0), tensor(new Array<number>(k).fill(0), { dtype: dt }), { shape: [n, k] });
        // Σ^{1/2} z as L⁻ᵀ z, then scaled by √(ν / χ²_ν), χ²_ν = 2·Gamma(ν/2)
        const z = expandDims(normal(foldIn(key, 1), [n, d], { dtype: dt }), -1);
        const y = triangularSolve(take(mT(L), idx, 0), z, { lower: false });
        const chi2 = mul(gamma(foldIn(key, 2), df / 2, [n], { dtype: dt }), 2);
        const scale = sqrt(div(df, chi2));
        return add(take(means, idx, 0), mul(sum(y, { axis: -1 }), expandDims(scale, 1)));
      });
    },
    detectedModes: (modelMeans) => detectedModesOf(means, modelMeans),
  };
}

/** gmmvi's STM recipe drawn from `key` (stm20: d = 20; stm300: d = 300, K = 20, meanRange 25). */
export function makeStmTarget(numDimensions: number, key: Tensor, opts: { numComponents?: number; meanRange?: number; df?: number; dtype?: 'float64' | 'float32' } = {}): StudentTMixtureTarget {
  const d = numDimensions;
  const k = opts.numComponents ?? 10;
  const r = opts.meanRange ?? 20;
  const dt = opts.dtype ?? 'float64';
  if (!Number.isInteger(d) || d < 1) throw new ConfigError(`gmmvi.makeStmTarget: numDimensions must be a positive integer, got ${String(d)}.`);
  if (!Number.isInteger(k) || k < 1) throw new ConfigError(`gmmvi.makeStmTarget: numComponents must be a positive integer, got ${String(k)}.`);
  const [mu, prec] = tidy(() => {
    const m = uniform(foldIn(key, 0), [k, d], { minval: -r, maxval: r, dtype: dt });
    const B = mul(normal(foldIn(key, 1), [k, d, d], { dtype: dt }), 0.1 * d);
    return [m, add(matmul(mT(B), B), eye(d, d, dt))] as const;
  });
  return studentTMixtureTarget(mu, prec, opts.df ?? 2);
}
