/**
 * bt.nn: small functional networks (init from a PRNG key, apply over leading batch axes).
 *
 * @module
 */
export type { Module, DenseParams, MlpParams } from './types.js';
export { dense, type DenseOptions } from './dense.js';
export { mlp, type MlpOptions } from './mlp.js';
export { initializers, type Initializer, type InitName } from './initializers.js';
export { activations, gelu, leakyRelu, type Activation, type ActivationName } from './activations.js';
export { conv2d, globalAveragePool, type Conv2dParams, type Conv2dLayerOptions } from './conv2d.js';
