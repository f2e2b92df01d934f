/**
 * GmmWrapper: the GMM plus the per-component meta state the learner keeps (stepsizes,
 * regularisers, last η, age, reward and weight histories, ids, debug fields), every array
 * appended and removed together with its component (§1.2 of the notes). Functional core
 * (`GmmWrapperState` and functions returning new states) under a thin mutable `GmmWrapper` class.
 */
import { Tensor } from '../../tensor.js';
import { ConfigError, ShapeError } from '../../errors.js';
import { tidy } from '../../memory.js';
import { concat, expandDims, slice } from '../../autodiff/ops/shape.js';
import { full, tensor } from '../../autodiff/ops/creation.js';
import { exp } from '../../autodiff/ops/elementwise.js';
import { fmtShape } from '../../shape.js';
import * as gmm from './gmm.js';
import { GMM, disposeReplaced } from './gmm-class.js';
import type { GmmState } from './gmm.js';

/** float32's most negative finite value: gmmvi's "no reward / weight recorded yet" sentinel. */
export const FLOAT32_MIN = -3.4028234663852886e38;

/** The GMM and its per-component meta state (all per-component arrays have K rows). */
export interface GmmWrapperState {
  model: GmmState;
  /** ε_o [K]: KL bound (trust region) or learning rate (direct, iBLR) */
  stepsizes: Tensor;
  /** MORE's ridge coefficient λ_o [K] */
  l2Regularizers: Tensor;
  /** the last accepted η per component [K] (despite the name, η itself); −1 = none, cold start */
  lastLogEtas: Tensor;
  /** age [K]: +1 for every component at every update, success or not */
  numReceivedUpdates: Tensor;
  /** rolling reward window [K, L], oldest first; FLOAT32_MIN where nothing was recorded */
  rewardHistory: Tensor;
  /** rolling weight window [K, L]: FLOAT32_MIN for the initial components, the raw initial weight for added ones */
  weightHistory: Tensor;
  /** ids that survive deletions of other components [K] (int32) */
  uniqueComponentIds: Tensor;
  /** the largest id handed out so far */
  maxComponentId: number;
  /** the add heuristic's threshold τ per component [K] (−1 for the initial ones; debugging) */
  addingThresholds: Tensor;
  /** entropy when created [K] (the desired entropy for added components; debugging) */
  initialEntropies: Tensor;
  /** ε given to a new component */
  initialStepsize: number;
  /** λ given to a new component */
  initialRegularizer: number;
  /** L, the length of the reward and weight histories */
  maxRewardHistoryLength: number;
}

/** Constructor options of the wrapper state. */
export interface GmmWrapperOptions {
  /** ε of every component (and of added ones) */
  initialStepsize: number;
  /** MORE's λ of every component (default 1e-12, gmmvi's) */
  initialRegularizer?: number;
  /** length L of the reward and weight histories */
  maxRewardHistoryLength: number;
}

function checkPositiveInt(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ConfigError(`${op}: ${name} must be a positive integer, got ${String(v)}.`);
  return v;
}
function checkFinite(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`${op}: ${name} must be a finite number, got ${String(v)}.`);
  return v;
}

/** The meta state of a fresh wrapper around `model` (§1.2, "init (initial comps)"). */
export function createGmmWrapper(model: GmmState, opts: GmmWrapperOptions): GmmWrapperState {
  const op = 'gmmvi.createGmmWrapper';
  if (opts === null || typeof opts !== 'object') throw new ConfigError(`${op}: expected { initialStepsize, initialRegularizer?, maxRewardHistoryLength }.`);
  for (const key of Object.keys(opts)) {
    if (!['initialStepsize', 'initialRegularizer', 'maxRewardHistoryLength'].includes(key)) throw new ConfigError(`${op}: unknown option '${key}' (known: initialStepsize, initialRegularizer, maxRewardHistoryLength).`);
  }
  const initialStepsize = checkFinite(op, 'initialStepsize', opts.initialStepsize);
  const initialRegularizer = checkFinite(op, 'initialRegularizer', opts.initialRegularizer ?? 1e-12);
  const L = checkPositiveInt(op, 'maxRewardHistoryLength', opts.maxRewardHistoryLength);
  const k = gmm.numComponents(model);
  const dt = model.means.dtype;
  return tidy(() => ({
    model,
    stepsizes: full([k], initialStepsize, dt),
    l2Regularizers: full([k], initialRegularizer, dt),
    lastLogEtas: full([k], -1, dt),
    numReceivedUpdates: full([k], 0, dt),
    rewardHistory: full([k, L], FLOAT32_MIN, dt),
    weightHistory: full([k, L], FLOAT32_MIN, dt),
    uniqueComponentIds: tensor(Int32Array.from({ length: k }, (_, i) => i), { dtype: 'int32' }),
    maxComponentId: k - 1,
    addingThresholds: full([k], -1, dt),
    initialEntropies: gmm.componentEntropies(model),
    initialStepsize,
    initialRegularizer,
    maxRewardHistoryLength: L,
  }));
}

function section(op: string, config: Record<string, unknown>, name: string): Record<string, unknown> {
  const v = config[name];
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(`${op}: config.${name} must be an object, got ${v === undefined ? 'nothing (missing key)' : Array.isArray(v) ? 'an array' : String(v)}.`);
  return v as Record<string, unknown>;
}

/**
 * History length L from a GMMVI config (gmmvi's `GmmWrapper.build_from_config`): 2·max(2, del_iters)
 * when `num_component_adapter_config` has `del_iters` (the delete rule reads two windows D apart),
 * else 2 (the stepsize heuristics read the last two rewards).
 */
export function historyLengthFromConfig(config: Record<string, unknown>): number {
  const op = 'gmmvi.GmmWrapper.buildFromConfig';
  const adapter = section(op, config, 'num_component_adapter_config');
  if (!('del_iters' in adapter)) return 2;
  return 2 * Math.max(2, checkPositiveInt(op, 'num_component_adapter_config.del_iters', adapter.del_iters));
}

/**
 * A wrapper state from a GMMVI config: ε from `component_stepsize_adapter_config.initial_stepsize`,
 * λ from `ng_estimator_config.initial_l2_regularizer` (default 1e-12), L by `historyLengthFromConfig`
 * unless `maxRewardHistoryLength` overrides it (gmmvi's runner uses 10000).
 */
export function gmmWrapperFromConfig(model: GmmState, config: Record<string, unknown>, opts?: { maxRewardHistoryLength?: number }): GmmWrapperState {
  const op = 'gmmvi.GmmWrapper.buildFromConfig';
  if (config === null || typeof config !== 'object') throw new ConfigError(`${op}: config must be an object.`);
  const stepsizeCfg = section(op, config, 'component_stepsize_adapter_config');
  if (!('initial_stepsize' in stepsizeCfg)) throw new ConfigError(`${op}: config.component_stepsize_adapter_config.initial_stepsize is missing.`);
  const ngCfg = section(op, config, 'ng_estimator_config');
  const reg = 'initial_l2_regularizer' in ngCfg ? checkFinite(op, 'ng_estimator_config.initial_l2_regularizer', ngCfg.initial_l2_regularizer) : 1e-12;
  return createGmmWrapper(model, {
    initialStepsize: checkFinite(op, 'component_stepsize_adapter_config.initial_stepsize', stepsizeCfg.initial_stepsize),
    initialRegularizer: reg,
    maxRewardHistoryLength: opts?.maxRewardHistoryLength ?? historyLengthFromConfig(config),
  });
}

const scalarRow = (v: number, like: Tensor) => tensor([v], { dtype: like.dtype });

/**
 * A new wrapper state with one more component (last): the model's `addComponent` plus fresh meta
 * state (ε and λ initial, η −1, age 0, rewards FLOAT32_MIN, weight history = the raw initial
 * weight, the next id, τ and the desired entropy recorded; without `initialEntropy`, the new
 * component's own entropy).
 */
export function wrapperAddComponent(s: GmmWrapperState, initialWeight: number, initialMean: Tensor, initialCov: Tensor, addingThreshold = -1, initialEntropy?: number): GmmWrapperState {
  const model = gmm.addComponent(s.model, initialWeight, initialMean, initialCov);
  const L = s.maxRewardHistoryLength;
  const dt = s.stepsizes.dtype;
  const id = s.maxComponentId + 1;
  return tidy(() => ({
    ...s,
    model,
    stepsizes: concat([s.stepsizes, scalarRow(s.initialStepsize, s.stepsizes)]),
    l2Regularizers: concat([s.l2Regularizers, scalarRow(s.initialRegularizer, s.stepsizes)]),
    lastLogEtas: concat([s.lastLogEtas, scalarRow(-1, s.stepsizes)]),
    numReceivedUpdates: concat([s.numReceivedUpdates, scalarRow(0, s.stepsizes)]),
    rewardHistory: concat([s.rewardHistory, full([1, L], FLOAT32_MIN, dt)]),
    weightHistory: concat([s.weightHistory, full([1, L], initialWeight, dt)]),
    uniqueComponentIds: concat([s.uniqueComponentIds, tensor(Int32Array.of(id), { dtype: 'int32' })]),
    maxComponentId: id,
    addingThresholds: concat([s.addingThresholds, scalarRow(addingThreshold, s.stepsizes)]),
    initialEntropies: concat([
      s.initialEntropies,
      initialEntropy !== undefined ? scalarRow(initialEntropy, s.stepsizes) : slice(gmm.componentEntropies(model), [gmm.numComponents(model) - 1], [1]),
    ]),
  }));
}

/** A new wrapper state without component `idx` (the model's and every meta array's row). */
export function wrapperRemoveComponent(s: GmmWrapperState, idx: number): GmmWrapperState {
  const model = gmm.removeComponent(s.model, idx);
  const drop = gmm.dropRow;
  return tidy(() => ({
    ...s,
    model,
    stepsizes: drop(s.stepsizes, idx),
    l2Regularizers: drop(s.l2Regularizers, idx),
    lastLogEtas: drop(s.lastLogEtas, idx),
    numReceivedUpdates: drop(s.numReceivedUpdates, idx),
    rewardHistory: drop(s.rewardHistory, idx),
    weightHistory: drop(s.weightHistory, idx),
    uniqueComponentIds: drop(s.uniqueComponentIds, idx),
    addingThresholds: drop(s.addingThresholds, idx),
    initialEntropies: drop(s.initialEntropies, idx),
  }));
}

/** Shift a [K, L] history left by one and append column v [K]. */
function roll(history: Tensor, v: Tensor): Tensor {
  const [k, L] = history.shape as [number, number];
  return concat([slice(history, [0, 1], [k, L - 1]), expandDims(v, 1)], 1);
}

function checkPerComponent(op: string, s: GmmWrapperState, name: string, v: Tensor): void {
  const k = gmm.numComponents(s.model);
  if (!(v instanceof Tensor) || v.ndim !== 1 || v.shape[0] !== k) throw new ShapeError(`${op}: ${name} must be a tensor [${k}] (one per component), got ${v instanceof Tensor ? fmtShape(v.shape) : String(v)}.`);
}

/** A new state with `rewards` [K] appended to the reward history (gmmvi's `store_rewards`). */
export function storeRewards(s: GmmWrapperState, rewards: Tensor): GmmWrapperState {
  checkPerComponent('gmmvi.storeRewards', s, 'rewards', rewards);
  return { ...s, rewardHistory: tidy(() => roll(s.rewardHistory, rewards)) };
}

/** A new state with the component stepsizes replaced. */
export function updateStepsizes(s: GmmWrapperState, newStepsizes: Tensor): GmmWrapperState {
  checkPerComponent('gmmvi.updateStepsizes', s, 'newStepsizes', newStepsizes);
  return { ...s, stepsizes: newStepsizes };
}

/** A new state with the model's weights replaced (renormalised) and the new weights appended to the weight history. */
export function wrapperReplaceWeights(s: GmmWrapperState, newLogWeights: Tensor): GmmWrapperState {
  const model = gmm.replaceWeights(s.model, newLogWeights);
  return { ...s, model, weightHistory: tidy(() => roll(s.weightHistory, exp(model.logWeights))) };
}

/**
 * gmmvi's `GmmWrapper`: a `GMM` whose component operations also maintain the per-component meta
 * state. Model methods (logDensity, sample, …) are inherited and act on `state.model`.
 */
export class GmmWrapper extends GMM {
  /** the model and meta state (replaced by the mutating methods) */
  wrapperState: GmmWrapperState;

  /** Wraps `model` (a GMM, or a GmmState) with fresh meta state, or takes over an existing wrapper state. */
  constructor(model: GMM | GmmState | GmmWrapperState, opts?: GmmWrapperOptions) {
    const ws = 'stepsizes' in model ? model : undefined;
    const m = ws ? ws.model : model instanceof GMM ? model.state : (model as GmmState);
    super(m);
    if (!ws && opts === undefined) throw new ConfigError('gmmvi.GmmWrapper: give { initialStepsize, maxRewardHistoryLength } (or use GmmWrapper.buildFromConfig).');
    this.wrapperState = ws ?? createGmmWrapper(m, opts!);
  }

  /** gmmvi's `GmmWrapper.build_from_config` (history length 2·max(2, del_iters), or 2; see historyLengthFromConfig). */
  static buildFromConfig(model: GMM | GmmState, config: Record<string, unknown>, opts?: { maxRewardHistoryLength?: number }): GmmWrapper {
    return new GmmWrapper(gmmWrapperFromConfig(model instanceof GMM ? model.state : model, config, opts));
  }

  private swapWrapper(next: GmmWrapperState): void {
    disposeReplaced(this.wrapperState, next);
    this.wrapperState = next;
    this.state = next.model;
  }

  /** ε_o [K] */
  get stepsizes(): Tensor { return this.wrapperState.stepsizes; }
  /** λ_o [K] */
  get l2Regularizers(): Tensor { return this.wrapperState.l2Regularizers; }
  /** last accepted η per component [K] (−1: none) */
  get lastLogEtas(): Tensor { return this.wrapperState.lastLogEtas; }
  /** component ages [K] */
  get numReceivedUpdates(): Tensor { return this.wrapperState.numReceivedUpdates; }
  /** rewards [K, L] */
  get rewardHistory(): Tensor { return this.wrapperState.rewardHistory; }
  /** weights [K, L] */
  get weightHistory(): Tensor { return this.wrapperState.weightHistory; }
  /** ids [K] (int32) */
  get uniqueComponentIds(): Tensor { return this.wrapperState.uniqueComponentIds; }
  /** the largest id handed out */
  get maxComponentId(): number { return this.wrapperState.maxComponentId; }
  /** τ per component [K] */
  get addingThresholds(): Tensor { return this.wrapperState.addingThresholds; }
  /** entropy at creation [K] */
  get initialEntropies(): Tensor { return this.wrapperState.initialEntropies; }
  /** L */
  get maxRewardHistoryLength(): number { return this.wrapperState.maxRewardHistoryLength; }

  /** Appends a component with fresh meta state (see wrapperAddComponent). */
  override addComponent(initialWeight: number, initialMean: Tensor, initialCov: Tensor, addingThreshold = -1, initialEntropy?: number): void {
    this.swapWrapper(wrapperAddComponent(this.wrapperState, initialWeight, initialMean, initialCov, addingThreshold, initialEntropy));
  }
  /** Removes component `idx` and its meta state. */
  override removeComponent(idx: number): void {
    this.swapWrapper(wrapperRemoveComponent(this.wrapperState, idx));
  }
  /** Replaces the weights and appends them to the weight history. */
  override replaceWeights(newLogWeights: Tensor): void {
    this.swapWrapper(wrapperReplaceWeights(this.wrapperState, newLogWeights));
  }
  /** Replaces means and Cholesky factors (meta state unchanged). */
  override replaceComponents(means: Tensor, chols: Tensor): void {
    this.swapWrapper({ ...this.wrapperState, model: gmm.replaceComponents(this.state, means, chols) });
  }
  /** Appends rewards [K] to the reward history. */
  storeRewards(rewards: Tensor): void {
    this.swapWrapper(storeRewards(this.wrapperState, rewards));
  }
  /** Replaces the stepsizes [K]. */
  updateStepsizes(newStepsizes: Tensor): void {
    this.swapWrapper(updateStepsizes(this.wrapperState, newStepsizes));
  }
}
