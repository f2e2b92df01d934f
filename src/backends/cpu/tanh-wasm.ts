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
 * The arrays are copied through a small Wasm memory of its own, CHUNK elements at a time.
 */
import { Code, I32, V128, assemble } from './matmul/wasm-emit.js';
import { Wasm } from './matmul/wasm-api.js';
import { ERR, KMAX, TAB, tanhF32 } from './tanh-f32.js';

const CHUNK = 4096;
// Memory layout (bytes): table | input chunk | output chunk | redo list | redo count.
const TAB_BYTES = TAB.length * 8;
const SRC = Math.ceil(TAB_BYTES / 64) * 64;
const DST = SRC + CHUNK * 4;
const LIST = DST + CHUNK * 4;
const COUNT = LIST + CHUNK * 4;
const PAGES = Math.ceil((COUNT + 4) / 65536);

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
      for (const lane of [0, 1]) {
        c.get(m).i32(1 << lane).and().eqz().if();
        c.get(list).get(cnt).i32(2).shl().add().get(idx);
        if (lane) c.i32(1).add();
        c.store(4, 0);
        c.get(cnt).i32(1).add().set(cnt);
        c.end();
      }
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

let kernel: ((...a: number[]) => void) | null | undefined;
let F32: Float32Array;
let I32V: Int32Array;

function init(): void {
  kernel = null;
  try {
    const mem = new Wasm.Memory({ initial: PAGES });
    const bytes = assemble([{ name: 'tanh', params: new Array<number>(5).fill(I32), locals: LOCALS, body: kernelCode() }], { shared: false, maxPages: PAGES });
    const inst = new Wasm.Instance(new Wasm.Module(bytes), { env: { mem } });
    new Float64Array(mem.buffer, 0, TAB.length).set(TAB);
    F32 = new Float32Array(mem.buffer);
    I32V = new Int32Array(mem.buffer);
    kernel = inst.exports.tanh as (...a: number[]) => void;
  } catch {
    // no Wasm SIMD here: the JS loop
  }
}

/** out[i] = Math.fround(tanh(x[i])) for i < n (x float32 values); out may be x. */
export function tanhF32Array(x: Float32Array, out: Float32Array, n = out.length): void {
  if (kernel === undefined) init();
  if (!kernel || n < 16) {
    for (let i = 0; i < n; i++) out[i] = tanhF32(x[i]!);
    return;
  }
  for (let i0 = 0; i0 < n; i0 += CHUNK) {
    const c = Math.min(CHUNK, n - i0);
    F32.set(x.subarray(i0, i0 + c), SRC / 4);
    if (c & 1) F32[SRC / 4 + c] = 0;
    kernel(SRC, DST, c + (c & 1), LIST, COUNT);
    out.set(F32.subarray(DST / 4, DST / 4 + c), i0);
    const redo = I32V[COUNT / 4]!;
    for (let k = 0; k < redo; k++) {
      const j = I32V[LIST / 4 + k]!;
      // from the chunk's copy: x[i0 + j] is already overwritten when out is x
      if (j < c) out[i0 + j] = tanhF32(F32[SRC / 4 + j]!);
    }
  }
}

/** Whether the Wasm kernel runs here (tests). */
export function tanhWasmAvailable(): boolean {
  if (kernel === undefined) init();
  return kernel !== null;
}
