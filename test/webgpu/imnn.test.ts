/**
 * SimulatorIMNN on WebGPU (float32): the Gaussian mean-and-variance problem (10 points,
 * θ_fid = (0, 1)) at test size (nS = nD = 100, a 10-16-16-2 LeakyReLU network, Adam 1e-2).
 * Both fits run in float32 (the CPU's float64 normals are other draws from the same key); the
 * same keys draw the same normals on both backends, so three fit iterations on WebGPU follow the
 * CPU fit: det F of each iteration and the final statistics agree to float32 rounding. The tolerance is the harness's AD-vs-AD one,
 * WEBGPU.adRtol = 64 float32 ulps (7.6e-6) relative: det F is a product of sums over 100
 * simulations of quantities each rounded a few times in float32 (∑ of n terms: ≤ √n·ε typical);
 * getEstimate on WebGPU equals θ_fid + F⁻¹(∂μ/∂θ)ᵀC⁻¹(f_w(d) − μ) from its own weights and
 * statistics evaluated on the host (float32 rounding of each term).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { webgpuOrSkip } from './setup.js';
import { WEBGPU } from '../backend-harness.js';

const gpu = await webgpuOrSkip('imnn');
const n = 100;
const sim = (k: bt.Tensor, θ: bt.Tensor) => bt.random.normal(k, [10], { dtype: θ.dtype as 'float32' }).mul(θ.slice([1], [1]).sqrt()).add(θ.slice([0], [1]));
const model = bt.nn.mlp({ sizes: [10, 16, 16, 2], activation: 'leakyRelu', dtype: 'float32' });

/** A float32 SimulatorIMNN made with `backend` current (its tensors live there). */
function make(backend: string): bt.imnn.SimulatorIMNN {
  return bt.withBackend(backend, () => new bt.imnn.SimulatorIMNN({
    nS: n, nD: n, nParams: 2, nSummaries: 2, inputShape: [10], θFid: bt.tensor([0, 1], { dtype: 'float32' }),
    model, optimiser: bt.optim.adam({ learningRate: 1e-2 }), keyOrState: bt.random.key(0), simulator: sim,
  }));
}

const read = async (ts: bt.Tensor[]) => Promise.all(ts.map(async (t) => Array.from(await t.data(), Number)));

if (gpu) {
  test('SimulatorIMNN: 3 fit iterations on WebGPU follow the CPU fit to float32 rounding (det F history, F); getEstimate agrees', async () => {
    const cpu = make('cpu');
    const web = make('webgpu');
    const w0 = await read(bt.tree.leaves(web.state.w) as bt.Tensor[]);
    const opts = { rng: bt.random.key(1), maxIterations: 3, patience: 100, best: false };
    await cpu.fit(10, 0.1, opts);
    // fit awaits between iterations, past withBackend's synchronous scope: make webgpu the default for it
    bt.setBackend('webgpu');
    try {
      await web.fit(10, 0.1, { ...opts, rng: bt.random.key(1) });
    } finally {
      bt.setBackend('cpu');
    }
    assert.is(web.history.detF.length, 3);
    web.history.detF.forEach((v, i) => assert.ok(Math.abs(v / cpu.history.detF[i]! - 1) <= WEBGPU.adRtol, `det F[${i}]: webgpu ${v} vs cpu ${cpu.history.detF[i]}`));
    // Adam moves each weight by ≈ lr·sign(g) at first: entries whose exact gradient is 0 (the
    // output bias: Λ does not change when the summaries shift) move by ±lr on rounding noise on
    // either backend, so the weights are compared by what they do: det F after each step (above)
    // and F at the final weights (below)
    const wc = await read(bt.tree.leaves(cpu.state.w) as bt.Tensor[]);
    const moved = Math.max(...wc.flatMap((l, i) => l.map((v, j) => Math.abs(v - w0[i]![j]!))));
    assert.ok(moved > 1e-3, `the weights moved (${moved})`);
    assert.is(web.F!.backend, 'webgpu');
    const [fc, fw] = [await read([cpu.F!]), await read([web.F!])];
    const fScale = Math.max(...fc[0]!.map(Math.abs));
    fc[0]!.forEach((v, i) => assert.ok(Math.abs(v - fw[0]![i]!) <= WEBGPU.adRtol * fScale, `F: webgpu ${fw[0]} vs cpu ${fc[0]}`));

    // getEstimate of 5 data sets on WebGPU = θ_fid + G (f_w(d) − μ), G = F⁻¹ (∂μ/∂θ)ᵀ C⁻¹, from the
    // WebGPU instance's own weights and statistics evaluated on the host in float64; bound: the
    // float32 rounding of each term, adRtol · (|θ_i| + Σ_j |G_ij| (|x_j| + |μ_j|))
    const d = [[0.5, -0.3, 1.2, 0.1, 0.9, -1.1, 0.4, 0, 0.7, -0.2]];
    for (let i = 1; i < 5; i++) d.push(d[0]!.map((v, j) => v * (1 + 0.1 * i) + 0.05 * j));
    const est = bt.withBackend('webgpu', () => web.getEstimate(bt.tensor(d, { dtype: 'float32' })));
    assert.is(est.backend, 'webgpu');
    assert.equal(est.shape, [5, 2]);
    const ew = (await read([est]))[0]!;
    const wl = await read(bt.tree.leaves(web.w) as bt.Tensor[]);
    const [, def] = bt.tree.flatten(web.w as bt.tree.PyTree);
    const wHost = bt.tree.unflatten(def, wl.map((l, i) => bt.tensor(l, { shape: (bt.tree.leaves(web.w) as bt.Tensor[])[i]!.shape, dtype: 'float64' })));
    const x = model.apply(wHost as never, bt.tensor(d)).dataSync();
    const [iF, dm, iC, mu] = await read([web.invF!, web.dμdθ!, web.invC!, web.μ!]);
    // G = F⁻¹ dμᵀ C⁻¹ (2×2 each; dμ[a][α] row-major)
    const at = (m: number[], r: number, c: number) => m[2 * r + c]!;
    const H = [0, 1].map((α) => [0, 1].map((b) => at(dm!, 0, α) * at(iC!, 0, b) + at(dm!, 1, α) * at(iC!, 1, b)));
    const G = [0, 1].map((i) => [0, 1].map((b) => at(iF!, i, 0) * H[0]![b]! + at(iF!, i, 1) * H[1]![b]!));
    for (let r = 0; r < 5; r++) for (let i = 0; i < 2; i++) {
      const want = [0, 1][i]! + G[i]![0]! * (x[2 * r]! - mu![0]!) + G[i]![1]! * (x[2 * r + 1]! - mu![1]!);
      const bound = WEBGPU.adRtol * (Math.abs([0, 1][i]!) + [0, 1].reduce((a, j) => a + Math.abs(G[i]![j]!) * (Math.abs(x[2 * r + j]!) + Math.abs(mu![j]!)), 0));
      assert.ok(Math.abs(ew[2 * r + i]! - want) <= bound, `estimate[${r}][${i}]: webgpu ${ew[2 * r + i]} vs host ${want} (bound ${bound})`);
    }
  });
}

test.run();
