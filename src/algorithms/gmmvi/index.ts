/**
 * bt.gmmvi: Gaussian-mixture variational inference after gmmvi (Arenz et al., TMLR 2023). This
 * first increment holds the model (`GMM`, full and diagonal covariances), the learner's
 * per-component meta state (`GmmWrapper`) and the sample database (`SampleDB`), each a functional
 * core over plain pytree states with a thin class of gmmvi's names on top.
 *
 * @module
 */
export {
  createGmm, numComponents, numDimensions, weights, invertChols, componentLogDensities, logDensitiesAlsoIndividual, logDensity,
  logDensityAndGrad, gaussianEntropy, componentEntropies, getAverageEntropy, covs, sampleCategorical, sampleWithMapping, sample,
  sampleFromComponentsNoShuffle, replaceWeights, replaceComponents, addComponent, removeComponent, dropRow,
  componentMarginalLogDensities, marginalLogDensity, disposeGmmPrograms,
  type GmmState, type CreateGmmOptions, type LogDensityAndGrad, type GmmSamples,
} from './gmm.js';
export { GMM, disposeReplaced } from './gmm-class.js';
export {
  FLOAT32_MIN, createGmmWrapper, historyLengthFromConfig, gmmWrapperFromConfig, wrapperAddComponent, wrapperRemoveComponent,
  storeRewards, updateStepsizes, wrapperReplaceWeights, GmmWrapper, type GmmWrapperState, type GmmWrapperOptions,
} from './wrapper.js';
export {
  createSampleDb, sampleDbFromConfig, removeEveryNthSample, addSamples, evaluateBackground, getNewestSamples, getRandomSample,
  SampleDB, type SampleDbState, type NewestSamples,
} from './sample-db.js';
export { evaluateTarget, checkTarget, disposeTargetPrograms, type LNPDF, type TargetEvaluation } from './target.js';
export {
  selectSamples, effectiveSampleSizes, numSamplesToReuse, checkSelectorOptions, SampleSelector, VipsSampleSelector, LinSampleSelector,
  FixedSampleSelector, type SampleSelectorType, type SampleSelectorOptions, type SampleSelection, type SelectResult,
} from './sample-selector.js';
export { steinEstimate, disposeSteinPrograms, type SteinOptions, type NgEstimate } from './stein.js';
export { directUpdate, iblrUpdate, trustRegionUpdate, ngBasedUpdate, type NgBasedUpdaterType, type NgUpdateInfo, type TrustRegionOptions } from './ng-updater.js';
export { updateWeights, expectedComponentRewards, type WeightUpdaterType, type WeightUpdateOptions, type WeightUpdateInfo } from './weight-updater.js';
export {
  parseStepsizeConfig, adaptComponentStepsizes, initWeightStepsize, adaptWeightStepsize,
  type ComponentStepsizeType, type WeightStepsizeType, type StepsizeConfig, type WeightStepsizeState,
} from './stepsize.js';
export {
  checkAdaptiveConfig, componentsToDelete, deleteBadComponents, addNewComponent, adaptNumComponents,
  type AdaptiveConfig, type ComponentPrior, type AddedComponent,
} from './component-adaptation.js';
export { GMMVI, gmmviStep, initGmmviState, parseModules, constructInitialModel, type GmmviModules, type GmmviState, type GmmviStepInfo } from './gmmvi.js';
export { moreEstimate, type MoreOptions } from './more.js';
export {
  LETTER_CONFIGS, CODENAME_LETTERS, allCodenames, experimentNames, getDefaultAlgorithmConfig, getDefaultExperimentConfig, getDefaultConfig,
  getPaperSamtronConfig, updateConfig, type GmmviConfig,
} from './config.js';
export { init, update, run, evaluateMetrics, type GmmviRunState, type GmmviMetrics, type RunOptions, type RunResult } from './functional.js';
export { gmmTarget, makeGmmTarget, type GmmTarget } from './targets/gmm-target.js';
export { detectedModesOf } from './targets/modes.js';
export { studentTMixtureTarget, makeStmTarget, type StudentTMixtureTarget } from './targets/student-t-mixture.js';
export { logisticRegressionTarget, scaledDesign, type LogisticRegressionTarget } from './targets/logistic-regression.js';
export { planarRobotTarget, type PlanarRobotTarget } from './targets/planar-robot.js';
export { rosenbrockTarget, type RosenbrockTarget } from './targets/rosenbrock.js';
export { makeDiagGmmTarget, starTarget, threeComponentTarget } from './targets/helpers-2d.js';
export { mmd, mmdBandwidth, planarRobotModes } from './metrics.js';
export { targetFromConfig } from './targets/from-config.js';
