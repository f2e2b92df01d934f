/** WebGPU device, pool and error handling: lost devices, GPU errors, zero-size tensors, exit. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as bt from '../../src/index.js';
import { createWebGPUBackend } from '../../src/backends/webgpu/index.js';
import { webgpuOrSkip } from './setup.js';

const gpu = await webgpuOrSkip('device');

if (gpu) {
  test('the pool recycles buffers by size class; release returns them; memory() reports live and pooled bytes', async () => {
    const run = () =>
      bt.withBackend('webgpu', () =>
        bt.tidy(() => {
          const x = bt.tensor(new Float32Array(1000));
          return bt.sum(bt.exp(bt.add(x, 1)));
        }),
      );
    const warm = run();
    await warm.data();
    warm.dispose();
    await gpu.sync();
    const before = gpu.memory();
    for (let i = 0; i < 20; i++) {
      const r = run();
      await r.data();
      r.dispose();
    }
    const after = gpu.memory();
    assert.is(after.numBytes, before.numBytes);
    assert.is(after.buffersCreated, before.buffersCreated, 'no new buffers once warm');
    assert.ok(after.pooledBytes >= 4096, 'the 4000-byte buffers sit in the 4096-byte class');
    const t = bt.withBackend('webgpu', () => bt.tensor(new Float32Array(1000)));
    assert.is(gpu.memory().numBytes, after.numBytes + 4096);
    t.dispose();
    assert.is(gpu.memory().numBytes, after.numBytes);
  });

  test('views share a buffer: it returns to the pool when the last reference goes', async () => {
    const m0 = gpu.memory().numBytes;
    const x = bt.withBackend('webgpu', () => bt.tensor([1, 2, 3, 4]));
    const v = x.reshape([2, 2]);
    x.dispose();
    assert.equal(Array.from(await v.data()), [1, 2, 3, 4]);
    assert.is(gpu.memory().numBytes, m0 + 16);
    v.dispose();
    assert.is(gpu.memory().numBytes, m0);
  });

  test('zero-size tensors', async () => {
    const z = bt.withBackend('webgpu', () => bt.tensor(new Float32Array(0)));
    assert.is((await z.data()).length, 0);
    const s = bt.withBackend('webgpu', () => bt.sum(z));
    assert.equal(Array.from(await s.data()), [0]);
    bt.dispose([z, s]);
  });

  test('an invalid user WGSL kernel surfaces as a BackendError at the next read', async () => {
    const bad = bt.definePrimitive({
      name: 'webgpuTestBadShader',
      impl: { webgpu: { shader: 'out0[i] = not_a_function(in0[i]);' } },
      nondiff: true,
    });
    const y = bt.withBackend('webgpu', () => bt.tidy(() => bad([bt.tensor([1, 2])])[0]!));
    let err: unknown = null;
    try {
      await y.data();
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof bt.BackendError, `got ${String(err)}`);
    assert.match((err as Error).message, /not_a_function/);
    y.dispose();
    // the device survives a validation error
    const ok = bt.withBackend('webgpu', () => bt.tensor([1, 2]).mul(2));
    assert.equal(Array.from(await ok.data()), [2, 4]);
    ok.dispose();
  });

  test('a lost device gives errors, not hangs; tensors on other backends are unharmed', async () => {
    const be = await createWebGPUBackend();
    bt.registerBackend('webgpu-lost-test', be);
    const cpuT = bt.withBackend('cpu', () => bt.tensor([1, 2, 3]));
    const x = bt.withBackend('webgpu-lost-test', () => bt.tensor([1, 2, 3]).mul(2));
    assert.equal(Array.from(await x.data()), [2, 4, 6]);
    const y = bt.withBackend('webgpu-lost-test', () => x.add(1));
    const pending = y.data();
    be.device.destroy();
    let err: unknown = null;
    try {
      await pending;
    } catch (e) {
      err = e;
    }
    // a read that was already queued may still complete; anything after the loss is an error
    if (err) assert.ok(err instanceof bt.BackendError, `got ${String(err)}`);
    await be.device.lost;
    assert.throws(() => bt.withBackend('webgpu-lost-test', () => bt.tensor([1])), (e: Error) => e instanceof bt.BackendError && /lost/.test(e.message));
    assert.throws(() => bt.withBackend('webgpu-lost-test', () => x.add(1)), (e: Error) => e instanceof bt.BackendError && /lost/.test(e.message));
    let readErr: unknown = null;
    try {
      await x.data();
    } catch (e) {
      readErr = e;
    }
    assert.ok(readErr instanceof bt.BackendError);
    assert.equal(Array.from(cpuT.dataSync()), [1, 2, 3]);
    x.dispose(); // releasing after the loss is harmless
    be.dispose();
  });

  test('a script that uses webgpu exits on its own (no dispose needed)', () => {
    const code = `import * as bt from './src/index.ts'; await bt.ready('webgpu'); bt.setBackend('webgpu'); const t = bt.tensor([1, 2]).add(1); console.log(Array.from(await t.data()).join(','));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: new URL('../..', import.meta.url).pathname, timeout: 60_000, encoding: 'utf8' });
    assert.is(r.signal, null, `the process had to be killed (it did not exit): ${r.stderr}`);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /2,3/);
  });

  test.run();
}
