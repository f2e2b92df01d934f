/**
 * bt.sgmcmc: stochastic-gradient MCMC with posteriors' semantics (`sghmc`, `sgld`, `sgnht`,
 * `baoa`: `build(logPosterior, options) -> { init, update }` over plain pytree states), plus what
 * users build around them: parallel chains, a sample collector, a run loop and minibatches.
 *
 * @module
 */
export * as sghmc from './sghmc.js';
export * as sgld from './sgld.js';
export * as sgnht from './sgnht.js';
export * as baoa from './baoa.js';
export type { SGHMCOptions, SGHMCState } from './sghmc.js';
export type { SGLDOptions, SGLDState } from './sgld.js';
export type { SGNHTOptions, SGNHTState } from './sgnht.js';
export type { BAOAOptions, BAOAState } from './baoa.js';
export type { Schedule, LogPosterior, Sampler, BaseState, JitInfo } from './common.js';
export { parallel, replicate, type ParallelOptions, type ParallelSampler } from './parallel.js';
export { collect, type Collector, type CollectOptions, type CollectableState } from './collect.js';
export { run, minibatches, disposeState, type RunOptions, type RunResult, type Progress, type MinibatchOptions, type MinibatchIterator, type Steppable } from './run.js';
export { gaussianKL } from './diagnostics.js';
