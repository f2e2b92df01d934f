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
 * Gamma(α, 1) by Marsaglia & Tsang, the same draws as the CPU kernel: element i of key j uses the
 * stream foldIn(key_j, i); attempt t uses foldIn(that, t) for four uniforms (Box–Muller normal,
 * acceptance, boost for α < 1). The CPU forms the uniforms from 52 random bits in float64; here
 * they have 24 bits, so draws agree only to about the uniforms' resolution (measured: up to
 * 1.2e-2 relative at α = 0.3, 2.6e-3 at α = 10, mostly from the α < 1 boost u^(1/α)), and an
 * element whose acceptance test sits near its threshold may take a different attempt. The
 * distribution is the same (tested by moments); the individual draws are not bit-compatible.
 */
export const randomGammaKernel: GpuKernel = (ctx, [keys, alpha], _p, outs) => {
  if (outs[0]!.dtype !== 'float32') throw new DTypeError('random.gamma: webgpu draws float32 only.');
  const out = ctx.output(outs[0]!);
  const nKeys = keys!.size / 2;
  const m = alpha!.size;
  const n = nKeys * m;
  if (n === 0) return [out];
  const code = memoCode('rgamma', () => withHelpers(
    `${bindings([
      { name: 'keys', type: 'u32' },
      { name: 'alpha', type: 'f32' },
      { name: 'y', type: 'f32', write: true },
    ])}
${THREEFRY_WGSL}
fn unif(k: vec2<u32>, c: u32) -> f32 {
  let r = threefry(k.x, k.y, 0u, c);
  // u = y0 2^-32 + (y1 >> 12) 2^-52 in float64 on the CPU; float32 keeps the top 24 bits, < 1
  return f32(r.x >> 8u) * 5.9604644775390625e-8;
}
${MAIN_SIG()} {
  ${LINEAR_INDEX()}
  if (gi >= mt[0]) { return; }
  let m = mt[1];
  let j = gi / m;
  let i = gi % m;
  let al = alpha[i];
  if (!(al > 0.0)) { y[gi] = nan_f(); return; }
  let ki = threefry(keys[2u * j], keys[2u * j + 1u], 0u, i);
  let boost = al < 1.0;
  let a = select(al, al + 1.0, boost);
  let d = a - 1.0 / 3.0;
  let c = 1.0 / sqrt(9.0 * d);
  var result = nan_f();
  for (var t = 0u; t < 1000u; t = t + 1u) {
    let kt = threefry(ki.x, ki.y, 0u, t);
    let u0 = unif(kt, 0u);
    let u1 = unif(kt, 1u);
    let u2 = unif(kt, 2u);
    let u3 = unif(kt, 3u);
    let z = sqrt(-2.0 * log1p_f(-u0)) * cos(6.283185307179586 * u1);
    let v0 = 1.0 + c * z;
    if (v0 <= 0.0) { continue; }
    let v = v0 * v0 * v0;
    let uu = 1.0 - u2;
    if (log(uu) < 0.5 * z * z + d - d * v + d * log(v)) {
      var g = d * v;
      if (boost) { g = g * pow(1.0 - u3, 1.0 / al); }
      result = g;
      break;
    }
  }
  y[gi] = result;
}`,
    F32_MATH,
  ));
  ctx.dispatch(code, [keys!.buffer, alpha!.buffer, out.buffer], ['r', 'r', 'w'], [n, m], threadGrid(n));
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
