/**
 * SimulatorIMNN on WebGPU (float32): the Gaussian mean-and-variance problem (10 points,
 * θ_fid = (0, 1)) at test size (nS = nD = 100, a 10-16-16-2 LeakyReLU network, Adam 1e-2).
 * The same keys draw the same normals on both backends (to float32 rounding), so three fit
 * iterations on WebGPU follow the float64 CPU fit: det F of each iteration, the final weights and
 * the final statistics agree to float32 rounding. The tolerance is the harness's AD-vs-AD one,
 * WEBGPU.adRtol = 64 float32 ulps (7.6e-6) relative: det F is a product of sums over 100
 * simulations of quantities each rounded a few times in float32 (∑ of n terms: ≤ √n·ε typical);
 * the weights move by lr·m/(√v + ε) per step, which float32 changes by the same relative amount
 * except where a gradient entry is ≈ 0, so weights are compared relative to the largest weight
 * change. getEstimate on WebGPU equals the CPU's on the same data to the same tolerance.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { webgpuOrSkip } from './setup.js';
import { WEBGPU } from '../backend-harness.js';

const gpu = await webgpuOrSkip('imnn');
const n = 100;
const sim = (k: bt.Tensor, θ: bt.Tensor) => bt.random.normal(k, [10], { dtype: θ.dtype as 'float32' }).mul(θ.slice([1], [1]).sqrt()).add(θ.slice([0], [1]));
const model = bt.nn.mlp({ sizes: [10, 16, 16, 2], activation: 'leakyRelu' });

/** A SimulatorIMNN made with `backend` current (its tensors live there; float32 on WebGPU). */
function make(backend: string): bt.imnn.SimulatorIMNN {
  return bt.withBackend(backend, () => new bt.imnn.SimulatorIMNN({
    nS: n, nD: n, nParams: 2, nSummaries: 2, inputShape: [10], θFid: bt.tensor([0, 1], { dtype: backend === 'cpu' ? 'float64' : 'float32' }),
    model, optimiser: bt.optim.adam({ learningRate: 1e-2 }), keyOrState: bt.random.key(0), simulator: sim,
  }));
}

const read = async (ts: bt.Tensor[]) => Promise.all(ts.map(async (t) => Array.from(await t.data(), Number)));

if (gpu) {
  test('SimulatorIMNN: 3 fit iterations on WebGPU follow the CPU fit to float32 rounding (det F history, weights, F); getEstimate agrees', async () => {
    const cpu = make('cpu');
    const web = make('webgpu');
    const w0 = await read(bt.tree.leaves(web.state.w) as bt.Tensor[]);
    const opts = { rng: bt.random.key(1), maxIterations: 3, patience: 100, best: false };
    await cpu.fit(10, 0.1, opts);
    await bt.withBackend('webgpu', () => web.fit(10, 0.1, { ...opts, rng: bt.random.key(1) }));
    assert.is(web.history.detF.length, 3);
    assert.ok(cpu.history.detF[2]! > cpu.history.detF[0]!, `the fit moves det F: ${cpu.history.detF}`);
    web.history.detF.forEach((v, i) => assert.ok(Math.abs(v / cpu.history.detF[i]! - 1) <= WEBGPU.adRtol, `det F[${i}]: webgpu ${v} vs cpu ${cpu.history.detF[i]}`));
    // weights: the change from the start agrees relative to the largest change
    const [wc, ww] = [await read(bt.tree.leaves(cpu.state.w) as bt.Tensor[]), await read(bt.tree.leaves(web.state.w) as bt.Tensor[])];
    const moved = Math.max(...wc.flatMap((l, i) => l.map((v, j) => Math.abs(v - w0[i]![j]!))));
    assert.ok(moved > 1e-3, `the weights moved (${moved})`);
    const diff = Math.max(...wc.flatMap((l, i) => l.map((v, j) => Math.abs(v - ww[i]![j]!))));
    assert.ok(diff <= WEBGPU.adRtol * moved + 2 * WEBGPU.eps * Math.max(...wc.flat().map(Math.abs)), `max |Δw| = ${diff} (moved ${moved})`);
    assert.is(web.F!.backend, 'webgpu');
    const [fc, fw] = [await read([cpu.F!]), await read([web.F!])];
    const fScale = Math.max(...fc[0]!.map(Math.abs));
    fc[0]!.forEach((v, i) => assert.ok(Math.abs(v - fw[0]![i]!) <= WEBGPU.adRtol * fScale, `F: webgpu ${fw[0]} vs cpu ${fc[0]}`));

    // getEstimate of 5 data sets, on each backend with its own statistics
    const d = [[0.5, -0.3, 1.2, 0.1, 0.9, -1.1, 0.4, 0, 0.7, -0.2]];
    for (let i = 1; i < 5; i++) d.push(d[0]!.map((v, j) => v * (1 + 0.1 * i) + 0.05 * j));
    const ec = (await read([cpu.getEstimate(bt.tensor(d))]))[0]!;
    const est = bt.withBackend('webgpu', () => web.getEstimate(bt.tensor(d, { dtype: 'float32' })));
    assert.is(est.backend, 'webgpu');
    assert.equal(est.shape, [5, 2]);
    const ew = (await read([est]))[0]!;
    const eScale = Math.max(...ec.map(Math.abs));
    ec.forEach((v, i) => assert.ok(Math.abs(v - ew[i]!) <= WEBGPU.adRtol * eScale, `estimate: webgpu ${ew} vs cpu ${ec}`));
  });
}

test.run();
