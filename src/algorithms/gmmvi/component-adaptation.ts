/**
 * Number-of-components adaptation (§6 of the notes): 'fixed' (E) does nothing; 'adaptive' (A,
 * VIPS) deletes stagnating low-weight components every iteration after `del_iters` and adds one
 * every `add_iters` iterations where the target outweighs the model most.
 *
 * The delete rule reads the reward and weight histories on the host (K × L numbers) and evaluates
 * it in float64; the add heuristic scores candidates from the database (and optional prior draws,
 * evaluated on the target and counted) by log p̃(x) − max(max_j log q(x_j) − τ, log q(x)), puts an
 * isotropic component of entropy H* = a·Σ_o w_o H_o + (1 − a)·H(prior) (a ~ U(0, 1)) at the best,
 * with weight 1e-29 before renormalisation.
 */
import { Tensor } from '../../tensor.js';
import { ConfigError } from '../../errors.js';
import { dispose, tidy } from '../../memory.js';
import { add, maximum, mul, sub } from '../../autodiff/ops/elementwise.js';
import { argmax, max } from '../../autodiff/ops/reduce.js';
import { concat, reshape } from '../../autodiff/ops/shape.js';
import { eye, tensor } from '../../autodiff/ops/creation.js';
import { take } from '../../autodiff/ops/indexing.js';
import { foldIn, normal, uniform } from '../../random.js';
import { getAverageEntropy, logDensity, numComponents, numDimensions } from './gmm.js';
import { FLOAT32_MIN, wrapperAddComponent, wrapperRemoveComponent, type GmmWrapperState } from './wrapper.js';
import { getRandomSample, type SampleDbState } from './sample-db.js';
import { disposeReplaced } from './gmm-class.js';
import { inheritWindowTable } from './background.js';
import { evaluateTarget, type LNPDF } from './target.js';

/** gmmvi's `adaptive` num_component_adapter_config (snake_case, as in the yml). */
export interface AdaptiveConfig {
  del_iters: number;
  add_iters: number;
  max_components: number;
  thresholds_for_add_heuristic: number[];
  min_weight_for_del_heuristic: number;
  num_database_samples: number;
  num_prior_samples: number;
}

const ADAPTIVE_KEYS = ['del_iters', 'add_iters', 'max_components', 'thresholds_for_add_heuristic', 'min_weight_for_del_heuristic', 'num_database_samples', 'num_prior_samples'] as const;

/** Strict check of an adaptive config (every key present, nothing else). */
export function checkAdaptiveConfig(op: string, c: Record<string, unknown>): AdaptiveConfig {
  if (c === null || typeof c !== 'object') throw new ConfigError(`${op}: num_component_adapter_config must be an object.`);
  for (const key of Object.keys(c)) if (!(ADAPTIVE_KEYS as readonly string[]).includes(key)) throw new ConfigError(`${op}: unknown key num_component_adapter_config.${key} (known: ${ADAPTIVE_KEYS.join(', ')}).`);
  for (const key of ADAPTIVE_KEYS) if (!(key in c)) throw new ConfigError(`${op}: num_component_adapter_config.${key} is missing.`);
  for (const key of ['del_iters', 'add_iters', 'max_components'] as const) {
    if (!Number.isInteger(c[key]) || (c[key] as number) < 1) throw new ConfigError(`${op}: ${key} must be a positive integer, got ${String(c[key])}.`);
  }
  for (const key of ['num_database_samples', 'num_prior_samples'] as const) {
    if (!Number.isInteger(c[key]) || (c[key] as number) < 0) throw new ConfigError(`${op}: ${key} must be a non-negative integer, got ${String(c[key])}.`);
  }
  const th = c.thresholds_for_add_heuristic;
  if (!Array.isArray(th) || th.length === 0 || th.some((v) => typeof v !== 'number' || !Number.isFinite(v))) throw new ConfigError(`${op}: thresholds_for_add_heuristic must be a non-empty list of numbers.`);
  if (typeof c.min_weight_for_del_heuristic !== 'number' || !Number.isFinite(c.min_weight_for_del_heuristic)) throw new ConfigError(`${op}: min_weight_for_del_heuristic must be a number.`);
  return c as unknown as AdaptiveConfig;
}

async function readRows(t: Tensor): Promise<number[][]> {
  const v = Array.from(await t.data(), Number);
  const cols = t.shape[1]!;
  return Array.from({ length: t.shape[0]! }, (_, i) => v.slice(i * cols, (i + 1) * cols));
}

/**
 * The components the VIPS delete rule removes (ascending indices), from the histories alone:
 * Gaussian-smoothed current and D-earlier rewards (kernel N(j; 0, (D/8)²), j = −⌊D/3⌋ … ⌊D/3⌋ − 1,
 * normalised; the mean of the products), shifted by the best current one; delete o iff its relative
 * improvement ≤ 0.4, its largest recent weight (stored, or "greedy" softmax of the rewards) is below
 * `minWeight`, and it has D recorded rewards.
 */
export function componentsToDelete(rewardHistory: number[][], weightHistory: number[][], delIters: number, minWeight: number): number[] {
  const k = rewardHistory.length;
  if (k === 0) return [];
  const T = rewardHistory[0]!.length;
  const D = delIters;
  const fd = Math.floor(D / 3);
  const Lk = 2 * fd;
  if (T < Lk + D) throw new ConfigError(`gmmvi: the delete rule needs a reward history of at least ${Lk + D} columns (2·⌊del_iters/3⌋ + del_iters), got ${T}.`);
  const sigma = D / 8;
  const raw = Array.from({ length: Lk }, (_, i) => Math.exp(-0.5 * ((i - fd) / sigma) ** 2));
  const z = raw.reduce((a, b) => a + b, 0);
  const kern = raw.map((v) => v / z);
  const smooth = (row: number[], start: number) => kern.reduce((acc, kj, j) => acc + kj * row[start + j]!, 0) / Lk;
  const cur = rewardHistory.map((r) => smooth(r, T - Lk));
  const old = rewardHistory.map((r) => smooth(r, T - Lk - D));
  const m = Math.max(...cur);
  const out: number[] = [];
  for (let o = 0; o < k; o++) {
    const c = cur[o]! - m;
    const p = old[o]! - m;
    const improvement = (c - p) / Math.abs(p);
    let maxW = -Infinity;
    for (let col = T - Lk - D; col < T - 1; col++) maxW = Math.max(maxW, weightHistory[o]![col]!);
    for (let col = T - Lk - D; col < T; col++) {
      const column = rewardHistory.map((r) => r[col]!);
      const mx = Math.max(...column);
      const zc = column.reduce((a, v) => a + Math.exp(v - mx), 0);
      maxW = Math.max(maxW, Math.exp(column[o]! - mx) / zc);
    }
    if (improvement <= 0.4 && maxW < minWeight && rewardHistory[o]![T - D] !== FLOAT32_MIN) out.push(o);
  }
  return out;
}

/** Removes the components of the delete rule (descending order); returns the new state and which went. */
export async function deleteBadComponents(s: GmmWrapperState, delIters: number, minWeight: number): Promise<[GmmWrapperState, number[]]> {
  const bad = componentsToDelete(await readRows(s.rewardHistory), await readRows(s.weightHistory), delIters, minWeight);
  let next = s;
  const removed: number[] = [];
  for (const o of [...bad].reverse()) {
    if (numComponents(next.model) === 1) break; // a GMM keeps at least one component
    const after = wrapperRemoveComponent(next, o);
    if (next !== s) disposeReplaced(next, [after, s]); // intermediate states only; the caller owns s
    next = after;
    removed.unshift(o);
  }
  return [next, removed];
}

/** The prior of the add heuristic: N(prior_mean, diag(initial_cov)), scalars broadcast to d. */
export interface ComponentPrior {
  priorMean: number | number[];
  initialCov: number | number[];
}

const vec = (v: number | number[], d: number) => (typeof v === 'number' ? new Array<number>(d).fill(v) : v);

/** What the add heuristic did. */
export interface AddedComponent {
  /** index of the best candidate among the candidates scored */
  mean: number[];
  /** τ used */
  threshold: number;
  /** H*, the new component's entropy */
  entropy: number;
  /** c of the covariance c·I */
  covScale: number;
}

/**
 * The VIPS add heuristic (see the module comment); `counter` is the number of adds so far (τ =
 * thresholds[(counter + 1) mod len]). Prior draws, if any, are evaluated on the target and counted
 * in the database's numSamplesWritten.
 */
export async function addNewComponent(s: GmmWrapperState, sampleDb: SampleDbState, target: LNPDF, config: AdaptiveConfig, prior: ComponentPrior, counter: number, key: Tensor): Promise<{ state: GmmWrapperState; sampleDb: SampleDbState; added: AddedComponent }> {
  const d = numDimensions(s.model);
  const dt = s.model.means.dtype;
  const pm = vec(prior.priorMean, d);
  const pc = vec(prior.initialCov, d);
  const k0 = foldIn(key, 0);
  const { samples: dbX, targetLnpdfs: dbLp } = getRandomSample(sampleDb, config.num_database_samples, k0);
  k0.dispose();
  let X = dbX;
  let lp = dbLp;
  let db = sampleDb;
  if (config.num_prior_samples > 0) {
    const px = tidy(() => add(mul(normal(foldIn(key, 1), [config.num_prior_samples, d], { dtype: dt as 'float64' | 'float32' }), tensor(pc.map(Math.sqrt), { dtype: dt })), tensor(pm, { dtype: dt })));
    const ev = await evaluateTarget(target, px);
    X = concat([dbX, px]);
    lp = concat([dbLp, ev.targetLnpdfs]);
    dispose([dbX, dbLp, px, ev]);
    db = { ...sampleDb, numSamplesWritten: sampleDb.numSamplesWritten + config.num_prior_samples };
    inheritWindowTable(sampleDb, db);
  }
  if (X.shape[0] === 0) throw new ConfigError('gmmvi.addNewComponent: no candidates (empty database and num_prior_samples 0).');
  const th = config.thresholds_for_add_heuristic;
  const threshold = th[(counter + 1) % th.length]!;
  const [meanT, avgT] = tidy(() => {
    const lq = logDensity(s.model, X);
    const score = sub(lp, maximum(sub(max(lq), threshold), lq));
    return [reshape(take(X, reshape(argmax(score), [1]), 0), [d]), getAverageEntropy(s.model)] as const;
  });
  const aT = tidy(() => uniform(foldIn(key, 2), [], { dtype: dt as 'float64' | 'float32' }));
  const a = await readFloat(aT);
  const avg = await readFloat(avgT);
  const halfConst = 0.5 * d * (Math.log(2 * Math.PI) + 1);
  const priorEntropy = halfConst + 0.5 * pc.reduce((acc, v) => acc + Math.log(v), 0);
  const entropy = a * avg + (1 - a) * priorEntropy;
  const covScale = Math.exp((2 * (entropy - halfConst)) / d);
  const mean = Array.from(await meanT.data(), Number);
  const cov = tidy(() => mul(eye(d, d, dt), covScale));
  const covArg = s.model.diagonal ? tensor(new Array<number>(d).fill(covScale), { dtype: dt }) : cov;
  const state = wrapperAddComponent(s, 1e-29, meanT, covArg, threshold, entropy);
  dispose([meanT, avgT, cov, covArg, aT, X, lp]);
  return { state, sampleDb: db, added: { mean, threshold, entropy, covScale } };
}

async function readFloat(t: Tensor): Promise<number> {
  return Number((await t.data())[0]);
}

/**
 * One adaptation step after update number t (already incremented): 'fixed' does nothing;
 * 'adaptive' deletes (t > del_iters) then maybe adds (t > 1, t mod add_iters = 0, K < max).
 */
export async function adaptNumComponents(
  type: 'fixed' | 'adaptive', s: GmmWrapperState, sampleDb: SampleDbState, target: LNPDF, config: AdaptiveConfig | Record<string, never>,
  prior: ComponentPrior, counter: number, t: number, key: Tensor,
): Promise<{ state: GmmWrapperState; sampleDb: SampleDbState; counter: number; deleted: number[]; added: AddedComponent | null }> {
  if (type === 'fixed') return { state: s, sampleDb, counter, deleted: [], added: null };
  if (type !== 'adaptive') throw new ConfigError(`gmmvi.adaptNumComponents: unknown num_component_adapter_type '${String(type)}' (known: fixed, adaptive).`);
  const c = config as AdaptiveConfig;
  let state = s;
  let deleted: number[] = [];
  if (t > c.del_iters) [state, deleted] = await deleteBadComponents(state, c.del_iters, c.min_weight_for_del_heuristic);
  if (t > 1 && t % c.add_iters === 0 && numComponents(state.model) < c.max_components) {
    const r = await addNewComponent(state, sampleDb, target, c, prior, counter, key);
    if (state !== s) disposeReplaced(state, [r.state, s]);
    return { state: r.state, sampleDb: r.sampleDb, counter: counter + 1, deleted, added: r.added };
  }
  return { state, sampleDb, counter, deleted, added: null };
}
