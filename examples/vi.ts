/**
 * Generalised VI for simulators (bt.vi, blackbirds' VI):
 *
 * 1. Brock–Hommes (blackbirds' notebook 03): infer (g2, g3, b2, b3) with truth (0.9, 0.9, 0.2, −0.2)
 *    from one T = 100 series; the other 7 parameters fixed (β = 120, g1 = b1 = b4 = 0, g4 = 1.01,
 *    σ = 0.04, log r = 0); prior N((.5, .5, .5, −.5), I); MMD loss with gradient horizon 0;
 *    w = 0.001; gradient clipping 1. The estimator here is a full-covariance Gaussian (blackbirds
 *    uses a RealNVP flow, which `bt.flows.realNVP` provides too; the Gaussian keeps the demo fast).
 *    The posterior marginals are plotted (SVG) against the truth.
 * 2. Random walk (blackbirds' README): T = 100, truth p = 0.25 (θ* = logit 0.25), q = N(0, 1),
 *    Adam 1e-2, w = 0, MSE, patience 100.
 *
 * `runViDemo(outDir)` returns result rows for the demo table. Run alone: `npx tsx examples/vi.ts [outDir]`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as bt from '../src/index.js';
import { Plot } from './svg.js';
import { ticker } from './lib/progress.js';
import { type ResultRow, printRows } from './lib/rows.js';


const S = bt.simulators;
const NAMES = ['g2', 'g3', 'b2', 'b3'];
const TRUTH = [0.9, 0.9, 0.2, -0.2];
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

/**
 * Builds an object (a distribution) in a tidy scope, keeping only the tensors it holds as own
 * fields: constructors' intermediates (a Cholesky factor's inputs, say) are freed at once.
 */
function built<D extends object>(make: () => D): D {
  return bt.tidy(() => {
    const d = make();
    return { d, held: ownTensors(d) };
  }).d;
}
const ownTensors = (d: object) => Object.values(d).filter((v): v is bt.Tensor => v instanceof bt.Tensor);

function gaussianPdf(x: number, m: number, s: number): number {
  return Math.exp(-0.5 * ((x - m) / s) ** 2) / (s * Math.sqrt(2 * Math.PI));
}

/** One SVG panel per parameter: histogram of posterior samples, prior density, the truth. */
function marginalsSvg(samples: number[][], priorMean: number[], title: string): string {
  const panels: string[] = [];
  const W = 320;
  const H = 260;
  samples[0]!.forEach((_, j) => {
    const xs = samples.map((s) => s[j]!);
    const lo = Math.min(...xs, TRUTH[j]!) - 0.2;
    const hi = Math.max(...xs, TRUTH[j]!) + 0.2;
    const nb = 30;
    const w = (hi - lo) / nb;
    const counts = new Array(nb).fill(0);
    for (const x of xs) counts[Math.min(nb - 1, Math.floor((x - lo) / w))]++;
    const dens = counts.map((c) => c / (xs.length * w));
    const ymax = Math.max(...dens) * 1.15;
    const p = new Plot({ title: NAMES[j]!, width: W, height: H, x: { min: lo, max: hi }, y: { min: 0, max: ymax }, xLabel: NAMES[j], yLabel: 'density' });
    p.bars(Array.from({ length: nb + 1 }, (_, i) => lo + i * w), dens, { color: COLORS[j]!, label: 'q (VI)' });
    const grid = Array.from({ length: 101 }, (_, i) => lo + ((hi - lo) * i) / 100);
    p.line(grid.map((x) => [x, Math.min(ymax, gaussianPdf(x, priorMean[j]!, 1))] as const), { color: '#7f7f7f', dash: '4 3', label: 'prior' });
    p.line([[TRUTH[j]!, 0], [TRUTH[j]!, ymax]], { color: '#000', width: 2, label: 'truth' });
    panels.push(p.toString());
  });
  // lay the panels out 2 × 2 in one SVG
  const inner = panels.map((svg, i) => `<g transform="translate(${(i % 2) * W},${30 + Math.floor(i / 2) * H})">${svg.replace(/^<svg[^>]*>/, '').replace(/<\/svg>\s*$/, '')}</g>`).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${2 * H + 30}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/><text x="${W}" y="20" text-anchor="middle" font-size="15">${title}</text>\n${inner}\n</svg>\n`;
}

/**
 * The loss per epoch (a Monte Carlo estimate, so noisy): on a log axis when every value is
 * positive, with a trailing running mean over ~5 % of the epochs and the best epoch marked.
 */
function lossCurveSvg(hist: number[], title: string, bestEpoch?: number): string {
  const pts = hist.map((v, i) => [i, v] as const).filter(([, v]) => Number.isFinite(v));
  const ys = pts.map(([, v]) => v);
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  const yLog = lo > 0;
  const win = Math.max(3, Math.round(hist.length / 20));
  const running = pts.map(([i], k) => {
    const seg = pts.slice(Math.max(0, k - win + 1), k + 1).map(([, v]) => v);
    return [i, seg.reduce((a, b) => a + b, 0) / seg.length] as const;
  });
  const best = bestEpoch ?? pts.reduce((b, p) => (p[1] < b[1] ? p : b))[0];
  const y = yLog ? { min: lo / 1.2, max: hi * 1.2 } : { min: lo - 0.05 * (hi - lo), max: hi + 0.05 * (hi - lo) + 1e-12 };
  const p = new Plot({ title, x: { min: 0, max: Math.max(1, hist.length - 1) }, y, yLog, xLabel: 'epoch', yLabel: `total loss (MC estimate${yLog ? ', log scale' : ''})` });
  p.line(pts, { color: '#9ecae1', width: 1, label: 'per epoch' });
  p.line(running, { color: '#1f77b4', width: 2, label: `running mean (${win} epochs)` });
  if (best >= 0 && best < hist.length && Number.isFinite(hist[best]!)) {
    p.line([[best, y.min], [best, y.max]], { color: '#d62728', width: 1, dash: '4 3', label: `best epoch ${best} (loss ${hist[best]!.toPrecision(3)})` });
    p.dots([[best, hist[best]!]], { color: '#d62728', r: 4 });
  }
  return p.toString();
}

export async function brockHommesDemo(outDir: string): Promise<ResultRow[]> {
  const T = 100;
  const bh = S.brockHommes(T);
  // tidy: the simulation's intermediates are freed, only the observed series is kept
  const y = bt.tidy(() => S.simulate(bh, S.brockHommesNotebook03(bt.tensor(TRUTH)), bt.random.key(2024))[0]!);
  const mmd = S.mmdLoss(y);
  const loss = (theta: bt.Tensor, _data: null, key: bt.Tensor) => mmd(S.simulate(bh, S.brockHommesNotebook03(theta), key, { gradientHorizon: 0 })[0]!);
  const priorMean = [0.5, 0.5, 0.5, -0.5];
  const prior = built(() => new bt.distributions.MultivariateNormal({ loc: bt.tensor(priorMean), covariance: bt.eye(4) }));
  const q0 = built(() => new bt.distributions.MultivariateNormal({ loc: bt.tensor(priorMean), covariance: bt.eye(4).mul(0.05) }));
  const [viKey, drawKey] = [bt.random.key(7), bt.random.key(8)];
  const epochs = 160;
  const vi = new bt.vi.VI({
    loss, prior, posteriorEstimator: q0, w: 0.001, gradientClippingNorm: 1, nSamplesPerEpoch: 5, nSamplesRegularisation: 2000,
    diffMode: 'forward', optimizer: bt.optim.adam({ learningRate: bt.optim.cosineDecaySchedule({ initValue: 0.03, decaySteps: epochs, alpha: 0.1 }) }),
    key: viKey,
    onEpoch: (rec) => tick(rec.epoch + 1, `loss ${rec.total.toPrecision(3)}`),
  });
  const tick = ticker('VI Brock–Hommes', epochs, 'epochs');
  const r = await vi.run(null, epochs, Infinity);
  const q = vi.estimator;
  const draws = q.sample(drawKey, [4000]);
  const samples = draws.toArray() as number[][];
  const mean = q.mean().toArray() as number[];
  const sd = NAMES.map((_, j) => Math.sqrt(samples.reduce((a, s) => a + (s[j]! - mean[j]!) ** 2, 0) / samples.length));
  writeFileSync(join(outDir, 'vi-brock-hommes-marginals.svg'), marginalsSvg(samples, priorMean, `Brock–Hommes: VI posterior marginals vs truth (${r.epochs} epochs, ${r.seconds.toFixed(0)} s)`));
  writeFileSync(join(outDir, 'vi-brock-hommes-loss.svg'), lossCurveSvg(vi.lossHistory.total, 'Brock–Hommes VI: MMD² + w·KL per epoch'));
  console.log(`VI Brock–Hommes: ${r.epochs} epochs in ${r.seconds.toFixed(1)} s (${r.epochsPerSecond.toFixed(1)} epochs/s, forward mode)`);
  NAMES.forEach((n, j) => console.log(`  ${n}: ${mean[j]!.toFixed(3)} ± ${sd[j]!.toFixed(3)} (truth ${TRUTH[j]})`));
  bt.dispose([draws, y, viKey, drawKey, ownTensors(prior), ownTensors(q0)]);
  vi.dispose();
  // tolerance: the truth within 2 posterior standard deviations, at least 0.15
  return NAMES.map((n, j) => ({
    problem: `VI Brock–Hommes ${n} (posterior mean ± sd)`,
    ours: `${mean[j]!.toFixed(3)} ± ${sd[j]!.toFixed(3)}`,
    known: `${TRUTH[j]} (truth)`,
    err: Math.abs(mean[j]! - TRUTH[j]!),
    tol: Math.max(2 * sd[j]!, 0.15),
  }));
}

export async function randomWalkDemo(outDir: string): Promise<ResultRow[]> {
  const truth = Math.log(0.25 / 0.75);
  const rw = S.randomWalk(100);
  const data = bt.tidy(() => S.simulate(rw, bt.tensor([truth]), bt.random.key(2025))[0]!);
  const loss = (theta: bt.Tensor, d: bt.Tensor, key: bt.Tensor) => S.mse(S.simulate(rw, theta, key, { gradientHorizon: 0 })[0]!, d);
  const prior = built(() => new bt.distributions.MultivariateNormal({ loc: bt.tensor([truth + 0.2]), covariance: bt.eye(1) }));
  const q0 = built(() => new bt.distributions.MultivariateNormal({ loc: bt.tensor([0]), covariance: bt.eye(1) }));
  const viKey = bt.random.key(3);
  const tick = ticker('VI random walk', 1000, 'epochs (at most; early stopping)');
  const vi = new bt.vi.VI({ loss, prior, posteriorEstimator: q0, w: 0, nSamplesPerEpoch: 1, optimizer: bt.optim.adam({ learningRate: 1e-2 }), key: viKey, onEpoch: (rec) => tick(rec.epoch + 1, `loss ${rec.total.toPrecision(3)}`) });
  const r = await vi.run(data, 1000, 100);
  const best = vi.bestEstimator;
  const mu = best.mean().item();
  console.log(`VI random walk: stopped at epoch ${r.epochs}/1000 (best epoch ${r.bestEpoch}, best loss ${r.bestLoss.toFixed(1)}), μ = ${mu.toFixed(3)} vs θ* = ${truth.toFixed(3)}; ${r.epochsPerSecond.toFixed(0)} epochs/s`);
  writeFileSync(join(outDir, 'vi-random-walk-loss.svg'), lossCurveSvg(vi.lossHistory.total, 'Random walk VI: MSE per epoch', r.bestEpoch));
  bt.dispose([data, viKey, ownTensors(prior), ownTensors(q0)]);
  vi.dispose();
  return [{ problem: 'VI random walk logit p (best μ)', ours: mu.toFixed(3), known: `${truth.toFixed(3)} (truth, logit 0.25)`, err: Math.abs(mu - truth), tol: 0.2 }];
}

export async function runViDemo(outDir: string): Promise<ResultRow[]> {
  mkdirSync(outDir, { recursive: true });
  const rows: ResultRow[] = [];
  rows.push(...(await randomWalkDemo(outDir)));
  rows.push(...(await brockHommesDemo(outDir)));
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = resolve(process.argv[2] ?? 'demo-output');
  const t0 = performance.now();
  const rows = await runViDemo(out);
  printRows(rows);
  console.log(`VI demo in ${((performance.now() - t0) / 1000).toFixed(1)} s; SVGs in ${out}`);
}
