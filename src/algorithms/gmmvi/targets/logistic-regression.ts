/**
 * gmmvi's Bayesian logistic regression targets (breastCancer, breastCancer_mb, §9 of the notes):
 * features divided by their standard deviation (not centred) plus a bias column, prior N(0, 10² I)
 * (normalised), log-likelihood Σₙ yₙ log σ(−xₙθ) + (1 − yₙ) log σ(xₙθ) (gmmvi's sign convention:
 * label 1 pulls xθ down). The minibatch variant scores each sample on its own random batch of
 * `minibatchSize` rows, scaled by N_data (gmmvi's `_mb` targets); its `fullBatchLogDensity`, also
 * its `metricLogDensity`, is the exact density, so the logged −ELBO is the full-batch one.
 */
import type { Tensor } from '../../../tensor.js';
import { ConfigError, ShapeError } from '../../../errors.js';
import { add, logSigmoid, mul, neg, square, sub } from '../../../autodiff/ops/elementwise.js';
import { matmul } from '../../../autodiff/ops/matmul.js';
import { tensor } from '../../../autodiff/ops/creation.js';
import { expandDims, mT } from '../../../autodiff/ops/shape.js';
import { mean, sum } from '../../../autodiff/ops/reduce.js';
import { take } from '../../../autodiff/ops/indexing.js';
import { foldIn, key as makeKey, uniform } from '../../../random.js';
import type { LNPDF } from '../target.js';

/** A logistic-regression LNPDF over θ = (weights, bias). */
export interface LogisticRegressionTarget extends LNPDF {
  /** the design matrix [n, p + 1] (scaled features, bias column last) */
  design: Tensor;
  /** labels [n] in {0, 1} */
  labels: Tensor;
  /** the exact (full-batch) log density, equal to `logDensity` for the full-batch target */
  fullBatchLogDensity(theta: Tensor): Tensor;
}

/** Features [n, p] scaled by their population standard deviation, with a bias column of ones appended. */
export function scaledDesign(features: number[][]): number[][] {
  const n = features.length;
  const p = features[0]!.length;
  const sd = Array.from({ length: p }, (_, j) => {
    const m = features.reduce((s, r) => s + r[j]!, 0) / n;
    return Math.sqrt(features.reduce((s, r) => s + (r[j]! - m) ** 2, 0) / n);
  });
  return features.map((r) => [...r.map((v, j) => (sd[j]! > 0 ? v / sd[j]! : v)), 1]);
}

/**
 * Bayesian logistic regression on raw features [n][p] and labels [n] (gmmvi's breastCancer when fed
 * examples/data/breast-cancer.csv). With `minibatchSize`, each evaluation draws a fresh batch per
 * sample from `key` folded with a call counter (gmmvi reshuffles per call).
 */
export function logisticRegressionTarget(features: number[][], labels: number[], opts: { priorStd?: number; minibatchSize?: number; key?: Tensor; dtype?: 'float64' | 'float32' } = {}): LogisticRegressionTarget {
  const op = 'gmmvi.logisticRegressionTarget';
  const n = features.length;
  if (n < 1 || labels.length !== n) throw new ShapeError(`${op}: features [n][p] and labels [n] must have the same n ≥ 1, got ${n} and ${labels.length}.`);
  if (labels.some((y) => y !== 0 && y !== 1)) throw new ConfigError(`${op}: labels must be 0 or 1.`);
  const dt = opts.dtype ?? 'float64';
  const s = opts.priorStd ?? 10;
  const X = tensor(scaledDesign(features), { dtype: dt });
  const y = tensor(labels, { dtype: dt });
  const d = X.shape[1]!;
  const priorConst = -0.5 * d * Math.log(2 * Math.PI * s * s);
  const prior = (theta: Tensor) => add(mul(sum(square(theta), { axis: 1 }), -0.5 / (s * s)), priorConst);
  // Σ y log σ(−z) + (1 − y) log σ(z) with z = xθ, along the last axis
  const loglik = (z: Tensor, yy: Tensor) => add(mul(yy, logSigmoid(neg(z))), mul(sub(1, yy), logSigmoid(z)));
  const full = (theta: Tensor) => add(prior(theta), sum(loglik(matmul(theta, mT(X)), y), { axis: 1 }));
  const fullBatchLogDensity = (theta: Tensor) => full(theta);
  const b = opts.minibatchSize;
  if (b === undefined) return { numDimensions: d, design: X, labels: y, logDensity: full, fullBatchLogDensity };
  if (!Number.isInteger(b) || b < 1) throw new ConfigError(`${op}: minibatchSize must be a positive integer, got ${String(b)}.`);
  const key = opts.key ?? makeKey(0);
  let calls = 0;
  return {
    numDimensions: d,
    design: X,
    labels: y,
    fullBatchLogDensity,
    metricLogDensity: fullBatchLogDensity,
    // the batch is drawn on the host with a call counter: not traceable
    jit: false,
    logDensity(theta: Tensor): Tensor {
      const m = theta.shape[0]!;
      // batch rows drawn with replacement per sample (gmmvi draws without replacement from a
      // reshuffle; for b ≪ n the two agree to O(b/n))
      const u = uniform(foldIn(key, calls++), [m, b], { dtype: 'float64' }).dataSync();
      const idx = tensor(Int32Array.from(u, (v) => Math.min(n - 1, Math.floor(v * n))), { dtype: 'int32' });
      const xb = take(X, idx.reshape([m * b]), 0).reshape([m, b, d]);
      const yb = take(y, idx.reshape([m * b]), 0).reshape([m, b]);
      const z = sum(mul(xb, expandDims(theta, 1)), { axis: -1 });
      return add(prior(theta), mul(mean(loglik(z, yb), { axis: 1 }), n));
    },
  };
}
