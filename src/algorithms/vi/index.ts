/**
 * bt.vi: generalised variational inference for simulators (blackbirds' VI), as pure init/update functions and the VI class over them.
 *
 * @module
 */
export { VI, type VIOptions, type EpochRecord, type LossHistory, type RunResult } from './vi.js';
export {
  build, init, update, fit, fitToPrior, readEpoch, checkEpoch,
  type VIState, type VITransform, type EpochAux, type EpochValues, type FitOptions, type FitResult, type FitToPriorOptions, type EstimateFn, type Estimate,
} from './functional.js';
export { makeConfig, type BuildOptions, type VIConfig } from './config.js';
export {
  lossAndGrad, regularisation, klMonteCarlo, forwardValueAndGrad, sampleValueAndGrad, checkShapes,
  type LossFn, type Prior, type ObjectiveSpec, type LossAndGrad, type DiffMode, type GradientEstimationMethod, type Baseline, type SampleEvaluation,
} from './objective.js';
export { freeze } from './freeze.js';
