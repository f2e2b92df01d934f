/**
 * Uniform: logProb inside/outside, moments, reparameterised gradient, entropy, KL.
 *
 * Every body runs on each backend (see ../backend-harness.ts): `name [cpu]` in float64 with the
 * checks and tolerances as before, `name [webgpu]` in float32 with the float32 tolerances of
 * ./mc.ts: values within ULPS·eps of their terms; Monte Carlo checks with their k·SE plus the
 * samples' float32 rounding; means over n samples and gradients' reductions within `sumTol`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { backendsUnderTest, read, registerAll, scalar } from '../backend-harness.js';
import { assertMcB, close, sumTol } from './mc.js';

const backends = await backendsUnderTest('distributions/uniform');

const { Uniform, kl } = bt.distributions;
const meanAbs = (v: number[]) => v.reduce((s, x) => s + Math.abs(x), 0) / v.length;

registerAll(backends, 'logProb = −log(high − low) inside, −Infinity outside (boundaries included)', async (B) => {
  const u = new Uniform(-1, 3);
  assert.is(u.dtype, B.dtype);
  await close(B, u.logProb(bt.tensor([-2, -1, 0, 2.5, 3, 3.1])), [-Infinity, -Math.log(4), -Math.log(4), -Math.log(4), -Math.log(4), -Infinity], 1e-15, undefined, 'logProb');
  const b = new Uniform(bt.tensor([0, 1]), bt.tensor([2, 5]));
  assert.equal(b.batchShape, [2]);
  await close(B, b.logProb(bt.tensor([[0.5, 0.5]])), [-Math.log(2), -Infinity], 1e-15, undefined, 'batched logProb');
});

registerAll(backends, 'sample moments within 5 SE; rsample is reparameterised: d/dlow E[x] = d/dhigh E[x] = ½', async (B) => {
  const n = 20000;
  const u = new Uniform(-1, 3);
  const key = bt.random.key(1);
  const x = u.sample(key, [n]);
  assert.is(x.dtype, B.dtype);
  const hx = await read(x);
  await assertMcB(B, x, 1, 'mean');
  // (x − 1)²: the subtraction's rounding is relative to |x| + 1
  await assertMcB(B, x.sub(1).square(), 16 / 12, 'var', { mag: hx.map((v) => (Math.abs(v) + 1) ** 2) });
  assert.ok((await scalar(x.min())) >= -1 && (await scalar(x.max())) <= 3);
  const g = bt.grad((p: bt.tree.PyTree) => u.withParams(p).rsample(key, [n]).mean())(u.params()) as { low: bt.Tensor; high: bt.Tensor };
  const w = x.add(1).div(4); // the uniform draws
  // w recomputed from x carries the rounding of x = −1 + 4u, relative to (|x| + 1)/4; the
  // gradient's reduction and the mean add the same n terms in different orders
  const wMag = meanAbs(hx.map((v) => (Math.abs(v) + 1) / 4));
  const rtol = 2 * sumTol(B, n) + B.adRtol;
  await close(B, g.high, w.mean(), 1e-12, undefined, 'd/dhigh vs mean', { rtol, scale: wMag });
  await assertMcB(B, w, 0.5, 'd/dhigh', { mag: hx.map((v) => (Math.abs(v) + 1) / 4) });
  await assertMcB(B, w.neg().add(1), 0.5, 'd/dlow', { mag: hx.map((v) => 1 + (Math.abs(v) + 1) / 4) });
  await close(B, g.low, w.neg().add(1).mean(), 1e-12, undefined, 'd/dlow vs mean', { rtol, scale: 1 + wMag });
});

registerAll(backends, 'entropy = log(high − low) = −E[logProb]; mean', async (B) => {
  const u = new Uniform(bt.tensor([0, -2]), bt.tensor([0.5, 5]));
  await close(B, u.entropy(), [Math.log(0.5), Math.log(7)], 1e-15, undefined, 'entropy');
  await close(B, u.mean(), [0.25, 1.5], 1e-15, undefined, 'mean');
  const x = u.sample(bt.random.key(2), [100]);
  // a mean of 100 equal float32 values: one reduction (sumTol)
  await close(B, u.logProb(x).mean({ axis: 0 }).neg(), u.entropy(), 1e-14, undefined, '−E[logProb]', { rtol: sumTol(B, 100) + B.adRtol });
});

registerAll(backends, 'kl(Uniform, Uniform) = log(w_q / w_p) when p ⊆ q (agrees with MC), +Infinity otherwise', async (B) => {
  const p = new Uniform(0, 1);
  const q = new Uniform(-1, 3);
  await close(B, kl(p, q), Math.log(4), 1e-15, undefined, 'kl');
  const x = p.sample(bt.random.key(3), [1000]);
  // a mean of 1000 equal float32 differences: one reduction (sumTol)
  await close(B, p.logProb(x).sub(q.logProb(x)).mean(), kl(p, q), 1e-14, undefined, 'E[log p − log q]', { rtol: sumTol(B, 1000) + B.adRtol });
  assert.is(await scalar(kl(q, p)), Infinity);
  assert.is(await scalar(kl(new Uniform(0, 2), new Uniform(1, 3))), Infinity);
  await close(B, kl(p, p), 0, 0, 1e-15, 'kl(p, p)');
});

registerAll(backends, 'params { low, high } round trip; bad input', async (B) => {
  const u = new Uniform(1, 2);
  const v = u.withParams(u.params());
  await close(B, v.logProb(bt.tensor(1.5)), 0, 0, 1e-15, 'round trip');
  assert.throws(() => new Uniform(bt.zeros([2]), bt.ones([3])), (e: unknown) => e instanceof bt.ShapeError);
  assert.throws(() => u.withParams({ low: bt.zeros([]), hi: bt.ones([]) }), (e: unknown) => e instanceof bt.ConfigError);
});

test.run();
