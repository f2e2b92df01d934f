/**
 * tanh for float32 results: returns exactly Math.fround(tanh(x)) (./tanh.ts, the float64 version)
 * for every float32 x, about twice as fast, so that the CPU backend's float32 tanh kernel and
 * bt.jit's float32 loops can use it without changing a single result.
 *
 * Why a second version: a float32 result needs far fewer correct bits than the float64 one, but
 * rounding a less accurate value to float32 would differ from rounding tanh(x) wherever tanh(x)
 * lies close to the midpoint between two float32 numbers. So this is a fast estimate plus a
 * rounding test (Ziv's): r is within ERR·|r| of tanh(x) (and of the float64 tanh(x), which is
 * within 1 float64 ulp of it), so if r − ERR·|r| and r + ERR·|r| round to the same float32, so
 * does the float64 tanh(x) (rounding is monotonic); otherwise (about 1 in 4000 inputs) it calls
 * the float64 version. test/backends/cpu/tanh-f32.test.ts checks the equality on every float32 in
 * a range of binades and on random ones; scripts could run all 2^32 (see that test's comment).
 *
 * - |x| < 9.5: the Taylor series of tanh about the nearest grid point a = k/32, in b = x − a
 *   (exact for float32 x, |b| ≤ 1/64), to b^6, evaluated in Estrin's form (shorter dependency
 *   chains than Horner's, which the float64 version needs for its last bit). Truncation:
 *   |c_7 b^7| ≤ 0.054 · 2^-42 < 2^-46, i.e. ≤ 2^-40 relative for k ≠ 0 (|tanh x| ≥ 2^-6 there)
 *   and ≤ 0.054 · x^6 ≤ 2^-40 relative for k = 0 (c_2 = c_4 = c_6 = 0, T = 0); rounding errors
 *   are a few 2^-53. ERR = 2^-36 leaves a margin of 16.
 * - |x| ≥ 9.5: ±1 (1 − tanh 9.5 < 1.2e-8 < 2^-25, half a float32 ulp below 1); NaN stays NaN.
 */
import { tanh } from './tanh.js';

/** Polynomial degree about each grid point. */
const DEG = 6;
/** Grid points k/32 for k = −KMAX..KMAX: up to 9.5. */
export const KMAX = 304;
/**
 * Row of grid point k at (k + KMAX) * 8: [tanh(k/32), c1, ..., c6, unused] (8: the index is a
 * shift). Also copied into the Wasm version's memory (./tanh-wasm.ts).
 */
export const TAB = new Float64Array((2 * KMAX + 1) * 8);
for (let k = -KMAX; k <= KMAX; k++) {
  // −0 at k = 0, as in ./tanh.ts: −0 + b·q keeps the sign of x = ±0
  const c = [k === 0 ? -0 : tanh(k / 32)];
  // y' = 1 − y² gives (n + 1) c_{n+1} = [n = 0] − Σ c_i c_{n−i}
  for (let n = 0; n < DEG; n++) {
    let sum = 0;
    for (let i = 0; i <= n; i++) sum += c[i]! * c[n - i]!;
    c.push(((n === 0 ? 1 : 0) - sum) / (n + 1));
  }
  TAB.set(c, (k + KMAX) * 8);
}

/** Relative error bound of the estimate (see the module comment). */
export const ERR = 2 ** -36;

/** Math.fround(tanh(x)) for a float32 x (any other x: a float32 near tanh x, not necessarily that one). */
export function tanhF32(x: number): number {
  // Small enough for V8 to inline into the kernels' loops; the rare paths are calls.
  if (!(x < 9.5 && x > -9.5)) return x !== x ? x : x < 0 ? -1 : 1;
  const j = (x * 32 + (KMAX + 0.5)) | 0; // k + KMAX for the nearest k (positive: truncation is floor)
  const b = x - (j - KMAX) * 0.03125;
  const o = j << 3;
  const b2 = b * b;
  const q = TAB[o + 1]! + b * TAB[o + 2]! + b2 * (TAB[o + 3]! + b * TAB[o + 4]! + b2 * (TAB[o + 5]! + b * TAB[o + 6]!));
  const r = TAB[o]! + b * q;
  const d = r * ERR;
  // both ends round alike: so do r and tanh(x) (fround(r), not the ends: r − d may lose the sign of −0)
  return Math.fround(r - d) === Math.fround(r + d) ? Math.fround(r) : tanhF32Slow(x);
}

/** The rounding test failed: round the float64 tanh. */
function tanhF32Slow(x: number): number {
  return Math.fround(tanh(x));
}
