/**
 * dense: shapes, batching over leading axes, determinism by key, dtype, errors.
 *
 * Every body runs on each backend (see ../backend-harness.ts): `name [cpu]` in float64 with the
 * checks and tolerances of ../helpers.ts as before, and `name [webgpu]` in float32 (the backend's
 * default float dtype), read with `await t.data()`. Integer-valued products and sums are exact in
 * float32 and compared exactly; a row evaluated alone vs inside a batch may go through another
 * matmul tiling (another summation order), so it is compared within B.adRtol (64 ulps) of
 * Σ|xᵢ wᵢⱼ| + |bⱼ|, the magnitude of the rounded terms.
 */
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import * as bt from '../../src/index.js';
import { assertClose, randn } from '../helpers.js';
import { assertCloseArr, backendsUnderTest, randnB, read, registerAll } from '../backend-harness.js';

const backends = await backendsUnderTest('nn/dense');

const layer = bt.nn.dense({ inFeatures: 3, outFeatures: 2 });

registerAll(backends, 'init: { w [in, out], b [out] }; the same key gives the same params, another key others', async (B) => {
  const p = layer.init(bt.random.key(1));
  assert.equal(p.w.shape, [3, 2]);
  assert.equal(p.b!.shape, [2]);
  assert.equal(p.w.dtype, B.dtype);
  assert.is(p.w.backend, B.name);
  const w = await read(p.w);
  assert.equal(await read(layer.init(bt.random.key(1)).w), w);
  assert.not.equal(await read(layer.init(bt.random.key(2)).w), w);
  assert.equal(Object.keys(bt.nn.dense({ inFeatures: 3, outFeatures: 2, bias: false }).init(bt.random.key(1))), ['w']);
  // glorotUniform bounds, and zero biases
  const a = Math.sqrt(6 / 5);
  assert.ok(w.every((v) => Math.abs(v) <= a * (1 + B.eps)), `|w| ≤ √(6/5): ${w}`);
  assert.equal(await read(p.b!), [0, 0]);
  if (B.name === 'webgpu') {
    // the same float32 stream as the CPU's: uniform draws are exact functions of the Threefry bits,
    // the scaling to (−a, a) is two float32 operations (multiply-add and a max)
    const cpu = bt.withBackend('cpu', () => Array.from(bt.nn.dense({ inFeatures: 3, outFeatures: 2, dtype: 'float32' }).init(bt.random.key(1)).w.dataSync()));
    assertCloseArr(w, cpu, 0, 0, 'webgpu vs cpu float32 init', cpu.map(() => 2 * a * B.eps));
  }
});

registerAll(backends, 'apply: y = x·w + b for one input, a batch, and a batch of batches', async (B) => {
  const wv = [[1, 2], [3, 4], [5, 6]];
  const p = { w: bt.tensor(wv), b: bt.tensor([0.5, -0.5]) };
  const one = layer.apply(p, bt.tensor([1, 0, -1]));
  const x = B.name === 'cpu' ? randn([4, 5, 3], 3) : randnB(B, [4, 5, 3], 3);
  const y = layer.apply(p, x);
  assert.equal(y.shape, [4, 5, 2]);
  // each row on its own gives the same numbers
  const row = layer.apply(p, bt.reshape(bt.slice(x, [2, 3, 0], [1, 1, 3]), [3]));
  const noBias = bt.nn.dense({ inFeatures: 3, outFeatures: 2, bias: false });
  const nb = noBias.apply({ w: p.w }, bt.tensor([1, 0, -1]));
  if (B.name === 'cpu') {
    assertClose(one, [-3.5, -4.5], 0, 0);
    assertClose(bt.reshape(bt.slice(y, [2, 3, 0], [1, 1, 2]), [2]), row, 1e-15);
    assertClose(nb, [-4, -4], 0, 0);
    return;
  }
  assert.is(y.dtype, B.dtype);
  await assertClose2(one, [-3.5, -4.5], [0, 0], 'one input (exact)');
  await assertClose2(nb, [-4, -4], [0, 0], 'no bias (exact)');
  // every row of the batch of batches against the host product of the float32 inputs
  const xv = await read(x);
  const want: number[] = [];
  const scale: number[] = [];
  for (let r = 0; r < 20; r++) {
    for (let j = 0; j < 2; j++) {
      let s = [0.5, -0.5][j]!;
      let a = 0.5;
      for (let i = 0; i < 3; i++) {
        s += xv[r * 3 + i]! * wv[i]![j]!;
        a += Math.abs(xv[r * 3 + i]! * wv[i]![j]!);
      }
      want.push(s);
      scale.push(B.adRtol * a);
    }
  }
  await assertClose2(y, want, scale, '[4, 5, 3] batch');
  const k = (2 * 5 + 3) * 2;
  await assertClose2(row, want.slice(k, k + 2), scale.slice(k, k + 2), 'row [2, 3] alone');

  async function assertClose2(got: bt.Tensor, w: number[], tol: number[], what: string) {
    assertCloseArr(await read(got), w, 0, 0, what, tol);
  }
});

registerAll(backends, 'dtype: float32 params, and a float64 input is a DTypeError', async (B) => {
  const l32 = bt.nn.dense({ inFeatures: 3, outFeatures: 2, dtype: 'float32' });
  const p = l32.init(bt.random.key(0));
  assert.is(p.w.dtype, 'float32');
  assert.is(p.b!.dtype, 'float32');
  assert.is(l32.apply(p, bt.ones([3], 'float32')).dtype, 'float32');
  assert.throws(() => bt.nn.dense({ inFeatures: 3, outFeatures: 2, dtype: 'int32' as never }), (e: Error) => e instanceof bt.DTypeError);
  if (B.name === 'cpu') {
    assert.throws(() => l32.apply(p, bt.ones([3])), (e: Error) => e instanceof bt.DTypeError && /astype\('float32'\)/.test(e.message));
    return;
  }
  // WebGPU holds no float64 tensors: asking for float64 params is a DTypeError at init, and an
  // input of another dtype (int32 here) is the DTypeError naming the cast
  assert.is(p.w.backend, 'webgpu');
  const l64 = bt.nn.dense({ inFeatures: 3, outFeatures: 2, dtype: 'float64' });
  assert.throws(() => l64.init(bt.random.key(0)), (e: Error) => e instanceof bt.DTypeError && /float64/.test(e.message));
  assert.throws(() => l32.apply(p, bt.ones([3], 'int32')), (e: Error) => e instanceof bt.DTypeError && /astype\('float32'\)/.test(e.message));
  assert.equal(await read(l32.apply(p, bt.zeros([3]))), [0, 0]);
});

registerAll(backends, 'bad input: options, keys, parameter trees and input shapes', () => {
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
