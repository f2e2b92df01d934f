/**
 * The float64 tanh (./tanh.ts) over a whole array in Wasm SIMD, two elements per f64x2 vector,
 * for |x| < 1.5: the same table, the same Horner polynomial, the same operations in the same
 * order, each an IEEE double operation as in JS, so bit-for-bit the same results, at about a
 * third of the time of the JS loop (which spends most of its instructions on bounds checks and
 * index arithmetic per element). Elements with |x| ≥ 1.5 (or NaN) are listed and redone by the JS
 * function; their table loads are clamped into range meanwhile.
 *
 * The arrays are copied through a small Wasm memory of its own, CHUNK elements at a time.
 */
import { Code, I32, V128, assemble } from './matmul/wasm-emit.js';
import { Wasm } from './matmul/wasm-api.js';
import { ROW, TAB, tanh } from './tanh.js';

const CHUNK = 4096;
// Memory layout (bytes): table | input chunk | output chunk | redo list | redo count.
const SRC = Math.ceil((TAB.length * 8) / 64) * 64;
const DST = SRC + CHUNK * 8;
const LIST = DST + CHUNK * 8;
const COUNT = LIST + CHUNK * 4;
const PAGES = Math.ceil((COUNT + 4) / 65536);
const DEG = ROW - 2;

/** kernel(src, dst, n, list, count): n (even) float64s from src to dst; indices to redo at list, their number at count. */
function kernelCode(): Code {
  const [src, dst, n, list, count] = [0, 1, 2, 3, 4];
  const [p, q, idx, cnt, m, o0, o1] = [5, 6, 7, 8, 9, 10, 11];
  const [x, ji, b, acc, c32, cOff, cK, cStep, c15, iMax, iZero, iRow] = [12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23];
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
    // |x| < 1.5 (false for NaN): bit i of m set for a good lane i
    c.get(x).f64x2Abs().get(c15).f64x2Lt().i64x2Bitmask().tee(m);
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
    c.get(q).get(acc).v128Store(0);
    c.get(p).i32(16).add().set(p);
    c.get(q).i32(16).add().set(q);
    c.get(idx).i32(2).add().tee(idx).get(n).ltU().brIf(0);
  }
  c.end();
  c.get(count).get(cnt).store(4, 0);
  return c;
}
const LOCALS = [...new Array<number>(7).fill(I32), ...new Array<number>(12).fill(V128)];
void DEG;

let kernel: ((...a: number[]) => void) | null | undefined;
let F64: Float64Array;
let I32V: Int32Array;

function init(): void {
  kernel = null;
  try {
    const mem = new Wasm.Memory({ initial: PAGES });
    const bytes = assemble([{ name: 'tanh', params: new Array<number>(5).fill(I32), locals: LOCALS, body: kernelCode() }], { shared: false, maxPages: PAGES });
    const inst = new Wasm.Instance(new Wasm.Module(bytes), { env: { mem } });
    new Float64Array(mem.buffer, 0, TAB.length).set(TAB);
    F64 = new Float64Array(mem.buffer);
    I32V = new Int32Array(mem.buffer);
    kernel = inst.exports.tanh as (...a: number[]) => void;
  } catch {
    // no Wasm SIMD here: the JS loop
  }
}

/** out[i] = tanh(x[i]) for i < n (./tanh.ts's tanh, bit for bit); out may be x. */
export function tanhF64Array(x: Float64Array, out: Float64Array, n = out.length): void {
  if (kernel === undefined) init();
  if (!kernel || n < 16) {
    for (let i = 0; i < n; i++) out[i] = tanh(x[i]!);
    return;
  }
  for (let i0 = 0; i0 < n; i0 += CHUNK) {
    const c = Math.min(CHUNK, n - i0);
    F64.set(x.subarray(i0, i0 + c), SRC / 8);
    if (c & 1) F64[SRC / 8 + c] = 0;
    kernel(SRC, DST, c + (c & 1), LIST, COUNT);
    out.set(F64.subarray(DST / 8, DST / 8 + c), i0);
    const redo = I32V[COUNT / 4]!;
    for (let k = 0; k < redo; k++) {
      const j = I32V[LIST / 4 + k]!;
      // from the chunk's copy: x[i0 + j] is already overwritten when out is x
      if (j < c) out[i0 + j] = tanh(F64[SRC / 8 + j]!);
    }
  }
}

/** Whether the Wasm kernel runs here. */
export function tanhWasm64Available(): boolean {
  if (kernel === undefined) init();
  return kernel !== null;
}
