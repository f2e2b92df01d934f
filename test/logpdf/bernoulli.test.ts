/** bernoulliLogits: values, stability at extreme logits, gradient, shape discipline. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose } from '../helpers.js';

test('log σ(ℓ) for y = 1 and log σ(−ℓ) for y = 0', () => {
  // log σ(2) = −0.12692801104297263, log σ(−2) = −2.1269280110429727
  const lp = bt.logpdf.bernoulliLogits(bt.tensor([1, 0, 1, 0]), bt.tensor([2, 2, 0, -2]));
  assertClose(lp, [-0.12692801104297263, -2.1269280110429727, -Math.LN2, -0.12692801104297263], 1e-15);
});

test('stable at extreme logits: no −Infinity, no NaN', () => {
  const lp = bt.logpdf.bernoulliLogits(bt.tensor([1, 0, 0, 1]), bt.tensor([-800, 800, -800, 800]));
  assertClose(lp, [-800, -800, 0, 0], 1e-15, 1e-300);
  const g = bt.grad((l: bt.Tensor) => bt.sum(bt.logpdf.bernoulliLogits(bt.tensor([1, 0]), l)))(bt.tensor([-800, 800]));
  assertClose(g, [1, -1], 1e-15); // d/dℓ = y − σ(ℓ)
});

test('int32 labels are accepted; the gradient is y − σ(ℓ)', () => {
  const l = bt.tensor([0.3, -1.2, 2]);
  const y = bt.tensor([1, 0, 1], { dtype: 'int32' });
  const g = bt.grad((z: bt.Tensor) => bt.sum(bt.logpdf.bernoulliLogits(y, z)))(l);
  assertClose(g, [0.3, -1.2, 2].map((v, i) => [1, 0, 1][i]! - 1 / (1 + Math.exp(-v))), 1e-15);
});

test('shapes must match exactly: [n] labels vs [n, 1] logits is a ShapeError, not an [n, n] matrix', () => {
  assert.throws(() => bt.logpdf.bernoulliLogits(bt.ones([4]), bt.ones([4, 1])), (e: Error) => e instanceof bt.ShapeError && /\[4\].*\[4, 1\]/.test(e.message));
  assert.throws(() => bt.logpdf.bernoulliLogits(bt.ones([2]), bt.tensor([1, 2], { dtype: 'int32' })), (e: Error) => e instanceof bt.DTypeError);
});

test.run();
