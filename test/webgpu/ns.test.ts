/**
 * Nested sampling on WebGPU: the chains of each shell stay on the device (float32), the host reads
 * their status every few rounds and keeps the float64 bookkeeping (sender tree, moments). Known
 * evidences within 3σ (the sampler's own logZUncert, fixed keys), the CPU's host path agreeing
 * within the combined σ, phantoms, bad input and NaN on the device.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { webgpuOrSkip } from './setup.js';
import { basic as basicNs } from '../../examples/ns/problems.js';

const gpu = await webgpuOrSkip('ns');

// prior N(0, I), L = N(x | μ·1, σ²I): Z = N(μ·1 | 0, (1 + σ²)I)
const nsGaussian = (D: number, sigma: number, mu: number) => {
  const model = new bt.ns.Model({
    priorModel: function* () {
      return yield new bt.ns.Prior({ dist: 'Normal', loc: bt.zeros([D]), scale: bt.ones([D]) }, 'x');
    },
    logLikelihood: (x: bt.Tensor) => bt.sum(bt.square(bt.sub(x, mu))).mul(-0.5 / sigma ** 2).sub(0.5 * D * Math.log(2 * Math.PI * sigma ** 2)),
  });
  const v = 1 + sigma ** 2;
  return { model, exact: -0.5 * D * Math.log(2 * Math.PI * v) - (D * mu * mu) / (2 * v) };
};

if (gpu) {
  test('ns on WebGPU: basic (x ~ U(0,1), log L = −x²) gives log Z = −0.29193 within 3σ; samples stay on the device, the rest are host float64', async () => {
    const model = bt.withBackend('webgpu', () => basicNs());
    assert.is(model.dtype, 'float32');
    const ns = new bt.ns.NestedSampler(model);
    assert.ok(ns.onDevice);
    const r = await ns.run(bt.random.key(1));
    assert.ok(Math.abs(r.logZMean - -0.29193) < 3 * r.logZUncert, `logZ ${r.logZMean} ± ${r.logZUncert}`);
    assert.is(r.samples.x!.dtype, 'float32');
    assert.is(r.samples.x!.backend, 'webgpu');
    assert.is(r.logLSamples.backend, 'cpu');
    assert.is(r.logLSamples.dtype, 'float64');
    assert.is(r.samples.x!.shape[0], r.totalNumSamples);
    // one batched call per round, a read every readEvery (4) rounds and a few per shell
    assert.ok(ns.deviceCounters.calls > 0 && ns.deviceCounters.reads < ns.deviceCounters.calls, JSON.stringify(ns.deviceCounters));
    assert.is(ns.deviceCounters.numEval, r.totalNumLikelihoodEvaluations);
    // the batched likelihood is jitted (default): one trace for the c chains at init, one for a shell's m
    assert.ok(ns.jitInfo().jitted, JSON.stringify(ns.jitInfo()));
    assert.is(ns.jitInfo().retraces, 2);
    assert.is(ns.jitInfo().calls, ns.deviceCounters.calls);
    // posterior draws stay on the device: E[x] = (1 − e⁻¹)/2 / ∫₀¹e^{−x²} = 0.42318, sd < 0.3
    const draws = bt.ns.resample(bt.random.key(2), r, 500);
    assert.is(draws.x!.backend, 'webgpu');
    const xs = Array.from(await draws.x!.data(), Number);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(Math.abs(mean - 0.42318) < (4 * 0.3) / Math.sqrt(Math.min(500, r.ESS)), `posterior mean ${mean}`);
  });

  test('ns on WebGPU: a 3-D Gaussian within 3σ of its evidence (also with k = 2 phantoms), and the CPU host path agrees within the combined σ', async () => {
    const gpuCase = bt.withBackend('webgpu', () => nsGaussian(3, 0.5, 0.3));
    const r = await new bt.ns.NestedSampler(gpuCase.model).run(bt.random.key(4));
    assert.ok(Math.abs(r.logZMean - gpuCase.exact) < 3 * r.logZUncert, `webgpu logZ ${r.logZMean} ± ${r.logZUncert} vs ${gpuCase.exact}`);
    const p = await new bt.ns.NestedSampler(gpuCase.model, { k: 2 }).run(bt.random.key(5));
    assert.ok(Math.abs(p.logZMean - gpuCase.exact) < 3 * p.logZUncert, `webgpu k = 2 logZ ${p.logZMean} ± ${p.logZUncert} vs ${gpuCase.exact}`);
    assert.ok(p.totalNumSamples > 2 * r.totalNumSamples, `phantoms join the samples: ${p.totalNumSamples} vs ${r.totalNumSamples}`);
    const cpuCase = nsGaussian(3, 0.5, 0.3);
    const c = await new bt.ns.NestedSampler(cpuCase.model).run(bt.random.key(4));
    assert.ok(Math.abs(c.logZMean - cpuCase.exact) < 3 * c.logZUncert, `cpu logZ ${c.logZMean} ± ${c.logZUncert}`);
    assert.ok(Math.abs(r.logZMean - c.logZMean) < 3 * Math.hypot(r.logZUncert, c.logZUncert), `webgpu ${r.logZMean} vs cpu ${c.logZMean}`);
  });

  test('ns on WebGPU: invalid prior parameters are a ConfigError naming the prior (checked on the host)', () => {
    for (const [spec, what] of [
      [{ dist: 'Normal', loc: 0, scale: -1 }, /'x'.*scale/],
      [{ dist: 'Uniform', low: 1, high: 0 }, /'x'.*high/],
      [{ dist: 'Gamma', concentration: 0, rate: 1 }, /'x'.*concentration/],
    ] as const) {
      assert.throws(
        () =>
          bt.withBackend('webgpu', () => new bt.ns.Model({
            priorModel: function* () {
              return yield new bt.ns.Prior(spec as bt.ns.PriorDistribution, 'x');
            },
            logLikelihood: (x: bt.Tensor) => bt.neg(x),
          })),
        (e: Error) => e instanceof bt.ConfigError && what.test(e.message),
      );
    }
  });

  test('ns on WebGPU: update needs updateAsync; a NaN likelihood is a NumericalError naming the point, with the results so far', async () => {
    const model = bt.withBackend('webgpu', () => new bt.ns.Model({
      priorModel: function* () {
        return yield new bt.ns.Prior({ dist: 'Uniform', low: 0, high: 1 }, 'x');
      },
      // NaN below x = 0.001, where the likelihood is highest: the shells contract onto it
      logLikelihood: (x: bt.Tensor) => bt.where(bt.less(x, 0.001), NaN, bt.mul(-1, x)),
    }));
    const ns = new bt.ns.NestedSampler(model, { numLivePoints: 10 });
    assert.throws(() => ns.init(bt.random.key(1)), (e: Error) => e instanceof bt.BackendError && /initAsync/.test(e.message));
    const s0 = await ns.initAsync(bt.random.key(2));
    assert.throws(() => ns.update(s0, bt.random.key(3)), (e: Error) => e instanceof bt.BackendError && /updateAsync/.test(e.message));
    const [s1] = await ns.updateAsync(s0, bt.random.key(3));
    assert.is(s1.settled.length, 5);
    try {
      await ns.run(bt.random.key(5));
      assert.unreachable('NaN must stop the run');
    } catch (e) {
      assert.instance(e, bt.NumericalError);
      const m = /U = \[([^\]]+)\] \(x = \[([^\]]+)\]\)/.exec((e as Error).message);
      assert.ok(m, (e as Error).message);
      assert.ok(Number(m![2]) < 0.001, (e as Error).message);
      const res = (e as { results?: bt.ns.NestedSamplerResults }).results;
      assert.ok(res && res.totalNumSamples > 10, 'the shells before it are kept');
    }
  });
}

test.run();
