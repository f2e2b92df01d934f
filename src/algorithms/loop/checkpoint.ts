/**
 * Checkpoints of a run: everything a later call needs to carry on as if never interrupted — the
 * state, the step counter, the steps taken, the key, the early-stopping counters and the best
 * state — as plain JSON-compatible data (bt.tree.toJSON underneath).
 */
import type { Tensor } from '../../tensor.js';
import { dispose } from '../../memory.js';
import { ConfigError } from '../../errors.js';
import { fromJSON, toJSON, type TreeJSON } from '../../tree-json.js';
import type { StopCounters } from './stop.js';

/** The `format` of a loop checkpoint. */
export const CHECKPOINT_FORMAT = 'bayestape.loop';
/** The checkpoint version this code writes and reads. */
export const CHECKPOINT_VERSION = 1;

/** A saved run: JSON.stringify it as it is; pass it (or its parsed text) back as `resume`. */
export interface Checkpoint {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  /** The run's name (a resume under another name is refused). */
  name: string;
  /** The step counter of the next step. */
  step: number;
  /** Steps taken so far in this run. */
  done: number;
  /** Steps the run was asked for. */
  steps: number;
  /** The state after `done` steps. */
  state: TreeJSON;
  /** The run's PRNG key (null when it had none). */
  key: TreeJSON | null;
  /** Early-stopping counters (null without early stopping). */
  stop: StopCounters | null;
  /** The best state so far (earlyStopping.keepBest), or null. */
  best: TreeJSON | null;
  /** Seconds spent before this checkpoint, over all calls. */
  seconds: number;
}

/** How often to save and where: `save` gets a JSON-able Checkpoint every `every` steps (awaited). */
export interface CheckpointOptions {
  /** Save every this many steps (a positive integer). */
  every: number;
  /** Receives each checkpoint; the run awaits it before the next step. */
  save: (checkpoint: Checkpoint) => void | Promise<void>;
}

/** Checks the checkpoint option. */
export function checkCheckpointOption(op: string, c: unknown): void {
  if (c === undefined) return;
  if (c === null || typeof c !== 'object') throw new ConfigError(`${op}: checkpoint must be an object { every, save }.`);
  for (const k of Object.keys(c)) if (k !== 'every' && k !== 'save') throw new ConfigError(`${op}: unknown checkpoint option '${k}' (known: every, save).`);
  const { every, save } = c as CheckpointOptions;
  if (!Number.isInteger(every) || every < 1) throw new ConfigError(`${op}: checkpoint.every must be a positive integer (steps), got ${String(every)}.`);
  if (typeof save !== 'function') throw new ConfigError(`${op}: checkpoint.save must be a function (checkpoint) => void | Promise<void>.`);
}

/** Builds a checkpoint (reads the state: async on WebGPU). */
export async function makeCheckpoint(
  name: string, step: number, done: number, steps: number, state: unknown, key: Tensor | undefined, stop: StopCounters | null, best: unknown, seconds: number,
): Promise<Checkpoint> {
  const [s, k, b] = await Promise.all([toJSON(state), key ? toJSON(key) : null, best === undefined ? null : toJSON(best)]);
  return { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, name, step, done, steps, state: s, key: k, stop: stop ? { ...stop } : null, best: b, seconds };
}

/** A checkpoint read back: its fields checked, its trees made into tensors on `backend`. */
export interface Restored {
  step: number;
  done: number;
  state: unknown;
  key: Tensor | null;
  stop: StopCounters | null;
  best: unknown;
  seconds: number;
}

/** Reads a checkpoint (the object or its JSON text); ConfigError naming what is wrong. */
export function readCheckpoint(op: string, name: string, cp: unknown, backend?: string): Restored {
  let c = cp;
  if (typeof c === 'string') {
    try {
      c = JSON.parse(c);
    } catch (e) {
      throw new ConfigError(`${op}: resume is a string but not JSON: ${(e as Error).message}`);
    }
  }
  if (c === null || typeof c !== 'object') throw new ConfigError(`${op}: resume must be a checkpoint (what checkpoint.save received), got ${c === null ? 'null' : typeof c}.`);
  const o = c as Record<string, any>;
  if (o.format !== CHECKPOINT_FORMAT) throw new ConfigError(`${op}: resume has format ${JSON.stringify(o.format)}, expected '${CHECKPOINT_FORMAT}' (what checkpoint.save received).`);
  if (o.version !== CHECKPOINT_VERSION) throw new ConfigError(`${op}: checkpoint version ${JSON.stringify(o.version)} is not readable here (this bayestape reads version ${CHECKPOINT_VERSION}).`);
  if (o.name !== name) throw new ConfigError(`${op}: the checkpoint is of '${o.name}', not '${name}'; resume a run with the algorithm that saved it.`);
  for (const f of ['step', 'done', 'steps'] as const) {
    if (!Number.isInteger(o[f]) || o[f] < 0) throw new ConfigError(`${op}: checkpoint.${f} must be a non-negative integer, got ${JSON.stringify(o[f])}.`);
  }
  const stop = o.stop;
  if (stop !== null && (typeof stop !== 'object' || !(stop.best === null || typeof stop.best === 'number') || !Number.isInteger(stop.bestStep) || !Number.isInteger(stop.wait))) {
    throw new ConfigError(`${op}: checkpoint.stop must be null or { best, bestStep, wait }.`);
  }
  const opts = backend === undefined ? {} : { backend };
  // a bad tree further on must not leave the ones already made behind
  const made: unknown[] = [];
  const make = (tree: unknown) => {
    const r = fromJSON(tree as TreeJSON, opts);
    made.push(r);
    return r;
  };
  let state: unknown, key: Tensor | null, best: unknown;
  try {
    state = make(o.state);
    key = o.key === null || o.key === undefined ? null : (make(o.key) as Tensor);
    best = o.best === null || o.best === undefined ? undefined : make(o.best);
  } catch (e) {
    dispose(made);
    throw e;
  }
  return { step: o.step, done: o.done, state, key, stop: stop ? { best: stop.best, bestStep: stop.bestStep, wait: stop.wait } : null, best, seconds: typeof o.seconds === 'number' ? o.seconds : 0 };
}
