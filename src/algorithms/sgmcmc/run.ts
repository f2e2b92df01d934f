/**
 * `run(sampler, state, { steps, key, batches, collector, onStep, onProgress, signal, progress,
 * checkpoint, resume })`: SG-MCMC over the shared run loop (src/algorithms/loop). Each step is one
 * tidy scope (the batch is produced inside it, so per-step batch tensors are freed), the key of
 * step t is foldIn(key, t) with t = state.step (a saved state resumes with the same numbers), the
 * previous state is disposed (never the one passed in), and an AbortSignal stops the loop
 * between steps. The result says why it stopped.
 */
import type { Tensor } from '../../tensor.js';
import { Tensor as TensorClass } from '../../tensor.js';
import { ConfigError } from '../../errors.js';
import { dispose, keep, tidy } from '../../memory.js';
import { flatten, unflatten, type PyTree } from '../../autodiff/tree.js';
import { take } from '../../autodiff/ops/indexing.js';
import { mean } from '../../autodiff/ops/reduce.js';
import { foldIn, permutation } from '../../random.js';
import { slice } from '../../autodiff/ops/shape.js';
import type { Collector, CollectableState } from './collect.js';
import { checkKnown, type BaseState } from './common.js';
import { run as loopRun } from '../loop/loop.js';
import type { Progress as LoopProgress, ProgressOptions } from '../loop/progress.js';
import type { StopReason } from '../loop/stop.js';
import type { Checkpoint, CheckpointOptions } from '../loop/checkpoint.js';

/** Anything with update(state, batch, key): a sampler or a parallel sampler. */
export interface Steppable<S extends BaseState> {
  readonly name: string;
  /** One step from `state` to a fresh state, with the step's aux. */
  update(state: S, batch: unknown, key?: Tensor): [S, any];
}

/** Progress of an SG-MCMC run: the loop's report plus the mean log posterior. */
export interface Progress extends LoopProgress {
  /** Mean log posterior at the last step (over chains). */
  logPosterior: number;
}

/** Options of sgmcmc.run. */
export interface RunOptions<S> {
  /** Steps to take (a resumed run counts those before its checkpoint). */
  steps: number;
  /** PRNG key; step t uses foldIn(key, t), t = state.step. */
  key?: Tensor;
  /**
   * The batch of each step: an iterator/iterable (e.g. sgmcmc.minibatches), a function of the
   * step, or a fixed value (default null). On resume, an iterator is advanced past the batches
   * already used, so pass a fresh one made as for the interrupted run.
   */
  batches?: Iterable<unknown> | Iterator<unknown> | ((step: number) => unknown);
  /** One fixed batch for every step. */
  batch?: unknown;
  /** States are offered to it after every step (see sgmcmc.collect); it is not part of a checkpoint. */
  collector?: Collector;
  /** Called after every step with the new state, aux (disposed afterwards) and the new step count. Return false to stop. */
  onStep?: (state: S, aux: unknown, step: number) => void | boolean;
  /** Called every progressEvery steps and at the end. */
  onProgress?: (p: Progress) => void;
  /** Steps between onProgress calls (default steps/20). */
  progressEvery?: number;
  /** The progress display (a bar on a terminal, lines otherwise; shown after a moment); false silences it. */
  progress?: boolean | ProgressOptions;
  /** Stops the run between steps (reason 'aborted'). */
  signal?: AbortSignal;
  /** On backends that read asynchronously, how often the log posterior is checked for NaN (default 100). */
  checkEvery?: number;
  /** Save a checkpoint (bt.tree.toJSON data) every `every` steps. */
  checkpoint?: CheckpointOptions;
  /** Carry on from a checkpoint with the same options: the result equals the uninterrupted run's. */
  resume?: Checkpoint | string;
}

/** What sgmcmc.run returns. */
export interface RunResult<S> {
  state: S;
  /** Steps taken (a resumed run counts those before its checkpoint). */
  steps: number;
  /** Why it stopped: 'completed', 'aborted' or `terminated: ...` (onStep returned false). */
  reason: StopReason;
  /** reason === 'aborted'. */
  aborted: boolean;
  seconds: number;
  stepsPerSecond: number;
}

const isIterator = (x: unknown): x is Iterator<unknown> => !!x && typeof (x as Iterator<unknown>).next === 'function';

const KNOWN = ['steps', 'key', 'batches', 'batch', 'collector', 'onStep', 'onProgress', 'progressEvery', 'signal', 'checkEvery', 'progress', 'checkpoint', 'resume'];

/** Steps of a checkpoint, without restoring it (to advance a batch iterator). */
function doneOf(resume: unknown): number {
  try {
    const c = typeof resume === 'string' ? JSON.parse(resume) : resume;
    return Number.isInteger(c?.done) ? c.done : 0;
  } catch {
    return 0; // the loop reports the malformed checkpoint
  }
}

/** Runs a sampler for `steps` steps (see RunOptions); resolves with the final state and why it stopped. */
export async function run<S extends BaseState>(sampler: Steppable<S>, state: S | null, options: RunOptions<S>): Promise<RunResult<S>> {
  checkKnown('sgmcmc.run', options, KNOWN);
  const { steps } = options;
  if (!Number.isInteger(steps) || steps < 0) throw new ConfigError(`sgmcmc.run: steps must be a non-negative integer, got ${steps}.`);
  if (options.key !== undefined && !(options.key instanceof TensorClass)) throw new ConfigError('sgmcmc.run: key must be a PRNG key tensor (bt.random.key(seed)).');
  if (options.batches !== undefined && options.batch !== undefined) throw new ConfigError('sgmcmc.run: give batches or batch, not both.');
  if (options.checkEvery !== undefined && (!Number.isInteger(options.checkEvery) || options.checkEvery < 1)) throw new ConfigError(`sgmcmc.run: checkEvery must be a positive integer, got ${options.checkEvery}.`);
  if (state === null && options.resume === undefined) throw new ConfigError('sgmcmc.run: no state: pass sampler.init(...) (or null with resume).');
  let nextBatch: (step: number) => unknown;
  let skip = options.resume === undefined ? 0 : doneOf(options.resume);
  const b = options.batches;
  if (b === undefined) nextBatch = () => options.batch ?? null;
  else if (typeof b === 'function') nextBatch = b as (s: number) => unknown;
  else {
    const it = isIterator(b) ? b : typeof (b as Iterable<unknown>)[Symbol.iterator] === 'function' ? (b as Iterable<unknown>)[Symbol.iterator]() : null;
    if (!it) throw new ConfigError('sgmcmc.run: batches must be an iterable, an iterator or a function of the step.');
    const pull = (step: number) => {
      const r = it.next();
      if (r.done) throw new ConfigError(`sgmcmc.run: the batches ran out at step ${step}; pass an endless iterator (sgmcmc.minibatches) or fewer steps.`);
      return r.value;
    };
    nextBatch = (step) => {
      // a resumed run: the batches the interrupted run used go by first (each in its own scope)
      for (; skip > 0; skip--) tidy(() => void pull(step));
      return pull(step);
    };
  }
  const name = `sgmcmc.run (${sampler.name})`;
  const { collector, onStep } = options;
  const syncOf = (s: S) => !!(s.logPosterior as Tensor).concrete()._backend!.readSync;
  const r = await loopRun<S, unknown>(state, {
    name,
    steps,
    start: state?.step ?? 0,
    key: options.key,
    signal: options.signal,
    progress: options.progress,
    progressEvery: options.progressEvery,
    step: (s, k) => sampler.update(s, nextBatch(s.step), k),
    values: (s) => ({ logPosterior: mean(s.logPosterior as Tensor) }),
    // the samplers check every step where reads are synchronous; elsewhere the loop tracks the first bad step
    check: state && syncOf(state) ? undefined : { value: (s) => s.logPosterior as Tensor, every: options.checkEvery ?? 100, what: 'the log posterior' },
    onStep: async (s, aux, t) => {
      if (collector) {
        if (syncOf(s)) collector.push(s as unknown as CollectableState);
        else await collector.pushAsync(s as unknown as CollectableState);
      }
      return onStep ? onStep(s, aux, t) : undefined;
    },
    onProgress: options.onProgress ? (p) => options.onProgress!({ ...p, logPosterior: p.values.logPosterior ?? NaN }) : undefined,
    checkpoint: options.checkpoint,
    resume: options.resume,
  });
  return { state: r.state, steps: r.steps, reason: r.reason, aborted: r.reason === 'aborted', seconds: r.seconds, stepsPerSecond: r.stepsPerSecond };
}

/** Disposes the tensors of a state. */
export function disposeState(state: unknown): void {
  dispose(state);
}

/** Options of minibatches: the batch size, the shuffling key, whether to drop a short last batch. */
export interface MinibatchOptions {
  batchSize: number;
  /** Shuffles each epoch with foldIn(key, epoch); without a key the order is fixed. */
  key?: Tensor;
  /** Drop the last incomplete batch of an epoch (default true: every batch has batchSize rows). */
  dropLast?: boolean;
}

/** What minibatches returns: an endless iterator of batches that can free its permutation. */
export interface MinibatchIterator extends IterableIterator<PyTree> {
  /** Frees the epoch's permutation (a later next() makes it again, so the batches are the same). */
  dispose(): void;
}

/**
 * An endless iterator of minibatches of `data` (a pytree whose leaves share a leading axis of N
 * rows), reshuffled every epoch. Each batch is made when next() is called, so inside run()'s
 * per-step tidy it is freed after its step. With a key the iterator holds the epoch's permutation
 * (one tensor): dispose() frees it (a later next() makes it again, so the batches are the same).
 */
export function minibatches(data: PyTree, options: MinibatchOptions): MinibatchIterator {
  checkKnown('sgmcmc.minibatches', options, ['batchSize', 'key', 'dropLast']);
  const [ls, def] = flatten(data);
  if (ls.length === 0) throw new ConfigError('sgmcmc.minibatches: data has no Tensor leaves.');
  ls.forEach((l, i) => {
    if (!(l instanceof TensorClass)) throw new ConfigError(`sgmcmc.minibatches: leaf ${i} of data is not a Tensor.`);
  });
  const N = (ls[0] as Tensor).shape[0];
  if (N === undefined) throw new ConfigError('sgmcmc.minibatches: data leaves need a leading row axis.');
  ls.forEach((l, i) => {
    if ((l as Tensor).shape[0] !== N) throw new ConfigError(`sgmcmc.minibatches: leaf ${i} has ${(l as Tensor).shape[0]} rows, leaf 0 has ${N}.`);
  });
  const bs = options.batchSize;
  if (!Number.isInteger(bs) || bs < 1 || bs > N) throw new ConfigError(`sgmcmc.minibatches: batchSize must be an integer in 1..${N}, got ${bs}.`);
  const dropLast = options.dropLast ?? true;
  const perEpoch = dropLast ? Math.floor(N / bs) : Math.ceil(N / bs);
  let epoch = -1;
  let perm: Tensor | null = null;
  let pos = perEpoch;
  const it: MinibatchIterator = {
    [Symbol.iterator]() {
      return it;
    },
    dispose() {
      perm?.dispose();
      perm = null;
    },
    next() {
      if (pos >= perEpoch) {
        epoch++;
        pos = 0;
        if (perm) perm.dispose();
        perm = null;
      }
      // made again after dispose(): the same permutation of this epoch
      if (options.key && !perm) perm = keep(tidy(() => permutation(foldIn(options.key!, epoch), N)));
      const start = pos * bs;
      const size = Math.min(bs, N - start);
      pos++;
      const value = perm
        ? unflatten(def, ls.map((l) => take(l as Tensor, slice(perm!, [start], [size]), 0)))
        : unflatten(def, ls.map((l) => slice(l as Tensor, [start, ...new Array((l as Tensor).ndim - 1).fill(0)], [size, ...(l as Tensor).shape.slice(1)])));
      return { value, done: false };
    },
  };
  return it;
}
