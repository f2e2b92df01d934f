/**
 * The Gaussian mean-and-variance problem (10 points, θ_fid = (0, 1), analytic F = diag(10, 5),
 * det F = 50), at test size: nS = nD = 300, a 10-32-32-2 LeakyReLU network, Adam 1e-2. The
 * full-size acceptance (nS = nD = 1000, 3 × 128, Adam 1e-3: det F ≥ 40 fresh, validation ≥ 32)
 * is examples/imnn/validate.ts. The floors here sit below what these seeds reach (fresh 28–31,
 * validation 30.4 and 33.1) by more than the sampling error of the estimates (≈ 3 % at 5000
 * fresh simulations, ≈ 10 % for a validation det F from 300): they catch a broken loss, derivative
 * or update, which stay near det F ≈ 0.2–2; the ceiling 55 catches a Fisher that is too large.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';

const n = 300;
const sim = (k: bt.Tensor, θ: bt.Tensor) => bt.random.normal(k, [10]).mul(θ.slice([1], [1]).sqrt()).add(θ.slice([0], [1]));
const common = () => ({
  nS: n, nD: n, nParams: 2, nSummaries: 2, inputShape: [10], θFid: [0, 1],
  model: bt.nn.mlp({ sizes: [10, 32, 32, 2], activation: 'leakyRelu' }), optimiser: bt.optim.adam({ learningRate: 1e-2 }), keyOrState: bt.random.key(0),
});
// d = θ0 + √θ1 z: ∂d/∂θ0 = 1, ∂d/∂θ1 = z/2 at θ_fid
const sets = (seed: number) => {
  const z = bt.random.normal(bt.random.key(seed), [n, 10]);
  return { fid: z, der: bt.stack([bt.onesLike(z), z.mul(0.5)], -1) };
};
// seed-matched simulations at θ_fid ∓ δθ/2
const numSets = (seed: number, δ: number) => {
  const z = bt.random.normal(bt.random.key(seed), [n, 10]);
  const at = (t0: number, t1: number) => z.mul(Math.sqrt(t1)).add(t0);
  return { fid: z, der: bt.stack([bt.stack([at(-δ / 2, 1), at(0, 1 - δ / 2)], 1), bt.stack([at(δ / 2, 1), at(0, 1 + δ / 2)], 1)], 1) };
};

test('SimulatorIMNN learns the Gaussian problem: det F on 5000 fresh simulations in [25, 55] (analytic 50)', async () => {
  const opts = { ...common(), simulator: sim };
  const m = new bt.imnn.SimulatorIMNN(opts);
  await m.fit(10, 0.1, { rng: bt.random.key(1), maxIterations: 800, patience: 10000, best: false });
  assert.is(m.history.detF.length, 800);
  const big = new bt.imnn.SimulatorIMNN({ ...opts, nS: 5000, nD: 5000, keyOrState: m.state });
  big.setFStatistics({ key: bt.random.key(11) });
  const detF = bt.linalg.det(big.F!).item();
  assert.ok(detF >= 25 && detF <= 55, `det F = ${detF}`);
  // estimates of 500 simulations at θ_fid average to θ_fid within 4.5σ, σ² = (F⁻¹)_ii (1/500 + 1/5000)
  const draws = bt.vmap((k: bt.Tensor) => sim(k, bt.tensor([0, 1])))(bt.random.split(bt.random.key(21), 500));
  const est = Array.from(big.getEstimate(draws).mean({ axis: 0 }).dataSync());
  const iF = big.invF!.dataSync();
  [0, 1].forEach((i) => {
    const σ = Math.sqrt(iF[3 * i]! * (1 / 500 + 1 / 5000));
    assert.ok(Math.abs(est[i]! - [0, 1][i]!) < 4.5 * σ, `mean estimate ${est} (σ ${σ})`);
  });
});

test('GradientIMNN and NumericalGradientIMNN: validation det F ≥ 25 with early stopping; best weights give it back', async () => {
  const a = sets(2);
  const v = sets(3);
  const g = new bt.imnn.GradientIMNN({ ...common(), fiducial: a.fid, derivative: a.der, validationFiducial: v.fid, validationDerivative: v.der });
  await g.fit(10, 0.1, { patience: 50, minIterations: 100, maxIterations: 600 });
  assert.ok(g.history.maxDetF >= 25 && g.history.maxDetF <= 55, `gradient: max validation det F ${g.history.maxDetF}`);
  assert.ok(g.history.detF.length < 600, 'stopped early');
  // fit ends at the best weights, with the validation statistics: det F equals the maximum
  const dg = bt.linalg.det(g.F!).item();
  assert.ok(Math.abs(dg - g.history.maxDetF) < 1e-9 * dg, `F at best weights ${dg} vs ${g.history.maxDetF}`);
  const na = numSets(4, 0.1);
  const nv = numSets(5, 0.1);
  const m = new bt.imnn.NumericalGradientIMNN({ ...common(), fiducial: na.fid, derivative: na.der, δθ: [0.1, 0.1], validationFiducial: nv.fid, validationDerivative: nv.der });
  await m.fit(10, 0.1, { patience: 50, minIterations: 100, maxIterations: 600 });
  assert.ok(m.history.maxDetF >= 25 && m.history.maxDetF <= 55, `numerical: max validation det F ${m.history.maxDetF}`);
});

test.run();
