/**
 * SAMTRON end to end on every backend (CPU float64, WebGPU float32): the functional run on a
 * normalised two-mode 2-D target reaches −ELBO (= KL(q‖p) up to MC noise) below 0.05 with both
 * modes' weights, and no NaN anywhere in the state.
 */
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import * as bt from '../../../src/index.js';
import { backendsUnderTest, read, registerAll } from '../../backend-harness.js';

const backends = await backendsUnderTest('gmmvi/run-backends');
const g = bt.gmmvi;
const LOG2PI = Math.log(2 * Math.PI);
const mus = [[-4, 0], [4, 1]];

registerAll(backends, 'SAMTRON on a two-mode target: −ELBO < 0.05, weights 0.3 / 0.7', async (B) => {
  const target: bt.gmmvi.LNPDF = {
    numDimensions: 2,
    logDensity: (x) => bt.logsumexp(bt.stack(mus.map((mu, o) => bt.sum(bt.square(bt.sub(x, bt.tensor(mu, { dtype: B.dtype }))), { axis: -1 }).mul(-0.5).add(Math.log(o ? 0.7 : 0.3) - LOG2PI))), { axis: 0 }),
  };
  const cfg = g.updateConfig(g.getDefaultAlgorithmConfig('SAMTRON'), {
    model_initialization: { use_diagonal_covs: false, num_initial_components: 2, prior_mean: 0, prior_scale: 3, initial_cov: 4 },
    use_sample_database: true, max_database_size: 100000, temperature: 1,
    sample_selector_config: { desired_samples_per_component: 100, ratio_reused_samples_to_desired: 1 },
    component_stepsize_adapter_config: { initial_stepsize: 0.5 },
    weight_stepsize_adapter_config: { initial_stepsize: 0.5 },
    num_component_adapter_config: { del_iters: 20, add_iters: 10 },
  });
  const r = await g.run(g.init(cfg, target, bt.random.key(2), { dtype: B.dtype }), target, { iterations: 40, key: bt.random.key(5), logMetricsInterval: 0 });
  const m = r.metrics[r.metrics.length - 1]!;
  assert.ok(m.negElbo < 0.05 && m.negElbo > -0.05, `${B.name}: −ELBO ${m.negElbo}`);
  const w = (await read(bt.exp(r.state.model.model.logWeights))).sort((a, b) => b - a);
  assert.ok(Math.abs(w[0]! - 0.7) < 0.02 && Math.abs(w[1]! - 0.3) < 0.02, `${B.name}: weights ${w.slice(0, 2).join(', ')}`);
  assert.ok((await read(r.state.model.model.means)).every(Number.isFinite), 'finite means');
});

test.run();
