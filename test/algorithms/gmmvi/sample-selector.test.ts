/**
 * bt.gmmvi sample selectors M (component-based), P (mixture-based) and Q (fixed): how many fresh
 * samples each draws (n_des per component from an empty database; max(1, n_des − ⌊n_eff⌋) later,
 * with n_eff recomputed here from the reused window), the window returned, target values and
 * gradients (tape or the target's own), and config / shape errors.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { backendsUnderTest, read, registerAll } from '../../backend-harness.js';
import { assertClose } from '../../helpers.js';
import { gmmState, randomHostGmm } from './fixtures.js';

const backends = await backendsUnderTest('gmmvi/sample-selector');
const g = bt.gmmvi;

/** log p̃(x) = −½‖x − m‖² (unnormalised standard Gaussian around m), written in bayestape ops. */
function gaussTarget(m: number[]): bt.gmmvi.LNPDF {
  return {
    numDimensions: m.length,
    logDensity: (x) => bt.sum(bt.square(bt.sub(x, bt.tensor(m, { dtype: x.dtype }))), { axis: -1 }).mul(-0.5),
  };
}

registerAll(backends, 'component-based (M): n_des per component from an empty DB, then max(1, n_des − ⌊n_eff,o⌋); target values and gradients', async (B) => {
  const model = new g.GMM(gmmState(randomHostGmm(3, 2, 1, { spread: 2 }), B.dtype));
  const db = new g.SampleDB(2, false, true, null, B.dtype);
  const target = gaussTarget([0.5, -1]);
  const sel = new g.VipsSampleSelector(target, model, db, 20, 1.5);
  const s1 = await sel.selectSamples(bt.random.key(1));
  assert.is(db.numSamplesWritten, 60, 'n_des per component from an empty database');
  assert.equal(Array.from(await s1.mapping.data()), [...Array(60).keys()].map((i) => Math.floor(i / 20)), 'grouped, DB Gaussians 0..K−1');
  const xs = await read(s1.samples);
  const want = Array.from({ length: 60 }, (_, i) => -0.5 * ((xs[2 * i]! - 0.5) ** 2 + (xs[2 * i + 1]! + 1) ** 2));
  assertClose(await read(s1.targetLnpdfs), want, B.name === 'cpu' ? 1e-12 : 1e-5, 1e-5, 'target values');
  assertClose(await read(s1.targetGrads), xs.map((v, j) => -(v - (j % 2 === 0 ? 0.5 : -1))), B.name === 'cpu' ? 1e-12 : 1e-5, 1e-5, 'tape gradients');
  // second call: reuse floor(1.5·20)·3 = 90 newest (all 60); fresh = max(1, 20 − ⌊n_eff,o⌋), n_eff from that window
  const reused = await db.getNewestSamples(90);
  const nEff = await read(g.effectiveSampleSizes(model.componentLogDensities(reused.samples), reused.logPdfs));
  const expected = nEff.map((v) => Math.max(1, 20 - Math.floor(v)));
  const s2 = await sel.selectSamples(bt.random.key(2));
  const fresh = expected.reduce((a, b) => a + b, 0);
  assert.is(db.numSamplesWritten, 60 + fresh, `fresh samples ${expected.join(' + ')}`);
  assert.is(s2.samples.shape[0], 60 + fresh, 'window = reused + fresh');
  assert.ok(expected.every((c) => c >= 1), 'every component gets at least one');
  // the fresh part of the mapping: the new DB Gaussians 3, 4, 5, grouped
  const m2 = Array.from(await s2.mapping.data());
  assert.equal(m2.slice(60), expected.flatMap((c, o) => new Array<number>(c).fill(3 + o)));
});

test('n_new ≥ 1: with n_des = 1 and a fully effective window every component still draws one', async () => {
  const model = new g.GMM(gmmState(randomHostGmm(4, 2, 2)));
  const db = new g.SampleDB(2, false, true);
  const sel = new g.VipsSampleSelector(gaussTarget([0, 0]), model, db, 1, 3);
  await sel.selectSamples(bt.random.key(1));
  await sel.selectSamples(bt.random.key(2));
  assert.is(db.numSamplesWritten, 8);
});

test('mixture-based (P): n_des fresh mixture samples from an empty DB, then max(1, n_des − ⌊n_eff⌋); ρ = 0 always n_des', async () => {
  const h = randomHostGmm(3, 2, 3);
  const model = new g.GMM(gmmState(h));
  const db = new g.SampleDB(2, false, true);
  const sel = new g.LinSampleSelector(gaussTarget([0, 0]), model, db, 50, 1);
  const s1 = await sel.selectSamples(bt.random.key(1));
  assert.is(db.numSamplesWritten, 50);
  // the mapping names the component that drew each row (DB Gaussians 0..2 from the first add)
  const m = Array.from(s1.mapping.dataSync());
  assert.ok(m.every((v) => v >= 0 && v < 3));
  const reused = await db.getNewestSamples(150);
  const [nEff] = g.effectiveSampleSizes(bt.expandDims(model.logDensity(reused.samples), 0), reused.logPdfs).dataSync();
  const s2 = await sel.selectSamples(bt.random.key(2));
  const fresh = Math.max(1, 50 - Math.floor(nEff!));
  assert.is(db.numSamplesWritten, 50 + fresh);
  assert.is(s2.samples.shape[0], 50 + fresh);
  const lin = new g.LinSampleSelector(gaussTarget([0, 0]), model, new g.SampleDB(2, false, true), 30, 0);
  await lin.selectSamples(bt.random.key(3));
  await lin.selectSamples(bt.random.key(4));
  assert.is(lin.sampleDb.numSamplesWritten, 60, 'Lin et al.: a fixed n_des fresh samples per iteration');
});

test("fixed (Q): n_des per component every call; window = floor(ρ·n_des)·K reused + the fresh ones", async () => {
  const model = new g.GMM(gmmState(randomHostGmm(2, 2, 4)));
  const db = new g.SampleDB(2, false, true);
  const sel = new g.FixedSampleSelector(gaussTarget([0, 0]), model, db, 10, 1);
  const s1 = await sel.selectSamples(bt.random.key(1));
  assert.is(s1.samples.shape[0], 20, 'nothing to reuse yet');
  const s2 = await sel.selectSamples(bt.random.key(2));
  assert.is(db.numSamplesWritten, 40);
  assert.is(s2.samples.shape[0], 40, '10·2 reused + 10·2 fresh');
});

test('a target with its own gradient (useLogDensityAndGrad) is called for both; bad target outputs are ShapeErrors', async () => {
  let calls = 0;
  const own: bt.gmmvi.LNPDF = {
    numDimensions: 2,
    useLogDensityAndGrad: true,
    logDensity: () => { throw new Error('not differentiated'); },
    logDensityAndGrad: async (x) => {
      calls++;
      return [bt.sum(x, { axis: -1 }), bt.onesLike(x)];
    },
  };
  const model = new g.GMM(gmmState(randomHostGmm(2, 2, 5)));
  const s = await new g.VipsSampleSelector(own, model, new g.SampleDB(2, false, true), 5, 0).selectSamples(bt.random.key(1));
  assert.is(calls, 1);
  assertClose(s.targetGrads, bt.ones([10, 2]), 0, 0, 'own gradient stored');
  assertClose(s.targetLnpdfs, bt.sum(s.samples, { axis: -1 }), 0, 0, 'own values stored');
  const bad: bt.gmmvi.LNPDF = { numDimensions: 2, logDensity: (x) => bt.sum(x) };
  let err: unknown;
  try { await new g.VipsSampleSelector(bad, model, new g.SampleDB(2, false, true), 5, 0).selectSamples(bt.random.key(1)); } catch (e) { err = e; }
  assert.ok(err instanceof bt.ShapeError && /log density must be \[10\]/.test((err as Error).message), String(err));
  // a target of another dimension than the model
  err = undefined;
  try { await new g.VipsSampleSelector(gaussTarget([0, 0, 0]), model, new g.SampleDB(2, false, true), 5, 0).selectSamples(bt.random.key(1)); } catch (e) { err = e; }
  assert.ok(err instanceof bt.ShapeError && /\[N, 3\]/.test((err as Error).message), String(err));
});

test('the database owns what it stores: the model replacing (and freeing) its components leaves the DB usable (keepSamples true and false)', async () => {
  for (const keep of [true, false]) {
    const model = new g.GMM(gmmState(randomHostGmm(2, 2, 8)));
    const db = new g.SampleDB(2, false, keep);
    const sel = new g.VipsSampleSelector(gaussTarget([0, 0]), model, db, 5, 1);
    await sel.selectSamples(bt.random.key(1));
    const before = Array.from(db.state.means.dataSync());
    model.replaceComponents(bt.tensor([[1, 1], [2, 2]]), bt.broadcastTo(bt.eye(2), [2, 2, 2]));
    assert.equal(Array.from(db.state.means.dataSync()), before, `keepSamples ${keep}: DB Gaussians intact`);
    const w = await db.getNewestSamples(10);
    assert.is(w.logPdfs.size, 10);
    await sel.selectSamples(bt.random.key(2));
  }
});

registerAll(backends, 'no leaks: selecting, storing, halving and replacing the model keep the live tensor count flat', async (B) => {
  const model = new g.GmmWrapper(gmmState(randomHostGmm(3, 2, 9), B.dtype), { initialStepsize: 1, maxRewardHistoryLength: 4 });
  const db = new g.SampleDB(2, false, true, 100, B.dtype);
  // ρ = 0: 30 fresh samples per iteration, so the 100-sample database halves repeatedly
  const sel = new g.VipsSampleSelector(gaussTarget([0, 0]), model, db, 10, 0);
  const step = async (t: number) => {
    const key = bt.random.key(t);
    const w = await sel.selectSamples(key);
    g.disposeReplaced(w, db.state);
    key.dispose();
    const r = bt.tensor([t, t + 1, t + 2], { dtype: B.dtype });
    model.storeRewards(r);
    const lw = bt.zeros([3], B.dtype);
    model.replaceWeights(lw);
    bt.dispose([r, lw]); // the wrapper keeps what it derived from them, not them
  };
  for (let t = 0; t < 3; t++) await step(t);
  const before = bt.memory().numTensors;
  for (let t = 3; t < 10; t++) await step(t); // halves at least once (100 samples max)
  assert.ok(db.numSamplesWritten > 100 && db.numSamples <= 100, `halving happened: ${db.numSamples} stored of ${db.numSamplesWritten}`);
  assert.is(bt.memory().numTensors, before, 'live tensors after 7 more iterations');
});

test('buildFromConfig: type strings, strict keys, ConfigErrors naming the problem', () => {
  const model = new g.GMM(gmmState(randomHostGmm(1, 2, 6)));
  const db = new g.SampleDB(2, false, true);
  const t = gaussTarget([0, 0]);
  const cfg = (type: unknown, c: Record<string, unknown>) => ({ sample_selector_type: type, sample_selector_config: c });
  const ok = { desired_samples_per_component: 100, ratio_reused_samples_to_desired: 2 };
  assert.is(g.SampleSelector.buildFromConfig(cfg('component-based', ok), model, db, t).type, 'component-based');
  assert.is(g.SampleSelector.buildFromConfig(cfg('mixture-based', ok), model, db, t).type, 'mixture-based');
  assert.is(g.SampleSelector.buildFromConfig(cfg('fixed', ok), model, db, t).type, 'fixed');
  const isConfig = (re: RegExp) => (e: unknown) => e instanceof bt.ConfigError && re.test((e as Error).message);
  assert.throws(() => g.SampleSelector.buildFromConfig(cfg('vips', ok), model, db, t), isConfig(/sample_selector_type is 'vips'/));
  assert.throws(() => g.SampleSelector.buildFromConfig(cfg('fixed', { ...ok, extra: 1 }), model, db, t), isConfig(/unknown key sample_selector_config.extra/));
  assert.throws(() => g.SampleSelector.buildFromConfig(cfg('fixed', { desired_samples_per_component: 1 }), model, db, t), isConfig(/ratio_reused_samples_to_desired is missing/));
  assert.throws(() => g.SampleSelector.buildFromConfig(cfg('fixed', { ...ok, desired_samples_per_component: 0 }), model, db, t), isConfig(/desired_samples_per_component must be a positive integer/));
  assert.throws(() => new g.VipsSampleSelector({ numDimensions: 2 } as never, model, db, 1, 1), isConfig(/logDensity/));
});

test.run();
