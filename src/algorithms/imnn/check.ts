/** Checks of the arguments every IMNN class shares (imnn's `_initialise_parameters`), before any iteration. */
import { Tensor } from '../../tensor.js';
import { keep } from '../../memory.js';
import { ConfigError, ShapeError } from '../../errors.js';
import { tensor } from '../../autodiff/ops/creation.js';
import type { GradientTransformation } from '../../optim/types.js';
import type { Module } from '../../nn/types.js';
import type { PyTree } from '../../autodiff/tree.js';
import type { IMNNState } from './imnn.js';
import { checkJitOption, type JitOption } from '../../jit/step.js';

/** The arguments every IMNN class takes (imnn's, camelCase). */
export interface CommonOptions<P = PyTree> {
  /** number of fiducial simulations (for the covariance) */
  nS: number;
  /** number of simulations for the derivative of the mean, nD ≤ nS */
  nD: number;
  /** number of model parameters */
  nParams: number;
  /** number of network outputs */
  nSummaries: number;
  /** the shape of one simulation */
  inputShape: number[];
  /** fiducial parameters [nParams] (alias thetaFid) */
  θFid?: Tensor | number[];
  /** alias of θFid */
  thetaFid?: Tensor | number[];
  /** the network: any bt.nn module { init(key), apply(w, d) } */
  model: Module<P>;
  /** a bt.optim transformation (e.g. bt.optim.adam({ learningRate: 1e-3 })) */
  optimiser: GradientTransformation;
  /** a PRNG key (fresh weights) or a saved state { w, opt } (resume) */
  keyOrState: Tensor | IMNNState<P>;
  /**
   * `update` traced once per signature and replayed (default; if the model or simulator cannot be
   * traced it runs eagerly after one warning); true: a failed trace is an error; false: eager.
   * The numbers are the same on the CPU. The Aggregated classes run eagerly: their passes move
   * chunks between backends.
   */
  jit?: boolean;
}

/** The checked common arguments. */
export interface Checked<P> {
  nS: number;
  nD: number;
  nParams: number;
  nSummaries: number;
  inputShape: number[];
  θFid: Tensor;
  jit: JitOption;
  model: Module<P>;
  optimiser: GradientTransformation;
  key?: Tensor;
  state?: IMNNState<P>;
}

const COMMON = ['nS', 'nD', 'nParams', 'nSummaries', 'inputShape', 'θFid', 'thetaFid', 'model', 'optimiser', 'keyOrState', 'jit'];

/** A positive integer option, or a ConfigError naming it. */
export function posInt(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ConfigError(`${op}: ${name} must be a positive integer, got ${describe(v)}.`);
  return v;
}

/** A short description of a bad value for messages. */
export function describe(v: unknown): string {
  if (v instanceof Tensor) return `a Tensor of shape [${v.shape.join(', ')}] (${v.dtype})`;
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (v === null) return 'null';
  if (typeof v === 'function') return `a function of ${v.length} argument(s)`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

/** A float tensor of the given shape (given as a Tensor), or a typed error naming it. */
export function checkArray(op: string, name: string, v: unknown, shape: number[]): Tensor {
  if (!(v instanceof Tensor)) throw new ConfigError(`${op}: ${name} must be a Tensor of shape [${shape.join(', ')}], got ${describe(v)}.`);
  if (v.dtype !== 'float32' && v.dtype !== 'float64') throw new ConfigError(`${op}: ${name} must be a float tensor, got ${v.dtype}.`);
  if (v.ndim !== shape.length || v.shape.some((s, i) => s !== shape[i])) {
    throw new ShapeError(`${op}: ${name} has shape [${v.shape.join(', ')}], expected [${shape.join(', ')}].`);
  }
  return v;
}

/** The fixed simulation sets of GradientIMNN and NumericalGradientIMNN, checked and kept. */
export interface SimulationSets {
  fiducial: Tensor;
  derivative: Tensor;
  validationFiducial?: Tensor;
  validationDerivative?: Tensor;
}

/**
 * fiducial [nS, ...in] and derivative (of `derivativeShape`), and the optional validation pair of
 * the same shapes (both or neither), each checked, then kept by the IMNN that holds them.
 */
export function checkSimulationSets(op: string, o: Partial<SimulationSets>, fiducialShape: number[], derivativeShape: number[]): SimulationSets {
  const fiducial = checkArray(op, 'fiducial', o.fiducial, fiducialShape);
  const derivative = checkArray(op, 'derivative', o.derivative, derivativeShape);
  if ((o.validationFiducial === undefined) !== (o.validationDerivative === undefined)) {
    throw new ConfigError(`${op}: give both validationFiducial and validationDerivative, or neither.`);
  }
  if (o.validationFiducial === undefined) return keep({ fiducial, derivative });
  const validationFiducial = checkArray(op, 'validationFiducial', o.validationFiducial, fiducialShape);
  const validationDerivative = checkArray(op, 'validationDerivative', o.validationDerivative, derivativeShape);
  return keep({ fiducial, derivative, validationFiducial, validationDerivative });
}

/** Checks the common arguments and that no unknown one is given. */
export function checkCommon<P>(op: string, o: CommonOptions<P>, extra: string[]): Checked<P> {
  if (o === null || typeof o !== 'object') throw new ConfigError(`${op}: expected an options object { ${COMMON.filter((k) => k !== 'thetaFid').join(', ')}, ... }.`);
  const known = [...COMMON, ...extra];
  for (const k of Object.keys(o)) if (!known.includes(k)) throw new ConfigError(`${op}: unknown argument '${k}' (known: ${known.join(', ')}).`);
  const nS = posInt(op, 'nS', o.nS);
  const nD = posInt(op, 'nD', o.nD);
  if (nD > nS) throw new ConfigError(`${op}: nD = ${nD} must be ≤ nS = ${nS} (the derivative simulations are the first nD fiducial ones).`);
  if (nS < 2) throw new ConfigError(`${op}: nS must be ≥ 2 for a covariance, got ${nS}.`);
  const nParams = posInt(op, 'nParams', o.nParams);
  const nSummaries = posInt(op, 'nSummaries', o.nSummaries);
  if (!Array.isArray(o.inputShape) || o.inputShape.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new ConfigError(`${op}: inputShape must be an array of positive integers (the shape of one simulation), got ${describe(o.inputShape)}.`);
  }
  if (o.θFid !== undefined && o.thetaFid !== undefined) throw new ConfigError(`${op}: give θFid or thetaFid, not both.`);
  const tf = o.θFid ?? o.thetaFid;
  if (tf === undefined) throw new ConfigError(`${op}: θFid (or thetaFid) is required: the fiducial parameters [${nParams}].`);
  const θFid = checkArray(op, 'θFid', Array.isArray(tf) && tf.every((x) => typeof x === 'number') ? tensor(tf) : tf, [nParams]);
  const model = o.model;
  if (model === null || typeof model !== 'object' || typeof model.init !== 'function' || typeof model.apply !== 'function') {
    throw new ConfigError(`${op}: model must be a bt.nn module { init(key), apply(w, d) }, got ${describe(model)}.`);
  }
  const opt = o.optimiser;
  if (opt === null || typeof opt !== 'object' || typeof opt.init !== 'function' || typeof opt.update !== 'function') {
    throw new ConfigError(`${op}: optimiser must be a bt.optim transformation { init, update } (e.g. bt.optim.adam({ learningRate: 1e-3 })), got ${describe(opt)}.`);
  }
  const ks = o.keyOrState;
  let key: Tensor | undefined;
  let state: IMNNState<P> | undefined;
  if (ks instanceof Tensor) {
    if (ks.dtype !== 'int32' || ks.ndim !== 1 || ks.shape[0] !== 2) throw new ConfigError(`${op}: keyOrState must be a PRNG key (bt.random.key(seed)) or a state { w, opt }, got ${describe(ks)}.`);
    key = ks;
  } else if (ks !== null && typeof ks === 'object' && 'w' in ks && 'opt' in ks) state = ks as IMNNState<P>;
  else throw new ConfigError(`${op}: keyOrState must be a PRNG key (bt.random.key(seed)) or a state { w, opt } from a previous .state, got ${describe(ks)}.`);
  const jit = checkJitOption(op, o.jit);
  return { nS, nD, nParams, nSummaries, inputShape: [...o.inputShape], θFid, model, optimiser: opt, jit, ...(key ? { key } : {}), ...(state ? { state } : {}) };
}
