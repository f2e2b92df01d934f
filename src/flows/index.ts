/**
 * bt.flows: normalising flows as posterior estimators (Distributions with eventShape [d]).
 * maf / realNVP presets, the Flow class, and the bijectors they are made of.
 *
 * @module
 */
export { Flow, flow, maf, realNVP, type FlowParams, type FlowOptions } from './flow.js';
export {
  maskedAffineAutoregressive, affineCoupling, permutation, madeMasks,
  type Bijector, type MadeParams, type MaskedAffineAutoregressiveOptions, type AffineCouplingOptions, type PermutationOptions,
} from './bijectors.js';
