/**
 * EvidenceMaximisation (jaxns experimental/evidence_maximisation.py): type-II maximum likelihood
 * of a Model's parameters θ by alternating an E-step (nested sampling at θ) and an M-step that
 * maximises the reweighted evidence log Ẑ(θ) over the E-step's fixed unit-cube points (see
 * objective.ts). `train` runs on bt.loop (progress, abort, checkpoint, resume); step s uses
 * foldIn(key, s).
 */
import { Tensor } from '../../tensor.js';
import { ConfigError } from '../../errors.js';
import { tensor } from '../../autodiff/ops/creation.js';
import { clip, isFinite as isFiniteOp, mul, neg, where } from '../../autodiff/ops/elementwise.js';
import { valueAndGrad } from '../../autodiff/reverse.js';
import { hvp } from '../../autodiff/jacobian.js';
import { ravel } from '../../autodiff/ravel.js';
import { tidy, keep, dispose } from '../../memory.js';
import { checkKey, foldIn, key as makeKey, permutation } from '../../random.js';
import { applyUpdates } from '../../optim/apply.js';
import type { GradientTransformation } from '../../optim/types.js';
import { run as loopRun } from '../loop/loop.js';
import type { Progress, ProgressOptions } from '../loop/progress.js';
import type { Checkpoint, CheckpointOptions } from '../loop/checkpoint.js';
import { Model, type ModelParams } from '../nested-sampling/model.js';
import { NestedSampler, type NestedSamplerOptions } from '../nested-sampling/sampler.js';
import type { NestedSamplerResults } from '../nested-sampling/results.js';
import type { TerminationCond } from '../nested-sampling/termination.js';
import { kishESS, logEvidence, logTerms, mStepData, type MStepData } from './objective.js';
import { newtonCG } from './newton-cg.js';

/** An M-step solver: jaxns' trust-region Newton–CG, minibatch Armijo SGD with heavy-ball momentum, or a bt.optim transformation. */
export type EMSolver = 'newton-cg' | 'sgd' | GradientTransformation;

/** Options of EvidenceMaximisation (jaxns' names in camelCase). */
export interface EvidenceMaximisationOptions {
  /** The model whose params are fitted. */
  model: Model;
  /** NestedSampler options of each E-step (jaxns' ns_kwargs); must give maxSamples. */
  nsOptions: NestedSamplerOptions;
  /** Most solver runs (epochs) per M-step (default 50). */
  maxNumEpochs?: number;
  /** An M-step ends when no parameter entry moves more than this in an epoch (default 0.01). */
  gtol?: number;
  /** train stops before an M-step when |Δ log Z| < max(logZFtol·logZUncert, logZAtol) (default 1). */
  logZFtol?: number;
  /** See logZFtol (default 1e-4). */
  logZAtol?: number;
  /** Minibatch size of 'sgd' and optim solvers (default 128; 'newton-cg' uses all samples, as jaxns). */
  batchSize?: number;
  /** Heavy-ball momentum of 'sgd' (default 0; 'newton-cg' ignores it, as jaxns). */
  momentum?: number;
  /** The E-steps' termination (default: the sampler's, dlogZ = log(1 + 1e-3)). */
  terminationCond?: TerminationCond;
  /** Print a line per EM step. */
  verbose?: boolean;
  /** The M-step solver (default 'newton-cg'). */
  solver?: EMSolver;
  /** PRNG key of train (default bt.random.key(0)). */
  key?: Tensor;
  /**
   * The ESS guard: an M-step stops (its last move halved until it holds) when the reweighted
   * Kish ESS falls below this fraction of the E-step's ESS (default 0.5; 0 turns it off).
   */
  minESSFraction?: number;
}

/** What an M-step returns. */
export interface MStepResult {
  /** The new parameters. */
  params: ModelParams;
  /** log Ẑ at the new parameters over all the E-step's samples. */
  logZ: number;
  /** Solver runs taken. */
  epochs: number;
  /** Kish ESS of the reweighted samples at the new parameters. */
  ess: number;
  /** True when the ESS guard ended the M-step: the reweighted ESS fell below half the E-step's, so the last move was halved until it did not. */
  essLimited: boolean;
}

/** One EM step as train reports it. */
export interface EMStepRecord {
  /** The step counter. */
  step: number;
  /** The E-step's log Z. */
  logZ: number;
  /** Its uncertainty. */
  logZUncert: number;
  /** log Ẑ after the M-step (NaN when there was none). */
  mStepLogZ: number;
  /** The M-step's epochs (0: none). */
  epochs: number;
  /** Whether the ESS guard ended the M-step. */
  essLimited: boolean;
}

/** Options of eStep (those of NestedSampler.run that an E-step takes). */
export interface EStepOptions {
  /** Called with the sampler's progress (steps are shells). */
  onProgress?: (p: Progress) => void;
  /** Stops the E-step between shells: the results so far come back, with terminationReason 0. */
  signal?: AbortSignal;
  /** The sampler's progress display (default off). */
  progress?: boolean | ProgressOptions;
}

/** Options of train. */
export interface EMTrainOptions {
  /** Called with the loop's progress (steps are EM steps; values logZ, logZUncert). */
  onProgress?: (p: Progress) => void;
  /**
   * Stops the run between EM steps, or inside an E-step between its shells; the answer is then
   * the last finished E-step and its params (reason 'aborted'), or, when the first E-step was
   * cut short, its partial results (terminationReason 0).
   */
  signal?: AbortSignal;
  /** The progress display (default off). */
  progress?: boolean | ProgressOptions;
  /** Save a checkpoint every `every` EM steps. */
  checkpoint?: CheckpointOptions;
  /** Carry on from a checkpoint (then `params` is taken from it). */
  resume?: Checkpoint | string;
}

/** What train returns: the last E-step's results and the params that produced them. */
export interface EMTrainResult {
  /** The last E-step's results. */
  results: NestedSamplerResults;
  /** The params that produced them. */
  params: ModelParams;
  /** Every step's numbers (those before a resume included). */
  history: EMStepRecord[];
  /** Why the loop stopped ('terminated: converged …', 'completed', 'aborted'). */
  reason: string;
}

interface EMState {
  params: ModelParams;
  logZPrev: number;
  converged: boolean;
  history: EMStepRecord[];
}

const KNOWN = ['model', 'nsOptions', 'maxNumEpochs', 'gtol', 'logZFtol', 'logZAtol', 'batchSize', 'momentum', 'terminationCond', 'verbose', 'solver', 'key', 'minESSFraction'];
const ESTEP_KNOWN = ['onProgress', 'signal', 'progress'];
const TRAIN_KNOWN = ['onProgress', 'signal', 'progress', 'checkpoint', 'resume'];
const OP = 'em.EvidenceMaximisation';

const isTransformation = (s: unknown): s is GradientTransformation => !!s && typeof s === 'object' && typeof (s as GradientTransformation).init === 'function' && typeof (s as GradientTransformation).update === 'function';

/** Evidence maximisation: E-step = nested sampling, M-step = maximise the reweighted evidence. */
export class EvidenceMaximisation {
  readonly model: Model;
  readonly nsOptions: NestedSamplerOptions;
  readonly maxNumEpochs: number;
  readonly gtol: number;
  readonly logZFtol: number;
  readonly logZAtol: number;
  readonly batchSize: number;
  readonly momentum: number;
  readonly terminationCond: TerminationCond | undefined;
  readonly verbose: boolean;
  readonly solver: EMSolver;
  readonly key: Tensor;
  readonly minESSFraction: number;

  constructor(options: EvidenceMaximisationOptions) {
    if (!options || typeof options !== 'object') throw new ConfigError(`${OP}: expected options { model, nsOptions: { maxSamples, ... }, ... }.`);
    for (const k of Object.keys(options)) if (!KNOWN.includes(k)) throw new ConfigError(`${OP}: unknown option '${k}' (known: ${KNOWN.join(', ')}).`);
    if (!(options.model instanceof Model)) throw new ConfigError(`${OP}: model must be an ns.Model, got ${String(options.model)}.`);
    const ns = options.nsOptions;
    if (!ns || typeof ns !== 'object' || ns.maxSamples === undefined) throw new ConfigError(`${OP}: nsOptions must give maxSamples (jaxns' ns_kwargs needs at least max_samples), e.g. { maxSamples: 2000 }.`);
    const num = (k: string, v: unknown, def: number, ok: (x: number) => boolean, what: string): number => {
      if (v === undefined) return def;
      if (typeof v !== 'number' || !ok(v)) throw new ConfigError(`${OP}: ${k} must be ${what}, got ${String(v)}.`);
      return v;
    };
    this.model = options.model;
    this.nsOptions = { ...ns };
    // the sampler's own checks (unknown options, ranges) now, not at the first E-step
    new NestedSampler(this.model, this.nsOptions).dispose();
    this.maxNumEpochs = num('maxNumEpochs', options.maxNumEpochs, 50, (x) => Number.isInteger(x) && x >= 1, 'a positive integer');
    this.gtol = num('gtol', options.gtol, 0.01, (x) => x > 0, 'a positive number');
    this.logZFtol = num('logZFtol', options.logZFtol, 1, (x) => x >= 0, 'a non-negative number');
    this.logZAtol = num('logZAtol', options.logZAtol, 1e-4, (x) => x >= 0, 'a non-negative number');
    this.batchSize = num('batchSize', options.batchSize, 128, (x) => Number.isInteger(x) && x >= 1, 'a positive integer');
    this.minESSFraction = num('minESSFraction', options.minESSFraction, 0.5, (x) => x >= 0 && x <= 1, 'in [0, 1]');
    this.momentum = num('momentum', options.momentum, 0, (x) => x >= 0 && x < 1, 'in [0, 1)');
    if (options.verbose !== undefined && typeof options.verbose !== 'boolean') throw new ConfigError(`${OP}: verbose must be a boolean.`);
    this.verbose = options.verbose ?? false;
    const solver = options.solver ?? 'newton-cg';
    if (!(solver === 'newton-cg' || solver === 'sgd' || isTransformation(solver))) {
      throw new ConfigError(`${OP}: unknown solver ${typeof solver === 'string' ? `'${solver}'` : String(solver)} (known: 'newton-cg', 'sgd', or a bt.optim transformation such as bt.optim.adam(1e-2)).`);
    }
    this.solver = solver;
    this.terminationCond = options.terminationCond;
    this.key = options.key === undefined ? makeKey(0) : checkKey(OP, options.key);
  }

  private checkParams(op: string, params: ModelParams): Model {
    if (params === null || typeof params !== 'object') throw new ConfigError(`${op}: params must be the model's params pytree (model.params).`);
    return this.model.withParams(params);
  }

  /**
   * The E-step: `NestedSampler.run` of model(params) with nsOptions and terminationCond from
   * `key` (so on any backend the sampler runs on, with its progress and abort); the same results
   * as `new ns.NestedSampler(model(params), nsOptions).run(key, { terminationCond })`.
   */
  async eStep(key: Tensor, params: ModelParams = this.model.params, options: EStepOptions = {}): Promise<NestedSamplerResults> {
    const op = `${OP}.eStep`;
    checkKey(op, key);
    const model = this.checkParams(op, params);
    if (options === null || typeof options !== 'object') throw new ConfigError(`${op}: options must be an object.`);
    for (const k of Object.keys(options)) if (!ESTEP_KNOWN.includes(k)) throw new ConfigError(`${op}: unknown option '${k}' (known: ${ESTEP_KNOWN.join(', ')}).`);
    // a fresh sampler per E-step (θ changes): its compiled likelihood programs go with it
    const sampler = new NestedSampler(model, this.nsOptions);
    try {
      return await sampler.run(key, { terminationCond: this.terminationCond, onProgress: options.onProgress, signal: options.signal, progress: options.progress ?? false });
    } finally {
      sampler.dispose();
    }
  }

  /**
   * The M-step: maximise log Ẑ(θ) from `params` over the E-step's samples, one solver run per
   * epoch until no entry of θ moves more than gtol (at most maxNumEpochs). `key` shuffles the
   * minibatches of 'sgd' and optim solvers. Stops early (essLimited) when the reweighted Kish ESS
   * falls below half the E-step's.
   */
  mStep(key: Tensor, params: ModelParams, results: NestedSamplerResults): MStepResult {
    const op = `${OP}.mStep`;
    checkKey(op, key);
    this.checkParams(op, params);
    const data = mStepData(op, results);
    try {
      return this.maximise(key, params, data, results.ESS);
    } finally {
      dispose([data.U, data.logW]);
    }
  }

  private maximise(key: Tensor, params: ModelParams, data: MStepData, essE: number): MStepResult {
    const model = this.model;
    const [flat0, unravel] = ravel(params);
    const n = flat0.size;
    let x: Float64Array = Float64Array.from(flat0.dataSync());
    flat0.dispose();
    const asParams = (v: Float64Array | Tensor) => unravel(v instanceof Tensor ? v : tensor(v, { shape: [n], dtype: 'float64' })) as ModelParams;
    const loss = (t: Tensor, rows?: Tensor) => neg(logEvidence(model, asParams(t), data, rows));
    const fFull = (v: Float64Array) => tidy(() => loss(tensor(v, { shape: [n], dtype: 'float64' })).item() as number);
    const essAt = (v: Float64Array) => tidy(() => kishESS(logTerms(model, asParams(v), data).dataSync()));
    const essMin = this.minESSFraction * essE;
    let epochs = 0;
    let essLimited = false;
    let opt: { state: unknown } | null = null;
    let step = 1; // the Armijo step size, carried across minibatches
    let prevX: Float64Array = x.slice(); // heavy-ball memory
    for (let epoch = 0; epoch < this.maxNumEpochs && n > 0; epoch++) {
      const before = x.slice();
      if (this.solver === 'newton-cg') {
        const obj = {
          f: fFull,
          valueAndGrad: (v: Float64Array): [number, Float64Array] =>
            tidy(() => {
              const [val, g] = valueAndGrad((t: Tensor) => loss(t))(tensor(v, { shape: [n], dtype: 'float64' }));
              return [(val as Tensor).item() as number, Float64Array.from((g as Tensor).dataSync())];
            }),
          hvp: (v: Float64Array, d: Float64Array) =>
            tidy(() => Float64Array.from(hvp((t: Tensor) => loss(t), tensor(v, { shape: [n], dtype: 'float64' }), tensor(d, { shape: [n], dtype: 'float64' })).dataSync())),
        };
        x = newtonCG(obj, x).x;
      } else {
        const B = Math.min(this.batchSize, data.n);
        const nb = Math.max(1, Math.floor(data.n / B));
        const perm = tidy(() => Int32Array.from(permutation(foldIn(key, epoch), data.n).dataSync()));
        for (let b = 0; b < nb; b++) {
          const rowsHost = perm.subarray(b * B, (b + 1) * B);
          tidy(() => {
            const rows = tensor(Int32Array.from(rowsHost), { shape: [rowsHost.length], dtype: 'int32' });
            const t = tensor(x, { shape: [n], dtype: 'float64' });
            const [val, g0] = valueAndGrad((z: Tensor) => loss(z, rows))(t);
            const fb = (val as Tensor).item() as number;
            // jaxns' ArmijoSGD loss: gradient zeroed when the objective is not finite, clipped to ±10
            const g = Number.isFinite(fb) ? clip(where(isFiniteOp(g0 as Tensor), g0 as Tensor, 0), -10, 10) : mul(g0 as Tensor, 0);
            const gh = Float64Array.from(g.dataSync()).map((v) => (Number.isFinite(v) ? v : 0));
            if (this.solver === 'sgd') {
              // stochastic Armijo line search (jaxopt ArmijoSGD defaults), then heavy-ball momentum
              const g2 = gh.reduce((a, v) => a + v * v, 0);
              step = Math.min(step * 1.5, 1);
              const fAt = (s: number) => loss(tensor(x.map((v, i) => v - s * gh[i]!), { shape: [n], dtype: 'float64' }), rows).item() as number;
              for (let ls = 0; ls < 15 && Number.isFinite(fb) && !(fAt(step) <= fb - 0.9 * step * g2); ls++) step *= 0.8;
              const next = x.map((v, i) => v - step * gh[i]! + this.momentum * (v - prevX[i]!));
              prevX = x;
              x = next;
            } else {
              const tr = this.solver as GradientTransformation;
              const pt = tensor(x, { shape: [n], dtype: 'float64' });
              if (!opt) opt = { state: keep(tr.init(pt)) };
              const [updates, state] = tr.update(tensor(gh, { shape: [n], dtype: 'float64' }), opt.state as never, pt);
              const old = opt.state;
              opt.state = keep(state);
              dispose(old);
              x = Float64Array.from((applyUpdates(pt, updates) as Tensor).dataSync());
            }
          });
        }
      }
      epochs = epoch + 1;
      // the guard jaxns lacks: weights that degenerate as θ moves are no estimate of Z(θ)
      if (essMin > 0 && essAt(x) < essMin) {
        essLimited = true;
        let back: Float64Array = x;
        for (let k = 0; k < 30 && essAt(back) < essMin; k++) back = back.map((v, i) => 0.5 * (v + before[i]!));
        x = back;
        break;
      }
      let moved = 0;
      for (let i = 0; i < n; i++) moved = Math.max(moved, Math.abs(x[i]! - before[i]!));
      if (!(moved >= this.gtol)) break;
    }
    if (opt) dispose((opt as { state: unknown }).state);
    const out = tidy(() => {
      const p = asParams(x);
      return keep(p);
    });
    return { params: out, logZ: -fFull(x), epochs, ess: essAt(x), essLimited };
  }

  /**
   * Trains for up to numSteps EM steps from `params` (default model.params) and returns the last
   * E-step's results with the params that produced them. Each step runs an E-step; it stops when
   * |Δ log Z| < max(logZFtol·logZUncert, logZAtol), else runs an M-step — except on the last
   * step, whose E-step's params are the answer. Step s uses foldIn(key, s).
   */
  async train(numSteps = 10, params?: ModelParams, options: EMTrainOptions = {}): Promise<EMTrainResult> {
    const op = `${OP}.train`;
    if (!Number.isInteger(numSteps) || numSteps < 1) throw new ConfigError(`${op}: numSteps must be a positive integer, got ${String(numSteps)}.`);
    if (options === null || typeof options !== 'object') throw new ConfigError(`${op}: options must be an object.`);
    for (const k of Object.keys(options)) if (!TRAIN_KNOWN.includes(k)) throw new ConfigError(`${op}: unknown option '${k}' (known: ${TRAIN_KNOWN.join(', ')}).`);
    const p0 = params ?? this.model.params;
    if (options.resume === undefined) this.checkParams(op, p0);
    let last: { results: NestedSamplerResults; params: ModelParams } | null = null;
    const init: EMState | null = options.resume === undefined ? { params: p0, logZPrev: -Infinity, converged: false, history: [] } : null;
    // the newest params the loop holds (an M-step's output), freed here if a later step throws
    let current: ModelParams = p0;
    let history: EMStepRecord[] = [];
    const signal = options.signal;
    const copyParams = (p: ModelParams): ModelParams => {
      const copy: ModelParams = {};
      for (const [k, t] of Object.entries(p)) copy[k] = keep(tensor(Float64Array.from(t.dataSync()), { shape: t.shape, dtype: 'float64' }));
      return copy;
    };
    const run = loopRun<EMState, EMStepRecord>(init, {
      name: op,
      steps: numSteps,
      key: this.key,
      unit: 'EM step',
      signal,
      onProgress: options.onProgress,
      progress: options.progress ?? false,
      checkpoint: options.checkpoint,
      resume: options.resume,
      // async: the loop's tidy scope covers only the part before the first await, so everything
      // made after it is kept or disposed here by hand (the E-step and M-step tidy their own work)
      step: async (state, ks, s) => {
        history = state.history;
        current = state.params;
        const results = keep(await this.eStep(ks!, state.params, { signal }));
        if (signal?.aborted && results.terminationReason === 0) throw new EStepAborted(results, state.params);
        if (last) dispose([last.results, last.params]);
        // a copy: the loop frees the state's params once an M-step replaces them
        last = { results, params: copyParams(state.params) };
        const dZ = Math.abs(results.logZMean - state.logZPrev);
        const converged = dZ < Math.max(this.logZFtol * results.logZUncert, this.logZAtol);
        const rec: EMStepRecord = { step: s, logZ: results.logZMean, logZUncert: results.logZUncert, mStepLogZ: NaN, epochs: 0, essLimited: false };
        let next = state.params;
        if (!converged && s < numSteps - 1) {
          const km = foldIn(ks!, 1);
          try {
            const m = this.mStep(km, state.params, results);
            next = m.params;
            rec.mStepLogZ = m.logZ;
            rec.epochs = m.epochs;
            rec.essLimited = m.essLimited;
          } finally {
            km.dispose();
          }
        }
        if (this.verbose) {
          const th = Object.entries(next).map(([k, v]) => `${k} = [${Array.from(v.dataSync(), (z) => z.toPrecision(4)).join(', ')}]`).join(', ');
          console.log(`em step ${s}: log Z = ${results.logZMean.toFixed(4)} ± ${results.logZUncert.toFixed(4)}${converged ? ` (converged: |Δ log Z| = ${dZ.toExponential(2)})` : ''}${rec.epochs ? `; M-step log Ẑ = ${rec.mStepLogZ.toFixed(4)} in ${rec.epochs} epoch(s)${rec.essLimited ? ', ESS-limited' : ''}; ${th}` : ''}`);
        }
        current = next;
        return [{ params: next, logZPrev: results.logZMean, converged, history: [...state.history, rec] }, rec];
      },
      values: (_s, a) => ({ logZ: a.logZ, logZUncert: a.logZUncert }),
      onStep: (s) => (s.converged ? 'converged' : undefined),
    });
    let r: Awaited<typeof run>;
    try {
      r = await run;
    } catch (e) {
      const held = last as { results: NestedSamplerResults; params: ModelParams } | null;
      if (e instanceof EStepAborted) {
        // aborted inside an E-step: the last finished one is the answer, else (the first E-step was
        // cut short) the partial one; the state the loop hands over on the error is freed here
        const params = held ? held.params : copyParams(e.params);
        if (current !== p0) dispose(current);
        if (held) dispose(e.results);
        return { results: held ? held.results : e.results, params, history, reason: 'aborted' };
      }
      // a failed step (e.g. a NumericalError in an E-step) leaves the previous step's kept results
      // and params with no owner: free them before the error propagates
      if (held) dispose([held.results, held.params]);
      if (current !== p0) dispose(current);
      throw e;
    }
    const lastNow = last as { results: NestedSamplerResults; params: ModelParams } | null;
    if (!lastNow) {
      // a resume of a finished run: its answer again (the E-step of its last step)
      const s = Math.max(0, r.step - 1);
      const k = foldIn(this.key, s);
      try {
        const results = await this.eStep(k, r.state.params);
        return { results, params: r.state.params, history: r.state.history, reason: r.reason };
      } finally {
        k.dispose();
      }
    }
    // the params that produced the last results (the state's are newer only after an abort mid-run)
    if (r.state.params !== p0) dispose(r.state.params);
    return { results: lastNow.results, params: lastNow.params, history: r.state.history, reason: r.reason };
  }
}

/** Thrown out of train's loop when its signal cut an E-step short (carries the partial results). */
class EStepAborted extends Error {
  constructor(readonly results: NestedSamplerResults, readonly params: ModelParams) {
    super('aborted inside an E-step');
  }
}
