/**
 * bt.ns: nested sampling after jaxns (static sampler, unit-cube priors, evidence moments).
 *
 * @module
 */
export { Prior, ParametrisedPrior, PRIOR_FAMILIES, quickUnit, type PriorDistribution, type PriorFamily, type ParametrisedOptions } from './prior.js';
export { Model, type ModelOptions, type ModelParams, type PriorModel, type PriorSlot, type ParamSlot } from './model.js';
export { NestedSampler, type NestedSamplerOptions, type NestedSamplerState, type NestedSamplerRunOptions, type ShellAux } from './sampler.js';
export { resample, sampleEvidence, type NestedSamplerResults } from './results.js';
export type { Moments } from './evidence.js';
export { TERMINATION_BITS, terminationNames, and, or, type TerminationCond, type TerminationCriteria, type TerminationAnd, type TerminationOr, type TerminationRegister } from './termination.js';
export { countCrossedEdges, type CrossedEdges } from './tree.js';
export type { FreshPoints } from './device-shell.js';
export type { DeviceCounters } from './device-evaluate.js';
export type { NsJitInfo } from './likelihood.js';
