/**
 * Products with few outputs on WebGPU (M or N below 16): one thread per output, or K split across
 * a workgroup's threads and across workgroups (dot-products.ts, the `splitK` option). Each is
 * checked against the float64 product within K·2⁻²³·Σ|ab| (matmul-reference.ts), through every
 * path: one thread, one workgroup per output, several slices summed by a second pass; transposed
 * operands (the VJP's Xᵀr), several outputs to a workgroup, broadcast batches, a K no slice count
 * divides.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { createWebGPUBackend } from '../../src/backends/webgpu/index.js';
import { kSlices, outputsPerGroup } from '../../src/backends/webgpu/kernels/dot-products.js';
import { checkProduct } from './matmul-reference.js';
import { webgpuOrSkip } from './setup.js';

test('kSlices: one thread per output for short K or many outputs; otherwise slices enough to fill a GPU, at most 64', () => {
  assert.is(kSlices(30, 511), 0);
  assert.is(kSlices(8192, 100_000), 0);
  assert.is(kSlices(1, 600), 1);
  assert.is(kSlices(30, 5000), 2);
  assert.is(kSlices(1, 10_000_000), 64);
  assert.is(kSlices(4096, 1_000_000), 1);
  // 32 outputs to a workgroup: 8 threads along K, so more slices for the same K
  assert.is(kSlices(30, 100_000, 32), 64);
});

test('outputsPerGroup: consecutive outputs to a workgroup where they are consecutive in memory', () => {
  assert.is(outputsPerGroup(30, 1, true, false), 32, 'Xᵀr: Aᵀ rows');
  assert.is(outputsPerGroup(5, 1, true, true), 8);
  assert.is(outputsPerGroup(30, 1, false, false), 1, 'Xr: rows of X are K apart');
  assert.is(outputsPerGroup(1, 12, false, false), 16, 'rᵀX: columns of X');
  assert.is(outputsPerGroup(1, 12, false, true), 1);
  assert.is(outputsPerGroup(8, 8, true, false), 1);
});

const gpu = await webgpuOrSkip('dot-products');

if (gpu) {
  // the default backend splits except on a software adapter; this one always does
  const split = await createWebGPUBackend({ splitK: true });
  bt.registerBackend('webgpu-split', split);
  const check = (batches: [number, number], M: number, N: number, K: number, tA: boolean, tB: boolean, seed: number) => checkProduct(null, batches, M, N, K, tA, tB, seed, 'webgpu-split');
  /** dispatches of one product on the split backend */
  const dispatches = async (M: number, N: number, K: number, tA: boolean) => {
    await split.sync();
    const d0 = split.stats.dispatches;
    await check([1, 1], M, N, K, tA, false, 99);
    return split.stats.dispatches - d0;
  };

  test('the default: split on a GPU, not on a software adapter', () => {
    assert.is(gpu.splitK, !gpu.adapterInfo.isFallbackAdapter);
    assert.ok(split.splitK);
  });

  test('one thread per output: short K, and many outputs with a long K', async () => {
    await check([1, 1], 30, 1, 511, true, false, 1);
    await check([1, 1], 15, 600, 600, false, false, 2);
  });

  test('K split within a workgroup (one slice per output)', async () => {
    assert.is(kSlices(7, 512, outputsPerGroup(1, 7, false, false)), 1);
    assert.is(kSlices(7, 2000, outputsPerGroup(7, 1, false, true)), 1);
    await check([1, 1], 1, 7, 512, false, false, 3);
    await check([1, 1], 7, 1, 2000, false, true, 4);
  });

  test('K split across workgroups, the slices summed in a second pass: Xᵀr, both transpositions, broadcast batches, a ragged K', async () => {
    const cases: [[number, number], number, number, number, boolean, boolean][] = [
      [[1, 1], 30, 1, 5000, true, false],
      [[1, 1], 3, 1, 100_003, false, false],
      [[1, 1], 5, 3, 9000, true, true],
      [[4, 1], 2, 5, 9000, false, true],
      [[1, 3], 1, 4, 12_001, true, false],
      [[1, 1], 1, 40, 20_000, false, false],
    ];
    for (const [i, [batches, M, N, K, tA, tB]] of cases.entries()) {
      assert.ok(kSlices(Math.max(...batches) * M * N, K, outputsPerGroup(M, N, tA, tB)) > 1, `${M}×${K}·${K}×${N} is cut into slices`);
      await check(batches, M, N, K, tA, tB, 5 + i);
    }
  });

  test('the paths run as planned: two dispatches for slices, one for a single slice or one thread', async () => {
    assert.is(await dispatches(30, 1, 100_000, true), 2);
    assert.is(await dispatches(1, 7, 512, false), 1);
    assert.is(await dispatches(30, 1, 511, true), 1);
  });

  test('the split sums are in a fixed order: the same bits every call, eager and jitted, and the gradient of a linear model through them', async () => {
    const n = 20_000;
    const d = 12;
    const [X, r] = bt.withBackend('webgpu-split', () => bt.keep([bt.random.normal(bt.random.key(1), [n, d]), bt.random.normal(bt.random.key(2), [n])]));
    const loss = (w: bt.Tensor) => bt.sum(bt.mul(bt.matmul(X!, w), r!));
    const g1 = await bt.withBackend('webgpu-split', () => bt.grad(loss)(bt.zeros([d]))).data();
    const g2 = await bt.withBackend('webgpu-split', () => bt.grad(loss)(bt.zeros([d]))).data();
    assert.equal([...g1], [...g2]);
    // Xᵀr in float64 from the same float32 values
    const x = await X!.data();
    const rv = await r!.data();
    for (let j = 0; j < d; j++) {
      let s = 0;
      let m = 0;
      for (let i = 0; i < n; i++) {
        s += x[i * d + j]! * rv[i]!;
        m += Math.abs(x[i * d + j]! * rv[i]!);
      }
      assert.ok(Math.abs(g1[j]! - s) <= n * 2 ** -23 * m, `∂/∂w${j}: ${g1[j]} vs ${s}`);
    }
    // jitted: the same two dispatches recorded into the program, the same bits
    const jg = bt.jit(bt.grad(loss));
    const g3 = await bt.withBackend('webgpu-split', () => jg(bt.zeros([d]))).data();
    const g4 = await bt.withBackend('webgpu-split', () => jg(bt.zeros([d]))).data();
    assert.ok(!jg.compiled()!.steps.some((l) => l.startsWith('interpreted')), `compiled: ${jg.compiled()!.steps.join(' | ')}`);
    assert.equal([...g3], [...g1]);
    assert.equal([...g4], [...g1]);
    X!.dispose();
    r!.dispose();
  });
}

test.run();
