/**
 * The target's `jit` option: its density and x-gradient traced once per batch size and replayed
 * give a run the eager numbers bit for bit on the CPU (components added on the way, so batch sizes
 * change); a density that reads the host falls back to eager with one warning and the same numbers;
 * `jit: true` makes that a TracerError; a bad value is a ConfigError.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { samtronTestConfig, twoModeTarget } from './two-mode-fixture.js';

const g = bt.gmmvi;
const config = () => samtronTestConfig({ num_component_adapter_config: { add_iters: 2 }, sample_selector_config: { desired_samples_per_component: 40 } });
const quiet = { logMetricsInterval: 0, metricSamples: 50, progress: false } as const;
const read = (s: bt.gmmvi.GmmviRunState) => ({
  means: Array.from(s.model.model.means.dataSync()), chols: Array.from(s.model.model.chols.dataSync()), logWeights: Array.from(s.model.model.logWeights.dataSync()),
  db: Array.from(s.sampleDb.samples.dataSync()), lnpdfs: Array.from(s.sampleDb.targetLnpdfs.dataSync()), grads: Array.from(s.sampleDb.targetGrads.dataSync()),
});
const run = async (target: bt.gmmvi.LNPDF) => read((await g.run(g.init(config(), target, bt.random.key(1)), target, { iterations: 6, key: bt.random.key(4), ...quiet })).state);

test('a jitted target gives the eager run bit for bit (K grows, so the batch sizes change)', async () => {
  const base = twoModeTarget();
  const jitted = await run({ ...base });
  const eager = await run({ ...base, jit: false });
  assert.ok(jitted.means.length / 2 > 2, `components were added (K = ${jitted.means.length / 2})`);
  assert.equal(jitted, eager);
});

test('a density that reads the host: one warning, then eager with the same numbers; jit: true throws; bad value ConfigError', async () => {
  const base = twoModeTarget();
  const reads: bt.gmmvi.LNPDF = { numDimensions: base.numDimensions, logDensity: (x) => { const v = base.logDensity(x); return v.mul(v.sum().item() > Infinity ? 2 : 1); } };
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...a: unknown[]) => void warnings.push(a.join(' '));
  let a;
  try {
    a = await run(reads);
  } finally {
    console.warn = warn;
  }
  assert.is(warnings.length, 1, `one warning, got ${warnings.length}`);
  assert.match(warnings[0]!, /gmmvi\.evaluateTarget/);
  assert.equal(a, await run({ ...reads, jit: false }));
  const err = await run({ ...reads, jit: true }).then(() => null, (e: unknown) => e);
  assert.ok(err instanceof bt.TracerError, String(err));
  const bad = await run({ ...base, jit: 1 as unknown as boolean }).then(() => null, (e: unknown) => e);
  assert.ok(bad instanceof bt.ConfigError && /target\.jit/.test((bad as Error).message), String(bad));
});

test.run();
