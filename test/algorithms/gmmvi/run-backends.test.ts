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
import { samtronTestConfig, twoModeTarget } from './two-mode-fixture.js';

const g = bt.gmmvi;

registerAll(backends, 'SAMTRON on a two-mode target: −ELBO < 0.05, weights 0.3 / 0.7', async (B) => {
  const target = twoModeTarget(B.dtype as 'float64' | 'float32');
  const cfg = samtronTestConfig();
  const r = await g.run(g.init(cfg, target, bt.random.key(2), { dtype: B.dtype }), target, { iterations: 40, key: bt.random.key(5), logMetricsInterval: 0 });
  const m = r.metrics[r.metrics.length - 1]!;
  assert.ok(m.negElbo < 0.05 && m.negElbo > -0.05, `${B.name}: −ELBO ${m.negElbo}`);
  const w = (await read(bt.exp(r.state.model.model.logWeights))).sort((a, b) => b - a);
  assert.ok(Math.abs(w[0]! - 0.7) < 0.02 && Math.abs(w[1]! - 0.3) < 0.02, `${B.name}: weights ${w.slice(0, 2).join(', ')}`);
  assert.ok((await read(r.state.model.model.means)).every(Number.isFinite), 'finite means');
});

test.run();
