/**
 * The device path of the nested sampler (chains as tensors, status read back every readEvery
 * rounds), run here on the CPU backend by setting `onDevice` (WebGPU turns it on by itself; the
 * same code runs there in test/webgpu/algorithms.test.ts): known evidence, determinism, the
 * read-back period changes reads but not results, memory stays flat, NaN names the point.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { basic } from '../../../examples/ns/problems.js';

const { NestedSampler, Model, Prior } = bt.ns;

const onDevice = (model: bt.ns.Model, opts: bt.ns.NestedSamplerOptions = {}) => {
  const ns = new NestedSampler(model, opts);
  ns.onDevice = true;
  return ns;
};

test('device path on the CPU: basic within 3σ over three keys; the same key gives the same run whatever readEvery', async () => {
  for (const seed of [1, 2, 3]) {
    const r = await onDevice(basic()).run(bt.random.key(seed));
    assert.ok(Math.abs(r.logZMean - -0.29193) < 3 * r.logZUncert, `key ${seed}: logZ ${r.logZMean} ± ${r.logZUncert}`);
  }
  const a = onDevice(basic(), { readEvery: 1 });
  const b = onDevice(basic(), { readEvery: 8 });
  const ra = await a.run(bt.random.key(7));
  const rb = await b.run(bt.random.key(7));
  assert.is(ra.logZMean, rb.logZMean);
  assert.is(ra.totalNumLikelihoodEvaluations, rb.totalNumLikelihoodEvaluations);
  assert.equal(Array.from(ra.logLSamples.dataSync()), Array.from(rb.logLSamples.dataSync()));
  // fewer reads with a longer period, a few more (idle) rounds; evaluations count active chains only
  assert.ok(b.deviceCounters.reads < a.deviceCounters.reads, `${b.deviceCounters.reads} vs ${a.deviceCounters.reads} reads`);
  assert.ok(b.deviceCounters.calls >= a.deviceCounters.calls);
  assert.is(a.deviceCounters.numEval, ra.totalNumLikelihoodEvaluations);
});

test('device path: a shell keeps the live points above the contour and the counts c…c−m+1; update alone refuses', async () => {
  const ns = onDevice(basic(), { numLivePoints: 20 });
  assert.throws(() => ns.init(bt.random.key(1)), (e: Error) => e instanceof bt.BackendError && /initAsync/.test(e.message));
  const s0 = await ns.initAsync(bt.random.key(1));
  assert.is(s0.numEval, 20);
  assert.throws(() => ns.update(s0, bt.random.key(2)), (e: Error) => e instanceof bt.BackendError && /updateAsync/.test(e.message));
  const [s1, aux] = await ns.updateAsync(s0, bt.random.key(2));
  const [s1b] = await ns.updateAsync(s0, bt.random.key(2));
  const liveL = (s: bt.ns.NestedSamplerState) => s.live.map((i) => s.logL[i]!);
  assert.equal(liveL(s1), liveL(s1b));
  assert.equal(s1.settledN, [20, 19, 18, 17, 16, 15, 14, 13, 12, 11]);
  assert.ok(liveL(s1).every((l) => l >= aux.logLStar));
  assert.equal([...liveL(s1)].sort((x, y) => x - y), liveL(s1));
  // the new samples hang from the contour's node
  assert.ok(s1.sender.slice(20).every((p) => p === s0.live[9]));
  assert.ok(s1.U.every((u) => u > 0 && u < 1));
});

test('device path with phantoms: k = 2 per chain joins 2 samples per slice chain, evidence within 3σ', async () => {
  const ns = onDevice(basic(), { k: 2 });
  const r = await ns.run(bt.random.key(3));
  assert.ok(Math.abs(r.logZMean - -0.29193) < 3 * r.logZUncert, `logZ ${r.logZMean} ± ${r.logZUncert}`);
  const host = await new NestedSampler(basic(), { k: 2 }).run(bt.random.key(3));
  // the same sampler design: sample count per evaluation within 20 % of the host path's
  const ratio = (x: bt.ns.NestedSamplerResults) => x.totalNumSamples / x.totalNumLikelihoodEvaluations;
  assert.ok(Math.abs(ratio(r) / ratio(host) - 1) < 0.2, `${ratio(r)} vs host ${ratio(host)}`);
  // once slicing (after the uniform phase) every shell adds m new points and m·k phantoms, above the contour
  let s = await ns.initAsync(bt.random.key(9));
  for (let i = 0; s.uniformPhase; i++) s = (await ns.updateAsync(s, bt.random.key(10 + i)))[0];
  const [t, aux] = await ns.updateAsync(s, bt.random.key(99));
  assert.is(t.logL.length - s.logL.length, ns.shellSize * 3);
  assert.ok(t.logL.slice(s.logL.length).every((l) => l > aux.logLStar));
  assert.is(t.pending.length - s.pending.filter((i) => s.logL[i]! > aux.logLStar).length, ns.shellSize * 2);
});

test('device path: memory is flat over a run (only the results are left)', async () => {
  const model = basic();
  const ns = onDevice(model, { numLivePoints: 20 });
  const key = bt.random.key(4);
  const before = bt.memory().numTensors;
  const r = await ns.run(key);
  const { samples, USamples, logLSamples, logDpMean, logXMean, numLivePointsPerSample } = r;
  bt.dispose([samples, USamples, logLSamples, logDpMean, logXMean, numLivePointsPerSample]);
  // the jitted likelihood's programs hold the constants they captured until the sampler is disposed
  ns.dispose();
  assert.is(bt.memory().numTensors, before);
});

test('device path: NaN or +∞ is a NumericalError naming the point; −∞ is a zero likelihood', async () => {
  const model = (bad: number) =>
    new Model({
      priorModel: function* () {
        return yield new Prior({ dist: 'Uniform', low: 0, high: 1 }, 'x');
      },
      logLikelihood: (x: bt.Tensor) => bt.where(bt.less(x, 0.001), bad, bt.neg(x)),
    });
  for (const bad of [NaN, Infinity]) {
    try {
      await onDevice(model(bad), { numLivePoints: 10 }).run(bt.random.key(5));
      assert.unreachable('must throw');
    } catch (e) {
      assert.instance(e, bt.NumericalError);
      const m = /returned (\S+) at U = \[([^\]]+)\]/.exec((e as Error).message);
      assert.ok(m, (e as Error).message);
      assert.ok(Object.is(Number(m![1]), bad), m![1]);
      assert.ok(Number(m![2]) < 0.001);
      assert.ok((e as { results?: bt.ns.NestedSamplerResults }).results!.totalNumSamples > 10);
    }
  }
  // −∞ above x = 0.5: half the prior has zero likelihood; Z = ∫_0^0.5 e^{−x} dx
  const half = new Model({
    priorModel: function* () {
      return yield new Prior({ dist: 'Uniform', low: 0, high: 1 }, 'x');
    },
    logLikelihood: (x: bt.Tensor) => bt.where(bt.greater(x, 0.5), -Infinity, bt.neg(x)),
  });
  const r = await onDevice(half).run(bt.random.key(6));
  const exact = Math.log(1 - Math.exp(-0.5));
  assert.ok(Math.abs(r.logZMean - exact) < 3 * r.logZUncert, `logZ ${r.logZMean} ± ${r.logZUncert} vs ${exact}`);
});

test.run();
