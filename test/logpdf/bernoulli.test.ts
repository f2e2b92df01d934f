/**
 * bernoulliLogits: values, stability at extreme logits, gradient, shape discipline.
 *
 * Every body runs on each backend (see ../backend-harness.ts): `name [cpu]` in float64 with the
 * checks and tolerances of ../helpers.ts as before, and `name [webgpu]` in float32 (the backend's
 * default float dtype), read with `await t.data()`. The float32 references are the float64
 * closed forms of the float32-rounded inputs; the tolerance is B.adRtol (64 ulps, the harness's
 * allowance for a short op chain) relative to the magnitude of the terms whose rounded sum is
 * the value: y·ℓ + log σ(−ℓ) rounds each term, so y = 1, ℓ = 2 (−0.127 = 2 − 2.127) carries the
 * rounding of |2| + |2.127|, not of the small difference.
 */
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import * as bt from '../../src/index.js';
import { assertClose } from '../helpers.js';
import { assertCloseArr, backendsUnderTest, read, registerAll, toDtype, type BackendCase } from '../backend-harness.js';

const backends = await backendsUnderTest('logpdf/bernoulli');

const logSigmoid = (v: number) => (v >= 0 ? -Math.log1p(Math.exp(-v)) : v - Math.log1p(Math.exp(v)));
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** float32: got within B.adRtol·scale of want, scale the magnitude of the summed terms (default |want|). */
async function gpuClose(B: BackendCase, got: bt.Tensor, want: number[], what: string, scale?: number[]): Promise<void> {
  assert.is(got.backend, B.name, `${what}: ran on ${B.name}`);
  assert.is(got.dtype, B.dtype, `${what}: dtype`);
  const s = scale ?? want.map(Math.abs);
  assertCloseArr(await read(got), want, 0, 0, what, s.map((v) => B.adRtol * v));
}

registerAll(backends, 'log σ(ℓ) for y = 1 and log σ(−ℓ) for y = 0', async (B) => {
  // log σ(2) = −0.12692801104297263, log σ(−2) = −2.1269280110429727
  const ys = [1, 0, 1, 0];
  const ls = [2, 2, 0, -2];
  const lp = bt.logpdf.bernoulliLogits(bt.tensor(ys), bt.tensor(ls));
  if (B.name === 'cpu') {
    assertClose(lp, [-0.12692801104297263, -2.1269280110429727, -Math.LN2, -0.12692801104297263], 1e-15);
    return;
  }
  await gpuClose(B, lp, [-0.12692801104297263, -2.1269280110429727, -Math.LN2, -0.12692801104297263], 'bernoulliLogits', ls.map((l, i) => Math.abs(ys[i]! * l) + Math.abs(logSigmoid(-l))));
});

registerAll(backends, 'stable at extreme logits: no −Infinity, no NaN', async (B) => {
  // exp(800) overflows float32 and float64 alike: a naive log σ would give −Infinity or NaN here
  const lp = bt.logpdf.bernoulliLogits(bt.tensor([1, 0, 0, 1]), bt.tensor([-800, 800, -800, 800]));
  const g = bt.grad((l: bt.Tensor) => bt.sum(bt.logpdf.bernoulliLogits(bt.tensor([1, 0]), l)))(bt.tensor([-800, 800]));
  if (B.name === 'cpu') {
    assertClose(lp, [-800, -800, 0, 0], 1e-15, 1e-300);
    assertClose(g, [1, -1], 1e-15); // d/dℓ = y − σ(ℓ)
    return;
  }
  // y = 1, ℓ = 800: 800 + log σ(−800) = 800 − 800, each term rounded relative to 800
  await gpuClose(B, lp, [-800, -800, 0, 0], 'bernoulliLogits', [800, 800, 0, 1600]);
  await gpuClose(B, g, [1, -1], 'gradient y − σ(ℓ)');
});

registerAll(backends, 'the tail is accurate, not just finite: y = 0, ℓ = −30 gives −log1p(e⁻³⁰) = −9.36e−14, not 0', async (B) => {
  // y·ℓ = 0 here, so the value is log σ(30) alone: relative accuracy, no cancellation allowance
  const want = -Math.log1p(Math.exp(-30));
  const lp = bt.logpdf.bernoulliLogits(bt.tensor([0]), bt.tensor([-30]));
  if (B.name === 'cpu') assertClose(lp, [want], 1e-14);
  else await gpuClose(B, lp, [want], 'log σ(30)');
});

registerAll(backends, 'int32 labels are accepted; the gradient is y − σ(ℓ)', async (B) => {
  const lv = [0.3, -1.2, 2];
  const yv = [1, 0, 1];
  const l = bt.tensor(lv);
  const y = bt.tensor(yv, { dtype: 'int32' });
  const g = bt.grad((z: bt.Tensor) => bt.sum(bt.logpdf.bernoulliLogits(y, z)))(l);
  if (B.name === 'cpu') {
    assertClose(g, lv.map((v, i) => yv[i]! - 1 / (1 + Math.exp(-v))), 1e-15);
    return;
  }
  const lr = lv.map((v) => toDtype(B, v));
  await gpuClose(B, g, lr.map((v, i) => yv[i]! - sigmoid(v)), 'gradient y − σ(ℓ)', lr.map((v, i) => yv[i]! + sigmoid(v)));
  // and the values: y·ℓ + log σ(−ℓ) with int32 y
  const lp = bt.logpdf.bernoulliLogits(y, l);
  await gpuClose(B, lp, lr.map((v, i) => yv[i]! * v + logSigmoid(-v)), 'values', lr.map((v, i) => Math.abs(yv[i]! * v) + Math.abs(logSigmoid(-v))));
});

registerAll(backends, 'shapes must match exactly: [n] labels vs [n, 1] logits is a ShapeError, not an [n, n] matrix', (B) => {
  assert.throws(() => bt.logpdf.bernoulliLogits(bt.ones([4]), bt.ones([4, 1])), (e: Error) => e instanceof bt.ShapeError && /\[4\].*\[4, 1\]/.test(e.message));
  assert.throws(() => bt.logpdf.bernoulliLogits(bt.ones([2]), bt.tensor([1, 2], { dtype: 'int32' })), (e: Error) => e instanceof bt.DTypeError);
  assert.is(bt.ones([2]).dtype, B.dtype);
});

test.run();
