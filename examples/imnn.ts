/**
 * Demo section: an IMNN (bt.imnn.SimulatorIMNN) on the Gaussian mean-and-variance problem
 * (10 points d_i = θ0 + √θ1 z_i, θ_fid = (0, 1), analytic F = diag(10, 5), det F = 50), at the
 * test size of test/algorithms/imnn/gaussian.test.ts (nS = nD = 300, 10-32-32-2 LeakyReLU, Adam
 * 1e-2) and a shorter fit; then the Gaussian approximation to the posterior of one data set from
 * the IMNN's estimate and F⁻¹ (bt.imnn.lfi.GaussianApproximation), against the exact posterior of
 * (θ0, θ1) under the same flat prior. Plots: imnn-history.svg (det F per iteration against 50),
 * imnn-marginals.svg (the two 1-D marginals).
 *
 *   npx tsx examples/imnn.ts [--out DIR]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as bt from '../src/index.js';
import { Plot } from './svg.js';
import { type ResultRow, printRows } from './lib/rows.js';

const ITERATIONS = 500;
const sim = (k: bt.Tensor, θ: bt.Tensor) => bt.random.normal(k, [10]).mul(θ.slice([1], [1]).sqrt()).add(θ.slice([0], [1]));

/** Runs the section, writes imnn-history.svg and imnn-marginals.svg into `out`, returns its result rows. */
export async function runImnnDemo(out: string): Promise<ResultRow[]> {
  const t0 = performance.now();
  // the keys are held here and freed at the end (fit is async: no tidy scope around it)
  const keys = [0, 1, 11].map((k) => bt.random.key(k));
  const opts = {
    nS: 300, nD: 300, nParams: 2, nSummaries: 2, inputShape: [10], θFid: [0, 1], simulator: sim,
    model: bt.nn.mlp({ sizes: [10, 32, 32, 2], activation: 'leakyRelu' }), optimiser: bt.optim.adam({ learningRate: 1e-2 }), keyOrState: keys[0]!,
  };
  const m = new bt.imnn.SimulatorIMNN(opts);
  await m.fit(10, 0.1, { rng: keys[1]!, maxIterations: ITERATIONS, patience: 1e5, best: false });
  // det F of the final weights on 5000 fresh simulations (≈ 3 % sampling error)
  const big = new bt.imnn.SimulatorIMNN({ ...opts, nS: 5000, nD: 5000, keyOrState: m.state });
  big.setFStatistics({ key: keys[2]! });
  const detF = bt.tidy(() => bt.linalg.det(big.F!).item());
  console.log(`  SimulatorIMNN: ${ITERATIONS} iterations, last training det F ${m.history.detF.at(-1)!.toFixed(2)}; det F on 5000 fresh simulations ${detF.toFixed(2)} (analytic 50)`);

  const hist = new Plot({ title: 'IMNN on the Gaussian problem: det F per iteration (nS = 300)', x: { min: 0, max: ITERATIONS }, y: { min: 0.01, max: 100 }, yLog: true, xLabel: 'iteration', yLabel: 'det F', legend: 'below' });
  hist.line(m.history.detF.map((v, i) => [i, Math.max(v, 0.01)] as [number, number]), { color: '#1f77b4', width: 1.5, label: 'training det F (300 fresh simulations an iteration)' });
  hist.line([[0, 50], [ITERATIONS, 50]], { color: '#000', dash: '6 4', width: 1, label: 'analytic det F = 50' });
  hist.dots([[ITERATIONS, detF]], { color: '#d62728', r: 4, label: 'final weights on 5000 fresh simulations' });
  writeFileSync(join(out, 'imnn-history.svg'), hist.toString());

  // one data set at θ = (0.3, 1.4): the IMNN's estimate, its Gaussian approximation, the exact posterior
  const truth = [0.3, 1.4];
  const d = bt.tidy(() => sim(bt.random.key(7), bt.tensor(truth)));
  const dv = Array.from(d.dataSync());
  const est = big.getEstimate(d);
  const θ̂ = Array.from(est.dataSync());
  const prior = bt.imnn.lfi.uniformPrior([-1.5, 0.2], [2, 4]);
  const G = 200;
  const ga = bt.tidy(() => new bt.imnn.lfi.GaussianApproximation(est.reshape([1, 2]), big.invF!, prior, G));
  const mg = ga.marginals[0]!;
  // exact posterior under the flat prior: p ∝ θ1^(−n/2) exp(−Σ(d − θ0)²/(2θ1)) on the same grid
  const [r0, r1] = [mg.ranges[0]!, mg.ranges[1]!];
  const logp = Array.from(r0, (a) => Array.from(r1, (v) => -5 * Math.log(v) - dv.reduce((s, x) => s + (x - a) ** 2, 0) / (2 * v)));
  const mx = Math.max(...logp.flat());
  const p = logp.map((row) => row.map((l) => Math.exp(l - mx)));
  const h0 = r0[1]! - r0[0]!, h1 = r1[1]! - r1[0]!;
  const z = p.flat().reduce((a, v) => a + v, 0) * h0 * h1;
  const exact0 = p.map((row) => (row.reduce((a, v) => a + v, 0) * h1) / z);
  const exact1 = r1.map((_, j) => (p.reduce((a, row) => a + row[j]!, 0) * h0) / z);
  const marg = new Plot({ title: 'posterior marginals of one data set (θ = (0.3, 1.4))', x: { min: -1.5, max: 4 }, y: { min: 0, max: Math.max(...mg.oneD[0]!, ...exact0, ...mg.oneD[1]!, ...exact1) * 1.1 }, xLabel: 'θ0 (mean), θ1 (variance)', yLabel: 'density', legend: 'below' });
  marg.line(Array.from(r0, (a, i) => [a, mg.oneD[0]![i]!] as [number, number]), { color: '#1f77b4', width: 2, label: 'θ0: IMNN Gaussian approximation N(θ̂, F⁻¹)' });
  marg.line(Array.from(r0, (a, i) => [a, exact0[i]!] as [number, number]), { color: '#1f77b4', width: 1, dash: '5 3', label: 'θ0: exact posterior (flat prior)' });
  marg.line(Array.from(r1, (a, i) => [a, mg.oneD[1]![i]!] as [number, number]), { color: '#d62728', width: 2, label: 'θ1: IMNN Gaussian approximation' });
  marg.line(Array.from(r1, (a, i) => [a, exact1[i]!] as [number, number]), { color: '#d62728', width: 1, dash: '5 3', label: 'θ1: exact posterior' });
  writeFileSync(join(out, 'imnn-marginals.svg'), marg.toString());
  const iF = Array.from(big.invF!.dataSync());
  const z0 = Math.abs(θ̂[0]! - truth[0]!) / Math.sqrt(iF[0]!);
  const z1 = Math.abs(θ̂[1]! - truth[1]!) / Math.sqrt(iF[3]!);
  bt.dispose([d, est, ...keys]);
  m.dispose();
  big.dispose();
  console.log(`  estimate θ̂ = (${θ̂.map((v) => v.toFixed(3)).join(', ')}) for θ = (0.3, 1.4), √diag F⁻¹ = (${Math.sqrt(iF[0]!).toFixed(3)}, ${Math.sqrt(iF[3]!).toFixed(3)})`);
  console.log(`  wrote imnn-history.svg, imnn-marginals.svg (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  return [
    // the gaussian test's band: a working fit reaches 25–31 at this size (broken ones stay ≤ 2), > 55 is a wrong Fisher
    { problem: 'IMNN Gaussian mean/variance: det F (5000 fresh sims)', ours: detF.toFixed(2), known: '50 (analytic; band [25, 55])', err: Math.max(0, 25 - detF, detF - 55), tol: 0 },
    // a score-compressed estimate is ≈ N(θ, F⁻¹) near θ_fid: 3σ
    { problem: 'IMNN estimate of one data set, |θ̂ − θ| / σ (max of 2)', ours: Math.max(z0, z1).toFixed(2), known: '0 (σ from F⁻¹)', err: Math.max(z0, z1), tol: 3 },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--out');
  const out = i > 0 ? process.argv[i + 1]! : 'demo-output';
  const rows = await runImnnDemo(out);
  printRows(rows);
  if (rows.some((r) => !(r.err <= r.tol))) process.exit(1);
}
