/**
 * Every tile configuration of the WebGPU matmul (TILE_CANDIDATES, forced with setTileOverride as
 * the tile sweep of bench/webgpu.ts does) gives the right product: both transpositions, sizes that
 * fit the tile and ones that do not, rows that allow vec4 loads and ones that do not, broadcast
 * batches. The reference is the float64 product of the same float32 inputs; a dot product of
 * length K in float32, in any order and with or without fma, is within K·2⁻²³·Σ|a_ik b_kj| of it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { fitsDevice, setTileOverride, TILE_CANDIDATES, type TileConfig } from '../../src/backends/webgpu/kernels/matmul.js';
import { webgpuOrSkip } from './setup.js';
import { rng } from '../helpers.js';

const gpu = await webgpuOrSkip('matmul-tiles');

if (gpu) {
  const values = (n: number, seed: number) => {
    const r = rng(seed);
    return Float32Array.from({ length: n }, () => 2 * r() - 1);
  };

  /** C = op(A) op(B) in float64 over [batch, ...] (A or B broadcast when its batch is 1), and Σ|a||b| per entry. */
  function reference(a: Float32Array, b: Float32Array, batchA: number, batchB: number, M: number, N: number, K: number, tA: boolean, tB: boolean) {
    const batch = Math.max(batchA, batchB);
    const c = new Float64Array(batch * M * N);
    const mag = new Float64Array(batch * M * N);
    for (let z = 0; z < batch; z++) {
      const ao = (batchA === 1 ? 0 : z) * M * K;
      const bo = (batchB === 1 ? 0 : z) * K * N;
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let s = 0;
          let m = 0;
          for (let k = 0; k < K; k++) {
            const x = a[ao + (tA ? k * M + i : i * K + k)]! * b[bo + (tB ? j * K + k : k * N + j)]!;
            s += x;
            m += Math.abs(x);
          }
          c[(z * M + i) * N + j] = s;
          mag[(z * M + i) * N + j] = m;
        }
      }
    }
    return { c, mag };
  }

  async function check(cfg: TileConfig, [batchA, batchB]: [number, number], M: number, N: number, K: number, tA: boolean, tB: boolean, seed: number) {
    const a = values(batchA * M * K, seed);
    const b = values(batchB * K * N, seed + 1);
    const aShape = [batchA, ...(tA ? [K, M] : [M, K])];
    const bShape = [batchB, ...(tB ? [N, K] : [K, N])];
    setTileOverride(cfg);
    let got: Float32Array;
    try {
      const C = bt.withBackend('webgpu', () => bt.tidy(() => bt.matmul(
        tA ? bt.mT(bt.tensor(a, { shape: aShape })) : bt.tensor(a, { shape: aShape }),
        tB ? bt.mT(bt.tensor(b, { shape: bShape })) : bt.tensor(b, { shape: bShape }),
      )));
      got = (await C.data()) as Float32Array;
      C.dispose();
    } finally {
      setTileOverride(null);
    }
    const { c, mag } = reference(a, b, batchA, batchB, M, N, K, tA, tB);
    const what = `tile ${JSON.stringify(cfg)} [${batchA}|${batchB}] ${M}×${K}·${K}×${N} tA=${tA} tB=${tB}`;
    assert.is(got.length, c.length, `${what}: size`);
    for (let i = 0; i < c.length; i++) {
      const bound = K * 2 ** -23 * mag[i]! + 2 ** -126;
      if (!(Math.abs(got[i]! - c[i]!) <= bound)) assert.unreachable(`${what}: entry ${i} is ${got[i]}, float64 ${c[i]} (bound ${bound.toExponential(2)})`);
    }
  }

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
      // fits nothing, no vec4 anywhere (odd K, M, N), each transposition
      for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) await check(cfg, [1, 1], 37, 70, 33, tA, tB, 10 + run++);
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
