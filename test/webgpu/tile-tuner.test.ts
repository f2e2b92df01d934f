/**
 * The matmul's tile autotuner (src/backends/webgpu/tile-tuner.ts) where the device has
 * 'timestamp-query' (lavapipe has; being a software adapter it tunes only when asked, as here
 * with tuneMatmul: true): the first large product of a shape class starts timing every tile on the
 * GPU in the background, the class then runs with the fastest, and the values never change — every
 * tile sums over K in the same order, so each gives the same bits.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { createWebGPUBackend, type WebGPUBackend } from '../../src/backends/webgpu/index.js';
import { fitsDevice, setTileOverride, shapeClass, TILE_CANDIDATES } from '../../src/backends/webgpu/kernels/matmul.js';
import { webgpuJitStats } from '../../src/jit/webgpu/compile.js';
import { webgpuOrSkip } from './setup.js';

const gpu = await webgpuOrSkip('tile-tuner');

if (gpu) {
  const timestamps = gpu.device.features.has('timestamp-query');
  const turn = () => new Promise((r) => setTimeout(r, 0));
  const sameBits = (x: Float32Array, y: Float32Array) => x.length === y.length && x.every((v, i) => Object.is(v, y[i]) || (v === 0 && y[i] === 0));

  test('every tile configuration gives the same bits (so a tuned choice changes speed, not values)', async () => {
    const [M, K, N] = [160, 300, 260];
    const a = bt.withBackend('webgpu', () => bt.keep(bt.random.normal(bt.random.key(1), [M, K])));
    const b = bt.withBackend('webgpu', () => bt.keep(bt.random.normal(bt.random.key(2), [K, N])));
    const run = async () => {
      const c = bt.withBackend('webgpu', () => bt.matmul(a, b));
      const d = (await c.data()) as Float32Array;
      c.dispose();
      return d;
    };
    setTileOverride(TILE_CANDIDATES[2]!);
    let ref: Float32Array;
    try {
      ref = await run();
    } finally {
      setTileOverride(null);
    }
    for (const tile of TILE_CANDIDATES) {
      if (!fitsDevice(tile, gpu.device.limits)) continue;
      setTileOverride(tile);
      try {
        assert.ok(sameBits(await run(), ref), `tile ${JSON.stringify(tile)}: the same bits as the 32×32 tile`);
      } finally {
        setTileOverride(null);
      }
    }
    bt.dispose([a, b]);
  });

  if (timestamps) {
    test('the first large product of a shape class is timed under every tile; the class then runs with the fastest, same values', async () => {
      // on by default on a GPU with timestamps; a software adapter (lavapipe, here) tunes when asked
      assert.is(gpu.tiles.enabled, !gpu.adapterInfo.isFallbackAdapter, 'the default');
      const be = await createWebGPUBackend({ tuneMatmul: true });
      bt.registerBackend('webgpu-tuner', be);
      assert.ok(be.tiles.enabled);
      const [a, b] = bt.withBackend('webgpu-tuner', () => bt.keep([bt.random.normal(bt.random.key(3), [512, 256]), bt.random.normal(bt.random.key(4), [256, 384])]));
      const cls = shapeClass(512, 384, 256, 1, false, false); // 2·512·384·256 ≈ 1e8 flops: worth tuning
      const product = async () => {
        const c = bt.withBackend('webgpu-tuner', () => bt.matmul(a!, b!));
        const d = (await c.data()) as Float32Array;
        c.dispose();
        return d;
      };
      assert.is(be.tiles.tile(cls), undefined, 'not tuned yet');
      const first = await product();
      // the candidates compile in the background, then run; their timestamps come back later
      assert.is(be.tiles.inFlight, 1, 'tuning started, the product did not wait for it');
      const t0 = Date.now();
      while (be.tiles.log.length === 0 && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 20));
      assert.is(be.tiles.log.length, 1, 'one tuning run');
      const entry = be.tiles.log[0]!;
      assert.is(entry.cls, cls);
      assert.ok(entry.tiles.length >= 2, 'several tiles timed');
      assert.ok(entry.ns.every((x) => x > 0), `GPU times of every tile: ${entry.ns.join(', ')}`);
      const fastest = entry.ns.indexOf(Math.min(...entry.ns));
      // the pick: the fastest tile when it beats the kernel's own by 3%, else the kernel's own (null)
      if (entry.picked) assert.is(entry.picked, entry.tiles[fastest], 'the fastest tile');
      else assert.ok(entry.ns[fastest]! >= 0.97 * entry.ns[0]!, 'kept the kernel\'s own tile: nothing 3% faster');
      assert.is(be.tiles.tile(cls), entry.picked, 'the class keeps the pick');
      const pipelines = be.stats.pipelines;
      const second = await product();
      assert.ok(sameBits(first, second), 'same values after tuning');
      assert.is(be.stats.pipelines, pipelines, 'the tuned tile was compiled while tuning');
      await product();
      assert.is(be.tiles.log.length, 1, 'a class is tuned once');
      bt.dispose([a, b]);
      be.dispose();
    });

    test('small products are not tuned, and tuneMatmul: false turns the tuner off', async () => {
      const be = await createWebGPUBackend({ tuneMatmul: true });
      // through the public factory, as a user would turn it off
      const off = (await bt.createWebGPU({ tuneMatmul: false })) as WebGPUBackend;
      bt.registerBackend('webgpu-tuner-small', be);
      bt.registerBackend('webgpu-tuner-off', off);
      assert.not.ok(off.tiles.enabled);
      for (const name of ['webgpu-tuner-small', 'webgpu-tuner-off']) {
        const n = name === 'webgpu-tuner-small' ? 64 : 512; // 64³·2 flops: below the threshold
        const c = bt.withBackend(name, () => bt.tidy(() => bt.matmul(bt.ones([n, n]), bt.ones([n, n]))));
        assert.is((await c.data())[0], n);
        c.dispose();
      }
      for (let i = 0; i < 5; i++) await turn();
      assert.is(be.tiles.log.length, 0, 'a 64×64 product is not worth timing');
      assert.is(off.tiles.log.length, 0, 'tuneMatmul: false times nothing');
      be.dispose();
      off.dispose();
    });
    test('a jit program recorded while its matmul was being tuned is recorded again, once, with the same values', async () => {
      const be = await createWebGPUBackend({ tuneMatmul: true });
      bt.registerBackend('webgpu-tuner-jit', be);
      const [a, b] = bt.withBackend('webgpu-tuner-jit', () => bt.keep([bt.random.normal(bt.random.key(5), [512, 256]), bt.random.normal(bt.random.key(6), [256, 384])]));
      const cls = shapeClass(512, 384, 256, 1, false, false);
      const f = bt.jit((x: bt.Tensor, y: bt.Tensor) => bt.tanh(bt.matmul(x, y)));
      const call = async () => {
        const c = bt.withBackend('webgpu-tuner-jit', () => f(a!, b!));
        const d = (await c.data()) as Float32Array;
        c.dispose();
        return d;
      };
      const retuned0 = webgpuJitStats.retuned;
      const first = await call(); // recorded now; the recording starts the tuner on its product
      assert.ok(be.tiles.isTuning(cls) || be.tiles.tile(cls) !== undefined, 'the recorded product started tuning');
      await be.tiles.settled();
      const second = await call();
      const picked = be.tiles.tile(cls);
      assert.is(webgpuJitStats.retuned - retuned0, picked ? 1 : 0, picked ? 'recorded again with the tuned tile' : 'the recorded tile won: nothing to record again');
      assert.ok(sameBits(first, second), 'the same values');
      await call();
      assert.is(webgpuJitStats.retuned - retuned0, picked ? 1 : 0, 'once');
      bt.dispose([a, b]);
      f.clearCache();
      be.dispose();
    });

    test('a backend disposed while its tuner is compiling or timing ends quietly', async () => {
      for (const waitMs of [0, 30, 300]) {
        const be = await createWebGPUBackend({ tuneMatmul: true });
        bt.registerBackend('webgpu-tuner-dispose', be);
        const c = bt.withBackend('webgpu-tuner-dispose', () => bt.tidy(() => bt.matmul(bt.ones([512, 256]), bt.ones([256, 384]))));
        assert.is((await c.data())[0], 256);
        c.dispose();
        await new Promise((r) => setTimeout(r, waitMs));
        be.dispose();
        await Promise.race([be.tiles.settled(), new Promise((r) => setTimeout(r, 5000))]);
        assert.is(be.tiles.inFlight, 0, `nothing left tuning (disposed after ${waitMs} ms)`);
      }
    });
  } else {
    console.log('[note] tile-tuner: this device has no timestamp-query; the tuner is off and only the same-bits test runs');
  }
}

test.run();
