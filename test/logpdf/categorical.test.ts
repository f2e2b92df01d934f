/** categoricalLogits: log-softmax at the label, batched, with its gradient. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose } from '../helpers.js';

test('logits[y] − logsumexp(logits)', () => {
  // logsumexp(1, 2, 3) = 3.4076059644443806
  const logits = bt.tensor([[1, 2, 3], [1, 2, 3]]);
  const lp = bt.logpdf.categoricalLogits(bt.tensor([2, 0], { dtype: 'int32' }), logits);
  assertClose(lp, [-0.4076059644443806, -2.4076059644443806], 1e-15);
  // leading batch axes
  const lp3 = bt.logpdf.categoricalLogits(bt.zeros([2, 3], 'int32'), bt.zeros([2, 3, 4]));
  assert.equal(lp3.shape, [2, 3]);
  assertClose(lp3, new Array(6).fill(-Math.log(4)), 1e-15);
});

test('gradient is onehot(y) − softmax(logits)', () => {
  const g = bt.grad((l: bt.Tensor) => bt.sum(bt.logpdf.categoricalLogits(bt.tensor([1], { dtype: 'int32' }), l)))(bt.tensor([[0, 0]]));
  assertClose(g, [-0.5, 0.5], 1e-15);
});

test('labels must be int32 with the leading shape of logits', () => {
  assert.throws(() => bt.logpdf.categoricalLogits(bt.tensor([1]), bt.zeros([1, 3])), (e: Error) => e instanceof bt.DTypeError && /int32/.test(e.message));
  assert.throws(() => bt.logpdf.categoricalLogits(bt.zeros([2], 'int32'), bt.zeros([3, 3])), (e: Error) => e instanceof bt.ShapeError && /\[2\].*\[3, 3\]/.test(e.message));
});

test.run();
