/** normal (elementwise) and diagNormal (summed over a pytree), against closed forms. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose, numericGrad } from '../helpers.js';

const HALF_LOG_2PI = 0.9189385332046727; // scipy.stats.norm.logpdf(0) = −0.9189385332046727

test('normal: scipy.stats.norm.logpdf values, elementwise with broadcasting', () => {
  // norm.logpdf(1.5, loc=0.5, scale=2) = −0.125 − log 2 − ½log 2π
  assertClose(bt.logpdf.normal(bt.tensor(1.5), 0.5, 2), -1.737085713764618, 1e-15);
  assertClose(bt.logpdf.normal(bt.tensor([0]), 0, 1), [-HALF_LOG_2PI], 1e-15);
  const lp = bt.logpdf.normal(bt.tensor([[0], [1]]), bt.tensor([0, 1, 2]), bt.tensor([1, 2, 4]));
  assert.equal(lp.shape, [2, 3]);
  assertClose(bt.tidy(() => bt.logpdf.normal(bt.tensor(1), 2, 4)), -0.5 / 16 - Math.log(4) - HALF_LOG_2PI, 1e-15);
  // normalize: false keeps only the quadratic
  assertClose(bt.logpdf.normal(bt.tensor(1.5), 0.5, 2, { normalize: false }), -0.125, 0, 0);
});

test('diagNormal: Σ over every leaf of a nested pytree; numbers and trees for mean and sd', () => {
  const x = { a: bt.tensor([1, -1]), b: [{ c: bt.tensor([[2]]) }] };
  const closed = (m: number[], s: number[]) => [1, -1, 2].reduce((t, v, i) => t - 0.5 * ((v - m[i]!) / s[i]!) ** 2 - Math.log(s[i]!) - HALF_LOG_2PI, 0);
  assertClose(bt.logpdf.diagNormal(x, 0, 1), closed([0, 0, 0], [1, 1, 1]), 1e-15);
  const mean = { a: bt.tensor([0.5, 0]), b: [{ c: bt.tensor([[1]]) }] };
  const sd = { a: bt.tensor([2, 3]), b: [{ c: 0.5 }] };
  assertClose(bt.logpdf.diagNormal(x, mean, sd), closed([0.5, 0, 1], [2, 3, 0.5]), 1e-15);
  // a broadcast sd ([1] against [2]) counts its log once per element it covers
  const sdB = { a: bt.tensor([2]), b: [{ c: bt.tensor([[2]]) }] };
  assertClose(bt.logpdf.diagNormal(x, 0, sdB), closed([0, 0, 0], [2, 2, 2]), 1e-15);
  // a single Tensor is a tree of one leaf
  assertClose(bt.logpdf.diagNormal(bt.tensor([1, 2]), bt.tensor([0, 0]), 2), [1, 2].reduce((t, v) => t - 0.5 * (v / 2) ** 2 - Math.log(2) - HALF_LOG_2PI, 0), 1e-15);
});

test('diagNormal normalize: false is −½ Σ ((x − mean)/sd)², as posteriors', () => {
  const x = { w: bt.tensor([1, 2, 3]) };
  assertClose(bt.logpdf.diagNormal(x, 1, 2, { normalize: false }), -0.5 * (0 + 0.25 + 1), 1e-15);
  // the gradient is −(x − mean)/sd² with or without the constant
  const g = bt.grad((p: { w: bt.Tensor }) => bt.logpdf.diagNormal(p, 1, 2, { normalize: false }))(x) as { w: bt.Tensor };
  assertClose(g.w, [0, -0.25, -0.5], 1e-15);
  const gs = bt.grad((s: bt.Tensor) => bt.logpdf.diagNormal(x.w, 1, s))(bt.tensor([2, 2, 2]));
  assertClose(gs, numericGrad((s) => bt.logpdf.diagNormal(x.w, 1, s), bt.tensor([2, 2, 2])), 1e-7, 1e-8);
});

test('bad input: structures, shapes that would enlarge the sum, non-positive sd, options', () => {
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
