/**
 * Normal: closed-form logProb, moments, pathwise gradients, entropy, KL, params round trip, errors.
 *
 * Every body runs on each backend (see ../backend-harness.ts): `name [cpu]` in float64 with the
 * checks and tolerances as before, `name [webgpu]` in float32 (the backend's default float dtype:
 * numbers and bt.tensor without a dtype are float32 there) with the float32 tolerances of ./mc.ts:
 * closed forms are evaluated on the host at the float32-rounded inputs, compared within
 * ULPS·eps of the terms; Monte Carlo checks keep their k·SE and add the samples' float32 rounding;
 * two reductions of the same n samples in different orders (gradient vs mean) within `sumTol`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { backendsUnderTest, registerAll, read, scalar, toDtype } from '../backend-harness.js';
import { assertMcB, close, LOG_2PI, sumTol } from './mc.js';

const backends = await backendsUnderTest('distributions/normal');

const { Normal, kl } = bt.distributions;
const ref = (x: number, m: number, s: number) => -0.5 * ((x - m) / s) ** 2 - Math.log(s) - 0.5 * LOG_2PI;
const meanAbs = (v: number[]) => v.reduce((s, x) => s + Math.abs(x), 0) / v.length;

registerAll(backends, 'logProb matches the closed form, with batch broadcasting', async (B) => {
  const d = new Normal(1, 2);
  assert.is(d.dtype, B.dtype);
  await close(B, d.logProb(bt.tensor([0, 1, 3])), [ref(0, 1, 2), ref(1, 1, 2), ref(3, 1, 2)], 1e-14, undefined, 'logProb');
  await close(B, d.logProb(bt.tensor(0)), -1.737085713764618, 1e-14, undefined, 'scipy'); // scipy.stats.norm(1, 2).logpdf(0)
  const b = new Normal(bt.tensor([0, 1, 2]), bt.tensor([[1], [3]]));
  assert.equal(b.batchShape, [2, 3]);
  assert.equal(b.eventShape, []);
  const lp = b.logProb(bt.tensor([[[0.5]], [[-1]]])); // [2, 1, 1] → [2, 2, 3]
  assert.equal(lp.shape, [2, 2, 3]);
  await close(B, lp, [
    ...[1, 3].flatMap((s) => [0, 1, 2].map((m) => ref(0.5, m, s))),
    ...[1, 3].flatMap((s) => [0, 1, 2].map((m) => ref(-1, m, s))),
  ], 1e-14, undefined, 'batched logProb');
});

registerAll(backends, 'sample moments within 5 standard errors; sample shape [...sample, ...batch]', async (B) => {
  const d = new Normal(bt.tensor([-1, 2]), bt.tensor([0.5, 3]));
  const x = d.sample(bt.random.key(1), [20000]);
  assert.equal(x.shape, [20000, 2]);
  assert.is(x.dtype, B.dtype);
  const x0 = bt.slice(x, [0, 0], [20000, 1]);
  const x1 = bt.slice(x, [0, 1], [20000, 1]);
  const h0 = await read(x0);
  const h1 = await read(x1);
  await assertMcB(B, x0, -1, 'mean 0');
  await assertMcB(B, x1, 2, 'mean 1');
  // (x − m)²: the subtraction's rounding is relative to |x| + |m|
  await assertMcB(B, x0.sub(-1).square(), 0.25, 'var 0', { mag: h0.map((v) => (Math.abs(v) + 1) ** 2) });
  await assertMcB(B, x1.sub(2).square(), 9, 'var 1', { mag: h1.map((v) => (Math.abs(v) + 2) ** 2) });
});

registerAll(backends, 'rsample: d/dμ E[x²] = 2μ and d/dlogσ E[x²] = 2σ² (pathwise, 5 SE); sample has no gradient', async (B) => {
  const mu = 0.7;
  const sig = 1.3;
  const d = new Normal(mu, sig);
  const key = bt.random.key(2);
  const n = 20000;
  const g = bt.grad((p: bt.tree.PyTree) => d.withParams(p).rsample(key, [n]).square().mean())(d.params()) as { loc: bt.Tensor; logScale: bt.Tensor };
  // per-sample gradients: 2x and 2xσε; check the MC estimate against the truth within 5 SE
  const x = d.rsample(key, [n]);
  const eps = x.sub(mu).div(sig);
  const hx = await read(x);
  // the gradient's reduction and the mean add the same n terms in different orders (2·sumTol);
  // ε recomputed as (x − μ)/σ carries the subtraction's rounding, relative to 2|x|(|x| + |μ|)
  const sumRtol = 2 * sumTol(B, n) + B.adRtol;
  const magLogScale = hx.map((v) => 2 * Math.abs(v) * (Math.abs(v) + mu));
  await close(B, g.loc, x.mul(2).mean(), 1e-12, undefined, 'd/dμ vs per-sample mean', { rtol: sumRtol, scale: 2 * meanAbs(hx) });
  await assertMcB(B, x.mul(2), 2 * mu, 'd/dμ');
  await close(B, g.logScale, x.mul(eps).mul(2 * sig).mean(), 1e-12, undefined, 'd/dlogσ vs per-sample mean', { rtol: sumRtol, scale: meanAbs(magLogScale) });
  await assertMcB(B, x.mul(eps).mul(2 * sig), 2 * sig * sig, 'd/dlogσ', { mag: magLogScale });
  const g0 = bt.grad((p: bt.tree.PyTree) => d.withParams(p).sample(key, [10]).sum())(d.params()) as { loc: bt.Tensor };
  assert.is(await scalar(g0.loc), 0);
});

registerAll(backends, 'entropy = ½ + ½ log 2π + log σ, and ≈ −E[logProb]', async (B) => {
  const d = new Normal(0.3, bt.tensor([0.5, 2]));
  await close(B, d.entropy(), [0.5 + 0.5 * LOG_2PI + Math.log(0.5), 0.5 + 0.5 * LOG_2PI + Math.log(2)], 1e-14, undefined, 'entropy');
  const x = d.sample(bt.random.key(3), [20000]);
  const lp = d.logProb(x);
  const H = await read(d.entropy());
  await assertMcB(B, bt.slice(lp, [0, 0], [20000, 1]).neg(), H[0]!, 'H0');
  await assertMcB(B, bt.slice(lp, [0, 1], [20000, 1]).neg(), H[1]!, 'H1');
  assert.equal(d.mean().shape, [2]);
});

registerAll(backends, 'kl(Normal, Normal): closed form (KL(N(0,1)‖N(1,1)) = ½) and agreement with Monte Carlo', async (B) => {
  const r = (v: number) => toDtype(B, v);
  await close(B, kl(new Normal(0, 1), new Normal(1, 1)), 0.5, 1e-15, undefined, 'KL(N(0,1)‖N(1,1))');
  await close(B, kl(new Normal(0.4, 1), new Normal(0.4, 1)), 0, 0, 1e-15, 'KL(p‖p)');
  const p = new Normal(0.5, 0.8);
  const q = new Normal(-0.3, 1.7);
  const x = p.sample(bt.random.key(4), [20000]);
  const lp = p.logProb(x);
  const lq = q.logProb(x);
  const [hp, hq] = [await read(lp), await read(lq)];
  await assertMcB(B, lp.sub(lq), await scalar(kl(p, q)), 'KL MC', { mag: hp.map((v, i) => Math.abs(v) + Math.abs(hq[i]!)) });
  // log(s2/s1) + (s1² + (m1 − m2)²)/(2 s2²) − ½ at the parameters as stored (terms of size ~1)
  const want = Math.log(r(1.7) / r(0.8)) + (r(0.8) ** 2 + (r(0.5) - r(-0.3)) ** 2) / (2 * r(1.7) ** 2) - 0.5;
  await close(B, kl(p, q), want, 1e-14, undefined, 'KL closed form', { scale: 1 });
});

registerAll(backends, 'params are { loc, logScale }; withParams round-trips and rsampleAndLogProb agrees with logProb', async (B) => {
  const d = new Normal(bt.tensor([1, 2]), bt.tensor([0.5, 4]));
  const p = d.params() as { loc: bt.Tensor; logScale: bt.Tensor };
  assert.equal(Object.keys(p).sort(), ['loc', 'logScale']);
  await close(B, p.logScale, [Math.log(0.5), Math.log(4)], 1e-15, undefined, 'logScale');
  const e = d.withParams(p);
  assert.ok(e instanceof Normal);
  await close(B, e.scale, [0.5, 4], 1e-15, undefined, 'exp(logScale)');
  const [x, lp] = e.rsampleAndLogProb(bt.random.key(5), [3]);
  assert.equal(x.shape, [3, 2]);
  await close(B, lp, d.logProb(x), 1e-14, undefined, 'rsampleAndLogProb vs logProb');
});

registerAll(backends, 'bad input: typed errors', (B) => {
  if (B.name === 'cpu') {
    // mixing float dtypes needs a second float dtype: WebGPU has float32 only
    assert.throws(() => new Normal(bt.zeros([2]), bt.ones([2], 'float32')), (e: unknown) => e instanceof bt.DTypeError);
    assert.throws(() => new Normal(0, 1).logProb(bt.zeros([2], 'float32')), (e: unknown) => e instanceof bt.DTypeError);
  } else {
    assert.throws(() => new Normal(0, 1).logProb(bt.zeros([2], 'int32')), (e: unknown) => e instanceof bt.DTypeError);
  }
  assert.throws(() => new Normal(bt.zeros([2]), bt.ones([3])), (e: unknown) => e instanceof bt.ShapeError);
  assert.throws(() => new Normal('a' as never, 1), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => new Normal(bt.zeros([2]), 1).logProb(bt.zeros([3])), (e: unknown) => e instanceof bt.ShapeError);
  assert.throws(() => new Normal(0, 1).withParams({ loc: bt.zeros([]) }), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => new Normal(0, 1).sample(bt.zeros([2]), [3]), (e: unknown) => e instanceof bt.DTypeError);
  assert.throws(() => new Normal(0, 1).sample(bt.random.key(0), [-1]), (e: unknown) => e instanceof bt.ConfigError);
});

test.run();
