/** multivariateNormal via the Cholesky factor: closed form, batching, agreement with diagNormal, gradients. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose, checkDirectional, randn, randSpd } from '../helpers.js';

test('closed form in d = 2: Σ = [[2, ½], [½, 1]], x = (1, −1)', () => {
  // Σ⁻¹ = [[1, −½], [−½, 2]]/1.75, so xᵀΣ⁻¹x = 4/1.75; log N = −½·4/1.75 − ½ log 1.75 − log 2π
  const L = bt.linalg.cholesky(bt.tensor([[2, 0.5], [0.5, 1]]));
  assertClose(bt.logpdf.multivariateNormal(bt.tensor([1, -1]), bt.tensor([0, 0]), L), -3.2605421032341995, 1e-14);
  assertClose(bt.logpdf.multivariateNormal(bt.tensor([2, 0]), bt.tensor([1, 1]), L), -3.2605421032341995, 1e-14);
});

test('a diagonal factor agrees with diagNormal (sd = diag L)', () => {
  const x = randn([5], 1);
  const sd = [0.5, 1, 2, 3, 0.1];
  const L = bt.diag(bt.tensor(sd));
  assertClose(bt.logpdf.multivariateNormal(x, 0.3, L), bt.logpdf.diagNormal(x, 0.3, bt.tensor(sd)), 1e-13);
});

test('batched over leading axes of x, with one factor or a batch of factors', () => {
  const d = 3;
  const L = bt.linalg.cholesky(randSpd(d, 2));
  const mean = randn([d], 3);
  const x = randn([4, 2, d], 4);
  const lp = bt.logpdf.multivariateNormal(x, mean, L);
  assert.equal(lp.shape, [4, 2]);
  const rows = bt.reshape(x, [8, d]);
  const each = Array.from({ length: 8 }, (_, i) => bt.logpdf.multivariateNormal(bt.reshape(bt.slice(rows, [i, 0], [1, d]), [d]), mean, L).item());
  assertClose(lp, each, 1e-13);
  // a batch of two factors for a batch of two points
  const L2 = bt.stack([L, bt.linalg.cholesky(randSpd(d, 9))]);
  const x2 = randn([2, d], 5);
  const lp2 = bt.logpdf.multivariateNormal(x2, mean, L2);
  assert.equal(lp2.shape, [2]);
  const second = bt.logpdf.multivariateNormal(bt.reshape(bt.slice(x2, [1, 0], [1, d]), [d]), mean, bt.reshape(bt.slice(L2, [1, 0, 0], [1, d, d]), [d, d]));
  assertClose(bt.slice(lp2, [1], [1]), [second.item()], 1e-13);
});

test('gradients in x, mean and the factor match finite differences', () => {
  const d = 3;
  const L = bt.linalg.cholesky(randSpd(d, 6));
  const mean = randn([d], 7);
  const x = randn([2, d], 8);
  checkDirectional((v) => bt.logpdf.multivariateNormal(v, mean, L), x, 1, 1e-6, 'x');
  checkDirectional((m) => bt.logpdf.multivariateNormal(x, m, L), mean, 2, 1e-6, 'mean');
  checkDirectional((l) => bt.logpdf.multivariateNormal(x, mean, bt.tril(l)), L, 3, 1e-6, 'L');
});

test('bad shapes are ShapeErrors naming them', () => {
  const L = bt.eye(3);
  assert.throws(() => bt.logpdf.multivariateNormal(bt.ones([2]), 0, L), (e: Error) => e instanceof bt.ShapeError && /\[\.\.\., 3\].*\[2\]/.test(e.message));
  assert.throws(() => bt.logpdf.multivariateNormal(bt.ones([3]), 0, bt.ones([3, 2])), (e: Error) => e instanceof bt.ShapeError && /square/.test(e.message));
  assert.throws(() => bt.logpdf.multivariateNormal(bt.ones([3]), bt.ones([2]), L), (e: Error) => e instanceof bt.ShapeError && /mean/.test(e.message));
  assert.throws(() => bt.logpdf.multivariateNormal(bt.ones([3]), 0, [[1]] as never), (e: Error) => e instanceof bt.ConfigError);
});

test.run();
