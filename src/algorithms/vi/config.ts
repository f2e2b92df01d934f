/**
 * The options of generalised VI (blackbirds' names in camelCase), checked once into a config:
 * the objective's spec and the optimiser (with clipping chained in front). Shared by the
 * functional `build` and the `VI` class.
 */
import { Tensor } from '../../tensor.js';
import { ConfigError } from '../../errors.js';
import { checkJitOption, type JitOption } from '../../jit/step.js';
import { adam } from '../../optim/alias.js';
import { chain } from '../../optim/chain.js';
import { clipByGlobalNorm } from '../../optim/clip.js';
import type { GradientTransformation } from '../../optim/types.js';
import type { Distribution } from '../../distributions/types.js';
import { checkShapes, type Baseline, type DiffMode, type GradientEstimationMethod, type LossFn, type ObjectiveSpec, type Prior } from './objective.js';

/** The math of a VI problem: loss, prior, estimator family, objective and optimiser settings. */
export interface BuildOptions<D = unknown> {
  /** loss(θ, data, key) → 0-D tensor (a simulator + a distance; key = the simulator's randomness). */
  loss: LossFn<D>;
  /** The prior: a log density over the parameters. */
  prior: Prior;
  /** The trainable estimator family at its initial parameters. */
  posteriorEstimator: Distribution;
  /** weight of KL(q ‖ prior) (default 1) */
  w?: number;
  /** Adam learning rate of the fit-to-prior phase (default 1e-3) */
  initializationLr?: number;
  /** global-norm gradient clipping before the optimiser (default Infinity: none) */
  gradientClippingNorm?: number;
  /** an optax-style GradientTransformation (default adam({ learningRate: 1e-3 })) */
  optimizer?: GradientTransformation<any>;
  /** Monte Carlo samples of the loss per epoch (default 10). */
  nSamplesPerEpoch?: number;
  /** Monte Carlo samples of the KL per epoch (default 10000). */
  nSamplesRegularisation?: number;
  /** 'reverse' (default) or 'forward' differentiation of the loss. */
  diffMode?: DiffMode;
  /** 'pathwise' (default) or 'score'. */
  gradientEstimationMethod?: GradientEstimationMethod;
  /** score estimator baseline: 'none' (blackbirds) or 'mean' (leave-one-out batch mean; default 'none') */
  baseline?: Baseline;
  /** basis tangents per batched forward pass (forward mode); undefined = all at once */
  jacobianChunkSize?: number;
  /** path-only gradient of the KL (default true); false differentiates log q fully */
  stickingTheLanding?: boolean;
  /**
   * Trace each epoch's estimate (samples, simulator losses, gradient, best-so-far) once per input
   * signature and replay it (default); the optimiser step runs eagerly after it (its state holds
   * host counters). If the loss cannot be traced (it reads a value on the host or branches on
   * data), the epoch warns once and runs eagerly; true makes that an error, false never traces.
   */
  jit?: boolean;
}

/** A checked VI problem: the objective's spec, the optimiser in use, and the resolved options. */
export interface VIConfig<D = unknown> {
  readonly spec: ObjectiveSpec<D>;
  /** The optimiser of the epochs (clipping chained in front when gradientClippingNorm is finite). */
  readonly optimizer: GradientTransformation<any>;
  /** The optimiser as given (or the default Adam). */
  readonly baseOptimizer: GradientTransformation<any>;
  readonly initializationLr: number;
  readonly gradientClippingNorm: number;
  /** the jit option (undefined: on, with a warned eager fallback) */
  readonly jit: JitOption;
}

export const BUILD_KEYS = [
  'loss', 'prior', 'posteriorEstimator', 'w', 'initializationLr', 'gradientClippingNorm', 'optimizer', 'nSamplesPerEpoch',
  'nSamplesRegularisation', 'diffMode', 'gradientEstimationMethod', 'baseline', 'jacobianChunkSize', 'stickingTheLanding', 'jit',
] as const;

function posInt(op: string, name: string, v: unknown, allowUndefined = false): void {
  if (allowUndefined && v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ConfigError(`${op}: ${name} must be a positive integer, got ${String(v)}.`);
}

function oneOf<T extends string>(op: string, name: string, v: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(v as T)) throw new ConfigError(`${op}: ${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(v)}.`);
  return v as T;
}

function isDistribution(d: unknown, needsTraining: boolean): boolean {
  if (!d || typeof d !== 'object') return false;
  const o = d as Record<string, unknown>;
  if (!Array.isArray(o.eventShape) || typeof o.logProb !== 'function') return false;
  if (!needsTraining) return true;
  return ['rsample', 'sample', 'rsampleAndLogProb', 'params', 'withParams'].every((m) => typeof o[m] === 'function');
}

/** Checks the options (ConfigError/ShapeError naming the bad one) into a config; `known` lists the keys the caller accepts. */
export function makeConfig<D>(op: string, o: BuildOptions<D>, known: readonly string[] = BUILD_KEYS): VIConfig<D> {
  if (!o || typeof o !== 'object') throw new ConfigError(`${op}: expected an options object { loss, prior, posteriorEstimator, ... }.`);
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) throw new ConfigError(`${op}: unknown option '${k}' (known: ${known.join(', ')}).`);
  }
  if (typeof o.loss !== 'function') throw new ConfigError(`${op}: loss must be a function loss(θ, data, key) → 0-D tensor.`);
  if (!isDistribution(o.prior, false)) throw new ConfigError(`${op}: prior must be a distribution (eventShape, logProb).`);
  if (!isDistribution(o.posteriorEstimator, true)) {
    throw new ConfigError(`${op}: posteriorEstimator must be a trainable distribution (eventShape, logProb, sample, rsample, rsampleAndLogProb, params, withParams).`);
  }
  const w = o.w ?? 1;
  if (typeof w !== 'number' || !(w >= 0) || !Number.isFinite(w)) throw new ConfigError(`${op}: w must be a finite number ≥ 0, got ${String(w)}.`);
  const initializationLr = o.initializationLr ?? 1e-3;
  if (typeof initializationLr !== 'number' || !(initializationLr > 0)) throw new ConfigError(`${op}: initializationLr must be > 0, got ${String(initializationLr)}.`);
  const clip = o.gradientClippingNorm ?? Infinity;
  if (typeof clip !== 'number' || !(clip > 0)) throw new ConfigError(`${op}: gradientClippingNorm must be > 0 (Infinity for none), got ${String(clip)}.`);
  const nSamplesPerEpoch = o.nSamplesPerEpoch ?? 10;
  posInt(op, 'nSamplesPerEpoch', nSamplesPerEpoch);
  const nSamplesRegularisation = o.nSamplesRegularisation ?? 10000;
  posInt(op, 'nSamplesRegularisation', nSamplesRegularisation);
  posInt(op, 'jacobianChunkSize', o.jacobianChunkSize, true);
  const diffMode = oneOf(op, 'diffMode', o.diffMode ?? 'reverse', ['reverse', 'forward'] as const);
  const gradientEstimationMethod = oneOf(op, 'gradientEstimationMethod', o.gradientEstimationMethod ?? 'pathwise', ['pathwise', 'score'] as const);
  const baseline = oneOf(op, 'baseline', o.baseline ?? 'none', ['none', 'mean'] as const);
  if (o.stickingTheLanding !== undefined && typeof o.stickingTheLanding !== 'boolean') throw new ConfigError(`${op}: stickingTheLanding must be a boolean, got ${String(o.stickingTheLanding)}.`);
  if (o.optimizer !== undefined && (typeof o.optimizer?.init !== 'function' || typeof o.optimizer?.update !== 'function')) {
    throw new ConfigError(`${op}: optimizer must be a gradient transformation { init, update } (e.g. bt.optim.adam({ learningRate: 1e-3 })).`);
  }
  const jit = checkJitOption(op, o.jit);
  checkShapes(o.prior, o.posteriorEstimator);
  const baseOptimizer = o.optimizer ?? adam({ learningRate: 1e-3 });
  return {
    spec: {
      loss: o.loss, prior: o.prior, posteriorEstimator: o.posteriorEstimator, w, nSamplesPerEpoch, nSamplesRegularisation, diffMode,
      gradientEstimationMethod, baseline, jacobianChunkSize: o.jacobianChunkSize, stickingTheLanding: o.stickingTheLanding ?? true,
    },
    optimizer: Number.isFinite(clip) ? chain(clipByGlobalNorm(clip), baseOptimizer) : baseOptimizer,
    baseOptimizer,
    initializationLr,
    gradientClippingNorm: clip,
    jit,
  };
}

/** A PRNG key check (ConfigError otherwise). */
export function checkKey(op: string, key: unknown): void {
  if (key !== undefined && !(key instanceof Tensor && key.dtype === 'int32' && key.size === 2)) throw new ConfigError(`${op}: key must be a PRNG key (bt.random.key(seed)).`);
}
