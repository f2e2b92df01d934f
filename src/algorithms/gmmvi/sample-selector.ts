/**
 * Sample selectors (§2 of the notes): which samples an iteration learns from. Each reuses the
 * newest floor(ρ·n_des)·K samples of the database, draws fresh ones where the reused ones are not
 * enough, evaluates the target on the fresh ones, stores them, and returns the final window with
 * its background log density (recomputed over the whole window).
 *
 *  - 'component-based' (M, VIPS): n_new,o = max(1, n_des − ⌊n_eff,o⌋) per component, where
 *    n_eff,o is the effective sample size of the reused window under component o; every component
 *    gets at least one fresh sample.
 *  - 'mixture-based' (P, Lin et al.): the same with one n_eff for the whole mixture, and
 *    max(1, n_des − ⌊n_eff⌋) fresh samples from the mixture (n_des is the total here).
 *  - 'fixed' (Q, the JAX port's): n_des fresh samples per component every iteration (static shapes).
 *
 * Functional core (`selectSamples` over GmmState / SampleDbState) under thin classes.
 */
import type { Tensor } from '../../tensor.js';
import { ConfigError } from '../../errors.js';
import { tidy } from '../../memory.js';
import { exp, reciprocal, square, sub } from '../../autodiff/ops/elementwise.js';
import { logSoftmax, sum } from '../../autodiff/ops/reduce.js';
import { expandDims } from '../../autodiff/ops/shape.js';
import { foldIn } from '../../random.js';
import { componentLogDensities, logDensity, numComponents, sample, sampleFromComponentsNoShuffle, type GmmState } from './gmm.js';
import { addSamples, getNewestSamples, type NewestSamples, type SampleDbState, type SampleDB } from './sample-db.js';
import { checkTarget, evaluateTarget, type LNPDF } from './target.js';
import { disposeReplaced, type GMM } from './gmm-class.js';

/** The type strings of gmmvi's configs (letters M, P and the JAX port's Q). */
export type SampleSelectorType = 'component-based' | 'mixture-based' | 'fixed';

/** A selector's hyper-parameters (gmmvi's `sample_selector_config`, camelCased). */
export interface SampleSelectorOptions {
  /** n_des: desired samples per component (M, Q) or per iteration in total (P) */
  desiredSamplesPerComponent: number;
  /** ρ: reuse the newest floor(ρ·n_des)·K samples of the database */
  ratioReusedSamplesToDesired: number;
}

/** What an iteration learns from: the window x [N, d], its DB mapping [N], log q_bg(x) [N], log p̃ [N], ∇ log p̃ [N, d]. */
export type SampleSelection = NewestSamples;

/** The new database and the selected window. */
export interface SelectResult {
  sampleDb: SampleDbState;
  selection: SampleSelection;
  /** fresh samples drawn (target evaluations) this call */
  numNewSamples: number;
}

const TYPES: readonly SampleSelectorType[] = ['component-based', 'mixture-based', 'fixed'];

/** Validated options (a ConfigError naming the bad one). */
export function checkSelectorOptions(op: string, o: SampleSelectorOptions): SampleSelectorOptions {
  const n = o?.desiredSamplesPerComponent;
  const r = o?.ratioReusedSamplesToDesired;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new ConfigError(`${op}: desired_samples_per_component must be a positive integer, got ${String(n)}.`);
  if (typeof r !== 'number' || !Number.isFinite(r) || r < 0) throw new ConfigError(`${op}: ratio_reused_samples_to_desired must be a finite number ≥ 0, got ${String(r)}.`);
  return o;
}

/** floor(ρ·n_des)·K: how many of the newest DB samples are reused. */
export function numSamplesToReuse(o: SampleSelectorOptions, k: number): number {
  return Math.floor(o.ratioReusedSamplesToDesired * o.desiredSamplesPerComponent) * k;
}

/** 1 / Σ_i ŵ_i² with ŵ = softmax_i(log q(x_i) − log q_bg(x_i)), one per row of `logQ` (rows × N), as a vector of length rows. */
export function effectiveSampleSizes(logQ: Tensor, bgLogPdfs: Tensor): Tensor {
  return tidy(() => {
    const w = exp(logSoftmax(sub(logQ, expandDims(bgLogPdfs, 0)), { axis: -1 }));
    return reciprocal(sum(square(w), { axis: -1 }));
  });
}

async function readFloats(t: Tensor): Promise<number[]> {
  return Array.from(await t.data(), Number);
}

/** How many fresh samples each component (M) or the mixture (P) gets, from the reused window. */
async function freshCounts(type: SampleSelectorType, model: GmmState, o: SampleSelectorOptions, reused: NewestSamples): Promise<number[]> {
  const k = numComponents(model);
  const nDes = o.desiredSamplesPerComponent;
  if (type === 'fixed') return new Array<number>(k).fill(nDes);
  const rows = type === 'component-based' ? k : 1;
  if (reused.samples.shape[0] === 0) return new Array<number>(rows).fill(nDes);
  const nEff = tidy(() => effectiveSampleSizes(type === 'component-based' ? componentLogDensities(model, reused.samples) : expandDims(logDensity(model, reused.samples), 0), reused.logPdfs));
  const values = await readFloats(nEff);
  nEff.dispose();
  // n_eff is ≤ N and finite unless every weight underflowed (NaN): then nothing is reusable
  return values.map((v) => Math.max(1, nDes - (Number.isFinite(v) ? Math.floor(v) : 0)));
}

/**
 * One selection step: reuse the newest floor(ρ·n_des)·K samples, draw and evaluate the fresh ones
 * (from `key`), store them with all K current Gaussians, and return the final window.
 */
export async function selectSamples(type: SampleSelectorType, model: GmmState, sampleDb: SampleDbState, target: LNPDF, options: SampleSelectorOptions, key: Tensor): Promise<SelectResult> {
  const op = `gmmvi.selectSamples('${type}')`;
  if (!TYPES.includes(type)) throw new ConfigError(`${op}: unknown sample selector type (known: ${TYPES.join(', ')}).`);
  checkSelectorOptions(op, options);
  checkTarget(op, target);
  const k = numComponents(model);
  const reused = await getNewestSamples(sampleDb, type === 'fixed' ? 0 : numSamplesToReuse(options, k));
  const numReused = reused.samples.shape[0]!;
  const counts = await freshCounts(type, model, options, reused);
  // a window over the whole database may share its tensors (a full slice is the tensor itself)
  disposeReplaced(reused, sampleDb);
  const drawKey = foldIn(key, 0);
  const fresh = type === 'mixture-based' ? sample(model, counts[0]!, drawKey) : sampleFromComponentsNoShuffle(model, counts, drawKey);
  drawKey.dispose();
  const { targetLnpdfs, targetGrads } = await evaluateTarget(target, fresh.samples);
  const nNew = fresh.samples.shape[0]!;
  const next = await addSamples(sampleDb, fresh.samples, model.means, model.chols, targetLnpdfs, targetGrads, fresh.mapping);
  // the database stored copies (concatenated, or copied when it does not keep samples)
  disposeReplaced([fresh, targetLnpdfs, targetGrads], next);
  const total = type === 'fixed' ? numSamplesToReuse(options, k) + nNew : numReused + nNew;
  const selection = await getNewestSamples(next, total);
  return { sampleDb: next, selection, numNewSamples: nNew };
}

/**
 * A sample selector over a GMM (or GmmWrapper) and a SampleDB, as gmmvi's classes:
 * `selectSamples(key)` stores the fresh samples in the database and returns the window.
 */
export class SampleSelector {
  /**
   * @param type 'component-based' (M), 'mixture-based' (P) or 'fixed' (Q)
   * @param targetDistribution the target evaluated on fresh samples
   * @param model the model samples are drawn from (its current state at each call)
   * @param sampleDb the database fresh samples are stored in
   */
  constructor(
    readonly type: SampleSelectorType,
    readonly targetDistribution: LNPDF,
    readonly model: GMM,
    readonly sampleDb: SampleDB,
    readonly options: SampleSelectorOptions,
  ) {
    const op = `gmmvi.SampleSelector('${type}')`;
    if (!TYPES.includes(type)) throw new ConfigError(`${op}: unknown sample selector type (known: ${TYPES.join(', ')}).`);
    checkSelectorOptions(op, options);
    checkTarget(op, targetDistribution);
  }

  /**
   * gmmvi's `SampleSelector.build_from_config`: `config.sample_selector_type` and
   * `config.sample_selector_config` = { desired_samples_per_component, ratio_reused_samples_to_desired }
   * (both required, no other keys).
   */
  static buildFromConfig(config: Record<string, unknown>, gmmWrapper: GMM, sampleDb: SampleDB, targetDistribution: LNPDF): SampleSelector {
    const op = 'gmmvi.SampleSelector.buildFromConfig';
    const type = config?.sample_selector_type;
    if (typeof type !== 'string' || !TYPES.includes(type as SampleSelectorType)) {
      throw new ConfigError(`${op}: config.sample_selector_type is ${type === undefined ? 'missing' : `'${String(type)}'`} (known: ${TYPES.join(', ')}).`);
    }
    const c = config.sample_selector_config as Record<string, unknown> | undefined;
    if (c === null || typeof c !== 'object') throw new ConfigError(`${op}: config.sample_selector_config must be an object.`);
    const known = ['desired_samples_per_component', 'ratio_reused_samples_to_desired'];
    for (const key of Object.keys(c)) if (!known.includes(key)) throw new ConfigError(`${op}: unknown key sample_selector_config.${key} (known: ${known.join(', ')}).`);
    for (const key of known) if (!(key in c)) throw new ConfigError(`${op}: sample_selector_config.${key} is missing.`);
    return new SampleSelector(type as SampleSelectorType, targetDistribution, gmmWrapper, sampleDb, {
      desiredSamplesPerComponent: c.desired_samples_per_component as number,
      ratioReusedSamplesToDesired: c.ratio_reused_samples_to_desired as number,
    });
  }

  /** Draws, evaluates and stores fresh samples; returns the window the iteration learns from. */
  async selectSamples(key: Tensor): Promise<SampleSelection> {
    const r = await selectSamples(this.type, this.model.state, this.sampleDb.state, this.targetDistribution, this.options, key);
    disposeReplaced(this.sampleDb.state, r.sampleDb);
    this.sampleDb.state = r.sampleDb;
    return r.selection;
  }
}

/** gmmvi's VipsSampleSelector: the component-based selector (letter M). */
export class VipsSampleSelector extends SampleSelector {
  /** See SampleSelector; n_des per component, reuse floor(ρ·n_des)·K. */
  constructor(targetDistribution: LNPDF, model: GMM, sampleDb: SampleDB, desiredSamplesPerComponent: number, ratioReusedSamplesToDesired: number) {
    super('component-based', targetDistribution, model, sampleDb, { desiredSamplesPerComponent, ratioReusedSamplesToDesired });
  }
}

/** gmmvi's LinSampleSelector: the mixture-based selector (letter P). */
export class LinSampleSelector extends SampleSelector {
  /** See SampleSelector; n_des fresh mixture samples in total (fewer where reused ones are effective). */
  constructor(targetDistribution: LNPDF, model: GMM, sampleDb: SampleDB, desiredSamplesPerComponent: number, ratioReusedSamplesToDesired: number) {
    super('mixture-based', targetDistribution, model, sampleDb, { desiredSamplesPerComponent, ratioReusedSamplesToDesired });
  }
}

/** The JAX port's fixed selector (letter Q): n_des fresh samples per component every iteration. */
export class FixedSampleSelector extends SampleSelector {
  /** See SampleSelector. */
  constructor(targetDistribution: LNPDF, model: GMM, sampleDb: SampleDB, desiredSamplesPerComponent: number, ratioReusedSamplesToDesired: number) {
    super('fixed', targetDistribution, model, sampleDb, { desiredSamplesPerComponent, ratioReusedSamplesToDesired });
  }
}
