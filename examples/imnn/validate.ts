/**
 * The IMNN acceptance runs at full size (minutes of CPU; run by hand: npx tsx examples/imnn/validate.ts [sim|grad|num|slope]).
 * Gaussian mean and variance: 10 points, θ_fid = (0, 1), analytic F = diag(10, 5), det F = 50;
 * network 3 × [Dense(128) + LeakyReLU] → 2, Adam 1e-3, λ = 10, ε = 0.1, nS = nD = 1000.
 * Slope: y = m·x + N(0, 1), x = linspace(0, 10, 100), m_fid = 4, F = Σx² = 3350.17.
 * Field (npx tsx examples/imnn/validate.ts field [N = 128] [iterations = 150] [nS = 100] [learning rate = 3e-3]):
 * the 2-D Gaussian random field P(k) = A k^−B, θ_fid = (1, 0.5), SimulatorIMNN with the CNN of
 * field-model.ts (pyramid levels down to 8×8 blocks), Adam, head whitened on 200 fields;
 * det F on 500 fresh fields against grfFisher (the field's information, all N² − 1 modes) and
 * against grfFisherReference (imnn's published 967560.5 at 128², one quadrant of the modes).
 */
import * as bt from '../../src/index.js';
import { fieldModel, whitenHead } from './field-model.js';

const which = process.argv[2] ?? 'all';
const n = 1000;
const θFid = [0, 1];
const sim = (k: bt.Tensor, θ: bt.Tensor) => bt.random.normal(k, [10]).mul(θ.slice([1], [1]).sqrt()).add(θ.slice([0], [1]));
const net = (out: number, inp = 10) => bt.nn.mlp({ sizes: [inp, 128, 128, 128, out], activation: 'leakyRelu' });
const common = (out = 2, inp = 10, nParams = 2) => ({
  nS: n, nD: n, nParams, nSummaries: out, inputShape: [inp], model: net(out, inp), optimiser: bt.optim.adam({ learningRate: 1e-3 }), keyOrState: bt.random.key(0),
});
const sec = (t0: number) => ((performance.now() - t0) / 1000).toFixed(1);
// fixed sets: d = θ0 + √θ1 z, ∂d/∂θ0 = 1, ∂d/∂θ1 = z / (2√θ1) = z/2 at θ_fid
const gaussSets = (seed: number) => {
  const z = bt.random.normal(bt.random.key(seed), [n, 10]);
  const der = bt.stack([bt.onesLike(z), z.mul(0.5)], -1);
  return { fid: z, der, z };
};
const numSets = (seed: number, δ: number) => {
  const z = bt.random.normal(bt.random.key(seed), [n, 10]);
  const at = (t0: number, t1: number) => z.mul(Math.sqrt(t1)).add(t0);
  const minus = bt.stack([at(-δ / 2, 1), at(0, 1 - δ / 2)], 1);
  const plus = bt.stack([at(δ / 2, 1), at(0, 1 + δ / 2)], 1);
  return { fid: z, der: bt.stack([minus, plus], 1) };
};
const detOf = (F: bt.Tensor) => bt.linalg.det(F).item();

if (which === 'all' || which === 'sim') {
  const m = new bt.imnn.SimulatorIMNN({ ...common(), θFid, simulator: sim });
  const t0 = performance.now();
  await m.fit(10, 0.1, { rng: bt.random.key(1), patience: 200, minIterations: 500, maxIterations: 2000, best: false });
  m.setFStatistics({ key: bt.random.key(12345) });
  console.log(`SimulatorIMNN: ${m.history.detF.length} iterations in ${sec(t0)} s; last training det F ${m.history.detF.at(-1)!.toFixed(2)}, max ${m.history.maxDetF.toFixed(2)}; det F on 1000 fresh sims = ${detOf(m.F!).toFixed(2)} (analytic 50, acceptance ≥ 40)`);
  const big = new bt.imnn.SimulatorIMNN({ ...common(), nS: 10000, nD: 10000, θFid, simulator: sim, keyOrState: m.state });
  big.setFStatistics({ key: bt.random.key(54321) });
  console.log(`  the same weights (last, best = false) on 10000 fresh sims: det F = ${detOf(big.F!).toFixed(2)}`);
  const d = [0.5, -0.3, 1.2, 0.1, 0.9, -1.1, 0.4, 0.0, 0.7, -0.2];
  const mu = d.reduce((a, v) => a + v, 0) / 10;
  const est = m.getEstimate(bt.tensor(d));
  console.log(`  estimate of a fixed sample: [${Array.from(est.dataSync()).map((v) => v.toFixed(3))}] (its mean ${mu.toFixed(3)}, variance ${(d.reduce((a, v) => a + (v - mu) ** 2, 0) / 10).toFixed(3)})`);
}
if (which === 'all' || which === 'grad') {
  const a = gaussSets(2);
  const v = gaussSets(3);
  const m = new bt.imnn.GradientIMNN({ ...common(), θFid, fiducial: a.fid, derivative: a.der, validationFiducial: v.fid, validationDerivative: v.der });
  const t0 = performance.now();
  await m.fit(10, 0.1, { patience: 100, minIterations: 100, maxIterations: 1500 });
  console.log(`GradientIMNN: ${m.history.detF.length} iterations in ${sec(t0)} s; max validation det F ${m.history.maxDetF.toFixed(2)} (acceptance ≥ 32; imnn ≈36), final training det F ${m.history.detF.at(-1)!.toFixed(2)}`);
}
if (which === 'all' || which === 'num') {
  const a = numSets(4, 0.1);
  const v = numSets(5, 0.1);
  const m = new bt.imnn.NumericalGradientIMNN({ ...common(), θFid, fiducial: a.fid, derivative: a.der, δθ: [0.1, 0.1], validationFiducial: v.fid, validationDerivative: v.der });
  const t0 = performance.now();
  await m.fit(10, 0.1, { patience: 100, minIterations: 100, maxIterations: 1500, onProgress: (p) => console.log(`  ${p.done} iterations, max validation det F ${m.history.maxDetF.toFixed(2)}`) });
  console.log(`NumericalGradientIMNN: ${m.history.detF.length} iterations in ${sec(t0)} s; max validation det F ${m.history.maxDetF.toFixed(2)} (acceptance ≥ 32; imnn ≈44), final training det F ${m.history.detF.at(-1)!.toFixed(2)}`);
}
if (which === 'all' || which === 'slope') {
  const x = bt.linspace(0, 10, 100);
  const slope = (k: bt.Tensor, θ: bt.Tensor) => x.mul(θ).add(bt.random.normal(k, [100]));
  const m = new bt.imnn.SimulatorIMNN({ ...common(1, 100, 1), θFid: [4], simulator: slope });
  const t0 = performance.now();
  await m.fit(10, 0.1, { rng: bt.random.key(6), patience: 100, minIterations: 100, maxIterations: 2000, best: false });
  // F on 20000 fresh simulations (relative std of the covariance ≈ 1 %)
  const big = new bt.imnn.SimulatorIMNN({ ...common(1, 100, 1), nS: 20000, nD: 20000, θFid: [4], simulator: slope, keyOrState: m.state });
  big.setFStatistics({ key: bt.random.key(7) });
  console.log(`slope: ${m.history.detF.length} iterations in ${sec(t0)} s; F on 20000 fresh sims = ${big.F!.item().toFixed(2)} (analytic 3350.17, ±5 % = [3182.7, 3517.7])`);
}
if (which === 'field') {
  const N = Number(process.argv[3] ?? 128);
  const its = Number(process.argv[4] ?? 150);
  const nS = Number(process.argv[5] ?? 100);
  const field = bt.simulators.gaussianRandomField(N);
  const fsim = (k: bt.Tensor, θ: bt.Tensor) => field(k, θ);
  const θFid = bt.tensor([1, 0.5]);
  const model = fieldModel({ n: N, levels: Math.log2(N) - 3 });
  const optimiser = bt.optim.adam({ learningRate: Number(process.argv[6] ?? 3e-3) });
  const t0 = performance.now();
  const probe = bt.vmap((k: bt.Tensor) => fsim(k, θFid))(bt.random.split(bt.random.key(99), 200)) as bt.Tensor;
  const w0 = whitenHead(model, model.init(bt.random.key(0)), probe, 98, 20);
  const opts = { nS, nD: nS, nParams: 2, nSummaries: 2, inputShape: [N, N], θFid, model, optimiser, keyOrState: { w: w0, opt: optimiser.init(w0) }, simulator: fsim };
  // at 128² one conv activation of 100 fields is ≈ 100 MB and its im2col 9× that: the
  // aggregated class (two passes, 10 fields at a time) keeps the memory bounded
  const agg = { host: 'cpu', devices: ['cpu'], nPerDevice: 10 };
  const m = new bt.imnn.AggregatedSimulatorIMNN({ ...opts, ...agg });
  const exact = bt.simulators.det2(bt.simulators.grfFisher(N));
  const ref = bt.simulators.det2(bt.simulators.grfFisherReference(N));
  await m.fit(10, 0.1, {
    rng: bt.random.key(1), maxIterations: its, patience: 1e5, best: false,
    onProgress: (p) => console.log(`  ${p.done} iterations, ${sec(t0)} s, training det F / grfFisher ${(m.history.detF.at(-1)! / exact).toFixed(4)}`),
  });
  const tFit = sec(t0);
  const big = new bt.imnn.AggregatedSimulatorIMNN({ ...opts, ...agg, nS: 500, nD: 500, keyOrState: m.state });
  big.setFStatistics({ key: bt.random.key(11) });
  const d = detOf(big.F!);
  console.log(`field ${N}²: ${m.history.detF.length} iterations (nS = nD = ${nS}) in ${tFit} s; det F on 500 fresh fields = ${d.toExponential(4)}: ${(d / exact).toFixed(4)} of grfFisher (${exact.toExponential(4)}), ${(d / ref).toFixed(4)} of grfFisherReference (${ref.toFixed(1)}); untrained ${(m.history.detF[0]! / exact).toFixed(4)}, best ${(m.history.maxDetF / exact).toFixed(4)} at iteration ${m.history.detF.indexOf(m.history.maxDetF) + 1} (training sims, of grfFisher)`);
}
