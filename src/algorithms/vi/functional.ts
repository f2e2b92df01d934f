/**
 * Generalised VI as pure functions over a state pytree, in the optax/posteriors style:
 *
 *   const t = bt.vi.build({ loss, prior, posteriorEstimator });
 *   let state = t.init();                                   // { params, optState, best, epoch }
 *   const [next, aux] = t.update(state, data, foldIn(key, state.epoch));
 *   const r = await bt.vi.fit(t, state, data, { epochs: 1000, key, patience: 20, signal });
 *
 * One epoch estimates the objective and its gradient at state.params (lossAndGrad), takes one
 * optimiser step, and moves `best` to state.params when this epoch's total beat best.loss — on
 * the device, so a step never waits for a read. The loss of epoch t describes the parameters
 * before its step, as blackbirds' loop does. `fit` runs epochs on the shared loop: patience is
 * the loop's early stopping, and the result says why it stopped.
 */
import { Tensor } from '../../tensor.js';
import { ConfigError, NumericalError } from '../../errors.js';
import { dispose, tidy } from '../../memory.js';
import { map as treeMap, type PyTree } from '../../autodiff/tree.js';
import { valueAndGrad } from '../../autodiff/reverse.js';
import { full } from '../../autodiff/ops/creation.js';
import { cast, isFinite, less, where } from '../../autodiff/ops/elementwise.js';
import { stack, reshape, slice } from '../../autodiff/ops/shape.js';
import { foldIn, split } from '../../random.js';
import { adam } from '../../optim/alias.js';
import { globalNorm } from '../../optim/clip.js';
import { applyUpdates } from '../../optim/apply.js';
import type { GradientTransformation } from '../../optim/types.js';
import { run as loopRun } from '../loop/loop.js';
import type { ProgressOptions } from '../loop/progress.js';
import type { StopReason } from '../loop/stop.js';
import type { Checkpoint, CheckpointOptions } from '../loop/checkpoint.js';
import { lossAndGrad, regularisation } from './objective.js';
import { checkKey, makeConfig, type BuildOptions, type VIConfig } from './config.js';
import { jitStep, type JitStep } from '../../jit/step.js';
import type { JitCacheInfo } from '../../jit/jit.js';

/** The state of a VI run: estimator parameters, optimiser state, the best parameters so far, epochs taken. */
export interface VIState {
  params: PyTree;
  optState: PyTree;
  /** The parameters with the lowest total loss so far (loss +Infinity before the first epoch). */
  best: { params: PyTree; loss: Tensor };
  /** epochs (optimiser steps) taken */
  epoch: number;
}

/** What one epoch reports (0-D tensors): the estimates at the parameters before its step. */
export interface EpochAux {
  total: Tensor;
  loss: Tensor;
  regularisation: Tensor;
  /** samples dropped for a non-finite loss or gradient */
  nDropped: Tensor;
  /** 1 when every gradient entry was finite, else 0 */
  gradFinite: Tensor;
  /** 1 when this epoch's total beat state.best.loss (best moved to these parameters), else 0 */
  improved: Tensor;
}

/** One epoch's numbers on the host. */
export interface EpochValues {
  total: number;
  loss: number;
  regularisation: number;
  nDropped: number;
  gradFinite: boolean;
  /** this epoch's total beat the best so far (strictly; minDelta only paces patience) */
  improved: boolean;
}

/** build(options) → { init, update }: VI as pure functions (see the module comment). */
export interface VITransform<D = unknown> {
  readonly config: VIConfig<D>;
  /** The initial state at `params` (default: the estimator's own parameters). */
  init(params?: PyTree): VIState;
  /** One epoch with the key of this epoch (e.g. foldIn(key, state.epoch)); `state` is neither changed nor disposed. */
  update(state: VIState, data: D, key: Tensor): [VIState, EpochAux];
  /** Whether the epoch's estimate is traced once and replayed (`jit` option), its trace count and cache. */
  jitInfo(): { jitted: boolean; retraces: number; cache: JitCacheInfo | null };
  /** Frees the compiled programs (update still works: it retraces). */
  dispose(): void;
}

/** The functional VI of these options. */
export function build<D = unknown>(options: BuildOptions<D>): VITransform<D> {
  const config = makeConfig('vi.build', options);
  const est = estimator(config, 'vi.update');
  return {
    config,
    init: (params) => init(config, params),
    update: (state, data, key) => update(config, state, data, key, est),
    jitInfo: () => ({ jitted: est.jitted, retraces: est.retraces, cache: est.cacheInfo() }),
    dispose: () => est.dispose(),
  };
}

/** What an epoch computes before the optimiser step: the gradient, the new best and the epoch's numbers. */
export interface Estimate {
  grads: PyTree;
  best: VIState['best'];
  aux: EpochAux;
}

/** An epoch's estimate as a function of the tensors it reads. */
export type EstimateFn<D = unknown> = (params: PyTree, best: VIState['best'], data: D, key: Tensor) => Estimate;

/**
 * The epoch's estimate (losses, gradient, finiteness, best-so-far) at `params`: pure in its
 * arguments, so it can be jitted. The optimiser step is left out: its state holds host counters
 * (Adam's step count feeds host-side bias corrections), which a trace would freeze.
 */
export function estimate<D>(config: VIConfig<D>, params: PyTree, best: VIState['best'], data: D, key: Tensor): Estimate {
  const r = lossAndGrad(config.spec, params, data, key);
  const gradFinite = cast(isFinite(globalNorm(r.grads)), r.total.dtype);
  const improved = less(r.total, best.loss); // NaN never improves
  const newBest = {
    params: treeMap((a: unknown, b: unknown) => (a instanceof Tensor ? where(improved, a, b as Tensor) : a), params, best.params),
    loss: where(improved, r.total, best.loss),
  };
  const aux: EpochAux = { total: r.total, loss: r.loss, regularisation: r.regularisation, nDropped: cast(r.nDropped, r.total.dtype), gradFinite, improved: cast(improved, r.total.dtype) };
  return { grads: r.grads, best: newBest, aux };
}

/** `estimate` with the config's jit option applied (see src/jit/step.ts); `op` names it in the fallback warning. */
export function estimator<D>(config: VIConfig<D>, op: string): JitStep<EstimateFn<D>> {
  return jitStep(op, (params: PyTree, best: VIState['best'], data: D, key: Tensor) => estimate(config, params, best, data, key), config.jit);
}

/** The initial state: params (default the estimator's), a fresh optimiser state, best = params at loss +Infinity. */
export function init<D>(config: VIConfig<D>, params?: PyTree): VIState {
  const p = params ?? config.spec.posteriorEstimator.params();
  return tidy(() => {
    const { dtype } = firstTensor(p);
    return { params: p, optState: config.optimizer.init(p), best: { params: p, loss: full([], Infinity, dtype) }, epoch: 0 };
  });
}

function firstTensor(p: PyTree): Tensor {
  let found: Tensor | null = null;
  treeMap((l: unknown) => {
    if (!found && l instanceof Tensor) found = l;
    return l;
  }, p);
  if (!found) throw new ConfigError('vi: the estimator has no Tensor parameters to train.');
  return found;
}

/**
 * One epoch (pure): the new state and this epoch's estimates. `est` computes the estimate (by
 * default eagerly; build() and the VI class pass their jitted one), then the optimiser steps.
 */
export function update<D>(config: VIConfig<D>, state: VIState, data: D, key: Tensor, est?: EstimateFn<D>): [VIState, EpochAux] {
  if (!state || typeof state !== 'object' || !state.best || !Number.isInteger(state.epoch)) {
    throw new ConfigError('vi.update: state must be what vi init()/update() returned ({ params, optState, best, epoch }).');
  }
  return tidy(() => {
    const { grads, best, aux } = est ? est(state.params, state.best, data, key) : estimate(config, state.params, state.best, data, key);
    const [updates, optState] = config.optimizer.update(grads, state.optState, state.params);
    const params = applyUpdates(state.params, updates);
    return [{ params, optState, best, epoch: state.epoch + 1 }, aux];
  });
}

const cache = new WeakMap<EpochAux, Promise<EpochValues>>();

/** The epoch's numbers on the host, in one read (memoised per aux). */
export function readEpoch(aux: EpochAux): Promise<EpochValues> {
  let p = cache.get(aux);
  if (!p) {
    const s = tidy(() => stack([aux.total, aux.loss, aux.regularisation, aux.nDropped, aux.gradFinite, aux.improved].map((t) => cast(t, aux.total.dtype)), 0));
    p = s.data().then((v) => {
      s.dispose();
      return { total: v[0]!, loss: v[1]!, regularisation: v[2]!, nDropped: v[3]!, gradFinite: v[4]! === 1, improved: v[5]! === 1 };
    });
    cache.set(aux, p);
  }
  return p;
}

/** NumericalError when every sample was dropped or the gradient is not finite at `epoch`. */
export function checkEpoch(config: VIConfig<any>, v: EpochValues, epoch: number): void {
  if (v.nDropped === config.spec.nSamplesPerEpoch) {
    throw new NumericalError(`vi: at epoch ${epoch} every one of the ${v.nDropped} samples gave a non-finite loss or gradient; check the simulator and the estimator's support.`);
  }
  if (!v.gradFinite) throw new NumericalError(`vi: the gradient is non-finite at epoch ${epoch} (loss ${v.loss}, regularisation ${v.regularisation}); the state was not updated.`);
}

/** Options of vi.fit. */
export interface FitOptions {
  /** Epochs to run in all (a resumed run counts those before its checkpoint). */
  epochs: number;
  /** PRNG key; epoch t uses foldIn(key, t). */
  key: Tensor;
  /** Stop after this many epochs without a lower total loss (default Infinity: never). */
  patience?: number;
  /** An improvement must beat the best total by more than this (default 0). */
  minDelta?: number;
  /** Stops between epochs (reason 'aborted'). */
  signal?: AbortSignal;
  /** The progress display (default: a bar on a terminal, lines otherwise, after a moment); false silences it. */
  progress?: boolean | ProgressOptions;
  /** After every epoch, with its numbers (of the parameters before its step); false stops the run. */
  onEpoch?: (epoch: number, values: EpochValues, state: VIState) => void | boolean;
  /** Save a checkpoint every `every` epochs. */
  checkpoint?: CheckpointOptions;
  /** Carry on from a checkpoint: the result equals the uninterrupted run's. */
  resume?: Checkpoint | string;
}

/** What vi.fit returns. */
export interface FitResult {
  /** The final state (the caller owns it). */
  state: VIState;
  /** Why it stopped: 'completed', 'aborted', 'earlyStopped' or `terminated: ...`. */
  reason: StopReason;
  /** Epochs taken in all. */
  epochs: number;
  /** The lowest total loss seen: state.best.loss, the loss of state.best.params (minDelta only paces patience). */
  bestLoss: number;
  /** The epoch of bestLoss (-1 before any finite loss). */
  bestEpoch: number;
  /** This call's epochs' numbers. */
  history: { total: number[]; loss: number[]; regularisation: number[]; nDropped: number[] };
  seconds: number;
  epochsPerSecond: number;
}

const FIT_KEYS = ['epochs', 'key', 'patience', 'minDelta', 'signal', 'progress', 'onEpoch', 'checkpoint', 'resume'];

/** Runs epochs on the shared loop (early stopping on the total loss, progress, abort, checkpoints). */
export async function fit<D>(t: VITransform<D>, state: VIState | null, data: D, options: FitOptions): Promise<FitResult> {
  if (!options || typeof options !== 'object') throw new ConfigError('vi.fit: expected options { epochs, key, ... }.');
  for (const k of Object.keys(options)) if (!FIT_KEYS.includes(k)) throw new ConfigError(`vi.fit: unknown option '${k}' (known: ${FIT_KEYS.join(', ')}).`);
  if (!(options.key instanceof Tensor)) throw new ConfigError('vi.fit: key is required: a PRNG key (bt.random.key(seed)).');
  checkKey('vi.fit', options.key);
  if (options.onEpoch !== undefined && typeof options.onEpoch !== 'function') throw new ConfigError('vi.fit: onEpoch must be a function (epoch, values, state) => void | boolean.');
  const history = { total: [] as number[], loss: [] as number[], regularisation: [] as number[], nDropped: [] as number[] };
  // the strict best, as update() keeps it on the device; the loop's best moves only by more than minDelta
  let strictBestEpoch: number | null = null;
  const r = await loopRun<VIState, EpochAux>(state, {
    name: 'vi.fit',
    unit: 'epoch',
    steps: options.epochs,
    start: state?.epoch ?? 0,
    key: options.key,
    signal: options.signal,
    progress: options.progress,
    step: (s, k) => t.update(s, data, k!),
    earlyStopping: { monitor: (aux) => readEpoch(aux).then((v) => v.total), patience: options.patience ?? Infinity, minDelta: options.minDelta },
    values: (_s, aux) => ({ loss: aux.total }),
    onStep: async (s, aux, epochAfter) => {
      const v = await readEpoch(aux);
      checkEpoch(t.config, v, epochAfter - 1);
      history.total.push(v.total);
      history.loss.push(v.loss);
      history.regularisation.push(v.regularisation);
      history.nDropped.push(v.nDropped);
      if (v.improved) strictBestEpoch = epochAfter - 1;
      return options.onEpoch ? options.onEpoch(epochAfter - 1, v, s) : undefined;
    },
    checkpoint: options.checkpoint,
    resume: options.resume,
  });
  return {
    state: r.state, reason: r.reason, epochs: r.steps,
    // without a strict improvement in this call (a resumed run) the best is the checkpoint's: the
    // loop's counters name its epoch (exactly when minDelta = 0)
    bestLoss: (await r.state.best.loss.data())[0]!, bestEpoch: strictBestEpoch ?? r.best?.step ?? -1, history,
    seconds: r.seconds, epochsPerSecond: r.stepsPerSecond,
  };
}

/** Options of fitToPrior (blackbirds' initialize_estimator_to_prior). */
export interface FitToPriorOptions {
  /** Stop after this many epochs without a lower KL (default 50). */
  maxEpochsWithoutImprovement?: number;
  /** Stop once |KL| < atol (default 1e-2). */
  atol?: number;
  /** At most this many epochs (default 10000). */
  maxEpochs?: number;
  /** The key (the fit uses foldIn(key, 0x7fffffff)'s second split, as the VI class does). */
  key: Tensor;
  progress?: boolean | ProgressOptions;
  signal?: AbortSignal;
}

/**
 * Fits the estimator to the prior alone (Adam at initializationLr on the Monte Carlo KL) from
 * `params`; resolves with the fitted parameters (new tensors) and the epochs taken.
 */
export async function fitToPrior<D>(config: VIConfig<D>, params: PyTree, opts: FitToPriorOptions): Promise<{ params: PyTree; epochs: number; reason: StopReason }> {
  checkKey('vi.fitToPrior', opts.key);
  const atol = opts.atol ?? 1e-2;
  const opt: GradientTransformation<any> = adam({ learningRate: config.initializationLr });
  const { posteriorEstimator: est, prior, nSamplesRegularisation: M, stickingTheLanding } = config.spec;
  const initKey = tidy(() => reshape(slice(split(foldIn(opts.key, 0x7fffffff), 2), [1], [1]), [2]));
  type S = { params: PyTree; optState: PyTree };
  const s0: S = tidy(() => ({ params, optState: opt.init(params) }));
  try {
    const r = await loopRun<S, Tensor>(s0, {
      name: 'vi.fitToPrior',
      unit: 'epoch',
      steps: opts.maxEpochs ?? 10000,
      key: initKey,
      signal: opts.signal,
      progress: opts.progress,
      step: (s, k) => {
        const [kl, g] = valueAndGrad((p: PyTree) => regularisation(est, p, prior, M, k!, stickingTheLanding))(s.params) as [Tensor, PyTree];
        const [u, optState] = opt.update(g, s.optState, s.params);
        return [{ params: applyUpdates(s.params, u), optState }, kl];
      },
      earlyStopping: { monitor: (kl) => kl, patience: opts.maxEpochsWithoutImprovement ?? 50 },
      values: (_s, kl) => ({ kl }),
      onStep: async (_s, kl, e) => {
        const v = (await kl.data())[0]!;
        if (!Number.isFinite(v)) throw new NumericalError(`vi.initializeEstimator: the KL estimate is ${v} at epoch ${e - 1}.`);
        return Math.abs(v) < atol ? `|KL| < atol = ${atol}` : undefined;
      },
    }).catch((e: unknown) => {
      const last = (e as { state?: S }).state;
      if (last && last !== s0) dispose(last);
      throw e;
    });
    if (r.state !== s0) dispose(r.state.optState);
    return { params: r.state.params, epochs: r.steps, reason: r.reason };
  } finally {
    dispose(s0.optState);
    initKey.dispose();
  }
}
