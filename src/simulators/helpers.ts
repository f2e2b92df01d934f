/**
 * Differentiable-simulator helpers: straight-through Gumbel-softmax (discrete draws with a
 * gradient), soft maximum / minimum (smooth clamps) and a straight-through Bernoulli.
 */
import type { Tensor } from '../tensor.js';
import { ConfigError } from '../errors.js';
import { add, cast, div, equal, log, logsumexpPair, max, neg, softmax, stack, stopGradient, sub } from './ops.js';
import { gumbel } from '../random.js';
import { checkKnown } from '../validate.js';

/** Options of `gumbelSoftmax`: temperature, straight-through and the category axis. */
export interface GumbelSoftmaxOptions {
  /** temperature τ (default 0.1, blackbirds' models) */
  tau?: number;
  /** straight-through: the forward value is the one-hot argmax, the gradient that of the soft sample (default true) */
  hard?: boolean;
  /** the category axis (default −1) */
  axis?: number;
}

/**
 * A Gumbel-softmax draw from categorical logits: y = softmax((logits + g)/τ), g ~ Gumbel(0, 1)
 * from key; with hard = true, y_hard − stopGradient(y) + y (one-hot value, soft gradient).
 */
export function gumbelSoftmax(key: Tensor, logits: Tensor, opts: GumbelSoftmaxOptions = {}): Tensor {
  checkKnown('simulators.gumbelSoftmax', opts, ['tau', 'hard', 'axis']);
  const tau = opts.tau ?? 0.1;
  if (!(tau > 0)) throw new ConfigError(`simulators.gumbelSoftmax: tau must be > 0, got ${tau}.`);
  const axis = opts.axis ?? -1;
  const g = gumbel(key, logits.shape, { dtype: logits.dtype === 'float32' ? 'float32' : 'float64' });
  const y = softmax(div(add(logits, g), tau), { axis });
  if (opts.hard === false) return y;
  const hard = cast(equal(y, max(y, { axis, keepdims: true })), y.dtype);
  return add(sub(hard, stopGradient(y)), y);
}

/**
 * Straight-through Bernoulli(p) draws (blackbirds' `sample_bernoulli_gs`): a 2-category
 * Gumbel-softmax on log[p, 1 − p]; returns the "success" indicator with p's shape.
 */
export function bernoulliStraightThrough(key: Tensor, p: Tensor, tau = 0.1): Tensor {
  const logits = log(stack([p, sub(1, p)], -1));
  const y = gumbelSoftmax(key, logits, { tau, hard: true, axis: -1 });
  return y.slice([...new Array(p.ndim).fill(0), 0], [...p.shape, 1]).reshape(p.shape);
}

/** softMaximum(a, b, k) = log(e^{ka} + e^{kb})/k: a smooth max, hardness k (computed stably). */
export function softMaximum(a: Tensor | number, b: Tensor | number, k: number): Tensor {
  if (!(k > 0)) throw new ConfigError(`simulators.softMaximum: k must be > 0, got ${k}.`);
  return div(logsumexpPair(a, b, k), k);
}

/** softMinimum(a, b, k) = −softMaximum(−a, −b, k). */
export function softMinimum(a: Tensor | number, b: Tensor | number, k: number): Tensor {
  return neg(softMaximum(typeof a === 'number' ? -a : neg(a), typeof b === 'number' ? -b : neg(b), k));
}
