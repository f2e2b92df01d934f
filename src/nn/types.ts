import type { Tensor } from '../tensor.js';

/**
 * A network is a pair of pure functions, as in Flax/Haiku: `init(key)` draws the parameters (a
 * pytree of Tensors) from a PRNG key, `apply(params, x)` evaluates it. Nothing is stored in the
 * module, so params can be differentiated, optimised, sampled (SG-MCMC) or vmapped freely.
 */
export interface Module<P> {
  /** Fresh parameters from a PRNG key (the same key gives the same parameters). */
  init(key: Tensor): P;
  /** The module's output for input x [..., in] (leading batch axes broadcast). */
  apply(params: P, x: Tensor): Tensor;
}

/** Parameters of a dense layer: weights [in, out] and optional bias [out]. */
export interface DenseParams {
  /** [inFeatures, outFeatures] */
  w: Tensor;
  /** [outFeatures]; absent when bias is false */
  b?: Tensor;
}

/** Parameters of an MLP: one dense layer's parameters per layer. */
export interface MlpParams {
  layers: DenseParams[];
}
