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

  test('bind groups are cached; trim() destroys pooled buffers and drops their bind groups; results stay right', async () => {
    const be = await createWebGPUBackend({ bindGroupCacheSize: 64 });
    const tiny = await createWebGPUBackend({ bindGroupCacheSize: 3 });
    bt.registerBackend('webgpu-bg-test', be);
    bt.registerBackend('webgpu-bg-tiny', tiny);
    const run = async (k: number, name = 'webgpu-bg-test') => {
      const r = bt.withBackend(name, () =>
        bt.tidy(() => {
          const x = bt.tensor(Float32Array.from({ length: 300 }, (_, i) => i + k));
          return bt.sum(bt.mul(bt.exp(bt.mul(x, 0)), bt.add(x, 1)));
        }),
      );
      const v = (await r.data())[0]!;
      r.dispose();
      return v;
    };
    const want = (k: number) => 300 * (k + 1) + (299 * 300) / 2;
    // warm: pool and constants settle, and metadata is cached (it is uploaded per dispatch until
    // it has come in 3 submits spanning 4)
    for (let i = 0; i < 8; i++) assert.is(await run(i), want(i));
    const bg0 = be.stats.bindGroups;
    for (let i = 8; i < 13; i++) assert.is(await run(i), want(i));
    assert.is(be.stats.bindGroups - bg0, 0, 'no new bind groups once warm');
    for (let i = 0; i < 5; i++) assert.is(await run(i, 'webgpu-bg-tiny'), want(i));
    assert.ok(tiny.memory().bindGroups <= 3, 'the cache keeps to its size');
    tiny.dispose();
    be.trim(); // destroys every pooled buffer: their bind groups must go too
    assert.is(be.memory().pooledBytes, 0);
    for (let i = 10; i < 15; i++) assert.is(await run(i), want(i));
    const big = bt.withBackend('webgpu-bg-test', () => bt.tidy(() => bt.sum(bt.add(bt.tensor(new Float32Array(5000).fill(1)), 2))));
    assert.is((await big.data())[0], 15000);
    big.dispose();
    be.dispose();
  });

  test('1-element uploads: cached by dtype and bits once they come in 3 submits, shared, never back in the pool; memory() reports them apart', async () => {
    const be = await createWebGPUBackend({ constCacheSize: 4 });
    bt.registerBackend('webgpu-const-test', be);
    const on = <T>(f: () => T) => bt.withBackend('webgpu-const-test', f);
    // a submit between uploads (an empty flush submits nothing: encode a dispatch first — a
    // reduction, since an elementwise op is lazy and never computed once disposed)
    const submit = () => {
      on(() => bt.tidy(() => bt.sum(bt.tensor([0, 0])))).dispose();
      be.flush();
    };
    const m0 = be.memory();
    const a = on(() => bt.tensor([2.5]));
    const a2 = on(() => bt.tensor([2.5])); // the same submit: not counted again
    assert.is(be.memory().constBuffers, 0);
    a2.dispose();
    submit();
    on(() => bt.tensor([2.5])).dispose();
    submit();
    assert.is(be.memory().constBuffers, 0);
    const b = on(() => bt.tensor([2.5])); // the third submit: cached
    const c = on(() => bt.tensor([2.5])); // a hit: the same buffer
    const i = on(() => bt.tensor(Int32Array.from([2.5 as unknown as number])));
    assert.is(be.memory().constBuffers, 1);
    assert.is(be.memory().constBytes, 16);
    assert.is(be.memory().numBytes, m0.numBytes + 16 + 16, 'the uncached float and int32 uploads are live; the constant is apart');
    const up = be.stats.uploads;
    const d = on(() => bt.tensor([2.5]));
    assert.is(be.stats.uploads, up, 'a cache hit uploads nothing');
    // -0 and 0 are distinct bit patterns
    for (let k = 0; k < 3; k++) {
      on(() => bt.tensor([0])).dispose();
      submit();
    }
    const z1 = on(() => bt.tensor([-0]));
    assert.ok(Object.is((await z1.data())[0], -0));
    bt.dispose([b, c, d, z1]);
    // the constant outlives its tensors; reading and computing with `a` still works
    assert.equal(Array.from(await a.data()), [2.5]);
    const y = on(() => bt.tidy(() => bt.mul(a, on(() => bt.tensor([2.5])))));
    assert.equal(Array.from(await y.data()), [6.25]);
    bt.dispose([a, y, i]);
    // many distinct values: the cache keeps to its size (unreferenced ones are evicted)
    for (let k = 0; k < 30; k++) {
      for (let r = 0; r < 4; r++) {
        const t = on(() => bt.tensor([k + 0.5]));
        assert.equal(Array.from(await t.data()), [k + 0.5]); // a read submits
        t.dispose();
      }
    }
    assert.ok(be.memory().constBuffers <= 4, `${be.memory().constBuffers} cached constants`);
    assert.is(be.memory().constBytes, 4 * 16);
    await be.sync();
    assert.is(be.memory().numBytes, m0.numBytes, 'nothing else live');
    be.dispose();
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
