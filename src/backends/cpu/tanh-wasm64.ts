/**
 * The float64 tanh (./tanh.ts) over a whole array in Wasm SIMD, two elements per f64x2 vector:
 * the same table and polynomials, the same operations in the same order, each an IEEE double
 * operation as in JS, so bit-for-bit the same results, at about a third of the time of the JS
 * loop (which spends most of its instructions on bounds checks and index arithmetic per element).
 * A pair with an element of |x| ≥ 1.5 also takes tanh.ts's other path (1 − 2/(e^{2|x|} + 1),
 * ±1 from 19.1) and picks per lane; table loads are clamped into range for such lanes. NaNs are
 * listed and redone by the JS function.
 *
 * The arrays go through the chunked driver of ./wasm-array-map.ts.
 */
import { Code, I32, V128 } from './matmul/wasm-emit.js';
import { listLanesToRedo, wasmArrayMap } from './wasm-array-map.js';
import { INV_LN2, LN2_HI, LN2_LO, ROW, TAB, tanh } from './tanh.js';

const DEG = ROW - 2;

/** kernel(src, dst, n, list, count): n (even) float64s from src to dst; indices to redo at list, their number at count. */
function kernelCode(): Code {
  const [src, dst, n, list, count] = [0, 1, 2, 3, 4];
  const [p, q, idx, cnt, m, o0, o1] = [5, 6, 7, 8, 9, 10, 11];
  const [x, ji, b, acc, c32, cOff, cK, cStep, c15, iMax, iZero, iRow] = [12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23];
  const [small, a, y, t, kf, one, half, sign, big] = [24, 25, 26, 27, 28, 29, 30, 31, 32];
  const c = new Code();
  const f64 = (v: number, l: number) => c.f64Const(v).f64x2Splat().set(l);
  f64(32, c32);
  f64(48.5, cOff);
  f64(48, cK);
  f64(0.03125, cStep);
  f64(1.5, c15);
  c.i32(96).i32x4Splat().set(iMax);
  c.v128Zero().set(iZero);
  c.i32(ROW * 8).i32x4Splat().set(iRow);
  f64(1, one);
  f64(0.5, half);
  f64(-0, sign);
  f64(19.1, big);
  c.get(src).set(p);
  c.get(dst).set(q);
  c.i32(0).set(idx);
  c.i32(0).set(cnt);
  c.loop();
  {
    c.get(p).v128Load(0).set(x);
    // j = k + 48 for the nearest grid point k/32, clamped; b = x − (j − 48)/32 (exact)
    c.get(x).get(c32).fmul(8).get(cOff).fadd(8).truncSatF64x2().get(iZero).i32x4MaxS().get(iMax).i32x4MinS().set(ji);
    c.get(x).get(ji).convertLowI32x4().get(cK).fsub(8).get(cStep).fmul(8).fsub(8).set(b);
    c.get(ji).get(iRow).i32x4Mul().set(ji); // row byte offsets
    c.get(ji).i32x4Lane(0).set(o0);
    c.get(ji).i32x4Lane(1).set(o1);
    const coef = (k: number) => c.get(o1).get(o0).load64Zero(8 * k).load64Lane(8 * k, 1);
    // p = b (c1 + b (c2 + ... + b c9)), coefficients at row offsets 2..10; then T + (TLO + p)
    coef(ROW - 1).set(acc);
    for (let k = ROW - 2; k >= 2; k--) {
      coef(k);
      c.get(b).get(acc).fmul(8).fadd(8).set(acc);
    }
    c.get(b).get(acc).fmul(8).set(acc);
    coef(0);
    coef(1);
    c.get(acc).fadd(8).fadd(8).set(acc);
    // |x| < 1.5 (false for NaN) in both lanes, or the other path for the pair
    c.get(x).f64x2Abs().tee(a).get(c15).f64x2Lt().tee(small).i64x2Bitmask().i32(3).ne().if();
    {
      large(c, { a, y, t, kf, one, half, sign, big, x });
      c.get(acc).get(t).get(small).v128Bitselect().set(acc);
      // NaN lanes (x ≠ x): bit i of m clear, redone in JS
      c.get(x).get(x).f64x2Eq().i64x2Bitmask().tee(m).i32(3).ne().if();
      listLanesToRedo(c, m, { list, cnt, idx });
      c.end();
    }
    c.end();
    c.get(q).get(acc).v128Store(0);
    c.get(p).i32(16).add().set(p);
    c.get(q).i32(16).add().set(q);
    c.get(idx).i32(2).add().tee(idx).get(n).ltU().brIf(0);
  }
  c.end();
  c.get(count).get(cnt).store(4, 0);
  return c;
}
const LOCALS = [...new Array<number>(7).fill(I32), ...new Array<number>(21).fill(V128)];
void DEG;

/**
 * tanh.ts's tanhLarge for both lanes into local t: a = |x|, y = 2a, k = Math.round(y / ln 2)
 * (floor, plus 1 if the fraction is ≥ 1/2: ties up, as Math.round), r = y − k LN2_HI − k LN2_LO,
 * e = p(r) 2^k (2^k built from its exponent bits, k clamped to 0..63 for lanes that never use it),
 * 1 − 2/(e + 1), 1 from 19.1 on, x's sign. Lanes with |x| < 1.5 get garbage, never picked.
 */
function large(c: Code, l: { a: number; y: number; t: number; kf: number; one: number; half: number; sign: number; big: number; x: number }): void {
  c.get(l.a).get(l.a).fadd(8).set(l.y);
  c.get(l.y).f64Const(INV_LN2).f64x2Splat().fmul(8).tee(l.t).f64x2Floor().set(l.kf);
  c.get(l.kf).get(l.t).get(l.kf).fsub(8).get(l.half).f64x2Ge().get(l.one).v128And().fadd(8).set(l.kf);
  // r into t
  c.get(l.y).get(l.kf).f64Const(LN2_HI).f64x2Splat().fmul(8).fsub(8).get(l.kf).f64Const(LN2_LO).f64x2Splat().fmul(8).fsub(8).set(l.t);
  // p = 1 + r (1 + r (1/2 + ... + r (1/479001600 + r / 6227020800))), Horner as in tanh.ts: onto the stack, innermost first
  const inv = [1, 1, 2, 6, 24, 120, 720, 5040, 40320, 362880, 3628800, 39916800, 479001600];
  c.f64Const(1 / 479001600).f64x2Splat().get(l.t).f64Const(6227020800).f64x2Splat().fdiv(8).fadd(8);
  for (let i = inv.length - 2; i >= 0; i--) {
    const k = c; // acc on the stack: c_i + r * acc
    k.get(l.t).fmul(8);
    // (r * acc) then c_i + that: IEEE addition commutes, the same sum as tanh.ts's c_i + r * (...)
    (i <= 1 ? k.get(l.one) : k.f64Const(1 / inv[i]!).f64x2Splat()).fadd(8);
  }
  // × 2^k: k (exact small integer) to i32, clamped, + 1023, to i64, << 52
  c.get(l.kf).truncSatF64x2().v128Zero().i32x4MaxS().i32(63).i32x4Splat().i32x4MinS().i32(1023).i32x4Splat().i32x4Add();
  c.i64x2ExtendLowI32x4S().i32(52).i64x2Shl().fmul(8);
  // 1 − 2 / (e + 1)
  c.set(l.t);
  c.get(l.one).f64Const(2).f64x2Splat().get(l.t).get(l.one).fadd(8).fdiv(8).fsub(8);
  // 1 where a ≥ 19.1 (a < 19.1 false there): bitselect(r, 1, a < 19.1)
  c.get(l.one).get(l.a).get(l.big).f64x2Lt().v128Bitselect();
  // x's sign: r ≥ 0, so or-ing in the sign bit negates it exactly
  c.get(l.x).get(l.sign).v128And().v128Or().set(l.t);
}

const map = wasmArrayMap<Float64Array>({ View: Float64Array, table: TAB, locals: LOCALS, body: kernelCode, scalar: tanh });

/** out[i] = tanh(x[i]) for i < n (./tanh.ts's tanh, bit for bit); out may be x. */
export function tanhF64Array(x: Float64Array, out: Float64Array, n = out.length): void {
  map.run(x, out, n);
}

/** Whether the Wasm kernel runs here. */
export function tanhWasm64Available(): boolean {
  return map.available();
}
