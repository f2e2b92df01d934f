/**
 * GMMVI configs as JSON (§7–§8 of the notes): one module config per codename letter, merged in
 * letter order (later letters win per module), the experiment configs of gmmvi's ymls, and
 * `updateConfig`, a deep merge that replaces leaves and lists. Every function returns fresh
 * objects: inputs are never mutated (gmmvi's `update_config` mutates nested dicts of its defaults,
 * §12.9). Letter Q (the JAX port's fixed selector) has no gmmvi yml: its defaults here are ours.
 */
import { ConfigError } from '../../errors.js';

/** A JSON config object. */
export type GmmviConfig = Record<string, unknown>;

/** The module config each codename letter stands for (gmmvi's module ymls). */
export const LETTER_CONFIGS: Readonly<Record<string, GmmviConfig>> = {
  Z: { ng_estimator_type: 'MORE', ng_estimator_config: { initial_l2_regularizer: 1e-12, only_use_own_samples: false, use_self_normalized_importance_weights: true } },
  S: { ng_estimator_type: 'Stein', ng_estimator_config: { only_use_own_samples: false, use_self_normalized_importance_weights: true } },
  A: {
    num_component_adapter_type: 'adaptive',
    num_component_adapter_config: { del_iters: 100, add_iters: 30, max_components: 1000, thresholds_for_add_heuristic: [5000, 1000, 500, 200, 100, 50], min_weight_for_del_heuristic: 1e-6, num_database_samples: 100000, num_prior_samples: 0 },
  },
  E: { num_component_adapter_type: 'fixed', num_component_adapter_config: {} },
  P: { sample_selector_type: 'mixture-based', sample_selector_config: { desired_samples_per_component: 100, ratio_reused_samples_to_desired: 0 } },
  M: { sample_selector_type: 'component-based', sample_selector_config: { desired_samples_per_component: 100, ratio_reused_samples_to_desired: 2 } },
  Q: { sample_selector_type: 'fixed', sample_selector_config: { desired_samples_per_component: 100, ratio_reused_samples_to_desired: 0 } },
  I: { ng_based_updater_type: 'direct', ng_based_updater_config: {} },
  Y: { ng_based_updater_type: 'iBLR', ng_based_updater_config: {} },
  T: { ng_based_updater_type: 'trust-region', ng_based_updater_config: {} },
  F: { component_stepsize_adapter_type: 'fixed', component_stepsize_adapter_config: { initial_stepsize: 1e-5 } },
  D: { component_stepsize_adapter_type: 'decaying', component_stepsize_adapter_config: { initial_stepsize: 1, annealing_exponent: 0.55 } },
  R: { component_stepsize_adapter_type: 'improvement-based', component_stepsize_adapter_config: { initial_stepsize: 1, min_stepsize: 0.001, max_stepsize: 1, stepsize_inc_factor: 1.15, stepsize_dec_factor: 0.85 } },
  U: { weight_updater_type: 'direct', weight_updater_config: { use_self_normalized_importance_weights: true } },
  O: { weight_updater_type: 'trust-region', weight_updater_config: { use_self_normalized_importance_weights: true } },
  X: { weight_stepsize_adapter_type: 'fixed', weight_stepsize_adapter_config: { initial_stepsize: 1 } },
  // gmmvi ships the exponent as "TODO": a config using G must give it (a ConfigError says so)
  G: { weight_stepsize_adapter_type: 'decaying', weight_stepsize_adapter_config: { initial_stepsize: 1, annealing_exponent: 'TODO' } },
  N: { weight_stepsize_adapter_type: 'improvement_based', weight_stepsize_adapter_config: { initial_stepsize: 1, min_stepsize: 0.0001, max_stepsize: 1, stepsize_inc_factor: 1.15, stepsize_dec_factor: 0.85 } },
};

/** The letters per codename position (Q is the JAX port's; gmmvi's 432 use the others). */
export const CODENAME_LETTERS: readonly (readonly string[])[] = [['Z', 'S'], ['E', 'A'], ['P', 'M'], ['I', 'Y', 'T'], ['F', 'D', 'R'], ['U', 'O'], ['X', 'G', 'N']];

/** gmmvi's 432 codenames (ZEPIFUX … SAMTRON), one letter per module in the conventional order. */
export function allCodenames(): string[] {
  return CODENAME_LETTERS.reduce<string[]>((acc, letters) => acc.flatMap((p) => letters.map((l) => p + l)), ['']);
}

const EXPERIMENTS: Readonly<Record<string, GmmviConfig>> = (() => {
  const base = (env: string, envCfg: GmmviConfig, init: GmmviConfig, logEvery: number, maxDb = 10000000): GmmviConfig => ({
    start_seed: 10000,
    environment_name: env,
    environment_config: envCfg,
    model_initialization: { use_diagonal_covs: false, ...init },
    gmmvi_runner_config: { log_metrics_interval: logEvery },
    use_sample_database: true,
    max_database_size: maxDb,
    temperature: 1,
  });
  const lr = { num_initial_components: 1, prior_mean: 0, prior_scale: 10, initial_cov: 100 };
  const mb = { batch_size: 64, size_test_set: 0, use_own_batch_per_sample: true };
  return {
    breast_cancer: base('breastCancer', {}, lr, 50),
    breast_cancer_mb: base('breastCancer_mb', mb, lr, 20),
    german_credit: base('GermanCredit', {}, lr, 20),
    german_credit_mb: base('GermanCredit_mb', mb, lr, 20),
    gmm20: base('GMM', { num_dimensions: 20 }, { num_initial_components: 1, prior_mean: 0, prior_scale: 31.63, initial_cov: 1000 }, 100),
    gmm100: base('GMM', { num_dimensions: 100 }, { num_initial_components: 1, prior_mean: 0, prior_scale: 31.63, initial_cov: 1000 }, 100),
    planar_robot_4: base('PlanarRobot4', {}, { num_initial_components: 300, prior_mean: 0, prior_scale: [1, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2], initial_cov: [0.0625, 0.0025, 0.0025, 0.0025, 0.0025, 0.0025, 0.0025, 0.0025, 0.0025, 0.0025] }, 10),
    stm20: base('STM', { num_dimensions: 20, harder_setting: false, use_matlab_target: false }, { num_initial_components: 20, prior_mean: 0, prior_scale: 100, initial_cov: 300 }, 1000),
    stm300: base('STM', { num_dimensions: 300, harder_setting: true, use_matlab_target: false }, { num_initial_components: 20, prior_mean: 0, prior_scale: 100, initial_cov: 300 }, 50, 100000),
    talos: base('Talos', { context: [0.1, 0.5, 1] }, { num_initial_components: 1, prior_mean: 0, prior_scale: 1, initial_cov: 1 }, 500, 500000),
    wine: base('WINE', { likelihood_scaling: 1, prior_std: 1, batch_size: 128 }, { num_initial_components: 4, prior_mean: 0, prior_scale: 1, initial_cov: 1 }, 25, 500000),
  };
})();

const isObject = (v: unknown): v is GmmviConfig => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A deep copy of JSON data (objects and lists copied, leaves shared). */
function copy<T>(v: T): T {
  if (Array.isArray(v)) return v.map(copy) as T;
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copy(x)])) as T;
  return v;
}

/** `updates` deep-merged into a copy of `base`: nested objects merge key-wise, leaves and lists are replaced. */
function merge(base: GmmviConfig, updates: GmmviConfig): GmmviConfig {
  const out = copy(base);
  for (const [k, v] of Object.entries(updates)) out[k] = isObject(v) && isObject(out[k]) ? merge(out[k] as GmmviConfig, v) : copy(v);
  return out;
}

/** The default config of a codename (letters merged in order; case-insensitive; unknown letters are ConfigErrors). */
export function getDefaultAlgorithmConfig(codename: string): GmmviConfig {
  if (typeof codename !== 'string' || codename.length === 0) throw new ConfigError(`gmmvi.getDefaultAlgorithmConfig: the codename must be a non-empty string like 'SAMTRON', got ${JSON.stringify(codename)}.`);
  let out: GmmviConfig = {};
  for (const ch of codename.toUpperCase()) {
    const c = LETTER_CONFIGS[ch];
    if (!c) throw new ConfigError(`gmmvi.getDefaultAlgorithmConfig: unknown letter '${ch}' in '${codename}' (known: ${Object.keys(LETTER_CONFIGS).join('')}).`);
    out = merge(out, c);
  }
  return out;
}

/** The names of the experiment configs. */
export function experimentNames(): string[] {
  return Object.keys(EXPERIMENTS);
}

/** An experiment config of gmmvi's (gmm20, stm20, breast_cancer, …), as JSON. */
export function getDefaultExperimentConfig(name: string): GmmviConfig {
  const c = EXPERIMENTS[name];
  if (!c) throw new ConfigError(`gmmvi.getDefaultExperimentConfig: unknown experiment '${String(name)}' (known: ${experimentNames().join(', ')}).`);
  return copy(c);
}

/** gmmvi's `get_default_config`: the codename's config and the experiment's, the experiment winning per top-level key. */
export function getDefaultConfig(codename: string, experiment: string): GmmviConfig {
  return { ...getDefaultAlgorithmConfig(codename), ...getDefaultExperimentConfig(experiment) };
}

/**
 * The per-environment overrides of the paper's tuned SAMTRON runs (§7.3: the exp3 evaluation ymls of
 * the reproducibility repo), on top of one base that every environment shares. Keys are gmmvi's.
 */
const PAPER_SAMTRON: Readonly<Record<string, GmmviConfig>> = (() => {
  const run = (o: {
    init?: number; del?: number; add?: number; maxComps?: number; priorSamples?: number; nDes?: number; rho?: number;
    comp?: [number, number, number]; weight?: number; db?: number; extra?: GmmviConfig;
  }): GmmviConfig => ({
    model_initialization: { num_initial_components: o.init ?? 1 },
    num_component_adapter_config: {
      del_iters: o.del ?? 100, add_iters: o.add ?? 30, num_prior_samples: o.priorSamples ?? 0,
      ...(o.maxComps !== undefined ? { max_components: o.maxComps } : {}),
    },
    sample_selector_config: { desired_samples_per_component: o.nDes ?? 100, ratio_reused_samples_to_desired: o.rho ?? 1.61803 },
    component_stepsize_adapter_config: { initial_stepsize: o.comp?.[0] ?? 0.1, min_stepsize: o.comp?.[1] ?? 0.001, max_stepsize: o.comp?.[2] ?? 1 },
    weight_stepsize_adapter_config: { initial_stepsize: o.weight ?? 0.1, min_stepsize: 1e-5, max_stepsize: 4 },
    ...(o.db !== undefined ? { max_database_size: o.db } : {}),
    ...o.extra,
  });
  return {
    breast_cancer: run({ add: 25, nDes: 250, rho: 0, comp: [0.01, 0.001, 1] }),
    german_credit: run({ add: 25, nDes: 400, rho: 1.618, comp: [0.2, 0.001, 1] }),
    breast_cancer_mb: run({ del: 200, add: 250, nDes: 100, rho: 0, comp: [0.1, 0.001, 1] }),
    german_credit_mb: run({ del: 200, add: 250, nDes: 700, rho: 0, comp: [0.05, 5e-5, 0.05], weight: 0.01 }),
    planar_robot_4: run({ del: 10, add: 1, nDes: 100, rho: 0, weight: 5, init: 100, db: 2e6 }),
    gmm20: run({ add: 30, nDes: 300, rho: 0, weight: 0.1, init: 5 }),
    gmm100: run({ add: 60, nDes: 300, rho: 0, weight: 1, init: 1, db: 2e6 }),
    stm20: run({ add: 60, nDes: 200, rho: 0, weight: 1, init: 45, db: 2e6 }),
    stm300: run({ add: 200, maxComps: 150, priorSamples: 1000, nDes: 100, rho: 0, weight: 1, init: 20 }),
    wine: run({
      add: 20, maxComps: 150, priorSamples: 1000, nDes: 750, rho: 0, weight: 1,
      extra: { use_sample_database: false, ng_estimator_config: { only_use_own_samples: true } },
    }),
    talos: run({ del: 30, add: 100, maxComps: 250, priorSamples: 1000, nDes: 200, rho: 0, weight: 1, init: 200 }),
  };
})();

/**
 * SAMTRON as the paper ran it on `experiment` (§7.3): gmmvi's experiment config with the tuned
 * hyperparameters of the 10-seed evaluation (samples per component, reuse ratio, add/delete
 * schedule, initial stepsizes, initial components, database size). The module defaults of
 * `getDefaultConfig('SAMTRON', experiment)` are gmmvi's untuned ymls.
 */
export function getPaperSamtronConfig(experiment: string): GmmviConfig {
  const tuned = PAPER_SAMTRON[experiment];
  if (!tuned) throw new ConfigError(`gmmvi.getPaperSamtronConfig: the paper has no tuned SAMTRON run for '${String(experiment)}' (known: ${Object.keys(PAPER_SAMTRON).join(', ')}).`);
  return merge(getDefaultConfig('SAMTRON', experiment), tuned);
}

/** gmmvi's `update_config`: `updates` deep-merged into `defaults` (leaves and lists replaced); neither input is modified. */
export function updateConfig(defaults: GmmviConfig, updates: GmmviConfig): GmmviConfig {
  if (!isObject(defaults) || !isObject(updates)) throw new ConfigError('gmmvi.updateConfig: both arguments must be plain objects.');
  return merge(defaults, updates);
}
