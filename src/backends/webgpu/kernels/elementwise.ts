import { broadcastStrides, sizeOf } from '../../../shape.js';
import type { DType } from '../../../dtype.js';
import { DTypeError } from '../../../errors.js';
import type { OutSpec } from '../../backend.js';
import { ELEMENTWISE_OPS, type BinaryOp, type ElementwiseOp, type UnaryOp } from '../../../autodiff/builtins.js';
import {
  bindings,
  LINEAR_INDEX,
  MAIN_SIG,
  stridedOffsets,
  threadGrid,
  readsThenWrite,
  memoCode,
  withHelpers,
  wgslType,
  type GpuInput,
  type GpuHandle,
  type GpuKernel,
  type KernelContext,
} from './common.js';

/**
 * Elementwise primitives from an expression table, as on the CPU (src/backends/cpu/elementwise.ts),
 * in the operands a0, a1, a2 (f32, or i32 for int32 inputs). NaN tests go through bit patterns
 * (compilers may assume no NaNs in float comparisons); log1p/expm1/tanh/erf/erfinv/pow are
 * written out in f32 with stable formulas, since WGSL lacks some and leaves edge cases undefined.
 */

export const F32_MATH: Record<string, string> = {
  // log1p: Cephes' logf kernel near 0 (x - x²/2 + x³ P(x) on [√½ - 1, √2 - 1]), else log(1 + x)
  log1p_f: `fn log1p_f(x: f32) -> f32 {
  if (x > -0.2928932188 && x < 0.4142135624) {
    var p = 7.0376836292e-2;
    p = p * x - 1.1514610310e-1; p = p * x + 1.1676998740e-1; p = p * x - 1.2420140846e-1;
    p = p * x + 1.4249322787e-1; p = p * x - 1.6668057665e-1; p = p * x + 2.0000714765e-1;
    p = p * x - 2.4999993993e-1; p = p * x + 3.3333331174e-1;
    let z = x * x;
    return x + (x * z * p - 0.5 * z);
  }
  return log(1.0 + x);
}`,
  // log: WGSL's builtin is only absolutely accurate (2^-21) on [0.5, 2], so near 1 its relative
  // error reaches ~5e4 ulp (lavapipe); there use log1p_f's kernel (x - 1 is exact, Sterbenz)
  log_f: `fn log_f(x: f32) -> f32 {
  if (x > 0.7071067812 && x < 1.4142135624) { return log1p_f(x - 1.0); }
  return log(x);
}`,
  // sin/cos: Cephes' sinf/cosf — reduction by π/4 in three parts (exact products for |x| < 8192)
  // and minimax polynomials on [-π/4, π/4], ~1 ulp. Vulkan only promises 2^-11 absolute for the
  // builtins on [-π, π] (and nothing outside); beyond 8192 the builtins are all that is left.
  sincos_f: `fn sincos_f(x: f32, cosine: bool) -> f32 {
  let ax = abs(x);
  if (!(ax < 8192.0)) { return select(sin(x), cos(x), cosine); }
  var j = u32(floor(ax * 1.2732395447351628));
  var y = f32(j);
  if ((j & 1u) == 1u) { j = j + 1u; y = y + 1.0; }
  j = j & 7u;
  var sgn = select(bitcast<u32>(x) >= 0x80000000u, false, cosine); // the sign bit: sin(-0) = -0
  if (j > 3u) { sgn = !sgn; j = j - 4u; }
  if (cosine && j > 1u) { sgn = !sgn; }
  let r = ((ax - y * 0.78515625) - y * 2.4187564849853515625e-4) - y * 3.77489497744594108e-8;
  let z = r * r;
  let useCos = (j == 1u || j == 2u) != cosine;
  var v: f32;
  if (useCos) {
    v = ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z - 0.5 * z + 1.0;
  } else {
    v = ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * r + r;
  }
  return select(v, -v, sgn);
}`,
  // exp: Cephes' expf — n = round(x·log2 e), r = x − n·ln 2 in two parts (exact), a degree-5
  // minimax polynomial, then 2^n in two steps (ldexp's exponent must stay in range). ~1 ulp;
  // Vulkan allows the builtin 3 + 2|x| ulp (≈180 ulp near overflow).
  exp_f: `fn exp_f(x: f32) -> f32 {
  if (isnan_f(x)) { return x; }
  if (x > 88.72283935546875) { return inf_f(); }
  if (x < -103.972084) { return 0.0; }
  let n = floor(x * 1.4426950408889634 + 0.5);
  let r = (x - n * 0.693359375) + n * 2.12194440e-4;
  var p = 1.9875691500e-4;
  p = p * r + 1.3981999507e-3; p = p * r + 8.3334519073e-3; p = p * r + 4.1665795894e-2;
  p = p * r + 1.6666665459e-1; p = p * r + 5.0000001201e-1;
  let e = p * (r * r) + r + 1.0;
  let k = i32(n);
  let h = k / 2;
  return ldexp(ldexp(e, h), k - h);
}`,
  // expm1: Taylor series to x^10/10! for |x| < 1/2 (error < 1e-9 relative), else exp(x) - 1
  expm1_f: `fn expm1_f(x: f32) -> f32 {
  if (abs(x) < 0.5) {
    var p = 1.0 + x / 10.0;
    p = 1.0 + x / 9.0 * p; p = 1.0 + x / 8.0 * p; p = 1.0 + x / 7.0 * p; p = 1.0 + x / 6.0 * p;
    p = 1.0 + x / 5.0 * p; p = 1.0 + x / 4.0 * p; p = 1.0 + x / 3.0 * p; p = 1.0 + x / 2.0 * p;
    return x * p;
  }
  return exp_f(x) - 1.0;
}`,
  tanh_f: `fn tanh_f(x: f32) -> f32 {
  if (isnan_f(x)) { return x; }
  let ax = abs(x);
  var r = 1.0;
  if (ax < 9.0) { let e = expm1_f(2.0 * ax); r = e / (e + 2.0); }
  return select(r, -r, x < 0.0);
}`,
  sigmoid_f: `fn sigmoid_f(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp_f(-x)); }
  let e = exp_f(x);
  return e / (1.0 + e);
}`,
  // erf: the rational approximation of XLA's ErfImpl32 / Eigen (clamped to [-4, 4]), a few ulp
  erf_f: `fn erf_f(x0: f32) -> f32 {
  if (isnan_f(x0)) { return x0; }
  let x = clamp(x0, -4.0, 4.0);
  let x2 = x * x;
  var p = -2.72614225801306e-10;
  p = p * x2 + 2.77068142495902e-08; p = p * x2 - 2.10102402082508e-06; p = p * x2 - 5.69250639462346e-05;
  p = p * x2 - 7.34990630326855e-04; p = p * x2 - 2.95459980854025e-03; p = p * x2 - 1.60960333262415e-02;
  var q = -1.45660718464996e-05;
  q = q * x2 - 2.13374055278905e-04; q = q * x2 - 1.68282697438203e-03; q = q * x2 - 7.37332916720468e-03;
  q = q * x2 - 1.42647390514189e-02;
  return x * p / q;
}`,
  // erfinv: Giles (2010), the single-precision approximation (the CPU starts from the same one)
  erfinv_f: `fn erfinv_f(y: f32) -> f32 {
  if (!(y > -1.0 && y < 1.0)) {
    if (y == 1.0) { return inf_f(); }
    if (y == -1.0) { return -inf_f(); }
    return nan_f();
  }
  var w = -log((1.0 - y) * (1.0 + y));
  var p: f32;
  if (w < 5.0) {
    w = w - 2.5;
    p = 2.81022636e-08;
    p = 3.43273939e-07 + p * w; p = -3.5233877e-06 + p * w; p = -4.39150654e-06 + p * w;
    p = 0.00021858087 + p * w; p = -0.00125372503 + p * w; p = -0.00417768164 + p * w;
    p = 0.246640727 + p * w; p = 1.50140941 + p * w;
  } else {
    w = sqrt(w) - 3.0;
    p = -0.000200214257;
    p = 0.000100950558 + p * w; p = 0.00134934322 + p * w; p = -0.00367342844 + p * w;
    p = 0.00573950773 + p * w; p = -0.0076224613 + p * w; p = 0.00943887047 + p * w;
    p = 1.00167406 + p * w; p = 2.83297682 + p * w;
  }
  return p * y;
}`,
  // Φ⁻¹: Wichura's AS 241 (the CPU's coefficients, in f32); the tails use √(−log min(u, 1 − u))
  ndtri_f: `fn ndtri_ratio(p: array<f32, 8>, q: array<f32, 8>, x: f32) -> f32 {
  var n = p[7]; var d = q[7];
  for (var i = 6; i >= 0; i = i - 1) { n = n * x + p[i]; d = d * x + q[i]; }
  return n / d;
}
fn ndtri_f(u: f32) -> f32 {
  if (!(u > 0.0 && u < 1.0)) {
    if (u == 0.0) { return -inf_f(); }
    if (u == 1.0) { return inf_f(); }
    return nan_f();
  }
  let q = u - 0.5;
  if (abs(q) <= 0.425) {
    return q * ndtri_ratio(
      array<f32, 8>(3.387132872796366608, 133.14166789178437745, 1971.5909503065514427, 13731.693765509461125,
        45921.953931549871457, 67265.770927008700853, 33430.575583588128105, 2509.0809287301226727),
      array<f32, 8>(1.0, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077,
        21213.794301586595867, 39307.89580009271061, 28729.085735721942674, 5226.495278852854561),
      0.180625 - q * q);
  }
  let r = sqrt(-log(select(1.0 - u, u, q < 0.0)));
  var x: f32;
  if (r <= 5.0) {
    x = ndtri_ratio(
      array<f32, 8>(1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055, 3.64784832476320460504,
        1.27045825245236838258, 0.24178072517745061177, 0.0227238449892691845833, 7.7454501427834140764e-4),
      array<f32, 8>(1.0, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455,
        0.14810397642748007459, 0.0151986665636164571966, 5.475938084995344946e-4, 1.05075007164441684324e-9),
      r - 1.6);
  } else {
    x = ndtri_ratio(
      array<f32, 8>(6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358, 0.29656057182850489123,
        0.026532189526576123093, 0.0012426609473880784386, 2.71155556874348757815e-5, 2.01033439929228813265e-7),
      array<f32, 8>(1.0, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525,
        7.868691311456132591e-4, 1.8463183175100546818e-5, 1.4215117583164458887e-7, 2.04426310338993978564e-15),
      r - 5.0);
  }
  return select(x, -x, q < 0.0);
}`,
  // C/IEEE pow semantics, as XLA (NaN for a finite negative base with a non-integer exponent, 1 for
  // b = 0, 1 for 1^y and (−1)^±inf, where JS Math.pow gives NaN)
  pow_f: `fn pow_f(a: f32, b: f32) -> f32 {
  if (b == 0.0 || a == 1.0) { return 1.0; }
  if (isnan_f(a) || isnan_f(b)) { return nan_f(); }
  if (b == 1.0) { return a; }
  if (b == 2.0) { return a * a; }
  let ab = abs(a);
  if (!isfinite_f(b)) {
    if (ab == 1.0) { return 1.0; }
    return select(0.0, inf_f(), (ab > 1.0) == (b > 0.0));
  }
  if (b == 0.5 && a >= 0.0 && isfinite_f(a)) { return sqrt(a); }
  let bInt = floor(b) == b;
  let bOdd = bInt && (floor(b * 0.5) != b * 0.5);
  let sgn = bitcast<u32>(a) >= 0x80000000u; // sign bit, so that -0 counts
  if (ab == 0.0) {
    let r = select(inf_f(), 0.0, b > 0.0);
    return select(r, -r, sgn && bOdd);
  }
  if (sgn && !bInt && isfinite_f(a)) { return nan_f(); }
  var r: f32;
  if (!isfinite_f(ab)) { r = select(0.0, inf_f(), b > 0.0); } else { r = exp2(b * log2(ab)); }
  return select(r, -r, sgn && bOdd);
}`,
  // atan / atan2: Cephes' atanf (1–2 ulp; the WGSL builtins may be off by thousands of ulp), with
  // JS Math.atan2's special cases (signed zeros, infinities)
  atan_f: `fn atan_f(x: f32) -> f32 {
  let ax = abs(x);
  var y0 = 0.0;
  var xr = ax;
  if (ax > 2.414213562373095) { y0 = 1.5707963267948966; xr = -1.0 / ax; }
  else if (ax > 0.41421356237309503) { y0 = 0.7853981633974483; xr = (ax - 1.0) / (ax + 1.0); }
  let z = xr * xr;
  let y = y0 + ((((8.05374449538e-2 * z - 1.38776856032e-1) * z + 1.99777106478e-1) * z - 3.33329491539e-1) * z * xr + xr);
  return select(y, -y, x < 0.0);
}`,
  atan2_f: `fn atan2_f(y: f32, x: f32) -> f32 {
  if (isnan_f(x) || isnan_f(y)) { return nan_f(); }
  let yneg = bitcast<u32>(y) >= 0x80000000u;
  let xneg = bitcast<u32>(x) >= 0x80000000u;
  let pi = 3.141592653589793;
  var r: f32;
  if (y == 0.0) {
    r = select(0.0, pi, xneg);
  } else if (x == 0.0) {
    r = pi / 2.0;
  } else if (!isfinite_f(x)) {
    if (!isfinite_f(y)) { r = select(pi / 4.0, 3.0 * pi / 4.0, xneg); } else { r = select(0.0, pi, xneg); }
  } else if (!isfinite_f(y)) {
    r = pi / 2.0;
  } else {
    let a = atan_f(abs(y / x));
    r = select(a, pi - a, xneg);
  }
  return select(r, -r, yneg);
}`,
  // half-way cases to even, as NumPy/JAX (WGSL's round() is specified so; spelled out because
  // drivers have been seen to differ)
  round_f: `fn round_f(x: f32) -> f32 {
  let f = floor(x);
  let d = x - f;
  let up = d > 0.5 || (d == 0.5 && fract(f * 0.5) != 0.0);
  return select(f, f + 1.0, up);
}`,
  sign_f: `fn sign_f(x: f32) -> f32 { if (x > 0.0) { return 1.0; } if (x < 0.0) { return -1.0; } return x; }`,
  max_f: `fn max_f(a: f32, b: f32) -> f32 { return select(b, a, a > b || isnan_f(a)); }`,
  min_f: `fn min_f(a: f32, b: f32) -> f32 { return select(b, a, a < b || isnan_f(a)); }`,
  // int32 division truncates toward 0 and gives 0 for x/0 (JS (a / b) | 0)
  idiv: `fn idiv(a: i32, b: i32) -> i32 { if (b == 0) { return 0; } return a / b; }`,
  // float -> int32 as a JS Int32Array store (ToInt32: truncate, wrap mod 2^32, NaN/inf -> 0)
  f2i: `fn f2i(x: f32) -> i32 {
  if (!isfinite_f(x)) { return 0; }
  let t = trunc(x);
  if (abs(t) < 2147483648.0) { return i32(t); }
  let r = t - floor(t / 4294967296.0) * 4294967296.0;
  return bitcast<i32>(u32(r));
}`,
};

const UNARY_F: Record<UnaryOp, string> = {
  neg: '-a0',
  exp: 'exp_f(a0)',
  log: 'log_f(a0)',
  log1p: 'log1p_f(a0)',
  expm1: 'expm1_f(a0)',
  sqrt: 'sqrt(a0)',
  rsqrt: '1.0 / sqrt(a0)',
  sin: 'sincos_f(a0, false)',
  cos: 'sincos_f(a0, true)',
  tanh: 'tanh_f(a0)',
  sigmoid: 'sigmoid_f(a0)',
  abs: 'abs(a0)',
  sign: 'sign_f(a0)',
  erf: 'erf_f(a0)',
  erfinv: 'erfinv_f(a0)',
  ndtri: 'ndtri_f(a0)',
  floor: 'floor(a0)',
  ceil: 'ceil(a0)',
  round: 'round_f(a0)',
  isFinite: 'select(0, 1, isfinite_f(a0))',
  isNan: 'select(0, 1, isnan_f(a0))',
};

const UNARY_I: Partial<Record<UnaryOp, string>> = {
  neg: '-a0',
  abs: 'abs(a0)',
  sign: 'sign(a0)',
  isFinite: '1',
  isNan: '0',
  floor: 'a0',
  ceil: 'a0',
  round: 'a0',
};

const BINARY_F: Record<BinaryOp, string> = {
  add: 'a0 + a1',
  sub: 'a0 - a1',
  mul: 'a0 * a1',
  div: 'a0 / a1',
  pow: 'pow_f(a0, a1)',
  maximum: 'max_f(a0, a1)',
  minimum: 'min_f(a0, a1)',
  atan2: 'atan2_f(a0, a1)',
  equal: 'select(0, 1, a0 == a1)',
  notEqual: 'select(1, 0, a0 == a1)',
  less: 'select(0, 1, a0 < a1)',
  lessEqual: 'select(0, 1, a0 <= a1)',
  greater: 'select(0, 1, a0 > a1)',
  greaterEqual: 'select(0, 1, a0 >= a1)',
};

const BINARY_I: Partial<Record<BinaryOp, string>> = {
  add: 'a0 + a1',
  sub: 'a0 - a1',
  mul: 'a0 * a1',
  div: 'idiv(a0, a1)',
  maximum: 'max(a0, a1)',
  minimum: 'min(a0, a1)',
  equal: 'select(0, 1, a0 == a1)',
  notEqual: 'select(1, 0, a0 == a1)',
  less: 'select(0, 1, a0 < a1)',
  lessEqual: 'select(0, 1, a0 <= a1)',
  greater: 'select(0, 1, a0 > a1)',
  greaterEqual: 'select(0, 1, a0 >= a1)',
};

/** The elementwise ops (UNARY_F and BINARY_F are total over them, so each has a float kernel). */
export const ELEMENTWISE_GPU_OPS: readonly ElementwiseOp[] = ELEMENTWISE_OPS;

export function expressionFor(op: string, inDtypes: DType[], outDtype: DType): string {
  // NaN !== 0 is true on the CPU; an ordered `!=` would say false, so test `== 0` and negate
  if (op === 'where') return `select(a1, a2, a0 == ${inDtypes[0] === 'int32' ? '0' : '0.0'})`;
  if (op === 'cast') {
    const from = inDtypes[0]!;
    if (from === outDtype) return 'a0';
    if (outDtype === 'int32') return 'f2i(a0)';
    return 'f32(a0)';
  }
  const isInt = inDtypes[0] === 'int32';
  const table = inDtypes.length === 1 ? (isInt ? UNARY_I : UNARY_F) : isInt ? BINARY_I : BINARY_F;
  const e = (table as Partial<Record<string, string>>)[op];
  if (e === undefined) {
    throw new DTypeError(`${op}: no WebGPU kernel for ${inDtypes.join(', ')} inputs (expected float32${isInt ? '' : ' or int32'}).`);
  }
  return e;
}

/** Per-input access pattern: contiguous like the output, a single value, or strided (broadcast). */
/** How a kernel reads an input: contiguous, scalar, or through broadcast strides. */
export type Mode = 'c' | 's' | 'b';

function shaderFor(op: string, inDtypes: DType[], outDtype: DType, modes: Mode[], rank: number): string {
  const expr = expressionFor(op, inDtypes, outDtype);
  const decls = [
    ...inDtypes.map((d, i) => ({ name: `x${i}`, type: wgslType(d) })),
    { name: 'y', type: wgslType(outDtype), write: true },
  ];
  const strided = modes.map((m, i) => ({ m, i })).filter((x) => x.m === 'b');
  // meta: [n, outShape(rank), strides of each strided input (rank each)]
  const offs = strided.length
    ? stridedOffsets(
        rank,
        'gi',
        '1u',
        strided.map((s, k) => ({ name: `o${s.i}`, at: `${1 + rank * (k + 1)}u` })),
      )
    : '';
  const loads = modes
    .map((m, i) => `let a${i} = x${i}[${m === 'c' ? 'gi' : m === 's' ? '0u' : `o${i}`}];`)
    .join('\n  ');
  const body = `${bindings(decls)}
${MAIN_SIG()} {
  ${LINEAR_INDEX()}
  if (gi >= mt[0]) { return; }
  ${offs}
  ${loads}
  y[gi] = ${expr};
}`;
  return withHelpers(body, F32_MATH);
}

/**
 * Runs an n-ary broadcasting kernel: each input is read contiguously ('c'), as a scalar ('s') or
 * through broadcast strides passed in the metadata ('b'); `shader(modes, rank)` writes the WGSL,
 * memoised under `key(modes, rank)`. Shared by the elementwise ops and the special functions.
 */
export function runBroadcast(
  ctx: KernelContext,
  inputs: GpuInput[],
  outs: readonly OutSpec[],
  key: (modes: string, rank: number) => string,
  shader: (modes: Mode[], rank: number) => string,
): GpuHandle[] {
  const spec = outs[0]!;
  const out = ctx.output(spec);
  const n = sizeOf(spec.shape);
  if (n === 0) return [out];
  const rank = spec.shape.length;
  const modes: Mode[] = inputs.map((x) => (x.size === n ? 'c' : x.size === 1 ? 's' : 'b'));
  const meta: number[] = [n, ...spec.shape];
  inputs.forEach((x, i) => {
    if (modes[i] === 'b') meta.push(...broadcastStrides(x.shape, spec.shape));
  });
  const code = memoCode(key(modes.join(''), rank), () => shader(modes, rank));
  ctx.dispatch(code, [...inputs.map((i) => i.buffer), out.buffer], readsThenWrite(inputs.length), meta, threadGrid(n));
  return [out];
}

export const elementwiseKernel =
  (op: ElementwiseOp): GpuKernel =>
  (ctx: KernelContext, inputs: GpuInput[], _p: unknown, outs: readonly OutSpec[]) => {
    const dts = inputs.map((i) => i.dtype);
    const outDtype = outs[0]!.dtype;
    return runBroadcast(
      ctx, inputs, outs,
      (modes, rank) => `ew|${op}|${dts.join(',')}|${outDtype}|${modes}|${rank}`,
      (modes, rank) => shaderFor(op, dts, outDtype, modes, rank),
    );
  };
