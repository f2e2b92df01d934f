/**
 * LogNormal: closed-form logProb (scipy lognorm), moments, gradient, entropy, KL.
 *
 * Every body runs on each backend (see ../backend-harness.ts): `name [cpu]` in float64 with the
 * checks and tolerances as before, `name [webgpu]` in float32 with the float32 tolerances of
 * ./mc.ts: closed forms evaluated on the host at the float32-rounded parameters, within ULPS·eps
 * of the terms; Monte Carlo checks with their k·SE plus the samples' float32 rounding; a
 * gradient's reduction vs a mean of the same n samples within `sumTol`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { backendsUnderTest, read, registerAll, scalar, toDtype } from '../backend-harness.js';
import { assertMcB, close, LOG_2PI, sumTol } from './mc.js';

const backends = await backendsUnderTest('distributions/lognormal');

const { LogNormal, Normal, kl } = bt.distributions;
// scipy.stats.lognorm(s=σ, scale=exp(μ)).logpdf(x)
const ref = (x: number, m: number, s: number) => -0.5 * ((Math.log(x) - m) / s) ** 2 - Math.log(s * x) - 0.5 * LOG_2PI;
const meanAbs = (v: number[]) => v.reduce((s, x) => s + Math.abs(x), 0) / v.length;

registerAll(backends, 'logProb: closed form for x > 0, −Infinity for x ≤ 0', async (B) => {
  const m = toDtype(B, 0.3);
  const d = new LogNormal(0.3, 0.5);
  assert.is(d.dtype, B.dtype);
  await close(B, d.logProb(bt.tensor([0.5, 1, 2, 7])), [ref(0.5, m, 0.5), ref(1, m, 0.5), ref(2, m, 0.5), ref(7, m, 0.5)], 1e-14, undefined, 'logProb');
  await close(B, new LogNormal(0, 1).logProb(bt.tensor(1)), -0.9189385332046727, 1e-15, undefined, 'standard at 1');
  await close(B, d.logProb(bt.tensor([0, -1])), [-Infinity, -Infinity], 0, undefined, 'x ≤ 0');
  // the gradient of logProb at x ≤ 0 is finite (no NaN leaks from the masked branch)
  const g = bt.grad((p: bt.tree.PyTree) => d.withParams(p).logProb(bt.tensor([-1, 2])).sum())(d.params()) as { loc: bt.Tensor };
  assert.ok(Number.isFinite(await scalar(g.loc)));
});

registerAll(backends, 'mean exp(μ + σ²/2) and E[log x] within 5 SE; entropy = μ + ½ + ½ log 2π + log σ ≈ −E[logProb]', async (B) => {
  const m = toDtype(B, 0.3);
  const d = new LogNormal(0.3, 0.5);
  const x = d.sample(bt.random.key(1), [20000]);
  const hx = await read(x);
  await close(B, d.mean(), Math.exp(m + 0.125), 1e-14, undefined, 'mean');
  await assertMcB(B, x, Math.exp(0.3 + 0.125), 'mean');
  // log x: the relative rounding of x becomes an absolute one in log x (|log x| + 1)
  await assertMcB(B, x.log(), 0.3, 'E log x', { mag: hx.map((v) => Math.abs(Math.log(v)) + 1) });
  await close(B, d.entropy(), m + 0.5 + 0.5 * LOG_2PI + Math.log(0.5), 1e-14, undefined, 'entropy', { scale: m + 0.5 + 0.5 * LOG_2PI + Math.log(2) });
  // −logProb = z²/2 + log σ + log x + ½ log 2π: rounding relative to the sum of those terms' sizes (log x itself to 1 + |log x|)
  const magH = hx.map((v) => 0.5 * ((Math.log(v) - m) / 0.5) ** 2 + Math.log(2) + Math.abs(Math.log(v)) + 1 + 0.5 * LOG_2PI);
  await assertMcB(B, d.logProb(x).neg(), await scalar(d.entropy()), 'H', { mag: magH });
});

registerAll(backends, 'rsample gradient: d/dμ E[x] = E[x] (pathwise, 5 SE)', async (B) => {
  const n = 20000;
  const d = new LogNormal(0.2, 0.4);
  const key = bt.random.key(2);
  const g = bt.grad((p: bt.tree.PyTree) => d.withParams(p).rsample(key, [n]).mean())(d.params()) as { loc: bt.Tensor };
  const x = d.rsample(key, [n]);
  // the gradient's reduction and the mean add the same n terms in different orders
  await close(B, g.loc, x.mean(), 1e-12, undefined, 'd/dμ vs mean', { rtol: 2 * sumTol(B, n) + B.adRtol, scale: meanAbs(await read(x)) });
  await assertMcB(B, x, Math.exp(0.2 + 0.08), 'd/dμ');
});

registerAll(backends, 'kl(LogNormal, LogNormal) = kl of the underlying normals; agrees with MC', async (B) => {
  const p = new LogNormal(0.2, 0.4);
  const q = new LogNormal(-0.1, 0.9);
  await close(B, kl(p, q), kl(new Normal(0.2, 0.4), new Normal(-0.1, 0.9)), 1e-15, undefined, 'kl vs normals');
  const x = p.sample(bt.random.key(3), [20000]);
  const lp = p.logProb(x);
  const lq = q.logProb(x);
  const [hp, hq, hx] = [await read(lp), await read(lq), await read(x)];
  // each log density also carries log x (rounded relative to 1 + |log x|)
  await assertMcB(B, lp.sub(lq), await scalar(kl(p, q)), 'KL', { mag: hp.map((v, i) => Math.abs(v) + Math.abs(hq[i]!) + 2 * (1 + Math.abs(Math.log(hx[i]!)))) });
});

registerAll(backends, 'params { loc, logScale }; bad input', async (B) => {
  const d = new LogNormal(bt.tensor([0, 1]), 2);
  const p = d.params() as { loc: bt.Tensor; logScale: bt.Tensor };
  await close(B, p.logScale, Math.log(2), 1e-15, undefined, 'logScale');
  await close(B, d.withParams(p).logProb(bt.tensor([1, 2])), d.logProb(bt.tensor([1, 2])), 1e-15, undefined, 'withParams round trip');
  // mixing float dtypes needs a second float dtype: WebGPU has float32 only
  if (B.name === 'cpu') assert.throws(() => new LogNormal(bt.zeros([2], 'float32'), bt.ones([2])), (e: unknown) => e instanceof bt.DTypeError);
  else assert.throws(() => new LogNormal(bt.zeros([2], 'int32'), bt.ones([2])), (e: unknown) => e instanceof bt.DTypeError);
});

test.run();
