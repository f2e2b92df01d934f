/**
 * Math.exp over a float64 array in Wasm SIMD, two elements per f64x2 vector, bit for bit. V8's
 * Math.exp is fdlibm's e_exp.c with exp(1) = Math.E (checked against a port on millions of
 * inputs), and this kernel performs fdlibm's IEEE double operations in the same order — k = ±1 or
 * trunc(x/ln2 ± ½), x − k·ln2hi − k·ln2lo, the degree-5 rational form, × 2^k — choosing fdlibm's
 * branch per lane by the same thresholds on the high word (as doubles: a threshold's high word
 * followed by zeros). Lanes fdlibm treats specially (NaN, ±∞, |x| ≥ 708, where the result over- or
 * underflows or 2^k leaves the normal range) are listed and redone by Math.exp itself. The JS
 * loop costs ≈9–13 ns an element in the elementwise kernel; this ≈6.
 *
 * The arrays go through the chunked driver of ./wasm-array-map.ts.
 */
import { Code, I32, V128 } from './matmul/wasm-emit.js';
import { listLanesToRedo, wasmArrayMap } from './wasm-array-map.js';

const INV_LN2 = 1.44269504088896338700e+00;
const LN2_HI = 6.93147180369123816490e-01;
const LN2_LO = 1.90821492927058770002e-10;
const P = [1.66666666666666019037e-01, -2.77777777770155933842e-03, 6.61375632143793436117e-05, -1.65339022054652515390e-06, 4.13813679705723846039e-08];

/** The double whose high word is `hi` and low word 0. */
function fromHighWord(hi: number): number {
  const f = new Float64Array(1);
  new Uint32Array(f.buffer)[1] = hi;
  return f[0]!;
}
/** fdlibm: |x| > ½ ln2 (high word > 0x3fd62e42), |x| < 1.5 ln2 (< 0x3ff0a2b2), |x| < 2⁻²⁸ (< 0x3e300000) */
const HALF_LN2 = fromHighWord(0x3fd62e43);
const THREE_HALVES_LN2 = fromHighWord(0x3ff0a2b2);
const TINY = fromHighWord(0x3e300000);
/** from here on (and NaN) the lane is redone by Math.exp: over/underflow, or 2^k outside the normal range */
const REDO_FROM = 708;

/** kernel(src, dst, n, list, count): n (even) float64s from src to dst; indices to redo at list, their number at count. */
function kernelCode(): Code {
  const [src, dst, n, list, count] = [0, 1, 2, 3, 4];
  const [p, q, idx, cnt, m] = [5, 6, 7, 8, 9];
  let next = 10;
  const v = () => next++;
  const [x, a, big, mid, tiny, kf, hi, lo, r, t, cc, y, ys, dd] = Array.from({ length: 14 }, v);
  const c = new Code();
  // constants in locals, splatted once
  const konst = (value: number) => {
    const l = v();
    c.f64Const(value).f64x2Splat().set(l);
    return l;
  };
  const [one, two, sign, half, invLn2, ln2Hi, ln2Lo, halfLn2, threeHalvesLn2, tinyFrom, redoFrom, e] =
    [1, 2, -0, 0.5, INV_LN2, LN2_HI, LN2_LO, HALF_LN2, THREE_HALVES_LN2, TINY, REDO_FROM, Math.E].map(konst);
  const poly = P.map(konst);
  const bias = v();
  c.i32(1023).i32x4Splat().set(bias);
  c.get(src).set(p);
  c.get(dst).set(q);
  c.i32(0).set(idx);
  c.i32(0).set(cnt);
  c.loop();
  {
    c.get(p).v128Load(0).set(x);
    c.get(x).f64x2Abs().set(a);
    c.get(a).get(halfLn2).f64x2Ge().set(big); // k ≠ 0
    c.get(a).get(threeHalvesLn2).f64x2Lt().set(mid); // k = ±1 (within big)
    c.get(a).get(tinyFrom).f64x2Lt().set(tiny); // 1 + x
    // k: ±1 (x's sign on 1) where |x| < 1.5 ln2, else trunc(x/ln2 + x's sign on ½)
    c.get(x).get(sign).v128And().set(t);
    c.get(x).get(invLn2).fmul(8).get(t).get(half).v128Or().fadd(8).f64x2Trunc().set(kf);
    c.get(t).get(one).v128Or().get(kf).get(mid).v128Bitselect().set(kf);
    // hi = x − k ln2hi, lo = k ln2lo, r = hi − lo (big lanes); r = x otherwise
    c.get(x).get(kf).get(ln2Hi).fmul(8).fsub(8).set(hi);
    c.get(kf).get(ln2Lo).fmul(8).set(lo);
    c.get(hi).get(lo).fsub(8).get(x).get(big).v128Bitselect().set(r);
    // c = r − t (P1 + t (P2 + t (P3 + t (P4 + t P5)))), t = r²
    c.get(r).get(r).fmul(8).set(t);
    c.get(t).get(poly[4]!).fmul(8);
    for (let i = 3; i >= 0; i--) {
      // P_i + t·acc, with the acc on the stack: IEEE addition commutes
      c.get(poly[i]!).fadd(8);
      if (i > 0) {
        c.set(cc);
        c.get(t).get(cc).fmul(8);
      }
    }
    c.set(cc);
    c.get(r).get(t).get(cc).fmul(8).fsub(8).set(cc);
    // one division for both forms: (r c)/(2 − c) in big lanes, (x c)/(c − 2) in the others (r = x there)
    c.get(two).get(cc).fsub(8).get(cc).get(two).fsub(8).get(big).v128Bitselect().set(dd);
    c.get(r).get(cc).fmul(8).get(dd).fdiv(8).set(dd);
    // big lanes: (1 − ((lo − q) − hi)) · 2^k
    c.get(one).get(lo).get(dd).fsub(8).get(hi).fsub(8).fsub(8);
    c.get(kf).truncSatF64x2().get(bias).i32x4Add().i64x2ExtendLowI32x4S().i32(52).i64x2Shl().fmul(8).set(y);
    // the others: 1 − (q − x); tiny ones 1 + x
    c.get(one).get(dd).get(x).fsub(8).fsub(8).set(ys);
    c.get(one).get(x).fadd(8).get(ys).get(tiny).v128Bitselect().set(ys);
    c.get(y).get(ys).get(big).v128Bitselect().set(y);
    // V8 returns Math.E for exp(1) (fdlibm's last bit there is off by one)
    c.get(e).get(y).get(x).get(one).f64x2Eq().v128Bitselect().set(y);
    c.get(q).get(y).v128Store(0);
    // lanes with |x| ≥ 708 or NaN (|x| < 708 false): listed, redone by Math.exp
    c.get(a).get(redoFrom).f64x2Lt().i64x2Bitmask().tee(m).i32(3).ne().if();
    listLanesToRedo(c, m, { list, cnt, idx });
    c.end();
    c.get(p).i32(16).add().set(p);
    c.get(q).i32(16).add().set(q);
    c.get(idx).i32(2).add().tee(idx).get(n).ltU().brIf(0);
  }
  c.end();
  c.get(count).get(cnt).store(4, 0);
  return c;
}
// 5 i32 locals, then 14 working vectors, 12 + 5 constants and the exponent bias
const LOCALS = [...new Array<number>(5).fill(I32), ...new Array<number>(14 + 12 + 5 + 1).fill(V128)];

const map = wasmArrayMap<Float64Array>({ View: Float64Array, table: new Float64Array(1), locals: LOCALS, body: kernelCode, scalar: Math.exp });

/** out[i] = Math.exp(x[i]) for i < n, bit for bit; out may be x. */
export function expF64Array(x: Float64Array, out: Float64Array, n = out.length): void {
  map.run(x, out, n);
}

/** Whether the Wasm kernel runs here. */
export function expWasm64Available(): boolean {
  return map.available();
}
