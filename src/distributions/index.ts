/**
 * bt.distributions: probability distributions with logProb / sample / rsample / entropy / mean,
 * trainable through params() / withParams(p) (unconstrained leaves), and analytic kl(p, q).
 *
 * @module
 */
export { kl, registerKl, type Distribution, type DistributionClass } from './types.js';
export { Normal } from './normal.js';
export { LogNormal } from './lognormal.js';
export { Uniform } from './uniform.js';
export { DiagonalNormal } from './diagonal.js';
export { MultivariateNormal, type MultivariateNormalOptions } from './mvn.js';
export { Independent } from './independent.js';
export type { LocScaleDistribution } from './loc-scale.js';
export {
  uniformQuantile, normalQuantile, logNormalQuantile, exponentialQuantile, laplaceQuantile, cauchyQuantile, gammaQuantile, betaQuantile, studentTQuantile,
} from './quantiles.js';
