/**
 * blackbirds' test_vi.py TestDifferentiateLoss, reproduced: the mock estimator θ = 2p·(1, 1),
 * the mock model θ² over 3 steps and an MSE loss. With y = 4 the loss and gradient are 0; with
 * y rows (2, 3, 4) the loss is 5/3, every per-sample J_i = (4, 4) and ∂/∂p = 16.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { assertClose } from '../../helpers.js';
import { MockEstimator, mockLoss, TestGaussian } from './mock.js';

const key = bt.random.key(999);
const prior = new TestGaussian({ loc: bt.zeros([2]), logScale: bt.zeros([2]) });
const yZero = bt.full([3, 2], 4);
const yRows = bt.tensor([2, 3, 4]).reshape([3, 1]).mul(bt.ones([3, 2]));

function spec(diffMode: 'forward' | 'reverse', method: 'pathwise' | 'score', extra: Partial<bt.vi.ObjectiveSpec<bt.Tensor>> = {}): bt.vi.ObjectiveSpec<bt.Tensor> {
  return {
    loss: mockLoss, prior, posteriorEstimator: new MockEstimator(), w: 0, nSamplesPerEpoch: 5, nSamplesRegularisation: 100,
    diffMode, gradientEstimationMethod: method, baseline: 'none', jacobianChunkSize: undefined, stickingTheLanding: true, ...extra,
  };
}

test('per-sample loss and Jacobian (compute_loss_and_jacobian_pathwise)', () => {
  for (const mode of ['reverse', 'forward'] as const) {
    for (const chunk of [undefined, 1]) {
      const th = bt.tensor([2, 2]);
      const [l0, j0] = bt.vi.sampleValueAndGrad(mockLoss, th, yZero, key, mode, chunk);
      assertClose(l0, 0, 0, 1e-15, `${mode} loss y=4`);
      assertClose(j0, [0, 0], 0, 1e-15, `${mode} J y=4`);
      const [l1, j1] = bt.vi.sampleValueAndGrad(mockLoss, th, yRows, key, mode, chunk);
      assertClose(l1, 5 / 3, 1e-12, 0, `${mode} loss rows`);
      assertClose(j1, [4, 4], 1e-12, 0, `${mode} J rows`);
    }
  }
});

test('∂/∂p = 16 and loss 5/3 for forward and reverse, pathwise and score (compute_and_differentiate_loss)', () => {
  for (const mode of ['forward', 'reverse'] as const) {
    for (const method of ['pathwise', 'score'] as const) {
      const r0 = bt.vi.lossAndGrad(spec(mode, method), { p: bt.tensor(1) }, yZero, key);
      assertClose(r0.loss, 0, 0, 1e-15, `${mode}/${method} loss y=4`);
      const r = bt.vi.lossAndGrad(spec(mode, method), { p: bt.tensor(1) }, yRows, key);
      assertClose(r.loss, 5 / 3, 1e-12, 0, `${mode}/${method} loss`);
      assertClose(r.total, 5 / 3, 1e-12, 0, `${mode}/${method} total`);
      assert.is(r.nDropped.item(), 0);
      const g = (r.grads as { p: bt.Tensor }).p.item();
      // pathwise: 16 (rtol 1e-3, as blackbirds). score: the mock's log q is constant in θ (0·p),
      // so its score gradient is exactly 0 — blackbirds checks only the loss there.
      if (method === 'pathwise') assertClose(g, 16, 1e-3, 0, `${mode} ∂/∂p`);
      else assertClose(g, 0, 0, 0, `${mode} score ∂/∂p`);
    }
  }
});

test('the score estimator (with and without baseline) agrees with the pathwise one in expectation', () => {
  // q = N(μ, 0.1² I) in 2-D; ℓ(θ) = mockLoss; ∇μ E ℓ by pathwise (exact up to MC) vs score.
  const q = TestGaussian.diag([1, 1], [0.1, 0.1]);
  const params = q.params();
  const mk = (method: 'pathwise' | 'score', baseline: 'none' | 'mean', n: number) =>
    bt.vi.lossAndGrad({ ...spec('reverse', method), posteriorEstimator: q, nSamplesPerEpoch: n, baseline }, params, yRows, key);
  const gp = (mk('pathwise', 'none', 400).grads as { loc: bt.Tensor }).loc.dataSync();
  const gs = (mk('score', 'mean', 2000).grads as { loc: bt.Tensor }).loc.dataSync();
  // E∇ = 4θ(θ²−ȳ)·… ≈ (−8, −8) around θ = 1; the score estimate (baseline) within 10 %
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(gs[i]! - gp[i]!) < 0.1 * Math.abs(gp[i]!), `score ${gs[i]} vs pathwise ${gp[i]}`);
});

test('NaN samples are dropped and counted', () => {
  // the loss is NaN for samples whose first coordinate exceeds the mean
  const q = TestGaussian.diag([0, 0], [1, 1]);
  const nanLoss = (th: bt.Tensor, y: bt.Tensor) => bt.where(th.slice([0], [1]).reshape([]).greater(0), NaN, mockLoss(th, y));
  for (const method of ['pathwise', 'score'] as const) {
    const r = bt.vi.lossAndGrad({ ...spec('reverse', method), loss: nanLoss, posteriorEstimator: q, nSamplesPerEpoch: 20, w: 1 }, q.params(), yRows, key);
    const dropped = r.nDropped.item();
    assert.ok(dropped > 0 && dropped < 20, `${method}: dropped ${dropped}`);
    assert.ok(Number.isFinite(r.loss.item()), `${method}: loss finite`);
    for (const l of bt.tree.leaves(r.grads) as bt.Tensor[]) assert.ok(Array.from(l.dataSync()).every(Number.isFinite), `${method}: finite grads`);
  }
});

test('KL(N(0,1) ‖ N(1,1)) = 0.5 by Monte Carlo (100k samples, rtol 1e-2); identical → 0', () => {
  const q = TestGaussian.diag([0], [1]);
  assertClose(bt.vi.klMonteCarlo(q, TestGaussian.diag([1], [1]), 100000, key), 0.5, 1e-2, 0, 'KL');
  assertClose(bt.vi.klMonteCarlo(q, TestGaussian.diag([0], [1]), 100000, key), 0, 0, 1e-12, 'KL same');
});

test.run();
