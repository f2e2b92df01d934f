/**
 * bt.ns: nested sampling after jaxns (static sampler, unit-cube priors, evidence moments).
 *
 * @module
 */
export { Prior, PRIOR_FAMILIES, type PriorDistribution } from './prior.js';
export { Model, type ModelOptions, type PriorModel, type PriorSlot } from './model.js';
export { NestedSampler, type NestedSamplerOptions, type NestedSamplerState, type NestedSamplerRunOptions, type ShellAux } from './sampler.js';
export { resample, sampleEvidence, type NestedSamplerResults } from './results.js';
export type { Moments } from './evidence.js';
export { TERMINATION_BITS, terminationNames, type TerminationCond } from './termination.js';
export type { FreshPoints } from './device-shell.js';
export type { DeviceCounters } from './device-evaluate.js';
