/**
 * One helper thread for large matmuls (this targets 2-core machines), kept synchronous: the main
 * thread posts a list of kernel calls into a SharedArrayBuffer, wakes the helper with
 * Atomics.notify, computes its own share of the B panels (columns of C), then blocks in
 * Atomics.wait until the helper has done the rest. Both instances share one Wasm memory; the
 * column split means they never write the same bytes.
 *
 * The worker is unref'd, so it never keeps the process alive; until it reports ready, callers
 * simply run everything on the main thread.
 */
import type { Worker as NodeWorker } from 'node:worker_threads';

// Resolved at run time (never a static import), so the CPU backend also loads in browsers,
// where there is no worker_threads and matmul simply stays on the calling thread.
type WorkerCtor = new (src: string, opts: object) => NodeWorker;
const nodeProcess = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown; env?: Record<string, string | undefined> } }).process;
const WorkerImpl = (nodeProcess?.getBuiltinModule?.('node:worker_threads') as { Worker?: WorkerCtor } | undefined)?.Worker;

/** Whether a helper thread can exist here (Node with worker_threads and shared memory, not disabled). */
export const threadsAvailable =
  WorkerImpl !== undefined && typeof SharedArrayBuffer === 'function' && !nodeProcess?.env?.BAYESTAPE_MATMUL_NO_THREADS;
import type { WasmMemory, WasmModule } from './wasm-api.js';

/** Call record: [fn, ap, aRS, aKS, bp, bPS, bKS, cp, ldc, mPanels, nPanels, kc, accumulate, colBytes]. */
export const REC = 14;
const HEAD = 8; // [seq, done, ready, nCalls, lo, hi, failed, -]
const [SEQ, DONE, READY, NCALLS, LO, HI, FAILED] = [0, 1, 2, 3, 4, 5, 6];
export const MAX_CALLS = 4096;

const WORKER_SRC = `
const { workerData } = require('node:worker_threads');
const { module, memory, ctrl, names } = workerData;
const inst = new WebAssembly.Instance(module, { env: { mem: memory } });
const fns = names.map((n) => inst.exports[n]);
const c = new Int32Array(ctrl);
Atomics.store(c, ${READY}, 1);
let seen = 0;
for (;;) {
  Atomics.wait(c, ${SEQ}, seen);
  seen = Atomics.load(c, ${SEQ});
  try {
    const lo = c[${LO}], hi = c[${HI}];
    for (let i = 0, r = ${HEAD}; i < c[${NCALLS}]; i++, r += ${REC}) {
      fns[c[r]](c[r + 1], c[r + 2], c[r + 3], c[r + 4] + lo * c[r + 5], c[r + 5], c[r + 6],
        c[r + 7] + lo * c[r + 13], c[r + 8], c[r + 9], hi - lo, c[r + 11], c[r + 12]);
    }
  } catch (e) {
    Atomics.store(c, ${FAILED}, 1);
  }
  Atomics.store(c, ${DONE}, seen);
  Atomics.notify(c, ${DONE});
}
`;

export class Helper {
  /** Call records to fill: HEAD-offset view the driver writes into via `record`. */
  readonly ctrl = new Int32Array(new SharedArrayBuffer((HEAD + MAX_CALLS * REC) * 4));
  private seq = 0;

  constructor(module: WasmModule, memory: WasmMemory, names: string[]) {
    const w = new WorkerImpl!(WORKER_SRC, { eval: true, workerData: { module, memory, ctrl: this.ctrl.buffer, names } });
    w.unref();
    w.on('error', () => { /* the helper never reports ready or fails a job; the main thread copes */ });
  }

  get ready(): boolean { return Atomics.load(this.ctrl, READY) === 1; }

  /** Offset in `ctrl` of call record i. */
  static rec(i: number): number { return HEAD + i * REC; }

  /** Starts the helper on panels [lo, hi) of the first nCalls records. */
  start(nCalls: number, lo: number, hi: number): void {
    const c = this.ctrl;
    c[NCALLS] = nCalls; c[LO] = lo; c[HI] = hi;
    Atomics.store(c, SEQ, ++this.seq);
    Atomics.notify(c, SEQ);
  }

  /** Blocks until the helper finished the job started last. */
  join(): void {
    const c = this.ctrl;
    for (;;) {
      const d = Atomics.load(c, DONE);
      if (d === this.seq) break;
      Atomics.wait(c, DONE, d);
    }
    if (Atomics.exchange(c, FAILED, 0)) throw new Error('matmul helper thread failed');
  }
}
