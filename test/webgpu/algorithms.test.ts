/**
 * The algorithms end to end on WebGPU against the same code on the CPU in float32: Adam training
 * an MLP, every SG-MCMC sampler (one chain and parallel chains). Same keys, so the same random
 * numbers; the trajectories differ only by float32 rounding (different summation orders, fused
 * kernels), which grows slowly over the steps, hence the tolerances below.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { webgpuOrSkip } from './setup.js';
import { rng } from '../helpers.js';
import { basic as basicNs } from '../../examples/ns/problems.js';

const gpu = await webgpuOrSkip('algorithms');

/** Runs `f` with `backend` current and reads every tensor leaf of the result. */
async function onBackend(backend: string, f: () => bt.tree.PyTree): Promise<number[][]> {
  const out = bt.withBackend(backend, () => bt.tidy(f as () => never)) as bt.tree.PyTree;
  const leaves = bt.tree.leaves(out).filter((l): l is bt.Tensor => l instanceof bt.Tensor);
  const data = await Promise.all(leaves.map(async (t) => Array.from(await t.data(), Number)));
  bt.dispose(leaves);
  return data;
}

async function sameOnBoth(what: string, f: () => bt.tree.PyTree, rtol: number, atolScale: number): Promise<void> {
  const cpu = await onBackend('cpu', f);
  const gpuOut = await onBackend('webgpu', f);
  assert.is(gpuOut.length, cpu.length, `${what}: leaves`);
  cpu.forEach((want, i) => {
    const got = gpuOut[i]!;
    const scale = Math.max(...want.map(Math.abs), 1e-30);
    want.forEach((w, k) => {
      const g = got[k]!;
      assert.ok(Math.abs(g - w) <= rtol * Math.abs(w) + atolScale * scale, `${what} leaf ${i}[${k}]: webgpu ${g} vs cpu ${w}`);
    });
  });
}

const data = (n: number, d: number, seed: number) => {
  const r = rng(seed);
  const X = Float32Array.from({ length: n * d }, () => 2 * r() - 1);
  const y = Float32Array.from({ length: n }, (_, i) => Math.sin(3 * X[i * d]!) + 0.5 * X[i * d + 1]!);
  return { X, y };
};

if (gpu) {
  test('Adam on an MLP regression: 40 steps, same losses and parameters as the CPU (float32)', async () => {
    const { X, y } = data(64, 3, 1);
    await sameOnBoth('adam', () => {
      const net = bt.nn.mlp({ sizes: [3, 16, 16, 1], activation: 'tanh', dtype: 'float32' });
      const Xt = bt.tensor(X, { shape: [64, 3] });
      const yt = bt.tensor(y, { shape: [64, 1] });
      const loss = (p: bt.nn.MlpParams) => bt.mean(bt.square(net.apply(p, Xt).sub(yt)));
      const opt = bt.optim.adam({ learningRate: 0.01 });
      let params = net.init(bt.random.key(3));
      let state = opt.init(params);
      const losses: bt.Tensor[] = [];
      for (let t = 0; t < 40; t++) {
        const [l, g] = bt.valueAndGrad(loss)(params) as [bt.Tensor, bt.nn.MlpParams];
        const [u, s2] = opt.update(g, state, params);
        params = bt.optim.applyUpdates(params, u);
        state = s2;
        losses.push(l);
      }
      return { losses: bt.stack(losses), params };
    }, 1e-3, 1e-4);
  });

  type P = { a: bt.Tensor; b: bt.Tensor };
  // a correlated Gaussian in 5 dimensions (the sampler API test's target), no aux
  const target = (p: P): [bt.Tensor, never[]] => [
    p.a.square().sum().mul(-0.5).sub(p.b.sub(1).square().sum().mul(0.25)).add(p.a.mul(p.b.sum()).sum().mul(0.1)),
    [],
  ];
  const params0 = () => ({ a: bt.tensor([0.5, -1.0, 2.0], { dtype: 'float32' }), b: bt.tensor([[0.3, 0.7]], { dtype: 'float32' }) });

  for (const [name, opts] of [
    ['sghmc', { lr: 0.05, alpha: 0.3, beta: 0.2, sigma: 1.5 }],
    ['sgld', { lr: 0.02 }],
    ['sgnht', { lr: 0.05, alpha: 0.4 }],
    ['baoa', { lr: 0.05, alpha: 0.8 }],
  ] as const) {
    test(`sgmcmc.${name}: 30 steps with the same key give the same chain as the CPU (float32)`, async () => {
      await sameOnBoth(name, () => {
        const s = (bt.sgmcmc as unknown as Record<string, { build: (t: unknown, o: unknown) => bt.sgmcmc.Sampler<bt.sgmcmc.BaseState, unknown> }>)[name]!.build(target, opts);
        let st = s.init(params0(), bt.random.key(1));
        const trace: bt.Tensor[] = [];
        for (let t = 0; t < 30; t++) {
          st = s.update(st, null, bt.random.foldIn(bt.random.key(2), t))[0];
          trace.push(st.logPosterior);
        }
        return { st, trace: bt.stack(trace) };
      }, 1e-3, 1e-4);
    });
  }

  test('vi.VI (pathwise, full-covariance Gaussian, Adam) on a conjugate Gaussian: 25 epochs on WebGPU track the CPU float32 run', async () => {
    const y = [[1.2, -0.1], [0.4, -0.9], [1.9, 0.2], [0.8, -0.7], [1.1, -0.4], [0.2, -0.3]];
    const fit = async (backend: string) => {
      const prev = bt.getBackend();
      bt.setBackend(backend);
      try {
        const f32 = (v: number[] | number[][]) => bt.tensor(v, { dtype: 'float32' });
        const sigma = f32([[1, 0.3], [0.3, 0.5]]);
        const loss = (theta: bt.Tensor, data: bt.Tensor) => bt.simulators.gaussianNll(data, theta, { covariance: sigma });
        const prior = new bt.distributions.MultivariateNormal({ loc: f32([0, 0]), covariance: f32([[4, 0], [0, 4]]) });
        const q0 = new bt.distributions.MultivariateNormal({ loc: f32([0, 0]), covariance: f32([[1, 0], [0, 1]]) });
        const vi = new bt.vi.VI({ loss, prior, posteriorEstimator: q0, w: 1, nSamplesPerEpoch: 5, nSamplesRegularisation: 50, key: bt.random.key(3), optimizer: bt.optim.adam({ learningRate: 0.05 }) });
        await vi.run(f32(y), 25, Infinity);
        const params = bt.tree.leaves(vi.estimator.params()) as bt.Tensor[];
        return { params: await Promise.all(params.map(async (t) => Array.from(await t.data()))) };
      } finally {
        bt.setBackend(prev);
      }
    };
    const cpu = await fit('cpu'); // float32 on both: the same draws
    const gpuFit = await fit('webgpu');
    cpu.params.forEach((want, i) => want.forEach((w, k) => {
      const g = gpuFit.params[i]![k]!;
      assert.ok(Math.abs(g - w) <= 1e-4 * Math.max(1, Math.abs(w)), `estimator parameter ${i}[${k}]: webgpu ${g} vs cpu ${w}`);
    }));
  });

  test('sgmcmc.parallel: 8 SGHMC chains batched over the chain axis, same as the CPU (float32)', async () => {
    await sameOnBoth('parallel', () => {
      const s = bt.sgmcmc.parallel(bt.sgmcmc.sghmc.build(target, { lr: 0.05 }), { chains: 8 });
      let st = s.init(bt.sgmcmc.replicate(params0(), 8), bt.random.key(5));
      for (let t = 0; t < 20; t++) st = s.update(st, null, bt.random.foldIn(bt.random.key(6), t))[0];
      return st;
    }, 1e-3, 1e-4);
  });

  // nested sampling: the chains of each shell stay on the device (float32), the host reads their
  // status every few rounds and keeps the float64 bookkeeping; known evidences within 3σ (the
  // sampler's own logZUncert, fixed keys), and the CPU's host path agreeing within the combined σ
  const nsGaussian = (D: number, sigma: number, mu: number) => {
    // prior N(0, I), L = N(x | μ·1, σ²I): Z = N(μ·1 | 0, (1 + σ²)I)
    const model = new bt.ns.Model({
      priorModel: function* () {
        return yield new bt.ns.Prior({ dist: 'Normal', loc: bt.zeros([D]), scale: bt.ones([D]) }, 'x');
      },
      logLikelihood: (x: bt.Tensor) => bt.sum(bt.square(bt.sub(x, mu))).mul(-0.5 / sigma ** 2).sub(0.5 * D * Math.log(2 * Math.PI * sigma ** 2)),
    });
    const v = 1 + sigma ** 2;
    return { model, exact: -0.5 * D * Math.log(2 * Math.PI * v) - (D * mu * mu) / (2 * v) };
  };

  test('ns on WebGPU: basic (x ~ U(0,1), log L = −x²) gives log Z = −0.29193 within 3σ; samples stay on the device, the rest are host float64', async () => {
    const model = bt.withBackend('webgpu', () => basicNs());
    const ns = new bt.ns.NestedSampler(model);
    assert.ok(ns.onDevice);
    const r = await ns.run(bt.random.key(1));
    assert.ok(Math.abs(r.logZMean - -0.29193) < 3 * r.logZUncert, `logZ ${r.logZMean} ± ${r.logZUncert}`);
    assert.is(r.samples.x!.dtype, 'float32');
    assert.is(r.samples.x!.backend, 'webgpu');
    assert.is(r.logLSamples.backend, 'cpu');
    assert.is(r.logLSamples.dtype, 'float64');
    assert.is(r.samples.x!.shape[0], r.totalNumSamples);
    // counters: one batched call per round, a read every readEvery (4) rounds and a few per shell
    assert.ok(ns.deviceCounters.calls > 0 && ns.deviceCounters.reads < ns.deviceCounters.calls, JSON.stringify(ns.deviceCounters));
    assert.is(ns.deviceCounters.numEval, r.totalNumLikelihoodEvaluations);
    // posterior draws stay on the device too: E[x] = (1 − e⁻¹)/2 / ∫₀¹e^{−x²} = 0.42318, sd < 0.3
    const draws = bt.ns.resample(bt.random.key(2), r, 500);
    assert.is(draws.x!.backend, 'webgpu');
    const xs = Array.from(await draws.x!.data(), Number);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(Math.abs(mean - 0.42318) < (4 * 0.3) / Math.sqrt(Math.min(500, r.ESS)), `posterior mean ${mean}`);
  });

  test('ns on WebGPU: a 3-D Gaussian within 3σ of its evidence, and the CPU host path agrees within the combined σ', async () => {
    const gpuCase = bt.withBackend('webgpu', () => nsGaussian(3, 0.5, 0.3));
    const r = await new bt.ns.NestedSampler(gpuCase.model).run(bt.random.key(4));
    assert.ok(Math.abs(r.logZMean - gpuCase.exact) < 3 * r.logZUncert, `webgpu logZ ${r.logZMean} ± ${r.logZUncert} vs ${gpuCase.exact}`);
    const cpuCase = nsGaussian(3, 0.5, 0.3);
    const c = await new bt.ns.NestedSampler(cpuCase.model).run(bt.random.key(4));
    assert.ok(Math.abs(c.logZMean - cpuCase.exact) < 3 * c.logZUncert, `cpu logZ ${c.logZMean} ± ${c.logZUncert}`);
    assert.ok(Math.abs(r.logZMean - c.logZMean) < 3 * Math.hypot(r.logZUncert, c.logZUncert), `webgpu ${r.logZMean} vs cpu ${c.logZMean}`);
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
    assert.is(s1.deadL.length, 5);
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
