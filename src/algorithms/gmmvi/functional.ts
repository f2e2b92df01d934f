/**
 * The functional face of GMMVI, as bt.sgmcmc: `init(config, target, key)` → a plain state (a
 * pytree of tensors, numbers and the JSON config, so bt.tree.toJSON / fromJSON save and restore
 * it), `update(state, key, target)` → [state, info], where iteration t of a run uses
 * foldIn(key, t) with t = state.numUpdates — a restored state resumes with the numbers of an
 * uninterrupted run (CPU) — and `run(state, target, { iterations, key, logMetricsInterval,
 * onProgress, signal })` with gmmvi's metrics (§9): −ELBO from 2000 model samples, the entropy
 * estimate, components, target evaluations, max weight, database size, seconds.
 *
 * The target is an argument, not part of the state: it holds functions, which a saved state
 * cannot.
 */
import type { Tensor } from '../../tensor.js';
import { ConfigError } from '../../errors.js';
import { tidy, dispose } from '../../memory.js';
import { mean, max } from '../../autodiff/ops/reduce.js';
import { mul, sub, exp } from '../../autodiff/ops/elementwise.js';
import { foldIn } from '../../random.js';
import { sample, logDensity, numComponents } from './gmm.js';
import { gmmWrapperFromConfig } from './wrapper.js';
import { sampleDbFromConfig } from './sample-db.js';
import { constructInitialModel, gmmviStep, initGmmviState, parseModules, type GmmviState, type GmmviStepInfo } from './gmmvi.js';
import type { LNPDF } from './target.js';
import type { GmmviConfig } from './config.js';
import { disposeReplaced } from './gmm-class.js';

/** A GMMVI run's state: the iteration state and the config it was built from. */
export interface GmmviRunState extends GmmviState {
  config: GmmviConfig;
}

/** The state before the first iteration: the initial model of `model_initialization` (drawn with `key`), an empty database. */
export function init(config: GmmviConfig, target: LNPDF, key: Tensor, opts?: { dtype?: 'float64' | 'float32'; maxRewardHistoryLength?: number }): GmmviRunState {
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
  const b = t.concrete()._backend!;
  return Number((b.readSync ? t.dataSync() : await t.data())[0]);
}

/** −ELBO and entropy from `n` samples of the model (gmmvi evaluates 2000), and the other §9 metrics. */
export async function evaluateMetrics(state: GmmviRunState, target: LNPDF, key: Tensor, n = 2000, seconds = 0): Promise<GmmviMetrics> {
  const beta = (state.config.temperature as number) ?? 1;
  const s = state.model.model;
  const { samples, mapping } = sample(s, n, key);
  const lp = await Promise.resolve(target.logDensity(samples));
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
  /** iterations in all (a restored state counts those it already ran) */
  iterations: number;
  /** PRNG key: iteration t uses foldIn(key, t) */
  key: Tensor;
  /** evaluate the metrics every this many iterations and at the end (default: the config's gmmvi_runner_config.log_metrics_interval, else 0 = only at the end) */
  logMetricsInterval?: number;
  /** samples for the metrics (default 2000) */
  metricSamples?: number;
  /** called with each evaluation */
  onProgress?: (m: GmmviMetrics) => void;
  /** stops between iterations */
  signal?: AbortSignal;
}

/** What `run` returns: the final state (the caller owns it), the metrics logged, why it stopped. */
export interface RunResult {
  state: GmmviRunState;
  metrics: GmmviMetrics[];
  reason: 'completed' | 'aborted';
}

/** Iterates `update` up to `iterations`, logging metrics (with keys independent of the iterations' draws). */
export async function run(state: GmmviRunState, target: LNPDF, opts: RunOptions): Promise<RunResult> {
  const op = 'gmmvi.run';
  if (!Number.isInteger(opts?.iterations) || opts.iterations < 0) throw new ConfigError(`${op}: iterations must be a non-negative integer, got ${String(opts?.iterations)}.`);
  const runner = state.config.gmmvi_runner_config as { log_metrics_interval?: number } | undefined;
  const every = opts.logMetricsInterval ?? runner?.log_metrics_interval ?? 0;
  const t0 = Date.now();
  const metrics: GmmviMetrics[] = [];
  // metric draws come from a key the iterations never use (foldIn of a negative tag)
  const metricKey = foldIn(opts.key, 0x7fffffff);
  const log = async (s: GmmviRunState) => {
    const k = foldIn(metricKey, s.numUpdates);
    const m = await evaluateMetrics(s, target, k, opts.metricSamples ?? 2000, (Date.now() - t0) / 1000);
    k.dispose();
    metrics.push(m);
    opts.onProgress?.(m);
  };
  let cur = state;
  let reason: RunResult['reason'] = 'completed';
  while (cur.numUpdates < opts.iterations) {
    if (opts.signal?.aborted) { reason = 'aborted'; break; }
    const [next] = await update(cur, opts.key, target);
    if (cur !== state) disposeReplaced(cur, [next, state]);
    cur = next;
    if (every > 0 && cur.numUpdates % every === 0) await log(cur);
  }
  if (metrics.length === 0 || metrics[metrics.length - 1]!.iteration !== cur.numUpdates) await log(cur);
  metricKey.dispose();
  return { state: cur, metrics, reason };
}
