/**
 * The slope problem (imnn's "IMNN vs regression"): y = m·x + N(0, 1), x = linspace(0, 10, 100),
 * m_fid = 4; the Fisher information is Σx² = 3350.17. A SimulatorIMNN with a 100-16-1 LeakyReLU
 * network (nS = nD = 500, Adam 3e-3, 700 iterations) must reach F within 5 % of it, measured on
 * 20000 fresh simulations (relative standard error of the covariance ≈ 1 %).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';

test('slope problem: F on fresh simulations within 5 % of Σx² = 3350.17', async () => {
  const x = bt.linspace(0, 10, 100);
  const analytic = x.square().sum().item();
  assert.ok(Math.abs(analytic - 3350.17) < 0.01);
  const slope = (k: bt.Tensor, θ: bt.Tensor) => x.mul(θ).add(bt.random.normal(k, [100]));
  const opts = {
    nS: 500, nD: 500, nParams: 1, nSummaries: 1, inputShape: [100], θFid: [4],
    model: bt.nn.mlp({ sizes: [100, 16, 1], activation: 'leakyRelu' }), optimiser: bt.optim.adam({ learningRate: 3e-3 }), keyOrState: bt.random.key(0), simulator: slope,
  };
  const m = new bt.imnn.SimulatorIMNN(opts);
  await m.fit(10, 0.1, { rng: bt.random.key(1), maxIterations: 700, patience: 10000, best: false });
  const big = new bt.imnn.SimulatorIMNN({ ...opts, nS: 20000, nD: 20000, keyOrState: m.state });
  big.setFStatistics({ key: bt.random.key(11) });
  const F = big.F!.item();
  assert.ok(Math.abs(F / analytic - 1) < 0.05, `F = ${F}, analytic ${analytic}`);
});

test.run();
