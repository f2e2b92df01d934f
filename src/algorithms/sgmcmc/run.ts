/**
 * The convenience loop: `run(sampler, state, { steps, key, batches, collector, onStep, onProgress,
 * signal })`. Each step is one tidy scope (the batch is produced inside it, so per-step batch
 * tensors are freed), the key of step t is foldIn(key, t) (a saved state resumes with the same
 * numbers), the previous state is disposed (never the one passed in), and an AbortSignal stops
 * the loop between steps.
 */
import type { Tensor } from '../../tensor.js';
import { Tensor as TensorClass } from '../../tensor.js';
import { ConfigError, NumericalError } from '../../errors.js';
import { dispose, keep, tidy } from '../../memory.js';
import { flatten, unflatten, type PyTree } from '../../autodiff/tree.js';
import { take } from '../../autodiff/ops/indexing.js';
import { foldIn, permutation } from '../../random.js';
import { slice } from '../../autodiff/ops/shape.js';
import type { Collector, CollectableState } from './collect.js';
import { checkKnown, type BaseState } from './common.js';
import { yieldToEventLoop } from '../../runtime.js';

/** Anything with update(state, batch, key): a sampler or a parallel sampler. */
export interface Steppable<S extends BaseState> {
  readonly name: string;
  update(state: S, batch: unknown, key?: Tensor): [S, any];
}

export interface Progress {
  step: number;
  done: number;
  steps: number;
  /** Mean log posterior at the last step (over chains). */
  logPosterior: number;
  stepsPerSecond: number;
  seconds: number;
}

export interface RunOptions<S> {
  /** Steps to take. */
  steps: number;
  /** PRNG key; step t uses foldIn(key, t). */
  key?: Tensor;
  /**
   * The batch of each step: an iterator/iterable (e.g. sgmcmc.minibatches), a function of the
   * step, or a fixed value (default null).
   */
  batches?: Iterable<unknown> | Iterator<unknown> | ((step: number) => unknown);
  batch?: unknown;
  /** States are offered to it after every step (see sgmcmc.collect). */
  collector?: Collector;
  /** Called after every step with the new state and aux (aux is disposed afterwards). Return false to stop. */
  onStep?: (state: S, aux: unknown, step: number) => void | boolean;
  /** Called every progressEvery steps and at the end. */
  onProgress?: (p: Progress) => void;
  progressEvery?: number;
  signal?: AbortSignal;
  /** On backends that read asynchronously, how often the log posterior is checked for NaN (default 100). */
  checkEvery?: number;
}

export interface RunResult<S> {
  state: S;
  /** Steps actually taken. */
  steps: number;
  aborted: boolean;
  seconds: number;
  stepsPerSecond: number;
}

const isIterator = (x: unknown): x is Iterator<unknown> => !!x && typeof (x as Iterator<unknown>).next === 'function';

export async function run<S extends BaseState>(sampler: Steppable<S>, state: S, options: RunOptions<S>): Promise<RunResult<S>> {
  checkKnown('sgmcmc.run', options, ['steps', 'key', 'batches', 'batch', 'collector', 'onStep', 'onProgress', 'progressEvery', 'signal', 'checkEvery']);
  const { steps } = options;
  if (!Number.isInteger(steps) || steps < 0) throw new ConfigError(`sgmcmc.run: steps must be a non-negative integer, got ${steps}.`);
  if (options.key !== undefined && !(options.key instanceof TensorClass)) throw new ConfigError('sgmcmc.run: key must be a PRNG key tensor (bt.random.key(seed)).');
  if (options.batches !== undefined && options.batch !== undefined) throw new ConfigError('sgmcmc.run: give batches or batch, not both.');
  let nextBatch: (step: number) => unknown;
  const b = options.batches;
  if (b === undefined) nextBatch = () => options.batch ?? null;
  else if (typeof b === 'function') nextBatch = b as (s: number) => unknown;
  else {
    const it = isIterator(b) ? b : typeof (b as Iterable<unknown>)[Symbol.iterator] === 'function' ? (b as Iterable<unknown>)[Symbol.iterator]() : null;
    if (!it) throw new ConfigError('sgmcmc.run: batches must be an iterable, an iterator or a function of the step.');
    nextBatch = (step) => {
      const r = it.next();
      if (r.done) throw new ConfigError(`sgmcmc.run: the batches ran out at step ${step}; pass an endless iterator (sgmcmc.minibatches) or fewer steps.`);
      return r.value;
    };
  }
  const progressEvery = options.progressEvery ?? Math.max(1, Math.floor(steps / 20));
  const checkEvery = options.checkEvery ?? 100;
  const sync = !!(state.logPosterior as Tensor).concrete()._backend!.readSync;
  const t0 = performance.now();
  let lastYield = t0;
  let cur = state;
  let done = 0;
  let aborted = false;
  const readLp = async (s: S) => {
    const v = await (s.logPosterior as Tensor).data();
    let m = 0;
    for (const x of v) m += x;
    return m / v.length;
  };
  const report = async () => {
    if (!options.onProgress) return;
    const seconds = (performance.now() - t0) / 1000;
    options.onProgress({ step: cur.step, done, steps, logPosterior: await readLp(cur), stepsPerSecond: done / Math.max(seconds, 1e-9), seconds });
  };
  for (let i = 0; i < steps; i++) {
    if (options.signal?.aborted) {
      aborted = true;
      break;
    }
    const prev = cur;
    const [next, aux] = tidy(() => {
      const batch = nextBatch(prev.step);
      const k = options.key ? foldIn(options.key, prev.step) : undefined;
      return sampler.update(prev, batch, k);
    });
    cur = next;
    done++;
    if (prev !== state) disposeState(prev);
    let stop = false;
    try {
      if (options.collector) {
        if (sync) options.collector.push(cur as unknown as CollectableState);
        else await options.collector.pushAsync(cur as unknown as CollectableState);
      }
      if (options.onStep && options.onStep(cur, aux, cur.step) === false) stop = true;
    } finally {
      dispose(aux);
    }
    if (!sync && done % checkEvery === 0) {
      const v = await (cur.logPosterior as Tensor).data();
      if (Array.from(v).some((x) => !Number.isFinite(x))) {
        throw new NumericalError(`sgmcmc.run (${sampler.name}): the log posterior is not finite at step ${cur.step - 1} (checked every ${checkEvery} steps on this backend).`);
      }
    }
    if (done % progressEvery === 0) await report();
    if (stop) break;
    const now = performance.now();
    if (now - lastYield > 50) {
      // let timers and abort events run
      await yieldToEventLoop();
      lastYield = performance.now();
    }
  }
  if (done % progressEvery !== 0) await report();
  const seconds = (performance.now() - t0) / 1000;
  return { state: cur, steps: done, aborted, seconds, stepsPerSecond: done / Math.max(seconds, 1e-9) };
}

/** Disposes the tensors of a state. */
export function disposeState(state: unknown): void {
  dispose(state);
}

export interface MinibatchOptions {
  batchSize: number;
  /** Shuffles each epoch with foldIn(key, epoch); without a key the order is fixed. */
  key?: Tensor;
  /** Drop the last incomplete batch of an epoch (default true: every batch has batchSize rows). */
  dropLast?: boolean;
}

/**
 * An endless iterator of minibatches of `data` (a pytree whose leaves share a leading axis of N
 * rows), reshuffled every epoch. Each batch is made when next() is called, so inside run()'s
 * per-step tidy it is freed after its step.
 */
export function minibatches(data: PyTree, options: MinibatchOptions): IterableIterator<PyTree> {
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
  const it: IterableIterator<PyTree> = {
    [Symbol.iterator]() {
      return it;
    },
    next() {
      if (pos >= perEpoch) {
        epoch++;
        pos = 0;
        if (perm) perm.dispose();
        perm = options.key ? keep(tidy(() => permutation(foldIn(options.key!, epoch), N))) : null;
      }
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
