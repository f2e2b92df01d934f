import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  threefry2x32,
  keyFromSeed,
  splitKeys,
  foldInKeys,
  randomBits32,
  randomBits64,
  bitsToUniform32,
  randomUniform32,
  randomUniform64,
  splitKeysOriginal,
  randomBits32Original,
  randomBits64Original,
} from '../../src/prng/threefry.js';

// Vectors below come from:
//  [R123]  Random123 reference KAT, DEShawResearch/Random123-Boost libs/random/test/test_threefry.cpp
//          L30-32, as quoted by jax-ml/jax tests/random_test.py::testThreefry2x32 and
//          tests/random_impl_test.py::test_threefry2x32_kat_vectors.
//  [JAXT]  jax-ml/jax tests/random_test.py (these tests run with jax_threefry_partitionable=False,
//          the pre-0.5 default: testPRNGValues, testRngRandomBits, seed table of test_prng_seeds_and_keys).
//  [JEP]   jax-ml/jax docs/jep/9263-typed-keys.md: jax.random.uniform(jax.random.key(0), shape=(3,))
//          printed as [0.947667, 0.9785799, 0.33229148] (current default config).
//  [JAXJS] ekzhang/jax-js test/random.test.ts (and its fork luisdiaz1997/jax-js), values stated
//          there to be the output of the quoted jax.random calls under current JAX defaults
//          (partitionable threefry).

const u32 = (a: ArrayLike<number>): number[] => Array.from(a, (x) => x >>> 0);
const key = (seed: number): Int32Array => keyFromSeed(seed);

// ---- block function ----------------------------------------------------------------------------

test('threefry2x32: Random123 known-answer vectors [R123]', () => {
  const cases: [number[], number[], number[]][] = [
    [[0x00000000, 0x00000000], [0x00000000, 0x00000000], [0x6b200159, 0x99ba4efe]],
    [[0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x1cb996fc, 0xbb002be7]],
    [[0x13198a2e, 0x03707344], [0x243f6a88, 0x85a308d3], [0xc4923a9c, 0x483df7a0]],
  ];
  for (const [k, x, y] of cases) {
    const y0 = new Uint32Array(1);
    const y1 = new Uint32Array(1);
    threefry2x32(k[0]!, k[1]!, [x[0]!], [x[1]!], y0, y1);
    assert.equal([y0[0], y1[0]], y, `key ${k} ctr ${x}`);
    // Same with int32 bit patterns in and out.
    const i0 = new Int32Array(1);
    const i1 = new Int32Array(1);
    threefry2x32(k[0]! | 0, k[1]! | 0, Int32Array.of(x[0]! | 0), Int32Array.of(x[1]! | 0), i0, i1);
    assert.equal(u32([i0[0]!, i1[0]!]), y);
  }
});

test('threefry2x32: vectorised over counters (cf. JAX testThreefry2x32Large) [R123]', () => {
  const n = 1000;
  const x0 = new Uint32Array(n).fill(0x243f6a88);
  const x1 = new Uint32Array(n).fill(0x85a308d3);
  const y0 = new Int32Array(n);
  const y1 = new Int32Array(n);
  threefry2x32(0x13198a2e, 0x03707344, x0, x1, y0, y1);
  for (let i = 0; i < n; i++) {
    if (y0[i]! >>> 0 !== 0xc4923a9c || y1[i]! >>> 0 !== 0x483df7a0) assert.unreachable(`mismatch at ${i}`);
  }
});

// ---- seeds -------------------------------------------------------------------------------------

test('keyFromSeed: JAX seed table [JAXT test_prng_seeds_and_keys]', () => {
  const cases: [number, number[], number[]][] = [
    // seed, key (x64 off), key (x64 on)
    [0, [0, 0], [0, 0]],
    [1, [0, 1], [0, 1]],
    [2, [0, 2], [0, 2]],
    [3, [0, 3], [0, 3]],
    [-1, [0, 4294967295], [4294967295, 4294967295]],
    [-2, [0, 4294967294], [4294967295, 4294967294]], // JAX lists only int32 (x64-off form) for -2
    [-3, [0, 4294967293], [4294967295, 4294967293]],
  ];
  for (const [s, k32, k64] of cases) {
    assert.equal(u32(keyFromSeed(s)), k32, `seed ${s}`);
    assert.equal(u32(keyFromSeed(s, true)), k64, `seed ${s} x64`);
  }
  assert.equal(u32(keyFromSeed(2 ** 32 + 5, true)), [1, 5]);
  assert.equal(u32(keyFromSeed(2 ** 32 + 5)), [0, 5]);
  assert.equal(u32(keyFromSeed(-(2n ** 63n), true)), [0x80000000, 0]);
  assert.throws(() => keyFromSeed(1.5));
});

// ---- current JAX default: partitionable threefry -----------------------------------------------

test('splitKeys: jax.random.split(key(1), 3) and split(key(0), 3) [JAXJS]', () => {
  assert.equal(u32(splitKeys(key(1), 1, 3)), [507451445, 1853169794, 1948878966, 4237131848, 2441914641, 3819641963]);
  assert.equal(u32(splitKeys(key(0), 1, 3)), [1797259609, 2579123966, 928981903, 3453687069, 4146024105, 2718843009]);
});

test('randomBits32: jax.random.bits(key(0)) and bits(key(10), (4,)) [JAXJS]', () => {
  assert.equal(u32(randomBits32(key(0), 1, 1)), [4070199207]);
  assert.equal(u32(randomBits32(key(10), 1, 4)), [169096361, 1572511259, 2689743692, 2228103506]);
});

test('randomUniform32: uniform(key(51), (4,)) [JAXJS] and uniform(key(0), (3,)) [JEP]', () => {
  const a = randomUniform32(key(51), 1, 4);
  const ea = [0.471269, 0.12344253, 0.17550635, 0.5663593]; // printed to float32 repr precision
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(a[i]! - ea[i]!) < 1e-7, `${a[i]} vs ${ea[i]}`);
  const b = randomUniform32(key(0), 1, 3);
  const eb = [0.947667, 0.9785799, 0.33229148];
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(b[i]! - eb[i]!) < 1e-7, `${b[i]} vs ${eb[i]}`);
  // The printed decimals identify the float32 values uniquely.
  assert.equal(Array.from(b), Array.from(Float32Array.from(eb)));
  assert.equal(Array.from(a), Array.from(Float32Array.from(ea)));
});

test('foldInKeys: fold_in(key(0), 4) [JAXT testPRNGValues; fold_in is the same in both modes]', () => {
  assert.equal(u32(foldInKeys(key(0), 1, 4)), [2285895361, 433833334]);
  // data is taken mod 2^32
  assert.equal(u32(foldInKeys(key(0), 1, 4 + 2 ** 32)), [2285895361, 433833334]);
  assert.equal(foldInKeys(key(7), 1, -1), foldInKeys(key(7), 1, 0xffffffff));
});

test('split/fold_in symmetry: fold_in(key, i) == split(key, 3)[i] [JAXT test_threefry_split_fold_in_symmetry]', () => {
  const k = key(72);
  const s = splitKeys(k, 1, 3);
  for (let i = 0; i < 3; i++) assert.equal(Array.from(foldInKeys(k, 1, i)), Array.from(s.subarray(2 * i, 2 * i + 2)));
});

test('batched keys: each key row independent, same as one-at-a-time', () => {
  const keys = new Int32Array([...key(0), ...key(1), ...key(42), 0x7fffffff, -1]);
  const nK = 4;
  const sp = splitKeys(keys, nK, 5);
  const fo = foldInKeys(keys, nK, 123);
  const b = randomBits32(keys, nK, 7);
  const b64 = randomBits64(keys, nK, 6);
  const f32 = randomUniform32(keys, nK, 7);
  const f64 = randomUniform64(keys, nK, 6);
  for (let k = 0; k < nK; k++) {
    const one = keys.subarray(2 * k, 2 * k + 2);
    assert.equal(Array.from(sp.subarray(10 * k, 10 * k + 10)), Array.from(splitKeys(one, 1, 5)));
    assert.equal(Array.from(fo.subarray(2 * k, 2 * k + 2)), Array.from(foldInKeys(one, 1, 123)));
    assert.equal(Array.from(b.subarray(7 * k, 7 * k + 7)), Array.from(randomBits32(one, 1, 7)));
    assert.equal(Array.from(b64.subarray(12 * k, 12 * k + 12)), Array.from(randomBits64(one, 1, 6)));
    assert.equal(Array.from(f32.subarray(7 * k, 7 * k + 7)), Array.from(randomUniform32(one, 1, 7)));
    assert.equal(Array.from(f64.subarray(6 * k, 6 * k + 6)), Array.from(randomUniform64(one, 1, 6)));
  }
  // Prefix property: the first n draws do not depend on how many are drawn.
  assert.equal(Array.from(randomBits32(keys, 1, 3)), Array.from(randomBits32(keys, 1, 10).subarray(0, 3)));
  assert.equal(randomBits32(keys, 0, 5).length, 0);
  assert.equal(randomBits32(keys, 2, 0).length, 0);
});

test('randomBits32 / randomBits64 are built from the block at counter (0, i)', () => {
  const k = key(1234);
  const n = 9;
  const x0 = new Uint32Array(n);
  const x1 = Uint32Array.from({ length: n }, (_, i) => i);
  const y0 = new Uint32Array(n);
  const y1 = new Uint32Array(n);
  threefry2x32(k[0]!, k[1]!, x0, x1, y0, y1);
  const b32 = randomBits32(k, 1, n);
  const b64 = randomBits64(k, 1, n);
  for (let i = 0; i < n; i++) {
    assert.is(b32[i]! >>> 0, (y0[i]! ^ y1[i]!) >>> 0);
    assert.is(b64[2 * i]! >>> 0, y0[i]);
    assert.is(b64[2 * i + 1]! >>> 0, y1[i]);
  }
});

// ---- uniforms ----------------------------------------------------------------------------------

/** The literal JAX float32 construction: bitcast((bits >>> 9) | 0x3f800000) - 1 in float32. */
function mantissaTrick32(bits: number): number {
  const i = new Uint32Array(1);
  const f = new Float32Array(i.buffer);
  i[0] = ((bits >>> 9) | 0x3f800000) >>> 0;
  return Math.fround(f[0]! - 1);
}

/** The literal JAX float64 construction from a 64-bit word (hi, lo). */
function mantissaTrick64(hi: number, lo: number): number {
  const w = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  const fb = (w >> 12n) | 0x3ff0000000000000n;
  const dv = new DataView(new ArrayBuffer(8));
  dv.setBigUint64(0, fb);
  return dv.getFloat64(0) - 1;
}

test('bitsToUniform32 equals the mantissa trick bit for bit', () => {
  const edge = [0, 1, 511, 512, 0x7fffffff, 0x80000000 | 0, -1, 0x3f800000, 0xdeadbeef | 0];
  const bits = new Int32Array([...edge, ...randomBits32(key(5), 1, 1000)]);
  const o32 = new Float32Array(bits.length);
  const o64 = new Float64Array(bits.length);
  bitsToUniform32(bits, o32);
  bitsToUniform32(bits, o64);
  for (let i = 0; i < bits.length; i++) {
    const want = mantissaTrick32(bits[i]!);
    assert.is(o32[i], want);
    assert.is(o64[i], want);
  }
  assert.is(o32[0], 0);
  assert.is(o32[6], 1 - 2 ** -23); // largest value, < 1
  const viaBits = new Float32Array(100);
  bitsToUniform32(randomBits32(key(3), 1, 100), viaBits);
  assert.equal(Array.from(randomUniform32(key(3), 1, 100)), Array.from(viaBits));
});

test('randomUniform64 equals the float64 mantissa trick on the 64-bit words', () => {
  const k = key(99);
  const n = 2000;
  const w = randomBits64(k, 1, n);
  const u = randomUniform64(k, 1, n);
  for (let i = 0; i < n; i++) {
    const want = mantissaTrick64(w[2 * i]!, w[2 * i + 1]!);
    if (u[i] !== want) assert.unreachable(`i=${i}: ${u[i]} vs ${want}`);
    if (!(u[i]! >= 0 && u[i]! < 1)) assert.unreachable(`out of range ${u[i]}`);
  }
  assert.is(mantissaTrick64(-1, -1), 1 - 2 ** -52);
});

// ---- original (jax_threefry_partitionable=False) streams ---------------------------------------

test('splitKeysOriginal: split(PRNGKey(0), 4) [JAXT testPRNGValues]', () => {
  assert.equal(u32(splitKeysOriginal(key(0), 1, 4)), [
    2285895361, 1501764800, 1518642379, 4090693311, 433833334, 4221794875, 839183663, 3740430601,
  ]);
});

test('randomBits32Original / randomBits64Original: seed 1701 [JAXT testRngRandomBits]', () => {
  assert.equal(u32(randomBits32Original(key(1701), 1, 3)), [56197195, 4200222568, 961309823]);
  const w = randomBits64Original(key(1701), 1, 3);
  const words = [0, 1, 2].map((i) => ((BigInt(w[2 * i]! >>> 0) << 32n) | BigInt(w[2 * i + 1]! >>> 0)));
  assert.equal(words, [3982329540505020460n, 16822122385914693683n, 7882654074788531506n]);
  // Odd count: JAX pads iota(5) with a 0 and hashes pairs (0,3), (1,4), (2,0); the output is
  // [y0 of all pairs, y1 of all pairs][:5].
  const b5 = randomBits32Original(key(2), 1, 5);
  const y0 = new Uint32Array(3);
  const y1 = new Uint32Array(3);
  const k = key(2);
  threefry2x32(k[0]!, k[1]!, [0, 1, 2], [3, 4, 0], y0, y1);
  assert.equal(u32(b5), [y0[0]!, y0[1]!, y0[2]!, y1[0]!, y1[1]!]);
});

// ---- statistics --------------------------------------------------------------------------------

function meanVar(x: ArrayLike<number>): [number, number] {
  let m = 0;
  for (let i = 0; i < x.length; i++) m += x[i]!;
  m /= x.length;
  let v = 0;
  for (let i = 0; i < x.length; i++) v += (x[i]! - m) ** 2;
  return [m, v / x.length];
}

test('uniform statistics: mean and variance of 1e5 draws within 5 standard errors', () => {
  const n = 100000;
  const seMean = Math.sqrt(1 / 12 / n);
  const seVar = Math.sqrt(1 / 180 / n); // Var[(U - 1/2)^2] = 1/80 - 1/144 = 1/180
  const samples: [string, ArrayLike<number>][] = [
    ['f32 key(0)', randomUniform32(key(0), 1, n)],
    ['f64 key(0)', randomUniform64(key(0), 1, n)],
    ['f32 split(key(7))[1]', randomUniform32(splitKeys(key(7), 1, 2).subarray(2, 4), 1, n)],
    ['f64 fold_in(key(7), 3)', randomUniform64(foldInKeys(key(7), 1, 3), 1, n)],
  ];
  for (const [name, x] of samples) {
    const [m, v] = meanVar(x);
    assert.ok(Math.abs(m - 0.5) < 5 * seMean, `${name}: mean ${m}`);
    assert.ok(Math.abs(v - 1 / 12) < 5 * seVar, `${name}: var ${v}`);
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < x.length; i++) {
      lo = Math.min(lo, x[i]!);
      hi = Math.max(hi, x[i]!);
    }
    assert.ok(lo >= 0 && hi < 1, `${name}: range [${lo}, ${hi}]`);
  }
  // Lag-1 and cross-key correlations near 0 (SE ~ 1/sqrt(n)).
  const a = randomUniform64(key(11), 1, n);
  const b = randomUniform64(splitKeys(key(11), 1, 1), 1, n);
  let c1 = 0;
  let c2 = 0;
  for (let i = 0; i < n; i++) {
    c2 += (a[i]! - 0.5) * (b[i]! - 0.5);
    if (i > 0) c1 += (a[i]! - 0.5) * (a[i - 1]! - 0.5);
  }
  const r1 = (c1 / (n - 1)) * 12;
  const r2 = (c2 / n) * 12;
  assert.ok(Math.abs(r1) < 5 / Math.sqrt(n), `lag-1 corr ${r1}`);
  assert.ok(Math.abs(r2) < 5 / Math.sqrt(n), `cross-key corr ${r2}`);
  // Each of the 32 bits of randomBits32 is set about half the time.
  const bits = randomBits32(key(3), 1, n);
  for (let j = 0; j < 32; j++) {
    let c = 0;
    for (let i = 0; i < n; i++) c += (bits[i]! >>> j) & 1;
    assert.ok(Math.abs(c / n - 0.5) < 5 * Math.sqrt(0.25 / n), `bit ${j}: ${c / n}`);
  }
});

test('argument checks', () => {
  assert.throws(() => randomBits32(new Int32Array(2), 2, 3));
  assert.throws(() => splitKeys(key(0), 1, -1));
  assert.throws(() => randomUniform32(key(0), 1, 1.5));
  assert.throws(() => threefry2x32(0, 0, [1, 2], [1], new Int32Array(2), new Int32Array(2)));
});

test.run();
