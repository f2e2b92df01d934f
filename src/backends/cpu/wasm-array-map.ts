/**
 * The driver shared by the Wasm SIMD elementwise maps (tanh-wasm.ts for float32, tanh-wasm64.ts
 * for float64): the arrays go through a small Wasm memory of the map's own, CHUNK elements at a
 * time, and the elements the kernel lists as unsettled (out of its table's range, failing a
 * rounding test, NaN) are redone by the scalar JS routine, so the results equal that routine's.
 *
 * Memory layout (bytes): float64 table | input chunk | output chunk | redo list | redo count.
 * The kernel is kernel(src, dst, n, list, count): n (even) elements from src to dst, the indices
 * to redo at list, their number at count.
 */
import { I32, assemble, type Code } from './matmul/wasm-emit.js';
import { Wasm } from './matmul/wasm-api.js';

const CHUNK = 4096;

/**
 * Emits, inside a kernel's loop over pairs, the listing of the pair's lanes whose bit in the i32
 * local `m` is clear: each such element's index (idx, idx + 1) goes to the redo list at `list`,
 * and the count local `cnt` grows (the driver then redoes them with the scalar routine).
 */
export function listLanesToRedo(c: Code, m: number, l: { list: number; cnt: number; idx: number }): void {
  for (const lane of [0, 1]) {
    c.get(m).i32(1 << lane).and().eqz().if();
    c.get(l.list).get(l.cnt).i32(2).shl().add().get(l.idx);
    if (lane) c.i32(1).add();
    c.store(4, 0);
    c.get(l.cnt).i32(1).add().set(l.cnt);
    c.end();
  }
}

export interface WasmArrayMapSpec<A extends Float32Array | Float64Array> {
  /** the element type: Float32Array or Float64Array */
  View: { new (buffer: ArrayBufferLike): A; readonly BYTES_PER_ELEMENT: number };
  /** coefficients the kernel reads from address 0 */
  table: Float64Array;
  /** the kernel's locals (after its 5 i32 parameters) and body, given the layout's addresses */
  locals: number[];
  body: () => Code;
  /** the scalar routine: the fallback, and the redo of listed elements */
  scalar: (v: number) => number;
}

/** A map over arrays: run(x, out, n) writes out[i] = scalar(x[i]) for i < n (out may be x). */
export interface WasmArrayMap<A extends Float32Array | Float64Array> {
  run(x: A, out: A, n?: number): void;
  /** whether the Wasm kernel runs here (no Wasm SIMD: the JS loop) */
  available(): boolean;
}

export function wasmArrayMap<A extends Float32Array | Float64Array>(spec: WasmArrayMapSpec<A>): WasmArrayMap<A> {
  const eb = spec.View.BYTES_PER_ELEMENT;
  const SRC = Math.ceil((spec.table.length * 8) / 64) * 64;
  const DST = SRC + CHUNK * eb;
  const LIST = DST + CHUNK * eb;
  const COUNT = LIST + CHUNK * 4;
  const PAGES = Math.ceil((COUNT + 4) / 65536);
  let kernel: ((...a: number[]) => void) | null | undefined;
  let V: A;
  let I32V: Int32Array;

  function init(): void {
    kernel = null;
    try {
      const mem = new Wasm.Memory({ initial: PAGES });
      const bytes = assemble([{ name: 'map', params: new Array<number>(5).fill(I32), locals: spec.locals, body: spec.body() }], { shared: false, maxPages: PAGES });
      const inst = new Wasm.Instance(new Wasm.Module(bytes), { env: { mem } });
      new Float64Array(mem.buffer, 0, spec.table.length).set(spec.table);
      V = new spec.View(mem.buffer);
      I32V = new Int32Array(mem.buffer);
      kernel = inst.exports.map as (...a: number[]) => void;
    } catch {
      // no Wasm SIMD here: the JS loop
    }
  }

  const { scalar } = spec;
  const src = SRC / eb, dst = DST / eb;
  return {
    run(x: A, out: A, n = out.length): void {
      if (kernel === undefined) init();
      if (!kernel || n < 16) {
        for (let i = 0; i < n; i++) out[i] = scalar(x[i]!);
        return;
      }
      for (let i0 = 0; i0 < n; i0 += CHUNK) {
        const c = Math.min(CHUNK, n - i0);
        V.set(x.subarray(i0, i0 + c), src);
        if (c & 1) V[src + c] = 0;
        kernel(SRC, DST, c + (c & 1), LIST, COUNT);
        out.set(V.subarray(dst, dst + c), i0);
        const redo = I32V[COUNT / 4]!;
        for (let k = 0; k < redo; k++) {
          const j = I32V[LIST / 4 + k]!;
          // from the chunk's copy: x[i0 + j] is already overwritten when out is x
          if (j < c) out[i0 + j] = scalar(V[src + j]!);
        }
      }
    },
    available(): boolean {
      if (kernel === undefined) init();
      return kernel !== null;
    },
  };
}
