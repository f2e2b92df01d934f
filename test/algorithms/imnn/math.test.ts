/** IMNN statistics, loss, estimates and derivatives against hand computations and finite differences. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { assertClose } from '../../helpers.js';

const adam = () => bt.optim.adam({ learningRate: 1e-3 });
const identity: bt.nn.Module<{ s: bt.Tensor }> = { init: () => ({ s: bt.zeros([]) }), apply: (w, d) => d.add(w.s) };

test('getα: α(10, 0.1) = 0.9531, α(10, 0.01) = 240.68; r(ε) = λ/(λ + ε/(1+ε))', () => {
  // the values quoted to 4 and 5 significant figures, and the formula −ln(ε(λ−1) + ε²/(1+ε))/ε
  assertClose(bt.imnn.getα(10, 0.1), 0.9531, 0, 5e-5);
  assertClose(bt.imnn.getα(10, 0.01), 240.68, 0, 5e-3);
  assertClose(bt.imnn.getα(10, 0.01), -Math.log(0.09 + 1e-4 / 1.01) / 0.01, 1e-14);
  const α = bt.imnn.getα(10, 0.1);
  assertClose(bt.imnn.regularisationStrength(bt.tensor(0.1), 10, α).item(), 10 / (10 + 0.1 / 1.1), 1e-12);
  assert.throws(() => bt.imnn.getα(0, 0.1), (e: Error) => e instanceof bt.ConfigError && /λ/.test(e.message));
  assert.throws(() => bt.imnn.getα(10, -1), (e: Error) => e instanceof bt.ConfigError && /ε/.test(e.message));
});

test('statistics: C over nS − 1, ∂μ/∂θ over the rows given, F = dμᵀC⁻¹dμ, Λ₂ = ‖C−I‖_F + ‖C⁻¹−I‖_F, loss −log|F| + rΛ₂', () => {
  const x = bt.tensor([[1, 2], [3, 1], [0, 0], [2, 5]]);
  const dx = bt.tensor([[[1, 0], [0, 2]], [[3, 1], [1, 0]]]); // [nD=2, nSumm=2, nParams=2]
  const s = bt.imnn.fisherStatistics(x, dx);
  // by hand: μ = (1.5, 2); deviations (−.5,0),(1.5,−1),(−1.5,−2),(.5,3)
  const C = [[(0.25 + 2.25 + 2.25 + 0.25) / 3, (0 - 1.5 + 3 + 1.5) / 3], [(0 - 1.5 + 3 + 1.5) / 3, (0 + 1 + 4 + 9) / 3]];
  assertClose(s.C, C.flat(), 1e-12);
  assertClose(s.μ, [1.5, 2], 1e-12);
  assertClose(s.dμdθ, [2, 0.5, 0.5, 1], 1e-12);
  const det = C[0]![0]! * C[1]![1]! - C[0]![1]! * C[1]![0]!;
  const iC = [[C[1]![1]! / det, -C[0]![1]! / det], [-C[1]![0]! / det, C[0]![0]! / det]];
  const D = [[2, 0.5], [0.5, 1]];
  const F = [0, 1].map((a) => [0, 1].map((b) => [0, 1].reduce((acc, i) => acc + [0, 1].reduce((s2, j) => s2 + D[i]![a]! * iC[i]![j]! * D[j]![b]!, 0), 0)));
  assertClose(s.F, F.flat(), 1e-12);
  const fro = (M: number[][]) => Math.sqrt(M.flat().reduce((a, v, k) => a + (v - (k === 0 || k === 3 ? 1 : 0)) ** 2, 0));
  const Λ2 = fro(C) + fro(iC);
  const α = bt.imnn.getα(10, 0.1);
  const r = (10 * Λ2) / (Λ2 + Math.exp(-α * Λ2));
  const detF = F[0]![0]! * F[1]![1]! - F[0]![1]! * F[1]![0]!;
  const [loss, aux] = bt.imnn.imnnLoss(x, dx, 10, α);
  assertClose(aux.Λ2.item(), Λ2, 1e-12);
  assertClose(aux.r.item(), r, 1e-12);
  assertClose(loss.item(), -Math.log(detF) + r * Λ2, 1e-12);
});

// linear-Gaussian data d = Aθ + n, n ~ N(0, Σ): with an identity network the score compression is
// the generalised least-squares MLE (AᵀC⁻¹A)⁻¹AᵀC⁻¹d when μ = Aθ_fid exactly (centred noise)
const A = [[1, 0.5], [0.3, -1], [2, 1]];
const θFid = [0.7, -0.2];
function linearSets(nS: number, seed: number) {
  const L = bt.tensor([[1, 0, 0], [0.4, 0.8, 0], [-0.3, 0.2, 1.5]]);
  let n = bt.random.normal(bt.random.key(seed), [nS, 3]).matmul(L.transpose());
  n = n.sub(n.mean({ axis: 0 }));
  const mean = bt.tensor(A).matmul(bt.tensor(θFid));
  const fid = n.add(mean);
  const der = bt.broadcastTo(bt.tensor(A), [nS, 3, 2]);
  return { fid, der, n };
}

test('identity network on linear-Gaussian data: getEstimate = the exact (GLS) MLE, single and batch; ConfigError before statistics', () => {
  const { fid, der } = linearSets(50, 1);
  const m = new bt.imnn.GradientIMNN({ nS: 50, nD: 50, nParams: 2, nSummaries: 3, inputShape: [3], θFid, model: identity, optimiser: adam(), keyOrState: bt.random.key(0), fiducial: fid, derivative: der });
  assert.throws(() => m.getEstimate(bt.tensor([1, 2, 3])), (e: Error) => e instanceof bt.ConfigError && /not been calculated/.test(e.message));
  m.setFStatistics();
  const d = bt.tensor([[1.3, -0.4, 2.2], [0.1, 0.9, -1.0]]);
  const C = m.C!;
  const iC = bt.linalg.inv(C);
  const At = bt.tensor(A);
  const gls = bt.linalg.solve(At.transpose().matmul(iC).matmul(At), At.transpose().matmul(iC).matmul(d.transpose())).transpose();
  assertClose(m.getEstimate(d), gls, 1e-10, 1e-12, 'batch');
  assertClose(m.getEstimate(bt.tensor([1.3, -0.4, 2.2])), gls.slice([0], [1]).reshape([2]), 1e-10, 1e-12, 'single');
  assertClose(m.F!, At.transpose().matmul(iC).matmul(At), 1e-12, 1e-12, 'F = AᵀC⁻¹A');
  assertClose(m.invF!.matmul(m.F!), bt.eye(2), 1e-10, 1e-12, 'invF');
  assert.throws(() => m.getEstimate(bt.tensor([1, 2])), (e: Error) => e instanceof bt.ShapeError && /\[3\]/.test(e.message));
});

// a small nonlinear network and the Gaussian simulator, for derivative checks
const sim = (k: bt.Tensor, θ: bt.Tensor) => bt.random.normal(k, [10]).mul(θ.slice([1], [1]).sqrt()).add(θ.slice([0], [1]));
const net = () => bt.nn.mlp({ sizes: [10, 16, 16, 3], activation: 'leakyRelu' });

test('SimulatorIMNN: AD ∂μ/∂θ (jvp through simulator and network) = seed-matched central differences', () => {
  const nS = 40;
  const nD = 30;
  const m = new bt.imnn.SimulatorIMNN({ nS, nD, nParams: 2, nSummaries: 3, inputShape: [10], θFid: [0.3, 1.2], model: net(), optimiser: adam(), keyOrState: bt.random.key(3), simulator: sim });
  const key = bt.random.key(9);
  const [x, dx] = m.getSummaries(m.w, key);
  assert.equal(x.shape, [nS, 3]);
  assert.equal(dx.shape, [nD, 3, 2]);
  const keys = bt.random.split(key, nS).slice([0, 0], [nD, 2]);
  const out = (θ: number[]) => m.model.apply(m.w, bt.vmap((k: bt.Tensor) => sim(k, bt.tensor(θ)))(keys));
  const h = 1e-5;
  for (let a = 0; a < 2; a++) {
    const p = [0.3, 1.2];
    const q = [0.3, 1.2];
    p[a]! += h / 2;
    q[a]! -= h / 2;
    const fd = out(p).sub(out(q)).div(h); // [nD, 3]
    assertClose(dx.slice([0, 0, a], [nD, 3, 1]).reshape([nD, 3]), fd, 1e-6, 1e-8, `∂x/∂θ${a}`);
  }
  // the first nD outputs are those of the same keys
  assertClose(x.slice([0], [nD]), out([0.3, 1.2]), 1e-12, 1e-12);
});

test('GradientIMNN (JVPs along ∂d/∂θ, 2-D inputs) = NumericalGradientIMNN on linear data ((x₊ − x₋)/δθ at θ_fid ± δθ/2) = jacfwd', () => {
  // inputs [2, 5] (non-square: imnn's .T would fail here); d = θ0 + θ1·u + z, linear in θ
  const nS = 20;
  const u = bt.random.normal(bt.random.key(4), [2, 5]);
  const z = bt.random.normal(bt.random.key(5), [nS, 2, 5]);
  const at = (t0: number, t1: number) => z.add(u.mul(t1)).add(t0);
  const θ = [0.5, 2];
  const fid = at(θ[0]!, θ[1]!);
  const der = bt.stack([bt.onesLike(fid), bt.broadcastTo(u, [nS, 2, 5])], -1); // [nS, 2, 5, 2]
  const δ = [0.2, 0.4];
  const minus = bt.stack([at(θ[0]! - δ[0]! / 2, θ[1]!), at(θ[0]!, θ[1]! - δ[1]! / 2)], 1);
  const plus = bt.stack([at(θ[0]! + δ[0]! / 2, θ[1]!), at(θ[0]!, θ[1]! + δ[1]! / 2)], 1);
  const numDer = bt.stack([minus, plus], 1); // [nS, 2, nParams, 2, 5]
  // a network on [2, 5] inputs: flatten then an MLP that is linear in d (so differences are exact)
  const lin = bt.nn.mlp({ sizes: [10, 3], activation: 'leakyRelu' });
  const model: bt.nn.Module<bt.nn.MlpParams> = { init: (k) => lin.init(k), apply: (w, d) => lin.apply(w, d.reshape([...d.shape.slice(0, -2), 10])) };
  const base = { nS, nD: nS, nParams: 2, nSummaries: 3, inputShape: [2, 5], θFid: θ, model, optimiser: adam(), keyOrState: bt.random.key(6) };
  const g = new bt.imnn.GradientIMNN({ ...base, fiducial: fid, derivative: der });
  const nm = new bt.imnn.NumericalGradientIMNN({ ...base, fiducial: fid, derivative: numDer, δθ: δ });
  const [, dg] = g.getSummaries(g.w);
  const [, dn] = nm.getSummaries(nm.w);
  assertClose(dg, dn, 1e-9, 1e-10, 'gradient vs numerical');
  // and against jacfwd of θ ↦ f(d(θ)) for one simulation
  const J = bt.jacfwd((t: bt.Tensor) => model.apply(g.w, z.slice([0], [1]).reshape([2, 5]).add(u.mul(t.slice([1], [1]))).add(t.slice([0], [1]))))(bt.tensor(θ));
  assertClose(dg.slice([0], [1]).reshape([3, 2]), J, 1e-10, 1e-12, 'jacfwd');
});

test('IMNN factory picks the class from its arguments; Aggregated arguments pick the Aggregated variant', () => {
  const { fid, der } = linearSets(10, 2);
  const base = { nS: 10, nD: 10, nParams: 2, nSummaries: 3, inputShape: [3], θFid, model: identity, optimiser: adam(), keyOrState: bt.random.key(0) };
  assert.ok(bt.imnn.IMNN({ ...base, fiducial: fid, derivative: der }) instanceof bt.imnn.GradientIMNN);
  const nd = bt.stack([bt.stack([fid, fid], 1), bt.stack([fid, fid], 1)], 1);
  assert.ok(bt.imnn.IMNN({ ...base, fiducial: fid, derivative: nd, δθ: [0.1, 0.1] }) instanceof bt.imnn.NumericalGradientIMNN);
  const s = (k: bt.Tensor, t: bt.Tensor) => bt.random.normal(k, [3]).add(t.sum());
  assert.ok(bt.imnn.IMNN({ ...base, simulator: s }) instanceof bt.imnn.SimulatorIMNN);
  assert.ok(bt.imnn.IMNN({ ...base, simulator: s, devices: ['cpu'], nPerDevice: 5 }) instanceof bt.imnn.AggregatedSimulatorIMNN);
  assert.throws(() => bt.imnn.IMNN({ ...base, simulator: s, host: 'cpu' } as never), (e: Error) => e instanceof bt.ConfigError && /devices must be a non-empty array/.test(e.message));
  assert.throws(() => bt.imnn.IMNN({ ...base } as never), (e: Error) => e instanceof bt.ConfigError && /cannot tell/.test(e.message));
});

test.run();
