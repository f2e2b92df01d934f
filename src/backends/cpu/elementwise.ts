import { naryKernel, type NaryKernel } from './broadcast-loop.js';
import { erf, erfinv, ndtri, sigmoid } from './special.js';
import { tanh } from './tanh.js';
import { tanhF32 } from './tanh-f32.js';
import { tanhF32Array } from './tanh-wasm.js';
import { tanhF64Array } from './tanh-wasm64.js';
import { expF64Array } from './exp-wasm64.js';
import type { BinaryOp, ElementwiseOp, UnaryOp } from '../../autodiff/builtins.js';

/** Expressions of the elementwise primitives, in the operands a0, a1, a2. */
const UNARY: Record<UnaryOp | 'cast', string> = {
  neg: '-a0',
  exp: 'Math.exp(a0)',
  log: 'Math.log(a0)',
  log1p: 'Math.log1p(a0)',
  expm1: 'Math.expm1(a0)',
  sqrt: 'Math.sqrt(a0)',
  rsqrt: '1 / Math.sqrt(a0)',
  sin: 'Math.sin(a0)',
  cos: 'Math.cos(a0)',
  // not Math.tanh: a call into C at ≈18 ns per element; ./tanh.ts is inlinable and < 1 ulp
  tanh: 'tanh(a0)',
  sigmoid: 'sigmoid(a0)',
  abs: 'Math.abs(a0)',
  sign: '(a0 > 0 ? 1 : a0 < 0 ? -1 : a0)',
  erf: 'erf(a0)',
  erfinv: 'erfinv(a0)',
  ndtri: 'ndtri(a0)',
  floor: 'Math.floor(a0)',
  ceil: 'Math.ceil(a0)',
  // half-way cases to even, as NumPy/JAX (Math.round sends them toward +infinity)
  round: '(a0 - Math.floor(a0) === 0.5 ? 2 * Math.round(a0 / 2) : Math.round(a0))',
  isFinite: '(Number.isFinite(a0) ? 1 : 0)',
  isNan: '(a0 !== a0 ? 1 : 0)',
  cast: 'a0',
};

const BINARY: Record<BinaryOp, string> = {
  add: 'a0 + a1',
  sub: 'a0 - a1',
  mul: 'a0 * a1',
  div: 'a0 / a1',
  // C/IEEE pow (as XLA): 1^y = 1 and (−1)^±∞ = 1, where JavaScript's Math.pow gives NaN
  pow: '(a0 === 1 || (a0 === -1 && (a1 === Infinity || a1 === -Infinity)) ? 1 : Math.pow(a0, a1))',
  maximum: '(a0 > a1 || a0 !== a0 ? a0 : a1)',
  minimum: '(a0 < a1 || a0 !== a0 ? a0 : a1)',
  atan2: 'Math.atan2(a0, a1)',
  equal: '(a0 === a1 ? 1 : 0)',
  notEqual: '(a0 !== a1 ? 1 : 0)',
  less: '(a0 < a1 ? 1 : 0)',
  lessEqual: '(a0 <= a1 ? 1 : 0)',
  greater: '(a0 > a1 ? 1 : 0)',
  greaterEqual: '(a0 >= a1 ? 1 : 0)',
};

/** int32 arithmetic wraps like C; division truncates toward zero. */
const INT_OVERRIDES: Partial<Record<BinaryOp, string>> = {
  mul: 'Math.imul(a0, a1)',
  div: '((a0 / a1) | 0)',
};

/**
 * Float32 results computed by a faster routine that returns exactly the float32 rounding of the
 * general expression (so the results are the same either way; only the time differs).
 */
const FLOAT32_OVERRIDES: Partial<Record<UnaryOp, string>> = {
  tanh: 'tanhF32(a0)',
};

const TERNARY: Record<'where', string> = {
  where: '(a0 !== 0 ? a1 : a2)',
};

const helpers = { erf, erfinv, ndtri, sigmoid, tanh, tanhF32 };

/**
 * The expression tables themselves, for code generators that must evaluate exactly what these
 * kernels evaluate (bt.jit's fused CPU loops stay bit-for-bit equal to eager dispatch this way).
 */
export const elementwiseExpressions = { unary: UNARY, binary: BINARY, intOverrides: INT_OVERRIDES, float32Overrides: FLOAT32_OVERRIDES, ternary: TERNARY, helpers } as const;

/** Float32 tanh: the Wasm routine over the array (the same values as FLOAT32_OVERRIDES.tanh). */
const tanhF32Kernel: NaryKernel = (inputs, _shapes, out) => tanhF32Array(inputs[0] as Float32Array, out as Float32Array);
/** Float64 tanh: the Wasm routine over the array (the same values as UNARY.tanh, see tanh-wasm64.ts). */
const tanhF64Kernel: NaryKernel = (inputs, _shapes, out) => tanhF64Array(inputs[0] as Float64Array, out as Float64Array);

/** Float64 exp: the Wasm routine over the array (Math.exp's bits, see exp-wasm64.ts); other arrays: the loop. */
const expLoop = naryKernel(1, UNARY.exp, helpers);
const expF64Kernel: NaryKernel = (inputs, shapes, out, outShape) => {
  if (inputs[0] instanceof Float64Array && out instanceof Float64Array) expF64Array(inputs[0], out);
  else expLoop(inputs, shapes, out, outShape);
};

/** The kernel of `op`; `float32Out`: its output is a Float32Array (picks FLOAT32_OVERRIDES). */
export function elementwiseKernel(op: ElementwiseOp, intInputs: boolean, float32Out = false): NaryKernel {
  if (op === 'tanh') return float32Out ? tanhF32Kernel : tanhF64Kernel;
  if (op === 'exp' && !float32Out) return expF64Kernel;
  if (op === 'where') return naryKernel(3, TERNARY[op], helpers);
  if (op in UNARY) return naryKernel(1, (float32Out && FLOAT32_OVERRIDES[op as UnaryOp]) || UNARY[op as UnaryOp], helpers);
  const b = op as BinaryOp;
  return naryKernel(2, (intInputs && INT_OVERRIDES[b]) || BINARY[b], helpers);
}
