/** bt.random: determinism, independent streams, JAX compatibility, and Monte Carlo moments. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../src/index.js';
import { assertClose } from './helpers.js';

const r = bt.random;
const N = 100_000;
const arr = (t: bt.Tensor) => Array.from(t.dataSync());

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

test('uniform(key(0), [3], float32) equals the JAX documented values', () => {
  const u = r.uniform(r.key(0), [3], { dtype: 'float32' });
  assert.is(u.dtype, 'float32');
  assert.equal([...u.shape], [3]);
  assertClose(u, [0.947667, 0.9785799, 0.33229148], 1e-6, 0, 'jax.random.uniform(key(0), (3,))');
});

test('same key -> same numbers, for every sampler and dtype', () => {
  const k = r.key(42);
  const same = (make: (key: bt.Tensor) => bt.Tensor, what: string) => assert.equal(arr(make(k)), arr(make(r.key(42))), what);
  for (const dtype of ['float32', 'float64'] as const) {
    same((key) => r.uniform(key, [50], { dtype }), `uniform ${dtype}`);
    same((key) => r.normal(key, [50], { dtype }), `normal ${dtype}`);
    same((key) => r.gamma(key, 2.5, [50], { dtype }), `gamma ${dtype}`);
  }
  same((key) => r.bernoulli(key, 0.3, [50]), 'bernoulli');
  same((key) => r.categorical(key, bt.tensor([0, 1, 2])), 'categorical');
  same((key) => r.permutation(key, 20), 'permutation');
  same((key) => r.bits(key, [10]), 'bits');
  same((key) => r.split(key, 3), 'split');
  same((key) => r.foldIn(key, 7), 'foldIn');
  assert.equal(arr(r.key(42)), arr(r.key(42)));
  assert.not.equal(arr(r.key(42)), arr(r.key(43)));
});

test('split and foldIn give different keys and different streams', () => {
  const k = r.key(0);
  const ks = r.split(k, 4);
  assert.equal([...ks.shape], [4, 2]);
  assert.is(ks.dtype, 'int32');
  // With jax_threefry_partitionable, split is "fold-in-like": split(k, n)[i] == foldIn(k, i) (as in JAX).
  for (let i = 0; i < 4; i++) assert.equal(arr(ks.slice([i], [1]).reshape([2])), arr(r.foldIn(k, i)), `split[${i}] == foldIn(k, ${i})`);
  const keys = [k, ...Array.from({ length: 4 }, (_, i) => ks.slice([i], [1]).reshape([2])), r.foldIn(k, 4), r.foldIn(k, 12345), r.foldIn(ks.slice([0], [1]).reshape([2]), 1)];
  const streams = keys.map((kk) => arr(r.uniform(kk, [1000])));
  for (let i = 0; i < keys.length; i++) {
    for (let j = i + 1; j < keys.length; j++) {
      assert.not.equal(arr(keys[i]!), arr(keys[j]!), `keys ${i} and ${j} differ`);
      const a = streams[i]!;
      const b = streams[j]!;
      let eq = 0;
      let cov = 0;
      for (let t = 0; t < a.length; t++) {
        if (a[t] === b[t]) eq++;
        cov += (a[t]! - 0.5) * (b[t]! - 0.5);
      }
      assert.is(eq, 0, `streams ${i} and ${j} share values`);
      // correlation of independent streams: |ρ| ≲ 5/√n
      const rho = cov / a.length / (1 / 12);
      assert.ok(Math.abs(rho) < 5 / Math.sqrt(a.length), `streams ${i} and ${j} correlated (ρ = ${rho})`);
    }
  }
  // split is deterministic and split(k, 2) differs from k itself
  assert.equal(arr(r.split(k)), arr(r.split(r.key(0))));
});

test('uniform: float64 and float32 means and variances within 5 MC standard errors; support [0, 1)', () => {
  for (const dtype of ['float64', 'float32'] as const) {
    const u = r.uniform(r.key(1), [N], { dtype });
    assert.is(u.dtype, dtype);
    const d = u.dataSync();
    assert.ok(d.every((v) => v >= 0 && v < 1), `${dtype} support`);
    assertMoments(d, 0.5, 1 / 12, 1 / 80, `uniform ${dtype}`);
  }
  const ab = r.uniform(r.key(2), [N], { minval: -3, maxval: 5 });
  const d = ab.dataSync();
  assert.ok(d.every((v) => v >= -3 && v < 5), 'minval/maxval support');
  assertMoments(d, 1, 64 / 12, 64 * 64 / 80, 'uniform(-3, 5)');
});

test('normal: float64 and float32 moments (mean 0, variance 1, μ₄ = 3)', () => {
  for (const dtype of ['float64', 'float32'] as const) {
    const z = r.normal(r.key(3), [N], { dtype });
    assert.is(z.dtype, dtype);
    const d = z.dataSync();
    assert.ok(d.every((v) => Number.isFinite(v)), `${dtype}: finite`);
    assertMoments(d, 0, 1, 3, `normal ${dtype}`);
    // the fraction within one standard deviation: Φ(1) − Φ(−1) = 0.682689…
    const p = 0.6826894921370859;
    const frac = d.filter((v) => Math.abs(v) < 1).length / N;
    assert.ok(Math.abs(frac - p) <= 5 * Math.sqrt((p * (1 - p)) / N), `${dtype}: P(|z|<1) = ${frac}`);
  }
});

test('gamma: moments for α in {0.3, 1, 2.5, 10}, both dtypes (mean α, variance α, μ₄ = 3α(α+2))', () => {
  for (const dtype of ['float64', 'float32'] as const) {
    for (const a of [0.3, 1, 2.5, 10]) {
      const g = r.gamma(r.key(4), a, [N], { dtype });
      assert.is(g.dtype, dtype);
      const d = g.dataSync();
      assert.ok(d.every((v) => v >= 0 && Number.isFinite(v)), `gamma(${a}) ${dtype} support`);
      assertMoments(d, a, a, 3 * a * (a + 2), `gamma(${a}) ${dtype}`);
    }
  }
  // tensor alpha broadcast to a shape: each column has its own mean
  const alpha = bt.tensor([0.5, 4]);
  const g = r.gamma(r.key(5), alpha, [N / 2, 2]);
  const d = g.dataSync();
  for (const [j, a] of [0.5, 4].entries()) {
    const col = Float64Array.from({ length: N / 2 }, (_, i) => d[2 * i + j]!);
    assertMoments(col, a, a, 3 * a * (a + 2), `gamma column α=${a}`);
  }
});

test('bernoulli: frequencies for scalar and tensor p', () => {
  for (const p of [0.05, 0.3, 0.5, 0.9]) {
    const b = r.bernoulli(r.key(6), p, [N]);
    assert.is(b.dtype, 'int32');
    const d = b.dataSync();
    assert.ok(d.every((v) => v === 0 || v === 1));
    const q = p * (1 - p);
    assertMoments(d, p, q, null, `bernoulli(${p})`); // 0/1 data: variance is m(1−m), fixed by the mean
  }
  const pt = bt.tensor([0.1, 0.7], { dtype: 'float32' });
  const b = r.bernoulli(r.key(7), pt, [N / 2, 2]);
  const d = b.dataSync();
  for (const [j, p] of [0.1, 0.7].entries()) {
    const col = Array.from({ length: N / 2 }, (_, i) => d[2 * i + j]!);
    const q = p * (1 - p);
    assertMoments(col, p, q, null, `bernoulli column p=${p}`);
  }
});

test('categorical: frequencies match softmax(logits) (chi-square bound)', () => {
  for (const dtype of ['float64', 'float32'] as const) {
    const logits = bt.tensor([0.5, -1, 2, 0, 1.2, -3], { dtype });
    const K = 6;
    const draws = r.categorical(r.key(8), logits, { shape: [N, K] });
    assert.equal([...draws.shape], [N]);
    assert.is(draws.dtype, 'int32');
    const p = bt.softmax(logits).dataSync();
    const counts = new Array<number>(K).fill(0);
    for (const c of draws.dataSync()) {
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
  assert.equal(arr(rows), [0, 2]);
});

test('permutation is a permutation; permuting a tensor permutes its first axis', () => {
  for (const n of [1, 2, 10, 1000]) {
    const p = r.permutation(r.key(10 + n), n);
    assert.is(p.dtype, 'int32');
    assert.equal([...p.shape], [n]);
    const sorted = arr(p).sort((a, b) => a - b);
    assert.equal(sorted, Array.from({ length: n }, (_, i) => i), `n=${n}`);
  }
  const big = arr(r.permutation(r.key(11), 1000));
  assert.not.equal(big, Array.from({ length: 1000 }, (_, i) => i), 'not the identity');
  assert.not.equal(big, arr(r.permutation(r.key(12), 1000)), 'different keys, different permutations');
  const x = bt.tensor([[0, 0], [1, 10], [2, 20], [3, 30]]);
  const px = r.permutation(r.key(13), x);
  assert.equal([...px.shape], [4, 2]);
  const rowsOut = px.toArray() as number[][];
  assert.equal(rowsOut.map((rr) => rr[0]).sort(), [0, 1, 2, 3]);
  for (const rr of rowsOut) assert.is(rr[1], rr[0]! * 10, 'rows are kept intact');
});

test('random sampling is not differentiated (a constant to grad)', () => {
  const k = r.key(14);
  const g = bt.grad((mu: bt.Tensor) => bt.sum(r.normal(k, [5]).add(mu).square()))(bt.tensor(0.5));
  const z = r.normal(k, [5]);
  assertClose(g.item(), bt.sum(z.add(0.5).mul(2)).item(), 1e-12);
  // vmap over a batch of keys equals sampling with each key
  const ks = r.split(r.key(15), 3);
  const v = bt.vmap((kk: bt.Tensor) => r.uniform(kk, [4]))(ks);
  for (let i = 0; i < 3; i++) assert.equal(arr(v.slice([i], [1]).reshape([4])), arr(r.uniform(ks.slice([i], [1]).reshape([2]), [4])));
});

test('bad keys and options are typed errors', () => {
  assert.throws(() => r.uniform(bt.tensor([1, 2]), [3]), (e: unknown) => e instanceof bt.DTypeError);
  assert.throws(() => r.key(1.5), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => r.split(r.key(0), 0), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => r.uniform(r.key(0), [2], { dtype: 'int32' as never }), (e: unknown) => e instanceof bt.DTypeError);
});

test.run();
