/**
 * The functional face of GMMVI, as bt.sgmcmc: `init(config, target, key)` → a plain state (a
 * pytree of tensors, numbers and the JSON config, so bt.tree.toJSON / fromJSON save and restore
 * it), `update(state, key, target)` → [state, info], where iteration t of a run uses
 * foldIn(key, t) with t = state.numUpdates — a restored state resumes with the numbers of an
 * uninterrupted run (CPU) — and `run(state, target, { iterations, key, logMetricsInterval,
 * onProgress, onIteration, signal, progress, checkpoint, resume })` on the shared run loop
 * (src/algorithms/loop, as bt.sgmcmc.run and bt.vi.fit), with gmmvi's metrics (§9): −ELBO from
 * 2000 model samples, the entropy estimate, components, target evaluations, max weight, database
 * size, seconds.
 *
 * The target is an argument, not part of the state: it holds functions, which a saved state
 * cannot.
 */
import { Tensor } from '../../tensor.js';
import { ConfigError, ShapeError } from '../../errors.js';
import { checkKnown } from '../../validate.js';
import { fromJSON } from '../../tree-json.js';
import { tidy, dispose } from '../../memory.js';
import { mean, max } from '../../autodiff/ops/reduce.js';
import { mul, sub, exp } from '../../autodiff/ops/elementwise.js';
import { foldIn } from '../../random.js';
import { sample, logDensity, numComponents, disposeGmmPrograms } from './gmm.js';
import { gmmWrapperFromConfig } from './wrapper.js';
import { sampleDbFromConfig } from './sample-db.js';
import { constructInitialModel, gmmviStep, initGmmviState, parseModules, type GmmviModules, type GmmviState, type GmmviStepInfo } from './gmmvi.js';
import { checkTarget, type LNPDF } from './target.js';
import { run as loopRun } from '../loop/loop.js';
import type { ProgressOptions } from '../loop/progress.js';
import type { StopReason } from '../loop/stop.js';
import type { Checkpoint, CheckpointOptions } from '../loop/checkpoint.js';
import { disposeSteinPrograms } from './stein.js';
import { LETTER_CONFIGS, experimentNames, getDefaultExperimentConfig, type GmmviConfig } from './config.js';

/** A GMMVI run's state: the iteration state and the config it was built from. */
export interface GmmviRunState extends GmmviState {
  config: GmmviConfig;
}

/** The top-level keys a config may have: those of the codename letters' and the experiments' configs. */
function knownTopLevelKeys(): Set<string> {
  const keys = new Set<string>();
  for (const c of Object.values(LETTER_CONFIGS)) for (const k of Object.keys(c)) keys.add(k);
  for (const e of experimentNames()) for (const k of Object.keys(getDefaultExperimentConfig(e))) keys.add(k);
  return keys;
}

/**
 * The state before the first iteration: the initial model of `model_initialization` (drawn with
 * `key`), an empty database. A top-level config key that no codename letter or experiment config
 * has is a ConfigError naming it (a misspelt key would otherwise be ignored).
 */
export function init(config: GmmviConfig, target: LNPDF, key: Tensor, opts?: { dtype?: 'float64' | 'float32'; maxRewardHistoryLength?: number }): GmmviRunState {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) throw new ConfigError(`gmmvi.init: config must be a plain object (gmmvi.getDefaultConfig(codename, experiment)).`);
  const known = knownTopLevelKeys();
  for (const k of Object.keys(config)) if (!known.has(k)) throw new ConfigError(`gmmvi.init: unknown config key '${k}' (known: ${[...known].join(', ')}).`);
  const modules = parseModules(config, target);
  const d = target.numDimensions;
  const model = constructInitialModel(config, d, key, opts?.dtype ?? 'float64');
  const wrapper = gmmWrapperFromConfig(model, config, { maxRewardHistoryLength: opts?.maxRewardHistoryLength });
  const db = sampleDbFromConfig(config, d, opts?.dtype ?? 'float64');
  return { ...initGmmviState(modules, wrapper, db), config: JSON.parse(JSON.stringify(config)) as GmmviConfig };
}

/** One iteration with foldIn(key, state.numUpdates); the input state is neither modified nor freed. */
export async function update(state: GmmviRunState, key: Tensor, target: LNPDF): Promise<[GmmviRunState, GmmviStepInfo]> {
  const modules = parseModules(state.config, target);
  const k = foldIn(key, state.numUpdates);
  try {
    const [next, info] = await gmmviStep(modules, state, k);
    return [{ ...next, config: state.config }, info];
  } finally {
    k.dispose();
  }
}

/** gmmvi's logged metrics of one evaluation. */
export interface GmmviMetrics {
  iteration: number;
  /** −(mean log p̃(x) − β mean log q(x)) over `numSamples` model samples */
  negElbo: number;
  /** −mean log q(x) */
  entropy: number;
  numComponents: number;
  /** target evaluations so far (the database's numSamplesWritten) */
  targetEvaluations: number;
  maxWeight: number;
  databaseSize: number;
  /** seconds since the run started */
  seconds: number;
}

async function readOne(t: Tensor): Promise<number> {
  return Number((await t.data())[0]);
}

/**
 * −ELBO and entropy from `n` samples of the model (gmmvi evaluates 2000), and the other §9
 * metrics. The samples are scored with the target's `metricLogDensity` when it has one (the
 * full-batch density of a minibatched target), else with `logDensity`; neither counts as a target
 * evaluation.
 */
export async function evaluateMetrics(state: GmmviRunState, target: LNPDF, key: Tensor, n = 2000, seconds = 0): Promise<GmmviMetrics> {
  const beta = (state.config.temperature as number) ?? 1;
  const s = state.model.model;
  const { samples, mapping } = sample(s, n, key);
  const score = target.metricLogDensity ?? target.logDensity;
  const lp = await Promise.resolve(tidy(() => score.call(target, samples)));
  const [nElbo, ent, mw] = tidy(() => {
    const lq = logDensity(s, samples);
    return [mul(sub(mean(lp), mul(mean(lq), beta)), -1), mul(mean(lq), -1), max(exp(s.logWeights))] as const;
  });
  const out: GmmviMetrics = {
    iteration: state.numUpdates, negElbo: await readOne(nElbo), entropy: await readOne(ent), numComponents: numComponents(s),
    targetEvaluations: state.sampleDb.numSamplesWritten, maxWeight: await readOne(mw), databaseSize: state.sampleDb.samples.shape[0]!, seconds,
  };
  dispose([samples, mapping, lp, nElbo, ent, mw]);
  return out;
}

/** Options of `run`. */
export interface RunOptions {
  /** iterations in all (a restored state or checkpoint counts those it already ran) */
  iterations: number;
  /** PRNG key: iteration t uses foldIn(key, t); may be left out with `resume` (the checkpoint's key is used) */
  key?: Tensor;
  /** evaluate the metrics every this many iterations and at the end (default: the config's gmmvi_runner_config.log_metrics_interval, else 0 = only at the end) */
  logMetricsInterval?: number;
  /** samples for the metrics (default 2000) */
  metricSamples?: number;
  /** called with each evaluation of the metrics */
  onProgress?: (m: GmmviMetrics) => void;
  /** after every iteration with the new state, what it did and its iteration count; false (or a string, the reason) ends the run as `terminated: …` */
  onIteration?: (state: GmmviRunState, info: GmmviStepInfo, iteration: number) => void | boolean | string | Promise<void | boolean | string>;
  /** stops between iterations (reason 'aborted') */
  signal?: AbortSignal;
  /** the loop's display: a bar on a terminal, lines otherwise, shown after a moment; false silences it */
  progress?: boolean | ProgressOptions;
  /** save a checkpoint (bt.tree.toJSON data, JSON.stringify-able) every `every` iterations */
  checkpoint?: CheckpointOptions;
  /** carry on from a checkpoint (pass state null, the same target and options): the result equals the uninterrupted run's (CPU) */
  resume?: Checkpoint | string;
}

/** What `run` returns: the final state (the caller owns it), the metrics logged in this call, why it stopped. */
export interface RunResult {
  /** the state after the last iteration (the caller owns it) */
  state: GmmviRunState;
  /** the metrics logged in this call, oldest first (the last one is of the final state) */
  metrics: GmmviMetrics[];
  /** 'completed', 'aborted', or `terminated: …` (onIteration) */
  reason: StopReason;
  /** iterations taken by this call */
  iterations: number;
  /** seconds of this call */
  seconds: number;
  /** iterations per second in this call */
  iterationsPerSecond: number;
}

const KNOWN = ['iterations', 'key', 'logMetricsInterval', 'metricSamples', 'onProgress', 'onIteration', 'signal', 'progress', 'checkpoint', 'resume'];

/** The few fields of a checkpoint `run` needs before the loop restores it (the loop reports a malformed one). */
function peekCheckpoint(resume: unknown): { step: number; done: number; seconds: number; key: unknown } | null {
  try {
    const c = typeof resume === 'string' ? JSON.parse(resume) : resume;
    if (!c || typeof c !== 'object') return null;
    const o = c as Record<string, unknown>;
    return { step: Number(o.step) || 0, done: Number(o.done) || 0, seconds: typeof o.seconds === 'number' ? o.seconds : 0, key: o.key ?? null };
  } catch {
    return null;
  }
}

/**
 * Iterates `update` up to `iterations` on the shared run loop (src/algorithms/loop): abort,
 * display, checkpoints and resume come from there; the metrics are logged every
 * `logMetricsInterval` iterations and at the end, with keys independent of the iterations' draws.
 * A NumericalError of an iteration (the target returned NaN / +∞) carries the state before it as
 * `error.state` (the caller owns it).
 */
export async function run(state: GmmviRunState | null, target: LNPDF, opts: RunOptions): Promise<RunResult> {
  const op = 'gmmvi.run';
  if (opts === null || typeof opts !== 'object') throw new ConfigError(`${op}: expected options { iterations, key, ... }.`);
  checkKnown(op, opts, KNOWN);
  if (!Number.isInteger(opts.iterations) || opts.iterations < 0) throw new ConfigError(`${op}: iterations must be a non-negative integer, got ${String(opts.iterations)}.`);
  if (state === null && opts.resume === undefined) throw new ConfigError(`${op}: no state: pass gmmvi.init(...) (or null with resume).`);
  if (opts.key === undefined && opts.resume === undefined) throw new ConfigError(`${op}: key is missing (a PRNG key, bt.random.key(seed)); iteration t uses foldIn(key, t).`);
  if (opts.key !== undefined && !(opts.key instanceof Tensor && opts.key.dtype === 'int32')) throw new ConfigError(`${op}: key must be a PRNG key tensor (bt.random.key(seed)).`);
  if (opts.metricSamples !== undefined && (!Number.isInteger(opts.metricSamples) || opts.metricSamples < 1)) throw new ConfigError(`${op}: metricSamples must be a positive integer, got ${String(opts.metricSamples)}.`);
  if (opts.logMetricsInterval !== undefined && (!Number.isInteger(opts.logMetricsInterval) || opts.logMetricsInterval < 0)) throw new ConfigError(`${op}: logMetricsInterval must be a non-negative integer (0: only at the end), got ${String(opts.logMetricsInterval)}.`);
  checkTarget(op, target);
  const d = state?.model.model.means.shape[1];
  if (d !== undefined && d !== target.numDimensions) throw new ShapeError(`${op}: the state's model has ${d} dimensions but the target ${target.numDimensions}; run a state made by init for this target.`);
  const cp = opts.resume === undefined ? null : peekCheckpoint(opts.resume);
  // the loop counts the steps of this run; `iterations` counts from the model's first iteration
  const start = cp ? cp.step - cp.done : state?.numUpdates ?? 0;
  const steps = Math.max(0, opts.iterations - start);
  let key = opts.key;
  let ownKey = false;
  if (key === undefined) {
    if (!cp || cp.key === null) throw new ConfigError(`${op}: key is missing and the checkpoint holds none; pass the key of the run that saved it.`);
    key = fromJSON(cp.key) as Tensor;
    ownKey = true;
  }
  let every = opts.logMetricsInterval;
  let modules: GmmviModules | null = null;
  const metrics: GmmviMetrics[] = [];
  const t0 = performance.now();
  const prior = cp?.seconds ?? 0;
  // metric draws come from a key the iterations never use (foldIn with a tag no iteration reaches)
  const metricKey = foldIn(key, 0x7fffffff);
  const log = async (s: GmmviRunState) => {
    const k = foldIn(metricKey, s.numUpdates);
    try {
      const m = await evaluateMetrics(s, target, k, opts.metricSamples ?? 2000, prior + (performance.now() - t0) / 1000);
      metrics.push(m);
      opts.onProgress?.(m);
    } finally {
      k.dispose();
    }
  };
  const intervalOf = (s: GmmviRunState) => {
    const runner = s.config.gmmvi_runner_config as { log_metrics_interval?: number } | undefined;
    return opts.logMetricsInterval ?? runner?.log_metrics_interval ?? 0;
  };
  try {
    const r = await loopRun<GmmviRunState, GmmviStepInfo>(state, {
      name: op,
      unit: 'iteration',
      steps,
      start,
      key: opts.key,
      signal: opts.signal,
      progress: opts.progress,
      step: async (s, k) => {
        // leave the loop's synchronous tidy scope first: gmmviStep frees what it makes itself
        await null;
        modules ??= parseModules(s.config, target);
        const [next, info] = await gmmviStep(modules, s, k!);
        return [{ ...next, config: s.config }, info];
      },
      values: (s) => {
        const last = metrics[metrics.length - 1];
        return { components: numComponents(s.model.model), evaluations: s.sampleDb.numSamplesWritten, ...(last ? { negElbo: last.negElbo } : {}) };
      },
      onStep: async (s, info, t) => {
        every ??= intervalOf(s);
        if (every > 0 && t % every === 0) await log(s);
        const r = opts.onIteration ? await opts.onIteration(s, info, t) : undefined;
        return r === false ? 'onIteration returned false' : r;
      },
      checkpoint: opts.checkpoint,
      resume: opts.resume,
    });
    if (metrics.length === 0 || metrics[metrics.length - 1]!.iteration !== r.state.numUpdates) await log(r.state);
    return { state: r.state, metrics, reason: r.reason, iterations: r.steps - (cp?.done ?? 0), seconds: r.seconds, iterationsPerSecond: r.stepsPerSecond };
  } finally {
    metricKey.dispose();
    if (ownKey) key.dispose();
    // the jitted GMM and Stein programs hold buffers sized by this run's K and database
    disposeGmmPrograms();
    disposeSteinPrograms();
  }
}
