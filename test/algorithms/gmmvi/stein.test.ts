/**
 * bt.gmmvi.steinEstimate: on a Gaussian target N(m, S) with a one-component model q = N(μ, Σ) and
 * samples from q (uniform weights), the estimate is an exact function of the sample moments (host
 * formula below), and converges to −E[∇²] = S⁻¹ − Σ⁻¹, −E[∇] = S⁻¹(μ − m) within Monte Carlo
 * error; standard IS = SNIS under uniform weights; own-sample mode = the estimator on each
 * component's own samples alone; diagonal covariances = the diagonal of the full estimate.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { assertClose } from '../../helpers.js';
import { gmmState, hostCov, randomHostGmm } from './fixtures.js';
import { setSteinBlockElements } from '../../../src/algorithms/gmmvi/stein.js';

const g = bt.gmmvi;
const SNIS = { onlyUseOwnSamples: false, useSelfNormalizedImportanceWeights: true };

/** Selection for samples x drawn from `model` (background = the model's own density), target N(m, S). */
function selection(model: bt.gmmvi.GmmState, x: bt.Tensor, m: bt.Tensor, Sinv: bt.Tensor, mapping?: bt.Tensor) {
  const diff = bt.sub(x, m);
  return {
    samples: x,
    mapping: mapping ?? bt.zeros([x.shape[0]!], 'int32'),
    logPdfs: g.logDensity(model, x),
    targetGrads: bt.neg(bt.matmul(diff, Sinv)),
  };
}

test('Gaussian target, one component, uniform weights: the exact function of the sample moments', () => {
  const d = 3;
  const h = randomHostGmm(1, d, 1, { spread: 1 });
  const model = gmmState(h);
  const S = bt.tensor([[2, 0.3, 0], [0.3, 1, 0.2], [0, 0.2, 0.5]]);
  const Sinv = bt.linalg.inv(S);
  const m = bt.tensor([1, -1, 0.5]);
  const x = g.sampleFromComponentsNoShuffle(model, [500], bt.random.key(1)).samples;
  const est = g.steinEstimate(model, selection(model, x, m, Sinv), SNIS);
  // g_i = A(x_i − μ) + b with A = Σ⁻¹ − S⁻¹, b = −S⁻¹(μ − m); Ĥ = sym(Σ⁻¹ E[(x−μ) gᵀ])
  const mu = bt.tensor(h.mu[0]!);
  const Lam = bt.linalg.inv(bt.tensor(hostCov(h.L[0]!)));
  const A = bt.sub(Lam, Sinv);
  const b = bt.neg(bt.matmul(Sinv, bt.sub(mu, m)));
  const dx = bt.sub(x, mu);
  const gs = bt.add(bt.matmul(dx, A), b); // A symmetric
  const raw = bt.matmul(Lam, bt.matmul(dx.mT, gs)).div(500);
  const H = bt.mul(bt.add(raw, raw.mT), 0.5);
  assertClose(est.expectedGradientNeg, bt.neg(bt.mean(gs, { axis: 0 })).reshape([1, d]), 1e-10, 1e-12, 'ĝ');
  assertClose(est.expectedHessianNeg, bt.neg(H).reshape([1, d, d]), 1e-10, 1e-12, 'Ĥ');
  // standard IS with weights all 1: the same numbers
  const std = g.steinEstimate(model, selection(model, x, m, Sinv), { ...SNIS, useSelfNormalizedImportanceWeights: false });
  assertClose(std.expectedGradientNeg, est.expectedGradientNeg, 1e-10, 1e-12, 'standard IS gradient');
  assertClose(std.expectedHessianNeg, est.expectedHessianNeg, 1e-10, 1e-12, 'standard IS Hessian');
});

test('Gaussian target: −E[∇²] → S⁻¹ − Σ⁻¹ and −E[∇] → S⁻¹(μ − m) within Monte Carlo error', () => {
  const d = 2;
  const h = randomHostGmm(1, d, 2, { spread: 1 });
  const model = gmmState(h);
  const S = bt.tensor([[1.5, 0.4], [0.4, 0.8]]);
  const Sinv = bt.linalg.inv(S);
  const m = bt.tensor([0.5, -0.5]);
  const n = 40000;
  const x = g.sampleFromComponentsNoShuffle(model, [n], bt.random.key(2)).samples;
  const est = g.steinEstimate(model, selection(model, x, m, Sinv), SNIS);
  const mu = bt.tensor(h.mu[0]!);
  const Lam = bt.linalg.inv(bt.tensor(hostCov(h.L[0]!)));
  const wantG = bt.matmul(Sinv, bt.sub(mu, m));
  const wantH = bt.sub(Sinv, Lam);
  // per-sample terms, their standard deviations → 4 standard errors per entry
  const dx = bt.sub(x, mu);
  const gs = bt.add(bt.matmul(dx, bt.sub(Lam, Sinv)), bt.neg(wantG));
  const p = bt.matmul(dx, Lam);
  const gTerms = gs.toArray() as number[][];
  const pT = p.toArray() as number[][];
  const sd = (f: (i: number) => number) => {
    let s = 0, s2 = 0;
    for (let i = 0; i < n; i++) { const v = f(i); s += v; s2 += v * v; }
    return Math.sqrt(s2 / n - (s / n) ** 2);
  };
  const gotG = est.expectedGradientNeg.toArray() as number[][];
  const gotH = est.expectedHessianNeg.toArray() as number[][][];
  const wg = Array.from(wantG.dataSync());
  const wh = wantH.toArray() as number[][];
  for (let a = 0; a < d; a++) {
    const tolG = 4 * sd((i) => gTerms[i]![a]!) / Math.sqrt(n);
    assert.ok(Math.abs(gotG[0]![a]! - wg[a]!) <= tolG, `ĝ[${a}] ${gotG[0]![a]} vs ${wg[a]} (4 s.e. ${tolG})`);
    for (let c = 0; c < d; c++) {
      const tolH = 4 * sd((i) => 0.5 * (pT[i]![a]! * gTerms[i]![c]! + pT[i]![c]! * gTerms[i]![a]!)) / Math.sqrt(n);
      assert.ok(Math.abs(gotH[0]![a]![c]! - wh[a]![c]!) <= tolH, `Ĥ[${a},${c}] ${gotH[0]![a]![c]} vs ${wh[a]![c]} (4 s.e. ${tolH})`);
    }
  }
});

test('own-sample mode = the estimator on each component\'s own samples alone; other modes mix all samples', () => {
  const d = 2;
  const h = randomHostGmm(2, d, 3);
  const model = gmmState(h);
  const Sinv = bt.eye(d);
  const m = bt.zeros([d]);
  const { samples: x, mapping } = g.sampleFromComponentsNoShuffle(model, [30, 20], bt.random.key(3));
  // DB indices: this batch's Gaussians are 4, 5 of 6 (two earlier batches)
  const sel = selection(model, x, m, Sinv, bt.add(mapping, 4));
  for (const selfNormalized of [true, false]) {
    const own = g.steinEstimate(model, sel, { onlyUseOwnSamples: true, useSelfNormalizedImportanceWeights: selfNormalized, dbNumGaussians: 6 });
    const byMax = g.steinEstimate(model, sel, { onlyUseOwnSamples: true, useSelfNormalizedImportanceWeights: selfNormalized });
    assertClose(byMax.expectedHessianNeg, own.expectedHessianNeg, 0, 0, 'offset from max(mapping) when every component drew');
    for (const [o, start, count] of [[0, 0, 30], [1, 30, 20]] as const) {
      const xo = x.slice([start, 0], [count, d]);
      const single = bt.gmmvi.createGmm({ means: model.means.slice([o, 0], [1, d]), chols: model.chols.slice([o, 0, 0], [1, d, d]) });
      // alone: its own density as background → uniform weights; the target gradient is shifted so that
      // g = ∇ log p̃ − ∇ log q_mixture as in the mixed run (the single model subtracts its own ∇ log q)
      const { grads: qGrad } = g.logDensityAndGrad(model, xo);
      const selO = { samples: xo, mapping: bt.zeros([count], 'int32'), logPdfs: g.logDensity(single, xo), targetGrads: bt.sub(bt.neg(xo), qGrad).add(g.logDensityAndGrad(single, xo).grads) };
      const alone = g.steinEstimate(single, selO, { onlyUseOwnSamples: false, useSelfNormalizedImportanceWeights: selfNormalized });
      assertClose(own.expectedGradientNeg.slice([o, 0], [1, d]), alone.expectedGradientNeg, 1e-10, 1e-12, `component ${o} gradient (${selfNormalized ? 'SNIS' : 'IS'})`);
      assertClose(own.expectedHessianNeg.slice([o, 0, 0], [1, d, d]), alone.expectedHessianNeg, 1e-10, 1e-12, `component ${o} Hessian (${selfNormalized ? 'SNIS' : 'IS'})`);
    }
  }
});

test('diagonal covariances: the diagonal of the full estimate on the same model; shapes [K, d]', () => {
  const d = 3;
  const h = randomHostGmm(2, d, 4, { diagonal: true });
  const diag = gmmState(h);
  const fullModel = gmmState({ ...h, diagonal: false });
  const x = g.sample(diag, 200, bt.random.key(4)).samples;
  const sel = { samples: x, mapping: bt.zeros([200], 'int32'), logPdfs: g.logDensity(diag, x), targetGrads: bt.neg(x) };
  for (const self of [true, false]) {
    const o = { onlyUseOwnSamples: false, useSelfNormalizedImportanceWeights: self };
    const a = g.steinEstimate(diag, sel, o);
    const b = g.steinEstimate(fullModel, sel, o);
    assert.equal([...a.expectedHessianNeg.shape], [2, d]);
    assertClose(a.expectedGradientNeg, b.expectedGradientNeg, 1e-10, 1e-12, 'gradient');
    assertClose(a.expectedHessianNeg, bt.diagonal(b.expectedHessianNeg), 1e-10, 1e-12, 'Hessian diagonal');
  }
});

test('blocks of rows (a large window) give the one-pass estimate to rounding: full and diagonal, SNIS, standard IS and own samples', () => {
  const K = 5, d = 4, n = 900;
  for (const diagonal of [false, true]) {
    const model = gmmState(randomHostGmm(K, d, diagonal ? 41 : 42, { diagonal }));
    bt.tidy(() => {
      const x = bt.mul(bt.random.normal(bt.random.key(7), [n, d]), 2);
      const mapping = bt.tensor(Int32Array.from({ length: n }, (_, i) => (i * 7) % K), { dtype: 'int32' });
      const sel = { samples: x, mapping, logPdfs: bt.add(g.logDensity(model, x), bt.mul(bt.random.uniform(bt.random.key(8), [n]), 0.3)), targetGrads: bt.neg(bt.mul(x, 0.7)) };
      for (const opts of [SNIS, { onlyUseOwnSamples: false, useSelfNormalizedImportanceWeights: false }, { onlyUseOwnSamples: true, useSelfNormalizedImportanceWeights: true, dbNumGaussians: K }]) {
        const whole = g.steinEstimate(model, sel, opts);
        const old = setSteinBlockElements(K * d * 128); // blocks of 128 rows, the last one 4
        let blocked: bt.gmmvi.NgEstimate;
        try {
          blocked = g.steinEstimate(model, sel, opts);
        } finally {
          setSteinBlockElements(old);
        }
        const what = `${diagonal ? 'diagonal' : 'full'} ${JSON.stringify(opts)}`;
        assertClose(blocked.expectedGradientNeg, whole.expectedGradientNeg, 1e-12, 1e-12, `${what}: gradient`);
        assertClose(blocked.expectedHessianNeg, whole.expectedHessianNeg, 1e-12, 1e-12, `${what}: Hessian`);
        assert.equal(blocked.expectedHessianNeg.shape, whole.expectedHessianNeg.shape);
      }
    });
  }
});

test('bad input: ConfigError for missing flags, ShapeError for a window of the wrong shape', () => {
  const model = gmmState(randomHostGmm(1, 2, 5));
  const x = bt.zeros([4, 2]);
  const sel = { samples: x, mapping: bt.zeros([4], 'int32'), logPdfs: bt.zeros([4]), targetGrads: bt.zeros([4, 2]) };
  assert.throws(() => g.steinEstimate(model, sel, { onlyUseOwnSamples: false } as never), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => g.steinEstimate(model, { ...sel, targetGrads: bt.zeros([4, 3]) }, SNIS), (e: unknown) => e instanceof bt.ShapeError && /targetGrads must be \[4, 2\]/.test((e as Error).message));
  assert.throws(() => g.steinEstimate(model, { ...sel, samples: bt.zeros([4, 3]) }, SNIS), (e: unknown) => e instanceof bt.ShapeError);
});

test.run();
