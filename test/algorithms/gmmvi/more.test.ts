/**
 * bt.gmmvi.moreEstimate: on a quadratic log target and one Gaussian component the log ratio is
 * exactly quadratic, so the weighted ridge fit (λ = 1e-12) recovers −E[∇²] = A − Σ⁻¹ and
 * −E[∇] = Aμ − b to rounding — the quantities Stein estimates by Monte Carlo (see stein.test.ts);
 * diagonal covariances give the diagonal; a component with no usable sample is NaN alone.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { assertClose } from '../../helpers.js';
import { gmmState, randomHostGmm } from './fixtures.js';

const g = bt.gmmvi;
const A = bt.tensor([[2, 0.3, 0], [0.3, 1, 0.2], [0, 0.2, 0.5]]);
const b = bt.tensor([1, -1, 0.5]);
const logP = (x: bt.Tensor) => bt.sub(bt.matmul(x, b.expandDims(-1)).squeeze(-1), bt.sum(bt.mul(bt.matmul(x, A), x), { axis: -1 }).mul(0.5));

function window(s: bt.gmmvi.GmmState, n: number, seed: number) {
  const { samples, mapping } = g.sample(s, n, bt.random.key(seed));
  return { samples, mapping, logPdfs: g.logDensity(s, samples), targetLnpdfs: logP(samples) };
}

test('quadratic target, one component: MORE recovers A − Σ⁻¹ and Aμ − b exactly (SNIS and standard IS)', () => {
  const h = randomHostGmm(1, 3, 1, { spread: 1 });
  const w = g.createGmmWrapper(gmmState(h), { initialStepsize: 1, maxRewardHistoryLength: 2 });
  const sel = window(w.model, 100, 1);
  const Lam = bt.matmul(w.model.invChols.mT, w.model.invChols);
  const mu = w.model.means.reshape([3]);
  const wantH = bt.sub(A, Lam.reshape([3, 3])).reshape([1, 3, 3]);
  const wantG = bt.sub(bt.matmul(A, mu.expandDims(-1)).squeeze(-1), b).reshape([1, 3]);
  for (const self of [true, false]) {
    const est = g.moreEstimate(w, sel, { onlyUseOwnSamples: false, useSelfNormalizedImportanceWeights: self });
    assertClose(est.expectedHessianNeg, wantH, 1e-7, 1e-8, `Hessian (${self ? 'SNIS' : 'IS'})`);
    assertClose(est.expectedGradientNeg, wantG, 1e-7, 1e-8, `gradient (${self ? 'SNIS' : 'IS'})`);
  }
});

test('diagonal covariances: the diagonal of A − Σ⁻¹', () => {
  const h = randomHostGmm(1, 3, 2, { diagonal: true });
  const w = g.createGmmWrapper(gmmState(h), { initialStepsize: 1, maxRewardHistoryLength: 2 });
  const est = g.moreEstimate(w, window(w.model, 100, 2), { onlyUseOwnSamples: false, useSelfNormalizedImportanceWeights: true });
  assertClose(est.expectedHessianNeg, bt.sub(bt.diagonal(A), bt.square(w.model.invChols).reshape([3])).reshape([1, 3]), 1e-7, 1e-8, 'diagonal Hessian');
  const wantG = bt.sub(bt.matmul(A, w.model.means.reshape([3, 1])).squeeze(-1), b).reshape([1, 3]);
  assertClose(est.expectedGradientNeg, wantG, 1e-7, 1e-8, 'gradient');
});

test('a component without usable samples (own-sample mode, none drawn) is NaN alone; the others are exact', () => {
  const h = randomHostGmm(2, 3, 3);
  let w = g.createGmmWrapper(gmmState(h), { initialStepsize: 1, maxRewardHistoryLength: 2 });
  w = { ...w, l2Regularizers: bt.zeros([2]) };
  // component 0 draws 100 samples, component 1 none: its weights are 0/0
  const { samples, mapping } = g.sampleFromComponentsNoShuffle(w.model, [100, 0], bt.random.key(4));
  const sel = { samples, mapping, logPdfs: g.logDensity(w.model, samples), targetLnpdfs: logP(samples) };
  const est = g.moreEstimate(w, sel, { onlyUseOwnSamples: true, useSelfNormalizedImportanceWeights: true, dbNumGaussians: 2 });
  const H = est.expectedHessianNeg.toArray() as number[][][];
  assert.ok(H[0]!.flat().every(Number.isFinite), 'component 0 finite');
  assert.ok(H[1]!.flat().some(Number.isNaN), 'component 1 NaN (kept by the updaters)');
});

test.run();
