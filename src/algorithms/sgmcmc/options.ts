/**
 * Option checking of the SG-MCMC samplers: schedules, numeric options with defaults, the
 * preamble every build() shares (buildPreamble) and the Langevin noise scale with its check that
 * the injected variance is real.
 */
import { ConfigError } from '../../errors.js';
import { checkKnown, describeValue } from '../../validate.js';
import { checkJitOption } from '../../jit/step.js';
import type { Hyper, Schedule } from './common.js';


export function isSchedule(x: unknown): x is Schedule {
  return typeof x === 'number' || typeof x === 'function';
}

/** The value of a schedule at `step`, checked to be a finite number ≥ lower (or > lower). */
export function evalSchedule(op: string, name: string, s: Schedule, step: number, opts: { min?: number; strict?: boolean } = {}): number {
  const v = typeof s === 'function' ? s(step) : s;
  const at = typeof s === 'function' ? ` (schedule value at step ${step})` : '';
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ConfigError(`${op}: ${name} must be a finite number, got ${String(v)}${at}.`);
  }
  const min = opts.min ?? 0;
  if (opts.strict ? !(v > min) : !(v >= min)) {
    throw new ConfigError(`${op}: ${name} must be ${opts.strict ? '>' : '≥'} ${min}, got ${v}${at}.`);
  }
  return v;
}

export function checkScheduleOption(op: string, name: string, s: unknown, required = false): void {
  if (s === undefined) {
    if (required) throw new ConfigError(`${op}: option '${name}' is required (a number or a function of the step).`);
    return;
  }
  if (!isSchedule(s)) throw new ConfigError(`${op}: ${name} must be a number or a function of the step, got ${typeof s}.`);
}

/** A numeric build option: its default and bound (≥ min, default 0; > min when strict). */
export interface NumberOptionSpec {
  default: number;
  min?: number;
  strict?: boolean;
}

/** The momentum samplers' numeric options: friction α, gradient-noise estimate β, momentum scale σ. */
export const MOMENTUM_NUMBERS = {
  alpha: { default: 0.01 },
  beta: { default: 0 },
  sigma: { default: 1, strict: true },
} as const satisfies Record<string, NumberOptionSpec>;

/** What every sampler's build() starts with: its arguments checked, lr/temperature and the numeric options resolved. */
export interface BuildPreamble<N extends string> {
  lr: Schedule;
  temperature: Schedule;
  numbers: Record<N, number>;
}

/**
 * The checks every build(logPosterior, options) makes, in order: logPosterior is a function,
 * options an object (omitted options are {} so that the missing lr is named), no unknown keys,
 * lr given and temperature valid, then each numeric option (defaults filled in, bounds checked).
 */
export function buildPreamble<N extends string>(
  op: string, logPosterior: unknown, options: unknown, known: readonly string[], numbers: Record<N, NumberOptionSpec>,
): BuildPreamble<N> {
  const where = `${op}.build`;
  if (typeof logPosterior !== 'function') throw new ConfigError(`${where}: logPosterior must be a function (params, batch) => [value, aux], got ${describeValue(logPosterior)}.`);
  const o = (options ?? {}) as Record<string, unknown>;
  if (typeof o !== 'object' || Array.isArray(o)) throw new ConfigError(`${where}: options must be an object with at least lr, e.g. { lr: 1e-3 }, got ${describeValue(options)}.`);
  checkKnown(where, o, known);
  checkJitOption(where, o.jit);
  checkScheduleOption(where, 'lr', o.lr, true);
  checkScheduleOption(where, 'temperature', o.temperature);
  const out = {} as Record<N, number>;
  for (const name of Object.keys(numbers) as N[]) {
    const spec = numbers[name];
    out[name] = checkNumberOption(where, name, o[name] ?? spec.default, { ...(spec.min === undefined ? {} : { min: spec.min }), ...(spec.strict ? { strict: true } : {}) });
  }
  return { lr: o.lr as Schedule, temperature: (o.temperature ?? 1) as Schedule, numbers: out };
}

/**
 * hyper(step) of the Langevin-type samplers: ε = lr(step), T = temperature(step) and the noise
 * scale √(T ε (c − T ε β)), checked to be real (c = 2α, or 2 for SGLD, named `cName`).
 */
export function langevinHyper(op: string, lr: Schedule, temperature: Schedule, beta: number, c: number, cName: string): (step: number, where?: string) => Hyper {
  return (step, where = `${op}.update`) => {
    const e = evalSchedule(where, 'lr', lr, step);
    const T = evalSchedule(where, 'temperature', temperature, step);
    const v = T * e * (c - T * e * beta);
    checkNoiseVariance(where, v, { T, lr: e, beta, c, cName }, step);
    return { lr: e, temperature: T, noise: Math.sqrt(Math.max(0, v)) };
  };
}

export function checkNumberOption(op: string, name: string, v: unknown, opts: { min?: number; strict?: boolean } = {}): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`${op}: ${name} must be a finite number, got ${String(v)}.`);
  return evalSchedule(op, name, v, 0, opts);
}

/**
 * The injected noise variance must be ≥ 0: with variance T·ε·(c − T·ε·β) that is β ≤ c/(T·ε)
 * (c = 2α for SGHMC/SGNHT, 2 for SGLD). Otherwise the noise term would be imaginary.
 */
export function checkNoiseVariance(op: string, v: number, vals: { T: number; lr: number; beta: number; c: number; cName: string }, step: number): void {
  if (v >= -1e-12 * Math.abs(vals.T * vals.lr * vals.c)) return; // β at the bound, up to rounding: zero noise
  const bound = Number((vals.c / (vals.T * vals.lr)).toPrecision(12));
  throw new ConfigError(
    `${op}: beta = ${vals.beta} > ${vals.cName}/(T·lr) = ${bound} (T = ${vals.T}, lr = ${vals.lr}${vals.cName === '2' ? '' : `, ${vals.cName.replace('2·', '')} = ${vals.c / 2}`}, at step ${step}): ` +
      `the noise variance T·lr·(${vals.cName} − T·lr·beta) = ${v} would be negative, so the noise term would be imaginary. Lower beta, lr or the temperature.`,
  );
}
