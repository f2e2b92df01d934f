import { Tensor } from '../tensor.js';
import { add, div } from '../autodiff/ops/elementwise.js';
import { mean } from '../autodiff/ops/reduce.js';
import { full } from '../autodiff/ops/creation.js';
import type { PyTree } from '../autodiff/tree.js';
import { ConfigError, ShapeError } from '../errors.js';
import { fmtShape } from '../shape.js';
import { checkNumber, describeValue, requireOptions } from '../validate.js';

/** Options of `batchLogPosterior`: per-example log-likelihood, log prior and the dataset size N. */
export interface BatchLogPosteriorOptions<P, B> {
  /** per-example log-likelihoods log p(yᵢ | θ) of the batch: a Tensor [n] */
  logLikelihood(params: P, batch: B): Tensor;
  /** log p(θ) (unnormalised is fine): a scalar Tensor, or a number for a flat prior */
  logPrior(params: P): Tensor | number;
  /** N, the size of the whole dataset */
  numData: number;
}

/** The aux output of a `batchLogPosterior` function: its two terms. */
export interface BatchLogPosteriorAux {
  /** (1/n) Σ log p(yᵢ | θ) over the batch */
  meanLogLikelihood: Tensor;
  /** log p(θ) */
  logPrior: Tensor;
}

/**
 * The batch-averaged log posterior that posteriors recommends (docs/log_posteriors.md):
 *
 *   (1/N) log p(θ) + (1/n) Σ_{i∈batch} log p(yᵢ | θ)  =  (1/N) · [log p(θ) + (N/n) Σ log p(yᵢ | θ)],
 *
 * i.e. an unbiased minibatch estimate of log p(θ | y) divided by N. The 1/N keeps gradients
 * (and so step sizes) O(1) whatever N and n are; to sample the actual posterior pass the
 * sampler temperature T = 1/N (it then targets p(θ|y)^(1/(N·T)) = p(θ|y)). T = 0 is optimisation.
 * Returns (params, batch) => [scalar, { meanLogLikelihood, logPrior }], the shape SG-MCMC samplers
 * and valueAndGrad({ hasAux: true }) expect.
 */
export function batchLogPosterior<P = PyTree, B = PyTree>(opts: BatchLogPosteriorOptions<P, B>): (params: P, batch: B) => [Tensor, BatchLogPosteriorAux] {
  const op = 'logpdf.batchLogPosterior';
  requireOptions(op, opts, ['logLikelihood', 'logPrior', 'numData']);
  if (typeof opts.logLikelihood !== 'function') throw new ConfigError(`${op}: logLikelihood must be a function (params, batch) => Tensor [n], got ${describeValue(opts.logLikelihood)}.`);
  if (typeof opts.logPrior !== 'function') throw new ConfigError(`${op}: logPrior must be a function (params) => scalar, got ${describeValue(opts.logPrior)}.`);
  const N = checkNumber(op, 'numData', opts.numData, { min: 1, integer: true });
  const { logLikelihood, logPrior } = opts;
  return (params, batch) => {
    const ll = logLikelihood(params, batch);
    if (!(ll instanceof Tensor)) throw new ConfigError(`${op}: logLikelihood returned ${describeValue(ll)}; it must return a Tensor [n] of per-example log-likelihoods.`);
    if (ll.ndim !== 1 || ll.shape[0] === 0) {
      throw new ShapeError(`${op}: logLikelihood must return per-example log-likelihoods of shape [n] (n ≥ 1), got ${fmtShape(ll.shape)}${ll.ndim === 0 ? ' (a scalar: return the terms, not their sum or mean)' : ''}.`);
    }
    let lp = logPrior(params);
    if (typeof lp === 'number') lp = full([], lp, ll.dtype);
    if (!(lp instanceof Tensor)) throw new ConfigError(`${op}: logPrior returned ${describeValue(lp)}; it must return a scalar Tensor or a number.`);
    if (lp.ndim !== 0) throw new ShapeError(`${op}: logPrior must return a scalar (shape []), got ${fmtShape(lp.shape)}; sum it.`);
    const meanLl = mean(ll);
    return [add(div(lp, N), meanLl), { meanLogLikelihood: meanLl, logPrior: lp }];
  };
}
