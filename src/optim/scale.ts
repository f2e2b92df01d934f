import type { PyTree } from '../autodiff/tree.js';
import { mul } from '../autodiff/ops/elementwise.js';
import { ConfigError } from '../errors.js';
import type { GradientTransformation, ScalarOrSchedule, Schedule } from './types.js';
import { stepCount, zipMap } from './treeutil.js';
import { checkBoolean, checkKeys, checkNumber, describeValue } from '../validate.js';

/** Passes updates through unchanged; state {}. (optax.identity) */
export function identity(): GradientTransformation<Record<string, never>> {
  return {
    init: () => ({}),
    update: (updates, state) => [zipMap('identity', ['updates'], [updates], (u) => u), state],
  };
}

/** updates · factor; state {}. (optax.scale) */
export function scale(factor: number): GradientTransformation<Record<string, never>> {
  const f = checkNumber('scale', 'factor', factor);
  return {
    init: () => ({}),
    update: (updates) => [zipMap('scale', ['updates'], [updates], (u) => mul(u, f)), {}],
  };
}

/** updates · schedule(count); state { count }: the number of updates so far. (optax.scale_by_schedule) */
export function scaleBySchedule(schedule: Schedule): GradientTransformation<{ count: number }> {
  if (typeof schedule !== 'function') throw new ConfigError(`scaleBySchedule: schedule must be a function of the step, got ${describeValue(schedule)}.`);
  return scheduled('scaleBySchedule', schedule, false);
}

function scheduled(op: string, schedule: Schedule, isLearningRate: boolean, sign = 1): GradientTransformation<{ count: number }> {
  return {
    init: () => ({ count: 0 }),
    update: (updates, state) => {
      const count = stepCount(op, state);
      const v = schedule(count);
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`${op}: the schedule returned ${describeValue(v)} at step ${count}; it must return a finite number.`);
      if (isLearningRate && v < 0) throw new ConfigError(`${op}: the learning-rate schedule returned ${v} at step ${count}; learning rates must be >= 0.`);
      return [zipMap(op, ['updates'], [updates], (u) => mul(u, sign * v)), { count: count + 1 }];
    },
  };
}

/** A learning rate: a number >= 0, or a schedule (checked for >= 0 at every step). */
export function checkLearningRate(op: string, lr: unknown): ScalarOrSchedule {
  if (typeof lr === 'function') return lr as Schedule;
  return checkNumber(op, 'learningRate', lr, { min: 0 });
}

/**
 * Scales by −learningRate (descent; flipSign: false gives +learningRate). With a constant the state
 * is {}; with a schedule it is { count } and the first update uses schedule(0).
 * (optax.scale_by_learning_rate)
 */
export function scaleByLearningRate(learningRate: ScalarOrSchedule, opts?: { flipSign?: boolean }): GradientTransformation<PyTree> {
  const op = 'scaleByLearningRate';
  checkKeys(op, opts, ['flipSign']);
  const lr = checkLearningRate(op, learningRate);
  const sign = checkBoolean(op, 'flipSign', opts?.flipSign ?? true) ? -1 : 1;
  if (typeof lr === 'function') return scheduled(op, lr, true, sign) as GradientTransformation<PyTree>;
  return scale(sign * lr) as GradientTransformation<PyTree>;
}
