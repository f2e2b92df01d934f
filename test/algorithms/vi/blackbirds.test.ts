/**
 * blackbirds' test_vi.py TestVI, reproduced: fit-to-prior initialisation, random-walk recovery in
 * both differentiation modes, and a regulariser-only fit.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';

const S = bt.simulators;
const logit = (p: number) => Math.log(p / (1 - p));
const rw = S.randomWalk(100);
/** blackbirds' Loss fixture: simulate with gradient horizon 0, MSE against the data. */
const rwLoss = (theta: bt.Tensor, data: bt.Tensor, key: bt.Tensor) => S.mse(S.simulate(rw, theta, key, { gradientHorizon: 0 })[0]!, data);
const observe = (theta: number, seed: number) => bt.keep(S.simulate(rw, bt.tensor([theta]), bt.random.key(seed))[0]!);

test('initializeEstimatorToPrior: KL(q ‖ prior) ≈ 0 after one epoch at lr 1e-6 (atol 0.1)', async () => {
  const data = observe(logit(0.2), 1);
  const prior = new bt.distributions.Normal(0, 1);
  const q = bt.distributions.Normal.fromParams({ loc: bt.tensor(0.6), logScale: bt.tensor(Math.log(1.5)) });
  const vi = new bt.vi.VI({
    loss: rwLoss, prior, posteriorEstimator: q, optimizer: bt.optim.adam({ learningRate: 1e-6 }), initializeEstimatorToPrior: true,
    initializationLr: 1e-2, w: 100, nSamplesPerEpoch: 1, nSamplesRegularisation: 1000, key: bt.random.key(999),
  });
  const before = bt.vi.klMonteCarlo(vi.estimator, prior, 10000, bt.random.key(5)).item();
  await vi.run(data, 1, 100);
  const after = bt.vi.klMonteCarlo(vi.estimator, prior, 10000, bt.random.key(5)).item();
  console.log(`\n[note] init-to-prior: KL ${before.toFixed(3)} → ${after.toFixed(4)} in ${vi.initializationEpochs} init epochs`);
  assert.ok(before > 0.2, `KL before ${before}`);
  assert.ok(Math.abs(after) < 0.1, `KL after ${after} (${vi.initializationEpochs} init epochs)`);
  assert.is(vi.lossHistory.total.length, 1);
});

test('initializeEstimatorToPrior with a MAF estimator (blackbirds uses 4 MAF layers): KL to a shifted 2-D prior < 0.1', async () => {
  const prior = new bt.distributions.MultivariateNormal({ loc: bt.tensor([1, -1]), covariance: bt.eye(2).mul(0.25) });
  const q = bt.flows.maf({ dim: 2, hiddenSizes: [20, 20], numLayers: 4, key: bt.random.key(0) });
  const vi = new bt.vi.VI({
    loss: (th: bt.Tensor) => th.sum(), prior, posteriorEstimator: q, optimizer: bt.optim.adam({ learningRate: 1e-6 }),
    initializeEstimatorToPrior: true, initializationLr: 1e-2, w: 100, nSamplesPerEpoch: 1, nSamplesRegularisation: 1000, key: bt.random.key(999),
  });
  const before = bt.vi.klMonteCarlo(vi.estimator, prior, 10000, bt.random.key(5)).item();
  await vi.run(null, 1, 100);
  const after = bt.vi.klMonteCarlo(vi.estimator, prior, 10000, bt.random.key(5)).item();
  console.log(`\n[note] init-to-prior (MAF): KL ${before.toFixed(3)} → ${after.toFixed(4)} in ${vi.initializationEpochs} init epochs`);
  assert.ok(before > 1, `KL before ${before}`);
  assert.ok(Math.abs(after) < 0.1, `KL after ${after}`);
});

for (const diffMode of ['forward', 'reverse'] as const) {
  test(`random walk (T = 100): μ within 0.2 of logit(0.25) after 100 epochs, ${diffMode} mode`, async () => {
    const truth = logit(0.25);
    const data = observe(truth, 2);
    const q = bt.vi.freeze(bt.distributions.Normal.fromParams({ loc: bt.tensor([logit(0.4)]), logScale: bt.tensor([Math.log(0.1)]) }), ['logScale']);
    const prior = new bt.distributions.Independent(new bt.distributions.Normal(bt.zeros([1]), bt.ones([1])), 1);
    const vi = new bt.vi.VI({
      loss: rwLoss, prior, posteriorEstimator: q, optimizer: bt.optim.adam({ learningRate: 1e-2 }), diffMode, w: 0, nSamplesPerEpoch: 1,
      key: bt.random.key(999),
    });
    const r = await vi.run(data, 100, 100);
    const mu = (vi.state.params as { loc: bt.Tensor }).loc.item();
    console.log(`\n[note] random walk ${diffMode}: μ = ${mu.toFixed(4)} vs truth ${truth.toFixed(4)} after ${r.epochs} epochs (${r.epochsPerSecond.toFixed(1)} epochs/s)`);
    assert.ok(Math.abs(mu - truth) <= 0.2, `${diffMode}: μ = ${mu}, truth ${truth} (${r.epochs} epochs)`);
    // σ stayed frozen
    assert.equal((vi.estimator.params() as object), { loc: (vi.state.params as { loc: bt.Tensor }).loc });
  });
}

test('regulariser only (prior N(3, 1), q = N(0, 1) with σ frozen, w = 1e4): best μ within 0.3 of 3', async () => {
  const data = observe(0.5, 3);
  const prior = new bt.distributions.Normal(3, 1);
  const q = bt.vi.freeze(bt.distributions.Normal.fromParams({ loc: bt.tensor(0), logScale: bt.tensor(0) }), ['logScale']);
  const vi = new bt.vi.VI({
    loss: rwLoss, prior, posteriorEstimator: q, optimizer: bt.optim.adam({ learningRate: 5e-2 }), nSamplesPerEpoch: 1, w: 1e4,
    nSamplesRegularisation: 1000, key: bt.random.key(999),
  });
  await vi.run(data, 100, Infinity);
  const best = vi.bestEstimator;
  console.log(`\n[note] regulariser only: μ_best = ${best.mean().item().toFixed(4)} (epoch ${vi.bestEpoch})`);
  assert.ok(Math.abs(best.mean().item() - 3) <= 0.3, `μ_best = ${best.mean().item()}`);
  // σ stayed 1: the entropy of N(·, 1)
  assert.ok(Math.abs(best.entropy().item() - 0.5 * (1 + Math.log(2 * Math.PI))) < 1e-12, 'σ frozen at 1');
  assert.is(vi.lossHistory.total.length, 100);
  assert.ok(vi.lossHistory.regularisation[99]! < vi.lossHistory.regularisation[0]! / 100, 'the KL fell');
});

test.run();
