/**
 * GMMVI end to end over the modules built so far (Stein estimator; selectors, updaters, stepsize
 * and component adapters): a Gaussian target is matched by one component, a two-mode target's
 * weights and means by two, NaN target values stop with a NumericalError naming the iteration
 * and keep the state, the live tensor count stays flat, and config errors name the key.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { assertClose } from '../../helpers.js';

const g = bt.gmmvi;

/** A SAMTRON-like config (adaptive components off unless asked). */
function config(over: Record<string, unknown> = {}) {
  return {
    temperature: 1,
    use_sample_database: true,
    max_database_size: 100000,
    model_initialization: { use_diagonal_covs: false, prior_mean: 0, initial_cov: 4 },
    ng_estimator_type: 'Stein',
    ng_estimator_config: { only_use_own_samples: false, use_self_normalized_importance_weights: true },
    sample_selector_type: 'component-based',
    sample_selector_config: { desired_samples_per_component: 200, ratio_reused_samples_to_desired: 1 },
    ng_based_updater_type: 'trust-region',
    ng_based_updater_config: {},
    component_stepsize_adapter_type: 'improvement-based',
    component_stepsize_adapter_config: { initial_stepsize: 0.5, min_stepsize: 0.001, max_stepsize: 1, stepsize_inc_factor: 1.15, stepsize_dec_factor: 0.85 },
    weight_updater_type: 'trust-region',
    weight_updater_config: { use_self_normalized_importance_weights: true },
    weight_stepsize_adapter_type: 'improvement_based',
    weight_stepsize_adapter_config: { initial_stepsize: 0.5, min_stepsize: 0.0001, max_stepsize: 1, stepsize_inc_factor: 1.15, stepsize_dec_factor: 0.85 },
    num_component_adapter_type: 'fixed',
    num_component_adapter_config: {},
    ...over,
  };
}

const S = [[1.5, 0.6], [0.6, 0.8]];
const m = [2, -1];
const Sinv = bt.linalg.inv(bt.tensor(S));
const gaussian: bt.gmmvi.LNPDF = {
  numDimensions: 2,
  logDensity: (x) => {
    const d = bt.sub(x, bt.tensor(m));
    return bt.sum(bt.mul(bt.matmul(d, Sinv), d), { axis: -1 }).mul(-0.5);
  },
};

test('one component on a Gaussian target: mean and covariance found (TR steps, Stein)', async () => {
  const model = g.GmmWrapper.buildFromConfig(g.createGmm({ means: bt.tensor([[0, 0]]), covs: bt.tensor([[[4, 0], [0, 4]]]) }), config());
  const vi = g.GMMVI.buildFromConfig(config(), gaussian, model);
  const key = bt.random.key(0);
  for (let t = 0; t < 40; t++) await vi.trainIter(bt.random.foldIn(key, t));
  assert.is(vi.numUpdates, 40);
  // an exact Stein estimate makes the fixed point exact; 200 samples per step leave MC noise ~ 1/√200 of the scale
  assertClose(model.means, m, 0, 0.15, 'mean');
  assertClose(model.covs, S.flat(), 0, 0.2, 'covariance');
  assert.ok(vi.sampleDb.numSamplesWritten >= 40, 'target evaluations counted');
});

test('two components on a two-mode target: weights 0.3 / 0.7 and both means', async () => {
  const mus = [[-5, 0], [5, 0]];
  const target: bt.gmmvi.LNPDF = {
    numDimensions: 2,
    logDensity: (x) => {
      const parts = mus.map((mu, o) => bt.sum(bt.square(bt.sub(x, bt.tensor(mu))), { axis: -1 }).mul(-0.5).add(Math.log(o === 0 ? 0.3 : 0.7)));
      return bt.logsumexp(bt.stack(parts), { axis: 0 });
    },
  };
  const model = g.GmmWrapper.buildFromConfig(g.createGmm({ means: bt.tensor([[-3, 1], [3, -1]]), covs: bt.tensor([[[2, 0], [0, 2]], [[2, 0], [0, 2]]]) }), config());
  const vi = g.GMMVI.buildFromConfig(config(), target, model);
  const key = bt.random.key(1);
  for (let t = 0; t < 60; t++) await vi.trainIter(bt.random.foldIn(key, t));
  assertClose(model.weights, [0.3, 0.7], 0, 0.05, 'weights');
  assertClose(model.means, mus.flat(), 0, 0.25, 'means');
});

test('MORE (Z) end to end: one component finds the Gaussian target', async () => {
  const cfg = config({ ng_estimator_type: 'MORE', ng_estimator_config: { only_use_own_samples: false, initial_l2_regularizer: 1e-12, use_self_normalized_importance_weights: true } });
  const model = g.GmmWrapper.buildFromConfig(g.createGmm({ means: bt.tensor([[0, 0]]), covs: bt.tensor([[[4, 0], [0, 4]]]) }), cfg);
  const vi = g.GMMVI.buildFromConfig(cfg, gaussian, model);
  const key = bt.random.key(3);
  for (let t = 0; t < 30; t++) await vi.trainIter(bt.random.foldIn(key, t));
  // the log ratio of a Gaussian target and a Gaussian component is exactly quadratic: MORE's fit is exact
  assertClose(model.means, m, 1e-6, 1e-6, 'mean');
  assertClose(model.covs, S.flat(), 1e-6, 1e-6, 'covariance');
});

test('NaN target values: NumericalError naming the iteration and count; the state before it is kept', async () => {
  let calls = 0;
  // jit: false: the density counts its calls on the host, which a traced density would do once per trace
  const flaky: bt.gmmvi.LNPDF = { numDimensions: 2, jit: false, logDensity: (x) => { calls++; const v = gaussian.logDensity(x); return calls === 3 ? bt.where(bt.greater(bt.arange(0, x.shape[0]!), 5), NaN, v) : v; } };
  const model = g.GmmWrapper.buildFromConfig(g.createGmm({ means: bt.tensor([[0, 0]]), covs: bt.tensor([[[4, 0], [0, 4]]]) }), config());
  const vi = g.GMMVI.buildFromConfig(config(), flaky, model);
  await vi.trainIter(bt.random.key(1));
  await vi.trainIter(bt.random.key(2));
  const means = Array.from(model.means.dataSync());
  const written = vi.sampleDb.numSamplesWritten;
  let err: unknown;
  try { await vi.trainIter(bt.random.key(3)); } catch (e) { err = e; }
  assert.ok(err instanceof bt.NumericalError && /iteration 2/.test((err as Error).message) && /NaN or \+∞ for \d+ of \d+/.test((err as Error).message), String(err));
  assert.equal(Array.from(model.means.dataSync()), means, 'model kept');
  assert.is(vi.sampleDb.numSamplesWritten, written, 'database kept');
  assert.is(vi.numUpdates, 2);
  await vi.trainIter(bt.random.key(4)); // and it carries on
  assert.is(vi.numUpdates, 3);
});

test('+∞ target values are NumericalErrors too; a model of the wrong dimension or a target returning the wrong shape is a ShapeError', async () => {
  const inf: bt.gmmvi.LNPDF = { numDimensions: 2, logDensity: (x) => bt.where(bt.greater(bt.arange(0, x.shape[0]!), 3), Infinity, gaussian.logDensity(x)) };
  const vi = g.GMMVI.buildFromConfig(config(), inf, g.GmmWrapper.buildFromConfig(g.createGmm({ means: bt.tensor([[0, 0]]), covs: bt.tensor([[[4, 0], [0, 4]]]) }), config()));
  let err: unknown;
  try { await vi.trainIter(bt.random.key(1)); } catch (e) { err = e; }
  assert.ok(err instanceof bt.NumericalError && /iteration 0/.test((err as Error).message) && /NaN or \+∞ for \d+ of \d+/.test((err as Error).message), String(err));
  assert.is(vi.numUpdates, 0);
  const model3 = g.GmmWrapper.buildFromConfig(g.createGmm({ means: bt.tensor([[0, 0, 0]]), covs: bt.eye(3).reshape([1, 3, 3]) }), config());
  err = undefined;
  try { g.GMMVI.buildFromConfig(config(), gaussian, model3); } catch (e) { err = e; }
  assert.ok(err instanceof bt.ShapeError && /3 dimensions but the target 2/.test((err as Error).message), String(err));
  const flat: bt.gmmvi.LNPDF = { numDimensions: 2, logDensity: (x) => bt.sum(x) };
  const vi2 = g.GMMVI.buildFromConfig(config(), flat, g.GmmWrapper.buildFromConfig(g.createGmm({ means: bt.tensor([[0, 0]]), covs: bt.tensor([[[4, 0], [0, 4]]]) }), config()));
  err = undefined;
  try { await vi2.trainIter(bt.random.key(1)); } catch (e) { err = e; }
  assert.ok(err instanceof bt.ShapeError && /log density must be/.test((err as Error).message), String(err));
});

test('zero density (−∞) samples: allowed, counted, no weight; the fit stays finite and inside the support', async () => {
  // the Gaussian truncated to x₀ > 1: the model starts wide, so many early samples have −∞
  const truncated: bt.gmmvi.LNPDF = { numDimensions: 2, logDensity: (x) => bt.where(bt.greater(x.slice([0, 0], [x.shape[0]!, 1]).reshape([x.shape[0]!]), 1), gaussian.logDensity(x), -Infinity) };
  const model = g.GmmWrapper.buildFromConfig(g.createGmm({ means: bt.tensor([[0, 0]]), covs: bt.tensor([[[4, 0], [0, 4]]]) }), config());
  const vi = g.GMMVI.buildFromConfig(config(), truncated, model);
  const key = bt.random.key(2);
  for (let t = 0; t < 20; t++) await vi.trainIter(bt.random.foldIn(key, t));
  const db = vi.sampleDb.state;
  const lp = Array.from(db.targetLnpdfs.dataSync());
  assert.ok(lp.some((v) => v === -Infinity), 'some evaluations had zero density');
  assert.is(vi.sampleDb.numSamplesWritten, lp.length, 'all of them counted (no halving here)');
  const mu = Array.from(model.means.dataSync());
  assert.ok(mu.every(Number.isFinite) && Array.from(model.covs.dataSync()).every(Number.isFinite), 'finite model');
  assert.ok(mu[0]! > 1, `the mean moved into the support (x₀ = ${mu[0]})`);
});

test('no leaks: the live tensor count stays flat over iterations (adaptive components included)', async () => {
  const adaptive = { del_iters: 4, add_iters: 3, max_components: 4, thresholds_for_add_heuristic: [5000, 1000, 500, 200, 100, 50], min_weight_for_del_heuristic: 1e-6, num_database_samples: 200, num_prior_samples: 0 };
  const cfg = config({ num_component_adapter_type: 'adaptive', num_component_adapter_config: adaptive, sample_selector_config: { desired_samples_per_component: 20, ratio_reused_samples_to_desired: 1 } });
  const model = g.GmmWrapper.buildFromConfig(g.createGmm({ means: bt.tensor([[0, 0]]), covs: bt.tensor([[[4, 0], [0, 4]]]) }), cfg);
  const vi = g.GMMVI.buildFromConfig(cfg, gaussian, model);
  const key = bt.random.key(5);
  const counts: number[] = [];
  for (let t = 0; t < 14; t++) {
    const k = bt.random.foldIn(key, t);
    await vi.trainIter(k);
    k.dispose();
    counts.push(bt.memory().numTensors);
  }
  assert.ok(model.numComponents > 1, 'components were added');
  // tensors per state depend on nothing but the state's shape: once K stops changing the count is flat
  assert.ok(counts[13]! - counts[9]! <= 0, `live tensors ${counts.join(', ')}`);
});

test('config errors name the key', () => {
  const model = g.GmmWrapper.buildFromConfig(g.createGmm({ means: bt.tensor([[0, 0]]), covs: bt.tensor([[[1, 0], [0, 1]]]) }), config());
  const isConfig = (re: RegExp) => (e: unknown) => e instanceof bt.ConfigError && re.test((e as Error).message);
  assert.throws(() => g.GMMVI.buildFromConfig(config({ ng_estimator_type: 'MORE' }), gaussian, model), isConfig(/ng_estimator_config.initial_l2_regularizer is missing/));
  assert.throws(() => g.GMMVI.buildFromConfig(config({ sample_selector_type: 'vips' }), gaussian, model), isConfig(/sample_selector_type is 'vips'/));
  assert.throws(() => g.GMMVI.buildFromConfig(config({ ng_based_updater_config: { eta: 1 } }), gaussian, model), isConfig(/ng_based_updater_config.eta/));
  // our one trust-region option: a boolean, and only for the trust-region updater
  assert.throws(() => g.GMMVI.buildFromConfig(config({ ng_based_updater_config: { full_step_when_feasible: 'yes' } }), gaussian, model), isConfig(/full_step_when_feasible must be true or false/));
  assert.throws(() => g.GMMVI.buildFromConfig(config({ ng_based_updater_type: 'iBLR', ng_based_updater_config: { full_step_when_feasible: false } }), gaussian, model), isConfig(/unknown key ng_based_updater_config.full_step_when_feasible/));
  assert.equal(g.parseModules(config({ ng_based_updater_config: { full_step_when_feasible: false } }), gaussian).ngBasedUpdaterOptions, { fullStepWhenFeasible: false });
  assert.equal(g.parseModules(config(), gaussian).ngBasedUpdaterOptions, { fullStepWhenFeasible: true });
  const { weight_updater_config: _, ...missing } = config();
  assert.throws(() => g.GMMVI.buildFromConfig(missing, gaussian, model), isConfig(/weight_updater_config must be an object \(missing\)/));
});

test.run();
