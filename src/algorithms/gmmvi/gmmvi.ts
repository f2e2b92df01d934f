/**
 * GMMVI: one training iteration in gmmvi's order (§0 of the notes) over the modules built so far:
 *
 *   1. select samples (draw, evaluate the target, store; the window and its background)
 *   2. adapt the component stepsizes (rewards of earlier iterations)
 *   3. estimate the natural gradient (components before the update)
 *   4. update the components (failures kept and counted)
 *   5. adapt the weight stepsize      6. update the weights (rewards stored)
 *   7. count the update               8. adapt the number of components
 *
 * `gmmviStep(modules, state, key)` is the functional core (iteration t draws with foldIn(key, t)
 * by the caller's choice of key); the `GMMVI` class is gmmvi's face over it. Zero-density samples
 * (log p̃ = −∞) are counted but left out of the estimates; NaN or +∞ stops with a NumericalError.
 * The MORE estimator
 * (letter Z) is not built yet: a config naming it is a ConfigError saying so.
 */
import type { Tensor } from '../../tensor.js';
import { ConfigError, NumericalError, ShapeError } from '../../errors.js';
import { dispose, tidy } from '../../memory.js';
import { add, cast, equal, isNan, mul } from '../../autodiff/ops/elementwise.js';
import { broadcastTo } from '../../autodiff/ops/shape.js';
import { eye } from '../../autodiff/ops/creation.js';
import { createGmm, type GmmState } from './gmm.js';
import { sum } from '../../autodiff/ops/reduce.js';
import { foldIn, normal } from '../../random.js';
import { selectSamples, checkSelectorOptions, type SampleSelection, type SampleSelectorType, type SampleSelectorOptions } from './sample-selector.js';
import { take } from '../../autodiff/ops/indexing.js';
import { tensor } from '../../autodiff/ops/creation.js';
import { steinEstimate } from './stein.js';
import { moreEstimate } from './more.js';
import { ngBasedUpdate, type NgBasedUpdaterType, type TrustRegionOptions } from './ng-updater.js';
import { adaptComponentStepsizes, adaptWeightStepsize, initWeightStepsize, parseStepsizeConfig, type ComponentStepsizeType, type StepsizeConfig, type WeightStepsizeState, type WeightStepsizeType } from './stepsize.js';
import { updateWeights, type WeightUpdaterType } from './weight-updater.js';
import { adaptNumComponents, checkAdaptiveConfig, type AdaptiveConfig, type ComponentPrior } from './component-adaptation.js';
import { updateStepsizes, type GmmWrapperState, GmmWrapper } from './wrapper.js';
import { sampleDbFromConfig, type SampleDbState, SampleDB } from './sample-db.js';
import { checkTarget, type LNPDF } from './target.js';
import { disposeReplaced } from './gmm-class.js';

/** The modules of one GMMVI instance, parsed from a config. */
export interface GmmviModules {
  target: LNPDF;
  temperature: number;
  sampleSelector: { type: SampleSelectorType; options: SampleSelectorOptions };
  ngEstimator: { type: 'Stein' | 'MORE'; onlyUseOwnSamples: boolean; useSelfNormalizedImportanceWeights: boolean };
  ngBasedUpdater: NgBasedUpdaterType;
  /** the trust-region updater's options (from `ng_based_updater_config`; empty for the others) */
  ngBasedUpdaterOptions: TrustRegionOptions;
  componentStepsizeAdapter: { type: ComponentStepsizeType; config: StepsizeConfig };
  weightUpdater: { type: WeightUpdaterType; useSelfNormalizedImportanceWeights: boolean };
  weightStepsizeAdapter: { type: WeightStepsizeType; config: StepsizeConfig };
  numComponentAdapter: { type: 'fixed' | 'adaptive'; config: AdaptiveConfig | Record<string, never>; prior: ComponentPrior };
}

/** Everything that changes from one iteration to the next (a plain pytree of tensors and numbers). */
export interface GmmviState {
  model: GmmWrapperState;
  sampleDb: SampleDbState;
  weightStepsize: WeightStepsizeState;
  /** adds performed so far (the add heuristic's τ counter) */
  numAdds: number;
  /** iterations completed */
  numUpdates: number;
}

/** What one iteration reports. */
export interface GmmviStepInfo {
  /** components whose update failed and were kept */
  numFailedComponentUpdates: number;
  /** components deleted / whether one was added */
  deleted: number[];
  added: boolean;
  /** the weight stepsize used */
  weightStepsize: number;
}

function obj(op: string, config: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = config[key];
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(`${op}: config.${key} must be an object${v === undefined ? ' (missing)' : ''}.`);
  return v as Record<string, unknown>;
}
function str(op: string, config: Record<string, unknown>, key: string, known: readonly string[]): string {
  const v = config[key];
  if (typeof v !== 'string' || !known.includes(v)) throw new ConfigError(`${op}: config.${key} is ${v === undefined ? 'missing' : `'${String(v)}'`} (known: ${known.join(', ')}).`);
  return v;
}
function strict(op: string, name: string, c: Record<string, unknown>, keys: readonly string[], optional: readonly string[] = []): void {
  const known = [...keys, ...optional];
  for (const k of Object.keys(c)) if (!known.includes(k)) throw new ConfigError(`${op}: unknown key ${name}.${k} (known: ${known.length ? known.join(', ') : 'none'}).`);
  for (const k of keys) if (!(k in c)) throw new ConfigError(`${op}: ${name}.${k} is missing.`);
}
function bool(op: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new ConfigError(`${op}: ${name} must be true or false, got ${String(v)}.`);
  return v;
}

/** Parses the module part of a gmmvi config (types and strict per-module configs). */
export function parseModules(config: Record<string, unknown>, target: LNPDF): GmmviModules {
  const op = 'gmmvi.GMMVI.buildFromConfig';
  checkTarget(op, target);
  const temperature = config.temperature;
  if (typeof temperature !== 'number' || !(temperature > 0)) throw new ConfigError(`${op}: config.temperature must be a positive number, got ${String(temperature)}.`);
  const estType = str(op, config, 'ng_estimator_type', ['Stein', 'MORE']) as 'Stein' | 'MORE';
  const est = obj(op, config, 'ng_estimator_config');
  // gmmvi's Stein config may carry initial_l2_regularizer too (the wrapper reads it); MORE needs it
  strict(op, 'ng_estimator_config', est, estType === 'MORE' || 'initial_l2_regularizer' in est
    ? ['only_use_own_samples', 'initial_l2_regularizer', 'use_self_normalized_importance_weights']
    : ['only_use_own_samples', 'use_self_normalized_importance_weights']);
  const selType = str(op, config, 'sample_selector_type', ['component-based', 'mixture-based', 'fixed']) as SampleSelectorType;
  const sel = obj(op, config, 'sample_selector_config');
  strict(op, 'sample_selector_config', sel, ['desired_samples_per_component', 'ratio_reused_samples_to_desired']);
  const updType = str(op, config, 'ng_based_updater_type', ['direct', 'iBLR', 'trust-region']) as NgBasedUpdaterType;
  const upd = obj(op, config, 'ng_based_updater_config');
  strict(op, 'ng_based_updater_config', upd, [], updType === 'trust-region' ? ['full_step_when_feasible'] : []);
  const fullStep = upd.full_step_when_feasible === undefined ? true : bool(op, 'full_step_when_feasible', upd.full_step_when_feasible);
  const csType = str(op, config, 'component_stepsize_adapter_type', ['fixed', 'decaying', 'improvement-based', 'improvement_based']);
  const wuType = str(op, config, 'weight_updater_type', ['direct', 'trust-region']) as WeightUpdaterType;
  const wu = obj(op, config, 'weight_updater_config');
  strict(op, 'weight_updater_config', wu, ['use_self_normalized_importance_weights']);
  const wsType = str(op, config, 'weight_stepsize_adapter_type', ['fixed', 'decaying', 'improvement-based', 'improvement_based']);
  const ncType = str(op, config, 'num_component_adapter_type', ['fixed', 'adaptive']) as 'fixed' | 'adaptive';
  const nc = obj(op, config, 'num_component_adapter_config');
  if (ncType === 'fixed') strict(op, 'num_component_adapter_config', nc, []);
  const init = obj(op, config, 'model_initialization');
  return {
    target,
    temperature,
    sampleSelector: { type: selType, options: checkSelectorOptions(op, { desiredSamplesPerComponent: sel.desired_samples_per_component as number, ratioReusedSamplesToDesired: sel.ratio_reused_samples_to_desired as number }) },
    ngEstimator: { type: estType, onlyUseOwnSamples: bool(op, 'only_use_own_samples', est.only_use_own_samples), useSelfNormalizedImportanceWeights: bool(op, 'use_self_normalized_importance_weights', est.use_self_normalized_importance_weights) },
    ngBasedUpdater: updType,
    ngBasedUpdaterOptions: updType === 'trust-region' ? { fullStepWhenFeasible: fullStep } : {},
    componentStepsizeAdapter: { type: (csType === 'improvement_based' ? 'improvement-based' : csType) as ComponentStepsizeType, config: parseStepsizeConfig(op, csType, obj(op, config, 'component_stepsize_adapter_config')) },
    weightUpdater: { type: wuType, useSelfNormalizedImportanceWeights: bool(op, 'use_self_normalized_importance_weights', wu.use_self_normalized_importance_weights) },
    weightStepsizeAdapter: { type: (wsType === 'improvement-based' ? 'improvement_based' : wsType) as WeightStepsizeType, config: parseStepsizeConfig(op, wsType, obj(op, config, 'weight_stepsize_adapter_config')) },
    numComponentAdapter: {
      type: ncType,
      config: ncType === 'adaptive' ? checkAdaptiveConfig(op, nc) : {},
      prior: { priorMean: (init.prior_mean ?? 0) as number | number[], initialCov: (init.initial_cov ?? 1) as number | number[] },
    },
  };
}

/** The state a run starts from: the wrapped model, an empty database and the weight stepsize. */
export function initGmmviState(modules: GmmviModules, model: GmmWrapperState, sampleDb: SampleDbState): GmmviState {
  return { model, sampleDb, weightStepsize: initWeightStepsize(modules.weightStepsizeAdapter.config), numAdds: 0, numUpdates: 0 };
}

/** One iteration (steps 1–8 above) from `state`; the input state is not modified or freed. */
export async function gmmviStep(m: GmmviModules, state: GmmviState, key: Tensor): Promise<[GmmviState, GmmviStepInfo]> {
  const k1 = foldIn(key, 1);
  const { sampleDb, selection } = await selectSamples(m.sampleSelector.type, state.model.model, state.sampleDb, m.target, m.sampleSelector.options, k1);
  k1.dispose();
  // NaN or +∞ target values: stop before anything is updated (−∞, zero density, is allowed)
  const bad = await logicalOrCount(selection.targetLnpdfs);
  if (bad > 0) {
    disposeReplaced(selection, sampleDb);
    disposeReplaced(sampleDb, state.sampleDb);
    throw new NumericalError(`gmmvi: iteration ${state.numUpdates}: the target returned NaN or +∞ for ${bad} of ${selection.targetLnpdfs.size} samples. The state before this iteration is kept; check the target.`);
  }
  const window = await dropZeroDensity(selection);
  if (window !== selection) disposeReplaced(selection, sampleDb);
  const steps = adaptComponentStepsizes(m.componentStepsizeAdapter.type, state.model, m.componentStepsizeAdapter.config);
  let model = updateStepsizes(state.model, steps);
  const estOpts = { onlyUseOwnSamples: m.ngEstimator.onlyUseOwnSamples, useSelfNormalizedImportanceWeights: m.ngEstimator.useSelfNormalizedImportanceWeights, temperature: m.temperature, dbNumGaussians: sampleDb.means.shape[0] };
  const est = m.ngEstimator.type === 'MORE' ? moreEstimate(model, window, estOpts) : steinEstimate(model.model, window, estOpts);
  const [afterNg, ngInfo] = await ngBasedUpdate(m.ngBasedUpdater, model, est.expectedHessianNeg, est.expectedGradientNeg, steps, m.temperature, m.ngBasedUpdaterOptions);
  dispose(est);
  model = afterNg;
  const ws = await adaptWeightStepsize(m.weightStepsizeAdapter.type, state.weightStepsize, model, m.weightStepsizeAdapter.config);
  const [afterW] = await updateWeights(m.weightUpdater.type, model, window, ws.stepsize, { useSelfNormalizedImportanceWeights: m.weightUpdater.useSelfNormalizedImportanceWeights, temperature: m.temperature });
  disposeReplaced(window, sampleDb);
  const numUpdates = state.numUpdates + 1;
  const k2 = foldIn(key, 2);
  const ad = await adaptNumComponents(m.numComponentAdapter.type, afterW, sampleDb, m.target, m.numComponentAdapter.config, m.numComponentAdapter.prior, state.numAdds, numUpdates, k2);
  k2.dispose();
  // free what the intermediate states held and the final one does not
  const next: GmmviState = { model: ad.state, sampleDb: ad.sampleDb, weightStepsize: ws, numAdds: ad.counter, numUpdates };
  for (const mid of [model, afterW, [steps]]) disposeReplaced(mid, [next, state]);
  return [next, { numFailedComponentUpdates: ngInfo.numFailures, deleted: ad.deleted, added: ad.added !== null, weightStepsize: ws.stepsize }];
}

/** gmmvi's GMMVI class: the modules, the wrapped model and the database, `trainIter(key)` per iteration. */
export class GMMVI {
  /** iterations run */
  numUpdates = 0;
  private weightStepsize: WeightStepsizeState;
  private numAdds = 0;

  /** Built from parsed modules, a wrapped model and a sample database (both updated in place by trainIter). */
  constructor(readonly modules: GmmviModules, readonly model: GmmWrapper, readonly sampleDb: SampleDB) {
    this.weightStepsize = initWeightStepsize(modules.weightStepsizeAdapter.config);
  }

  /** gmmvi's `GMMVI.build_from_config(config, target, model)`: the database and the modules from the config. */
  static buildFromConfig(config: Record<string, unknown>, target: LNPDF, model: GmmWrapper): GMMVI {
    const modules = parseModules(config, target);
    const d = model.means.shape[1];
    if (d !== target.numDimensions) throw new ShapeError(`gmmvi.GMMVI.buildFromConfig: the model has ${String(d)} dimensions but the target ${target.numDimensions}; build the model in the target's dimension.`);
    const db = new SampleDB(target.numDimensions, model.diagonalCovs, true);
    db.state = sampleDbFromConfig(config, target.numDimensions, model.means.dtype as 'float64' | 'float32');
    return new GMMVI(modules, model, db);
  }

  /** One training iteration with the randomness of `key` (use foldIn(key, t) for iteration t). */
  async trainIter(key: Tensor): Promise<GmmviStepInfo> {
    const state: GmmviState = { model: this.model.wrapperState, sampleDb: this.sampleDb.state, weightStepsize: this.weightStepsize, numAdds: this.numAdds, numUpdates: this.numUpdates };
    const [next, info] = await gmmviStep(this.modules, state, key);
    disposeReplaced(state, next);
    this.model.wrapperState = next.model;
    this.model.state = next.model.model;
    this.sampleDb.state = next.sampleDb;
    this.weightStepsize = next.weightStepsize;
    this.numAdds = next.numAdds;
    this.numUpdates = next.numUpdates;
    return info;
  }
}

/**
 * The window without its zero-density samples (log p̃ = −∞): they were evaluated (and counted) but
 * carry no weight in the estimates; their rows stay in the database. Unchanged if there are none.
 */
async function dropZeroDensity(sel: SampleSelection): Promise<SampleSelection> {
  const lp = sel.targetLnpdfs;
  const v = await lp.data();
  const keep: number[] = [];
  for (let i = 0; i < v.length; i++) if (v[i] !== -Infinity) keep.push(i);
  if (keep.length === v.length) return sel;
  const idx = tensor(Int32Array.from(keep), { dtype: 'int32' });
  const out = tidy(() => ({
    logPdfs: take(sel.logPdfs, idx, 0), samples: take(sel.samples, idx, 0), mapping: take(sel.mapping, idx, 0),
    targetLnpdfs: take(sel.targetLnpdfs, idx, 0), targetGrads: take(sel.targetGrads, idx, 0),
  }));
  idx.dispose();
  return out;
}

/** How many target values are NaN or +∞ (−∞, zero density, is allowed). */
async function logicalOrCount(lnp: Tensor): Promise<number> {
  const c = tidy(() => sum(add(cast(isNan(lnp), 'int32'), cast(equal(lnp, Infinity), 'int32'))));
  const v = Number((await c.data())[0]);
  c.dispose();
  return v;
}

/**
 * The initial GMM of a config's `model_initialization` (§7.2): uniform weights; one component at
 * prior_mean, or K means drawn from N(prior_mean, diag(prior_scale²)); covariances initial_cov·I
 * (a number or one per dimension; null: diag(prior_scale²)).
 */
export function constructInitialModel(config: Record<string, unknown>, numDimensions: number, key: Tensor, dtype: 'float64' | 'float32' = 'float64'): GmmState {
  const op = 'gmmvi.constructInitialModel';
  const init = obj(op, config, 'model_initialization');
  const k = init.num_initial_components;
  if (!Number.isInteger(k) || (k as number) < 1) throw new ConfigError(`${op}: model_initialization.num_initial_components must be a positive integer, got ${String(k)}.`);
  const d = numDimensions;
  const perDim = (name: string, v: unknown): number[] => {
    const arr = typeof v === 'number' ? new Array<number>(d).fill(v) : v;
    if (!Array.isArray(arr) || arr.length !== d || arr.some((x) => typeof x !== 'number' || !Number.isFinite(x))) throw new ConfigError(`${op}: model_initialization.${name} must be a number or ${d} numbers, got ${JSON.stringify(v)}.`);
    return arr as number[];
  };
  const mean = perDim('prior_mean', init.prior_mean);
  const scale = perDim('prior_scale', init.prior_scale);
  const cov = init.initial_cov === null || init.initial_cov === undefined ? scale.map((v) => v * v) : perDim('initial_cov', init.initial_cov);
  if (cov.some((v) => !(v > 0))) throw new ConfigError(`${op}: model_initialization.initial_cov must be positive.`);
  const diagonal = init.use_diagonal_covs === true;
  return tidy(() => {
    const mu = tensor(mean, { dtype });
    const means = k === 1 ? mu.reshape([1, d]) : add(mul(normal(key, [k as number, d], { dtype }), tensor(scale, { dtype })), mu);
    const covs = diagonal ? broadcastTo(tensor(cov, { dtype }), [k as number, d]) : broadcastTo(mul(eye(d, d, dtype), tensor(cov, { dtype })), [k as number, d, d]);
    return createGmm({ means, covs, diagonal });
  });
}
