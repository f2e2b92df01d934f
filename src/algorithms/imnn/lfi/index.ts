/**
 * bt.imnn.lfi: likelihood-free inference with IMNN (or any) compressors, after imnn.lfi:
 * Gaussian approximation, ABC and population Monte Carlo over a box prior.
 *
 * @module
 */
export { uniformPrior, checkPrior, type BoxPrior } from './prior.js';
export { getLevels, histogramMarginals, type Marginals, type Marginal2D } from './grid.js';
export { GaussianApproximation } from './gaussian-approximation.js';
export { ApproximateBayesianComputation, type ABCRunOptions, type ABCResult, type ABCTargetResult } from './abc.js';
export { PopulationMonteCarlo, weightedCov, type PMCRunOptions, type PMCResult } from './pmc.js';
export type { Simulator, Compressor, DistanceMeasure } from './distance.js';
