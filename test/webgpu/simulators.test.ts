/**
 * bt.simulators and bt.vi on WebGPU (float32 only): plain numbers become the backend's float (the
 * Brock–Hommes VI failure "float64 tensors are not supported" came from softMinimum(g, 1, 2)
 * making a float64 scalar), every model simulates and differentiates as on the CPU in float32
 * (same keys, same draws), and Brock–Hommes VI runs its batched samples on WebGPU.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { webgpuOrSkip } from './setup.js';

const gpu = await webgpuOrSkip('simulators');
const S = bt.simulators;
const f32 = (v: number[] | number[][]) => bt.tensor(v as number[], { dtype: 'float32' });
const BH_TRUTH = [Math.log(120), 0, 0.9, 0.9, 1.01, 0, 0.2, -0.2, 0, Math.log(0.04), 0];

/** Runs `f` with `backend` current (tidied) and reads every tensor leaf of the result. */
async function onBackend(backend: string, f: () => bt.tree.PyTree): Promise<number[][]> {
  const out = bt.withBackend(backend, () => bt.tidy(f as () => never)) as bt.tree.PyTree;
  const leaves = bt.tree.leaves(out).filter((l): l is bt.Tensor => l instanceof bt.Tensor);
  const data = await Promise.all(leaves.map(async (t) => Array.from(await t.data(), Number)));
  bt.dispose(leaves);
  return data;
}

function close(what: string, got: number[][], want: number[][], rtol: number, atolScale: number): void {
  assert.is(got.length, want.length, `${what}: leaves`);
  want.forEach((w, i) => {
    const scale = Math.max(...w.map(Math.abs), 1e-30);
    assert.is(got[i]!.length, w.length, `${what} leaf ${i}: size`);
    w.forEach((v, k) => {
      const g = got[i]![k]!;
      assert.ok(Number.isFinite(g) && Math.abs(g - v) <= rtol * Math.abs(v) + atolScale * scale, `${what} leaf ${i}[${k}]: webgpu ${g} vs cpu ${v}`);
    });
  });
}

async function sameOnBoth(what: string, f: () => bt.tree.PyTree, rtol: number, atolScale: number): Promise<void> {
  close(what, await onBackend('webgpu', f), await onBackend('cpu', f), rtol, atolScale);
}

/** The simulators, each as loss(θ, key) on the current backend (float32), with a θ to evaluate at. */
function models(): { name: string; theta: number[]; loss: (th: bt.Tensor, k: bt.Tensor) => bt.Tensor; outputs: (th: bt.Tensor, k: bt.Tensor) => bt.Tensor[] }[] {
  const rw = S.randomWalk(12);
  const bh = S.brockHommes(12);
  const sirModel = S.sir(S.wattsStrogatz(bt.random.key(5), 10, 4, 0.2), 6);
  const toy = S.mvnToy([[1, 0.3], [0.3, 0.5]], 5);
  return [
    { name: 'random walk', theta: [-0.4], outputs: (th, k) => S.simulate(rw, th, k), loss: (th, k) => S.mse(S.simulate(rw, th, k)[0]!, f32(new Array(13).fill([0.5]))) },
    {
      name: 'Brock–Hommes', theta: BH_TRUTH.map((v) => v + 0.05), outputs: (th, k) => S.simulate(bh, th, k),
      loss: (th, k) => S.mmd(S.simulate(bh, th, k, { gradientHorizon: 0 })[0]!, f32(Array.from({ length: 15 }, (_, i) => 0.01 * Math.sin(i))), { bandwidth: 1e-3 }),
    },
    { name: 'SIR', theta: [-1, -0.5, -0.8], outputs: (th, k) => S.simulate(sirModel, th, k), loss: (th, k) => bt.sum(S.simulate(sirModel, th, k)[0]!).div(10) },
    { name: 'mvn toy', theta: [0.4, -0.2], outputs: (th, k) => [toy(th, k)], loss: (th, k) => S.gaussianNll(toy(th, k), f32([0.1, 0.1]), { scale: 1 }) },
  ];
}

if (gpu) {
  test('numbers with no tensor partner take the backend float: float32 on WebGPU (softMinimum(x, 1, 2) of Brock–Hommes)', async () => {
    bt.withBackend('webgpu', () => {
      assert.is(bt.mul(-1, 2).dtype, 'float32');
      assert.is(bt.add(bt.tensor([1, 2], { dtype: 'float32' }), 0.5).dtype, 'float32');
      assert.is(S.softMinimum(1, 2, 2).dtype, 'float32');
      assert.is(S.softMaximum(S.softMinimum(f32([0.5, 2]), 1, 2), 1e-3, 2).dtype, 'float32');
    });
    bt.withBackend('cpu', () => {
      assert.is(bt.mul(-1, 2).dtype, 'float64');
      // a number meets a float32 tensor: it takes float32 (also inside softMinimum's pair)
      assert.is(S.softMinimum(f32([0.5, 2]), 1, 2).dtype, 'float32');
    });
    const [v] = await onBackend('webgpu', () => S.softMinimum(f32([0.5, 2]), 1, 2));
    const [w] = await onBackend('cpu', () => S.softMinimum(f32([0.5, 2]), 1, 2));
    close('softMinimum', [v!], [w!], 1e-6, 0);
  });

  for (const m of models()) {
    test(`${m.name}: simulated outputs, loss and ∇θ loss on WebGPU equal the CPU's (float32, same key)`, async () => {
      await sameOnBoth(m.name, () => {
        const th = f32(m.theta);
        const k = bt.random.key(7);
        const [l, g] = bt.valueAndGrad((t: bt.Tensor) => m.loss(t, k))(th) as [bt.Tensor, bt.Tensor];
        return [...m.outputs(th, k), l, g];
      }, 1e-4, 1e-4);
    });
  }

  const bhSpec = (diffMode: 'forward' | 'reverse', sampleEvaluation: bt.vi.SampleEvaluation): bt.vi.ObjectiveSpec<null> => {
    const bh = S.brockHommes(10);
    const y = f32(Array.from({ length: 13 }, (_, i) => 0.01 * Math.cos(i)));
    const mmd = S.mmdLoss(y, { bandwidth: 1e-3 });
    const loc = f32(BH_TRUTH.map((v) => v + 0.05));
    const cov = bt.eye(11, 11, 'float32');
    return {
      loss: (th, _d, k) => mmd(S.simulate(bh, th, k, { gradientHorizon: 0 })[0]!), prior: new bt.distributions.MultivariateNormal({ loc, covariance: cov }),
      posteriorEstimator: new bt.distributions.MultivariateNormal({ loc, covariance: cov.mul(0.01) }), w: 0.01, nSamplesPerEpoch: 3, nSamplesRegularisation: 50,
      diffMode, gradientEstimationMethod: 'pathwise', baseline: 'none', stickingTheLanding: true, sampleEvaluation,
    };
  };

  test('Brock–Hommes VI objective on WebGPU: the batched samples equal the loop and the CPU (float32), forward and reverse', async () => {
    for (const diffMode of ['reverse', 'forward'] as const) {
      const objective = (how: bt.vi.SampleEvaluation) => () => {
        const s = bhSpec(diffMode, how);
        const r = bt.vi.lossAndGrad(s, s.posteriorEstimator.params(), null, bt.random.key(11));
        return [r.loss, r.total, r.nDropped, bt.tree.ravel(r.grads)[0]];
      };
      const batched = await onBackend('webgpu', objective('batched'));
      close(`${diffMode}: batched vs loop on WebGPU`, batched, await onBackend('webgpu', objective('loop')), 1e-5, 1e-5);
      close(`${diffMode}: WebGPU vs CPU`, batched, await onBackend('cpu', objective('batched')), 1e-3, 1e-4);
    }
  });

  test('Brock–Hommes vi.VI: two epochs on WebGPU, each mode, track the CPU float32 run', async () => {
    for (const diffMode of ['reverse', 'forward'] as const) {
      const fit = async (backend: string) => {
        const prev = bt.getBackend();
        bt.setBackend(backend);
        try {
          const s = bhSpec(diffMode, 'auto');
          const vi = new bt.vi.VI({ loss: s.loss, prior: s.prior, posteriorEstimator: s.posteriorEstimator, w: s.w, nSamplesPerEpoch: 3, nSamplesRegularisation: 50, diffMode, key: bt.random.key(3) });
          const recs = [await vi.step(null), await vi.step(null)];
          vi.dispose();
          return recs.map((r) => [r.total, r.loss, r.regularisation, r.nDropped]);
        } finally {
          bt.setBackend(prev);
        }
      };
      close(`vi.VI ${diffMode}`, await fit('webgpu'), await fit('cpu'), 1e-3, 1e-4);
    }
  });
}

test.run();
