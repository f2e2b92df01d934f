/**
 * The Aggregated IMNN classes on WebGPU (host = devices = ['webgpu'], float32): the chunked
 * two-pass gradient equals the in-memory one to float32 rounding (64 ulps of the largest entry,
 * the harness's AD-vs-AD tolerance); with a CPU host and devices [cpu, webgpu] fit moves values
 * asynchronously and follows the all-CPU fit to the same relative tolerance.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { findWebgpu, WEBGPU } from '../../backend-harness.js';

const FILE = 'algorithms/imnn/aggregated-webgpu.test.ts';
const gpu = await findWebgpu(FILE);
const nS = 20;
const nD = 10;
const model = bt.nn.mlp({ sizes: [6, 12, 2], activation: 'leakyRelu' });
const α = bt.imnn.getα(10, 0.1);

if (typeof gpu === 'string') {
  if (process.env.CI === 'true') test(`${FILE}: a WebGPU adapter is available in CI`, () => assert.unreachable(gpu));
  else console.log(`[note] ${FILE} SKIPPED: no WebGPU adapter (${gpu}).`);
} else {
  test('AggregatedGradientIMNN on webgpu = GradientIMNN on webgpu (one sgd step = −lr·dΛ/dw), to float32 rounding', async () => {
    const [m, a] = bt.withBackend('webgpu', () => {
      const fid = bt.random.normal(bt.random.key(1), [nS, 6]);
      const der = bt.stack([bt.ones([nD, 6]), fid.slice([0], [nD]).mul(0.5)], -1);
      const c = { nS, nD, nParams: 2, nSummaries: 2, inputShape: [6], θFid: bt.tensor([0, 1], { dtype: 'float32' }), model, optimiser: bt.optim.sgd({ learningRate: 1 }), keyOrState: bt.random.key(3), fiducial: fid, derivative: der };
      return [new bt.imnn.GradientIMNN(c), new bt.imnn.AggregatedGradientIMNN({ ...c, host: 'webgpu', devices: ['webgpu'], nPerDevice: 5 })];
    });
    const steps = bt.withBackend('webgpu', () => [m, a].map((x) => {
      const [s] = x.update(x.state, undefined, 10, α);
      return (bt.tree.leaves(x.state.w) as bt.Tensor[]).map((t, i) => t.sub(bt.tree.leaves(s.w)[i] as bt.Tensor));
    }));
    const [g, h] = await Promise.all(steps.map((l) => Promise.all(l.map((t) => t.data()))));
    const scale = Math.max(...g!.flatMap((v) => Array.from(v, Math.abs)));
    assert.ok(scale > 1e-3, `a gradient that is not trivially zero (${scale})`);
    const diff = Math.max(...g!.flatMap((v, i) => Array.from(v, (x, j) => Math.abs(x - h![i]![j]!))));
    assert.ok(diff <= WEBGPU.adRtol * scale, `max |Δ dΛ/dw| = ${diff} vs ${WEBGPU.adRtol} · ${scale}`);
  });

  test('a CPU host with devices [cpu, webgpu]: fit runs its passes asynchronously and follows the CPU fit to float32 rounding; no tensor left behind', async () => {
    const fid = bt.random.normal(bt.random.key(1), [nS, 6]);
    const der = bt.stack([bt.ones([nD, 6]), fid.slice([0], [nD]).mul(0.5)], -1);
    const vfid = bt.random.normal(bt.random.key(2), [nS, 6]);
    const c = { nS, nD, nParams: 2, nSummaries: 2, inputShape: [6], θFid: [0, 1], model, optimiser: bt.optim.adam({ learningRate: 1e-2 }), keyOrState: bt.random.key(3), fiducial: fid, derivative: der, validationFiducial: vfid, validationDerivative: der };
    const opts = { minIterations: 0, patience: 100, maxIterations: 3 };
    const held = async (m: bt.imnn.IMNNBase) => {
      const before = bt.memory().numTensors;
      await m.fit(10, 0.1, opts);
      return bt.memory().numTensors - before;
    };
    const cpu = new bt.imnn.AggregatedGradientIMNN({ ...c, devices: ['cpu'], nPerDevice: 5 });
    const mixed = new bt.imnn.AggregatedGradientIMNN({ ...c, host: 'cpu', devices: ['cpu', 'webgpu'], nPerDevice: 5, prefetch: 1 });
    assert.ok(cpu.aggregation.sync && !mixed.aggregation.sync);
    const [hc, hm] = [await held(cpu), await held(mixed)];
    assert.is(hm, hc, 'the same tensors held after the fit (state, best weights, statistics) as the synchronous fit');
    for (const k of ['detF', 'val_detF'] as const) {
      cpu.history[k].forEach((v, i) => assert.ok(Math.abs(mixed.history[k][i]! / v - 1) <= WEBGPU.adRtol, `${k}[${i}]: ${mixed.history[k][i]} vs ${v}`));
    }
    assert.ok(Math.abs(bt.linalg.det(mixed.F!).item() / bt.linalg.det(cpu.F!).item() - 1) <= WEBGPU.adRtol);
    assert.throws(() => mixed.getSummaries(mixed.w), (e: Error) => e instanceof bt.ConfigError && /getSummariesAsync/.test(e.message));
    const [x, dx] = await mixed.getSummariesAsync(mixed.w);
    assert.equal([x.shape, dx.shape, x.backend], [[nS, 2], [nD, 2, 2], 'cpu']);
  });
}

test.run();
