/**
 * bt.optim: optax-style gradient transformations over pytrees, and learning-rate schedules.
 *
 * @module
 */
export type { GradientTransformation, Schedule, ScalarOrSchedule } from './types.js';
export { applyUpdates } from './apply.js';
export { chain } from './chain.js';
export { identity, scale, scaleBySchedule, scaleByLearningRate } from './scale.js';
export { trace, type TraceOptions } from './trace.js';
export { scaleByAdam, type ScaleByAdamOptions, type AdamState } from './adam.js';
export { addDecayedWeights, type AddDecayedWeightsOptions, type Mask } from './decay.js';
export { clipByGlobalNorm, globalNorm } from './clip.js';
export { sgd, adam, adamw, type SgdOptions, type AdamOptions, type AdamwOptions } from './alias.js';
export {
  constantSchedule, exponentialDecay, cosineDecaySchedule, linearSchedule, polynomialSchedule, joinSchedules, warmupCosineDecaySchedule,
  type ExponentialDecayOptions, type CosineDecayOptions, type PolynomialOptions, type LinearOptions, type WarmupCosineOptions,
} from './schedules.js';
