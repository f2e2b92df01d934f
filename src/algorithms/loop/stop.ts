/**
 * Why a run stopped, and early stopping: patience counted in steps without an improvement of
 * the monitored scalar by more than minDelta (Keras' EarlyStopping), with the best value and its
 * step kept on the host. The state at the best step is kept by the driver (it owns the tensors).
 */
import { ConfigError } from '../../errors.js';

/** Why a run stopped: all steps taken, the AbortSignal fired, patience ran out, or a callback/condition ended it. */
export type StopReason = 'completed' | 'aborted' | 'earlyStopped' | `terminated: ${string}`;

/** Early stopping: the monitored scalar, how long to wait for an improvement, and whether to keep the best state. */
export interface EarlyStoppingOptions<S = unknown, A = unknown> {
  /** The scalar watched after each step: a one-element tensor (read every step), a number, or a Promise of one. */
  monitor: (aux: A, state: S) => unknown;
  /** Steps without improvement before stopping (Infinity: track the best, never stop). */
  patience: number;
  /** An improvement must beat the best by more than this (default 0). */
  minDelta?: number;
  /** 'min' (default: a loss) or 'max' (a log density). */
  mode?: 'min' | 'max';
  /** Keep the state after the best step (returned as result.best.state; default false). */
  keepBest?: boolean;
}

/** The host side of early stopping: best value, its step, steps since. JSON-able as it stands. */
export interface StopCounters {
  best: number | null;
  bestStep: number;
  wait: number;
}

/** Checked early-stopping options (ConfigError naming the bad one). */
export function checkEarlyStopping(op: string, es: EarlyStoppingOptions<any, any>): Required<EarlyStoppingOptions<any, any>> {
  if (es === null || typeof es !== 'object') throw new ConfigError(`${op}: earlyStopping must be an object { monitor, patience, minDelta, mode, keepBest }.`);
  for (const k of Object.keys(es)) {
    if (!['monitor', 'patience', 'minDelta', 'mode', 'keepBest'].includes(k)) throw new ConfigError(`${op}: unknown earlyStopping option '${k}' (known: monitor, patience, minDelta, mode, keepBest).`);
  }
  if (typeof es.monitor !== 'function') throw new ConfigError(`${op}: earlyStopping.monitor must be a function (aux, state) => scalar.`);
  if (!(typeof es.patience === 'number' && es.patience >= 1 && (Number.isInteger(es.patience) || es.patience === Infinity))) {
    throw new ConfigError(`${op}: earlyStopping.patience must be an integer ≥ 1 (Infinity for never), got ${String(es.patience)}.`);
  }
  const minDelta = es.minDelta ?? 0;
  if (typeof minDelta !== 'number' || !(minDelta >= 0) || !Number.isFinite(minDelta)) throw new ConfigError(`${op}: earlyStopping.minDelta must be a finite number ≥ 0, got ${String(minDelta)}.`);
  const mode = es.mode ?? 'min';
  if (mode !== 'min' && mode !== 'max') throw new ConfigError(`${op}: earlyStopping.mode must be 'min' or 'max', got ${JSON.stringify(mode)}.`);
  if (es.keepBest !== undefined && typeof es.keepBest !== 'boolean') throw new ConfigError(`${op}: earlyStopping.keepBest must be a boolean.`);
  return { monitor: es.monitor, patience: es.patience, minDelta, mode, keepBest: es.keepBest ?? false };
}

/**
 * Records the value of step t; returns whether it is a new best. A non-finite value never
 * improves (it counts toward patience).
 */
export function observe(c: StopCounters, value: number, t: number, minDelta: number, mode: 'min' | 'max'): boolean {
  const better = Number.isFinite(value) && (c.best === null || (mode === 'min' ? value < c.best - minDelta : value > c.best + minDelta));
  if (better) {
    c.best = value;
    c.bestStep = t;
    c.wait = 0;
  } else c.wait++;
  return better;
}

/** Fresh counters. */
export function freshCounters(): StopCounters {
  return { best: null, bestStep: -1, wait: 0 };
}
