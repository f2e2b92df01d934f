import type { Schedule } from './types.js';
import { checkBoolean, checkNumber, requireOptions } from '../validate.js';
import { ConfigError } from '../errors.js';

/**
 * Learning-rate schedules with optax's formulas. A schedule is a plain host function of the step
 * count (the number of updates already applied: 0 on the first update). Options that optax
 * accepts with a warning and then ignores (non-positive transition steps) are errors here.
 */

function checkStep(op: string, step: number): void {
  if (typeof step !== 'number' || Number.isNaN(step)) throw new ConfigError(`${op}: the step must be a number, got ${String(step)}.`);
}

/** A schedule that always returns `value`. */
export function constantSchedule(value: number): Schedule {
  checkNumber('constantSchedule', 'value', value);
  return (step) => (checkStep('constantSchedule', step), value);
}

/** Options of `exponentialDecay` (optax names). */
export interface ExponentialDecayOptions {
  initValue: number;
  transitionSteps: number;
  decayRate: number;
  /** decay in discrete jumps every transitionSteps (floor of the exponent); default false */
  staircase?: boolean;
  /** the schedule stays at initValue for the first transitionBegin steps; default 0 */
  transitionBegin?: number;
  /** a floor (decayRate < 1) or ceiling (decayRate > 1) on the value */
  endValue?: number;
}

/** initValue · decayRate^((step − transitionBegin)/transitionSteps), floored if staircase. */
export function exponentialDecay(opts: ExponentialDecayOptions): Schedule {
  const op = 'exponentialDecay';
  requireOptions(op, opts, ['initValue', 'transitionSteps', 'decayRate', 'staircase', 'transitionBegin', 'endValue']);
  const init = checkNumber(op, 'initValue', opts?.initValue);
  const steps = checkNumber(op, 'transitionSteps', opts.transitionSteps, { above: 0 });
  const rate = checkNumber(op, 'decayRate', opts.decayRate, { above: 0 });
  const staircase = checkBoolean(op, 'staircase', opts.staircase ?? false);
  const begin = checkNumber(op, 'transitionBegin', opts.transitionBegin ?? 0, { min: 0, integer: true });
  const end = opts.endValue === undefined ? undefined : checkNumber(op, 'endValue', opts.endValue);
  return (step) => {
    checkStep(op, step);
    const count = step - begin;
    let p = count / steps;
    if (staircase) p = Math.floor(p);
    let v = count <= 0 ? init : init * rate ** p;
    if (end !== undefined) v = rate < 1 ? Math.max(v, end) : Math.min(v, end);
    return v;
  };
}

/** Options of `cosineDecaySchedule` (optax names). */
export interface CosineDecayOptions {
  initValue: number;
  decaySteps: number;
  /** the final value as a fraction of initValue; default 0 */
  alpha?: number;
  /** power of the cosine factor; default 1 */
  exponent?: number;
}

/** initValue · ((1 − α)·(½(1 + cos(π·min(step, T)/T)))^exponent + α). */
export function cosineDecaySchedule(opts: CosineDecayOptions): Schedule {
  const op = 'cosineDecaySchedule';
  requireOptions(op, opts, ['initValue', 'decaySteps', 'alpha', 'exponent']);
  const init = checkNumber(op, 'initValue', opts?.initValue);
  const T = checkNumber(op, 'decaySteps', opts.decaySteps, { above: 0 });
  const alpha = checkNumber(op, 'alpha', opts.alpha ?? 0);
  const exponent = checkNumber(op, 'exponent', opts.exponent ?? 1);
  return (step) => {
    checkStep(op, step);
    const c = Math.min(Math.max(step, 0), T);
    const cosine = 0.5 * (1 + Math.cos((Math.PI * c) / T));
    return init * ((1 - alpha) * cosine ** exponent + alpha);
  };
}

/** Options of `polynomialSchedule` (optax names). */
export interface PolynomialOptions {
  initValue: number;
  endValue: number;
  power: number;
  transitionSteps: number;
  /** constant initValue for the first transitionBegin steps; default 0 */
  transitionBegin?: number;
}

/** (init − end)·(1 − clip(step − begin, 0, T)/T)^power + end. */
export function polynomialSchedule(opts: PolynomialOptions): Schedule {
  return polynomial('polynomialSchedule', opts, ['initValue', 'endValue', 'power', 'transitionSteps', 'transitionBegin']);
}

/** Options of `linearSchedule`: those of `polynomialSchedule` without the power. */
export type LinearOptions = Omit<PolynomialOptions, 'power'>;

/** Linear interpolation from initValue to endValue over transitionSteps (polynomial, power 1). */
export function linearSchedule(opts: LinearOptions): Schedule {
  requireOptions('linearSchedule', opts, ['initValue', 'endValue', 'transitionSteps', 'transitionBegin']);
  return polynomial('linearSchedule', { ...opts, power: 1 }, ['initValue', 'endValue', 'transitionSteps', 'transitionBegin', 'power']);
}

function polynomial(op: string, opts: PolynomialOptions, known: string[]): Schedule {
  requireOptions(op, opts, known);
  const init = checkNumber(op, 'initValue', opts?.initValue);
  const end = checkNumber(op, 'endValue', opts.endValue);
  const power = checkNumber(op, 'power', opts.power);
  const T = checkNumber(op, 'transitionSteps', opts.transitionSteps, { above: 0 });
  const begin = checkNumber(op, 'transitionBegin', opts.transitionBegin ?? 0, { min: 0, integer: true });
  return (step) => {
    checkStep(op, step);
    const c = Math.min(Math.max(step - begin, 0), T);
    return (init - end) * (1 - c / T) ** power + end;
  };
}

/**
 * Piecewise schedule: schedules[i] runs on [boundaries[i−1], boundaries[i]) and sees the step
 * counted from the start of its piece (optax.join_schedules).
 */
export function joinSchedules(schedules: readonly Schedule[], boundaries: readonly number[]): Schedule {
  const op = 'joinSchedules';
  if (!Array.isArray(schedules) || schedules.length === 0 || schedules.some((s) => typeof s !== 'function')) {
    throw new ConfigError(`${op}: schedules must be a non-empty array of functions.`);
  }
  if (!Array.isArray(boundaries) || boundaries.length !== schedules.length - 1) {
    throw new ConfigError(`${op}: ${schedules.length} schedules need ${schedules.length - 1} boundaries, got ${Array.isArray(boundaries) ? boundaries.length : String(boundaries)}.`);
  }
  boundaries.forEach((b, i) => {
    checkNumber(op, `boundaries[${i}]`, b, { min: i ? boundaries[i - 1]! : 0 });
  });
  return (step) => {
    checkStep(op, step);
    let i = 0;
    while (i < boundaries.length && step >= boundaries[i]!) i++;
    return schedules[i]!(step - (i ? boundaries[i - 1]! : 0));
  };
}

/** Options of `warmupCosineDecaySchedule` (optax names). */
export interface WarmupCosineOptions {
  initValue: number;
  peakValue: number;
  warmupSteps: number;
  /** total length of the schedule, warmup included */
  decaySteps: number;
  /** default 0 */
  endValue?: number;
  /** default 1 */
  exponent?: number;
}

/** Linear warmup initValue → peakValue over warmupSteps, then cosine decay to endValue at decaySteps. */
export function warmupCosineDecaySchedule(opts: WarmupCosineOptions): Schedule {
  const op = 'warmupCosineDecaySchedule';
  requireOptions(op, opts, ['initValue', 'peakValue', 'warmupSteps', 'decaySteps', 'endValue', 'exponent']);
  const init = checkNumber(op, 'initValue', opts?.initValue);
  const peak = checkNumber(op, 'peakValue', opts.peakValue);
  const warm = checkNumber(op, 'warmupSteps', opts.warmupSteps, { min: 0, integer: true });
  const decay = checkNumber(op, 'decaySteps', opts.decaySteps, { above: warm });
  const end = checkNumber(op, 'endValue', opts.endValue ?? 0);
  const exponent = checkNumber(op, 'exponent', opts.exponent ?? 1);
  const alpha = peak === 0 ? 0 : end / peak;
  // a zero-length warmup is never consulted (its boundary is 0), so any positive length will do
  const warmup = linearSchedule({ initValue: init, endValue: peak, transitionSteps: Math.max(warm, 1) });
  const cosine = cosineDecaySchedule({ initValue: peak, decaySteps: decay - warm, alpha, exponent });
  return joinSchedules([warmup, cosine], [warm]);
}
