/**
 * Long sums with few outputs on WebGPU, split across a workgroup's threads and across workgroups
 * (split-sums.ts, the `splitSums` option), or not:
 *  - products with few outputs (M or N below 16; dot-products.ts): one thread per output, one
 *    workgroup per output, several slices summed by a second pass; transposed operands (the VJP's
 *    Xᵀr), several outputs to a workgroup, broadcast batches, a K no slice count divides — each
 *    within K·2⁻²³·Σ|ab| of the float64 product (matmul-reference.ts);
 *  - sums over a long axis (reduce.ts): rows, columns (several outputs to a workgroup), one sum
 *    of everything, int32 (exact), axes in the middle — within R·2⁻²³·Σ|x| of float64.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { createWebGPUBackend } from '../../src/backends/webgpu/index.js';
import { outputsPerGroup } from '../../src/backends/webgpu/kernels/dot-products.js';
import { sumSlices } from '../../src/backends/webgpu/kernels/split-sums.js';
import { checkProduct } from './matmul-reference.js';
import { webgpuOrSkip } from './setup.js';
import { rng } from '../helpers.js';

test('sumSlices: one thread per output for short K or many outputs; otherwise slices enough to fill a GPU, at most 64', () => {
  assert.is(sumSlices(30, 511), 0);
  assert.is(sumSlices(8192, 100_000), 0);
  assert.is(sumSlices(1, 600), 1);
  assert.is(sumSlices(30, 5000), 2);
  assert.is(sumSlices(1, 10_000_000), 64);
  assert.is(sumSlices(4096, 1_000_000), 1);
  // 32 outputs to a workgroup: 8 threads along K, so more slices for the same K
  assert.is(sumSlices(30, 100_000, 32), 64);
});

test('outputsPerGroup: consecutive outputs to a workgroup where they are consecutive in memory', () => {
  assert.is(outputsPerGroup(30, 1, true, false), 32, 'Xᵀr: Aᵀ rows');
  assert.is(outputsPerGroup(5, 1, true, true), 8);
  assert.is(outputsPerGroup(30, 1, false, false), 1, 'Xr: rows of X are K apart');
  assert.is(outputsPerGroup(1, 12, false, false), 16, 'rᵀX: columns of X');
  assert.is(outputsPerGroup(1, 12, false, true), 1);
  assert.is(outputsPerGroup(8, 8, true, false), 1);
});

const gpu = await webgpuOrSkip('split-sums');

if (gpu) {
  // the default backend splits except on a software adapter; this one always does
  const split = await createWebGPUBackend({ splitSums: true });
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
    assert.is(gpu.splitSums, !gpu.adapterInfo.isFallbackAdapter);
    assert.ok(split.splitSums);
  });

  test('one thread per output: short K, and many outputs with a long K', async () => {
    await check([1, 1], 30, 1, 511, true, false, 1);
    await check([1, 1], 15, 600, 600, false, false, 2);
  });

  test('K split within a workgroup (one slice per output)', async () => {
    assert.is(sumSlices(7, 512, outputsPerGroup(1, 7, false, false)), 1);
    assert.is(sumSlices(7, 2000, outputsPerGroup(7, 1, false, true)), 1);
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
      assert.ok(sumSlices(Math.max(...batches) * M * N, K, outputsPerGroup(M, N, tA, tB)) > 1, `${M}×${K}·${K}×${N} is cut into slices`);
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

  /**
   * sum of x of `shape` over `axes` on the split backend, against float64 within R·2⁻²³·Σ|x|, or
   * exactly for int32 and for integer-valued float32 (`integers`: a dropped or doubled term shows);
   * the dispatches it took
   */
  async function checkSum(shape: number[], axes: number[] | null, seed: number, values: 'uniform' | 'integers' | 'int32' = 'uniform'): Promise<number> {
    const size = shape.reduce((a, b) => a * b, 1);
    const r = rng(seed);
    const dtype = values === 'int32' ? 'int32' : 'float32';
    const x =
      values === 'int32'
        ? Int32Array.from({ length: size }, () => Math.floor(2001 * r()) - 1000)
        : Float32Array.from({ length: size }, () => (values === 'integers' ? Math.floor(5 * r()) - 2 : 2 * r() - 1));
    await split.sync();
    const d0 = split.stats.dispatches;
    const got = await bt.withBackend('webgpu-split', () => bt.tidy(() => bt.sum(bt.tensor(x, { shape, dtype }), axes ? { axis: axes } : {}))).data();
    const took = split.stats.dispatches - d0;
    // float64 over the same values: strides of `shape`, outputs over the kept axes in order
    const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
    const red = axes ?? shape.map((_, i) => i);
    const keptDims = shape.map((d, i) => (red.includes(i) ? 1 : d));
    const nOut = keptDims.reduce((a, b) => a * b, 1);
    const want = new Float64Array(nOut);
    const mag = new Float64Array(nOut);
    for (let f = 0; f < size; f++) {
      let o = 0;
      for (let i = 0; i < shape.length; i++) o = o * keptDims[i]! + (red.includes(i) ? 0 : Math.floor(f / strides[i]!) % shape[i]!);
      want[o] += x[f]!;
      mag[o] += Math.abs(x[f]!);
    }
    const R = size / nOut;
    assert.is(got.length, nOut);
    for (let o = 0; o < nOut; o++) {
      const bound = values === 'uniform' ? R * 2 ** -23 * mag[o]! : 0;
      if (!(Math.abs(got[o]! - want[o]!) <= bound)) assert.unreachable(`sum of [${shape}] over ${axes ? `[${axes}]` : 'everything'}, entry ${o}: ${got[o]} vs ${want[o]} (bound ${bound})`);
    }
    return took;
  }

  test('sums over a long axis: rows, columns (32 outputs to a workgroup), everything, int32 exactly, an axis in the middle', async () => {
    assert.ok(sumSlices(30, 100_000) > 1 && sumSlices(30, 100_000, 32) > 1 && sumSlices(1, 1_000_000) > 1);
    assert.is(await checkSum([30, 100_000], [1], 1), 2, 'slices, then their sum');
    assert.is(await checkSum([100_000, 30], [0], 2), 2);
    assert.is(await checkSum([1_000_000], null, 3), 2);
    await checkSum([7, 50_001], [1], 4, 'int32');
    await checkSum([50_001, 7], [0], 4, 'int32');
    await checkSum([4, 3001, 5], [1], 5);
    await checkSum([6, 700, 3], [0, 1], 6);
    assert.is(await checkSum([300, 600], [1], 7), 1, 'one slice: straight into the output');
    // many outputs, or short sums: the unsplit kernels
    await checkSum([9000, 600], [1], 8);
    await checkSum([30, 511], [1], 9);
  });

  test('exact on integer values: no term dropped or doubled in any split path (slices, ragged slices and tiles, several outputs a workgroup)', async () => {
    const T = (M: number, N: number, tA: boolean, tB: boolean) => outputsPerGroup(M, N, tA, tB);
    const products: [[number, number], number, number, number, boolean, boolean][] = [
      [[1, 1], 30, 1, 100_003, true, false], // 32 outputs a workgroup, ragged K
      [[1, 1], 3, 1, 100_003, false, false],
      [[1, 1], 5, 3, 9001, true, true],
      [[3, 1], 1, 1, 1_000_003, false, false], // batch of single dot products, 64 slices
      [[1, 1], 1, 40, 20_001, false, false], // 40 outputs: a partial second tile of 32
      [[1, 1], 7, 1, 2000, false, true], // one slice
    ];
    for (const [i, [batches, M, N, K, tA, tB]] of products.entries()) {
      assert.ok(sumSlices(Math.max(...batches) * M * N, K, T(M, N, tA, tB)) > 0, `${M}×${K}·${K}×${N} is split`);
      await checkProduct(null, batches, M, N, K, tA, tB, 40 + i, 'webgpu-split', true);
    }
    for (const [i, [shape, axes]] of ([
      [[30, 100_003], [1]],
      [[100_003, 30], [0]], // column sums: 32 outputs a workgroup
      [[40_001, 40], [0]], // 40 columns: a partial second tile
      [[1_000_003], null],
      [[4, 3001, 5], [1]],
      [[6, 700, 3], [0, 1]],
    ] as [number[], number[] | null][]).entries()) {
      await checkSum(shape, axes, 60 + i, 'integers');
    }
  });

  test('a log-likelihood summed over 10⁵ data points: its value and gradient, eager and jitted, the same bits each call', async () => {
    const n = 100_000;
    const y = bt.withBackend('webgpu-split', () => bt.keep(bt.random.normal(bt.random.key(4), [n])));
    const logLik = (mu: bt.Tensor) => bt.sum(bt.logpdf.normal(y, mu, 1));
    const f = bt.valueAndGrad(logLik);
    const jf = bt.jit(f);
    const run = async (g: typeof f) => {
      const [v, d] = bt.withBackend('webgpu-split', () => g(bt.tensor(0.3, { dtype: 'float32' })));
      return [...(await v.data()), ...(await (d as bt.Tensor).data())];
    };
    const a = await run(f);
    assert.equal(await run(f), a);
    assert.equal(await run(jf), a);
    // float64: Σ −½(yᵢ − μ)² − ½ log 2π and Σ (yᵢ − μ)
    const ys = await y.data();
    let v = 0;
    let g = 0;
    let vm = 0;
    for (const yi of ys) {
      v += -0.5 * (yi - 0.3) ** 2 - 0.5 * Math.log(2 * Math.PI);
      vm += 0.5 * (yi - 0.3) ** 2 + 0.5 * Math.log(2 * Math.PI);
      g += yi - 0.3;
    }
    assert.ok(Math.abs(a[0]! - v) <= 4 * n * 2 ** -23 * vm, `log-likelihood ${a[0]} vs ${v}`);
    assert.ok(Math.abs(a[1]! - g) <= 4 * n * 2 ** -23 * Array.from(ys, (yi) => Math.abs(yi - 0.3)).reduce((s, t) => s + t, 0), `gradient ${a[1]} vs ${g}`);
    y.dispose();
  });
}

test.run();
