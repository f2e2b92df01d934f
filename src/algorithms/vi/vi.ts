/**
 * `VI`: generalised variational inference for (black-box, differentiable) simulators, with
 * blackbirds' options in camelCase. Underneath it is functional: the state is the estimator's
 * parameter pytree plus the optimiser state, one epoch is `lossAndGrad` + an optax-style update,
 * tidied, and the key of epoch t is foldIn(key, t) (same key → same numbers).
 *
 *   const vi = new bt.vi.VI({ loss, prior, posteriorEstimator, w: 1 });
 *   await vi.run(data, 1000);            // early stopping on the best (noisy MC) total loss
 *   vi.bestEstimator.sample(key, [1000]);
 */
import { Tensor } from '../../tensor.js';
import { ConfigError, NumericalError } from '../../errors.js';
import { checkPositiveInt, oneOf as checkOneOf } from '../../validate.js';
import { dispose, keep, tidy } from '../../memory.js';
import { flatten, type PyTree } from '../../autodiff/tree.js';
import { valueAndGrad as valueAndGradOf } from '../../autodiff/reverse.js';
import { stack, reshape, slice } from '../../autodiff/ops/shape.js';
import { cast, isFinite } from '../../autodiff/ops/elementwise.js';
import { stopGradient } from '../../autodiff/ops/special.js';
import { foldIn, key as makeKey, split } from '../../random.js';
import { adam } from '../../optim/alias.js';
import { chain } from '../../optim/chain.js';
import { clipByGlobalNorm, globalNorm } from '../../optim/clip.js';
import { applyUpdates } from '../../optim/apply.js';
import type { GradientTransformation } from '../../optim/types.js';
import type { Distribution } from '../../distributions/types.js';
import { progressLine, yieldToEventLoop } from '../../runtime.js';
import {
  callLoss, checkShapes, lossAndGrad, regularisation,
  type Baseline, type DiffMode, type GradientEstimationMethod, type LossFn, type ObjectiveSpec, type Prior,
} from './objective.js';

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

export interface LossHistory {
  total: number[];
  loss: number[];
  regularisation: number[];
  nDropped: number[];
}

export interface VIOptions<D = unknown> {
  /** loss(θ, data, key) → 0-D tensor (a simulator + a distance; key = the simulator's randomness). */
  loss: LossFn<D>;
  prior: Prior;
  posteriorEstimator: Distribution;
  /** weight of KL(q ‖ prior) (default 1) */
  w?: number;
  initializeEstimatorToPrior?: boolean;
  /** Adam learning rate of the fit-to-prior phase (default 1e-3) */
  initializationLr?: number;
  /** global-norm gradient clipping before the optimiser (default Infinity: none) */
  gradientClippingNorm?: number;
  /** an optax-style GradientTransformation (default adam({ learningRate: 1e-3 })) */
  optimizer?: GradientTransformation<any>;
  nSamplesPerEpoch?: number;
  nSamplesRegularisation?: number;
  diffMode?: DiffMode;
  gradientEstimationMethod?: GradientEstimationMethod;
  /** score estimator baseline: 'none' (blackbirds) or 'mean' (leave-one-out batch mean; default 'none') */
  baseline?: Baseline;
  /** basis tangents per batched forward pass (forward mode); undefined = all at once */
  jacobianChunkSize?: number;
  /** path-only gradient of the KL (default true); false differentiates log q fully */
  stickingTheLanding?: boolean;
  /** print one progress line per epoch to stderr (default false) */
  progress?: boolean;
  /** called after every epoch; return false to stop run() */
  onEpoch?: (record: EpochRecord, vi: VI<D>) => void | boolean;
  /** PRNG key (default random.key(0)); epoch t uses foldIn(key, t) */
  key?: Tensor;
}

export interface VIState {
  params: PyTree;
  optState: PyTree;
  /** epochs (optimiser steps) taken */
  epoch: number;
}

export interface RunResult {
  epochs: number;
  stoppedEarly: boolean;
  bestLoss: number;
  bestEpoch: number;
  seconds: number;
  epochsPerSecond: number;
}

const KNOWN = [
  'loss', 'prior', 'posteriorEstimator', 'w', 'initializeEstimatorToPrior', 'initializationLr', 'gradientClippingNorm',
  'optimizer', 'nSamplesPerEpoch', 'nSamplesRegularisation', 'diffMode', 'gradientEstimationMethod', 'baseline',
  'jacobianChunkSize', 'stickingTheLanding', 'progress', 'onEpoch', 'key',
] as const;

const posInt = (name: string, v: unknown, allowUndefined = false) => checkPositiveInt('vi.VI', name, v, allowUndefined);
const oneOf = <T extends string>(name: string, v: unknown, allowed: readonly T[]): T => checkOneOf('vi.VI', name, v, allowed);

function isDistribution(d: unknown, needsTraining: boolean): boolean {
  if (!d || typeof d !== 'object') return false;
  const o = d as Record<string, unknown>;
  if (!Array.isArray(o.eventShape) || typeof o.logProb !== 'function') return false;
  if (!needsTraining) return true;
  return ['rsample', 'sample', 'rsampleAndLogProb', 'params', 'withParams'].every((m) => typeof o[m] === 'function');
}

const tensorsOf = (x: unknown): Set<Tensor> => new Set(flatten(x as PyTree)[0].filter((l): l is Tensor => l instanceof Tensor));

export class VI<D = unknown> {
  readonly options: Readonly<Required<Omit<VIOptions<D>, 'jacobianChunkSize' | 'onEpoch' | 'key'>> & Pick<VIOptions<D>, 'jacobianChunkSize' | 'onEpoch'>>;
  readonly key: Tensor;
  readonly optimizer: GradientTransformation<any>;
  /** the functional state: estimator parameters, optimiser state, epochs taken */
  state: VIState;
  lossHistory: LossHistory = { total: [], loss: [], regularisation: [], nDropped: [] };
  bestLoss = Infinity;
  bestEpoch = -1;
  /** parameters of the best epoch so far (null before the first epoch) */
  bestParams: PyTree | null = null;
  /** epochs used by the fit-to-prior phase (0 if it did not run) */
  initializationEpochs = 0;
  private readonly spec: ObjectiveSpec<D>;
  private readonly userTensors: Set<Tensor>;
  private validated = false;
  private readonly ownKey: boolean;

  constructor(options: VIOptions<D>) {
    if (!options || typeof options !== 'object') throw new ConfigError('vi.VI: expected an options object { loss, prior, posteriorEstimator, ... }.');
    for (const k of Object.keys(options)) {
      if (!(KNOWN as readonly string[]).includes(k)) throw new ConfigError(`vi.VI: unknown option '${k}' (known: ${KNOWN.join(', ')}).`);
    }
    const o = options;
    if (typeof o.loss !== 'function') throw new ConfigError('vi.VI: loss must be a function loss(θ, data, key) → 0-D tensor.');
    if (!isDistribution(o.prior, false)) throw new ConfigError('vi.VI: prior must be a distribution (eventShape, logProb).');
    if (!isDistribution(o.posteriorEstimator, true)) {
      throw new ConfigError('vi.VI: posteriorEstimator must be a trainable distribution (eventShape, logProb, sample, rsample, rsampleAndLogProb, params, withParams).');
    }
    const w = o.w ?? 1;
    if (typeof w !== 'number' || !(w >= 0) || !Number.isFinite(w)) throw new ConfigError(`vi.VI: w must be a finite number ≥ 0, got ${String(w)}.`);
    const initializationLr = o.initializationLr ?? 1e-3;
    if (typeof initializationLr !== 'number' || !(initializationLr > 0)) throw new ConfigError(`vi.VI: initializationLr must be > 0, got ${String(initializationLr)}.`);
    const clip = o.gradientClippingNorm ?? Infinity;
    if (typeof clip !== 'number' || !(clip > 0)) throw new ConfigError(`vi.VI: gradientClippingNorm must be > 0 (Infinity for none), got ${String(clip)}.`);
    const nSamplesPerEpoch = o.nSamplesPerEpoch ?? 10;
    posInt('nSamplesPerEpoch', nSamplesPerEpoch);
    const nSamplesRegularisation = o.nSamplesRegularisation ?? 10000;
    posInt('nSamplesRegularisation', nSamplesRegularisation);
    posInt('jacobianChunkSize', o.jacobianChunkSize, true);
    const diffMode = oneOf('diffMode', o.diffMode ?? 'reverse', ['reverse', 'forward'] as const);
    const gradientEstimationMethod = oneOf('gradientEstimationMethod', o.gradientEstimationMethod ?? 'pathwise', ['pathwise', 'score'] as const);
    const baseline = oneOf('baseline', o.baseline ?? 'none', ['none', 'mean'] as const);
    for (const b of ['initializeEstimatorToPrior', 'stickingTheLanding', 'progress'] as const) {
      if (o[b] !== undefined && typeof o[b] !== 'boolean') throw new ConfigError(`vi.VI: ${b} must be a boolean, got ${String(o[b])}.`);
    }
    if (o.onEpoch !== undefined && typeof o.onEpoch !== 'function') throw new ConfigError('vi.VI: onEpoch must be a function (record, vi) => void | boolean.');
    if (o.optimizer !== undefined && (typeof o.optimizer?.init !== 'function' || typeof o.optimizer?.update !== 'function')) {
      throw new ConfigError('vi.VI: optimizer must be a gradient transformation { init, update } (e.g. bt.optim.adam({ learningRate: 1e-3 })).');
    }
    if (o.key !== undefined && !(o.key instanceof Tensor && o.key.dtype === 'int32' && o.key.size === 2)) {
      throw new ConfigError('vi.VI: key must be a PRNG key (bt.random.key(seed)).');
    }
    checkShapes(o.prior, o.posteriorEstimator);
    const optimizer = o.optimizer ?? adam({ learningRate: 1e-3 });
    this.options = {
      loss: o.loss, prior: o.prior, posteriorEstimator: o.posteriorEstimator, w, initializeEstimatorToPrior: o.initializeEstimatorToPrior ?? false,
      initializationLr, gradientClippingNorm: clip, optimizer, nSamplesPerEpoch, nSamplesRegularisation, diffMode, gradientEstimationMethod,
      baseline, jacobianChunkSize: o.jacobianChunkSize, stickingTheLanding: o.stickingTheLanding ?? true, progress: o.progress ?? false, onEpoch: o.onEpoch,
    };
    this.spec = {
      loss: o.loss, prior: o.prior, posteriorEstimator: o.posteriorEstimator, w, nSamplesPerEpoch, nSamplesRegularisation, diffMode,
      gradientEstimationMethod, baseline, jacobianChunkSize: o.jacobianChunkSize, stickingTheLanding: this.options.stickingTheLanding,
    };
    this.optimizer = Number.isFinite(clip) ? chain(clipByGlobalNorm(clip), optimizer) : optimizer;
    this.ownKey = o.key === undefined;
    this.key = keep(o.key ?? makeKey(0));
    const params = o.posteriorEstimator.params();
    this.userTensors = tensorsOf(params);
    this.state = { params, optState: keep(tidy(() => this.optimizer.init(params))), epoch: 0 };
  }

  /** The estimator at the current parameters. */
  get estimator(): Distribution {
    return this.spec.posteriorEstimator.withParams(this.state.params);
  }

  /** The estimator at the parameters of the best epoch (the current one before any epoch). */
  get bestEstimator(): Distribution {
    return this.spec.posteriorEstimator.withParams(this.bestParams ?? this.state.params);
  }

  /**
   * Checks the loss on data before any epoch: it must return a 0-D tensor (ShapeError otherwise).
   * Runs the simulator once, at a sample of the current estimator.
   */
  validate(data: D): void {
    if (this.validated) return;
    tidy(() => {
      const k = foldIn(this.key, 0x7ffffffe);
      const th = reshape(stopGradient(this.estimator.sample(k, [1])), this.spec.posteriorEstimator.eventShape);
      callLoss(this.spec.loss, th, data, foldIn(k, 1));
    });
    this.validated = true;
  }

  /**
   * One epoch: estimate the objective and its gradient at the current parameters, record it
   * (history, best snapshot), then take one optimiser step. The record describes the parameters
   * before the step (those the losses were evaluated at), as blackbirds' loop does.
   */
  async step(data: D): Promise<EpochRecord> {
    this.validate(data);
    const t0 = performance.now();
    const epoch = this.state.epoch;
    const prev = this.state;
    const { params, optState, scalars } = tidy(() => {
      const r = lossAndGrad(this.spec, prev.params, data, foldIn(this.key, epoch));
      const gOk = cast(isFinite(globalNorm(r.grads)), r.total.dtype);
      const [updates, optNext] = this.optimizer.update(r.grads, prev.optState, prev.params);
      const next = applyUpdates(prev.params, updates);
      return { params: next, optState: optNext, scalars: stack([r.total, r.loss, r.regularisation, r.nDropped, gOk].map((t) => cast(t, r.total.dtype)), 0) };
    });
    const s = await scalars.data();
    scalars.dispose();
    const [total, loss, reg, nDropped, gOk] = Array.from(s) as [number, number, number, number, number];
    if (nDropped === this.spec.nSamplesPerEpoch) {
      dispose([params, optState]);
      throw new NumericalError(`vi: at epoch ${epoch} every one of the ${nDropped} samples gave a non-finite loss or gradient; check the simulator and the estimator's support.`);
    }
    if (!gOk) {
      dispose([params, optState]);
      throw new NumericalError(`vi: the gradient is non-finite at epoch ${epoch} (loss ${loss}, regularisation ${reg}); the state was not updated.`);
    }
    keep([params, optState]);
    this.lossHistory.total.push(total);
    this.lossHistory.loss.push(loss);
    this.lossHistory.regularisation.push(reg);
    this.lossHistory.nDropped.push(nDropped);
    const improved = total < this.bestLoss;
    if (improved) {
      const old = this.bestParams;
      this.bestParams = prev.params;
      this.bestLoss = total;
      this.bestEpoch = epoch;
      if (old !== null && old !== prev.params) this.release(old);
    }
    this.state = { params, optState, epoch: epoch + 1 };
    if (prev.params !== this.bestParams) this.release(prev.params);
    dispose(prev.optState);
    return { epoch, total, loss, regularisation: reg, nDropped, improved, seconds: (performance.now() - t0) / 1000 };
  }

  /**
   * Fits the estimator to the prior alone (Adam at initializationLr on the MC KL) until it has not
   * improved for maxEpochsWithoutImprovement epochs or |KL| < atol, at most maxEpochs epochs.
   * Returns the epochs taken.
   */
  async initializeEstimator(opts: { maxEpochsWithoutImprovement?: number; atol?: number; maxEpochs?: number } = {}): Promise<number> {
    const patience = opts.maxEpochsWithoutImprovement ?? 50;
    const atol = opts.atol ?? 1e-2;
    const maxEpochs = opts.maxEpochs ?? 10000;
    const opt = adam({ learningRate: this.options.initializationLr });
    const initKey = keep(reshape(slice(split(foldIn(this.key, 0x7fffffff), 2), [1], [1]), [2]));
    let params = this.state.params;
    let optState = keep(tidy(() => opt.init(params)));
    let best = Infinity;
    let stall = 0;
    let e = 0;
    const { posteriorEstimator: est, prior, nSamplesRegularisation: M, stickingTheLanding } = this.spec;
    try {
      for (; e < maxEpochs; e++) {
        const prevParams = params;
        const prevOpt = optState;
        const out = tidy(() => {
          const [kl, g] = valueAndGradKl(est, prior, M, foldIn(initKey, e), stickingTheLanding)(prevParams);
          const [u, ns] = opt.update(g, prevOpt, prevParams);
          return { kl, params: applyUpdates(prevParams, u), optState: ns };
        });
        keep([out.params, out.optState]);
        const kl = (await out.kl.data())[0]!;
        out.kl.dispose();
        params = out.params;
        optState = out.optState;
        if (prevParams !== this.state.params) this.release(prevParams);
        dispose(prevOpt);
        if (!Number.isFinite(kl)) throw new NumericalError(`vi.initializeEstimator: the KL estimate is ${kl} at epoch ${e}.`);
        if (kl < best) {
          best = kl;
          stall = 0;
        } else stall++;
        if (stall >= patience || Math.abs(kl) < atol) {
          e++;
          break;
        }
      }
    } finally {
      dispose(optState);
      initKey.dispose();
    }
    // the main optimiser starts afresh at the fitted parameters
    if (params !== this.state.params) {
      const old = this.state;
      this.state = { params, optState: keep(tidy(() => this.optimizer.init(params))), epoch: old.epoch };
      if (old.params !== this.bestParams) this.release(old.params);
      dispose(old.optState);
    }
    this.initializationEpochs = e;
    return e;
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
    let stall = 0;
    let done = 0;
    let stoppedEarly = false;
    let lastYield = performance.now();
    for (let i = 0; i < nEpochs; i++) {
      if (opts.signal?.aborted) {
        stoppedEarly = true;
        break;
      }
      const rec = await this.step(data);
      done++;
      stall = rec.improved ? 0 : stall + 1;
      if (this.options.progress) {
        progressLine(
          `vi epoch ${rec.epoch}: total ${rec.total.toPrecision(5)} loss ${rec.loss.toPrecision(5)} reg ${rec.regularisation.toPrecision(5)} best ${this.bestLoss.toPrecision(5)} stall ${stall}${rec.nDropped ? ` dropped ${rec.nDropped}` : ''}`,
        );
      }
      if (this.options.onEpoch && this.options.onEpoch(rec, this) === false) {
        stoppedEarly = true;
        break;
      }
      if (stall >= maxEpochsWithoutImprovement) {
        stoppedEarly = true;
        break;
      }
      if (performance.now() - lastYield > 50) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    return { epochs: done, stoppedEarly, bestLoss: this.bestLoss, bestEpoch: this.bestEpoch, seconds, epochsPerSecond: done / Math.max(seconds, 1e-9) };
  }

  /** Frees the tensors this object owns (state, best snapshot, key); the user's initial parameters are left alone. */
  dispose(): void {
    const cur = this.state.params;
    this.release(cur);
    if (this.bestParams && this.bestParams !== cur) this.release(this.bestParams);
    dispose(this.state.optState);
    if (this.ownKey) this.key.dispose();
  }

  private release(p: PyTree): void {
    for (const t of tensorsOf(p)) if (!this.userTensors.has(t)) t.dispose();
  }
}

function valueAndGradKl(est: Distribution, prior: Prior, M: number, k: Tensor, stl: boolean) {
  return (params: PyTree): [Tensor, PyTree] => {
    const [v, g] = valueAndGradOf((p: PyTree) => regularisation(est, p, prior, M, k, stl))(params);
    return [v, g];
  };
}
