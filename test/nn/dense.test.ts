/** dense: shapes, batching over leading axes, determinism by key, dtype, errors. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose, randn } from '../helpers.js';

const layer = bt.nn.dense({ inFeatures: 3, outFeatures: 2 });

test('init: { w [in, out], b [out] }; the same key gives the same params, another key others', () => {
  const p = layer.init(bt.random.key(1));
  assert.equal(p.w.shape, [3, 2]);
  assert.equal(p.b!.shape, [2]);
  assert.equal(p.w.dtype, 'float64');
  assertClose(layer.init(bt.random.key(1)).w, p.w, 0, 0);
  assert.not.equal([...layer.init(bt.random.key(2)).w.dataSync()], [...p.w.dataSync()]);
  assert.equal(Object.keys(bt.nn.dense({ inFeatures: 3, outFeatures: 2, bias: false }).init(bt.random.key(1))), ['w']);
});

test('apply: y = x·w + b for one input, a batch, and a batch of batches', () => {
  const p = { w: bt.tensor([[1, 2], [3, 4], [5, 6]]), b: bt.tensor([0.5, -0.5]) };
  assertClose(layer.apply(p, bt.tensor([1, 0, -1])), [-3.5, -4.5], 0, 0);
  const x = randn([4, 5, 3], 3);
  const y = layer.apply(p, x);
  assert.equal(y.shape, [4, 5, 2]);
  // each row on its own gives the same numbers
  const row = layer.apply(p, bt.reshape(bt.slice(x, [2, 3, 0], [1, 1, 3]), [3]));
  assertClose(bt.reshape(bt.slice(y, [2, 3, 0], [1, 1, 2]), [2]), row, 1e-15);
  const noBias = bt.nn.dense({ inFeatures: 3, outFeatures: 2, bias: false });
  assertClose(noBias.apply({ w: p.w }, bt.tensor([1, 0, -1])), [-4, -4], 0, 0);
});

test('dtype: float32 params, and a float64 input is a DTypeError', () => {
  const l32 = bt.nn.dense({ inFeatures: 3, outFeatures: 2, dtype: 'float32' });
  const p = l32.init(bt.random.key(0));
  assert.is(p.w.dtype, 'float32');
  assert.is(p.b!.dtype, 'float32');
  assert.is(l32.apply(p, bt.ones([3], 'float32')).dtype, 'float32');
  assert.throws(() => l32.apply(p, bt.ones([3])), (e: Error) => e instanceof bt.DTypeError && /astype\('float32'\)/.test(e.message));
  assert.throws(() => bt.nn.dense({ inFeatures: 3, outFeatures: 2, dtype: 'int32' as never }), (e: Error) => e instanceof bt.DTypeError);
});

test('bad input: options, keys, parameter trees and input shapes', () => {
  const p = layer.init(bt.random.key(0));
  assert.throws(() => layer.apply(p, bt.ones([4, 2])), (e: Error) => e instanceof bt.ShapeError && /\[\.\.\., 3\].*\[4, 2\]/.test(e.message));
  assert.throws(() => layer.apply(p, bt.ones([])), (e: Error) => e instanceof bt.ShapeError);
  assert.throws(() => layer.apply({ w: bt.ones([2, 3]), b: p.b }, bt.ones([3])), (e: Error) => e instanceof bt.ShapeError && /w must be \[3, 2\]/.test(e.message));
  assert.throws(() => layer.apply({ w: p.w }, bt.ones([3])), (e: Error) => e instanceof bt.ShapeError && /b must be/.test(e.message));
  assert.throws(() => layer.apply({} as never, bt.ones([3])), (e: Error) => e instanceof bt.ConfigError);
  assert.throws(() => layer.init(bt.tensor([1, 2])), (e: Error) => e instanceof bt.DTypeError && /PRNG key/.test(e.message));
  assert.throws(() => layer.init(bt.random.split(bt.random.key(0), 3)), (e: Error) => e instanceof bt.ShapeError && /\[2\]/.test(e.message));
  assert.throws(() => bt.nn.dense({ inFeatures: 0, outFeatures: 2 }), (e: Error) => e instanceof bt.ConfigError && /inFeatures must be >= 1, got 0/.test(e.message));
  assert.throws(() => bt.nn.dense({ inFeatures: 2.5, outFeatures: 2 }), (e: Error) => e instanceof bt.ConfigError && /integer/.test(e.message));
  assert.throws(() => bt.nn.dense({ inFeatures: 2, outFeatures: 2, activation: 'tanh' } as never), (e: Error) => e instanceof bt.ConfigError && /unknown option 'activation'/.test(e.message));
});

test.run();
