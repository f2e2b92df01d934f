/**
 * bt.em: evidence maximisation after jaxns (type-II maximum likelihood of a Model's parametrised
 * priors: E-step = nested sampling, M-step = maximise the reweighted evidence).
 *
 * @module
 */
export {
  EvidenceMaximisation, type EvidenceMaximisationOptions, type EMSolver, type MStepResult, type EMStepRecord, type EStepOptions, type EMTrainOptions, type EMTrainResult,
} from './em.js';
export { newtonCG, type FlatObjective, type NewtonCGOptions, type NewtonCGResult } from './newton-cg.js';
