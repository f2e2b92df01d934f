/**
 * The hierarchical Gaussian with an exact answer: x_j ~ N(μ, τ²), y_j ~ N(x_j, σ²), μ and τ
 * parametrised; Z = Π_j N(y_j | μ, τ² + σ²) is maximal at μ* = ȳ, τ*² = max(0, var(y) − σ²).
 *
 * The tolerance, derived: the final params are the optimum of one M-step's surrogate
 * log Ẑ(μ, τ) over one E-step's samples, so their error is the surrogate's gradient noise over the
 * curvature of log Z: Var(μ̂) ≈ Σ_μμ / (H_μμ² · ESS), likewise τ̂ (H is diagonal at the optimum,
 * Σ's off-diagonal is ≈ 1 % of the diagonal). With s² = τ*² + σ², v = τ*²σ²/s² (the posterior
 * variance of x_j), m_j its mean, A_j = m_j − y_j, B_j = m_j − μ*:
 *   H_μμ = −n/s², H_ττ = −2nτ*²/s⁴ (second derivatives of log Z);
 *   Σ_μμ = n·v/σ⁴, Σ_ττ = Σ_j (2v² + (A_j + B_j)²·v)/(σ⁴τ*²)  (posterior variances of the
 *   pathwise gradients Σ_j (y_j − x_j)/σ² and Σ_j (y_j − x_j)·z_j/σ², x = μ + τz).
 * Here sd(μ̂) = 1.24/√ESS, sd(τ̂) = 0.71/√ESS: 0.085 and 0.048 at the E-step's ESS ≈ 210 (c = 120).
 * examples/ns/em-hierarchical.ts checks this over seeds (Σ by Monte Carlo: 13.16, 11.41 vs the
 * closed forms; 2026-12-05): from θ = 0, keys 0–9: sd(μ̂ − μ*) 0.072, sd(τ̂ − τ*) 0.039; from
 * (μ, τ) = (−1.5, 2), 9 keys that ran all 8 steps: 0.090 and 0.026, largest |μ̂ − μ*| 0.165 —
 * the prediction holds (≤ it). The test asserts 4 predicted sd at its own E-step's ESS, from the
 * far start (−1.5, 2) so that the start itself is well outside the band.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';

const { Prior, Model } = bt.ns;
const y = [-1.2, 0.5, 2.1, 0.3];
const n = y.length;
const sigma = 0.5;
const ybar = y.reduce((a, b) => a + b) / n;
const vary = y.reduce((a, b) => a + (b - ybar) ** 2, 0) / n;
const tauStar = Math.sqrt(Math.max(0, vary - sigma * sigma));
const logZStar = y.reduce((a, yj) => a - (0.5 * (yj - ybar) ** 2) / vary - 0.5 * Math.log(2 * Math.PI * vary), 0);

/** The predicted sd of μ̂ and τ̂ times √ESS (see the header). */
function sdTimesRootESS(): [number, number] {
  const s2 = tauStar ** 2 + sigma ** 2;
  const v = (tauStar ** 2 * sigma ** 2) / s2;
  const m = y.map((yj) => v * (ybar / tauStar ** 2 + yj / sigma ** 2));
  const Hmu = -n / s2;
  const Htau = (-2 * n * tauStar ** 2) / s2 ** 2;
  const Smu = (n * v) / sigma ** 4;
  const Stau = m.reduce((a, mj, j) => a + (2 * v * v + (mj - y[j]! + mj - ybar) ** 2 * v) / (sigma ** 4 * tauStar ** 2), 0);
  return [Math.sqrt(Smu) / Math.abs(Hmu), Math.sqrt(Stau) / Math.abs(Htau)];
}

/** θ whose parametrised value is the quantile at q (the inverse of quickUnit). */
const thetaOf = (q: number) => (2 * q - 1) / (1 - Math.abs(2 * q - 1));
const Phi = (z: number) => 0.5 * (1 + (bt.erf(bt.tensor(z * Math.SQRT1_2, { dtype: 'float64' })).item() as number));

test('hierarchical Gaussian: newton-cg EM from (μ, τ) = (−1.5, 2) reaches μ* = ȳ and τ* = √(var y − σ²) within 4 predicted sd, log Z* within 3σ', async () => {
  const [kMu, kTau] = sdTimesRootESS();
  assert.ok(Math.abs(kMu - 1.24) < 0.01 && Math.abs(kTau - 0.71) < 0.01, `closed forms ${kMu}, ${kTau}`);
  const yt = bt.tensor(y, { dtype: 'float64' });
  const model = new Model({
    priorModel: function* () {
      const mu = yield new Prior({ dist: 'Normal', loc: 0, scale: 2 }, 'mu').parametrised();
      const tau = yield new Prior({ dist: 'LogNormal', loc: 0, scale: 1 }, 'tau').parametrised();
      return yield new Prior({ dist: 'Normal', loc: bt.mul(mu, bt.ones([n], 'float64')), scale: tau }, 'x');
    },
    logLikelihood: (x: bt.Tensor) => bt.sum(bt.sub(bt.mul(-0.5, bt.square(bt.div(bt.sub(x, yt), sigma))), Math.log(sigma * Math.sqrt(2 * Math.PI)))),
  });
  const [mu0, tau0] = [-1.5, 2];
  const p0 = { mu_param: bt.tensor(thetaOf(Phi(mu0 / 2)), { dtype: 'float64' }), tau_param: bt.tensor(thetaOf(Phi(Math.log(tau0))), { dtype: 'float64' }) };
  // a fixed 8 steps: logZAtol 0 too (two E-steps 1e-4 apart by chance would stop the run)
  const em = new bt.em.EvidenceMaximisation({ model, nsOptions: { maxSamples: 50000, numLivePoints: 120 }, logZFtol: 0, logZAtol: 0 });
  const { results, history } = await em.train(8, p0);
  assert.is(history.length, 8);
  const mu = results.parametrisedSamples.mu!.dataSync()[0]!;
  const tau = results.parametrisedSamples.tau!.dataSync()[0]!;
  const tolMu = (4 * kMu) / Math.sqrt(results.ESS);
  const tolTau = (4 * kTau) / Math.sqrt(results.ESS);
  // the start is outside the bands (so reaching them is a move the EM made)
  assert.ok(Math.abs(mu0 - ybar) > 3 * tolMu && Math.abs(tau0 - tauStar) > 3 * tolTau, `tolerances ${tolMu}, ${tolTau}`);
  assert.ok(Math.abs(mu - ybar) < tolMu, `μ ${mu} vs ${ybar} (tolerance ${tolMu}, ESS ${results.ESS})`);
  assert.ok(Math.abs(tau - tauStar) < tolTau, `τ ${tau} vs ${tauStar} (tolerance ${tolTau})`);
  assert.ok(Math.abs(results.logZMean - logZStar) < 3 * results.logZUncert, `log Z ${results.logZMean} ± ${results.logZUncert} vs ${logZStar}`);
});

test.run();
