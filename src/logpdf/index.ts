/**
 * bt.logpdf: log densities (summed or elementwise) and the batch-averaged log posterior for SG-MCMC.
 *
 * @module
 */
export { normal, diagNormal, type NormalizeOption } from './normal.js';
export { multivariateNormal } from './mvn.js';
export { bernoulliLogits } from './bernoulli.js';
export { categoricalLogits } from './categorical.js';
export { batchLogPosterior, type BatchLogPosteriorOptions, type BatchLogPosteriorAux } from './posterior.js';
