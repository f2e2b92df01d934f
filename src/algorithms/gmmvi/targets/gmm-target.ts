/**
 * The GMM target of gmmvi's experiments (§9 of the notes): a normalised Gaussian mixture, so
 * −ELBO = KL(q‖p) ≥ 0, with exact samples, 1-D marginals and the "detected modes" metric (a target
 * mean counts as found when some model mean lies within ‖6·1_d‖ = 6√d of it). `makeGmmTarget`
 * draws one as gmmvi's `make_target` does (10 equal-weight components, means U(−50, 50)^d,
 * Σ = AᵀA + I with A entries 0.1·N(0, d²)) — from our PRNG, so not gmmvi's numbers: compare
 * KL-type values and mode counts, not raw ELBOs.
 */
import type { Tensor } from '../../../tensor.js';
import { ConfigError } from '../../../errors.js';
import { tidy } from '../../../memory.js';
import { add, mul } from '../../../autodiff/ops/elementwise.js';
import { matmul } from '../../../autodiff/ops/matmul.js';
import { eye, tensor } from '../../../autodiff/ops/creation.js';
import { mT } from '../../../autodiff/ops/shape.js';
import { foldIn, normal, uniform } from '../../../random.js';
import { createGmm, logDensity, marginalLogDensity, sample, type GmmState } from '../gmm.js';
import type { LNPDF } from '../target.js';

/** A Gaussian-mixture target: an LNPDF with exact samples, marginals and the detected-modes count. */
export interface GmmTarget extends LNPDF {
  /** the mixture (weights, means, Cholesky factors) */
  gmm: GmmState;
  canSample: true;
  /** n exact samples [n, d] */
  sample(n: number, key: Tensor): Tensor;
  /** the 1-D marginal log density along `dimension` of values [N] */
  marginalLogDensity(x: Tensor, dimension: number): Tensor;
  /** how many target means have a model mean within 6√d (gmmvi's `num_detected_modes`) */
  detectedModes(modelMeans: Tensor): Promise<number>;
}

async function rows(t: Tensor): Promise<number[][]> {
  const v = Array.from(await t.data(), Number);
  const d = t.shape[1]!;
  return Array.from({ length: t.shape[0]! }, (_, i) => v.slice(i * d, (i + 1) * d));
}

/** A GMM target from weights [K], means [K, d] and covariances [K, d, d]. */
export function gmmTarget(weights: Tensor, means: Tensor, covs: Tensor): GmmTarget {
  const gmm = createGmm({ weights, means, covs });
  const d = means.shape[1]!;
  return {
    gmm,
    numDimensions: d,
    canSample: true,
    logDensity: (x) => logDensity(gmm, x),
    sample: (n, key) => tidy(() => sample(gmm, n, key).samples),
    marginalLogDensity: (x, dimension) => marginalLogDensity(gmm, x, dimension),
    async detectedModes(modelMeans: Tensor): Promise<number> {
      const t = await rows(gmm.means);
      const m = await rows(modelMeans);
      const thr = 6 * Math.sqrt(d);
      return t.filter((mu) => m.some((q) => Math.hypot(...mu.map((v, j) => v - q[j]!)) < thr)).length;
    },
  };
}

/** gmmvi's GMM target recipe (gmm20: d = 20, gmm100: d = 100) drawn from `key`. */
export function makeGmmTarget(numDimensions: number, key: Tensor, opts: { numComponents?: number; dtype?: 'float64' | 'float32' } = {}): GmmTarget {
  const d = numDimensions;
  const k = opts.numComponents ?? 10;
  const dt = opts.dtype ?? 'float64';
  if (!Number.isInteger(d) || d < 1) throw new ConfigError(`gmmvi.makeGmmTarget: numDimensions must be a positive integer, got ${String(d)}.`);
  if (!Number.isInteger(k) || k < 1) throw new ConfigError(`gmmvi.makeGmmTarget: numComponents must be a positive integer, got ${String(k)}.`);
  const [w, mu, cov] = tidy(() => {
    const means = uniform(foldIn(key, 0), [k, d], { minval: -50, maxval: 50, dtype: dt });
    // A: entries 0.1·N(0, d²) (gmmvi's np.random.normal(0, num_dimensions) has standard deviation d)
    const A = mul(normal(foldIn(key, 1), [k, d, d], { dtype: dt }), 0.1 * d);
    const covs = add(matmul(mT(A), A), eye(d, d, dt));
    return [tensor(new Array<number>(k).fill(1 / k), { dtype: dt }), means, covs] as const;
  });
  return gmmTarget(w, mu, cov);
}
