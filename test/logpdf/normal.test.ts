/**
 * normal (elementwise) and diagNormal (summed over a pytree), against closed forms.
 *
 * Every body runs on each backend (see ../backend-harness.ts): `name [cpu]` in float64 with the
 * checks and tolerances of ../helpers.ts as before, and `name [webgpu]` in float32, read with
 * `await t.data()`. The float32 references are the float64 closed forms of the float32-rounded
 * inputs; the tolerance is B.adRtol (64 ulps, the harness's allowance for a short op chain)
 * relative to the magnitude of the rounded terms, Σ |½z²| + |log sd| + ½ log 2π (a sum over
 * leaves rounds each partial sum, and the terms may cancel). The sd-gradient is checked against
 * the harness's host float64 central differences of backend evaluations.
 */
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import * as bt from '../../src/index.js';
import { assertClose, numericGrad } from '../helpers.js';
import { assertCloseArr, assertJacobianVsFD, backendsUnderTest, numericJacobian, read, registerAll, toDtype, type BackendCase } from '../backend-harness.js';

const backends = await backendsUnderTest('logpdf/normal');

const HALF_LOG_2PI = 0.9189385332046727; // scipy.stats.norm.logpdf(0) = −0.9189385332046727

/** float32: got within B.adRtol·scale of want (scale default |want|). */
async function gpuClose(B: BackendCase, got: bt.Tensor, want: number[], what: string, scale?: number[]): Promise<void> {
  assert.is(got.backend, B.name, `${what}: ran on ${B.name}`);
  assert.is(got.dtype, B.dtype, `${what}: dtype`);
  const s = scale ?? want.map(Math.abs);
  assertCloseArr(await read(got), want, 0, 0, what, s.map((v) => B.adRtol * v));
}

/** log N(x | m, s²) in float64 of the backend's inputs, and the magnitude of its terms. */
function term(B: BackendCase, x: number, m: number, s: number, normalize = true): { v: number; a: number } {
  const [xr, mr, sr] = [x, m, s].map((u) => toDtype(B, u));
  const q = -0.5 * ((xr! - mr!) / sr!) ** 2;
  if (!normalize) return { v: q, a: Math.abs(q) };
  return { v: q - Math.log(sr!) - HALF_LOG_2PI, a: Math.abs(q) + Math.abs(Math.log(sr!)) + HALF_LOG_2PI };
}

/** Σ of terms: value and the sum of the terms' magnitudes. */
const total = (ts: { v: number; a: number }[]) => ts.reduce((t, u) => ({ v: t.v + u.v, a: t.a + u.a }), { v: 0, a: 0 });

registerAll(backends, 'normal: scipy.stats.norm.logpdf values, elementwise with broadcasting', async (B) => {
  // norm.logpdf(1.5, loc=0.5, scale=2) = −0.125 − log 2 − ½log 2π
  const a = bt.logpdf.normal(bt.tensor(1.5), 0.5, 2);
  const b = bt.logpdf.normal(bt.tensor([0]), 0, 1);
  const lp = bt.logpdf.normal(bt.tensor([[0], [1]]), bt.tensor([0, 1, 2]), bt.tensor([1, 2, 4]));
  assert.equal(lp.shape, [2, 3]);
  const c = bt.tidy(() => bt.logpdf.normal(bt.tensor(1), 2, 4));
  // normalize: false keeps only the quadratic
  const q = bt.logpdf.normal(bt.tensor(1.5), 0.5, 2, { normalize: false });
  if (B.name === 'cpu') {
    assertClose(a, -1.737085713764618, 1e-15);
    assertClose(b, [-HALF_LOG_2PI], 1e-15);
    assertClose(c, -0.5 / 16 - Math.log(4) - HALF_LOG_2PI, 1e-15);
    assertClose(q, -0.125, 0, 0);
    return;
  }
  const ta = term(B, 1.5, 0.5, 2);
  await gpuClose(B, a, [-1.737085713764618], 'normal(1.5 | 0.5, 2)', [ta.a]);
  await gpuClose(B, b, [-HALF_LOG_2PI], 'normal(0 | 0, 1)');
  const grid = [0, 1].flatMap((x) => [[0, 1], [1, 2], [2, 4]].map(([m, s]) => term(B, x, m!, s!)));
  await gpuClose(B, lp, grid.map((t) => t.v), 'broadcast [2, 1] × [3]', grid.map((t) => t.a));
  const tc = term(B, 1, 2, 4);
  await gpuClose(B, c, [tc.v], 'inside tidy', [tc.a]);
  // (1.5 − 0.5)/2 = 0.5 exactly, squared and halved: exact in float32 too
  await gpuClose(B, q, [-0.125], 'normalize: false', [0]);
});

registerAll(backends, 'diagNormal: Σ over every leaf of a nested pytree; numbers and trees for mean and sd', async (B) => {
  const x = { a: bt.tensor([1, -1]), b: [{ c: bt.tensor([[2]]) }] };
  const closed = (m: number[], s: number[]) => [1, -1, 2].reduce((t, v, i) => t - 0.5 * ((v - m[i]!) / s[i]!) ** 2 - Math.log(s[i]!) - HALF_LOG_2PI, 0);
  const scaleOf = (m: number[], s: number[]) => total([1, -1, 2].map((v, i) => term(B, v, m[i]!, s[i]!))).a;
  const mean = { a: bt.tensor([0.5, 0]), b: [{ c: bt.tensor([[1]]) }] };
  const sd = { a: bt.tensor([2, 3]), b: [{ c: 0.5 }] };
  // a broadcast sd ([1] against [2]) counts its log once per element it covers
  const sdB = { a: bt.tensor([2]), b: [{ c: bt.tensor([[2]]) }] };
  const v1 = bt.logpdf.diagNormal(x, 0, 1);
  const v2 = bt.logpdf.diagNormal(x, mean, sd);
  const v3 = bt.logpdf.diagNormal(x, 0, sdB);
  // a single Tensor is a tree of one leaf
  const v4 = bt.logpdf.diagNormal(bt.tensor([1, 2]), bt.tensor([0, 0]), 2);
  const w4 = [1, 2].reduce((t, v) => t - 0.5 * (v / 2) ** 2 - Math.log(2) - HALF_LOG_2PI, 0);
  if (B.name === 'cpu') {
    assertClose(v1, closed([0, 0, 0], [1, 1, 1]), 1e-15);
    assertClose(v2, closed([0.5, 0, 1], [2, 3, 0.5]), 1e-15);
    assertClose(v3, closed([0, 0, 0], [2, 2, 2]), 1e-15);
    assertClose(v4, w4, 1e-15);
    return;
  }
  await gpuClose(B, v1, [closed([0, 0, 0], [1, 1, 1])], 'mean 0, sd 1', [scaleOf([0, 0, 0], [1, 1, 1])]);
  await gpuClose(B, v2, [closed([0.5, 0, 1], [2, 3, 0.5])], 'tree mean and sd', [scaleOf([0.5, 0, 1], [2, 3, 0.5])]);
  await gpuClose(B, v3, [closed([0, 0, 0], [2, 2, 2])], 'broadcast sd', [scaleOf([0, 0, 0], [2, 2, 2])]);
  await gpuClose(B, v4, [w4], 'a single Tensor', [total([1, 2].map((v) => term(B, v, 0, 2))).a]);
});

registerAll(backends, 'diagNormal normalize: false is −½ Σ ((x − mean)/sd)², as posteriors', async (B) => {
  const x = { w: bt.tensor([1, 2, 3]) };
  const v = bt.logpdf.diagNormal(x, 1, 2, { normalize: false });
  // the gradient is −(x − mean)/sd² with or without the constant
  const g = bt.grad((p: { w: bt.Tensor }) => bt.logpdf.diagNormal(p, 1, 2, { normalize: false }))(x) as { w: bt.Tensor };
  const sdLoss = (s: bt.Tensor) => bt.logpdf.diagNormal(x.w, 1, s);
  const gs = bt.grad(sdLoss)(bt.tensor([2, 2, 2]));
  if (B.name === 'cpu') {
    assertClose(v, -0.5 * (0 + 0.25 + 1), 1e-15);
    assertClose(g.w, [0, -0.25, -0.5], 1e-15);
    assertClose(gs, numericGrad(sdLoss, bt.tensor([2, 2, 2])), 1e-7, 1e-8);
    return;
  }
  await gpuClose(B, v, [-0.5 * (0 + 0.25 + 1)], 'normalize: false');
  await gpuClose(B, g.w, [0, -0.25, -0.5], 'gradient in x');
  // d/ds [−½((x − 1)/s)² − log s] = (x − 1)²/s³ − 1/s, against the closed form and host FD
  await gpuClose(B, gs, [0, 1, 2].map((d) => d * d / 8 - 0.5), 'gradient in sd (closed form)', [0, 1, 2].map((d) => d * d / 8 + 0.5));
  const s0 = bt.tensor([2, 2, 2]);
  await assertJacobianVsFD(B, gs, await numericJacobian(B, sdLoss, s0), 'gradient in sd vs FD');
});

registerAll(backends, 'bad input: structures, shapes that would enlarge the sum, non-positive sd, options', () => {
  const x = { a: bt.tensor([1, 2]) };
  assert.throws(() => bt.logpdf.diagNormal(x, { b: bt.tensor([0, 0]) }, 1), (e: Error) => e instanceof bt.ShapeError && /x and mean/.test(e.message));
  assert.throws(() => bt.logpdf.diagNormal(x, { a: bt.zeros([3, 2]) }, 1), (e: Error) => e instanceof bt.ShapeError && /enlarge/.test(e.message));
  assert.throws(() => bt.logpdf.diagNormal(x, 0, { a: bt.ones([3]) }), (e: Error) => e instanceof bt.ShapeError);
  assert.throws(() => bt.logpdf.diagNormal(x, 0, -1), (e: Error) => e instanceof bt.ConfigError && /sd must be > 0, got -1/.test(e.message));
  assert.throws(() => bt.logpdf.diagNormal({ a: [1, 2] }, 0, 1), (e: Error) => e instanceof bt.ConfigError && /a\[0\]/.test(e.message));
  assert.throws(() => bt.logpdf.diagNormal(x, 0, 1, { normalise: false } as never), (e: Error) => e instanceof bt.ConfigError && /unknown option 'normalise'/.test(e.message));
  assert.throws(() => bt.logpdf.normal([1] as never, 0, 1), (e: Error) => e instanceof bt.ConfigError);
});

test.run();
