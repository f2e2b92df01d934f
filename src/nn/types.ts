import type { Tensor } from '../tensor.js';

/**
 * A network is a pair of pure functions, as in Flax/Haiku: `init(key)` draws the parameters (a
 * pytree of Tensors) from a PRNG key, `apply(params, x)` evaluates it. Nothing is stored in the
 * module, so params can be differentiated, optimised, sampled (SG-MCMC) or vmapped freely.
 */
export interface Module<P> {
  init(key: Tensor): P;
  apply(params: P, x: Tensor): Tensor;
}

export interface DenseParams {
  /** [inFeatures, outFeatures] */
  w: Tensor;
  /** [outFeatures]; absent when bias is false */
  b?: Tensor;
}

export interface MlpParams {
  layers: DenseParams[];
}
