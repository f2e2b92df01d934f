/**
 * gmmvi.run's checkpoints on every backend: on WebGPU a checkpoint is read asynchronously (the
 * loop awaits bt.tree.toJSON) and restored onto the current backend; the resumed run ends where
 * the uninterrupted one does (float32: within the backend's tolerance — on lavapipe it is exact —
 * since a GPU's reductions need not be deterministic; CPU: exactly, see
 * run-loop.test.ts).
 */
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import * as bt from '../../../src/index.js';
import { assertCloseArr, backendsUnderTest, read, registerAll } from '../../backend-harness.js';
import { samtronTestConfig, twoModeTarget } from './two-mode-fixture.js';

const backends = await backendsUnderTest('gmmvi/run-loop-backends');
const g = bt.gmmvi;

registerAll(backends, 'checkpoint every 2 of 4 iterations, resume from the first: the uninterrupted run\'s model', async (B) => {
  const target = twoModeTarget(B.dtype as 'float64' | 'float32');
  const cfg = samtronTestConfig({ sample_selector_config: { desired_samples_per_component: 40 } });
  const opts = { iterations: 4, key: bt.random.key(5), logMetricsInterval: 0, metricSamples: 20, progress: false } as const;
  const saved: string[] = [];
  const whole = await g.run(g.init(cfg, target, bt.random.key(2), { dtype: B.dtype }), target, { ...opts, checkpoint: { every: 2, save: (c) => void saved.push(JSON.stringify(c)) } });
  assert.is(saved.length, 2);
  const rest = await g.run(null, target, { ...opts, resume: saved[0]! });
  assert.is(rest.state.numUpdates, 4);
  assert.is(rest.state.model.model.means.dtype, B.dtype);
  assert.is(rest.state.sampleDb.numSamplesWritten, whole.state.sampleDb.numSamplesWritten);
  for (const f of ['means', 'chols', 'logWeights'] as const) {
    assertCloseArr(await read(rest.state.model.model[f]), await read(whole.state.model.model[f]), B.rtol, B.atol, `${B.name} ${f}`);
  }
});

test.run();
