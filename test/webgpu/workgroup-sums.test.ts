/**
 * Sums within a workgroup (kernels/common.ts: workgroupSum) through subgroup operations and through
 * a tree in workgroup memory: the same cases on a backend with each, against float64 — long sums
 * over contiguous and strided axes, int32 sums (exact), inf and NaN, a K-split dot product, and a
 * convolution's weight gradient (the kernels that use it: reduce.ts, dot-products.ts, conv.ts).
 * A float32 sum of R terms in any order is within R·2⁻²³·Σ|terms| of the float64 sum.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { createWebGPUBackend } from '../../src/backends/webgpu/index.js';
import { checkProduct } from './matmul-reference.js';
import { webgpuOrSkip } from './setup.js';
import { rng } from '../helpers.js';

const gpu = await webgpuOrSkip('workgroup-sums');

if (gpu) {
  const withSubgroups = await createWebGPUBackend({ splitSums: true });
  const trees = await createWebGPUBackend({ splitSums: true, subgroups: false });
  bt.registerBackend('webgpu-subgroups', withSubgroups);
  bt.registerBackend('webgpu-trees', trees);
  const software = /llvmpipe|lavapipe/i.test(gpu.adapterLabel);
  console.log(`[note] workgroup-sums: subgroup operations ${withSubgroups.subgroups ? 'available' : 'NOT available (only the tree path is checked)'} on ${gpu.adapterLabel}`);

  // the shader sources each backend compiles, to see which path a sum took
  const sources = new Map<string, string[]>();
  for (const [name, be] of [['webgpu-subgroups', withSubgroups], ['webgpu-trees', trees]] as const) {
    const list: string[] = [];
    sources.set(name, list);
    const create = be.device.createShaderModule.bind(be.device);
    be.device.createShaderModule = (d: GPUShaderModuleDescriptor) => {
      list.push(d.code);
      return create(d);
    };
  }

  const values = (n: number, seed: number) => {
    const r = rng(seed);
    return Float32Array.from({ length: n }, () => 2 * r() - 1);
  };

  /** sum of x [rows, cols] over `axis` on `backend`, each entry against float64 within R·2⁻²³·Σ|x| */
  async function checkSum(backend: string, rows: number, cols: number, axis: 0 | 1, seed: number) {
    const x = values(rows * cols, seed);
    const got = await bt.withBackend(backend, () => bt.tidy(() => bt.sum(bt.tensor(x, { shape: [rows, cols] }), { axis }))).data();
    const nOut = axis === 1 ? rows : cols;
    const R = axis === 1 ? cols : rows;
    assert.is(got.length, nOut);
    for (let o = 0; o < nOut; o++) {
      let s = 0;
      let m = 0;
      for (let r = 0; r < R; r++) {
        const v = x[axis === 1 ? o * cols + r : r * cols + o]!;
        s += v;
        m += Math.abs(v);
      }
      if (!(Math.abs(got[o]! - s) <= R * 2 ** -23 * m)) assert.unreachable(`${backend}: sum of [${rows}, ${cols}] over axis ${axis}, entry ${o}: ${got[o]} vs float64 ${s}`);
    }
  }

  test('the paths: a backend with subgroups sums through subgroupAdd, one without through a tree', async () => {
    assert.is(trees.subgroups, false);
    // lavapipe has subgroups and subgroup_id: CI must check that path, not only the tree
    if (process.env.CI === 'true' && software) assert.ok(withSubgroups.subgroups, 'lavapipe in CI has subgroup operations');
    await checkSum('webgpu-subgroups', 3, 5000, 1, 1);
    await checkSum('webgpu-trees', 3, 5000, 1, 1);
    const used = (name: string) => sources.get(name)!.some((c) => c.includes('subgroupAdd'));
    assert.is(used('webgpu-subgroups'), withSubgroups.subgroups);
    assert.is(used('webgpu-trees'), false);
  });

  for (const backend of ['webgpu-subgroups', 'webgpu-trees']) {
    test(`${backend}: long float32 sums over contiguous and strided axes, one output and many`, async () => {
      await checkSum(backend, 7, 1000, 1, 2);
      await checkSum(backend, 1000, 5, 0, 3);
      await checkSum(backend, 1, 100_000, 1, 4);
      await checkSum(backend, 300, 65, 1, 5);
    });

    test(`${backend}: int32 sums are exact; inf and NaN come through`, async () => {
      const ints = Int32Array.from({ length: 3 * 300 }, (_, i) => ((i * 7919) % 2001) - 1000);
      const got = await bt.withBackend(backend, () => bt.tidy(() => bt.sum(bt.tensor(ints, { shape: [3, 300], dtype: 'int32' }), { axis: 1 }))).data();
      for (let r = 0; r < 3; r++) assert.is(got[r], ints.slice(r * 300, (r + 1) * 300).reduce((a, b) => a + b, 0));
      const x = values(4 * 200, 6);
      x[10] = Infinity;
      x[200 + 5] = NaN;
      x[400 + 1] = Infinity;
      x[400 + 2] = -Infinity;
      const s = await bt.withBackend(backend, () => bt.tidy(() => bt.sum(bt.tensor(x, { shape: [4, 200] }), { axis: 1 }))).data();
      assert.is(s[0], Infinity);
      assert.ok(Number.isNaN(s[1]!) && Number.isNaN(s[2]!), 'NaN, and inf − inf');
      assert.ok(Number.isFinite(s[3]!));
    });

    test(`${backend}: a dot product split across workgroups, and a convolution's weight gradient`, async () => {
      await checkProduct(null, [1, 1], 3, 1, 100_003, false, false, 7, backend);
      await checkProduct(null, [2, 1], 1, 1, 40_000, false, true, 8, backend);
      // ∂w of a batch-16 convolution: 16·12·12 terms into each of 72 outputs (the split conv kernel)
      const x = values(16 * 12 * 12 * 2, 9);
      const w = values(3 * 3 * 2 * 4, 10);
      // ∂/∂w of Σ conv(x, w) is Σ over the batch and positions of x: in float64 on the CPU, and with
      // |x| the Σ|terms| of each entry
      const gradW = (b: string, xs: Float32Array | Float64Array, ws: Float32Array | Float64Array) =>
        bt.withBackend(b, () => bt.tidy(() => bt.grad((wt: bt.Tensor) => bt.sum(bt.conv2d(bt.tensor(xs, { shape: [16, 12, 12, 2] }), wt, { padding: 'SAME' })))(bt.tensor(ws, { shape: [3, 3, 2, 4] }))));
      const got = await gradW(backend, x, w).data();
      const want = await gradW('cpu', Float64Array.from(x), Float64Array.from(w)).data();
      const mag = await gradW('cpu', Float64Array.from(x, Math.abs), Float64Array.from(w)).data();
      for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) <= 16 * 144 * 2 ** -23 * mag[i]!, `∂w[${i}]: ${got[i]} vs float64 ${want[i]}`);
    });
  }
}

test.run();
