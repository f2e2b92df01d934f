import { sizeOf } from '../../../shape.js';
import { DTypeError } from '../../../errors.js';
import { bindings, LINEAR_INDEX, MAIN_SIG, threadGrid, type GpuKernel } from './common.js';
import { F32_MATH } from './elementwise.js';
import { memoCode, withHelpers } from './common.js';

/**
 * Threefry-2x32 (20 rounds) in WGSL: a transliteration of src/prng/threefry.ts (u32
 * add / rotate / xor wrap the same way), so every stream is bit-identical to the CPU's (and to
 * jax.random with jax_threefry_partitionable = True). Keys are int32 [..., 2] bit patterns.
 * Counters are (hi, lo) = (0, i): exact up to 2^32 draws per key and call.
 */
export const THREEFRY_WGSL = `
fn rotl(x: u32, r: u32) -> u32 { return (x << r) | (x >> (32u - r)); }
fn threefry(k0: u32, k1: u32, x0: u32, x1: u32) -> vec2<u32> {
  let k2 = k0 ^ k1 ^ 0x1bd11bdau;
  var a = x0 + k0;
  var b = x1 + k1;
  a += b; b = rotl(b, 13u); b ^= a;
  a += b; b = rotl(b, 15u); b ^= a;
  a += b; b = rotl(b, 26u); b ^= a;
  a += b; b = rotl(b, 6u); b ^= a;
  a += k1; b += k2 + 1u;
  a += b; b = rotl(b, 17u); b ^= a;
  a += b; b = rotl(b, 29u); b ^= a;
  a += b; b = rotl(b, 16u); b ^= a;
  a += b; b = rotl(b, 24u); b ^= a;
  a += k2; b += k0 + 2u;
  a += b; b = rotl(b, 13u); b ^= a;
  a += b; b = rotl(b, 15u); b ^= a;
  a += b; b = rotl(b, 26u); b ^= a;
  a += b; b = rotl(b, 6u); b ^= a;
  a += k0; b += k1 + 3u;
  a += b; b = rotl(b, 17u); b ^= a;
  a += b; b = rotl(b, 29u); b ^= a;
  a += b; b = rotl(b, 16u); b ^= a;
  a += b; b = rotl(b, 24u); b ^= a;
  a += k1; b += k2 + 4u;
  a += b; b = rotl(b, 13u); b ^= a;
  a += b; b = rotl(b, 15u); b ^= a;
  a += b; b = rotl(b, 26u); b ^= a;
  a += b; b = rotl(b, 6u); b ^= a;
  a += k2; b += k0 + 5u;
  return vec2<u32>(a, b);
}`;

/** One word per (key, counter): bits = y0 ^ y1; uniform float32 = (bits >> 9) * 2^-23. */
function streamShader(kind: 'bits' | 'uniform'): string {
  const outT = kind === 'bits' ? 'i32' : 'f32';
  // uniform: max(minval, u·span + minval) through fma(), one rounding as XLA's where the device
  // fuses it (GPUs do); WGSL lets fma round twice, and lavapipe does (then 1 ulp from JAX's)
  const conv =
    kind === 'bits' ? 'bitcast<i32>(w)' : 'max(bitcast<f32>(mt[2]), fma(f32(w >> 9u) * 1.1920928955078125e-7, bitcast<f32>(mt[3]), bitcast<f32>(mt[2])))';
  return `${bindings([
    { name: 'keys', type: 'u32' },
    { name: 'y', type: outT, write: true },
  ])}
${THREEFRY_WGSL}
${MAIN_SIG()} {
  ${LINEAR_INDEX()}
  if (gi >= mt[0]) { return; }
  let count = mt[1];
  let j = gi / count;
  let i = gi % count;
  let r = threefry(keys[2u * j], keys[2u * j + 1u], 0u, i);
  let w = r.x ^ r.y;
  y[gi] = ${conv};
}`;
}

function countPerKey(keysSize: number, outShape: readonly number[]): { nKeys: number; count: number; n: number } {
  const nKeys = keysSize / 2;
  const n = sizeOf(outShape);
  return { nKeys, count: nKeys === 0 ? 0 : n / nKeys, n };
}

export const randomBitsKernel: GpuKernel = (ctx, [keys], _p, outs) => {
  const out = ctx.output(outs[0]!);
  const { count, n } = countPerKey(keys!.size, outs[0]!.shape);
  if (n === 0) return [out];
  ctx.dispatch(memoCode('rbits', () => streamShader('bits')), [keys!.buffer, out.buffer], ['r', 'w'], [n, count], threadGrid(n));
  return [out];
};

const f32Bits = (x: number) => new Uint32Array(Float32Array.of(x).buffer)[0]!;

export const randomUniformKernel: GpuKernel = (ctx, [keys], p, outs) => {
  const { minval = 0, span = 1 } = p as { minval?: number; span?: number };
  if (outs[0]!.dtype !== 'float32') throw new DTypeError('random.uniform: webgpu draws float32 only (WGSL has no float64).');
  const out = ctx.output(outs[0]!);
  const { count, n } = countPerKey(keys!.size, outs[0]!.shape);
  if (n === 0) return [out];
  ctx.dispatch(memoCode('runif', () => streamShader('uniform')), [keys!.buffer, out.buffer], ['r', 'w'], [n, count, f32Bits(minval), f32Bits(span)], threadGrid(n));
  return [out];
};

/** split: new key i of key j is threefry(key_j, 0, i); foldIn: threefry(key_j, 0, data). */
const KEYS_SHADER = (fold: boolean) => `${bindings([
  { name: 'keys', type: 'u32' },
  { name: 'y', type: 'u32', write: true },
])}
${THREEFRY_WGSL}
${MAIN_SIG()} {
  ${LINEAR_INDEX()}
  if (gi >= mt[0]) { return; }
  let num = mt[1];
  let j = gi / num;
  let i = ${fold ? 'mt[2]' : 'gi % num'};
  let r = threefry(keys[2u * j], keys[2u * j + 1u], 0u, i);
  y[2u * gi] = r.x;
  y[2u * gi + 1u] = r.y;
}`;

export const randomSplitKernel: GpuKernel<{ num: number }> = (ctx, [keys], p, outs) => {
  const out = ctx.output(outs[0]!);
  const n = (keys!.size / 2) * p.num;
  if (n === 0) return [out];
  ctx.dispatch(memoCode('rsplit', () => KEYS_SHADER(false)), [keys!.buffer, out.buffer], ['r', 'w'], [n, p.num], threadGrid(n));
  return [out];
};

export const randomFoldInKernel: GpuKernel<{ data: number }> = (ctx, [keys], p, outs) => {
  const out = ctx.output(outs[0]!);
  const n = keys!.size / 2;
  if (n === 0) return [out];
  ctx.dispatch(memoCode('rfold', () => KEYS_SHADER(true)), [keys!.buffer, out.buffer], ['r', 'w'], [n, 1, p.data >>> 0], threadGrid(n));
  return [out];
};

/**
 * Gamma(α, 1) as jax.random.gamma in float32, the algorithm of the CPU's gammaOneJax
 * (src/backends/cpu/gamma.ts): one split key per element, Marsaglia–Tsang rounds each splitting
 * the key in three, erf⁻¹ normals from a bounded uniform, the boost (1 − u)^{1/α} for α < 1. The
 * random words are bit-identical to the CPU's float32 stream; log, pow and erf⁻¹ are the f32
 * approximations of F32_MATH, so values agree with the CPU float32 stream to a few ulps (an
 * acceptance test sitting within those ulps of its threshold could decide differently).
 */
export const randomGammaKernel: GpuKernel = (ctx, [keys, alpha], p, outs) => {
  if (outs[0]!.dtype !== 'float32') throw new DTypeError('random.gamma: webgpu draws float32 only.');
  const out = ctx.output(outs[0]!);
  const nKeys = keys!.size / 2;
  const n = sizeOf(outs[0]!.shape);
  const m = nKeys === 0 ? 0 : n / nKeys;
  if (n === 0) return [out];
  const code = memoCode('rgammajax', () => withHelpers(
    `${bindings([
      { name: 'keys', type: 'u32' },
      { name: 'alpha', type: 'f32' },
      { name: 'y', type: 'f32', write: true },
    ])}
${THREEFRY_WGSL}
fn sk(k: vec2<u32>, i: u32) -> vec2<u32> { return threefry(k.x, k.y, 0u, i); }
fn unif(k: vec2<u32>) -> f32 {
  let r = threefry(k.x, k.y, 0u, 0u);
  return f32((r.x ^ r.y) >> 9u) * 1.1920928955078125e-7;
}
fn normal1(k: vec2<u32>) -> f32 {
  let lo = -0.99999994039535522;
  let w = max(lo, fma(unif(k), 2.0, lo));
  return erfinv_f(w) * 1.4142135623730951;
}
${MAIN_SIG()} {
  ${LINEAR_INDEX()}
  if (gi >= mt[0]) { return; }
  let m = mt[1];
  let j = gi / m;
  let i = gi % m;
  let al = alpha[select(i, gi, mt[2] != 0u)];
  if (!(al > 0.0)) { y[gi] = nan_f(); return; }
  let kel = sk(vec2<u32>(keys[2u * j], keys[2u * j + 1u]), i);
  let boosted = !(al >= 1.0);
  let a = select(al, al + 1.0, boosted);
  let d = a - 0.33333334;
  let c = 0.33333334 / sqrt(d);
  var k = sk(kel, 0u);
  let subkey = sk(kel, 1u);
  var X = 0.0;
  var V = 1.0;
  var U = 2.0;
  for (var round = 0u; round < 100000u; round = round + 1u) {
    let squeeze = U >= 1.0 - 0.0331 * (X * X);
    if (!(squeeze && log_f(U) >= X * 0.5 + d * ((1.0 - V) + log_f(V)))) { break; }
    let k0 = sk(k, 0u);
    var xk = sk(k, 1u);
    let uKey = sk(k, 2u);
    k = k0;
    var x = 0.0;
    var v = -1.0;
    for (var t = 0u; t < 10000u && v <= 0.0; t = t + 1u) {
      let sub = sk(xk, 1u);
      xk = sk(xk, 0u);
      x = normal1(sub);
      v = 1.0 + x * c;
    }
    X = x * x;
    V = (v * v) * v;
    U = unif(uKey);
  }
  var z = d * V;
  if (boosted) { z = z * pow_f(1.0 - unif(subkey), 1.0 / al); }
  if (z == 0.0) { z = 1.1754943508222875e-38; }
  y[gi] = z;
}`,
    F32_MATH,
  ));
  ctx.dispatch(code, [keys!.buffer, alpha!.buffer, out.buffer], ['r', 'r', 'w'], [n, m, (p as { perKey?: boolean }).perKey ? 1 : 0], threadGrid(n));
  return [out];
};

/** jax.random.randint's draws (see randomRandintPrim): exact u32 modular arithmetic, no wrap for width 64. */
const RANDINT_SHADER = (width: 32 | 64) => `${bindings([
  { name: 'keys', type: 'u32' },
  { name: 'y', type: 'i32', write: true },
])}
${THREEFRY_WGSL}
fn addmod(x: u32, y: u32, n: u32) -> u32 {
  let s = x + y; // x, y < n: one subtraction, also when the sum wrapped
  if (s < x || s >= n) { return s - n; }
  return s;
}
fn mulmod(a: u32, b: u32, n: u32) -> u32 {
  var r = 0u; var x = a; var k = b;
  while (k != 0u) {
    if ((k & 1u) != 0u) { r = addmod(r, x, n); }
    x = addmod(x, x, n);
    k = k >> 1u;
  }
  return r;
}
fn word(k0: u32, k1: u32, i: u32) -> vec2<u32> {
  let r = threefry(k0, k1, 0u, i);
  return ${width === 64 ? 'r' : 'vec2<u32>(0u, r.x ^ r.y)'};
}
${MAIN_SIG()} {
  ${LINEAR_INDEX()}
  if (gi >= mt[0]) { return; }
  let count = mt[1];
  let span = mt[2];
  let j = gi / count;
  let i = gi % count;
  let h = word(keys[4u * j], keys[4u * j + 1u], i);
  let l = word(keys[4u * j + 2u], keys[4u * j + 3u], i);
  var off = l.y;
  if (span != 0u) {
    ${
      width === 64
        ? `let c = (0xffffffffu % span + 1u) % span; // 2^32 mod span
    let hm = addmod(mulmod(h.x % span, c, span), h.y % span, span);
    let lm = addmod(mulmod(l.x % span, c, span), l.y % span, span);
    off = addmod(mulmod(hm, mulmod(c, c, span), span), lm, span);`
        : `let m16 = 65536u % span;
    let mult = mulmod(m16, m16, span);
    off = ((h.y % span) * mult + l.y % span) % span; // wraps as uint32, as JAX's does`
    }
  }
  y[gi] = bitcast<i32>(mt[3] + off);
}`;

export const randomRandintKernel: GpuKernel = (ctx, [keys], p, outs) => {
  const { span, minval, width } = p as { span: number; minval: number; width: 32 | 64 };
  const out = ctx.output(outs[0]!);
  const pairs = keys!.size / 4;
  const n = sizeOf(outs[0]!.shape);
  if (n === 0) return [out];
  ctx.dispatch(memoCode(`rint${width}`, () => RANDINT_SHADER(width)), [keys!.buffer, out.buffer], ['r', 'w'], [n, n / pairs, span >>> 0, minval >>> 0], threadGrid(n));
  return [out];
};
