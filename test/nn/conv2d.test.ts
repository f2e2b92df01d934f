/** nn.conv2d: shapes, determinism by key, equals bt.conv2d + b, a small CNN's gradient flows; errors. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';

test('nn.conv2d: shapes, same key same params, apply = bt.conv2d + b, CNN gradient', () => {
  const layer = bt.nn.conv2d({ inFeatures: 1, features: 4, kernelSize: [3, 3], strides: [2, 2] });
  const p = layer.init(bt.random.key(0));
  assert.equal(p.w.shape, [3, 3, 1, 4]);
  assert.equal(layer.init(bt.random.key(0)).w.toArray(), p.w.toArray());
  const x = bt.random.normal(bt.random.key(1), [2, 8, 8, 1]);
  const y = layer.apply(p, x);
  assert.equal(y.shape, [2, 4, 4, 4]);
  const ref = bt.add(bt.conv2d(x, p.w, { strides: [2, 2], padding: 'SAME' }), p.b!);
  assert.equal(y.toArray(), ref.toArray());
  const head = bt.nn.dense({ inFeatures: 4, outFeatures: 2 });
  const hp = head.init(bt.random.key(2));
  const loss = (w: bt.Tensor) => bt.sum(bt.square(head.apply(hp, bt.nn.globalAveragePool(bt.nn.leakyRelu(layer.apply({ w, b: p.b! }, x))))));
  const g = bt.grad(loss)(p.w) as bt.Tensor;
  assert.equal(g.shape, [3, 3, 1, 4]);
  assert.ok(g.dataSync().some((v) => v !== 0));
  assert.throws(() => layer.apply(p, bt.zeros([2, 8, 8, 3])), (e: Error) => e instanceof bt.ShapeError);
  assert.throws(() => bt.nn.conv2d({ inFeatures: 1, features: 4, kernelSize: [0, 3] }), (e: Error) => e instanceof bt.ConfigError);
});

test.run();
