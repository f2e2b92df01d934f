import type { DType } from '../../dtype.js';
import { elementwiseExpressions } from '../../backends/cpu/elementwise.js';
import { tanhWasmAvailable } from '../../backends/cpu/tanh-wasm.js';
import { tanhWasm64Available } from '../../backends/cpu/tanh-wasm64.js';

/**
 * The scalar expression of each elementwise primitive in its operands a0, a1, a2: the very tables
 * the CPU backend's elementwise kernels are generated from (src/backends/cpu/elementwise.ts). A
 * fused loop must evaluate exactly these expressions, in the same order, and round each result to its dtype as a typed-array store would, to stay bit-for-bit
 * equal to eager dispatch; test/jit/ops.test.ts runs every op both ways and catches any drift.
 */
const { unary, binary, intOverrides, float32Overrides, ternary, helpers } = elementwiseExpressions;
// broadcastTo is a copy with broadcast strides: inside a loop it is just a load
const UNARY: Record<string, string> = { ...unary, broadcastTo: 'a0' };
const BINARY: Record<string, string> = binary;
const INT_OVERRIDES: Record<string, string | undefined> = intOverrides;
// the same choice as the eager kernel (same results, see backends/cpu/elementwise.ts)
const FLOAT32_OVERRIDES: Record<string, string | undefined> = float32Overrides;

/** See isFusible (a guess from the per-element gain of 5-10 ns and a fixed cost of ~0.5 us). */
const TANH_STEP_MIN = 256;

/** Functions the expressions call, passed into each generated loop. */
export const exprHelpers = helpers;

/**
 * Whether `op` (with output `dtype`, `size` elements) is inlined into a generated loop. tanh over
 * at least TANH_STEP_MIN elements is not where its Wasm routines run (backends/cpu/tanh-wasm.ts,
 * tanh-wasm64.ts, same results): over the whole array they are two to three times as fast as the
 * inlined scalar code, far more than the extra pass over the array costs; tanh runs as a step of
 * its own (./direct.ts). Below that, the call and copies would cost more than they save.
 */
export function isFusible(op: string, dtype: DType, size: number): boolean {
  if (op === 'tanh' && size >= TANH_STEP_MIN && (dtype === 'float32' ? tanhWasmAvailable() : dtype === 'float64' && tanhWasm64Available())) return false;
  return op in UNARY || op in BINARY || op === 'where';
}

/**
 * The expression of `op` over the given operand expressions, rounded to `dtype` as storing it in a
 * typed array of that dtype would (Float32Array: round to nearest float32; Int32Array: ToInt32).
 */
export function exprOf(op: string, operands: string[], intInputs: boolean, dtype: DType): string {
  const text = op === 'where' ? ternary.where : op in UNARY ? (dtype === 'float32' && FLOAT32_OVERRIDES[op]) || UNARY[op]! : (intInputs && INT_OVERRIDES[op]) || BINARY[op]!;
  const e = text.replace(/\ba([0-2])\b/g, (_m, k: string) => operands[Number(k)]!);
  return dtype === 'float32' ? `Math.fround(${e})` : dtype === 'int32' ? `((${e}) | 0)` : `(${e})`;
}
