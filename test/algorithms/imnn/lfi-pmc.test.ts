/**
 * PopulationMonteCarlo recovers the analytic posterior of a conjugate Gaussian problem with an
 * exact compressor (the sufficient statistic, which is the MLE). With a flat box prior and
 * ρ = √F·|x̄_sim − x̄_obs|, the ABC posterior at tolerance ε is known in closed form for any ε:
 * p_ε(μ) ∝ Φ(√N(x̄ + h − μ)) − Φ(√N(x̄ − h − μ)), h = ε/√F; as ε → 0 it is N(x̄, 1/N).
 * The weighted marginal is KS-tested against it with the 1 % critical value 1.628/√ESS.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { PopulationMonteCarlo, ApproximateBayesianComputation, uniformPrior } from '../../../src/algorithms/imnn/lfi/index.js';
import { gridCdf, weightedKS } from './ks.js';

const N = 10;
const prior = uniformPrior([-3], [3]);
/** d = μ + N(0, 1)^N for every row of θ, in one batched call. */
const simulator = (key: bt.Tensor, theta: bt.Tensor) => bt.add(theta, bt.random.normal(key, [theta.shape[0]!, N], { dtype: 'float64' }));
/** x̄: the MLE of μ (and sufficient). */
const compressor = (d: bt.Tensor) => bt.mean(d, { axis: 1, keepdims: true });

const Phi = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2));
function erf(x: number): number {
  // Abramowitz–Stegun 7.1.26 is 1.5e-7 accurate: far below the KS thresholds here
  const s = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}

/** CDF of p_ε on [-3, 3] by fine quadrature. */
function abcPosteriorCdf(xbar: number, h: number): (x: number) => number {
  const m = 20000;
  const lo = -3;
  const dx = 6 / m;
  const c = new Float64Array(m + 1);
  const f = (mu: number) => Phi(Math.sqrt(N) * (xbar + h - mu)) - Phi(Math.sqrt(N) * (xbar - h - mu));
  for (let i = 1; i <= m; i++) c[i] = c[i - 1]! + 0.5 * (f(lo + (i - 1) * dx) + f(lo + i * dx)) * dx;
  return gridCdf(c, lo, dx);
}

const target = bt.add(bt.full([1, N], 0.4, 'float64'), bt.random.normal(bt.random.key(7), [1, N], { dtype: 'float64' }));
const xbar = compressor(target).item();
const F = bt.tensor([[N]], { dtype: 'float64' });

test('PMC: the final population matches the exact ABC posterior (weighted KS, threshold from the ESS)', () => {
  const pmc = new PopulationMonteCarlo(target, prior, simulator, compressor, 60, F);
  const t0 = performance.now();
  const r = pmc.run(bt.random.key(1), { nPoints: 1000, nInitialPoints: 4000, percentile: 50, acceptanceRatio: 0.08 });
  const secs = (performance.now() - t0) / 1000;
  const h = r.epsilon / Math.sqrt(N);
  const D = weightedKS(r.theta, r.weights, abcPosteriorCdf(xbar, h));
  const crit = 1.628 / Math.sqrt(r.ess);
  console.log(`  PMC: ${r.history.length} generations, ε ${r.epsilon.toFixed(4)}, ${r.nDraws} sims, ESS ${r.ess.toFixed(0)}, KS D ${D.toFixed(4)} < ${crit.toFixed(4)}, ${secs.toFixed(2)} s`);
  assert.ok(r.history.at(-1)!.acceptanceRatio < 0.08, 'stopped by the acceptance-ratio criterion');
  assert.ok(r.epsilon < 0.5, `ε shrank: ${r.epsilon}`);
  assert.ok(D < crit, `KS D ${D} ≥ ${crit}`);
  for (const v of r.distances) assert.ok(v < r.epsilon);
  // same key → same population
  const r2 = pmc.run(bt.random.key(1), { nPoints: 1000, nInitialPoints: 4000, percentile: 50, acceptanceRatio: 0.08 });
  assert.equal(Array.from(r2.theta), Array.from(r.theta));
  // the marginal on the grid integrates to 1 and its mean is the weighted mean
  const m = r.marginals;
  const dx = 6 / 60;
  assert.ok(Math.abs(m.oneD[0]!.reduce((a, b) => a + b, 0) * dx - 1) < 1e-12);
});

test('PMC: an uncentred covariance or a constant kernel would fail; the weights here are the mixture ones', () => {
  // with a flat prior, weights are 1/Σ_j w_j K(θ_i|θ_j): particles in the tails (low mixture density) weigh more
  const pmc = new PopulationMonteCarlo(target, prior, simulator, compressor, 60, F);
  const key = bt.random.key(2);
  const before = bt.memory().numTensors;
  const r = pmc.run(key, { nPoints: 500, nInitialPoints: 2000, percentile: 50, maxIterations: 2, acceptanceRatio: 0.01 });
  // run returns host arrays: every key, draw and summary it made is freed (it leaked them before)
  assert.is(bt.memory().numTensors, before, 'tensors left by PopulationMonteCarlo.run');
  const w = r.weights;
  const spread = Math.max(...w) / Math.min(...w);
  assert.ok(spread > 1.05, `weights not constant (max/min ${spread})`);
  assert.ok(Math.abs(w.reduce((a, b) => a + b, 0) - 1) < 1e-12);
});

test('ABC with F: accepts exactly the draws with √F|x̄ − x̄_t| < ε, and iterates until minAccepted', () => {
  const abc = new ApproximateBayesianComputation(target, prior, simulator, compressor, 30, F);
  const r = abc.run(0.3, bt.random.key(3), { nSamples: 500, minAccepted: 150, maxIterations: 10 });
  const t = r.targets[0]!;
  for (let i = 0; i < r.nDraws; i++) {
    const rho = Math.sqrt(N) * Math.abs(r.summaries[i]! - xbar);
    assert.ok(Math.abs(rho - r.distances[0]![i]!) < 1e-12);
  }
  assert.is(t.nAccepted + t.rejected.length, r.nDraws);
  assert.ok(t.nAccepted >= 150 || r.iterations === 10);
  assert.is(r.nDraws, 500 * r.iterations);
  for (const v of t.acceptedDistances) assert.ok(v < 0.3);
  for (const v of t.rejectedDistances) assert.ok(v >= 0.3);
  // stops at the first iteration reaching minAccepted: one fewer iteration would not have had enough
  const before = r.distances[0]!.subarray(0, 500 * (r.iterations - 1)).filter((v) => v < 0.3).length;
  assert.ok(before < 150);
  // acceptance probability per draw ≈ P(|x̄_sim − x̄_t| < h) under the prior ≈ 2h/6 (x̄_t far from the edges)
  const h = 0.3 / Math.sqrt(N);
  const pAcc = (2 * h) / 6;
  const rate = t.nAccepted / r.nDraws;
  const se = Math.sqrt((pAcc * (1 - pAcc)) / r.nDraws);
  assert.ok(Math.abs(rate - pAcc) < 4 * se, `acceptance ${rate} vs ${pAcc} ± ${se}`);
});

test.run();
