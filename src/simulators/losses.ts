/**
 * Losses between simulated and observed outputs: MSE, the univariate MMD² (U-statistics,
 * median-heuristic bandwidth; blackbirds' UnivariateMMDLoss) and the Gaussian (negative)
 * log-likelihood.
 */
import type { Tensor } from '../tensor.js';
import { ConfigError, ShapeError } from '../errors.js';
import { fmtShape, shapesEqual } from '../shape.js';
import { keep, tidy } from '../memory.js';
import { cholesky, triangularSolve } from '../autodiff/ops/linalg.js';
import { diagonal } from '../autodiff/ops/indexing.js';
import { add, div, exp, mean, mul, neg, reshape, square, sub, sum } from './ops.js';

/** mean((x − y)²) over all entries (shapes must match). */
export function mse(x: Tensor, y: Tensor): Tensor {
  if (!shapesEqual(x.shape, y.shape)) throw new ShapeError(`simulators.mse: shapes differ: ${fmtShape(x.shape)} vs ${fmtShape(y.shape)}.`);
  return mean(square(sub(x, y)));
}

/**
 * Median of the squared pairwise distances of y (n² entries, the zero diagonal included), on the
 * host (a synchronous read: on WebGPU pass { bandwidth } to mmd / mmdLoss instead).
 */
export function medianHeuristic(y: Tensor): number {
  const v = y.dataSync();
  const n = v.length;
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) d[i * n + j] = (v[i]! - v[j]!) ** 2;
  d.sort();
  const m = d.length;
  return m % 2 ? d[(m - 1) / 2]! : (d[m / 2 - 1]! + d[m / 2]!) / 2;
}

/** k(a_i, b_j) = exp(−(a_i − b_j)²/ℓ) as [n, m]. */
function gram(a: Tensor, b: Tensor, ell: number): Tensor {
  const d = sub(reshape(a, [a.size, 1]), reshape(b, [1, b.size]));
  return exp(div(neg(square(d)), ell));
}

/** (Σ_{i≠j} K_ij) / (n(n − 1)): the U-statistic mean of a square Gram matrix. */
function uMean(k: Tensor): Tensor {
  const n = k.shape[0]!;
  // the diagonal of a Gram matrix of one sample with itself is exp(0) = 1
  return div(sub(sum(k), n), n * (n - 1));
}

function flat1d(op: string, x: Tensor): Tensor {
  if (x.ndim > 1 && x.shape.filter((s) => s !== 1).length > 1) throw new ShapeError(`${op}: expects a univariate series, got shape ${fmtShape(x.shape)}.`);
  if (x.size < 2) throw new ShapeError(`${op}: needs at least 2 points, got ${x.size}.`);
  return reshape(x, [x.size]);
}

/**
 * Univariate MMD² between samples x (simulated) and y (observed), kernel exp(−(a − b)²/ℓ):
 * U-stat(k_xx) + U-stat(k_yy) − 2 mean(k_xy). ℓ defaults to the median heuristic on y.
 */
export function mmd(x: Tensor, y: Tensor, opts: { bandwidth?: number } = {}): Tensor {
  const xx = flat1d('simulators.mmd', x);
  const yy = flat1d('simulators.mmd', y);
  const ell = opts.bandwidth ?? medianHeuristic(yy);
  if (!(ell > 0)) throw new ConfigError(`simulators.mmd: the bandwidth must be > 0, got ${ell} (observed data with no spread? pass { bandwidth }).`);
  return add(sub(uMean(gram(xx, xx, ell)), mul(mean(gram(xx, yy, ell)), 2)), uMean(gram(yy, yy, ell)));
}

/**
 * mmdLoss(y): a loss x ↦ MMD²(x, y) with the bandwidth and the observed-data term k_yy computed
 * once (blackbirds caches k_yy).
 */
export function mmdLoss(y: Tensor, opts: { bandwidth?: number } = {}): (x: Tensor) => Tensor {
  const yy = flat1d('simulators.mmdLoss', y);
  const ell = opts.bandwidth ?? medianHeuristic(yy);
  if (!(ell > 0)) throw new ConfigError(`simulators.mmdLoss: the bandwidth must be > 0, got ${ell}.`);
  // cached as a tensor (no host read: works on backends that read asynchronously)
  const kyy = keep(tidy(() => uMean(gram(yy, yy, ell))));
  return (x) => {
    const xx = flat1d('simulators.mmdLoss', x);
    return add(sub(uMean(gram(xx, xx, ell)), mul(mean(gram(xx, yy, ell)), 2)), kyy);
  };
}

/**
 * Σ_i log N(y_i | mean, Σ) over the rows of y [n, d] (or [n] with d = 1); Σ given as
 * { covariance } (matrix) or { scale } (standard deviation, scalar or [d], independent entries).
 */
export function gaussianLogLikelihood(y: Tensor, mu: Tensor | number, cov: { covariance?: Tensor; scale?: Tensor | number }): Tensor {
  const LOG2PI = Math.log(2 * Math.PI);
  const diff = sub(y, mu);
  if (cov.covariance !== undefined) {
    const d = cov.covariance.shape[0]!;
    const rows = reshape(diff, [diff.size / d, d]);
    const L = cholesky(cov.covariance);
    const z = triangularSolve(L, rows.mT, { lower: true });
    const logDet = sum(diagonal(L).log());
    const n = rows.shape[0]!;
    return sub(mul(sum(square(z)), -0.5), add(mul(logDet, n), 0.5 * n * d * LOG2PI));
  }
  if (cov.scale === undefined) throw new ConfigError('simulators.gaussianLogLikelihood: give { covariance } or { scale }.');
  const s = cov.scale;
  const z = div(diff, s);
  const logS = typeof s === 'number' ? Math.log(s) : s.log();
  const per = add(add(mul(square(z), 0.5), logS), 0.5 * LOG2PI);
  return neg(sum(per));
}

/** −gaussianLogLikelihood: the loss for classical (w = 1) Bayesian VI. */
export function gaussianNll(y: Tensor, mu: Tensor | number, cov: { covariance?: Tensor; scale?: Tensor | number }): Tensor {
  return neg(gaussianLogLikelihood(y, mu, cov));
}
