/**
 * Every tile configuration of the WebGPU matmul (TILE_CANDIDATES, forced with setTileOverride as
 * the tile sweep of bench/webgpu.ts does) gives the right product: both transpositions, sizes that
 * fit the tile and ones that do not, rows that allow vec4 loads and ones that do not, broadcast
 * batches, each within K·2⁻²³·Σ|a_ik b_kj| of the float64 product (matmul-reference.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { fitsDevice, setTileOverride, TILE_CANDIDATES } from '../../src/backends/webgpu/kernels/matmul.js';
import { checkProduct as check } from './matmul-reference.js';
import { webgpuOrSkip } from './setup.js';

const gpu = await webgpuOrSkip('matmul-tiles');

if (gpu) {
  test('every tile configuration gives the right product: transpositions, tile fit, vec4 and not, broadcast batches', async () => {
    const limits = gpu.device.limits;
    let run = 0;
    for (const cfg of TILE_CANDIDATES) {
      if (!fitsDevice(cfg, limits)) {
        console.log(`[note] matmul-tiles: ${JSON.stringify(cfg)} needs more than this device allows; not checked here`);
        continue;
      }
      // fits every tile on every dim (vec4 everywhere); the override really is used: a shader of
      // its own (chooseTile alone would take the 32×32 tile for this size)
      const pipelines0 = gpu.stats.pipelines;
      await check(cfg, [1, 1], 128, 128, 64, false, false, 1);
      if (cfg !== TILE_CANDIDATES[2]) assert.ok(gpu.stats.pipelines > pipelines0, `${JSON.stringify(cfg)} compiled its own kernel`);
      // fits nothing, no vec4 anywhere (odd K, M, N); A's and B's loads are generated apart, so
      // neither and both transposed run each of the four load paths
      for (const [tA, tB] of [[false, false], [true, true]] as const) await check(cfg, [1, 1], 37, 70, 33, tA, tB, 10 + run++);
      // vec4 on some operands only, several tiles per dim, a broadcast batch
      await check(cfg, [2, 1], 150, 132, 36, false, true, 20);
      await check(cfg, [1, 3], 68, 200, 41, true, false, 30);
    }
  });

  test('a tile override the device cannot run, or the shader cannot be built for, is a clear error', () => {
    assert.throws(() => setTileOverride({ bm: 64, bn: 64, bk: 16, tm: 6, tn: 4 }), /multiples of 4/);
    setTileOverride({ bm: 256, bn: 256, bk: 32, tm: 16, tn: 16 });
    try {
      assert.throws(() => bt.withBackend('webgpu', () => bt.tidy(() => bt.matmul(bt.ones([64, 64]), bt.ones([64, 64])))), /workgroup memory/);
    } finally {
      setTileOverride(null);
    }
  });
}

test.run();
