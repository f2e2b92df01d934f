/**
 * The IMNN parent (imnn's `_IMNN`): a network f_w trained to maximise the Fisher information of
 * its outputs about θ_fid, with the functional core underneath as `bt.sgmcmc` has it:
 *
 *   const s = imnn.init(key);                 // { w, opt }
 *   const [s1, aux] = imnn.update(s, key, λ, α); // one Adam step on Λ, statistics in aux
 *
 * and imnn's `fit(λ, ε, …)` on the shared run loop. What a subclass supplies is how the outputs
 * x [nS, nSummaries] and their derivatives ∂x/∂θ [nD, nSummaries, nParams] are obtained
 * (`getSummaries`): simulator + forward AD, given ∂d/∂θ + JVPs, or finite differences.
 */
import { Tensor } from '../../tensor.js';
import { ConfigError, NumericalError, ShapeError } from '../../errors.js';
import { keep, tidy, dispose } from '../../memory.js';
import { jitStep, type JitOption, type JitStep } from '../../jit/step.js';
import type { JitCacheInfo } from '../../jit/jit.js';
import { valueAndGrad } from '../../autodiff/reverse.js';
import { add, sub } from '../../autodiff/ops/elementwise.js';
import { matmul } from '../../autodiff/ops/matmul.js';
import { reshape } from '../../autodiff/ops/shape.js';
import { det, inv } from '../../autodiff/ops/linalg.js';
import { flatten, unflatten, type PyTree } from '../../autodiff/tree.js';
import { applyUpdates } from '../../optim/apply.js';
import type { GradientTransformation } from '../../optim/types.js';
import type { Module } from '../../nn/types.js';
import { splitKeys } from '../../random.js';
import { run as loopRun } from '../loop/loop.js';
import { withBackend } from '../../backends/backend.js';
import { lossCotangents, moveSync } from './aggregation.js';
import type { Progress } from '../loop/progress.js';
import type { Checkpoint, CheckpointOptions } from '../loop/checkpoint.js';
import { fromJSON, toJSON, type TreeJSON } from '../../tree-json.js';
import { fisherStatistics, getα, imnnLoss, type FStatistics, type LossAux } from './fisher.js';
import { checkCommon, type CommonOptions, type Checked } from './check.js';
import { historyPlot, type PlotOptions } from './plot.js';

/** The training state: network parameters and optimiser state (a pytree, savable with bt.tree). */
export interface IMNNState<P = PyTree> {
  w: P;
  opt: PyTree;
}

/** The statistics of one update, as one-element tensors (val_* only with a validation set). */
export interface IMNNAux {
  loss: Tensor;
  detF: Tensor;
  detC: Tensor;
  detinvC: Tensor;
  Λ2: Tensor;
  r: Tensor;
  val_detF?: Tensor;
  val_detC?: Tensor;
  val_detinvC?: Tensor;
  val_Λ2?: Tensor;
  val_r?: Tensor;
  /** the weights the training statistics were computed at (before the update) */
  wBefore: PyTree;
}

/** @internal What an Aggregated subclass tells its in-memory parent's constructor: its name and extra arguments. */
export interface Subclass {
  name: string;
  keys: string[];
}

/** Fit history (host numbers, one entry per iteration over all fit calls), plus maxDetF. */
export interface IMNNHistory {
  detF: number[];
  detC: number[];
  detinvC: number[];
  Λ2: number[];
  r: number[];
  val_detF: number[];
  val_detC: number[];
  val_detinvC: number[];
  val_Λ2: number[];
  val_r: number[];
  maxDetF: number;
}

/** Options of `fit` (imnn's keyword arguments, camelCase). */
export interface FitOptions {
  /** PRNG key for the simulations/validation keys (required by SimulatorIMNN). */
  rng?: Tensor;
  /** Iterations without a new maximum det F before stopping (counted only after minIterations). */
  patience?: number;
  /** Iterations of this call before patience starts counting (default 100). */
  minIterations?: number;
  /** At most this many iterations in this call (default 1e5). */
  maxIterations?: number;
  /** Show progress every printRate iterations (default: no display). */
  printRate?: number;
  /** End with the weights of the best det F (default true) rather than the last ones. */
  best?: boolean;
  /** Stops the fit between iterations. */
  signal?: AbortSignal;
  /** Progress callback (every printRate iterations, or every maxIterations/20). */
  onProgress?: (p: Progress) => void;
  /**
   * Save a checkpoint every `every` iterations: the loop's (state, iteration, key) plus the fit's
   * own counters, best weights and history under `imnn`; JSON.stringify it as it is.
   */
  checkpoint?: CheckpointOptions;
  /**
   * Carry on from a checkpoint of this class's fit (the object or its JSON text), on this or a
   * fresh instance: the same λ, ε, patience, minIterations, best and rng give the fit that was
   * never interrupted (bit for bit on the CPU). The state, history and best weights are the
   * checkpoint's.
   */
  resume?: IMNNCheckpoint | string;
}

/** A checkpoint of an IMNN fit: the loop's, plus the fit's counters, best weights and history. */
export interface IMNNCheckpoint extends Checkpoint {
  /** bt.tree.toJSON of { settings, counter, patienceCounter, bestW, history } */
  imnn: TreeJSON;
}

/** What a checkpoint records about the fit beyond the loop's state (a bt.tree). */
interface FitExtras<P> {
  settings: { λ: number; ε: number; patience: number; minIterations: number; best: boolean };
  counter: number;
  patienceCounter: number;
  bestW: P | null;
  history: IMNNHistory;
}

const FIT_KEYS = ['rng', 'patience', 'minIterations', 'maxIterations', 'printRate', 'best', 'signal', 'onProgress', 'checkpoint', 'resume'];
const STATS = ['detF', 'detC', 'detinvC', 'Λ2', 'r'] as const;

/** Disposes the tensors of `trees` that none of `keepTrees` holds (states share tensors with weights). */
function release(trees: unknown[], keepTrees: unknown[]): void {
  const keepSet = new Set(flatten(keepTrees as PyTree)[0].filter((l) => l instanceof Tensor));
  for (const l of flatten(trees as PyTree)[0]) if (l instanceof Tensor && !l.isDisposed && !keepSet.has(l)) l.dispose();
}

const copyTree = <T>(t: T): T => {
  const [ls, def] = flatten(t as PyTree);
  // tidy: the constant 0 becomes a tensor too
  return tidy(() => unflatten(def, ls.map((l) => (l instanceof Tensor ? add(l, 0) : l))) as PyTree) as T;
};

/** The parent of the IMNN classes: statistics, loss, update, fit, estimates and plot. */
export abstract class IMNN<P = PyTree> {
  /** number of fiducial simulations (covariance) */
  readonly nS: number;
  /** number of derivative simulations (∂μ/∂θ); nD ≤ nS */
  readonly nD: number;
  /** number of model parameters */
  readonly nParams: number;
  /** number of network outputs */
  readonly nSummaries: number;
  /** shape of one simulation */
  readonly inputShape: number[];
  /** fiducial parameters [nParams] */
  readonly θFid: Tensor;
  /** the network */
  readonly model: Module<P>;
  /** the optimiser */
  readonly optimiser: GradientTransformation;
  /** whether a validation set is used (fit compares validation det F) */
  validate = false;
  /** current training state */
  state: IMNNState<P>;
  /** the network parameters after the last fit (the best ones with best = true) */
  w: P;
  /** history over all fit calls */
  history: IMNNHistory;
  /** Fisher information, set by setFStatistics (and at the end of fit) */
  F?: Tensor;
  /** covariance of the outputs */
  C?: Tensor;
  /** its inverse */
  invC?: Tensor;
  /** ∂μ/∂θ [nSummaries, nParams] */
  dμdθ?: Tensor;
  /** mean of the outputs */
  μ?: Tensor;
  /** F⁻¹ */
  invF?: Tensor;
  private bestW: P | undefined;
  private ownsθFid: boolean;
  private keyOrState: Tensor | IMNNState<P>;
  private readonly jitMode: JitOption;
  /** update's loss gradient and validation statistics with the jit option applied (see jitted()) */
  private steps?: {
    gradient: JitStep<(w: PyTree, key: Tensor | undefined, λ: number, α: number) => [Tensor, LossAux, PyTree]>;
    validation: JitStep<(w: PyTree, key: Tensor | undefined, λ: number, α: number) => Record<string, Tensor>>;
  };
  /** the backend the weights live on (the Aggregated classes' host) */
  private home: string | undefined;
  protected readonly op: string;

  constructor(name: string, opts: CommonOptions<P>, extraKeys: string[]) {
    this.op = `imnn.${name}`;
    const c: Checked<P> = checkCommon(this.op, opts, extraKeys);
    this.nS = c.nS;
    this.nD = c.nD;
    this.nParams = c.nParams;
    this.nSummaries = c.nSummaries;
    this.inputShape = c.inputShape;
    this.θFid = keep(c.θFid);
    // θFid given as numbers became this instance's tensor (dispose frees it); a given tensor stays the caller's
    const tf = (opts as { θFid?: unknown; thetaFid?: unknown }).θFid ?? (opts as { thetaFid?: unknown }).thetaFid;
    this.ownsθFid = this.θFid !== tf;
    this.model = c.model;
    this.optimiser = c.optimiser;
    this.keyOrState = c.state ?? c.key!;
    this.jitMode = c.jit;
    this.state = undefined as unknown as IMNNState<P>; // set by ready(), once the subclass has its data
    this.w = undefined as unknown as P;
    this.history = { detF: [], detC: [], detinvC: [], Λ2: [], r: [], val_detF: [], val_detC: [], val_detinvC: [], val_Λ2: [], val_r: [], maxDetF: -Infinity };
  }

  /**
   * Draws the weights (or takes the given state): the subclass calls it at the end of its
   * constructor. With `host` (the Aggregated classes) the weights are made on that backend.
   */
  protected ready(host?: string): void {
    this.home = host;
    const make = () => {
      const ks = this.keyOrState;
      if (ks instanceof Tensor) this.state = tidy(() => this.init(this.atHome(ks))) as IMNNState<P>;
      else {
        const shape = tidy(() => this.model.apply(this.atHome(ks.w), reshape(this.atHome(this.probeInput()), [1, ...this.inputShape])).shape);
        if (shape.length !== 2 || shape[1] !== this.nSummaries) throw new ShapeError(`${this.op}: the state's weights give outputs of shape [${shape.join(', ')}], expected [1, ${this.nSummaries}].`);
        // a copy: fit frees replaced states, and the given one may belong to another IMNN
        this.state = keep(tidy(() => copyTree(this.atHome(ks))));
      }
      this.w = this.state.w;
    };
    if (host === undefined) make();
    else withBackend(host, make);
  }

  /** x on the host backend of an Aggregated class (itself otherwise). */
  protected atHome<T>(x: T): T {
    return this.home === undefined ? x : moveSync(x, this.home, this.op);
  }

  /** θFid under its ASCII name. */
  get thetaFid(): Tensor {
    return this.θFid;
  }

  /**
   * The network outputs x [nS, nSummaries] and their derivatives ∂x/∂θ [nD, nSummaries, nParams]
   * at weights w: of fresh simulations drawn with `key` (SimulatorIMNN), or of the fitting or
   * (validate) validation set.
   */
  abstract getSummaries(w: P, key?: Tensor, validate?: boolean): [Tensor, Tensor];

  /** Whether this class draws simulations with a key (then fit needs rng). */
  protected needsKey(): boolean {
    return false;
  }

  /** Fresh state: network parameters from `key`, the optimiser's state for them. */
  init(key: Tensor): IMNNState<P> {
    const w = this.model.init(key);
    const x = this.model.apply(w, reshape(tidy(() => this.atHome(this.probeInput())), [1, ...this.inputShape]));
    if (x.shape.length !== 2 || x.shape[1] !== this.nSummaries) {
      throw new ShapeError(`${this.op}: the model maps one input of shape [${this.inputShape.join(', ')}] (as a batch [1, ...]) to shape [${x.shape.join(', ')}], expected [1, ${this.nSummaries}] (nSummaries = ${this.nSummaries}).`);
    }
    return { w, opt: this.optimiser.init(w as PyTree) };
  }

  /** An input used to check the model's output shape. */
  protected abstract probeInput(): Tensor;

  /** Statistics F, C, C⁻¹, ∂μ/∂θ, μ at weights w (key: fresh simulations; validate: the validation set). */
  getFStatistics(w: P, key?: Tensor, validate = false): FStatistics {
    const [x, dx] = this.getSummaries(w, key, validate);
    return fisherStatistics(x, dx);
  }

  /**
   * One step: the gradient of Λ at state.w (reverse over the forward derivatives), one optimiser
   * update, and the statistics (validation ones at the updated weights).
   */
  update(state: IMNNState<P>, key: Tensor | undefined, λ: number, α: number): [IMNNState<P>, IMNNAux] {
    const [trainKey, valKey] = key ? splitKeys(key, 2) : [undefined, undefined];
    const steps = this.jitted();
    const [loss, st, g] = steps.gradient(state.w as PyTree, trainKey, λ, α);
    // the optimiser runs eagerly: its state holds a step count as a number, which would retrace
    const [upd, opt] = this.optimiser.update(g, state.opt, state.w as PyTree);
    const w = applyUpdates(state.w as PyTree, upd) as P;
    const aux: IMNNAux = { loss, detF: det(st.F), detC: det(st.C), detinvC: det(st.invC), Λ2: st.Λ2, r: st.r, wBefore: state.w as PyTree };
    // once the gradient fell back to eager the validation statistics (the same model) would fail to trace too: a second warning
    if (this.validate) Object.assign(aux, (steps.gradient.jitted ? steps.validation : this.validationStatistics)(w as PyTree, valKey, λ, α));
    return [{ w, opt }, aux];
  }

  /** Whether update's loss gradient and validation statistics are traced and replayed (the `jit` option; false once either fell back), their traces together, and the gradient's program cache. */
  jitInfo(): { jitted: boolean; retraces: number; cache: JitCacheInfo | null } {
    const s = this.steps;
    if (!s) return { jitted: this.home === undefined && this.jitMode !== false, retraces: 0, cache: null };
    return { jitted: s.gradient.jitted && s.validation.jitted, retraces: s.gradient.retraces + s.validation.retraces, cache: s.gradient.cacheInfo() };
  }

  /** The two traced parts of update, made at the first call (the Aggregated classes, home set, move chunks between backends: eager). */
  private jitted(): NonNullable<IMNN<P>['steps']> {
    const mode = this.home === undefined ? this.jitMode : false;
    return (this.steps ??= {
      gradient: jitStep(`${this.op}.update`, (w: PyTree, k: Tensor | undefined, l: number, a: number) => this.lossAndGradient(w as P, k, l, a), mode),
      validation: jitStep(`${this.op}.update`, this.validationStatistics, mode),
    });
  }

  /** The validation statistics at weights w (an arrow: update hands it to jitStep or calls it as it is). */
  private readonly validationStatistics = (w: PyTree, k: Tensor | undefined, l: number, a: number): Record<string, Tensor> => {
    const [, v] = imnnLoss(...this.getSummaries(w as P, k, true), l, a);
    return { val_detF: det(v.F), val_detC: det(v.C), val_detinvC: det(v.invC), val_Λ2: v.Λ2, val_r: v.r };
  };

  /**
   * Λ, its statistics and dΛ/dw at w, the simulations drawn with `key`: reverse mode over the
   * whole forward computation (the Aggregated classes override it with the chunked two-pass
   * chain rule).
   */
  protected lossAndGradient(w: P, key: Tensor | undefined, λ: number, α: number): [Tensor, LossAux, PyTree] {
    const lossFn = (v: P) => imnnLoss(...this.getSummaries(v, key, false), λ, α);
    const [[loss, st], g] = valueAndGrad(lossFn, { hasAux: true })(w) as [[Tensor, LossAux], PyTree];
    return [loss, st, g];
  }

  /** One fit iteration: `update`, or (an Aggregated class moving values asynchronously) its async twin. */
  protected fitStep(state: IMNNState<P>, key: Tensor | undefined, λ: number, α: number): [IMNNState<P>, IMNNAux] | Promise<[IMNNState<P>, IMNNAux]> {
    return this.update(state, key, λ, α);
  }

  /** The statistics at the end of a fit: `setFStatistics`, or its async twin. */
  protected fitStatistics(opts: { w: P; key?: Tensor }): void | Promise<void> {
    this.setFStatistics(opts);
  }

  /**
   * `update` with asynchronous passes (`summaries`: x and what `derive` turns into ∂x/∂θ;
   * `gradient`: the VJP along Λ's cotangents): every tensor that crosses an await is kept here
   * and freed once the new state and aux are made.
   */
  protected async updateTwoPass(
    state: IMNNState<P>, key: Tensor | undefined, λ: number, α: number, host: string,
    passes: { summaries: (w: P, key: Tensor | undefined, validate: boolean) => Promise<[Tensor, Tensor]>; derive: (a: Tensor) => Tensor; gradient: (cts: [Tensor, Tensor], w: P, key: Tensor | undefined) => Promise<PyTree> },
  ): Promise<[IMNNState<P>, IMNNAux]> {
    const owned: unknown[] = [];
    const own = <T>(x: T): T => (owned.push(x), keep(x));
    try {
      const [trainKey, valKey] = key ? own(tidy(() => splitKeys(key, 2))) : [undefined, undefined];
      const [x, a] = own(await passes.summaries(state.w, trainKey, false));
      const [loss, st, cts] = keep(tidy(() => lossCotangents(host, x, a, passes.derive, λ, α)));
      owned.push(cts, st.F, st.C, st.invC, st.dμdθ, st.μ);
      const g = own(await passes.gradient(cts, state.w, trainKey));
      const [next, aux] = keep(tidy(() => withBackend(host, () => {
        const [upd, opt] = this.optimiser.update(g, state.opt, state.w as PyTree);
        const w = applyUpdates(state.w as PyTree, upd) as P;
        const aux: IMNNAux = { loss, detF: det(st.F), detC: det(st.C), detinvC: det(st.invC), Λ2: st.Λ2, r: st.r, wBefore: state.w as PyTree };
        return [{ w, opt }, aux] as [IMNNState<P>, IMNNAux];
      })));
      if (this.validate) {
        const [vx, va] = own(await passes.summaries(next.w, valKey, true));
        Object.assign(aux, keep(tidy(() => withBackend(host, () => {
          const [, v] = imnnLoss(vx, passes.derive(va), λ, α);
          return { val_detF: det(v.F), val_detC: det(v.C), val_detinvC: det(v.invC), val_Λ2: v.Λ2, val_r: v.r };
        }))));
      }
      return [next, aux];
    } finally {
      dispose(owned);
    }
  }

  /** Sets the statistics from outputs x and derivatives dx (the async path of setFStatistics). */
  protected assignStatistics(x: Tensor, dx: Tensor): void {
    const st = tidy(() => {
      const s = fisherStatistics(x, dx);
      return { ...s, invF: inv(s.F, { onFailure: 'nan' }) };
    });
    dispose([this.F, this.C, this.invC, this.dμdθ, this.μ, this.invF].filter((t): t is Tensor => t !== undefined));
    Object.assign(this, keep(st));
  }

  /** The regularisation rate α from (λ, ε). */
  getα(λ: number, ε: number): number {
    return getα(λ, ε);
  }

  /**
   * imnn's fit: updates until patience iterations (counted after minIterations) pass without a
   * new maximum det F (the validation one with a validation set), or maxIterations. maxDetF and
   * the best weights persist across calls. Without validation the det F of an update is that of
   * the weights before it, and those are the weights kept (imnn keeps the ones after: an
   * off-by-one). Ends with `setFStatistics` at the best (or last) weights.
   */
  async fit(λ: number, ε: number, opts: FitOptions = {}): Promise<this> {
    const op = `${this.op}.fit`;
    const α = getα(λ, ε);
    if (opts === null || typeof opts !== 'object') throw new ConfigError(`${op}: options must be an object.`);
    for (const k of Object.keys(opts)) if (!FIT_KEYS.includes(k)) throw new ConfigError(`${op}: unknown option '${k}' (known: ${FIT_KEYS.join(', ')}).`);
    const posInt = (name: string, v: unknown, dflt: number) => {
      const x = v ?? dflt;
      if (typeof x !== 'number' || !Number.isInteger(x) || x < 0) throw new ConfigError(`${op}: ${name} must be a non-negative integer, got ${String(v)}.`);
      return x;
    };
    const patience = posInt('patience', opts.patience, 100);
    if (patience < 1) throw new ConfigError(`${op}: patience must be ≥ 1, got ${patience}.`);
    const minIterations = posInt('minIterations', opts.minIterations, 100);
    const maxIterations = posInt('maxIterations', opts.maxIterations, 100000);
    const printRate = opts.printRate === undefined ? undefined : posInt('printRate', opts.printRate, 0);
    if (printRate === 0) throw new ConfigError(`${op}: printRate must be ≥ 1.`);
    if (opts.best !== undefined && typeof opts.best !== 'boolean') throw new ConfigError(`${op}: best must be a boolean.`);
    const best = opts.best ?? true;
    if (opts.rng !== undefined && !(opts.rng instanceof Tensor && opts.rng.dtype === 'int32' && opts.rng.size === 2)) throw new ConfigError(`${op}: rng must be a PRNG key (bt.random.key(seed)).`);
    if (this.needsKey() && opts.rng === undefined) throw new ConfigError(`${op}: rng is required to draw simulations (pass bt.random.key(seed)).`);

    const settings = { λ, ε, patience, minIterations, best };
    if (opts.checkpoint !== undefined && (opts.checkpoint === null || typeof opts.checkpoint !== 'object' || typeof opts.checkpoint.save !== 'function')) {
      throw new ConfigError(`${op}: checkpoint must be { every, save(checkpoint) }.`);
    }
    let counter = 0;
    let patienceCounter = 0;
    let resume: Checkpoint | undefined;
    if (opts.resume !== undefined) {
      const [cp, extras] = this.readFitCheckpoint(op, opts.resume, settings);
      resume = cp;
      counter = extras.counter;
      patienceCounter = extras.patienceCounter;
      const old = this.bestW;
      this.bestW = extras.bestW ?? undefined;
      if (old && old !== this.w) dispose(old as PyTree);
      this.history = extras.history;
    }
    const init = this.state;
    const h = this.history;
    const checkpoint: CheckpointOptions | undefined = opts.checkpoint && {
      every: opts.checkpoint.every,
      save: async (cp) => {
        const extras: FitExtras<P> = { settings, counter, patienceCounter, bestW: this.bestW ?? null, history: h };
        await opts.checkpoint!.save({ ...cp, imnn: await toJSON(extras) } as IMNNCheckpoint);
      },
    };
    const read = async (t: Tensor | undefined) => (t === undefined ? NaN : (await t.data())[0]!);
    let result;
    try {
      result = await loopRun<IMNNState<P>, IMNNAux>(init, {
        name: op,
        step: (s, k) => this.fitStep(s, k, λ, α),
        steps: maxIterations,
        ...(opts.rng ? { key: opts.rng } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
        ...(checkpoint ? { checkpoint } : {}),
        ...(resume ? { resume, ...(this.home ? { backend: this.home } : {}) } : {}),
        ...(printRate ? { progressEvery: printRate } : {}),
        progress: printRate !== undefined,
        unit: 'iteration',
        values: (_s, a) => ({ detF: a.detF, ...(a.val_detF ? { val_detF: a.val_detF } : {}), Λ2: a.Λ2, r: a.r }),
        onStep: async (next, aux, t) => {
          const it = t - 1;
          for (const k of STATS) h[k].push(await read(aux[k]));
          if (this.validate) for (const k of STATS) h[`val_${k}`].push(await read(aux[`val_${k}`]));
          const i = h.detF.length - 1;
          const bad = (pre: '' | 'val_') => {
            const f = h[`${pre}detF`][i]!;
            const c = h[`${pre}detC`][i]!;
            if (!Number.isFinite(f) || !Number.isFinite(c) || !(c > 0)) {
              return `the ${pre ? 'validation ' : ''}covariance C or Fisher information F is singular or not finite at iteration ${it} (det C = ${c}, det F = ${f})`;
            }
            return null;
          };
          const why = bad('') ?? (this.validate ? bad('val_') : null);
          if (why) {
            throw new NumericalError(`${op}: ${why}. The best weights so far (det F = ${h.maxDetF}) are kept in .w; a smaller learning rate, more simulations (nS) or fewer summaries may help.`);
          }
          const v = this.validate ? h.val_detF[i]! : h.detF[i]!;
          if (v > h.maxDetF) {
            h.maxDetF = v;
            patienceCounter = 0;
            const old = this.bestW;
            this.bestW = copyTree((this.validate ? next.w : aux.wBefore) as P);
            if (old) dispose(old as PyTree);
          } else if (counter > minIterations) patienceCounter++;
          counter++;
          return patienceCounter >= patience ? `no new maximum det F in ${patience} iterations (patience)` : undefined;
        },
      });
    } catch (e) {
      const st = (e as { state?: IMNNState<P> }).state;
      const oldW = this.w;
      if (st) this.state = st;
      if (this.bestW) this.w = this.bestW;
      release([init, oldW], [this.state, this.w, this.bestW]);
      throw e;
    }
    const oldW = this.w;
    this.state = result.state;
    this.w = best && this.bestW ? this.bestW : this.state.w;
    release([init, oldW], [this.state, this.w, this.bestW]);
    await this.fitStatistics({ w: this.w, ...(opts.rng ? { key: opts.rng } : {}) });
    return this;
  }

  /** A fit checkpoint read back: the loop's part, and the fit's counters, best weights and history (checked against this fit's settings). */
  private readFitCheckpoint(op: string, raw: unknown, settings: FitExtras<P>['settings']): [Checkpoint, FitExtras<P>] {
    let cp = raw;
    if (typeof cp === 'string') {
      try {
        cp = JSON.parse(cp);
      } catch (e) {
        throw new ConfigError(`${op}: resume is a string but not JSON: ${(e as Error).message}`);
      }
    }
    const imnn = (cp as { imnn?: unknown } | null)?.imnn;
    if (imnn === undefined) throw new ConfigError(`${op}: resume must be a checkpoint of an IMNN fit (what fit's checkpoint.save received), with its 'imnn' part.`);
    const extras = fromJSON(imnn, this.home ? { backend: this.home } : {}) as FitExtras<P>;
    const diff = Object.entries(settings).filter(([k, v]) => (extras.settings as Record<string, unknown>)[k] !== v);
    if (diff.length > 0) {
      dispose(extras.bestW as PyTree);
      throw new ConfigError(`${op}: the checkpoint was saved by a fit with ${diff.map(([k]) => `${k} = ${String((extras.settings as Record<string, unknown>)[k])}`).join(', ')}, not ${diff.map(([k, v]) => `${k} = ${String(v)}`).join(', ')}; resume with the same arguments.`);
    }
    const h = extras.history;
    const lens = [...STATS].map((k) => h[k].length);
    if (lens.some((l) => l !== lens[0])) throw new ConfigError(`${op}: the checkpoint's history is malformed.`);
    return [cp as Checkpoint, extras];
  }

  /**
   * Sets F, C, C⁻¹, ∂μ/∂θ, μ and F⁻¹ from the validation set (validate and one exists), else
   * fresh simulations drawn with key (SimulatorIMNN), else the fitting set; at w (default .w).
   */
  setFStatistics(opts: { w?: P; key?: Tensor; validate?: boolean } = {}): this {
    const w = opts.w ?? this.w;
    const validate = (opts.validate ?? true) && this.validate;
    if (this.needsKey() && opts.key === undefined) throw new ConfigError(`${this.op}.setFStatistics: key is required to draw simulations.`);
    const st = tidy(() => {
      const s = this.getFStatistics(w, opts.key, validate);
      return { ...s, invF: inv(s.F, { onFailure: 'nan' }) };
    });
    dispose([this.F, this.C, this.invC, this.dμdθ, this.μ, this.invF].filter((t): t is Tensor => t !== undefined));
    Object.assign(this, keep(st));
    return this;
  }

  /**
   * Score-compressed estimates θ̂ = θ_fid + F⁻¹ (∂μ/∂θ)ᵀ C⁻¹ (f_w(d) − μ) of one input
   * [...inputShape] ([nParams]) or a batch [n, ...inputShape] ([n, nParams]).
   */
  getEstimate(d: Tensor): Tensor {
    const op = `${this.op}.getEstimate`;
    if (!this.F || !this.invF || !this.invC || !this.dμdθ || !this.μ) {
      throw new ConfigError(`${op}: the Fisher information has not been calculated yet; call fit(...) or setFStatistics({ w, key }) first.`);
    }
    if (!(d instanceof Tensor)) throw new ConfigError(`${op}: d must be a Tensor of shape [${this.inputShape.join(', ')}] or [n, ${this.inputShape.join(', ')}].`);
    const k = this.inputShape.length;
    const tail = d.shape.slice(d.ndim - k);
    const single = d.ndim === k;
    if (!(d.ndim === k || d.ndim === k + 1) || tail.some((s, i) => s !== this.inputShape[i])) {
      throw new ShapeError(`${op}: d has shape [${d.shape.join(', ')}], expected [${this.inputShape.join(', ')}] or [n, ${this.inputShape.join(', ')}].`);
    }
    return tidy(() => {
      const x = this.model.apply(this.w, single ? reshape(d, [1, ...this.inputShape]) : d);
      // rows: θ̂ᵀ = θ_fidᵀ + (x − μ)ᵀ C⁻¹ ∂μ/∂θ F⁻¹ (F⁻¹ symmetric)
      const θ = add(matmul(matmul(matmul(sub(x, this.μ!), this.invC!), this.dμdθ!), this.invF!), this.θFid);
      return single ? reshape(θ, [this.nParams]) : θ;
    });
  }

  /**
   * Frees the tensors this instance owns: the training state (weights and optimiser state), the
   * best weights, the Fisher statistics, and θFid when it was given as numbers. What the caller
   * passed in as tensors (θFid, data sets, a state given as keyOrState, which was copied) stays
   * theirs. The instance is unusable afterwards.
   */
  dispose(): void {
    const stats = [this.F, this.C, this.invC, this.dμdθ, this.μ, this.invF];
    release([this.state, this.w, this.bestW ?? null, stats, this.ownsθFid ? this.θFid : null], []);
    this.steps?.gradient.dispose();
    this.steps?.validation.dispose();
    this.F = this.C = this.invC = this.dμdθ = this.μ = this.invF = undefined;
    this.bestW = undefined;
  }

  /**
   * Takes `moved`, θFid moved to the host backend (the aggregated classes keep the loss there). A copy
   * belongs to this instance, and a θFid this instance made from numbers is freed once copied.
   */
  protected replaceθFid(moved: Tensor): void {
    if (moved === this.θFid) return;
    if (this.ownsθFid) this.θFid.dispose();
    (this as { θFid: Tensor }).θFid = keep(moved);
    this.ownsθFid = true;
  }

  /** The training history as an SVG string: det F (against expectedDetF), det C and det C⁻¹, Λ₂ and r. */
  plot(opts: PlotOptions = {}): string {
    return historyPlot(this.history, this.validate, opts);
  }
}
