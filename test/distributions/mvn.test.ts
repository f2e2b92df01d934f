/** MultivariateNormal: closed forms, batching, moments, pathwise gradients, entropy, KL (full and diagonal), raw params. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose, numericGrad, randn, randSpd } from '../helpers.js';
import { assertMc, col, LOG_2PI } from './mc.js';

const { MultivariateNormal, DiagonalNormal, Independent, Normal, kl } = bt.distributions;
const cov2 = () => bt.tensor([[2, 0.5], [0.5, 1]]);

test('logProb closed form in d = 2 with a known covariance (either constructor)', () => {
  // Σ⁻¹ = [[1, −½], [−½, 2]]/1.75: x = (1, −1) about 0 gives xᵀΣ⁻¹x = 4/1.75
  const expect = -0.5 * (4 / 1.75) - 0.5 * Math.log(1.75) - LOG_2PI; // = −3.2605421032341995 (scipy multivariate_normal)
  const a = new MultivariateNormal({ loc: bt.zeros([2]), covariance: cov2() });
  const b = new MultivariateNormal({ loc: bt.tensor([1, 1]), scaleTril: bt.linalg.cholesky(cov2()) });
  assertClose(a.logProb(bt.tensor([1, -1])), expect, 1e-14);
  assertClose(b.logProb(bt.tensor([2, 0])), expect, 1e-14);
  assertClose(expect, -3.2605421032341995, 1e-15);
  assert.equal(a.eventShape, [2]);
  assert.equal(a.batchShape, []);
  assertClose(a.covariance(), [2, 0.5, 0.5, 1], 1e-15);
});

test('batched factors and sample dims: logProb [...sample, ...batch] equals a loop', () => {
  const d = 3;
  const L = bt.stack([bt.linalg.cholesky(randSpd(d, 1)), bt.linalg.cholesky(randSpd(d, 2))]);
  const loc = randn([d], 3);
  const m = new MultivariateNormal({ loc, scaleTril: L });
  assert.equal(m.batchShape, [2]);
  const x = randn([4, 2, d], 4);
  const lp = m.logProb(x);
  assert.equal(lp.shape, [4, 2]);
  const each: number[] = [];
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 2; j++) {
      const xi = bt.reshape(bt.slice(x, [i, j, 0], [1, 1, d]), [d]);
      const Lj = bt.reshape(bt.slice(L, [j, 0, 0], [1, d, d]), [d, d]);
      each.push(bt.logpdf.multivariateNormal(xi, loc, Lj).item());
    }
  }
  assertClose(lp, each, 1e-13);
  // x with no batch dims broadcasts over the batch
  assert.equal(m.logProb(randn([d], 5)).shape, [2]);
  assert.equal(m.rsample(bt.random.key(0), [5]).shape, [5, 2, d]);
  assert.equal(m.entropy().shape, [2]);
});

test('sample mean and covariance within 5 standard errors', () => {
  const m = new MultivariateNormal({ loc: bt.tensor([1, -2]), covariance: cov2() });
  const n = 20000;
  const x = m.sample(bt.random.key(7), [n]);
  const x0 = bt.tensor(col(x, 0));
  const x1 = bt.tensor(col(x, 1));
  assertMc(x0, 1, 'mean 0');
  assertMc(x1, -2, 'mean 1');
  assertMc(x0.sub(1).square(), 2, 'Σ00');
  assertMc(x1.add(2).square(), 1, 'Σ11');
  assertMc(x0.sub(1).mul(x1.add(2)), 0.5, 'Σ01');
});

test('rsample gradient: d/dμ E[xᵀx] = 2μ, and d/dL E[xᵀx] = 2L through the raw factor; exact vs finite differences', () => {
  const m = new MultivariateNormal({ loc: bt.tensor([0.5, -1]), covariance: cov2() });
  const key = bt.random.key(8);
  const n = 20000;
  const f = (p: bt.tree.PyTree) => m.withParams(p).rsample(key, [n]).square().sum({ axis: -1 }).mean();
  const g = bt.grad(f)(m.params()) as { loc: bt.Tensor; scaleTril: bt.Tensor };
  const x = m.rsample(key, [n]);
  assertMc(bt.tensor(col(x, 0)).mul(2), 1, 'd/dμ0');
  assertMc(bt.tensor(col(x, 1)).mul(2), -2, 'd/dμ1');
  // E = μᵀμ + tr(L Lᵀ): d/draw_ij = 2 L_ij below the diagonal, 2 L_ii² on it (the diagonal is exp(raw_ii))
  // per-sample gradient wrt L_ij is 2 x_i ε_j (ε = L⁻¹(x − μ)); the estimator is their mean
  const L = m.scaleTril.dataSync();
  const eps = bt.linalg.triangularSolve(m.scaleTril, x.sub(m.loc).mT).mT;
  const per10 = bt.tensor(col(x, 1)).mul(bt.tensor(col(eps, 0))).mul(2);
  const per00 = bt.tensor(col(x, 0)).mul(bt.tensor(col(eps, 0))).mul(2 * L[0]!);
  const per11 = bt.tensor(col(x, 1)).mul(bt.tensor(col(eps, 1))).mul(2 * L[3]!);
  assertClose(g.scaleTril, [per00.mean().item(), 0, per10.mean().item(), per11.mean().item()], 1e-10, 1e-12, 'per-sample mean');
  assertMc(per00, 2 * L[0]! * L[0]!, 'd/draw00');
  assertMc(per10, 2 * L[2]!, 'd/draw10');
  assertMc(per11, 2 * L[3]! * L[3]!, 'd/draw11');
  // the pathwise gradient of the fixed-key estimator is exact: compare with central differences
  const raw = (m.params() as { scaleTril: bt.Tensor }).scaleTril;
  const fr = (r: bt.Tensor) => m.withParams({ loc: m.loc, scaleTril: r }).rsample(key, [200]).square().sum({ axis: -1 }).mean();
  assertClose(bt.grad(fr)(raw), numericGrad(fr, raw), 1e-7, 1e-9, 'vs FD');
});

test('entropy closed form and ≈ −E[logProb]', () => {
  const m = new MultivariateNormal({ loc: bt.zeros([2]), covariance: cov2() });
  assertClose(m.entropy(), 1 + LOG_2PI + 0.5 * Math.log(1.75), 1e-14);
  const x = m.sample(bt.random.key(9), [20000]);
  assertMc(m.logProb(x).neg(), m.entropy().item(), 'H');
});

test('kl closed forms: N(0, I) ‖ N(0, 2I) = ln 2 − ½; full ‖ full, full ‖ diag, diag ‖ full, Independent agree with Monte Carlo', () => {
  const I = bt.eye(2);
  assertClose(kl(new MultivariateNormal({ loc: bt.zeros([2]), covariance: I }), new MultivariateNormal({ loc: bt.zeros([2]), covariance: I.mul(2) })), Math.log(2) - 0.5, 1e-14);
  const p = new MultivariateNormal({ loc: bt.tensor([0.3, -0.2]), covariance: cov2() });
  const q = new MultivariateNormal({ loc: bt.tensor([-0.5, 0.4]), covariance: bt.tensor([[1, -0.3], [-0.3, 1.5]]) });
  const dq = new DiagonalNormal(bt.tensor([0.1, 0.2]), bt.tensor([1.2, 0.7]));
  const iq = new Independent(new Normal(bt.tensor([0.1, 0.2]), bt.tensor([1.2, 0.7])), 1);
  const key = bt.random.key(10);
  for (const [a, b, name] of [[p, q, 'full‖full'], [p, dq, 'full‖diag'], [dq, p, 'diag‖full'], [p, iq, 'full‖indep'], [iq, p, 'indep‖full']] as const) {
    const x = a.sample(key, [20000]);
    assertMc(a.logProb(x).sub(b.logProb(x)), kl(a, b).item(), name);
  }
  assertClose(kl(p, dq), kl(p, iq), 1e-14);
  assertClose(kl(p, p), 0, 0, 1e-14);
});

test('params: { loc, scaleTril: raw } with log diagonal; withParams inverts it', () => {
  const m = new MultivariateNormal({ loc: bt.tensor([1, 2]), covariance: cov2() });
  const p = m.params() as { loc: bt.Tensor; scaleTril: bt.Tensor };
  const L = m.scaleTril.dataSync();
  assertClose(p.scaleTril, [Math.log(L[0]!), 0, L[2]!, Math.log(L[3]!)], 1e-15);
  const m2 = m.withParams(p);
  assertClose(m2.scaleTril, m.scaleTril, 1e-15);
  assertClose((m2.params() as { scaleTril: bt.Tensor }).scaleTril, p.scaleTril, 0);
  // the upper triangle of raw is ignored
  const m3 = m.withParams({ loc: p.loc, scaleTril: p.scaleTril.add(bt.triu(bt.ones([2, 2]), 1)) });
  assertClose(m3.scaleTril, m.scaleTril, 1e-15);
});

test('bad input: typed errors', () => {
  assert.throws(() => new MultivariateNormal({ loc: bt.zeros([2]) }), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => new MultivariateNormal({ loc: bt.zeros([2]), covariance: bt.eye(2), scaleTril: bt.eye(2) }), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => new MultivariateNormal({ loc: bt.zeros([3]), covariance: bt.eye(2) }), (e: unknown) => e instanceof bt.ShapeError);
  assert.throws(() => new MultivariateNormal({ loc: bt.zeros([2]), covariance: bt.eye(2, 2, 'float32') }), (e: unknown) => e instanceof bt.DTypeError);
  assert.throws(() => new MultivariateNormal({ loc: bt.zeros([2]), cov: bt.eye(2) } as never), (e: unknown) => e instanceof bt.ConfigError);
  const m = new MultivariateNormal({ loc: bt.zeros([2]), covariance: bt.eye(2) });
  assert.throws(() => m.logProb(bt.zeros([3])), (e: unknown) => e instanceof bt.ShapeError);
  assert.throws(() => kl(m, new MultivariateNormal({ loc: bt.zeros([3]), covariance: bt.eye(3) })), (e: unknown) => e instanceof bt.ShapeError);
});

test.run();
