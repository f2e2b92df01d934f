/**
 * Wasm SIMD matmul driver. Per call: copy A into Wasm memory as is (the kernel reads it through
 * strides, so either transpose is free), copy B and pack it into NR-wide column panels (skipped
 * when m is small and B is row-major: then the kernel reads B rows in place), run the kernel over
 * cache-sized blocks, and copy C back out.
 *
 * Blocking (GotoBLAS): k is split into KC slices (the kernel accumulates into C after the first)
 * and rows of A into MC-row blocks, so the A block stays in L2 while each KC x NR B panel sits in L1.
 * Padding: tiles cover ceil(m/MR)*MR rows and ceil(n/NR)*NR columns and may read past the operands
 * (slack is allocated); padded rows/columns of C are garbage that is never copied out.
 */
import type { FloatArray } from './matmul.js';
import { assemble } from './wasm-emit.js';
import { Wasm, WASM_PAGE, WasmHeap } from './wasm-api.js';
import { addRowsFunc, compactFunc, gemmFunc, packGatherFunc, packRowsFunc } from './wasm-matmul.js';
import { Helper, MAX_CALLS, REC, threadsAvailable } from './matmul-worker.js';

type Fn = (...args: number[]) => void;
interface Kernel { mr: number; nr: number; nv: number; gemm: Fn; packRows: Fn; id: number }
interface DtypePlan { es: 4 | 8; wide: Kernel; narrow: Kernel; gather: Fn; addRows: Fn; kcBlock: number; mcBlock: number }

/** Register tiles (rows x v128 per row), chosen by measurement; see wasm-matmul.ts. */
const WIDE = { mr: 2, nv: 4 };
const NARROW = { mr: 4, nv: 1 };
const GEMMS = ['wide8', 'narrow8', 'wide4', 'narrow4'];
/**
 * Products with at least this many multiply-adds are split with the helper thread. Measured (best
 * of 12): 1-2M MACs gain nothing or lose (wake-up + join cost ~ tens of us), 16.7M (n=256) gains
 * ~1.5x, 134M (n=512) ~1.7-1.9x.
 */
const THREAD_MIN_MACS = 1 << 22;
/** Shared memories need a maximum; just under 2 GiB keeps byte addresses positive i32s. */
const MAX_PAGES = 32767;

let heap: WasmHeap | undefined;
let plan64: DtypePlan;
let plan32: DtypePlan;
let compact: Fn;
let helper: Helper | undefined;
let threadsOn = true;

/** Enables/disables use of the helper thread (it exists only if BAYESTAPE_MATMUL_NO_THREADS is unset). */
export function setMatmulThreads(on: boolean): void { threadsOn = on; }

function init(): void {
  const shared = threadsAvailable;
  const mem = new Wasm.Memory({ initial: 64, maximum: MAX_PAGES, shared });
  const funcs = [compactFunc('compact'), packRowsFunc('packRows1', 1), packRowsFunc(`packRows${WIDE.nv}`, WIDE.nv)];
  for (const es of [4, 8] as const) {
    funcs.push(gemmFunc(`wide${es}`, { elemBytes: es, ...WIDE }), gemmFunc(`narrow${es}`, { elemBytes: es, ...NARROW }),
      packGatherFunc(`gather${es}`, es), addRowsFunc(`addRows${es}`, es));
  }
  const module = new Wasm.Module(assemble(funcs, { shared, maxPages: MAX_PAGES }));
  const inst = new Wasm.Instance(module, { env: { mem } });
  const ex = inst.exports as Record<string, Fn>;
  const plan = (es: 4 | 8, kcBlock: number, mcBlock: number): DtypePlan => {
    const kern = (t: { mr: number; nv: number }, name: string): Kernel =>
      ({ ...t, nr: (t.nv * 16) / es, gemm: ex[`${name}${es}`], packRows: ex[`packRows${t.nv}`],
        id: GEMMS.indexOf(`${name}${es}`) });
    return { es, wide: kern(WIDE, 'wide'), narrow: kern(NARROW, 'narrow'), gather: ex[`gather${es}`], addRows: ex[`addRows${es}`], kcBlock, mcBlock };
  };
  plan64 = plan(8, 256, 128);
  plan32 = plan(4, 256, 256);
  compact = ex.compact;
  heap = new WasmHeap(mem);
  if (shared) helper = new Helper(module, mem, GEMMS);
}

const roundUp = (x: number, to: number) => Math.ceil(x / to) * to;

/**
 * Batch entries whose operand offset repeats the previous one share a copy ("slot"); returns the
 * slot of each entry and the number of slots.
 */
function slots(offsets: ArrayLike<number>, batch: number, out: Int32Array): number {
  let s = 0;
  out[0] = 0;
  for (let t = 1; t < batch; t++) out[t] = offsets[t] === offsets[t - 1] ? s : ++s;
  return s + 1;
}
let slotA = new Int32Array(16), slotB = new Int32Array(16);

/** Copies each distinct operand (size elements) to dst + slot*size; one copy when offsets are consecutive. */
function copyIn(src: FloatArray, offsets: ArrayLike<number>, slot: Int32Array, batch: number, size: number,
  H: FloatArray, dst: number): void {
  const nSlots = slot[batch - 1] + 1, o0 = offsets[0];
  if (nSlots === batch && offsets[batch - 1] === o0 + (batch - 1) * size) {
    let contiguous = true;
    for (let t = 1; t < batch && contiguous; t++) contiguous = offsets[t] === o0 + t * size;
    if (contiguous) { H.set(src.subarray(o0, o0 + batch * size), dst); return; }
  }
  for (let t = 0; t < batch; t++) {
    if (t > 0 && slot[t] === slot[t - 1]) continue;
    H.set(src.subarray(offsets[t], offsets[t] + size), dst + slot[t] * size);
  }
}

/**
 * Returns false (doing nothing) when the operands do not fit in Wasm memory; the caller falls back to JS.
 * `bias` (n elements, or 1 for all columns): added to every row of the product before it is copied out.
 */
export function matmulWasm(a: FloatArray, aOffsets: ArrayLike<number>, b: FloatArray, bOffsets: ArrayLike<number>,
  out: FloatArray, batch: number, m: number, k: number, n: number, transA: boolean, transB: boolean, bias: FloatArray | null = null): boolean {
  if (!heap) init();
  const P = a instanceof Float64Array ? plan64 : plan32;
  const es = P.es;
  // Narrow tiles when n is tiny (e.g. [256,128]x[128,2]), where wide ones would be mostly padding.
  const K = n <= 2 * P.narrow.nr && n < P.wide.nr ? P.narrow : P.wide;
  const MR = K.mr, NR = K.nr;
  const mPad = roundUp(m, MR), nPad = roundUp(n, NR);
  // Small m: each B panel would be used only mPad/MR times, so packing it costs more than it saves.
  const rawB = !transB && mPad <= 4 * MR;

  if (slotA.length < batch) { slotA = new Int32Array(batch); slotB = new Int32Array(batch); }
  const nA = slots(aOffsets, batch, slotA), nB = slots(bOffsets, batch, slotB);
  // Memory layout (elements): A slots | B raw (scratch or slots) | B packed slots | C. Each region has
  // slack so edge tiles may read past the data.
  const aSize = m * k, bSize = k * n, bPackedSize = k * nPad;
  const slack = MR * k + NR * k + NR;
  const aBase = 0;
  const bRaw = aBase + nA * aSize + slack;
  const bPacked = bRaw + (rawB ? nB : 1) * bSize + slack;
  const cBase = bPacked + (rawB ? 0 : nB * bPackedSize);
  const cEnd = cBase + (batch - 1) * m * nPad + mPad * nPad;
  const biasBase = roundUp(cEnd, 16 / es); // the bias row, zero-padded to nPad, 16-byte aligned
  const end = bias ? biasBase + nPad : cEnd;
  if (end * es > MAX_PAGES * WASM_PAGE) return false;
  heap!.ensureBytes(end * es);
  const H = es === 8 ? heap!.f64 : heap!.f32;

  copyIn(a, aOffsets, slotA, batch, aSize, H, aBase);
  const aRS = (transA ? 1 : k) * es, aKS = (transA ? m : 1) * es;
  if (rawB) copyIn(b, bOffsets, slotB, batch, bSize, H, bRaw);
  else {
    for (let t = 0; t < batch; t++) {
      if (t > 0 && slotB[t] === slotB[t - 1]) continue;
      H.set(b.subarray(bOffsets[t], bOffsets[t] + bSize), bRaw);
      const dst = bPacked + slotB[t] * bPackedSize;
      for (let k0 = 0; k0 < k; k0 += P.kcBlock) {
        const kc = Math.min(P.kcBlock, k - k0), d = (dst + k0 * nPad) * es;
        if (transB) P.gather((bRaw + k0) * es, es, k * es, d, kc, nPad / NR, NR);
        else K.packRows((bRaw + k0 * n) * es, n * es, d, kc, nPad / NR);
      }
    }
  }

  const ldc = nPad * es, mPanels = mPad / MR, nPanels = nPad / NR;
  const mcPanels = Math.max(1, Math.floor(P.mcBlock / MR));
  const nCalls = batch * Math.ceil(k / P.kcBlock) * Math.ceil(mPanels / mcPanels);
  // Large products: record the kernel calls and split the B panels (columns of C) with the helper.
  const threaded = threadsOn && helper !== undefined && batch * m * n * k >= THREAD_MIN_MACS && nPanels >= 2 &&
    nCalls <= MAX_CALLS && helper.ready;
  const ctrl = threaded ? helper!.ctrl : undefined;
  const split = threaded ? nPanels >> 1 : nPanels;
  let call = 0;
  for (let t = 0; t < batch; t++) {
    // C of entry t starts right after entry t-1's m real rows: its padding rows spill into the next
    // entry's space, which is computed (overwritten) later.
    const c0 = (cBase + t * m * nPad) * es;
    const a0 = (aBase + slotA[t] * aSize) * es;
    for (let k0 = 0; k0 < k; k0 += P.kcBlock) {
      const kc = Math.min(P.kcBlock, k - k0);
      let bp: number, bPS: number, bKS: number;
      if (rawB) { bp = (bRaw + slotB[t] * bSize + k0 * n) * es; bPS = NR * es; bKS = n * es; }
      else { bp = (bPacked + slotB[t] * bPackedSize + k0 * nPad) * es; bPS = kc * NR * es; bKS = NR * es; }
      for (let ip = 0; ip < mPanels; ip += mcPanels) {
        const ap = a0 + ip * MR * aRS + k0 * aKS, cp = c0 + ip * MR * ldc, mp = Math.min(mcPanels, mPanels - ip);
        if (ctrl) {
          const r = Helper.rec(call++);
          ctrl[r] = K.id; ctrl[r + 1] = ap; ctrl[r + 2] = aRS; ctrl[r + 3] = aKS; ctrl[r + 4] = bp;
          ctrl[r + 5] = bPS; ctrl[r + 6] = bKS; ctrl[r + 7] = cp; ctrl[r + 8] = ldc; ctrl[r + 9] = mp;
          ctrl[r + 11] = kc; ctrl[r + 12] = k0 > 0 ? 1 : 0; ctrl[r + 13] = NR * es;
        } else K.gemm(ap, aRS, aKS, bp, bPS, bKS, cp, ldc, mp, split, kc, k0 > 0 ? 1 : 0);
      }
    }
  }
  if (ctrl) {
    // The helper takes panels [split, nPanels); this thread replays the same calls on [0, split).
    helper!.start(call, split, nPanels);
    for (let i = 0, r = Helper.rec(0); i < call; i++, r += REC) {
      K.gemm(ctrl[r + 1], aRS, aKS, ctrl[r + 4], ctrl[r + 5], ctrl[r + 6], ctrl[r + 7], ldc, ctrl[r + 9], split, ctrl[r + 11],
        ctrl[r + 12]);
    }
    helper!.join();
  }
  if (bias) {
    if (bias.length === 1) H.fill(bias[0]!, biasBase, biasBase + nPad);
    else {
      H.set(bias, biasBase);
      H.fill(0, biasBase + n, biasBase + nPad);
    }
    P.addRows(cBase * es, ldc, biasBase * es, batch * m, (nPad * es) / 16);
  }
  if (nPad !== n) compact(cBase * es, ldc, cBase * es, n * es, batch * m);
  out.set(H.subarray(cBase, cBase + batch * m * n), 0);
  return true;
}
