import type { PyTree } from '../autodiff/tree.js';
import type { GradientTransformation, ScalarOrSchedule } from './types.js';
import { chain } from './chain.js';
import { checkLearningRate, identity, scaleByLearningRate } from './scale.js';
import { trace } from './trace.js';
import { scaleByAdam, type ScaleByAdamOptions } from './adam.js';
import { addDecayedWeights, type Mask } from './decay.js';
import { checkBoolean, checkNumber, requireOptions } from '../validate.js';

/** The optimisers users reach for, each a chain of the transformations above (as optax's aliases). */

export interface SgdOptions {
  learningRate: ScalarOrSchedule;
  momentum?: number;
  nesterov?: boolean;
}

/**
 * optax.sgd: chain(trace(μ, nesterov), scaleByLearningRate(lr)). With g the gradient:
 *   m ← g + μ m;   update = −lr·m   (nesterov: update = −lr·(g + μ m), with the new m).
 * No dampening (torch's τ = 0); μ = 0 is plain SGD. State: [{ trace } or {}, lr state].
 */
export function sgd(opts: SgdOptions): GradientTransformation<PyTree[]> {
  const op = 'sgd';
  requireOptions(op, opts, ['learningRate', 'momentum', 'nesterov']);
  checkLearningRate(op, opts.learningRate);
  const mu = checkNumber(op, 'momentum', opts?.momentum ?? 0, { min: 0 });
  const nesterov = checkBoolean(op, 'nesterov', opts.nesterov ?? false);
  const lr = scaleByLearningRate(opts.learningRate);
  return chain(mu > 0 ? trace({ decay: mu, nesterov }) : identity(), lr);
}

/** Options of `adam`: a learning rate (number or schedule) and Adam's moment options. */
export interface AdamOptions extends ScaleByAdamOptions {
  learningRate: ScalarOrSchedule;
}

/** optax.adam: chain(scaleByAdam(b1, b2, eps, epsRoot), scaleByLearningRate(lr)). State: [{ count, mu, nu }, lr state]. */
export function adam(opts: AdamOptions): GradientTransformation<PyTree[]> {
  requireOptions('adam', opts, ['learningRate', 'b1', 'b2', 'eps', 'epsRoot']);
  checkLearningRate('adam', opts.learningRate);
  const { learningRate, ...moments } = opts;
  return chain(scaleByAdam(moments), scaleByLearningRate(learningRate));
}

/** Options of `adamw`: those of `adam` plus decoupled weight decay and its mask. */
export interface AdamwOptions extends AdamOptions {
  weightDecay?: number;
  mask?: Mask;
}

/**
 * optax.adamw: chain(scaleByAdam, addDecayedWeights(weightDecay, mask), scaleByLearningRate(lr)),
 * i.e. update = −lr·(adam direction + weightDecay·params): decoupled decay, scaled by the
 * (scheduled) learning rate. update() needs params. State: [{ count, mu, nu }, {}, lr state].
 */
export function adamw(opts: AdamwOptions): GradientTransformation<PyTree[]> {
  requireOptions('adamw', opts, ['learningRate', 'b1', 'b2', 'eps', 'epsRoot', 'weightDecay', 'mask']);
  checkLearningRate('adamw', opts.learningRate);
  const { learningRate, weightDecay, mask, ...moments } = opts;
  return chain(
    scaleByAdam(moments),
    addDecayedWeights({ weightDecay: weightDecay ?? 1e-4, ...(mask === undefined ? {} : { mask }) }),
    scaleByLearningRate(learningRate),
  );
}
