/**
 * DiagonalNormal: agrees with Independent(Normal) and a diagonal MVN; moments; entropy; KL; params.
 *
 * Every body runs on each backend (see ../backend-harness.ts): `name [cpu]` in float64 with the
 * checks and tolerances as before, `name [webgpu]` in float32 with the float32 tolerances of
 * ./mc.ts (two float32 evaluations of the same density within ULPS·eps of the terms; Monte Carlo
 * checks with their k·SE plus the samples' float32 rounding).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { backendsUnderTest, randnB, read, registerAll, scalar, toDtype } from '../backend-harness.js';
import { assertMcB, close, colT, LOG_2PI } from './mc.js';

const backends = await backendsUnderTest('distributions/diagonal');

const { DiagonalNormal, MultivariateNormal, Independent, Normal, kl } = bt.distributions;

registerAll(backends, 'logProb equals the diagonal MVN and Independent(Normal, 1); shapes', async (B) => {
  const r = (v: number) => toDtype(B, v);
  const loc = bt.tensor([0.5, -1, 2]);
  const scale = bt.tensor([0.3, 1.5, 2]);
  const d = new DiagonalNormal(loc, scale);
  assert.is(d.dtype, B.dtype);
  assert.equal(d.eventShape, [3]);
  assert.equal(d.batchShape, []);
  const x = randnB(B, [5, 3], 1);
  await close(B, d.logProb(x), new MultivariateNormal({ loc, scaleTril: bt.diag(scale) }).logProb(x), 1e-13, undefined, 'vs diagonal MVN');
  await close(B, d.logProb(x), new Independent(new Normal(loc, scale), 1).logProb(x), 1e-14, undefined, 'vs Independent(Normal)');
  await close(B, d.entropy(), 3 * (0.5 + 0.5 * LOG_2PI) + Math.log(r(0.3) * 1.5 * 2), 1e-14, undefined, 'entropy');
  const b = new DiagonalNormal(bt.zeros([4, 3]), 1);
  assert.equal(b.batchShape, [4]);
  assert.equal(b.logProb(randnB(B, [2, 4, 3], 2)).shape, [2, 4]);
});

registerAll(backends, 'moments within 5 SE and entropy ≈ −E[logProb]', async (B) => {
  const d = new DiagonalNormal(bt.tensor([1, -1]), bt.tensor([0.5, 2]));
  const x = d.sample(bt.random.key(3), [20000]);
  assert.is(x.dtype, B.dtype);
  await assertMcB(B, colT(x, 0), 1, 'mean 0');
  // (x + 1)²: the addition's rounding is relative to |x| + 1
  const h1 = await read(colT(x, 1));
  await assertMcB(B, colT(x, 1).add(1).square(), 4, 'var 1', { mag: h1.map((v) => (Math.abs(v) + 1) ** 2) });
  await assertMcB(B, d.logProb(x).neg(), await scalar(d.entropy()), 'H');
});

registerAll(backends, 'kl(Diag, Diag) closed form equals the MVN formula and MC', async (B) => {
  const p = new DiagonalNormal(bt.tensor([1, -1]), bt.tensor([0.5, 2]));
  const q = new DiagonalNormal(bt.tensor([0, 0.5]), bt.tensor([1, 1.5]));
  const full = (d: InstanceType<typeof DiagonalNormal>) => new MultivariateNormal({ loc: d.loc, scaleTril: bt.diag(d.scale) });
  await close(B, kl(p, q), kl(full(p), full(q)), 1e-13, undefined, 'vs MVN formula');
  const x = p.sample(bt.random.key(4), [20000]);
  const lp = p.logProb(x);
  const lq = q.logProb(x);
  const [hp, hq] = [await read(lp), await read(lq)];
  await assertMcB(B, lp.sub(lq), await scalar(kl(p, q)), 'KL', { mag: hp.map((v, i) => Math.abs(v) + Math.abs(hq[i]!)) });
});

registerAll(backends, 'params { loc, logScale } at the full shape (a scalar scale broadcasts)', async (B) => {
  const d = new DiagonalNormal(bt.tensor([1, 2, 3]), 0.5);
  const p = d.params() as { loc: bt.Tensor; logScale: bt.Tensor };
  assert.equal(p.logScale.shape, [3]);
  assert.is(p.logScale.dtype, B.dtype);
  const g = bt.grad((q: bt.tree.PyTree) => d.withParams(q).rsample(bt.random.key(1), [10]).square().mean())(p) as { logScale: bt.Tensor };
  assert.equal(g.logScale.shape, [3]);
  assert.ok((await read(g.logScale)).every(Number.isFinite));
  assert.throws(() => new DiagonalNormal(0, 1), (e: unknown) => e instanceof bt.ShapeError);
});

test.run();
