/**
 * Acceptance 4: PMC on the Gaussian mean-and-variance problem (10 points, θ = (μ, Σ)) with the
 * exact compressor (x̄, s², the MLE) and the Fisher distance at θ_fid = (0, 1), F = diag(10, 5).
 * The exact posterior under the flat box prior, p ∝ Σ^(−N/2) exp(−N(s² + (x̄ − μ)²)/2Σ), is
 * integrated on a fine grid; both weighted marginals are KS-tested at the 1 % value 1.628/√ESS
 * (the ABC bias at the final ε is then below the Monte Carlo resolution, or the test fails).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { PopulationMonteCarlo, uniformPrior } from '../../../src/algorithms/imnn/lfi/index.js';
import { gridCdf, weightedKS } from './ks.js';

const N = 10;
const lo = [-2, 0.2];
const hi = [2, 4];
const prior = uniformPrior(lo, hi);
const simulator = (key: bt.Tensor, th: bt.Tensor) => {
  const n = th.shape[0]!;
  const mu = bt.slice(th, [0, 0], [n, 1]);
  const sd = bt.sqrt(bt.slice(th, [0, 1], [n, 1]));
  return bt.add(mu, bt.mul(sd, bt.random.normal(key, [n, N], { dtype: 'float64' })));
};
const compressor = (d: bt.Tensor) => {
  const m = bt.mean(d, { axis: 1, keepdims: true });
  const v = bt.mean(bt.square(bt.sub(d, m)), { axis: 1, keepdims: true });
  return bt.concat([m, v], 1);
};

function marginalCdfs(xbar: number, s2: number): ((x: number) => number)[] {
  const G = 800;
  const dm = (hi[0]! - lo[0]!) / G;
  const dv = (hi[1]! - lo[1]!) / G;
  const pm = new Float64Array(G);
  const pv = new Float64Array(G);
  for (let a = 0; a < G; a++) {
    const mu = lo[0]! + (a + 0.5) * dm;
    for (let b = 0; b < G; b++) {
      const S = lo[1]! + (b + 0.5) * dv;
      const p = Math.exp((-N / 2) * Math.log(S) - (N * (s2 + (xbar - mu) ** 2)) / (2 * S));
      pm[a]! += p;
      pv[b]! += p;
    }
  }
  const cdf = (p: Float64Array, l: number, d: number) => {
    const c = new Float64Array(G + 1);
    for (let i = 0; i < G; i++) c[i + 1] = c[i]! + p[i]!;
    return gridCdf(c, l, d);
  };
  return [cdf(pm, lo[0]!, dm), cdf(pv, lo[1]!, dv)];
}

test('PMC recovers the analytic mean-and-variance posterior (KS on both marginals)', () => {
  const target = bt.add(0.3, bt.mul(Math.sqrt(1.2), bt.random.normal(bt.random.key(11), [1, N], { dtype: 'float64' })));
  const [xbar, s2] = Array.from(compressor(target).dataSync(), Number) as [number, number];
  const F = bt.tensor([[10, 0], [0, 5]], { dtype: 'float64' });
  const pmc = new PopulationMonteCarlo(target, prior, simulator, compressor, 50, F);
  const t0 = performance.now();
  const r = pmc.run(bt.random.key(5), { nPoints: 1000, nInitialPoints: 5000, percentile: 50, acceptanceRatio: 0.02, batchSize: 4000 });
  const cdfs = marginalCdfs(xbar, s2);
  const crit = 1.628 / Math.sqrt(r.ess);
  const D = [0, 1].map((k) => weightedKS(Float64Array.from({ length: 1000 }, (_, i) => r.theta[2 * i + k]!), r.weights, cdfs[k]!));
  console.log(`  PMC (μ, Σ): ${r.history.length} generations, ε ${r.epsilon.toFixed(4)}, ${r.nDraws} sims, ESS ${r.ess.toFixed(0)}, KS D ${D.map((d) => d.toFixed(4))} < ${crit.toFixed(4)}, ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  for (const d of D) assert.ok(d < crit, `KS D ${d} ≥ ${crit}`);
});

test.run();
