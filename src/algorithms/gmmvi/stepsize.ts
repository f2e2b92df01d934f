/**
 * Stepsize adaptation (§5.1, §5.3 of the notes). Component stepsizes ('fixed' F, 'decaying' D,
 * 'improvement-based' R) act on the wrapper's per-component ε; the weight stepsize ('fixed' X,
 * 'decaying' G, 'improvement_based' N) is one number with a little state of its own. Configs use
 * gmmvi's snake_case keys, strictly: unknown or missing keys are ConfigErrors. Both spellings
 * "improvement-based" and "improvement_based" are accepted for either adapter.
 */
import type { Tensor } from '../../tensor.js';
import { ConfigError } from '../../errors.js';
import { tidy } from '../../memory.js';
import { add, div, greaterEqual, maximum, minimum, mul, pow, where } from '../../autodiff/ops/elementwise.js';
import { slice, reshape } from '../../autodiff/ops/shape.js';
import { full } from '../../autodiff/ops/creation.js';
import { numComponents } from './gmm.js';
import { FLOAT32_MIN, type GmmWrapperState } from './wrapper.js';

/** Component stepsize adapter types (F, D, R). */
export type ComponentStepsizeType = 'fixed' | 'decaying' | 'improvement-based';
/** Weight stepsize adapter types (X, G, N). */
export type WeightStepsizeType = 'fixed' | 'decaying' | 'improvement_based';

/** A parsed stepsize config (gmmvi's keys, camelCased; only the type's own keys are set). */
export interface StepsizeConfig {
  initialStepsize: number;
  annealingExponent?: number;
  minStepsize?: number;
  maxStepsize?: number;
  stepsizeIncFactor?: number;
  stepsizeDecFactor?: number;
}

const KEYS: Record<'fixed' | 'decaying' | 'improvement', string[]> = {
  fixed: ['initial_stepsize'],
  decaying: ['initial_stepsize', 'annealing_exponent'],
  improvement: ['initial_stepsize', 'min_stepsize', 'max_stepsize', 'stepsize_inc_factor', 'stepsize_dec_factor'],
};

/** The kind behind a type string ('improvement-based' and 'improvement_based' are the same). */
function kind(op: string, type: string): 'fixed' | 'decaying' | 'improvement' {
  if (type === 'fixed' || type === 'decaying') return type;
  if (type === 'improvement-based' || type === 'improvement_based') return 'improvement';
  throw new ConfigError(`${op}: unknown stepsize adapter type '${String(type)}' (known: fixed, decaying, improvement-based / improvement_based).`);
}

/** Checks a snake_case stepsize config for `type` (strict keys, finite numbers) and camelCases it. */
export function parseStepsizeConfig(op: string, type: string, config: Record<string, unknown>): StepsizeConfig {
  const keys = KEYS[kind(op, type)];
  if (config === null || typeof config !== 'object') throw new ConfigError(`${op}: the config must be an object with ${keys.join(', ')}.`);
  for (const key of Object.keys(config)) if (!keys.includes(key)) throw new ConfigError(`${op}: unknown key '${key}' for the '${type}' adapter (known: ${keys.join(', ')}).`);
  const out: Record<string, number> = {};
  for (const key of keys) {
    const v = config[key];
    if (v === undefined) throw new ConfigError(`${op}: '${key}' is missing for the '${type}' adapter.`);
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`${op}: '${key}' must be a finite number, got ${JSON.stringify(v)}${v === 'TODO' ? ' (gmmvi\'s decaying weight-stepsize yml leaves it as TODO: give it)' : ''}.`);
    out[key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())] = v;
  }
  return out as unknown as StepsizeConfig;
}

/**
 * New component stepsizes [K] before this iteration's update:
 * fixed ε₀; decaying ε₀ / (1 + n_oᵃ) (n_o = updates received so far); improvement-based: ×dec
 * (floored at min) if the last reward did not improve on the one before (r[−2] ≥ r[−1]), else ×inc
 * (capped at max). A fresh component compares float32.min with itself and so decreases once.
 */
export function adaptComponentStepsizes(type: ComponentStepsizeType, s: GmmWrapperState, config: StepsizeConfig): Tensor {
  const k = numComponents(s.model);
  const dt = s.stepsizes.dtype;
  const c = config;
  switch (kind('gmmvi.adaptComponentStepsizes', type)) {
    case 'fixed':
      return full([k], c.initialStepsize, dt);
    case 'decaying':
      return tidy(() => div(full([k], c.initialStepsize, dt), add(pow(s.numReceivedUpdates, c.annealingExponent!), 1)));
    default:
      return tidy(() => {
        const L = s.maxRewardHistoryLength;
        if (L < 2) throw new ConfigError('gmmvi.adaptComponentStepsizes: improvement-based needs a reward history of length ≥ 2.');
        const prev = reshape(slice(s.rewardHistory, [0, L - 2], [k, 1]), [k]);
        const last = reshape(slice(s.rewardHistory, [0, L - 1], [k, 1]), [k]);
        const dec = maximum(mul(s.stepsizes, c.stepsizeDecFactor!), c.minStepsize!);
        const inc = minimum(mul(s.stepsizes, c.stepsizeIncFactor!), c.maxStepsize!);
        return where(greaterEqual(prev, last), dec, inc);
      });
  }
}

/** The weight stepsize and what its adapter remembers. */
export interface WeightStepsizeState {
  /** ε_w */
  stepsize: number;
  /** how many times the adapter has run */
  numCalls: number;
  /** improvement-based: the last Σ w r − Σ w log w (FLOAT32_MIN before the first) */
  lastElbo: number;
}

/** The adapter's state before the first iteration. */
export function initWeightStepsize(config: StepsizeConfig): WeightStepsizeState {
  return { stepsize: config.initialStepsize, numCalls: 0, lastElbo: FLOAT32_MIN };
}

async function readNumbers(t: Tensor): Promise<number[]> {
  return Array.from(await t.data(), Number);
}

/**
 * The weight stepsize for this iteration: fixed ε₀; decaying ε₀ / (1 + tᵃ) (t = earlier calls);
 * improvement-based: E = Σ_o w_o r_o − Σ_o w_o log w_o (current weights, last stored rewards), ×inc
 * (capped at max) if E rose since the last call, else ×dec (floored at min).
 */
export async function adaptWeightStepsize(type: WeightStepsizeType, state: WeightStepsizeState, s: GmmWrapperState, config: StepsizeConfig): Promise<WeightStepsizeState> {
  const t = state.numCalls;
  const c = config;
  switch (kind('gmmvi.adaptWeightStepsize', type)) {
    case 'fixed':
      return { ...state, stepsize: c.initialStepsize, numCalls: t + 1 };
    case 'decaying':
      return { ...state, stepsize: c.initialStepsize / (1 + t ** c.annealingExponent!), numCalls: t + 1 };
    default: {
      const L = s.maxRewardHistoryLength;
      const logW = await readNumbers(s.model.logWeights);
      const last = tidy(() => reshape(slice(s.rewardHistory, [0, L - 1], [logW.length, 1]), [logW.length]));
      const r = await readNumbers(last);
      last.dispose();
      const elbo = logW.reduce((acc, lw, o) => acc + Math.exp(lw) * (r[o]! - lw), 0);
      const stepsize = elbo > state.lastElbo ? Math.min(c.stepsizeIncFactor! * state.stepsize, c.maxStepsize!) : Math.max(c.stepsizeDecFactor! * state.stepsize, c.minStepsize!);
      return { stepsize, numCalls: t + 1, lastElbo: elbo };
    }
  }
}
