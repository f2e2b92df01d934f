/**
 * Threefry-2x32 counter-based PRNG kernels, reproducing JAX's default `jax.random` streams.
 * Host code over plain typed arrays: the CPU backend's random kernels run it and bt.random.key
 * seeds with it, so it sits outside backends/ (random.ts must not reach into a backend).
 *
 * What is matched (bit for bit)
 * -----------------------------
 * The default JAX configuration of JAX >= 0.5.0 (checked against the source of jax 0.11.1,
 * `jax/_src/random/threefry2x32.py`; older releases keep the same code in `jax/_src/prng.py`): `jax_default_prng_impl = "threefry2x32"` and
 * `jax_threefry_partitionable = True` (the default since jax 0.5.0, Jan 2025).
 *
 *  - `threefry2x32`: the Threefry-2x32 block function with 20 rounds (Salmon et al. 2011,
 *    Random123), identical to JAX's `threefry2x32_p` and to the Random123 reference
 *    (known-answer vectors in the tests).
 *  - `splitKeys(key, n)`     == `jax.random.split(key, n)` (key data): new key i is the block
 *    function of the 64-bit counter i, i.e. `threefry2x32(key, hi(i), lo(i))` as the pair (y0, y1).
 *  - `foldInKeys(key, d)`    == `jax.random.fold_in(key, d)`: `threefry2x32(key, 0, d)`. Hence
 *    `fold_in(key, i) == split(key, n)[i]` (a property JAX tests).
 *  - `randomBits32(key, n)`  == `jax.random.bits(key, (n,), uint32)`: word i is y0 ^ y1 of the
 *    block function of counter i. (Any shape: counters run over the row-major flat index.)
 *  - `randomUniform32`       == `jax.random.uniform(key, (n,), float32)`: `(bits >>> 9) * 2^-23`,
 *    exactly what the mantissa trick `bitcast((bits >> 9) | 0x3f800000) - 1` gives.
 *  - `randomUniform64`       == `jax.random.uniform(key, (n,), float64)` with
 *    `jax_enable_x64 = True`: the 64-bit word i is `(y0 << 32) | y1` of counter i, and the value is
 *    `(word >> 12) * 2^-52`, exact in a double.
 *  - `keyFromSeed(seed)`     == `jax.random.key_data(jax.random.key(seed))` (or `PRNGKey(seed)`),
 *    with `x64` chosen to match `jax_enable_x64` (it only matters for seeds outside [0, 2^31)).
 *
 * The pre-0.5 stream (`jax_threefry_partitionable = False`) is also provided for split and bits
 * (`splitKeysOriginal`, `randomBits32Original`, `randomBits64Original`), mainly because JAX's own
 * known-answer tests (tests/random_test.py) were written for it; `fold_in` and `key` are the same
 * in both modes.
 *
 * What does not match / is not covered
 * ------------------------------------
 *  - `jax.random.bits` with dtype uint8/uint16 (JAX truncates y0 ^ y1 in partitionable mode) and
 *    other impls (threefry4x32, philox, rbg/unsafe_rbg) are not implemented.
 *  - float16/bfloat16 uniforms are not implemented.
 *  - `jax.random.uniform` with `minval`/`maxval` other than 0/1 computes `u * (max - min) + min`
 *    then `max(min, .)` in the target dtype; these kernels only produce the [0, 1) value `u`.
 *  - Counters are exact up to 2^53 draws per key (JAX allows 2^64); the original-mode functions
 *    only support fewer than 2^32 - 1 words (JAX switches to block-wise keys beyond that).
 *  - JAX `random_seed_offset` config is not modelled.
 *  - No published float64 known-answer vector was found: `randomUniform64` follows the JAX source
 *    (its y0/y1 words are pinned by the split vectors, and the original-mode 64-bit join by JAX's
 *    uint64 test vector), but has not been compared with a JAX run.
 *
 * Representation: a key is two uint32 words stored as their int32 bit patterns (`>>> 0` to read
 * them unsigned). All arithmetic is plain 32-bit add / rotate / xor, written with `| 0` so V8 keeps
 * it in int32 registers and so a WGSL port is a transliteration. No per-element allocation.
 */

const KS_PARITY = 0x1bd11bda;
const TWO_POW_M23 = 1 / 8388608; // 2^-23
const TWO_POW_M32 = 1 / 4294967296; // 2^-32
const TWO_POW_M52 = 1 / 4503599627370496; // 2^-52

// Results of `block` (module scratch, so the hot loop allocates nothing).
let out0 = 0;
let out1 = 0;

/**
 * The Threefry-2x32 block function, 20 rounds: encrypts (x0, x1) under (k0, k1) and leaves the
 * result in `out0`, `out1` (int32 bit patterns). Arguments may be int32 or uint32 numbers.
 *
 * Round: x0 += x1; x1 = rotl(x1, r); x1 ^= x0. Rotations 13,15,26,6 / 17,29,16,24 alternate in
 * groups of four; after each group s = 1..5 the key schedule (k0, k1, k0^k1^0x1BD11BDA) is
 * injected: x0 += ks[s % 3], x1 += ks[(s + 1) % 3] + s.
 */
function block(k0: number, k1: number, x0: number, x1: number): void {
  k0 |= 0;
  k1 |= 0;
  const k2 = k0 ^ k1 ^ KS_PARITY;
  let a = (x0 + k0) | 0;
  let b = (x1 + k1) | 0;

  // group 1: rotations 13, 15, 26, 6
  a = (a + b) | 0; b = (b << 13) | (b >>> 19); b ^= a;
  a = (a + b) | 0; b = (b << 15) | (b >>> 17); b ^= a;
  a = (a + b) | 0; b = (b << 26) | (b >>> 6); b ^= a;
  a = (a + b) | 0; b = (b << 6) | (b >>> 26); b ^= a;
  a = (a + k1) | 0; b = (b + k2 + 1) | 0;

  // group 2: rotations 17, 29, 16, 24
  a = (a + b) | 0; b = (b << 17) | (b >>> 15); b ^= a;
  a = (a + b) | 0; b = (b << 29) | (b >>> 3); b ^= a;
  a = (a + b) | 0; b = (b << 16) | (b >>> 16); b ^= a;
  a = (a + b) | 0; b = (b << 24) | (b >>> 8); b ^= a;
  a = (a + k2) | 0; b = (b + k0 + 2) | 0;

  // group 3
  a = (a + b) | 0; b = (b << 13) | (b >>> 19); b ^= a;
  a = (a + b) | 0; b = (b << 15) | (b >>> 17); b ^= a;
  a = (a + b) | 0; b = (b << 26) | (b >>> 6); b ^= a;
  a = (a + b) | 0; b = (b << 6) | (b >>> 26); b ^= a;
  a = (a + k0) | 0; b = (b + k1 + 3) | 0;

  // group 4
  a = (a + b) | 0; b = (b << 17) | (b >>> 15); b ^= a;
  a = (a + b) | 0; b = (b << 29) | (b >>> 3); b ^= a;
  a = (a + b) | 0; b = (b << 16) | (b >>> 16); b ^= a;
  a = (a + b) | 0; b = (b << 24) | (b >>> 8); b ^= a;
  a = (a + k1) | 0; b = (b + k2 + 4) | 0;

  // group 5
  a = (a + b) | 0; b = (b << 13) | (b >>> 19); b ^= a;
  a = (a + b) | 0; b = (b << 15) | (b >>> 17); b ^= a;
  a = (a + b) | 0; b = (b << 26) | (b >>> 6); b ^= a;
  a = (a + b) | 0; b = (b << 6) | (b >>> 26); b ^= a;
  a = (a + k2) | 0; b = (b + k0 + 5) | 0;

  out0 = a;
  out1 = b;
}

function checkCount(name: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${name}: count must be a non-negative safe integer, got ${n}`);
}

function checkKeys(name: string, keys: Int32Array, nKeys: number): void {
  checkCount(name, nKeys);
  if (keys.length < 2 * nKeys) throw new RangeError(`${name}: keys has ${keys.length} words, need ${2 * nKeys}`);
}

/** Threefry-2x32 with 20 rounds: encrypts counter pairs (x0[i], x1[i]) under key (k0, k1), writing y0, y1 (uint32 words held in Int32Array or Uint32Array). */
export function threefry2x32(
  k0: number,
  k1: number,
  x0: ArrayLike<number>,
  x1: ArrayLike<number>,
  y0: Int32Array | Uint32Array,
  y1: Int32Array | Uint32Array,
): void {
  const n = x0.length;
  if (x1.length !== n || y0.length < n || y1.length < n) throw new RangeError('threefry2x32: length mismatch');
  for (let i = 0; i < n; i++) {
    block(k0, k1, x0[i]! | 0, x1[i]! | 0);
    y0[i] = out0; // typed-array stores wrap to the element type
    y1[i] = out1;
  }
}

/**
 * JAX's `threefry_seed`: the key data of `jax.random.key(seed)` / `PRNGKey(seed)`.
 * With `x64 = false` (JAX's default, `jax_enable_x64 = False`) a Python-int seed is wrapped to
 * int32, giving [0, seed mod 2^32]; with `x64 = true` it is the int64 seed split into
 * [high word, low word] (two's complement). `seed` must be an integer; numbers beyond 2^53 lose
 * precision, so pass a bigint for those.
 */
export function keyFromSeed(seed: number | bigint, x64 = false): Int32Array {
  let s: bigint;
  if (typeof seed === 'bigint') s = seed;
  else {
    if (!Number.isInteger(seed)) throw new TypeError(`keyFromSeed: seed must be an integer, got ${seed}`);
    s = BigInt(seed);
  }
  const u64 = BigInt.asUintN(64, s);
  const lo = Number(u64 & 0xffffffffn);
  const hi = x64 ? Number(u64 >> 32n) : 0;
  return Int32Array.of(hi | 0, lo | 0);
}

/** keys: Int32Array of shape [nKeys, 2]; returns Int32Array [nKeys, num, 2] of new keys, as jax.random.split for each key. */
export function splitKeys(keys: Int32Array, nKeys: number, num: number): Int32Array {
  checkKeys('splitKeys', keys, nKeys);
  checkCount('splitKeys', num);
  const out = new Int32Array(nKeys * num * 2);
  let o = 0;
  for (let k = 0; k < nKeys; k++) {
    const k0 = keys[2 * k]!;
    const k1 = keys[2 * k + 1]!;
    let hi = 0;
    let lo = 0;
    for (let i = 0; i < num; i++) {
      block(k0, k1, hi, lo);
      out[o++] = out0;
      out[o++] = out1;
      lo = (lo + 1) | 0;
      if (lo === 0) hi = (hi + 1) | 0;
    }
  }
  return out;
}

/** as jax.random.fold_in(key, data) for each key; data is a uint32 (a JS number, taken mod 2^32). */
export function foldInKeys(keys: Int32Array, nKeys: number, data: number): Int32Array {
  checkKeys('foldInKeys', keys, nKeys);
  // ToInt32 semantics: wraps any integer-valued number mod 2^32 (like jnp.asarray(d, 'uint32')
  // for d in [0, 2^32), and like the int32 bit pattern for negative d).
  const d = data | 0;
  const out = new Int32Array(nKeys * 2);
  for (let k = 0; k < nKeys; k++) {
    block(keys[2 * k]!, keys[2 * k + 1]!, 0, d);
    out[2 * k] = out0;
    out[2 * k + 1] = out1;
  }
  return out;
}

/** as jax.random.bits(key, shape, dtype=uint32) for each key: returns Int32Array [nKeys, count] of 32-bit words (bit patterns). */
export function randomBits32(keys: Int32Array, nKeys: number, count: number): Int32Array {
  checkKeys('randomBits32', keys, nKeys);
  checkCount('randomBits32', count);
  const out = new Int32Array(nKeys * count);
  let o = 0;
  for (let k = 0; k < nKeys; k++) {
    const k0 = keys[2 * k]!;
    const k1 = keys[2 * k + 1]!;
    let hi = 0;
    let lo = 0;
    for (let i = 0; i < count; i++) {
      block(k0, k1, hi, lo);
      out[o++] = out0 ^ out1;
      lo = (lo + 1) | 0;
      if (lo === 0) hi = (hi + 1) | 0;
    }
  }
  return out;
}

/**
 * as jax.random.bits(key, shape, dtype=uint64) for each key (jax_enable_x64 = True): returns
 * Int32Array [nKeys, count, 2] holding each 64-bit word as [high word, low word].
 */
export function randomBits64(keys: Int32Array, nKeys: number, count: number): Int32Array {
  checkKeys('randomBits64', keys, nKeys);
  checkCount('randomBits64', count);
  const out = new Int32Array(nKeys * count * 2);
  let o = 0;
  for (let k = 0; k < nKeys; k++) {
    const k0 = keys[2 * k]!;
    const k1 = keys[2 * k + 1]!;
    let hi = 0;
    let lo = 0;
    for (let i = 0; i < count; i++) {
      block(k0, k1, hi, lo);
      out[o++] = out0;
      out[o++] = out1;
      lo = (lo + 1) | 0;
      if (lo === 0) hi = (hi + 1) | 0;
    }
  }
  return out;
}

/**
 * uniform [0,1) floats from bits the way jax.random.uniform does for float32 (mantissa trick:
 * (bits >>> 9) | 0x3f800000 as float, minus 1). That difference is exactly (bits >>> 9) * 2^-23,
 * which is what is computed (the same value in a Float32Array or a Float64Array).
 */
export function bitsToUniform32(bits: Int32Array, out: Float32Array | Float64Array): void {
  const n = bits.length;
  if (out.length < n) throw new RangeError('bitsToUniform32: out is too short');
  for (let i = 0; i < n; i++) out[i] = (bits[i]! >>> 9) * TWO_POW_M23;
}

/** uniform float32 in [0,1) as jax.random.uniform(key, (count,), float32) for each key: [nKeys, count]. */
export function randomUniform32(keys: Int32Array, nKeys: number, count: number): Float32Array {
  checkKeys('randomUniform32', keys, nKeys);
  checkCount('randomUniform32', count);
  const out = new Float32Array(nKeys * count);
  let o = 0;
  for (let k = 0; k < nKeys; k++) {
    const k0 = keys[2 * k]!;
    const k1 = keys[2 * k + 1]!;
    let hi = 0;
    let lo = 0;
    for (let i = 0; i < count; i++) {
      block(k0, k1, hi, lo);
      out[o++] = ((out0 ^ out1) >>> 9) * TWO_POW_M23;
      lo = (lo + 1) | 0;
      if (lo === 0) hi = (hi + 1) | 0;
    }
  }
  return out;
}

/**
 * float64 uniforms in [0,1) as jax.random.uniform(key, (count,), float64) with
 * jax_enable_x64 = True, for each key: [nKeys, count]. JAX draws 64-bit words
 * (y0 << 32) | y1 (partitionable random_bits with bit_width 64) and keeps the top 52 bits as the
 * mantissa of a number in [1, 2), minus 1: u = (y0 * 2^20 + (y1 >>> 12)) * 2^-52, exact.
 */
export function randomUniform64(keys: Int32Array, nKeys: number, count: number): Float64Array {
  checkKeys('randomUniform64', keys, nKeys);
  checkCount('randomUniform64', count);
  const out = new Float64Array(nKeys * count);
  let o = 0;
  for (let k = 0; k < nKeys; k++) {
    const k0 = keys[2 * k]!;
    const k1 = keys[2 * k + 1]!;
    let hi = 0;
    let lo = 0;
    for (let i = 0; i < count; i++) {
      block(k0, k1, hi, lo);
      out[o++] = (out0 >>> 0) * TWO_POW_M32 + (out1 >>> 12) * TWO_POW_M52;
      lo = (lo + 1) | 0;
      if (lo === 0) hi = (hi + 1) | 0;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The original (jax_threefry_partitionable = False, JAX < 0.5 default) streams.
// JAX hashes the flat counter vector iota(m) by padding it with a 0 to even length 2h and
// encrypting the pairs (c[i], c[h + i]), i < h; the outputs are laid out as
// [all y0 ..., all y1 ...][:m].
// ---------------------------------------------------------------------------------------------

const MAX_ORIGINAL_WORDS = 4294967295; // JAX switches to block-wise subkeys at 2^32 - 1 words

/** Flat output of JAX's `threefry_2x32(key, iota(m))` (original mode) into out[off .. off+m). */
function hashIota(k0: number, k1: number, m: number, out: Int32Array, off: number): void {
  if (m >= MAX_ORIGINAL_WORDS) throw new RangeError('original-mode threefry streams support < 2^32 - 1 words');
  const h = (m + 1) >>> 1; // m odd: iota is padded with one 0, so the last pair is (h - 1, 0)
  for (let i = 0; i < h; i++) {
    const j = h + i;
    if (j < m) {
      block(k0, k1, i, j);
      out[off + i] = out0;
      out[off + j] = out1;
    } else {
      block(k0, k1, i, 0);
      out[off + i] = out0;
    }
  }
}

/** jax.random.split with jax_threefry_partitionable = False: [nKeys, num, 2]. */
export function splitKeysOriginal(keys: Int32Array, nKeys: number, num: number): Int32Array {
  checkKeys('splitKeysOriginal', keys, nKeys);
  checkCount('splitKeysOriginal', num);
  const out = new Int32Array(nKeys * num * 2);
  for (let k = 0; k < nKeys; k++) hashIota(keys[2 * k]!, keys[2 * k + 1]!, 2 * num, out, 2 * num * k);
  return out;
}

/** jax.random.bits(key, (count,), uint32) with jax_threefry_partitionable = False: [nKeys, count]. */
export function randomBits32Original(keys: Int32Array, nKeys: number, count: number): Int32Array {
  checkKeys('randomBits32Original', keys, nKeys);
  checkCount('randomBits32Original', count);
  const out = new Int32Array(nKeys * count);
  for (let k = 0; k < nKeys; k++) hashIota(keys[2 * k]!, keys[2 * k + 1]!, count, out, count * k);
  return out;
}

/**
 * jax.random.bits(key, (count,), uint64) with jax_threefry_partitionable = False and
 * jax_enable_x64 = True: [nKeys, count, 2] as [high word, low word]. JAX hashes iota(2 count) and
 * joins its first half (high words) with its second half (low words): word i = (y0 << 32) | y1
 * of the block at counter pair (i, count + i).
 */
export function randomBits64Original(keys: Int32Array, nKeys: number, count: number): Int32Array {
  checkKeys('randomBits64Original', keys, nKeys);
  checkCount('randomBits64Original', count);
  if (2 * count >= MAX_ORIGINAL_WORDS) throw new RangeError('original-mode threefry streams support < 2^32 - 1 words');
  const out = new Int32Array(nKeys * count * 2);
  let o = 0;
  for (let k = 0; k < nKeys; k++) {
    const k0 = keys[2 * k]!;
    const k1 = keys[2 * k + 1]!;
    for (let i = 0; i < count; i++) {
      block(k0, k1, i, count + i);
      out[o++] = out0;
      out[o++] = out1;
    }
  }
  return out;
}
