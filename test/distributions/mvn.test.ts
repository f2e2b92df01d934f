/**
 * MultivariateNormal: closed forms, batching, moments, pathwise gradients, entropy, KL (full and
 * diagonal), raw params.
 *
 * Every body runs on each backend (see ../backend-harness.ts): `name [cpu]` in float64 with the
 * checks and tolerances as before, `name [webgpu]` in float32 with the float32 tolerances of
 * ./mc.ts: closed forms and two float32 evaluations of the same quantity within ULPS·eps of the
 * terms (the factors here are 2×2 and 3×3 with condition numbers below 10, so the Cholesky and
 * triangular-solve backward errors, γ_{n+1} ≈ 4 eps, stay inside that); Monte Carlo checks keep
 * their k·SE plus the samples' float32 rounding; a pathwise gradient vs the mean of its
 * per-sample terms within the accumulation bounds `dotTol` / `sumTol`; gradients vs central
 * differences by the harness's float32 directional check.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { backendsUnderTest, checkDirectional, randnB, read, registerAll, scalar, type BackendCase } from '../backend-harness.js';
import { numericGrad } from '../helpers.js';
import { assertMcB, close, colT, dotTol, LOG_2PI, sumTol } from './mc.js';

const backends = await backendsUnderTest('distributions/mvn');

const { MultivariateNormal, DiagonalNormal, Independent, Normal, kl } = bt.distributions;
const cov2 = () => bt.tensor([[2, 0.5], [0.5, 1]]);
/** B Bᵀ/n + I in the backend's dtype (on CPU the same values as helpers.randSpd). */
function spd(B: BackendCase, n: number, seed: number): bt.Tensor {
  const b = randnB(B, [n, n], seed);
  return bt.matmul(b, b.mT).div(n).add(bt.eye(n));
}
const meanOf = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;

registerAll(backends, 'logProb closed form in d = 2 with a known covariance (either constructor)', async (B) => {
  // Σ⁻¹ = [[1, −½], [−½, 2]]/1.75: x = (1, −1) about 0 gives xᵀΣ⁻¹x = 4/1.75
  const expect = -0.5 * (4 / 1.75) - 0.5 * Math.log(1.75) - LOG_2PI; // = −3.2605421032341995 (scipy multivariate_normal)
  const a = new MultivariateNormal({ loc: bt.zeros([2]), covariance: cov2() });
  const b = new MultivariateNormal({ loc: bt.tensor([1, 1]), scaleTril: bt.linalg.cholesky(cov2()) });
  assert.is(a.dtype, B.dtype);
  await close(B, a.logProb(bt.tensor([1, -1])), expect, 1e-14, undefined, 'from covariance');
  await close(B, b.logProb(bt.tensor([2, 0])), expect, 1e-14, undefined, 'from scaleTril');
  await close(B, expect, -3.2605421032341995, 1e-15, undefined, 'scipy');
  assert.equal(a.eventShape, [2]);
  assert.equal(a.batchShape, []);
  await close(B, a.covariance(), [2, 0.5, 0.5, 1], 1e-15, undefined, 'L Lᵀ');
});

registerAll(backends, 'batched factors and sample dims: logProb [...sample, ...batch] equals a loop', async (B) => {
  const d = 3;
  const L = bt.stack([bt.linalg.cholesky(spd(B, d, 1)), bt.linalg.cholesky(spd(B, d, 2))]);
  const loc = randnB(B, [d], 3);
  const m = new MultivariateNormal({ loc, scaleTril: L });
  assert.equal(m.batchShape, [2]);
  const x = randnB(B, [4, 2, d], 4);
  const lp = m.logProb(x);
  assert.equal(lp.shape, [4, 2]);
  const each: number[] = [];
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 2; j++) {
      const xi = bt.reshape(bt.slice(x, [i, j, 0], [1, 1, d]), [d]);
      const Lj = bt.reshape(bt.slice(L, [j, 0, 0], [1, d, d]), [d, d]);
      each.push(await scalar(bt.logpdf.multivariateNormal(xi, loc, Lj)));
    }
  }
  await close(B, lp, each, 1e-13, undefined, 'batched vs loop');
  // x with no batch dims broadcasts over the batch
  assert.equal(m.logProb(randnB(B, [d], 5)).shape, [2]);
  assert.equal(m.rsample(bt.random.key(0), [5]).shape, [5, 2, d]);
  assert.equal(m.entropy().shape, [2]);
});

registerAll(backends, 'sample mean and covariance within 5 standard errors', async (B) => {
  const m = new MultivariateNormal({ loc: bt.tensor([1, -2]), covariance: cov2() });
  const n = 20000;
  const x = m.sample(bt.random.key(7), [n]);
  assert.is(x.dtype, B.dtype);
  const x0 = colT(x, 0);
  const x1 = colT(x, 1);
  const [h0, h1] = [await read(x0), await read(x1)];
  await assertMcB(B, x0, 1, 'mean 0');
  await assertMcB(B, x1, -2, 'mean 1');
  // centred products: each subtraction's rounding is relative to |x| + |μ|
  await assertMcB(B, x0.sub(1).square(), 2, 'Σ00', { mag: h0.map((v) => (Math.abs(v) + 1) ** 2) });
  await assertMcB(B, x1.add(2).square(), 1, 'Σ11', { mag: h1.map((v) => (Math.abs(v) + 2) ** 2) });
  await assertMcB(B, x0.sub(1).mul(x1.add(2)), 0.5, 'Σ01', { mag: h0.map((v, i) => (Math.abs(v) + 1) * (Math.abs(h1[i]!) + 2)) });
});

registerAll(backends, 'rsample gradient: d/dμ E[xᵀx] = 2μ, and d/dL E[xᵀx] = 2L through the raw factor; exact vs finite differences', async (B) => {
  const m = new MultivariateNormal({ loc: bt.tensor([0.5, -1]), covariance: cov2() });
  const key = bt.random.key(8);
  const n = 20000;
  const f = (p: bt.tree.PyTree) => m.withParams(p).rsample(key, [n]).square().sum({ axis: -1 }).mean();
  const g = bt.grad(f)(m.params()) as { loc: bt.Tensor; scaleTril: bt.Tensor };
  const x = m.rsample(key, [n]);
  const [h0, h1] = [await read(colT(x, 0)), await read(colT(x, 1))];
  await assertMcB(B, colT(x, 0).mul(2), 1, 'd/dμ0');
  await assertMcB(B, colT(x, 1).mul(2), -2, 'd/dμ1');
  // E = μᵀμ + tr(L Lᵀ): d/draw_ij = 2 L_ij below the diagonal, 2 L_ii² on it (the diagonal is exp(raw_ii))
  // per-sample gradient wrt L_ij is 2 x_i ε_j (ε = L⁻¹(x − μ)); the estimator is their mean
  const L = await read(m.scaleTril);
  const eps = bt.linalg.triangularSolve(m.scaleTril, x.sub(m.loc).mT).mT;
  const per10 = colT(x, 1).mul(colT(eps, 0)).mul(2);
  const per00 = colT(x, 0).mul(colT(eps, 0)).mul(2 * L[0]!);
  const per11 = colT(x, 1).mul(colT(eps, 1)).mul(2 * L[3]!);
  // WebGPU: the gradient contracts the n samples in one serial accumulation (dotTol), the means
  // reduce the recomputed per-sample terms (sumTol); ε recomputed from x carries x's rounding,
  // |δε| ≤ ULPS·eps·‖L⁻¹‖∞(|x|₁ + |μ|₁), so a term 2x_iε_jL_jj is rounded relative to
  // 2|x_i|(|ε_j| + ‖L⁻¹‖∞(|x|₁ + |μ|₁))·L_jj.
  const [e0, e1] = [await read(colT(eps, 0)), await read(colT(eps, 1))];
  const linv = Math.max(1 / L[0]!, Math.abs(L[2]! / (L[0]! * L[3]!)) + 1 / L[3]!);
  const shift = h0.map((v, i) => linv * (Math.abs(v) + Math.abs(h1[i]!) + 1.5));
  const mag = (xi: number[], ej: number[], ljj: number) => meanOf(xi.map((v, i) => 2 * Math.abs(v) * (Math.abs(ej[i]!) + shift[i]!) * ljj));
  const rtol = dotTol(B, n) + sumTol(B, n) + B.adRtol;
  const mean00 = await scalar(per00.mean());
  const mean10 = await scalar(per10.mean());
  const mean11 = await scalar(per11.mean());
  if (B.name === 'cpu') await close(B, g.scaleTril, [mean00, 0, mean10, mean11], 1e-10, 1e-12, 'per-sample mean');
  else {
    const gs = await read(g.scaleTril);
    await close(B, gs[0]!, mean00, 0, 0, 'per-sample mean 00', { rtol, scale: mag(h0, e0, L[0]!) });
    assert.is(gs[1], 0, 'per-sample mean 01 (upper triangle ignored)');
    await close(B, gs[2]!, mean10, 0, 0, 'per-sample mean 10', { rtol, scale: mag(h1, e0, 1) });
    await close(B, gs[3]!, mean11, 0, 0, 'per-sample mean 11', { rtol, scale: mag(h1, e1, L[3]!) });
  }
  await assertMcB(B, per00, 2 * L[0]! * L[0]!, 'd/draw00', { mag: h0.map((v, i) => 2 * Math.abs(v) * (Math.abs(e0[i]!) + shift[i]!) * L[0]!) });
  await assertMcB(B, per10, 2 * L[2]!, 'd/draw10', { mag: h1.map((v, i) => 2 * Math.abs(v) * (Math.abs(e0[i]!) + shift[i]!)) });
  await assertMcB(B, per11, 2 * L[3]! * L[3]!, 'd/draw11', { mag: h1.map((v, i) => 2 * Math.abs(v) * (Math.abs(e1[i]!) + shift[i]!) * L[3]!) });
  // the pathwise gradient of the fixed-key estimator is exact: compare with central differences
  const raw = (m.params() as { scaleTril: bt.Tensor }).scaleTril;
  const fr = (r: bt.Tensor) => m.withParams({ loc: m.loc, scaleTril: r }).rsample(key, [200]).square().sum({ axis: -1 }).mean();
  if (B.name === 'cpu') await close(B, bt.grad(fr)(raw), numericGrad(fr, raw), 1e-7, 1e-9, 'vs FD');
  else await checkDirectional(B, fr, raw, 11, 'vs FD');
});

registerAll(backends, 'entropy closed form and ≈ −E[logProb]', async (B) => {
  const m = new MultivariateNormal({ loc: bt.zeros([2]), covariance: cov2() });
  await close(B, m.entropy(), 1 + LOG_2PI + 0.5 * Math.log(1.75), 1e-14, undefined, 'entropy');
  const x = m.sample(bt.random.key(9), [20000]);
  await assertMcB(B, m.logProb(x).neg(), await scalar(m.entropy()), 'H');
});

registerAll(backends, 'kl closed forms: N(0, I) ‖ N(0, 2I) = ln 2 − ½; full ‖ full, full ‖ diag, diag ‖ full, Independent agree with Monte Carlo', async (B) => {
  const I = bt.eye(2);
  await close(B, kl(new MultivariateNormal({ loc: bt.zeros([2]), covariance: I }), new MultivariateNormal({ loc: bt.zeros([2]), covariance: I.mul(2) })), Math.log(2) - 0.5, 1e-14, undefined, 'N(0, I) ‖ N(0, 2I)', { scale: 2 });
  const p = new MultivariateNormal({ loc: bt.tensor([0.3, -0.2]), covariance: cov2() });
  const q = new MultivariateNormal({ loc: bt.tensor([-0.5, 0.4]), covariance: bt.tensor([[1, -0.3], [-0.3, 1.5]]) });
  const dq = new DiagonalNormal(bt.tensor([0.1, 0.2]), bt.tensor([1.2, 0.7]));
  const iq = new Independent(new Normal(bt.tensor([0.1, 0.2]), bt.tensor([1.2, 0.7])), 1);
  const key = bt.random.key(10);
  for (const [a, b, name] of [[p, q, 'full‖full'], [p, dq, 'full‖diag'], [dq, p, 'diag‖full'], [p, iq, 'full‖indep'], [iq, p, 'indep‖full']] as const) {
    const x = a.sample(key, [20000]);
    const la = a.logProb(x);
    const lb = b.logProb(x);
    const [ha, hb] = [await read(la), await read(lb)];
    await assertMcB(B, la.sub(lb), await scalar(kl(a, b)), name, { mag: ha.map((v, i) => Math.abs(v) + Math.abs(hb[i]!)) });
  }
  await close(B, kl(p, dq), kl(p, iq), 1e-14, undefined, 'diag vs indep');
  // kl(p, p) = ½(‖L⁻¹L‖²_F − d) + 0: float32 rounding relative to the trace term, d = 2
  await close(B, kl(p, p), 0, 0, 1e-14, 'kl(p, p)', { scale: 2 });
});

registerAll(backends, 'params: { loc, scaleTril: raw } with log diagonal; withParams inverts it', async (B) => {
  const m = new MultivariateNormal({ loc: bt.tensor([1, 2]), covariance: cov2() });
  const p = m.params() as { loc: bt.Tensor; scaleTril: bt.Tensor };
  const L = await read(m.scaleTril);
  await close(B, p.scaleTril, [Math.log(L[0]!), 0, L[2]!, Math.log(L[3]!)], 1e-15, undefined, 'raw');
  const m2 = m.withParams(p);
  await close(B, m2.scaleTril, m.scaleTril, 1e-15, undefined, 'exp(log L)');
  await close(B, (m2.params() as { scaleTril: bt.Tensor }).scaleTril, p.scaleTril, 0, undefined, 'raw leaf kept');
  // the upper triangle of raw is ignored
  const m3 = m.withParams({ loc: p.loc, scaleTril: p.scaleTril.add(bt.triu(bt.ones([2, 2]), 1)) });
  await close(B, m3.scaleTril, m.scaleTril, 1e-15, undefined, 'upper triangle ignored');
});

registerAll(backends, 'bad input: typed errors', (B) => {
  assert.throws(() => new MultivariateNormal({ loc: bt.zeros([2]) }), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => new MultivariateNormal({ loc: bt.zeros([2]), covariance: bt.eye(2), scaleTril: bt.eye(2) }), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => new MultivariateNormal({ loc: bt.zeros([3]), covariance: bt.eye(2) }), (e: unknown) => e instanceof bt.ShapeError);
  // mixing float dtypes needs a second float dtype: WebGPU has float32 only
  if (B.name === 'cpu') assert.throws(() => new MultivariateNormal({ loc: bt.zeros([2]), covariance: bt.eye(2, 2, 'float32') }), (e: unknown) => e instanceof bt.DTypeError);
  else assert.throws(() => new MultivariateNormal({ loc: bt.zeros([2]), covariance: bt.eye(2, 2, 'int32') }), (e: unknown) => e instanceof bt.DTypeError);
  assert.throws(() => new MultivariateNormal({ loc: bt.zeros([2]), cov: bt.eye(2) } as never), (e: unknown) => e instanceof bt.ConfigError);
  const m = new MultivariateNormal({ loc: bt.zeros([2]), covariance: bt.eye(2) });
  assert.throws(() => m.logProb(bt.zeros([3])), (e: unknown) => e instanceof bt.ShapeError);
  assert.throws(() => kl(m, new MultivariateNormal({ loc: bt.zeros([3]), covariance: bt.eye(3) })), (e: unknown) => e instanceof bt.ShapeError);
});

test.run();
