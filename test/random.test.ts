/**
 * bt.random: determinism, independent streams, JAX compatibility, and Monte Carlo moments.
 *
 * Every body runs on each backend (see ./backend-harness.ts): `name [cpu]` with its float64 and
 * float32 checks as before (dataSync reads), and `name [webgpu]` in float32 only (WGSL has no
 * 64-bit floats; float32 is the backend's default), read with `await t.data()`:
 *  - float32 draws use JAX's float32 bit stream (not the float64 one), so the float32 known-answer
 *    vector (jax.random.uniform(key(0), (3,))) must hold bit for bit on WebGPU, and the raw
 *    streams (bits, split, foldIn, uniform, bernoulli, permutation) must equal the CPU's float32
 *    ones exactly; normal draws go through erf⁻¹, so they agree with the CPU's float32 draws
 *    within B.adRtol (64 ulps) relative; categorical draws are an argmax of logits + Gumbel noise
 *    (−log(−log u), a few ulps apart across backends), equal unless two perturbed logits of a row
 *    lie within those ulps (none do for this seed). gamma follows jax.random.gamma (split keys,
 *    Marsaglia–Tsang): the same random words on both backends, values within a few float32 ulps
 *    (WGSL's log, pow and erf⁻¹ are f32 approximations);
 *  - moments and frequencies are checked against the Monte Carlo error (5 standard errors, a
 *    χ² tail bound), the same bounds on both backends; float32 rounding is far below them.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../src/index.js';
import { assertClose } from './helpers.js';
import { assertCloseArr, backendsUnderTest, ints, read, registerAll, type BackendCase } from './backend-harness.js';

const backends = await backendsUnderTest('random');

const r = bt.random;
const N = 100_000;
const arr = (t: bt.Tensor) => Array.from(t.dataSync());
/** dataSync on CPU (as before), `await t.data()` elsewhere. */
const get = async (B: BackendCase, t: bt.Tensor): Promise<number[]> => (B.name === 'cpu' ? arr(t) : read(t));
/** The float dtypes each backend draws: both on CPU, float32 on WebGPU. */
const dtypesOf = (B: BackendCase) => (B.name === 'cpu' ? (['float32', 'float64'] as const) : (['float32'] as const));
const dtypeOf = (B: BackendCase) => B.dtype;

function moments(xs: ArrayLike<number>): { mean: number; variance: number } {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  const mean = s / xs.length;
  let v = 0;
  for (let i = 0; i < xs.length; i++) v += (xs[i]! - mean) ** 2;
  return { mean, variance: v / xs.length };
}

/**
 * Sample mean within 5 standard errors √(σ²/n), sample variance within 5 standard errors
 * √((μ₄ − σ⁴)/n) (μ₄ the fourth central moment).
 */
function assertMoments(xs: ArrayLike<number>, mean: number, variance: number, mu4: number | null, what: string): void {
  const m = moments(xs);
  const n = xs.length;
  const seMean = Math.sqrt(variance / n);
  assert.ok(Math.abs(m.mean - mean) <= 5 * seMean, `${what}: mean ${m.mean} vs ${mean} (5 se = ${5 * seMean})`);
  if (mu4 === null) return;
  const seVar = Math.sqrt((mu4 - variance * variance) / n);
  assert.ok(Math.abs(m.variance - variance) <= 5 * seVar, `${what}: variance ${m.variance} vs ${variance} (5 se = ${5 * seVar})`);
}

registerAll(backends, 'uniform(key(0), [3], float32) equals the JAX documented values', async (B) => {
  const jax = [0.947667, 0.9785799, 0.33229148];
  const u = r.uniform(r.key(0), [3], { dtype: 'float32' });
  assert.is(u.dtype, 'float32');
  assert.equal([...u.shape], [3]);
  if (B.name === 'cpu') {
    assertClose(u, jax, 1e-6, 0, 'jax.random.uniform(key(0), (3,))');
    return;
  }
  // bit for bit: JAX prints the shortest decimal that rounds to each float32
  assert.is(u.backend, 'webgpu');
  assert.equal(await read(u), jax.map(Math.fround), 'jax.random.uniform(key(0), (3,)) on webgpu, bit for bit');
  // the default dtype on WebGPU is float32: the same stream
  assert.equal(await read(r.uniform(r.key(0), [3])), jax.map(Math.fround), 'default dtype');
});

// Reference values from jax.random (CPU, jax_enable_x64 = True, jax_threefry_partitionable = True).
registerAll(backends, 'randint, permutation and bounded float32 uniform equal jax.random', async (B) => {
  // int64 is JAX's default int under x64: two 64-bit words per draw
  assert.equal(await get(B, r.randint(r.key(0), [6], 0, 10)), [5, 1, 5, 7, 3, 5], 'randint(key(0), (6,), 0, 10)');
  // one round of sorting by 32-bit random words for n = 10
  assert.equal(await get(B, r.permutation(r.key(0), 10)), [0, 1, 8, 5, 6, 4, 3, 2, 7, 9], 'permutation(key(0), 10)');
  // bounds and span in float32, u·span + minval with one rounding: 0.66860014 (two roundings: ...26)
  const u = await get(B, r.uniform(r.key(0), [1], { dtype: 'float32', minval: 0.1, maxval: 0.7 }));
  // WGSL's fma may round twice (lavapipe does): 1 ulp there; GPUs with a fused multiply-add are exact
  const ulp = B.name === 'cpu' ? 0 : 2 ** -24;
  assert.ok(Math.abs(u[0]! - Math.fround(0.66860014)) <= ulp, `uniform(key(0), (1,), float32, 0.1, 0.7) = ${u[0]} (JAX 0.66860014)`);
});

registerAll(backends, 'randint: JAX\'s modular combination, checked against exact BigInt arithmetic on the raw words', async (B) => {
  const k = r.key(3);
  const [k1, k2] = [0, 1].map((i) => bt.reshape(bt.slice(r.split(k), [i, 0], [1, 2]), [2]));
  const U = 2n ** 32n;
  const u32 = (x: number) => BigInt(x >>> 0);
  for (const [lo, hi] of [[0, 10], [-5, 7], [0, 65537], [-1000, 2 ** 31 - 1], [-(2 ** 31), 2 ** 31 - 3]] as const) {
    const span = BigInt(hi - lo);
    // 32-bit words: JAX's uint32 products and sums wrap
    const h32 = await get(B, r.bits(k1!, [40]));
    const l32 = await get(B, r.bits(k2!, [40]));
    const m32 = ((65536n % span) * (65536n % span)) % span;
    const want32 = h32.map((h, i) => Number(BigInt(lo) + ((((u32(h) % span) * m32) % U + (u32(l32[i]!) % span)) % U) % span));
    assert.equal(await get(B, r.randint(k, [40], lo, hi, { bits: 32 })), want32, `bits: 32 on [${lo}, ${hi})`);
  }
  if (B.name !== 'cpu') return;
  // 64-bit words (CPU reads them through the host Threefry): nothing wraps for spans <= 2^32
  const { randomBits64 } = await import('../src/prng/threefry.js');
  const ks = r.split(k).dataSync() as Int32Array;
  const w64 = (kk: Int32Array) => {
    const w = randomBits64(kk, 1, 40);
    return Array.from({ length: 40 }, (_, i) => (u32(w[2 * i]!) << 32n) | u32(w[2 * i + 1]!));
  };
  const [h64, l64] = [w64(ks.slice(0, 2)), w64(ks.slice(2, 4))];
  for (const [lo, hi] of [[0, 10], [-5, 7], [0, 65537], [-(2 ** 31), 2 ** 31 - 3]] as const) {
    const span = BigInt(hi - lo);
    const m = ((U % span) * (U % span)) % span;
    const want = h64.map((h, i) => Number(BigInt(lo) + (((h % span) * m + (l64[i]! % span)) % span)));
    assert.equal(arr(r.randint(k, [40], lo, hi)), want, `bits: 64 on [${lo}, ${hi})`);
  }
});

registerAll(backends, 'same key -> same numbers, for every sampler and dtype', async (B) => {
  const k = r.key(42);
  const same = async (make: (key: bt.Tensor) => bt.Tensor, what: string) => assert.equal(await get(B, make(k)), await get(B, make(r.key(42))), what);
  for (const dtype of dtypesOf(B)) {
    await same((key) => r.uniform(key, [50], { dtype }), `uniform ${dtype}`);
    await same((key) => r.normal(key, [50], { dtype }), `normal ${dtype}`);
    await same((key) => r.gamma(key, 2.5, [50], { dtype }), `gamma ${dtype}`);
  }
  await same((key) => r.bernoulli(key, 0.3, [50]), 'bernoulli');
  await same((key) => r.categorical(key, bt.tensor([0, 1, 2])), 'categorical');
  await same((key) => r.permutation(key, 20), 'permutation');
  await same((key) => r.bits(key, [10]), 'bits');
  await same((key) => r.split(key, 3), 'split');
  await same((key) => r.foldIn(key, 7), 'foldIn');
  assert.equal(await get(B, r.key(42)), await get(B, r.key(42)));
  assert.not.equal(await get(B, r.key(42)), await get(B, r.key(43)));
});

registerAll(backends.filter((b) => b.name === 'webgpu'), 'WebGPU streams are the CPU float32 streams: bits, keys, uniform, bernoulli, permutation, categorical exactly; normal within 64 ulps', async (B) => {
  const cpu = (f: () => bt.Tensor) => bt.withBackend('cpu', () => arr(f()));
  const k = () => r.key(42);
  const exact = async (f: () => bt.Tensor, what: string) => {
    const g = f();
    assert.is(g.backend, 'webgpu', what);
    assert.equal(await read(g), cpu(f), what);
  };
  await exact(() => r.bits(k(), [1000]), 'bits [1000]');
  await exact(() => r.bits(k(), [3, 7]), 'bits [3, 7]');
  await exact(() => r.split(k(), 5), 'split(k, 5)');
  await exact(() => r.split(r.split(k(), 3), 2), 'split of a batch of keys');
  await exact(() => r.foldIn(k(), 123456789), 'foldIn');
  await exact(() => r.foldIn(r.split(k(), 4), 7), 'foldIn of a batch of keys');
  await exact(() => r.key(2 ** 40 + 5), 'key of a 64-bit seed');
  await exact(() => r.uniform(k(), [10_001], { dtype: 'float32' }), 'uniform float32 [10001]');
  await exact(() => r.uniform(k(), [4, 300], { dtype: 'float32', minval: -3, maxval: 5 }), 'uniform(−3, 5) float32');
  await exact(() => r.bernoulli(k(), bt.tensor([0.1, 0.5, 0.9], { dtype: 'float32' }), [500, 3]), 'bernoulli, tensor p');
  // permutation sorts by 32-bit words and randint combines words: integer streams, exact
  await exact(() => r.permutation(k(), 1000), 'permutation(1000)');
  await exact(() => r.randint(k(), [3, 500], -7, 1000), 'randint 64-bit words');
  await exact(() => r.randint(k(), [3, 500], -7, 100000, { bits: 32 }), 'randint 32-bit words');
  await exact(() => r.randint(k(), [50], -(2 ** 31), 2 ** 31), 'randint over the whole int32 range');
  await exact(() => r.randint(k(), [500], 0, 2 ** 31 - 5), 'randint with a span above 2^31');
  await exact(() => r.categorical(k(), bt.tensor([0.5, -1, 2, 0], { dtype: 'float32' }), { shape: [2000, 4] }), 'categorical float32');
  await exact(() => bt.vmap((kk: bt.Tensor) => r.uniform(kk, [6], { dtype: 'float32' }))(r.split(k(), 4)), 'uniform under vmap over keys');
  const zc = cpu(() => r.normal(k(), [20_000], { dtype: 'float32' }));
  const zg = r.normal(k(), [20_000]);
  assert.is(zg.dtype, 'float32');
  assertCloseArr(await read(zg), zc, B.adRtol, 0, 'normal float32: webgpu vs cpu');
});

registerAll(backends, 'split and foldIn give different keys and different streams', async (B) => {
  const k = r.key(0);
  const ks = r.split(k, 4);
  assert.equal([...ks.shape], [4, 2]);
  assert.is(ks.dtype, 'int32');
  // With jax_threefry_partitionable, split is "fold-in-like": split(k, n)[i] == foldIn(k, i) (as in JAX).
  for (let i = 0; i < 4; i++) assert.equal(await get(B, ks.slice([i], [1]).reshape([2])), await get(B, r.foldIn(k, i)), `split[${i}] == foldIn(k, ${i})`);
  const keys = [k, ...Array.from({ length: 4 }, (_, i) => ks.slice([i], [1]).reshape([2])), r.foldIn(k, 4), r.foldIn(k, 12345), r.foldIn(ks.slice([0], [1]).reshape([2]), 1)];
  const keyVals = await Promise.all(keys.map((kk) => get(B, kk)));
  const streams = await Promise.all(keys.map((kk) => get(B, r.uniform(kk, [1000]))));
  for (let i = 0; i < keys.length; i++) {
    for (let j = i + 1; j < keys.length; j++) {
      assert.not.equal(keyVals[i], keyVals[j], `keys ${i} and ${j} differ`);
      const a = streams[i]!;
      const b = streams[j]!;
      let eq = 0;
      let cov = 0;
      for (let t = 0; t < a.length; t++) {
        if (a[t] === b[t]) eq++;
        cov += (a[t]! - 0.5) * (b[t]! - 0.5);
      }
      // float64 draws (2⁵² values) never collide by chance; float32 ones (2²³ values) do, at
      // about n/2²³ = 1.2e-4 per pair: allow a handful before calling the streams shared
      if (B.dtype === 'float64') assert.is(eq, 0, `streams ${i} and ${j} share values`);
      else assert.ok(eq <= 3, `streams ${i} and ${j} share ${eq} values`);
      // correlation of independent streams: |ρ| ≲ 5/√n
      const rho = cov / a.length / (1 / 12);
      assert.ok(Math.abs(rho) < 5 / Math.sqrt(a.length), `streams ${i} and ${j} correlated (ρ = ${rho})`);
    }
  }
  // split is deterministic and split(k, 2) differs from k itself
  assert.equal(await get(B, r.split(k)), await get(B, r.split(r.key(0))));
});

registerAll(backends, 'uniform: float64 and float32 means and variances within 5 MC standard errors; support [0, 1)', async (B) => {
  for (const dtype of dtypesOf(B).slice().reverse()) {
    const u = r.uniform(r.key(1), [N], { dtype });
    assert.is(u.dtype, dtype);
    const d = await get(B, u);
    assert.ok(d.every((v) => v >= 0 && v < 1), `${dtype} support`);
    assertMoments(d, 0.5, 1 / 12, 1 / 80, `uniform ${dtype}`);
  }
  const ab = r.uniform(r.key(2), [N], { minval: -3, maxval: 5 });
  const d = await get(B, ab);
  assert.ok(d.every((v) => v >= -3 && v < 5), 'minval/maxval support');
  assertMoments(d, 1, 64 / 12, 64 * 64 / 80, 'uniform(-3, 5)');
});

registerAll(backends, 'normal: float64 and float32 moments (mean 0, variance 1, μ₄ = 3)', async (B) => {
  for (const dtype of dtypesOf(B).slice().reverse()) {
    const z = r.normal(r.key(3), [N], { dtype });
    assert.is(z.dtype, dtype);
    const d = await get(B, z);
    assert.ok(d.every((v) => Number.isFinite(v)), `${dtype}: finite`);
    assertMoments(d, 0, 1, 3, `normal ${dtype}`);
    // the fraction within one standard deviation: Φ(1) − Φ(−1) = 0.682689…
    const p = 0.6826894921370859;
    const frac = d.filter((v) => Math.abs(v) < 1).length / N;
    assert.ok(Math.abs(frac - p) <= 5 * Math.sqrt((p * (1 - p)) / N), `${dtype}: P(|z|<1) = ${frac}`);
  }
});

registerAll(backends, 'gamma: moments for α in {0.3, 1, 2.5, 10}, both dtypes (mean α, variance α, μ₄ = 3α(α+2))', async (B) => {
  for (const dtype of dtypesOf(B).slice().reverse()) {
    for (const a of [0.3, 1, 2.5, 10]) {
      const g = r.gamma(r.key(4), a, [N], { dtype });
      assert.is(g.dtype, dtype);
      const d = await get(B, g);
      assert.ok(d.every((v) => v >= 0 && Number.isFinite(v)), `gamma(${a}) ${dtype} support`);
      assertMoments(d, a, a, 3 * a * (a + 2), `gamma(${a}) ${dtype}`);
    }
  }
  // tensor alpha broadcast to a shape: each column has its own mean
  const alpha = bt.tensor([0.5, 4]);
  const g = r.gamma(r.key(5), alpha, [N / 2, 2]);
  const d = await get(B, g);
  for (const [j, a] of [0.5, 4].entries()) {
    const col = Float64Array.from({ length: N / 2 }, (_, i) => d[2 * i + j]!);
    assertMoments(col, a, a, 3 * a * (a + 2), `gamma column α=${a}`);
  }
});

registerAll(backends, 'bernoulli: frequencies for scalar and tensor p', async (B) => {
  for (const p of [0.05, 0.3, 0.5, 0.9]) {
    const b = r.bernoulli(r.key(6), p, [N]);
    assert.is(b.dtype, 'int32');
    const d = await get(B, b);
    assert.ok(d.every((v) => v === 0 || v === 1));
    const q = p * (1 - p);
    assertMoments(d, p, q, null, `bernoulli(${p})`); // 0/1 data: variance is m(1−m), fixed by the mean
  }
  const pt = bt.tensor([0.1, 0.7], { dtype: 'float32' });
  const b = r.bernoulli(r.key(7), pt, [N / 2, 2]);
  const d = await get(B, b);
  for (const [j, p] of [0.1, 0.7].entries()) {
    const col = Array.from({ length: N / 2 }, (_, i) => d[2 * i + j]!);
    const q = p * (1 - p);
    assertMoments(col, p, q, null, `bernoulli column p=${p}`);
  }
});

registerAll(backends, 'categorical: frequencies match softmax(logits) (chi-square bound)', async (B) => {
  for (const dtype of dtypesOf(B).slice().reverse()) {
    const logits = bt.tensor([0.5, -1, 2, 0, 1.2, -3], { dtype });
    const K = 6;
    const draws = r.categorical(r.key(8), logits, { shape: [N, K] });
    assert.equal([...draws.shape], [N]);
    assert.is(draws.dtype, 'int32');
    const p = await get(B, bt.softmax(logits));
    const counts = new Array<number>(K).fill(0);
    for (const c of await get(B, draws)) {
      assert.ok(c >= 0 && c < K);
      counts[c]!++;
    }
    let chi2 = 0;
    for (let k = 0; k < K; k++) chi2 += (counts[k]! - N * p[k]!) ** 2 / (N * p[k]!);
    // χ²(5): mean 5, sd √10; 5 + 5√10 ≈ 20.8 is far in the tail
    const df = K - 1;
    assert.ok(chi2 < df + 5 * Math.sqrt(2 * df), `${dtype}: χ² = ${chi2} with counts ${counts} vs p ${Array.from(p)}`);
  }
  // batched logits along axis -1: one draw per row
  const L = bt.tensor([[10, 0, 0], [0, 0, 10]]);
  const rows = r.categorical(r.key(9), L);
  assert.equal([...rows.shape], [2]);
  assert.equal(await get(B, rows), [0, 2]);
});

registerAll(backends, 'permutation is a permutation; permuting a tensor permutes its first axis', async (B) => {
  for (const n of [1, 2, 10, 1000]) {
    const p = r.permutation(r.key(10 + n), n);
    assert.is(p.dtype, 'int32');
    assert.equal([...p.shape], [n]);
    const sorted = (await get(B, p)).sort((a, b) => a - b);
    assert.equal(sorted, Array.from({ length: n }, (_, i) => i), `n=${n}`);
  }
  const big = await get(B, r.permutation(r.key(11), 1000));
  assert.not.equal(big, Array.from({ length: 1000 }, (_, i) => i), 'not the identity');
  assert.not.equal(big, await get(B, r.permutation(r.key(12), 1000)), 'different keys, different permutations');
  const x = bt.tensor([[0, 0], [1, 10], [2, 20], [3, 30]]);
  const px = r.permutation(r.key(13), x);
  assert.equal([...px.shape], [4, 2]);
  const rowsOut = (B.name === 'cpu' ? px.toArray() : await px.array()) as number[][];
  assert.equal(rowsOut.map((rr) => rr[0]).sort(), [0, 1, 2, 3]);
  for (const rr of rowsOut) assert.is(rr[1], rr[0]! * 10, 'rows are kept intact');
  // an int32 tensor is permuted the same way
  const pi = r.permutation(r.key(13), ints([0, 1, 2, 3]));
  assert.equal(await get(B, pi), rowsOut.map((rr) => rr[0]!));
});

registerAll(backends, 'random sampling is not differentiated (a constant to grad)', async (B) => {
  const k = r.key(14);
  const g = bt.grad((mu: bt.Tensor) => bt.sum(r.normal(k, [5]).add(mu).square()))(bt.tensor(0.5));
  const z = r.normal(k, [5]);
  if (B.name === 'cpu') assertClose(g.item(), bt.sum(z.add(0.5).mul(2)).item(), 1e-12);
  else {
    // Σ 2(zᵢ + ½): five terms, each rounded, summed in float32
    const zv = await read(z);
    const want = zv.reduce((s, v) => s + 2 * (v + 0.5), 0);
    const scale = zv.reduce((s, v) => s + 2 * (Math.abs(v) + 0.5), 0);
    assertCloseArr(await read(g), [want], 0, B.adRtol * scale, 'd/dμ Σ(z + μ)²');
  }
  // vmap over a batch of keys equals sampling with each key
  const ks = r.split(r.key(15), 3);
  const v = bt.vmap((kk: bt.Tensor) => r.uniform(kk, [4]))(ks);
  for (let i = 0; i < 3; i++) assert.equal(await get(B, v.slice([i], [1]).reshape([4])), await get(B, r.uniform(ks.slice([i], [1]).reshape([2]), [4])));
  // every sampler (parallel chains draw this way): the batched kernels give each key's own stream, exactly
  const samplers: [string, (kk: bt.Tensor) => bt.Tensor][] = [
    ['normal', (kk) => r.normal(kk, [5])],
    ['gamma', (kk) => r.gamma(kk, 2.5, [5])],
    ['bernoulli', (kk) => r.bernoulli(kk, 0.3, [5])],
    ['categorical', (kk) => r.categorical(kk, bt.tensor([0.1, 0.5, -1]), { shape: [5, 3] })],
    ['permutation', (kk) => r.permutation(kk, 6)],
    ['split', (kk) => r.split(kk, 2)],
    ['foldIn', (kk) => r.foldIn(kk, 3)],
    ['bits', (kk) => r.bits(kk, [4])],
  ];
  for (const [what, f] of samplers) {
    const batched = await get(B, bt.vmap(f)(ks));
    const each: number[] = [];
    for (let i = 0; i < 3; i++) each.push(...(await get(B, f(ks.slice([i], [1]).reshape([2])))));
    assert.equal(batched, each, `vmap(${what}) over 3 keys`);
  }
});

registerAll(backends, 'bad keys and options are typed errors', (B) => {
  assert.throws(() => r.uniform(bt.tensor([1, 2]), [3]), (e: unknown) => e instanceof bt.DTypeError);
  assert.throws(() => r.key(1.5), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => r.split(r.key(0), 0), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => r.uniform(r.key(0), [2], { dtype: 'int32' as never }), (e: unknown) => e instanceof bt.DTypeError);
  if (B.name === 'webgpu') {
    // WGSL has no 64-bit floats: asking for float64 draws is a DTypeError at the call
    assert.throws(() => r.uniform(r.key(0), [2], { dtype: 'float64' }), (e: unknown) => e instanceof bt.DTypeError && /float64/.test((e as Error).message));
    assert.throws(() => r.normal(r.key(0), [2], { dtype: 'float64' }), (e: unknown) => e instanceof bt.DTypeError);
    assert.throws(() => r.gamma(r.key(0), 2, [2], { dtype: 'float64' }), (e: unknown) => e instanceof bt.DTypeError);
  }
});

registerAll(backends, 'gamma as jax.random.gamma: seed 0, a = 0.5, float64 (JAX 0.4+ values) and the float32 stream across backends', async (B) => {
  if (B.name === 'cpu') {
    // jax.random.gamma(PRNGKey(0), 0.5, (5,), float64) under jax_enable_x64, as quoted to 3 figures
    const jax = [0.0981, 0.00758, 0.542, 0.000299, 0.339];
    const got = arr(r.gamma(r.key(0), 0.5, [5], { dtype: 'float64' }));
    got.forEach((v, i) => assert.ok(Math.abs(v - jax[i]!) <= 0.5 * 10 ** (Math.floor(Math.log10(jax[i]!)) - 2), `gamma[${i}] ${v} vs JAX ${jax[i]}`));
  }
  // the float32 stream: WebGPU against the CPU's float32 kernel (the same words; f32 maths a few ulps apart)
  const alphas = Float32Array.from({ length: 64 }, (_, i) => 0.05 + i * 0.37);
  const cpu = await bt.withBackend('cpu', () => arr(r.gamma(r.key(3), bt.tensor(alphas, { dtype: 'float32' }))));
  const here = await get(B, r.gamma(r.key(3), bt.tensor(alphas, { dtype: 'float32' })));
  assertCloseArr(here, cpu, B.name === 'cpu' ? 0 : B.adRtol, 0, 'gamma float32 stream vs CPU');
});

registerAll(backends, 'gamma: vmap over alpha (and over keys with alpha) equals the unbatched draws', async (B) => {
  const k = r.key(8);
  const alphas = bt.tensor([0.4, 1.7, 6.0], { dtype: dtypeOf(B) });
  const v = await get(B, bt.vmap((a: bt.Tensor) => r.gamma(k, a, [4]))(alphas));
  const each: number[] = [];
  for (const a of [0.4, 1.7, 6.0]) each.push(...(await get(B, r.gamma(k, bt.tensor([a], { dtype: dtypeOf(B) }).reshape([]), [4]))));
  assertCloseArr(v, each, 0, 0, 'vmap over alpha');
  const ks = r.split(r.key(9), 3);
  const both = await get(B, bt.vmap((kk: bt.Tensor, a: bt.Tensor) => r.gamma(kk, a, [2]))(ks, alphas));
  const each2: number[] = [];
  for (let i = 0; i < 3; i++) each2.push(...(await get(B, r.gamma(ks.slice([i], [1]).reshape([2]), alphas.slice([i], [1]).reshape([]), [2]))));
  assertCloseArr(both, each2, 0, 0, 'vmap over keys and alpha');
});

registerAll(backends, 'gamma: implicit reparameterisation gradient in alpha = d/da of the quantile at the fixed CDF level', async (B) => {
  const k = r.key(11);
  const a = bt.tensor([0.3, 1.0, 2.5, 9.0], { dtype: dtypeOf(B) });
  const x = r.gamma(k, a);
  const [, tan] = bt.jvp((aa: bt.Tensor) => r.gamma(k, aa), [a], [bt.onesLike(a)]);
  // host reference: u = P(a, x) fixed, dx/da = −(∂P/∂a)/(∂P/∂x), each side by central differences in float64
  const { gammainc, lgamma } = await import('../src/backends/cpu/special-functions.js');
  const av = await get(B, a);
  const xv = await get(B, x);
  const want = av.map((ai, i) => {
    const h = 1e-6 * ai;
    const dPda = (gammainc(ai + h, xv[i]!) - gammainc(ai - h, xv[i]!)) / (2 * h);
    const pdf = Math.exp((ai - 1) * Math.log(xv[i]!) - xv[i]! - lgamma(ai));
    return -dPda / pdf;
  });
  assertCloseArr(await get(B, tan as bt.Tensor), want, B.name === 'cpu' ? 1e-7 : 2e-3, 0, 'd gamma sample / d alpha (jvp)');
  const g = bt.grad((aa: bt.Tensor) => bt.sum(r.gamma(k, aa)))(a);
  assertCloseArr(await get(B, g), want, B.name === 'cpu' ? 1e-7 : 2e-3, 0, 'd gamma sample / d alpha (grad)');
});

registerAll(backends, 'Beta(a, b) = G1/(G1+G2): reparameterised d E[X]/da matches b/(a+b)² within Monte Carlo error', async (B) => {
  const n = 20000;
  const [k1, k2] = [r.key(21), r.key(22)];
  const beta = (a: bt.Tensor, b: bt.Tensor) => {
    const g1 = r.gamma(k1, bt.broadcastTo(a, [n]));
    const g2 = r.gamma(k2, bt.broadcastTo(b, [n]));
    return bt.div(g1, bt.add(g1, g2));
  };
  for (const [av, bv] of [[0.7, 2.0], [3.0, 1.5]] as const) {
    const a = bt.tensor([av], { dtype: dtypeOf(B) }).reshape([]);
    const b = bt.tensor([bv], { dtype: dtypeOf(B) }).reshape([]);
    // per-sample pathwise derivatives in one forward pass, their mean and standard error
    const [, t] = bt.jvp((aa: bt.Tensor) => beta(aa, b), [a], [bt.onesLike(a)]);
    const d = await get(B, t as bt.Tensor);
    const mean = d.reduce((s, v) => s + v, 0) / n;
    const sd = Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
    const want = bv / (av + bv) ** 2;
    assert.ok(Math.abs(mean - want) < 5 * (sd / Math.sqrt(n)), `Beta(${av}, ${bv}) dE/da: ${mean} vs ${want} (±${(5 * sd) / Math.sqrt(n)})`);
  }
});

test.run();
