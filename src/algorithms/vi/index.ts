/** bt.vi: generalised variational inference for simulators (blackbirds' VI). */
export { VI, type VIOptions, type VIState, type EpochRecord, type LossHistory, type RunResult } from './vi.js';
export {
  lossAndGrad, regularisation, klMonteCarlo, forwardValueAndGrad, sampleValueAndGrad, checkShapes,
  type LossFn, type Prior, type ObjectiveSpec, type LossAndGrad, type DiffMode, type GradientEstimationMethod, type Baseline, type SampleEvaluation,
} from './objective.js';
export { freeze } from './freeze.js';
