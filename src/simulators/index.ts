/**
 * bt.simulators: differentiable simulators and the losses used with bt.vi — helpers
 * (straight-through Gumbel-softmax, soft min/max, a truncated-BPTT simulation harness), models
 * (random walk, Brock–Hommes, SIR on a Watts–Strogatz graph, a multivariate-normal toy) and
 * losses (MSE, univariate MMD, Gaussian log-likelihood).
 *
 * @module
 */
export { gumbelSoftmax, bernoulliStraightThrough, softMaximum, softMinimum, type GumbelSoftmaxOptions } from './helpers.js';
export { simulate, type Model, type SimulateOptions } from './simulate.js';
export { randomWalk, type RwPrep } from './models/random-walk.js';
export { brockHommes, brockHommesNotebook03, BROCK_HOMMES_PARAMS, type BhPrep } from './models/brock-hommes.js';
export { wattsStrogatz, type Graph } from './models/graph.js';
export { sir } from './models/sir.js';
export { mvnToy, conjugatePosterior } from './models/mvn-toy.js';
export { mse, mmd, mmdLoss, medianHeuristic, gaussianLogLikelihood, gaussianNll } from './losses.js';
export { gaussianRandomField, grfFisher, grfFisherReference, grfWavenumbers, det2 } from './models/gaussian-random-field.js';
