/**
 * gmmvi.run on the shared run loop: a run resumed from a JSON checkpoint (state null, with or
 * without the key) ends with exactly the numbers of the uninterrupted run (CPU), components added
 * on the way included; onIteration can end a run; zero-density (−∞) values pass and are counted; a target that turns NaN mid-run stops it with a
 * NumericalError naming the iteration, carrying the state before it, from which the run goes on;
 * a state of another dimension is a ShapeError; unknown config keys and run options ConfigErrors;
 * the metrics score model samples with the target's metricLogDensity when it has one (the
 * full-batch density of breastCancer_mb).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { samtronTestConfig, twoModeTarget } from './two-mode-fixture.js';

const g = bt.gmmvi;
const target = twoModeTarget();
// components are added every 2 iterations, so the state's shapes change between checkpoints
const config = () => samtronTestConfig({ num_component_adapter_config: { add_iters: 2 }, sample_selector_config: { desired_samples_per_component: 40 } });
const quiet = { logMetricsInterval: 0, metricSamples: 50, progress: false } as const;
const read = (s: bt.gmmvi.GmmviRunState) => ({
  means: Array.from(s.model.model.means.dataSync()), chols: Array.from(s.model.model.chols.dataSync()), logWeights: Array.from(s.model.model.logWeights.dataSync()),
  stepsizes: Array.from(s.model.stepsizes.dataSync()), db: Array.from(s.sampleDb.samples.dataSync()), written: s.sampleDb.numSamplesWritten, numAdds: s.numAdds, ws: s.weightStepsize,
});

test('a run resumed from a JSON checkpoint equals the uninterrupted run (state null; key given or taken from the checkpoint)', async () => {
  const key = bt.random.key(4);
  const whole = await g.run(g.init(config(), target, bt.random.key(1)), target, { iterations: 7, key, ...quiet });
  const saved: string[] = [];
  const first = await g.run(g.init(config(), target, bt.random.key(1)), target, { iterations: 7, key, ...quiet, checkpoint: { every: 3, save: (c) => void saved.push(JSON.stringify(c)) } });
  assert.is(saved.length, 2, 'checkpoints after iterations 3 and 6');
  assert.equal(read(first.state), read(whole.state), 'checkpointing changes nothing');
  const w = read(whole.state);
  assert.ok(w.means.length / 2 > 2, `components were added before the end (K = ${w.means.length / 2})`);
  for (const withKey of [true, false]) {
    const rest = await g.run(null, target, { iterations: 7, ...(withKey ? { key } : {}), ...quiet, resume: saved[0]! });
    assert.is(rest.iterations, 4, 'iterations 4 … 7 in this call');
    assert.is(rest.state.numUpdates, 7);
    assert.equal(read(rest.state), w, `resumed ${withKey ? 'with' : 'without'} the key`);
    // the final metrics use foldIn(metric key, iteration): the same numbers
    assert.is(rest.metrics[rest.metrics.length - 1]!.negElbo, whole.metrics[whole.metrics.length - 1]!.negElbo);
  }
  let err: unknown;
  try { await g.run(null, target, { iterations: 7, key: bt.random.key(5), ...quiet, resume: saved[0]! }); } catch (e) { err = e; }
  assert.ok(err instanceof bt.ConfigError && /key differs/.test((err as Error).message), String(err));
});

test('onIteration sees every iteration and can end the run; the metrics are logged at the end', async () => {
  const seen: number[] = [];
  const r = await g.run(g.init(config(), target, bt.random.key(2)), target, { iterations: 10, key: bt.random.key(3), ...quiet, onIteration: (s, info, t) => { seen.push(t); assert.is(s.numUpdates, t); assert.is(typeof info.numFailedComponentUpdates, 'number'); return t < 3; } });
  assert.equal(seen, [1, 2, 3]);
  assert.is(r.reason, 'terminated: onIteration returned false');
  assert.is(r.iterations, 3);
  assert.is(r.metrics.length, 1);
  assert.is(r.metrics[0]!.iteration, 3);
  assert.ok(r.iterationsPerSecond > 0 && r.seconds > 0);
});

test('a target turning NaN: NumericalError naming the iteration and count; error.state is the state before it, and the run goes on from it', async () => {
  let poison = false;
  // jit: false: the density switches on a host flag, which a traced density would fix at its first trace
  const flaky: bt.gmmvi.LNPDF = { numDimensions: 2, jit: false, logDensity: (x) => (poison ? bt.where(bt.greater(bt.arange(0, x.shape[0]!), 5), NaN, target.logDensity(x)) : target.logDensity(x)) };
  const s0 = g.init(config(), flaky, bt.random.key(2));
  let before: ReturnType<typeof read> | undefined;
  let err: unknown;
  try {
    await g.run(s0, flaky, { iterations: 6, key: bt.random.key(3), ...quiet, onIteration: (s, _i, t) => { if (t === 2) { poison = true; before = read(s); } } });
  } catch (e) { err = e; }
  assert.ok(err instanceof bt.NumericalError && /iteration 2/.test((err as Error).message) && /NaN or \+∞ for \d+ of \d+ samples/.test((err as Error).message), String(err));
  const kept = (err as unknown as { state: bt.gmmvi.GmmviRunState }).state;
  assert.is(kept.numUpdates, 2);
  assert.equal(read(kept), before!, 'the state before the failed iteration, intact');
  poison = false;
  const r = await g.run(kept, flaky, { iterations: 4, key: bt.random.key(3), ...quiet });
  assert.is(r.state.numUpdates, 4);
  assert.ok(read(r.state).means.every(Number.isFinite));
});

test('zero density (−∞) through run: no error, every evaluation counted, the −∞ rows kept in the database', async () => {
  // the two-mode target cut to x₀ > −2: its left mode is mostly outside, the initial model is wide
  const cut: bt.gmmvi.LNPDF = { numDimensions: 2, logDensity: (x) => bt.where(bt.greater(x.slice([0, 0], [x.shape[0]!, 1]).reshape([x.shape[0]!]), -2), target.logDensity(x), -Infinity) };
  const r = await g.run(g.init(config(), cut, bt.random.key(2)), cut, { iterations: 4, key: bt.random.key(3), ...quiet });
  const lp = Array.from(r.state.sampleDb.targetLnpdfs.dataSync());
  assert.ok(lp.some((v) => v === -Infinity) && lp.some(Number.isFinite), 'both kinds evaluated');
  assert.is(r.metrics[0]!.targetEvaluations, lp.length, 'all counted (no halving here)');
  assert.ok(read(r.state).means.every(Number.isFinite) && read(r.state).chols.every(Number.isFinite), 'a finite model');
});

test('bad input: ShapeError for a state of another dimension, ConfigError for unknown config keys, run options and missing keys', async () => {
  const s0 = g.init(config(), target, bt.random.key(2));
  const t3: bt.gmmvi.LNPDF = { numDimensions: 3, logDensity: (x) => bt.mul(bt.sum(bt.square(x), { axis: 1 }), -0.5) };
  const isShape = (re: RegExp) => (e: unknown) => e instanceof bt.ShapeError && re.test((e as Error).message);
  const isConfig = (re: RegExp) => (e: unknown) => e instanceof bt.ConfigError && re.test((e as Error).message);
  const rejects = async (f: () => Promise<unknown>, ok: (e: unknown) => boolean) => {
    let err: unknown;
    try { await f(); } catch (e) { err = e; }
    assert.ok(ok(err), String(err));
  };
  await rejects(() => g.run(s0, t3, { iterations: 2, key: bt.random.key(1) }), isShape(/2 dimensions but the target 3/));
  assert.throws(() => g.init(g.updateConfig(config(), { temprature: 1 }), target, bt.random.key(1)), isConfig(/unknown config key 'temprature'/));
  assert.throws(() => g.init(g.updateConfig(config(), { sample_selector_config: { n_des: 3 } }), target, bt.random.key(1)), isConfig(/sample_selector_config.n_des/));
  const { temperature: _, ...noTemperature } = config();
  assert.throws(() => g.init(noTemperature, target, bt.random.key(1)), isConfig(/temperature/));
  await rejects(() => g.run(s0, target, { iterations: 2, key: bt.random.key(1), logEvery: 1 } as never), isConfig(/unknown option 'logEvery'/));
  await rejects(() => g.run(s0, target, { iterations: 2 }), isConfig(/key is missing/));
  await rejects(() => g.run(null, target, { iterations: 2, key: bt.random.key(1) }), isConfig(/no state/));
  await rejects(() => g.run(s0, target, { iterations: 2, key: bt.random.key(1), metricSamples: 0 }), isConfig(/metricSamples/));
  await rejects(() => g.run(null, target, { iterations: 2, key: bt.random.key(1), resume: 'not a checkpoint' }), isConfig(/not JSON/));
  await rejects(() => g.run(null, target, { iterations: 2, key: bt.random.key(1), resume: { format: 'other' } as never }), isConfig(/format/));
  assert.throws(() => g.checkTarget('t', { numDimensions: 2, logDensity: target.logDensity, metricLogDensity: 3 }), isConfig(/metricLogDensity must be a function/));
});

test('metrics use metricLogDensity when the target has one: a shifted learner density, and breastCancer_mb (full batch)', async () => {
  const s = g.init(config(), target, bt.random.key(2));
  const k = bt.random.key(9);
  const exact = await g.evaluateMetrics(s, target, k, 200);
  const shifted: bt.gmmvi.LNPDF = { numDimensions: 2, logDensity: (x) => bt.add(target.logDensity(x), 100), metricLogDensity: target.logDensity };
  assert.is((await g.evaluateMetrics(s, shifted, k, 200)).negElbo, exact.negElbo);
  // (−100 up to the rounding of adding 100 to each sample's value)
  const plain = (await g.evaluateMetrics(s, { numDimensions: 2, logDensity: shifted.logDensity }, k, 200)).negElbo;
  assert.ok(Math.abs(plain - (exact.negElbo - 100)) < 1e-9, `without it, the learner density: ${plain} vs ${exact.negElbo - 100}`);
  // a small logistic regression: the minibatch target's metrics equal the full-batch target's
  const rng = bt.random.normal(bt.random.key(3), [60, 2]).dataSync();
  const features = Array.from({ length: 60 }, (_, i) => [rng[2 * i]!, rng[2 * i + 1]!]);
  const labels = features.map(([a, b]) => (a! + 0.5 * b! > 0 ? 1 : 0));
  const full = g.logisticRegressionTarget(features, labels);
  const mb = g.logisticRegressionTarget(features, labels, { minibatchSize: 5, key: bt.random.key(4) });
  assert.is(typeof mb.metricLogDensity, 'function');
  const cfg = g.updateConfig(config(), { model_initialization: { num_initial_components: 1, prior_mean: 0, prior_scale: 1, initial_cov: 1 } });
  const s3 = g.init(cfg, full, bt.random.key(5));
  const a = await g.evaluateMetrics(s3, full, k, 300);
  const b = await g.evaluateMetrics(s3, mb, k, 300);
  assert.is(b.negElbo, a.negElbo);
  // the minibatch density itself is a noisy estimate: scored with it, the number differs
  const c = await g.evaluateMetrics(s3, { numDimensions: 3, logDensity: mb.logDensity }, k, 300);
  assert.ok(c.negElbo !== a.negElbo, 'the minibatch estimate differs from the full-batch density');
});

test.run();
