/**
 * bt.diagnostics: convergence diagnostics for MCMC draws on the host, as Vehtari et al. (2021),
 * Stan and ArviZ compute them: rank-normalised split-R̂, bulk and tail ESS, MCSE, autocorrelation
 * and a per-parameter summary. Draws are laid out [chains, draws] (one scalar) or
 * [chains, draws, ...params] (summary).
 *
 * @module
 */
export { rhat, splitRhat } from './rhat.js';
export { essBulk, essTail, essMean, mcseMean } from './ess.js';
export { autocorrelation, autocovariance } from './autocorr.js';
export { summary, formatSummary, type SummaryRow, type SummaryOptions, type MultiDraws } from './summary.js';
export type { ChainDraws } from './draws.js';
