/**
 * The functional GMMVI (init / update / run): a state saved with bt.tree.toJSON after 3 of 6
 * iterations and restored resumes with exactly the numbers of the uninterrupted run (CPU); run
 * logs gmmvi's metrics; on a normalised two-mode target −ELBO (= KL(q‖p) ≥ 0 up to MC noise)
 * falls below 0.05; an AbortSignal stops between iterations.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';

import { samtronTestConfig, twoModeTarget } from './two-mode-fixture.js';

const g = bt.gmmvi;
const LOG2PI = Math.log(2 * Math.PI);
const target = twoModeTarget();
const config = () => samtronTestConfig({ gmmvi_runner_config: { log_metrics_interval: 20 } });

test('a saved state resumes with the numbers of the uninterrupted run', async () => {
  const key = bt.random.key(4);
  const s0 = g.init(config(), target, bt.random.key(1));
  const whole = await g.run(s0, target, { iterations: 6, key, logMetricsInterval: 0, metricSamples: 10 });
  const half = await g.run(g.init(config(), target, bt.random.key(1)), target, { iterations: 3, key, logMetricsInterval: 0, metricSamples: 10 });
  const saved = JSON.parse(JSON.stringify(bt.tree.toJSONSync(half.state)));
  const restored = bt.tree.fromJSON(saved) as bt.gmmvi.GmmviRunState;
  assert.is(restored.numUpdates, 3);
  const rest = await g.run(restored, target, { iterations: 6, key, logMetricsInterval: 0, metricSamples: 10 });
  assert.equal(Array.from(rest.state.model.model.means.dataSync()), Array.from(whole.state.model.model.means.dataSync()), 'means');
  assert.equal(Array.from(rest.state.model.model.chols.dataSync()), Array.from(whole.state.model.model.chols.dataSync()), 'factors');
  assert.equal(Array.from(rest.state.model.model.logWeights.dataSync()), Array.from(whole.state.model.model.logWeights.dataSync()), 'weights');
  assert.is(rest.state.sampleDb.numSamplesWritten, whole.state.sampleDb.numSamplesWritten);
});

test('run: metrics every log_metrics_interval; −ELBO (KL to a normalised target) below 0.05 after 100 iterations', async () => {
  const s0 = g.init(config(), target, bt.random.key(2));
  const seen: number[] = [];
  const r = await g.run(s0, target, { iterations: 100, key: bt.random.key(5), onProgress: (m) => seen.push(m.iteration) });
  assert.equal(seen, [20, 40, 60, 80, 100]);
  const last = r.metrics[r.metrics.length - 1]!;
  assert.ok(last.negElbo < 0.05, `−ELBO ${last.negElbo}`);
  assert.ok(last.negElbo > -0.05, `−ELBO ${last.negElbo} (KL ≥ 0 up to MC noise)`);
  assert.ok(last.targetEvaluations >= 100 && last.databaseSize > 0 && last.numComponents >= 2 && last.maxWeight < 1);
  // the entropy of the fit ≈ the target's: ½·2(log 2π + 1) + H(0.3, 0.7)
  const hTarget = LOG2PI + 1 - (0.3 * Math.log(0.3) + 0.7 * Math.log(0.7));
  assert.ok(Math.abs(last.entropy - hTarget) < 0.1, `entropy ${last.entropy} vs ${hTarget}`);
});

test('an AbortSignal stops between iterations; bad options are ConfigErrors', async () => {
  const ac = new AbortController();
  let n = 0;
  const s0 = g.init(config(), target, bt.random.key(3));
  const r = await g.run(s0, target, { iterations: 50, key: bt.random.key(1), logMetricsInterval: 1, metricSamples: 10, onProgress: () => { if (++n === 2) ac.abort(); }, signal: ac.signal });
  assert.is(r.reason, 'aborted');
  assert.is(r.state.numUpdates, 2);
  let err: unknown;
  try { await g.run(s0, target, { iterations: -1, key: bt.random.key(1) }); } catch (e) { err = e; }
  assert.ok(err instanceof bt.ConfigError);
});

test.run();
