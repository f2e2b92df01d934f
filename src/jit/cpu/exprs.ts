import type { DType } from '../../dtype.js';
import { erf, erfinv, ndtri, sigmoid } from '../../backends/cpu/special.js';

/**
 * The scalar expression of each elementwise primitive in its operands a0, a1, a2: the same text
 * the CPU backend's elementwise kernels run (src/backends/cpu/elementwise.ts keeps these tables
 * private, hence the copy). A fused loop must evaluate exactly these expressions, in the same
 * order, and round each result to its dtype as a typed-array store would, to stay bit-for-bit
 * equal to eager dispatch; test/jit/ops.test.ts runs every op both ways and catches any drift.
 */
const UNARY: Record<string, string> = {
  neg: '-a0',
  exp: 'Math.exp(a0)',
  log: 'Math.log(a0)',
  log1p: 'Math.log1p(a0)',
  expm1: 'Math.expm1(a0)',
  sqrt: 'Math.sqrt(a0)',
  rsqrt: '1 / Math.sqrt(a0)',
  sin: 'Math.sin(a0)',
  cos: 'Math.cos(a0)',
  tanh: 'Math.tanh(a0)',
  sigmoid: 'sigmoid(a0)',
  abs: 'Math.abs(a0)',
  sign: '(a0 > 0 ? 1 : a0 < 0 ? -1 : a0)',
  erf: 'erf(a0)',
  erfinv: 'erfinv(a0)',
  ndtri: 'ndtri(a0)',
  floor: 'Math.floor(a0)',
  ceil: 'Math.ceil(a0)',
  round: '(a0 - Math.floor(a0) === 0.5 ? 2 * Math.round(a0 / 2) : Math.round(a0))',
  isFinite: '(Number.isFinite(a0) ? 1 : 0)',
  isNan: '(a0 !== a0 ? 1 : 0)',
  cast: 'a0',
  // broadcastTo is a copy with broadcast strides: inside a loop it is just a load
  broadcastTo: 'a0',
};

const BINARY: Record<string, string> = {
  add: 'a0 + a1',
  sub: 'a0 - a1',
  mul: 'a0 * a1',
  div: 'a0 / a1',
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

const INT_OVERRIDES: Record<string, string> = {
  mul: 'Math.imul(a0, a1)',
  div: '((a0 / a1) | 0)',
};

/** Functions the expressions call, passed into each generated loop. */
export const exprHelpers = { erf, erfinv, ndtri, sigmoid };

/** Whether `op` can be inlined into a generated loop. */
export function isFusible(op: string): boolean {
  return op in UNARY || op in BINARY || op === 'where';
}

/**
 * The expression of `op` over the given operand expressions, rounded to `dtype` as storing it in a
 * typed array of that dtype would (Float32Array: round to nearest float32; Int32Array: ToInt32).
 */
export function exprOf(op: string, operands: string[], intInputs: boolean, dtype: DType): string {
  const text = op === 'where' ? '(a0 !== 0 ? a1 : a2)' : op in UNARY ? UNARY[op]! : (intInputs && INT_OVERRIDES[op]) || BINARY[op]!;
  const e = text.replace(/\ba([0-2])\b/g, (_m, k: string) => operands[Number(k)]!);
  return dtype === 'float32' ? `Math.fround(${e})` : dtype === 'int32' ? `((${e}) | 0)` : `(${e})`;
}
