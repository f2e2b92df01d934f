/**
 * The SAMTRON test setting shared by the functional and the run-backends tests: a normalised
 * two-mode 2-D target 0.3 N((−4, 0), I) + 0.7 N((4, 1), I) (so −ELBO = KL(q‖p) ≥ 0 up to MC
 * noise) and SAMTRON's defaults scaled to it (2 initial components, n_des 100, ρ 1, stepsizes
 * 0.5, components adapted every 10 / deleted after 20 iterations).
 */
import * as bt from '../../../src/index.js';

const LOG2PI = Math.log(2 * Math.PI);
/** the two target means */
export const TWO_MODE_MEANS = [[-4, 0], [4, 1]];
/** the two target weights, in the order of TWO_MODE_MEANS */
export const TWO_MODE_WEIGHTS = [0.3, 0.7];

/** 0.3 N(μ₀, I) + 0.7 N(μ₁, I) in `dtype`, normalised. */
export function twoModeTarget(dtype: 'float64' | 'float32' = 'float64'): bt.gmmvi.LNPDF {
  return {
    numDimensions: 2,
    logDensity: (x) => bt.logsumexp(bt.stack(TWO_MODE_MEANS.map((mu, o) => bt.sum(bt.square(bt.sub(x, bt.tensor(mu, { dtype }))), { axis: -1 }).mul(-0.5).add(Math.log(TWO_MODE_WEIGHTS[o]!) - LOG2PI))), { axis: 0 }),
  };
}

/** SAMTRON's default config with the test setting above; `extra` is merged last. */
export function samtronTestConfig(extra: bt.gmmvi.GmmviConfig = {}): bt.gmmvi.GmmviConfig {
  const g = bt.gmmvi;
  const cfg = g.updateConfig(g.getDefaultAlgorithmConfig('SAMTRON'), {
    model_initialization: { use_diagonal_covs: false, num_initial_components: 2, prior_mean: 0, prior_scale: 3, initial_cov: 4 },
    use_sample_database: true, max_database_size: 100000, temperature: 1,
    sample_selector_config: { desired_samples_per_component: 100, ratio_reused_samples_to_desired: 1 },
    component_stepsize_adapter_config: { initial_stepsize: 0.5 },
    weight_stepsize_adapter_config: { initial_stepsize: 0.5 },
    num_component_adapter_config: { del_iters: 20, add_iters: 10 },
  });
  return g.updateConfig(cfg, extra);
}
