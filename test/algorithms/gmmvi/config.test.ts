/**
 * GMMVI configs: codename expansion (letters in order, later wins per module, case-insensitive,
 * unknown letter a ConfigError), experiment configs, getDefaultConfig's shallow experiment-wins
 * merge, updateConfig's deep merge replacing leaves and lists without mutating its inputs, the
 * initial model of model_initialization — and every one of the 432 codenames builds and runs
 * 20 iterations on a 2-D target (small n_des).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { assertClose } from '../../helpers.js';

const g = bt.gmmvi;

test('codename expansion: SAMTRON = Stein + adaptive + component-based + trust-region + improvement-based + TR weights + improvement_based', () => {
  const c = g.getDefaultAlgorithmConfig('SAMTRON');
  assert.equal([c.ng_estimator_type, c.num_component_adapter_type, c.sample_selector_type, c.ng_based_updater_type, c.component_stepsize_adapter_type, c.weight_updater_type, c.weight_stepsize_adapter_type],
    ['Stein', 'adaptive', 'component-based', 'trust-region', 'improvement-based', 'trust-region', 'improvement_based']);
  assert.equal(c.sample_selector_config, { desired_samples_per_component: 100, ratio_reused_samples_to_desired: 2 });
  assert.equal(g.getDefaultAlgorithmConfig('samtron'), c, 'case-insensitive');
  // two letters for one module: the later wins
  assert.is(g.getDefaultAlgorithmConfig('SAMTRONZ').ng_estimator_type, 'MORE');
  assert.is(g.allCodenames().length, 432);
  assert.is(new Set(g.allCodenames()).size, 432);
  assert.ok(g.allCodenames().includes('SAMTRON') && g.allCodenames().includes('ZAMTRUX') && g.allCodenames().includes('SEPYFUX'));
  assert.throws(() => g.getDefaultAlgorithmConfig('SAMTRQW'), (e: unknown) => e instanceof bt.ConfigError && /unknown letter 'W'/.test((e as Error).message));
});

test('experiment configs and getDefaultConfig: the experiment wins per top-level key', () => {
  const e = g.getDefaultExperimentConfig('gmm20');
  assert.equal(e.environment_config, { num_dimensions: 20 });
  assert.equal((e.model_initialization as Record<string, unknown>).initial_cov, 1000);
  const c = g.getDefaultConfig('SAMTRON', 'stm20');
  assert.is(c.environment_name, 'STM');
  assert.is(c.ng_estimator_type, 'Stein');
  assert.is(g.experimentNames().length, 11);
  assert.throws(() => g.getDefaultExperimentConfig('gmm30'), (e2: unknown) => e2 instanceof bt.ConfigError && /unknown experiment 'gmm30'/.test((e2 as Error).message));
});

test('updateConfig: nested objects merged key-wise, leaves and lists replaced, inputs untouched', () => {
  const defaults = g.getDefaultConfig('SAMTRON', 'gmm20');
  const before = JSON.stringify(defaults);
  const updates = { sample_selector_config: { desired_samples_per_component: 7 }, num_component_adapter_config: { thresholds_for_add_heuristic: [1] }, temperature: 2 };
  const u = g.updateConfig(defaults, updates);
  assert.equal(u.sample_selector_config, { desired_samples_per_component: 7, ratio_reused_samples_to_desired: 2 });
  assert.equal((u.num_component_adapter_config as Record<string, unknown>).thresholds_for_add_heuristic, [1]);
  assert.is(u.temperature, 2);
  assert.is(JSON.stringify(defaults), before, 'defaults not mutated');
  (u.sample_selector_config as Record<string, number>).desired_samples_per_component = 99;
  assert.equal(updates.sample_selector_config, { desired_samples_per_component: 7 }, 'updates not aliased');
  assert.is(JSON.stringify(g.getDefaultConfig('SAMTRON', 'gmm20')), before, 'module defaults not aliased');
});

test("getPaperSamtronConfig: the paper's tuned SAMTRON settings over gmmvi's experiment config; every one parses", () => {
  const bc = g.getPaperSamtronConfig('breast_cancer');
  assert.equal(bc.sample_selector_config, { desired_samples_per_component: 250, ratio_reused_samples_to_desired: 0 });
  const bcAdapt = bc.num_component_adapter_config as Record<string, unknown>;
  assert.equal([bcAdapt.del_iters, bcAdapt.add_iters, bcAdapt.num_prior_samples, bcAdapt.max_components], [100, 25, 0, 1000]);
  assert.is((bc.component_stepsize_adapter_config as Record<string, unknown>).initial_stepsize, 0.01);
  assert.is((bc.component_stepsize_adapter_config as Record<string, unknown>).stepsize_inc_factor, 1.15, 'module keys the paper left alone are kept');
  assert.is(bc.environment_name, 'breastCancer');
  const robot = g.getPaperSamtronConfig('planar_robot_4');
  assert.is((robot.model_initialization as Record<string, unknown>).num_initial_components, 100);
  assert.equal((robot.model_initialization as Record<string, unknown>).initial_cov, (g.getDefaultExperimentConfig('planar_robot_4').model_initialization as Record<string, unknown>).initial_cov);
  assert.is(robot.max_database_size, 2e6);
  const wine = g.getPaperSamtronConfig('wine');
  assert.is(wine.use_sample_database, false);
  assert.equal(wine.ng_estimator_config, { only_use_own_samples: true, use_self_normalized_importance_weights: true });
  const target: bt.gmmvi.LNPDF = { numDimensions: 2, logDensity: (x) => bt.sum(bt.square(x), { axis: -1 }).mul(-0.5) };
  for (const exp of g.experimentNames()) {
    const c = g.getPaperSamtronConfig(exp);
    assert.is(c.ng_estimator_type, 'Stein', exp);
    g.parseModules(c, target); // strict keys: a misspelt override would throw here
  }
  assert.throws(() => g.getPaperSamtronConfig('gmm30'), (e: unknown) => e instanceof bt.ConfigError && /no tuned SAMTRON run for 'gmm30'/.test((e as Error).message));
});

test('constructInitialModel: one component at prior_mean with initial_cov·I; K means from the prior; per-dimension lists', () => {
  const one = g.constructInitialModel(g.getDefaultExperimentConfig('gmm20'), 20, bt.random.key(0));
  assert.is(g.numComponents(one), 1);
  assertClose(one.means, new Array<number>(20).fill(0), 0, 0, 'mean');
  assertClose(bt.diagonal(g.covs(one)), new Array<number>(20).fill(1000), 1e-12, 0, 'cov');
  const pr = g.constructInitialModel(g.getDefaultExperimentConfig('planar_robot_4'), 10, bt.random.key(1));
  assert.is(g.numComponents(pr), 300);
  assertClose(bt.diagonal(g.covs(pr)).slice([0, 0], [1, 10]), [0.0625, ...new Array<number>(9).fill(0.0025)], 1e-12, 0, 'per-dimension cov');
  // means ~ N(0, diag(prior_scale²)): the first coordinate's spread is 5× the others'
  const m = pr.means.toArray() as number[][];
  const sd = (j: number) => Math.sqrt(m.reduce((t, r) => t + r[j]! ** 2, 0) / 300);
  assert.ok(sd(0) > 0.8 && sd(0) < 1.2 && sd(1) > 0.16 && sd(1) < 0.24, `prior scales ${sd(0)}, ${sd(1)}`);
});

test('all 432 codenames build and run 20 iterations on a 2-D target', async () => {
  const target: bt.gmmvi.LNPDF = {
    numDimensions: 2,
    logDensity: (x) => bt.logsumexp(bt.stack([[-2, 0], [2, 1]].map((mu) => bt.sum(bt.square(bt.sub(x, bt.tensor(mu))), { axis: -1 }).mul(-0.5))), { axis: 0 }),
  };
  const exp = { model_initialization: { use_diagonal_covs: false, num_initial_components: 2, prior_mean: 0, prior_scale: 2, initial_cov: 4 }, use_sample_database: true, max_database_size: 2000, temperature: 1 };
  const small = { sample_selector_config: { desired_samples_per_component: 10 } };
  const smallAdaptive = { num_component_adapter_config: { del_iters: 5, add_iters: 4, num_database_samples: 100 } };
  let failures = 0;
  const t0 = Date.now();
  for (const code of g.allCodenames()) {
    let cfg = g.updateConfig({ ...g.getDefaultAlgorithmConfig(code), ...exp }, small);
    if (code[1] === 'A') cfg = g.updateConfig(cfg, smallAdaptive);
    if (code.endsWith('G')) cfg = g.updateConfig(cfg, { weight_stepsize_adapter_config: { annealing_exponent: 0.5 } });
    const model = g.GmmWrapper.buildFromConfig(g.constructInitialModel(cfg, 2, bt.random.key(1)), cfg);
    const vi = g.GMMVI.buildFromConfig(cfg, target, model);
    for (let t = 0; t < 20; t++) {
      const k = bt.random.foldIn(bt.random.key(7), t);
      const info = await vi.trainIter(k);
      k.dispose();
      failures += info.numFailedComponentUpdates;
    }
    const mu = Array.from(model.means.dataSync());
    assert.ok(mu.every(Number.isFinite), `${code}: finite means`);
    assert.is(vi.numUpdates, 20, code);
    bt.dispose([model.wrapperState, vi.sampleDb.state]);
  }
  console.log(`[note] 432 codenames × 20 iterations in ${((Date.now() - t0) / 1000).toFixed(1)} s (${failures} failed component updates kept)`);
});

test.run();
