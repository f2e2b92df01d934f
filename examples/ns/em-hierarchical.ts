/**
 * Seed spread of EM on the hierarchical Gaussian (test/algorithms/em/hierarchical.test.ts: the
 * same model, nsOptions and 8 EM steps, keys 0…N−1), beside the standard error the data predict.
 *
 * Why the answer scatters: the final θ is the optimum of an M-step surrogate built from one
 * E-step's samples, so its error is the surrogate's gradient noise over the curvature of log Z:
 *   Cov(μ̂, τ̂) ≈ H⁻¹ Σ H⁻¹ / ESS,
 * H the Hessian of the exact log Z(μ, τ) at (μ*, τ*) (finite differences), Σ the posterior
 * covariance of the per-sample pathwise gradient ∇_{μ,τ} log L(μ + τ z) (exact Gaussian
 * posterior x_j | y ~ N(m_j, v), Monte Carlo), ESS the E-step's Kish ESS.
 * Usage: npx tsx examples/ns/em-hierarchical.ts [--seeds N] [--c C] [--max M] [--steps S]
 *        [--mu0 μ0 --tau0 τ0]   (the start; default θ = 0, i.e. μ = 0, τ = 1)
 */
import * as bt from '../../src/index.js';
import { HIER_SIGMA, HIER_Y, hierarchical, hierarchicalLogZ, hierarchicalParams } from './em-problems.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const seeds = arg('seeds', 10);
const c = arg('c', 120);
const maxSamples = arg('max', 50000);
const steps = arg('steps', 8);
const mu0 = arg('mu0', 0);
const tau0 = arg('tau0', 1);

const n = HIER_Y.length;
const s2 = HIER_SIGMA * HIER_SIGMA;
const ybar = HIER_Y.reduce((a, b) => a + b) / n;
const vary = HIER_Y.reduce((a, b) => a + (b - ybar) ** 2, 0) / n;
const muStar = ybar;
const tauStar = Math.sqrt(Math.max(0, vary - s2));
const logZStar = hierarchicalLogZ(muStar, tauStar);

/** The per-draw pathwise-gradient covariance Σ (2×2) and the Hessian H of log Z at (μ*, τ*). */
function predicted(): { H: number[][]; Sigma: number[][] } {
  const h = 1e-4;
  const f = hierarchicalLogZ;
  const [m, t] = [muStar, tauStar];
  const H = [
    [(f(m + h, t) - 2 * f(m, t) + f(m - h, t)) / h ** 2, (f(m + h, t + h) - f(m + h, t - h) - f(m - h, t + h) + f(m - h, t - h)) / (4 * h * h)],
    [0, (f(m, t + h) - 2 * f(m, t) + f(m, t - h)) / h ** 2],
  ];
  H[1]![0] = H[0]![1]!;
  // posterior of x_j given y at (μ*, τ*): precision 1/τ² + 1/σ²
  const v = 1 / (1 / (t * t) + 1 / s2);
  const mj = HIER_Y.map((y) => v * (m / (t * t) + y / s2));
  let rng = 12345;
  const unif = () => ((rng = (rng * 1103515245 + 12345) % 2147483648) + 0.5) / 2147483648;
  const gauss = () => Math.sqrt(-2 * Math.log(unif())) * Math.cos(2 * Math.PI * unif());
  const N = 400000;
  let [a, b, aa, bb, ab] = [0, 0, 0, 0, 0];
  for (let i = 0; i < N; i++) {
    let gm = 0;
    let gt = 0;
    for (let j = 0; j < n; j++) {
      const x = mj[j]! + Math.sqrt(v) * gauss();
      const z = (x - m) / t;
      gm += (HIER_Y[j]! - x) / s2;
      gt += ((HIER_Y[j]! - x) * z) / s2;
    }
    a += gm;
    b += gt;
    aa += gm * gm;
    bb += gt * gt;
    ab += gm * gt;
  }
  const [ma, mb] = [a / N, b / N];
  return { H, Sigma: [[aa / N - ma * ma, ab / N - ma * mb], [ab / N - ma * mb, bb / N - mb * mb]] };
}

const inv2 = (M: number[][]) => {
  const d = M[0]![0]! * M[1]![1]! - M[0]![1]! * M[1]![0]!;
  return [[M[1]![1]! / d, -M[0]![1]! / d], [-M[1]![0]! / d, M[0]![0]! / d]];
};
const mul2 = (A: number[][], B: number[][]) => [0, 1].map((i) => [0, 1].map((j) => A[i]![0]! * B[0]![j]! + A[i]![1]! * B[1]![j]!));

const { H, Sigma } = predicted();
const Hi = inv2(H);
const covPerESS = mul2(mul2(Hi, Sigma), Hi);
console.log(`targets: μ* = ȳ = ${muStar.toFixed(4)}, τ* = ${tauStar.toFixed(4)}, log Z* = ${logZStar.toFixed(4)}`);
console.log(`H = [[${H[0]!.map((x) => x.toFixed(3))}], [${H[1]!.map((x) => x.toFixed(3))}]], Σ = [[${Sigma[0]!.map((x) => x.toFixed(3))}], [${Sigma[1]!.map((x) => x.toFixed(3))}]]`);
console.log(`predicted sd: μ̂ ${Math.sqrt(covPerESS[0]![0]!).toFixed(3)}/√ESS, τ̂ ${Math.sqrt(covPerESS[1]![1]!).toFixed(3)}/√ESS`);
console.log(`config: c = ${c}, maxSamples = ${maxSamples}, ${steps} EM steps from μ = ${mu0}, τ = ${tau0}, newton-cg, logZFtol = logZAtol = 0; keys 0…${seeds - 1}`);

const model = hierarchical();
const rows: { mu: number; tau: number; logZ: number; uncert: number; ess: number; s: number }[] = [];
for (let k = 0; k < seeds; k++) {
  const em = new bt.em.EvidenceMaximisation({ model, nsOptions: { maxSamples, numLivePoints: c }, logZFtol: 0, logZAtol: 0, key: bt.random.key(k) });
  const t0 = performance.now();
  const p0 = hierarchicalParams(mu0, tau0);
  const { results, params, history } = await em.train(steps, p0);
  bt.dispose(p0);
  const s = (performance.now() - t0) / 1000;
  const row = { mu: results.parametrisedSamples.mu!.dataSync()[0]!, tau: results.parametrisedSamples.tau!.dataSync()[0]!, logZ: results.logZMean, uncert: results.logZUncert, ess: results.ESS, s };
  rows.push(row);
  console.log(
    `key ${k}: μ ${row.mu.toFixed(4)} (${(row.mu - muStar >= 0 ? '+' : '') + (row.mu - muStar).toFixed(4)}), τ ${row.tau.toFixed(4)} (${(row.tau - tauStar >= 0 ? '+' : '') + (row.tau - tauStar).toFixed(4)}), ` +
      `log Z ${row.logZ.toFixed(4)} ± ${row.uncert.toFixed(4)}, ESS ${row.ess.toFixed(0)}, ${history.length} steps, ${s.toFixed(1)} s`,
  );
  bt.dispose([results, params]);
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / (xs.length - 1));
const rms = (xs: number[]) => Math.sqrt(mean(xs.map((x) => x * x)));
const dm = rows.map((r) => r.mu - muStar);
const dt = rows.map((r) => r.tau - tauStar);
const ess = mean(rows.map((r) => r.ess));
console.log(`\nμ − μ*: mean ${mean(dm).toFixed(4)}, sd ${sd(dm).toFixed(4)}, rms ${rms(dm).toFixed(4)}, max |.| ${Math.max(...dm.map(Math.abs)).toFixed(4)}; predicted sd at mean ESS ${ess.toFixed(0)}: ${Math.sqrt(covPerESS[0]![0]! / ess).toFixed(4)}`);
console.log(`τ − τ*: mean ${mean(dt).toFixed(4)}, sd ${sd(dt).toFixed(4)}, rms ${rms(dt).toFixed(4)}, max |.| ${Math.max(...dt.map(Math.abs)).toFixed(4)}; predicted sd: ${Math.sqrt(covPerESS[1]![1]! / ess).toFixed(4)}`);
const within = rows.filter((r) => Math.abs(r.logZ - logZStar) < 3 * r.uncert).length;
console.log(`log Z within 3σ of log Z*: ${within}/${rows.length}; mean ${mean(rows.map((r) => r.logZ)).toFixed(4)} vs ${logZStar.toFixed(4)}; ${mean(rows.map((r) => r.s)).toFixed(1)} s per run`);
