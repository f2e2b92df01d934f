/**
 * bt.imnn: information-maximising neural networks (Charnock, Lavaux & Wandelt 2018; the JAX
 * package imnn): a network trained so that its outputs keep the Fisher information of the data
 * about the parameters at θ_fid, and score-compressed estimates from it.
 *
 * @module
 */
export { IMNN as IMNNBase, type IMNNState, type IMNNAux, type IMNNHistory, type FitOptions, type IMNNCheckpoint, type Subclass } from './imnn.js';
export { SimulatorIMNN, type SimulatorIMNNOptions } from './simulator.js';
export { GradientIMNN, jvpDerivatives, type GradientIMNNOptions } from './gradient.js';
export { NumericalGradientIMNN, type NumericalGradientIMNNOptions } from './numerical.js';
export { AggregatedSimulatorIMNN, type AggregatedSimulatorIMNNOptions, type SummaryOptions } from './aggregated-simulator.js';
export { AggregatedGradientIMNN, type AggregatedGradientIMNNOptions } from './aggregated-gradient.js';
export { AggregatedNumericalGradientIMNN, type AggregatedNumericalGradientIMNNOptions } from './aggregated-numerical.js';
export { Aggregation, type AggregationOptions, type DataAggregationOptions, type Piece, type PieceFn } from './aggregation.js';
export { IMNN, type AnyIMNNOptions, type AnyIMNN } from './factory.js';
export { getα, fisherStatistics, imnnLoss, regularisation, regularisationStrength, signedLogdet, type FStatistics, type LossAux } from './fisher.js';
export type { CommonOptions } from './check.js';
export type { PlotOptions } from './plot.js';
export * as lfi from './lfi/index.js';
