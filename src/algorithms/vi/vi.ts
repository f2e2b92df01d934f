/**
 * `VI`: generalised variational inference for (black-box, differentiable) simulators, with
 * blackbirds' options in camelCase — a face over the pure functions of functional.ts (`init`,
 * `update`, `fitToPrior`) and the shared run loop. The class keeps what blackbirds' object keeps
 * (the current state, the loss history, the best epoch); the math lives in objective.ts and
 * functional.ts. Epoch t uses foldIn(key, t) (same key → same numbers).
 *
 *   const vi = new bt.vi.VI({ loss, prior, posteriorEstimator, w: 1 });
 *   await vi.run(data, 1000);            // early stopping on the best (noisy MC) total loss
 *   vi.bestEstimator.sample(key, [1000]);
 */
import { Tensor } from '../../tensor.js';
import { ConfigError } from '../../errors.js';
import { keep, tidy } from '../../memory.js';
import { flatten, type PyTree } from '../../autodiff/tree.js';
import { reshape } from '../../autodiff/ops/shape.js';
import { stopGradient } from '../../autodiff/ops/special.js';
import { foldIn, key as makeKey } from '../../random.js';
import type { GradientTransformation } from '../../optim/types.js';
import type { Distribution } from '../../distributions/types.js';
import { progressLine } from '../../runtime.js';
import { run as loopRun } from '../loop/loop.js';
import type { ProgressOptions } from '../loop/progress.js';
import type { StopReason } from '../loop/stop.js';
import { callLoss } from './objective.js';
import { BUILD_KEYS, checkKey, makeConfig, type BuildOptions, type VIConfig } from './config.js';
import { checkEpoch, estimator, fitToPrior, init, readEpoch, update, type EpochAux, type EpochValues, type EstimateFn, type VIState } from './functional.js';
import type { JitStep } from '../../jit/step.js';
import type { JitCacheInfo } from '../../jit/jit.js';

/** One epoch of VI.step/run, on the host. */
export interface EpochRecord {
  /** 0-based index of the epoch (= optimiser steps taken before it). */
  epoch: number;
  total: number;
  loss: number;
  regularisation: number;
  /** samples dropped for a non-finite loss or gradient this epoch */
  nDropped: number;
  /** true when this epoch's total is the best so far (its parameters are now bestParams) */
  improved: boolean;
  seconds: number;
}

/** Every epoch's estimates, in order (blackbirds' loss lists). */
export interface LossHistory {
  total: number[];
  loss: number[];
  regularisation: number[];
  nDropped: number[];
}

/** The VI class's options: the problem (BuildOptions) plus blackbirds' run settings. */
export interface VIOptions<D = unknown> extends BuildOptions<D> {
  /** fit the estimator to the prior before the first epoch (default false) */
  initializeEstimatorToPrior?: boolean;
  /** default: the run loop's display (a bar on a terminal, lines every few seconds otherwise, shown after a moment); true: one line per epoch to stderr (the console in a page); false: silent; or the loop's ProgressOptions */
  progress?: boolean | ProgressOptions;
  /** called after every epoch; return false to stop run() */
  onEpoch?: (record: EpochRecord, vi: VI<D>) => void | boolean;
  /** PRNG key (default random.key(0)); epoch t uses foldIn(key, t) */
  key?: Tensor;
}

/** What VI.run returns. */
export interface RunResult {
  epochs: number;
  /** Why the run stopped: 'completed', 'aborted', 'earlyStopped' or `terminated: ...` (onEpoch returned false). */
  reason: StopReason;
  /** Any stop before nEpochs (blackbirds' sense): reason !== 'completed'. */
  stoppedEarly: boolean;
  bestLoss: number;
  bestEpoch: number;
  seconds: number;
  epochsPerSecond: number;
}

const KNOWN: readonly string[] = [...BUILD_KEYS, 'initializeEstimatorToPrior', 'progress', 'onEpoch', 'key'];

/** blackbirds' `VI` object: options in, `run(data, nEpochs, maxEpochsWithoutImprovement)`, a loss history and the best estimator out. */
export class VI<D = unknown> {
  /** the options as given, defaults filled in */
  readonly options: Readonly<Required<Omit<VIOptions<D>, 'jacobianChunkSize' | 'onEpoch' | 'key' | 'progress' | 'jit'>> & Pick<VIOptions<D>, 'jacobianChunkSize' | 'onEpoch' | 'jit'> & { progress: boolean | ProgressOptions | undefined }>;
  /** the PRNG key of the epochs */
  readonly key: Tensor;
  /** the optimiser of the epochs (clipping chained in front when asked) */
  readonly optimizer: GradientTransformation<any>;
  /** the checked problem behind the pure functions */
  readonly config: VIConfig<D>;
  /** the functional state: estimator parameters, optimiser state, best parameters, epochs taken */
  state: VIState;
  /** each epoch's estimates, in order */
  lossHistory: LossHistory = { total: [], loss: [], regularisation: [], nDropped: [] };
  /** the lowest total loss so far */
  bestLoss = Infinity;
  /** the epoch of bestLoss (-1 before the first) */
  bestEpoch = -1;
  /** epochs used by the fit-to-prior phase (0 if it did not run) */
  initializationEpochs = 0;
  private readonly userTensors: Set<Tensor>;
  private validated = false;
  private readonly ownKey: boolean;
  /** the epoch's estimate with the jit option applied */
  private readonly est: JitStep<EstimateFn<D>>;

  constructor(options: VIOptions<D>) {
    if (!options || typeof options !== 'object') throw new ConfigError('vi.VI: expected an options object { loss, prior, posteriorEstimator, ... }.');
    for (const k of Object.keys(options)) {
      if (!KNOWN.includes(k)) throw new ConfigError(`vi.VI: unknown option '${k}' (known: ${KNOWN.join(', ')}).`);
    }
    const { initializeEstimatorToPrior, progress, onEpoch, key, ...problem } = options;
    this.config = makeConfig('vi.VI', problem);
    if (initializeEstimatorToPrior !== undefined && typeof initializeEstimatorToPrior !== 'boolean') {
      throw new ConfigError(`vi.VI: initializeEstimatorToPrior must be a boolean, got ${String(initializeEstimatorToPrior)}.`);
    }
    if (progress !== undefined && typeof progress !== 'boolean' && (progress === null || typeof progress !== 'object')) {
      throw new ConfigError(`vi.VI: progress must be a boolean or progress options, got ${String(progress)}.`);
    }
    if (onEpoch !== undefined && typeof onEpoch !== 'function') throw new ConfigError('vi.VI: onEpoch must be a function (record, vi) => void | boolean.');
    checkKey('vi.VI', key);
    const c = this.config;
    this.options = {
      ...c.spec, initializeEstimatorToPrior: initializeEstimatorToPrior ?? false, initializationLr: c.initializationLr, gradientClippingNorm: c.gradientClippingNorm,
      optimizer: c.baseOptimizer, progress, onEpoch, jit: c.jit,
    };
    this.est = estimator(c, 'vi.VI');
    this.optimizer = c.optimizer;
    this.ownKey = key === undefined;
    this.key = keep(key ?? makeKey(0));
    this.state = keep(init(c));
    this.userTensors = tensorsOf(this.state.params);
  }

  /** The estimator at the current parameters. */
  get estimator(): Distribution {
    return this.config.spec.posteriorEstimator.withParams(this.state.params);
  }

  /** parameters of the best epoch so far (null before the first epoch) */
  get bestParams(): PyTree | null {
    return this.bestEpoch < 0 ? null : this.state.best.params;
  }

  /** The estimator at the parameters of the best epoch (the current one before any epoch). */
  get bestEstimator(): Distribution {
    return this.config.spec.posteriorEstimator.withParams(this.bestParams ?? this.state.params);
  }

  /**
   * Checks the loss on data before any epoch: it must return a 0-D tensor (ShapeError otherwise).
   * Runs the simulator once, at a sample of the current estimator.
   */
  validate(data: D): void {
    if (this.validated) return;
    tidy(() => {
      const k = foldIn(this.key, 0x7ffffffe);
      const th = reshape(stopGradient(this.estimator.sample(k, [1])), this.config.spec.posteriorEstimator.eventShape);
      callLoss(this.config.spec.loss, th, data, foldIn(k, 1));
    });
    this.validated = true;
  }

  /**
   * One epoch: estimate the objective and its gradient at the current parameters, record it
   * (history, best), then take one optimiser step. The record describes the parameters before
   * the step (those the losses were evaluated at), as blackbirds' loop does. On a NumericalError
   * the state is not updated.
   */
  async step(data: D): Promise<EpochRecord> {
    this.validate(data);
    const t0 = performance.now();
    const epoch = this.state.epoch;
    const k = foldIn(this.key, epoch);
    let next: VIState;
    let aux: EpochAux;
    try {
      [next, aux] = update(this.config, this.state, data, k, this.est);
    } finally {
      k.dispose(); // the epoch's key is this call's own
    }
    let v: EpochValues;
    try {
      v = await readEpoch(aux);
      checkEpoch(this.config, v, epoch);
    } catch (e) {
      releaseExcept([next], [this.state]);
      throw e;
    } finally {
      releaseExcept([aux], [next, this.state]);
    }
    this.adopt(keep(next));
    return this.record(epoch, v, (performance.now() - t0) / 1000);
  }

  /**
   * Fits the estimator to the prior alone (Adam at initializationLr on the MC KL) until it has not
   * improved for maxEpochsWithoutImprovement epochs or |KL| < atol, at most maxEpochs epochs.
   * Returns the epochs taken.
   */
  async initializeEstimator(opts: { maxEpochsWithoutImprovement?: number; atol?: number; maxEpochs?: number } = {}): Promise<number> {
    const r = await fitToPrior(this.config, this.state.params, { ...opts, key: this.key, progress: this.loopProgress() });
    // the main optimiser starts afresh at the fitted parameters
    if (r.params !== this.state.params) this.adopt(keep({ ...init(this.config, r.params), epoch: this.state.epoch }));
    this.initializationEpochs = r.epochs;
    return r.epochs;
  }

  /**
   * Runs up to nEpochs epochs, stopping when the total loss has not improved for
   * maxEpochsWithoutImprovement epochs (or onEpoch returns false, or the signal aborts).
   */
  async run(data: D, nEpochs: number, maxEpochsWithoutImprovement = 20, opts: { signal?: AbortSignal } = {}): Promise<RunResult> {
    if (!Number.isInteger(nEpochs) || nEpochs < 0) throw new ConfigError(`vi.run: nEpochs must be a non-negative integer, got ${nEpochs}.`);
    if (!(maxEpochsWithoutImprovement >= 1)) throw new ConfigError(`vi.run: maxEpochsWithoutImprovement must be ≥ 1 (Infinity for never), got ${maxEpochsWithoutImprovement}.`);
    this.validate(data);
    const t0 = performance.now();
    if (this.options.initializeEstimatorToPrior) await this.initializeEstimator();
    let lastT = performance.now();
    const perEpochLines = this.options.progress === true;
    // patience counts from this call's first epoch, as blackbirds' loop does
    let r: Awaited<ReturnType<typeof loopRun<VIState, EpochAux>>>;
    try {
      r = await loopRun<VIState, EpochAux>(this.state, {
        name: 'vi.run',
        unit: 'epoch',
        steps: nEpochs,
        start: this.state.epoch,
        key: this.key,
        signal: opts.signal,
        progress: this.loopProgress(),
        step: (s, k) => update(this.config, s, data, k!, this.est),
        earlyStopping: { monitor: (aux) => readEpoch(aux).then((v) => v.total), patience: maxEpochsWithoutImprovement },
        values: (_s, aux) => ({ total: aux.total }),
        onStep: async (_s, aux, after) => {
          const v = await readEpoch(aux);
          checkEpoch(this.config, v, after - 1);
          const now = performance.now();
          const rec = this.record(after - 1, v, (now - lastT) / 1000);
          lastT = now;
          if (perEpochLines) {
            const stall = after - 1 - this.bestEpoch;
            progressLine(
              `vi epoch ${rec.epoch}: total ${rec.total.toPrecision(5)} loss ${rec.loss.toPrecision(5)} reg ${rec.regularisation.toPrecision(5)} best ${this.bestLoss.toPrecision(5)} stall ${stall}${rec.nDropped ? ` dropped ${rec.nDropped}` : ''}`,
            );
          }
          return this.options.onEpoch && this.options.onEpoch(rec, this) === false ? 'onEpoch returned false' : undefined;
        },
      });
    } catch (e) {
      const last = (e as { state?: VIState }).state;
      if (last) this.adopt(keep(last));
      throw e;
    }
    this.adopt(keep(r.state));
    const seconds = (performance.now() - t0) / 1000;
    return {
      epochs: r.steps, reason: r.reason, stoppedEarly: r.reason !== 'completed', bestLoss: this.bestLoss, bestEpoch: this.bestEpoch, seconds,
      epochsPerSecond: r.stepsPerSecond,
    };
  }

  /** Frees the tensors this object owns (state, best snapshot, key); the user's initial parameters are left alone. */
  dispose(): void {
    releaseExcept([this.state], [], this.userTensors);
    if (this.ownKey) this.key.dispose();
    this.est.dispose();
  }

  /** Whether the epoch's estimate is traced once and replayed (`jit` option), its trace count and cache. */
  jitInfo(): { jitted: boolean; retraces: number; cache: JitCacheInfo | null } {
    return { jitted: this.est.jitted, retraces: this.est.retraces, cache: this.est.cacheInfo() };
  }

  /** The loop's display: the default (a bar on a terminal, lines every few seconds otherwise, after a moment), an options object, or none (false; true writes per-epoch lines itself). */
  private loopProgress(): boolean | ProgressOptions | undefined {
    const p = this.options.progress;
    return typeof p === 'boolean' ? false : p;
  }

  /** Host bookkeeping of one epoch: history and the best epoch (the comparison update() makes on the device). */
  private record(epoch: number, v: EpochValues, seconds: number): EpochRecord {
    this.lossHistory.total.push(v.total);
    this.lossHistory.loss.push(v.loss);
    this.lossHistory.regularisation.push(v.regularisation);
    this.lossHistory.nDropped.push(v.nDropped);
    const improved = v.total < this.bestLoss;
    if (improved) {
      this.bestLoss = v.total;
      this.bestEpoch = epoch;
    }
    return { epoch, total: v.total, loss: v.loss, regularisation: v.regularisation, nDropped: v.nDropped, improved, seconds };
  }

  /** Makes `next` the state, freeing what of the old one it does not reuse (never the user's tensors). */
  private adopt(next: VIState): void {
    if (next === this.state) return;
    releaseExcept([this.state], [next], this.userTensors);
    this.state = next;
  }
}

const tensorsOf = (x: unknown): Set<Tensor> => new Set(flatten(x as PyTree)[0].filter((l): l is Tensor => l instanceof Tensor));

/** Disposes the tensors of `trees` that `keepTrees` (or `also`) do not hold. */
function releaseExcept(trees: unknown[], keepTrees: unknown[], also: Set<Tensor> = new Set()): void {
  const keepSet = tensorsOf(keepTrees);
  for (const t of tensorsOf(trees)) if (!keepSet.has(t) && !also.has(t) && !t.isDisposed) t.dispose();
}
