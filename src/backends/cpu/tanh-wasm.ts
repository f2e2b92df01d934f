/**
 * The float32 tanh (./tanh-f32.ts) over a whole array in Wasm SIMD, two elements per f64x2 vector:
 * the same estimate, the same rounding test, so the same results (Math.fround of the float64 tanh
 * for every element), about three times faster than the JS loop, which spends most of its
 * instructions on bounds checks and table-index arithmetic per element.
 *
 * Per pair: promote the two float32s, index of the nearest grid point (clamped, so the table loads
 * stay in bounds even for |x| ≥ 9.5 or NaN), the rows' coefficients gathered lane by lane, the
 * polynomial in Estrin's form, the rounding test. Elements out of the table's range or failing the
 * test are listed and redone by the JS routine (rare: about 1 in 3000 inputs, plus |x| ≥ 9.5).
 *
 * The arrays go through the chunked driver of ./wasm-array-map.ts.
 */
import { Code, I32, V128 } from './matmul/wasm-emit.js';
import { listLanesToRedo, wasmArrayMap } from './wasm-array-map.js';
import { ERR, KMAX, TAB, tanhF32 } from './tanh-f32.js';


/** kernel(src, dst, n, list, count): n (even) float32s from src to dst; indices to redo at list, their number at count. */
function kernelCode(): Code {
  const [src, dst, n, list, count] = [0, 1, 2, 3, 4];
  const [p, q, idx, cnt, m, o0, o1] = [5, 6, 7, 8, 9, 10, 11];
  const [xf, x, ji, b, b2, r, c32, cOff, cK, cStep, cErr, c95, iMax, iZero] = [12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25];
  const C = (k: number) => 26 + k; // coefficient vectors c0..c6
  const c = new Code();
  const f64 = (v: number, l: number) => c.f64Const(v).f64x2Splat().set(l);
  f64(32, c32);
  f64(KMAX + 0.5, cOff);
  f64(KMAX, cK);
  f64(0.03125, cStep);
  f64(ERR, cErr);
  c.f32Const(9.5).f32x4Splat().set(c95);
  c.i32(2 * KMAX).i32x4Splat().set(iMax);
  c.v128Zero().set(iZero);
  c.get(src).set(p);
  c.get(dst).set(q);
  c.i32(0).set(idx);
  c.i32(0).set(cnt);
  c.loop();
  {
    c.get(p).load64Zero(0).tee(xf).promoteLow().set(x);
    // j = clamp(trunc(x * 32 + KMAX + 1/2), 0, 2 KMAX): the grid point k = j − KMAX nearest x
    c.get(x).get(c32).fmul(8).get(cOff).fadd(8).truncSatF64x2().get(iZero).i32x4MaxS().get(iMax).i32x4MinS().set(ji);
    // b = x − (j − KMAX)/32, exact
    c.get(x).get(ji).convertLowI32x4().get(cK).fsub(8).get(cStep).fmul(8).fsub(8).set(b);
    c.get(ji).i32(6).i32x4Shl().set(ji); // row byte offsets (rows of 8 doubles)
    c.get(ji).i32x4Lane(0).set(o0);
    c.get(ji).i32x4Lane(1).set(o1);
    for (let k = 0; k <= 6; k++) c.get(o1).get(o0).load64Zero(8 * k).load64Lane(8 * k, 1).set(C(k));
    // q = c1 + b c2 + b2 (c3 + b c4 + b2 (c5 + b c6)), r = c0 + b q: tanh-f32.ts's order
    c.get(b).get(b).fmul(8).set(b2);
    const lin = (k: number) => c.get(C(k)).get(b).get(C(k + 1)).fmul(8).fadd(8);
    lin(1);
    c.get(b2);
    lin(3);
    c.get(b2);
    lin(5);
    c.fmul(8).fadd(8).fmul(8).fadd(8);
    c.set(r);
    c.get(C(0)).get(b).get(r).fmul(8).fadd(8).set(r);
    // the rounding test, and |x| < 9.5 (false for NaN): bit i of m set for a good lane i
    c.get(r).get(r).get(cErr).fmul(8).fsub(8).demoteZero();
    c.get(r).get(r).get(cErr).fmul(8).fadd(8).demoteZero();
    c.f32x4Eq();
    c.get(xf).f32x4Abs().get(c95).f32x4Lt().v128And().i32x4Bitmask().i32(3).and().tee(m);
    c.i32(3).ne().if();
    {
      listLanesToRedo(c, m, { list, cnt, idx });
    }
    c.end();
    c.get(q).get(r).demoteZero().store64Lane(0, 0);
    c.get(p).i32(8).add().set(p);
    c.get(q).i32(8).add().set(q);
    c.get(idx).i32(2).add().tee(idx).get(n).ltU().brIf(0);
  }
  c.end();
  c.get(count).get(cnt).store(4, 0);
  return c;
}
// local types: 5 params, 7 i32 locals, 21 v128 locals
const LOCALS = [...new Array<number>(7).fill(I32), ...new Array<number>(21).fill(V128)];

const map = wasmArrayMap<Float32Array>({ View: Float32Array, table: TAB, locals: LOCALS, body: kernelCode, scalar: tanhF32 });

/** out[i] = Math.fround(tanh(x[i])) for i < n (x float32 values); out may be x. */
export function tanhF32Array(x: Float32Array, out: Float32Array, n = out.length): void {
  map.run(x, out, n);
}

/** Whether the Wasm kernel runs here. */
export function tanhWasmAvailable(): boolean {
  return map.available();
}
