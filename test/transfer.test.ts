/**
 * bt.toBackend: pytrees of tensors moved between backends (CPU <-> WebGPU), casting floats on the
 * way when asked; bad input gives typed errors.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../src/index.js';
import { backendsUnderTest } from './backend-harness.js';

const backends = await backendsUnderTest('transfer');
const hasGpu = backends.some((b) => b.name === 'webgpu');

test('cpu -> cpu: tensors already there are returned themselves; other leaves kept', async () => {
  const w = bt.tensor([[1, 2], [3, 4]]);
  const tree = { w, steps: 3, name: 'x', list: [w, null] };
  const out = await bt.toBackend(tree, 'cpu');
  assert.is(out.w, w);
  assert.is(out.list[0], w);
  assert.is(out.steps, 3);
  assert.is(out.name, 'x');
  assert.is(out.list[1], null);
});

test('cpu float64 -> cpu float32 with { dtype }: a cast copy; int32 leaves keep their dtype', async () => {
  const x = bt.tensor([0.1, 1e-30, -2.5]);
  const i = bt.tensor([1, 2, 3], { dtype: 'int32' });
  const out = await bt.toBackend({ x, i }, 'cpu', { dtype: 'float32' });
  assert.is(out.x.dtype, 'float32');
  assert.equal([...out.x.shape], [3]);
  assert.equal(Array.from(await out.x.data()), [0.1, 1e-30, -2.5].map(Math.fround));
  assert.is(out.i, i);
  assert.is(x.isDisposed, false);
});

test('bad input: unknown backend, unknown option, bad dtype, traced value', async () => {
  const x = bt.tensor([1, 2]);
  await bt.toBackend(x, 'tpu').then(
    () => assert.unreachable('unknown backend'),
    (e: unknown) => assert.ok(e instanceof bt.BackendError && /tpu/.test((e as Error).message), String(e)),
  );
  await bt.toBackend(x, 'cpu', { dtpye: 'float32' } as never).then(
    () => assert.unreachable('unknown option'),
    (e: unknown) => assert.ok(e instanceof bt.ConfigError && /dtpye/.test((e as Error).message), String(e)),
  );
  await bt.toBackend(x, 'cpu', { dtype: 'int32' } as never).then(
    () => assert.unreachable('bad dtype'),
    (e: unknown) => assert.ok(e instanceof bt.ConfigError && /int32/.test((e as Error).message), String(e)),
  );
  let caught: unknown = null;
  bt.grad((z: bt.Tensor) => {
    bt.toBackend(z, 'cpu').catch((e: unknown) => (caught = e));
    return bt.sum(z);
  })(x);
  await new Promise((r) => setTimeout(r, 0));
  assert.ok(caught instanceof bt.ConfigError && /traced value/.test((caught as Error).message), String(caught));
});

test('a mixed-backend op names the fix, and the fix works', async () => {
  if (!hasGpu) return;
  const a = bt.tensor([1, 2, 3], { dtype: 'float32' });
  const b = bt.withBackend('webgpu', () => bt.tensor([10, 20, 30]));
  assert.throws(() => a.add(b), (e: Error) => e instanceof bt.BackendError && /bt\.toBackend\(x, 'cpu'\)/.test(e.message));
  const b2 = await bt.toBackend(b, 'cpu');
  assert.equal(Array.from(await a.add(b2).data()), [11, 22, 33]);
});

test('cpu <-> webgpu round trip of a parameter pytree (float64 -> float32 -> float64)', async () => {
  if (!hasGpu) return;
  const params = { layers: [{ w: bt.tensor([[0.5, -1], [2, 1e-3]]), b: bt.tensor([1, 2]) }], idx: bt.tensor([4, 5], { dtype: 'int32' }), lr: 0.1 };
  await bt.toBackend(params, 'webgpu').then(
    () => assert.unreachable('float64 cannot live on WebGPU'),
    (e: unknown) => assert.ok(e instanceof bt.DTypeError && /float32/.test((e as Error).message), String(e)),
  );
  const gpu = await bt.toBackend(params, 'webgpu', { dtype: 'float32' });
  assert.is(gpu.layers[0]!.w.backend, 'webgpu');
  assert.is(gpu.layers[0]!.w.dtype, 'float32');
  assert.is(gpu.idx.backend, 'webgpu');
  assert.is(gpu.idx.dtype, 'int32');
  assert.is(gpu.lr, 0.1);
  // compute there, then bring it back in float64
  const y = bt.withBackend('webgpu', () => bt.matmul(gpu.layers[0]!.w, gpu.layers[0]!.b.reshape([2, 1])));
  const back = await bt.toBackend({ y, params: gpu }, 'cpu', { dtype: 'float64' });
  assert.is(back.y.backend, 'cpu');
  assert.is(back.y.dtype, 'float64');
  assert.equal(Array.from(back.y.dataSync()), [-1.5, Math.fround(2 + Math.fround(1e-3) * 2)]);
  assert.equal(Array.from(back.params.layers[0]!.w.dataSync()), [0.5, -1, 2, Math.fround(1e-3)]);
  assert.equal(Array.from(back.params.idx.dataSync()), [4, 5]);
  bt.dispose([gpu.layers[0]!.w, gpu.layers[0]!.b, gpu.idx, y]);
});

test.run();
