/// <reference types="@webgpu/types" />
import { bytesPerElement, type DType, type TypedArray } from '../../dtype.js';
import { BackendError, ConfigError, DTypeError, NumericalError, ShapeError } from '../../errors.js';
import type { Backend, OutSpec, TensorInfo } from '../backend.js';
import { sizeOf as sizeOfShape } from '../../shape.js';
import { adapterLabel, releaseDevice, type AcquiredDevice, type AdapterDescription } from './device.js';
import { BufferPool, type PooledBuffer } from './pool.js';
import { threadGrid, type BindKind, type GpuHandle, type GpuInput, type GpuKernel, type KernelContext } from './kernels/common.js';
import { builtinKernels } from './kernels/registry.js';
import { ELEMENTWISE_GPU_OPS, expressionFor } from './kernels/elementwise.js';
import { fusedKernel, type FusedExpr, type FusedNode } from './fusion.js';
import { userKernel } from './kernels/user.js';

/**
 * The WebGPU backend. `run` records compute dispatches into one command encoder (one open
 * compute pass; WebGPU orders successive dispatches in a pass) and submits every
 * `batchSize` dispatches, or when a value is read, or at the end of the current synchronous
 * turn (a microtask). Nothing waits for the GPU except `read`, which copies into a MAP_READ
 * staging buffer and awaits `mapAsync`. float32 and int32 only (WGSL has no f64).
 */

/** A tensor's storage: a pooled buffer shared by views (reshape) and refcounted. */
interface Storage {
  pooled: PooledBuffer | null; // null: the shared 4-byte buffer of a zero-size tensor, or not computed yet (lazy)
  buffer: GPUBuffer;
  readonly bytes: number;
  refs: number;
  /** a cached constant (see `upload`): at 0 refs it stays cached, never back in the pool */
  constKey?: number;
  /** the submit count when its refs last went to 0 (a recycled constant buffer is rewritten only
   * once every command buffer that read it was submitted) */
  freeGen?: number;
  /** an elementwise result not computed yet (see `fuse`) */
  lazy?: Lazy;
}

/**
 * A pending elementwise expression and the handles whose buffers it reads (one ref each on their
 * storage). Handles, not storages: holding the handle keeps the FinalizationRegistry safety net
 * from reclaiming a buffer this expression still reads after its tensors were dropped.
 */
interface Lazy {
  readonly root: FusedNode;
  readonly reads: Handle[];
  readonly shape: readonly number[];
  readonly handle: Handle;
  /** how many lazy results inlined this one (an intermediate: computing it alone is wasted work) */
  consumers: number;
  /** creation order among lazy results */
  readonly seq: number;
}

/** Nodes per fused kernel: beyond this, an input is computed rather than inlined. */
const MAX_FUSED_NODES = 48;
/** Pending lazy results: beyond this, the kept-looking ones are computed (see forceKept). */
const MAX_PENDING_LAZY = 32;
/** Lazy results among the last this many created count as recent (perhaps awaiting a consumer). */
const RECENT_LAZY = 16;
/** broadcastTo joins too: in a fused kernel it is only an index map of a leaf */
const FUSABLE = new Set([...ELEMENTWISE_GPU_OPS, 'broadcastTo']);

/** A deferred check (see KernelContext.status): its status word, and how to word its error. */
type CheckKind = 'numerical' | 'shape';
interface Check {
  readonly buf: GPUBuffer;
  readonly error: (code: number) => string;
  readonly kind: CheckKind;
}

/** A cached 1-element constant buffer. */
interface ConstEntry {
  readonly s: Storage;
  used: number;
}

interface Handle extends GpuHandle {
  s: Storage;
  buffer: GPUBuffer;
}

export interface WebGPUBackendOptions {
  /** Dispatches per submitted command buffer (TF.js uses 15). */
  batchSize?: number;
  /** Fuse chains of elementwise ops into one kernel (default true; see `fuse`). */
  fuse?: boolean;
  /** Distinct metadata buffers (shapes, strides) kept by content. */
  metaCacheSize?: number;
  /** Bind groups kept by (layout, buffers); createBindGroup dominates the host cost of a dispatch. */
  bindGroupCacheSize?: number;
  /** 1-element constants (scalar operands, gradient seeds) kept by value. */
  constCacheSize?: number;
  /** Distinct shader sources whose compiled pipelines are kept (first in, first out beyond). */
  pipelineCacheSize?: number;
}

/** A cached bind group and the ids of the buffers it binds (for invalidation). */
interface BgEntry {
  readonly key: string;
  readonly bg: GPUBindGroup;
  readonly ids: number[];
  used: number;
}

/** A metadata buffer cached by content. */
interface MetaEntry {
  readonly hash: number;
  readonly words: Uint32Array;
  readonly buf: GPUBuffer;
  readonly id: number;
  used: number;
}

interface Layout {
  bgl: GPUBindGroupLayout;
  pl: GPUPipelineLayout;
  code: number;
}

/** a 1-element upload is cached once it has come in this many different submits */
const CONST_ADMIT = 3;

const STORAGE_USAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

export class WebGPUBackend implements Backend {
  readonly name = 'webgpu';
  readonly defaultFloat: DType = 'float32';
  readonly device: GPUDevice;
  readonly adapterInfo: AdapterDescription;
  private readonly pool: BufferPool;
  private readonly staging: BufferPool;
  private readonly kernels = new Map<string, GpuKernel>(builtinKernels);
  /** pipelines by shader source (memoised strings, so lookups hash nothing new), then layout code */
  private readonly pipelines = new Map<string, Map<number, GPUComputePipeline>>();
  private readonly layouts = new Map<number, Layout>();
  /** metadata buffers by a hash of their words (collisions chained) */
  private readonly metaCache = new Map<number, MetaEntry[]>();
  private metaCount = 0;
  private metaBytes = 0;
  /** ids of GPUBuffers (never reused), for bind group keys */
  private readonly bufIds = new WeakMap<GPUBuffer, number>();
  private nextBufId = 1;
  private readonly bgCache = new Map<string, BgEntry>();
  /** bind group entries by the id of each buffer they bind */
  private readonly bgByBuffer = new Map<number, Set<BgEntry>>();
  private readonly bgCacheSize: number;
  private tick = 0;
  /** cached 1-element constants by key (dtype, bit pattern); see `upload` */
  private readonly consts = new Map<number, ConstEntry>();
  /** constants not cached yet: the last submit count in which each came, and in how many submits.
   * A value is cached once it comes in CONST_ADMIT different submits: values that live one step
   * only (Adam's 1 - β^t, used 3 times in one step) would churn the cache. */
  private readonly constSeen = new Map<number, { gen: number; n: number }>();
  private readonly constCacheSize: number;
  private readonly pipelineCacheSize: number;
  private constBytes = 0;
  private readonly constBits = new Uint32Array(1);
  private readonly metaToDestroy: GPUBuffer[] = [];
  private readonly zero: GPUBuffer;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  /** what the open pass last set (redundant setPipeline/setBindGroup calls are skipped) */
  private passPipe: GPUComputePipeline | null = null;
  private passBg: GPUBindGroup | null = null;
  private pendingDispatches = 0;
  private flushScheduled = false;
  private readonly batchSize: number;
  private readonly metaCacheSize: number;
  /** Deferred checks (see KernelContext.status): status words written since the last submit,
   * each with the wording of its error. */
  private checks: Check[] = [];
  /** status words copied out and cleared, ready for the next check */
  private readonly statusFree: GPUBuffer[] = [];
  /** readbacks of submitted status words not yet mapped */
  private readonly checksInFlight = new Map<Promise<void>, number>();
  /** the first failed check since the last read or sync, thrown by the next one */
  private failedCheck: { message: string; kind: CheckKind; submit: number } | null = null;
  private lostReason: string | null = null;
  private errors: string[] = [];
  private disposed = false;
  private readonly finalizer: FinalizationRegistry<Storage>;
  /** Counters for tests and benchmarks. */
  readonly stats = { dispatches: 0, submits: 0, pipelines: 0, uploads: 0, reads: 0, bindGroups: 0, fusedOps: 0 };
  /**
   * Elementwise fusion. An elementwise op returns a lazy result; an elementwise consumer of the
   * same size inlines it, and it is computed (one kernel for the whole chain) when anything else
   * needs its buffer — another kernel, a read — or at the end of the synchronous turn. Turning
   * it off makes every op its own dispatch (for comparison and debugging).
   */
  fuse: boolean;
  /** lazy results not computed yet, computed at the end of the turn */
  private readonly pendingLazy = new Set<Storage>();
  private lazySeq = 0;
  private readonly ctx: KernelContext;

  constructor(acq: AcquiredDevice, opts: WebGPUBackendOptions = {}) {
    this.device = acq.device;
    this.adapterInfo = acq.info;
    this.batchSize = opts.batchSize ?? 64;
    this.fuse = opts.fuse ?? true;
    this.metaCacheSize = opts.metaCacheSize ?? 4096;
    this.bgCacheSize = opts.bindGroupCacheSize ?? 4096;
    this.constCacheSize = opts.constCacheSize ?? 64;
    this.pipelineCacheSize = opts.pipelineCacheSize ?? 1024;
    this.pool = new BufferPool(this.device, STORAGE_USAGE(), undefined, (b) => this.forgetBuffer(b));
    this.staging = new BufferPool(this.device, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 64 << 20);
    this.zero = this.device.createBuffer({ size: 16, usage: STORAGE_USAGE(), label: 'bt-zero-size' });
    this.device.lost.then((info) => {
      if (!this.disposed) this.lostReason = `${info.reason}: ${info.message}`;
    });
    const onError = (ev: Event) => {
      const err = (ev as GPUUncapturedErrorEvent).error;
      if (this.errors.length < 16) this.errors.push(err?.message ?? String(err));
    };
    const dev = this.device as GPUDevice & { addEventListener?: unknown };
    if (typeof dev.addEventListener === 'function') this.device.addEventListener('uncapturederror', onError);
    else (this.device as { onuncapturederror: unknown }).onuncapturederror = onError;
    // safety net: storage whose tensors were garbage-collected without dispose() goes back to the pool
    this.finalizer = new FinalizationRegistry((s: Storage) => {
      if (s.refs > 0 && !this.disposed) {
        s.refs = 0;
        if (s.lazy) this.dropLazy(s);
        if (s.pooled) this.pool.release(s.pooled);
      }
    });
    const self = this;
    this.ctx = {
      device: this.device,
      limits: this.device.limits,
      output: (spec: OutSpec) => self.alloc(sizeOfShape(spec.shape) * bytesPerElement(spec.dtype)),
      scratch: (bytes: number) => self.alloc(bytes),
      free: (h: GpuHandle) => self.release(h),
      dispatch: (code, buffers, kinds, meta, groups) => self.dispatch(code, buffers, kinds, meta, groups),
      copy: (src, so, dst, dOff, bytes) => self.copy(src, so, dst, dOff, bytes),
      clear: (buf, bytes) => self.clear(buf, bytes),
      status: (error, kind) => self.status(error, kind ?? 'numerical'),
    };
  }

  get adapterLabel(): string {
    return adapterLabel(this.adapterInfo);
  }

  // ---------------------------------------------------------------------------------------------
  // buffers

  private check(op: string): void {
    if (this.disposed) throw new BackendError(`webgpu: ${op} after the backend was disposed.`);
    if (this.lostReason) {
      throw new BackendError(`webgpu: the GPU device was lost (${this.lostReason}); ${op} cannot run. Tensors on other backends are unaffected; re-create the backend to continue on the GPU.`);
    }
  }

  private alloc(bytes: number, forUpload = false): Handle {
    if (bytes === 0) {
      const s: Storage = { pooled: null, buffer: this.zero, bytes: 0, refs: 1 };
      return { s, buffer: this.zero, bytes: 0 };
    }
    const max = this.device.limits.maxStorageBufferBindingSize;
    if (bytes > max) {
      throw new BackendError(`webgpu: a buffer of ${bytes} bytes exceeds this device's maxStorageBufferBindingSize (${max} bytes). Split the tensor, or run this op on the CPU.`);
    }
    const pooled = this.pool.acquire(bytes, forUpload);
    const s: Storage = { pooled, buffer: pooled.buffer, bytes, refs: 1 };
    const h: Handle = { s, buffer: pooled.buffer, bytes };
    this.finalizer.register(h, s, s);
    return h;
  }

  upload(values: TypedArray, dtype: DType): unknown {
    this.check('upload');
    if (dtype === 'float64' || values instanceof Float64Array) {
      throw new DTypeError(
        "webgpu: float64 tensors are not supported (WGSL has no 64-bit floats). Use dtype 'float32' " +
          "(e.g. bt.tensor(values, { dtype: 'float32' })), or cast on the CPU first: bt.withBackend('cpu', () => x.astype('float32')).",
      );
    }
    const bytes = values.length * 4;
    if (bytes === 4) {
      const c = this.constant(values, dtype);
      if (c) return c;
    }
    const h = this.alloc(bytes, true);
    if (bytes > 0) {
      this.device.queue.writeBuffer(h.buffer, 0, values.buffer, values.byteOffset, bytes);
      this.stats.uploads++;
    }
    return h;
  }

  /**
   * A 1-element upload from the constant cache (number operands such as `x.mul(2)`, gradient
   * seeds, mean divisors come every step). Keyed by (dtype, bit pattern); refcounted like any
   * storage, but a cached buffer is never overwritten nor returned to the pool while cached (it
   * is only read: kernels write to fresh outputs). A value is cached once it has come in
   * CONST_ADMIT different submits (command buffers).
   */
  private constant(values: TypedArray, dtype: DType): Handle | null {
    // the raw bits (exactly what writeBuffer would copy; NaN payloads included)
    this.constBits[0] = new Uint32Array(values.buffer, values.byteOffset, 1)[0]!;
    const key = this.constBits[0]! + (dtype === 'int32' ? 2 ** 32 : 0);
    const hit = this.consts.get(key);
    if (hit) {
      hit.used = ++this.tick;
      hit.s.refs++;
      return { s: hit.s, buffer: hit.s.buffer, bytes: 4 };
    }
    const gen = this.stats.submits;
    const seen = this.constSeen.get(key);
    if (!seen) {
      if (this.constSeen.size >= 4 * this.constCacheSize) this.constSeen.clear();
      this.constSeen.set(key, { gen, n: 1 });
      return null;
    }
    if (seen.gen !== gen) {
      seen.gen = gen;
      seen.n++;
    }
    if (seen.n < CONST_ADMIT) return null;
    this.constSeen.delete(key);
    let buffer: GPUBuffer;
    if (this.consts.size < this.constCacheSize) {
      // the cache's own buffers (not the pool's): at most constCacheSize of them, ever
      buffer = this.device.createBuffer({ size: 16, usage: STORAGE_USAGE(), label: 'bt-const' });
      this.constBytes += 16;
    } else {
      // full: recycle the least recently used constant that nothing reads any more
      let victim: ConstEntry | null = null;
      const gen = this.stats.submits;
      for (const c of this.consts.values()) {
        if (c.s.refs === 0 && c.s.freeGen! < gen && (!victim || c.used < victim.used)) victim = c;
      }
      if (!victim) return null;
      this.consts.delete(victim.s.constKey!);
      buffer = victim.s.buffer;
    }
    const s: Storage = { pooled: null, buffer, bytes: 4, refs: 1, constKey: key };
    this.device.queue.writeBuffer(buffer, 0, this.constBits.buffer, 0, 4);
    this.stats.uploads++;
    this.consts.set(key, { s, used: ++this.tick });
    return { s, buffer, bytes: 4 };
  }

  share(handle: unknown): unknown {
    const h = handle as Handle;
    if (h.s.refs <= 0) throw new ConfigError('webgpu: share() of a released buffer.');
    h.s.refs++;
    return h;
  }

  release(handle: unknown): void {
    this.releaseStorage((handle as Handle).s);
  }

  private releaseStorage(s: Storage): void {
    if (s.refs <= 0) return;
    if (--s.refs === 0) {
      if (s.constKey !== undefined) {
        s.freeGen = this.stats.submits; // stays cached
        return;
      }
      this.finalizer.unregister(s);
      // a lazy result nobody needs is never computed
      if (s.lazy) this.dropLazy(s);
      if (s.pooled && !this.disposed) this.pool.release(s.pooled);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // elementwise fusion (see `fuse` and fusion.ts)

  /** An elementwise op as a lazy result, inlining inputs that are lazy results of the same size. */
  private lazyElementwise(op: string, inputs: readonly TensorInfo[], spec: OutSpec): Handle {
    const n = sizeOfShape(spec.shape);
    const bytes = n * bytesPerElement(spec.dtype);
    const max = this.device.limits.maxStorageBufferBindingSize;
    if (bytes > max) {
      // at the call, as without fusion (forcing happens later, where no caller could catch it)
      throw new BackendError(`webgpu: a buffer of ${bytes} bytes exceeds this device's maxStorageBufferBindingSize (${max} bytes). Split the tensor, or run this op on the CPU.`);
    }
    const maxBuffers = this.device.limits.maxStorageBuffersPerShaderStage - 2; // output and metadata
    const args: FusedExpr[] = [];
    const reads: Handle[] = [];
    // a ref is taken as each buffer joins the expression: forcing a later input (which releases
    // that input's own refs) must not free a buffer an earlier, inlined input reads
    let weight = 1;
    for (const info of inputs) {
      const h = info.handle as Handle;
      const lz = h.s.lazy;
      // inlined only when read as computed: the expression's broadcast leaves are laid out for its
      // own shape, so a view of it under another shape (a reshape) reads its buffer instead
      if (lz && sizeOfShape(info.shape) === n && sameUpToLeadingOnes(info.shape, lz.shape) && weight + lz.root.weight <= MAX_FUSED_NODES) {
        args.push(lz.root);
        lz.consumers++;
        for (const r of lz.reads) {
          r.s.refs++;
          reads.push(r);
        }
        weight += lz.root.weight;
      } else {
        if (lz) this.force(h);
        args.push({ kind: 'leaf', buffer: h.s.buffer, shape: info.shape, dtype: info.dtype });
        h.s.refs++;
        reads.push(h);
      }
    }
    if (reads.length > maxBuffers && new Set(reads.map((r) => r.s.buffer)).size > maxBuffers) {
      // too many buffers for one kernel: compute the inputs, read them as plain leaves
      for (const r of reads) this.releaseStorage(r.s);
      return this.lazyElementwise(op, inputs.map((info) => (this.force(info.handle as Handle), info)), spec);
    }
    const root: FusedNode = { kind: 'node', op, args, dtype: spec.dtype, weight };
    const s: Storage = { pooled: null, buffer: this.zero, bytes, refs: 1 };
    const h: Handle = { s, buffer: this.zero, bytes: s.bytes };
    s.lazy = { root, reads, shape: [...spec.shape], handle: h, consumers: 0, seq: this.lazySeq++ };
    this.finalizer.register(h, s, s);
    this.pendingLazy.add(s);
    this.stats.fusedOps++;
    this.scheduleFlush();
    // a kept lazy holds its inputs: bound how many wait, so a long synchronous loop does not
    // hold several times the memory it would without fusion
    if (this.pendingLazy.size > MAX_PENDING_LAZY) this.forceKept();
    return h;
  }

  /** Computes a lazy result into its own buffer (one fused kernel); a no-op for computed ones. */
  private force(h: Handle): void {
    const s = h.s;
    const lz = s.lazy;
    if (!lz) return;
    const k = fusedKernel(lz.root, lz.shape);
    s.pooled = this.pool.acquire(s.bytes, false);
    s.buffer = s.pooled.buffer;
    lz.handle.buffer = s.buffer;
    s.lazy = undefined;
    this.pendingLazy.delete(s);
    this.dispatch(k.code, [...k.buffers, s.buffer], [...k.buffers.map(() => 'r' as const), 'w'], k.meta, threadGrid(sizeOfShape(lz.shape)));
    for (const r of lz.reads) this.releaseStorage(r.s);
  }

  private dropLazy(s: Storage): void {
    const lz = s.lazy!;
    s.lazy = undefined;
    this.pendingLazy.delete(s);
    if (!this.disposed) for (const r of lz.reads) this.releaseStorage(r.s);
  }

  /**
   * Computes the pending results that look kept: no other lazy result inlined them (an inlined
   * one is an intermediate whose consumer holds the same inputs; computing it alone would be a
   * wasted dispatch) and they are not recent (a recent one may be an operand whose consumer is
   * still to come). Everything, if even that leaves too many waiting.
   */
  private forceKept(): void {
    for (const s of [...this.pendingLazy]) {
      const lz = s.lazy;
      if (!lz) continue;
      if (this.lazySeq - lz.seq <= RECENT_LAZY) break; // insertion order: the rest are newer
      if (lz.consumers === 0) this.force(lz.handle);
    }
    if (this.pendingLazy.size > 8 * MAX_PENDING_LAZY) this.forceAll();
  }

  /**
   * The outermost tidy scope ended: the lazy results still pending are what it returned (its
   * intermediates were disposed, and never computed). Computing them now keeps a synchronous
   * training loop from inlining each step's state into the next step's expressions, which would
   * grow a new kernel shape every step.
   */
  scopeEnded(): void {
    if (!this.disposed && !this.lostReason && this.pendingLazy.size) this.forceAll();
  }

  /** Computes every pending lazy result (end of the turn, sync). */
  private forceAll(): void {
    for (const s of [...this.pendingLazy]) if (s.lazy) this.force(s.lazy.handle);
  }

  async read(handle: unknown, dtype: DType, size: number): Promise<TypedArray> {
    this.check('read');
    const h = handle as Handle;
    const bytes = size * bytesPerElement(dtype);
    if (bytes === 0) return allocTyped(dtype, 0);
    if (h.s.refs <= 0) throw new ConfigError('webgpu: read() of a released buffer.');
    this.force(h);
    const st = this.staging.acquire(bytes, false);
    this.endPass();
    this.enc().copyBufferToBuffer(h.buffer, 0, st.buffer, 0, alignUp4(bytes));
    this.flush();
    const submit = this.stats.submits; // this read's submit: checks up to it are reported here
    this.stats.reads++;
    try {
      await st.buffer.mapAsync(GPUMapMode.READ, 0, st.cls);
    } catch (e) {
      this.check('read');
      throw new BackendError(`webgpu: reading a tensor failed: ${(e as Error).message}${this.errorSuffix()}`);
    }
    const copy = allocTyped(dtype, size);
    new Uint8Array(copy.buffer).set(new Uint8Array(st.buffer.getMappedRange(0, st.cls), 0, bytes));
    st.buffer.unmap();
    this.staging.release(st);
    this.staging.flushed();
    this.throwErrors();
    await this.throwFailedChecks(submit);
    return copy;
  }

  // ---------------------------------------------------------------------------------------------
  // deferred checks: kernels cannot throw, so a kernel that finds its input invalid (a matrix not
  // positive definite, an index out of range) stores a code in a status word; the words ride
  // along with each submit and come back asynchronously, and the first failure is thrown — the
  // CPU's NumericalError or ShapeError — at the next read or sync.

  private status(error: (code: number) => string, kind: CheckKind): GPUBuffer {
    // a new buffer is zero (WebGPU clears on creation); a reused one was cleared after its copy
    const buf = this.statusFree.pop() ?? this.device.createBuffer({ size: 4, usage: STORAGE_USAGE(), label: 'bt-status' });
    this.checks.push({ buf, error, kind });
    return buf;
  }

  /** Copies this submit's status words into one staging buffer and clears them for reuse. */
  private encodeChecks(): { staging: PooledBuffer; list: Check[] } {
    const list = this.checks;
    this.checks = [];
    const staging = this.staging.acquire(4 * list.length, false);
    const enc = this.enc();
    list.forEach(({ buf }, i) => {
      enc.copyBufferToBuffer(buf, 0, staging.buffer, 4 * i, 4);
      enc.clearBuffer(buf, 0, 4);
    });
    // commands recorded after this submit see the cleared words
    for (const { buf } of list) this.statusFree.push(buf);
    return { staging, list };
  }

  /** Reads back the status words that rode with submit number `submit`. */
  private readChecks(staging: PooledBuffer, list: Check[], submit: number): void {
    const p: Promise<void> = staging.buffer.mapAsync(GPUMapMode.READ, 0, staging.cls).then(
      () => {
        const words = new Uint32Array(staging.buffer.getMappedRange(0, staging.cls), 0, list.length).slice();
        staging.buffer.unmap();
        this.staging.release(staging);
        const bad = words.findIndex((w) => w !== 0);
        // the earliest failure is the one to report (as the CPU would have thrown at it)
        if (bad >= 0 && (this.failedCheck === null || submit < this.failedCheck.submit)) {
          this.failedCheck = { message: list[bad]!.error(words[bad]!), kind: list[bad]!.kind, submit };
        }
      },
      () => {
        // device lost or backend disposed: check() reports that at the next call
      },
    ).finally(() => this.checksInFlight.delete(p));
    this.checksInFlight.set(p, submit);
  }

  /**
   * Throws the first failed check among those submitted up to `upTo` (a read reports the ops
   * enqueued before it, not ones enqueued while it was waiting; those go to the next read).
   */
  private async throwFailedChecks(upTo = Infinity): Promise<void> {
    for (;;) {
      const pending = [...this.checksInFlight].filter(([, sub]) => sub <= upTo).map(([p]) => p);
      if (!pending.length) break;
      await Promise.all(pending);
    }
    const failed = this.failedCheck;
    if (failed !== null && failed.submit <= upTo) {
      this.failedCheck = null;
      const msg = `${failed.message} (webgpu: reported at this read, the first one after the failing op, since GPU kernels cannot throw)`;
      throw failed.kind === 'shape' ? new ShapeError(msg) : new NumericalError(msg);
    }
  }

  private errorSuffix(): string {
    return this.errors.length ? ` (GPU errors: ${this.errors.join(' | ')})` : '';
  }

  private throwErrors(): void {
    if (this.errors.length) {
      const msg = this.errors.join('\n');
      this.errors = [];
      throw new BackendError(`webgpu: the device reported errors:\n${msg}`);
    }
  }

  async sync(): Promise<void> {
    this.check('sync');
    this.forceAll();
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.throwErrors();
    await this.throwFailedChecks();
  }

  // ---------------------------------------------------------------------------------------------
  // kernels

  hasKernel(op: string): boolean {
    return this.kernels.has(op);
  }

  registerKernel(op: string, kernel: unknown): void {
    this.kernels.set(op, userKernel(op, kernel));
  }

  run(op: string, inputs: readonly TensorInfo[], params: unknown, outs: readonly OutSpec[]): unknown[] {
    this.check(op);
    const kernel = this.kernels.get(op);
    if (!kernel) {
      throw new BackendError(
        `op '${op}' has no kernel on backend 'webgpu'. Run it on a backend that has one (bt.withBackend('cpu', ...)) or give definePrimitive an impl for 'webgpu'.`,
      );
    }
    for (const o of outs) {
      if (o.dtype === 'float64') {
        throw new DTypeError(`${op}: float64 results are not supported on webgpu (WGSL has no 64-bit floats); use float32.`);
      }
    }
    for (const i of inputs) {
      if (i.dtype === 'float64') throw new DTypeError(`${op}: float64 inputs are not supported on webgpu; use float32.`);
      const h = i.handle as Handle;
      if (!h || !h.s || h.s.refs <= 0) throw new ConfigError(`${op}: an input buffer was already released.`);
    }
    if (this.fuse && FUSABLE.has(op) && outs.length === 1 && sizeOfShape(outs[0]!.shape) > 0 && this.kernels.get(op) === builtinKernels.get(op)) {
      // validates dtypes as the plain kernel would (e.g. no int32 pow), before anything is deferred
      if (op !== 'broadcastTo') expressionFor(op, inputs.map((i) => i.dtype), outs[0]!.dtype);
      return [this.lazyElementwise(op, inputs, outs[0]!)];
    }
    const ins: GpuInput[] = inputs.map((i) => {
      const h = i.handle as Handle;
      this.force(h);
      return { shape: i.shape, dtype: i.dtype, buffer: h.buffer, size: sizeOfShape(i.shape) };
    });
    const res = kernel(this.ctx, ins, params, outs);
    if (res.length !== outs.length) throw new BackendError(`webgpu kernel '${op}' returned ${res.length} outputs, expected ${outs.length}.`);
    return res;
  }

  // ---------------------------------------------------------------------------------------------
  // encoding

  private enc(): GPUCommandEncoder {
    if (!this.encoder) {
      this.encoder = this.device.createCommandEncoder();
      this.scheduleFlush();
    }
    return this.encoder;
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      if (!this.disposed && !this.lostReason) {
        try {
          this.forceAll();
        } catch (e) {
          // no caller to throw to at the end of a turn: report it at the next read or sync
          if (this.errors.length < 16) this.errors.push(`computing a fused elementwise result failed: ${(e as Error).message}`);
        }
        this.flush();
      }
    });
  }

  /** Submits everything encoded so far. */
  flush(): void {
    this.endPass();
    const checks = this.checks.length ? this.encodeChecks() : null;
    if (this.encoder) {
      const cb = this.encoder.finish();
      this.encoder = null;
      this.device.queue.submit([cb]);
      this.stats.submits++;
    }
    if (checks) this.readChecks(checks.staging, checks.list, this.stats.submits);
    this.pendingDispatches = 0;
    this.pool.flushed();
    for (const b of this.metaToDestroy) b.destroy();
    this.metaToDestroy.length = 0;
  }

  /** The layout for these binding kinds: bit 0 meta, bits 1-5 the count, bits 6.. the 'w' mask. */
  private layout(kinds: BindKind[], hasMeta: boolean): Layout {
    const n = kinds.length;
    let code = (hasMeta ? 1 : 0) | (n << 1);
    for (let i = 0; i < n; i++) if (kinds[i] === 'w') code += 2 ** (6 + i);
    let lay = this.layouts.get(code);
    if (!lay) {
      const entries: GPUBindGroupLayoutEntry[] = kinds.map((k, i) => ({
        binding: i,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: k === 'w' ? 'storage' : 'read-only-storage' },
      }));
      if (hasMeta) entries.push({ binding: n, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'read-only-storage' } });
      const bgl = this.device.createBindGroupLayout({ entries });
      lay = { bgl, pl: this.device.createPipelineLayout({ bindGroupLayouts: [bgl] }), code };
      this.layouts.set(code, lay);
    }
    return lay;
  }

  private pipeline(code: string, lay: Layout): GPUComputePipeline {
    let byLayout = this.pipelines.get(code);
    if (!byLayout) {
      // bounded: a program whose fused expressions keep changing would otherwise keep every
      // pipeline it ever compiled (first in, first out; a steady loop uses far fewer)
      if (this.pipelines.size >= this.pipelineCacheSize) this.pipelines.delete(this.pipelines.keys().next().value!);
      this.pipelines.set(code, (byLayout = new Map()));
    }
    let pipe = byLayout.get(lay.code);
    if (!pipe) {
      const module = this.device.createShaderModule({ code });
      pipe = this.device.createComputePipeline({ layout: lay.pl, compute: { module, entryPoint: 'main' } });
      byLayout.set(lay.code, pipe);
      this.stats.pipelines++;
    }
    return pipe;
  }

  private bufId(b: GPUBuffer): number {
    let id = this.bufIds.get(b);
    if (id === undefined) {
      id = this.nextBufId++;
      this.bufIds.set(b, id);
    }
    return id;
  }

  /** A buffer is about to be destroyed: drop the bind groups that bind it. */
  private forgetBuffer(b: GPUBuffer): void {
    const id = this.bufIds.get(b);
    if (id === undefined) return;
    const set = this.bgByBuffer.get(id);
    if (!set) return;
    for (const e of [...set]) this.dropBindGroup(e);
  }

  private dropBindGroup(e: BgEntry): void {
    this.bgCache.delete(e.key);
    for (const id of e.ids) {
      const set = this.bgByBuffer.get(id);
      if (set) {
        set.delete(e);
        if (set.size === 0) this.bgByBuffer.delete(id);
      }
    }
  }

  /** Evicts the least recently used quarter of the bind group cache. */
  private evictBindGroups(): void {
    const all = [...this.bgCache.values()].sort((x, y) => x.used - y.used);
    const n = Math.max(1, all.length >> 2);
    for (let i = 0; i < n; i++) this.dropBindGroup(all[i]!);
  }

  /** An immutable metadata buffer with these u32 words, cached by content. */
  private metaBuffer(words: ArrayLike<number>): MetaEntry {
    const n = words.length;
    let h = n | 0;
    for (let i = 0; i < n; i++) h = Math.imul(h ^ (words[i]! >>> 0), 0x9e3779b1) ^ (h >>> 15);
    let bucket = this.metaCache.get(h);
    if (bucket) {
      outer: for (const e of bucket) {
        const w = e.words;
        if (w.length !== n) continue;
        for (let i = 0; i < n; i++) if (w[i] !== words[i]! >>> 0) continue outer;
        e.used = ++this.tick;
        return e;
      }
    } else {
      this.metaCache.set(h, (bucket = []));
    }
    const size = Math.max(16, alignUp4(n * 4));
    const buf = this.device.createBuffer({ size, usage: GPUBufferUsage.STORAGE, mappedAtCreation: true, label: 'bt-meta' });
    const u = new Uint32Array(buf.getMappedRange());
    for (let i = 0; i < n; i++) u[i] = words[i]! >>> 0;
    const copy = u.slice(0, n);
    buf.unmap();
    const e: MetaEntry = { hash: h, words: copy, buf, id: this.bufId(buf), used: ++this.tick };
    bucket.push(e);
    this.metaCount++;
    this.metaBytes += size;
    if (this.metaCount > this.metaCacheSize) this.evictMeta(e);
    return e;
  }

  /** Evicts the least recently used quarter of the metadata cache (never `keep`). */
  private evictMeta(keep: MetaEntry): void {
    const all: MetaEntry[] = [];
    for (const b of this.metaCache.values()) for (const e of b) if (e !== keep) all.push(e);
    all.sort((x, y) => x.used - y.used);
    const n = Math.max(1, all.length >> 2);
    for (let i = 0; i < n; i++) {
      const e = all[i]!;
      const b = this.metaCache.get(e.hash)!;
      b.splice(b.indexOf(e), 1);
      if (b.length === 0) this.metaCache.delete(e.hash);
      this.metaCount--;
      this.metaBytes -= e.buf.size;
      this.forgetBuffer(e.buf);
      this.metaToDestroy.push(e.buf); // possibly used by the open encoder: destroyed after its submit
    }
  }

  private dispatch(code: string, buffers: GPUBuffer[], kinds: BindKind[], meta: ArrayLike<number> | null, groups: readonly [number, number?, number?]): void {
    const gx = groups[0];
    const gy = groups[1] ?? 1;
    const gz = groups[2] ?? 1;
    if (gx === 0 || gy === 0 || gz === 0) return;
    const lay = this.layout(kinds, meta !== null);
    const pipe = this.pipeline(code, lay);
    const me = meta ? this.metaBuffer(meta) : null;
    const nb = buffers.length;
    let key = lay.code.toString(36);
    for (let i = 0; i < nb; i++) key += ',' + this.bufId(buffers[i]!).toString(36);
    if (me) key += ',' + me.id.toString(36);
    let e = this.bgCache.get(key);
    if (e) {
      e.used = ++this.tick;
    } else {
      const entries: GPUBindGroupEntry[] = buffers.map((b, i) => ({ binding: i, resource: { buffer: b } }));
      if (me) entries.push({ binding: nb, resource: { buffer: me.buf } });
      const bg = this.device.createBindGroup({ layout: lay.bgl, entries });
      this.stats.bindGroups++;
      const ids = buffers.map((b) => this.bufId(b));
      if (me) ids.push(me.id);
      e = { key, bg, ids, used: ++this.tick };
      this.bgCache.set(key, e);
      for (const id of ids) {
        let set = this.bgByBuffer.get(id);
        if (!set) this.bgByBuffer.set(id, (set = new Set()));
        set.add(e);
      }
      if (this.bgCache.size > this.bgCacheSize) this.evictBindGroups();
    }
    let pass = this.pass;
    if (!pass) {
      pass = this.pass = this.enc().beginComputePass();
      this.passPipe = null;
      this.passBg = null;
    }
    if (this.passPipe !== pipe) {
      pass.setPipeline(pipe);
      this.passPipe = pipe;
    }
    if (this.passBg !== e.bg) {
      pass.setBindGroup(0, e.bg);
      this.passBg = e.bg;
    }
    pass.dispatchWorkgroups(gx, gy, gz);
    this.stats.dispatches++;
    if (++this.pendingDispatches >= this.batchSize) this.flush();
  }

  private copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    if (bytes === 0) return;
    this.endPass();
    this.enc().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  private clear(buf: GPUBuffer, bytes: number): void {
    if (bytes === 0) return;
    this.endPass();
    this.enc().clearBuffer(buf, 0, alignUp4(bytes));
  }

  // ---------------------------------------------------------------------------------------------

  memory(): {
    numBytes: number;
    numBuffers: number;
    pooledBytes: number;
    pooledBuffers: number;
    metaBytes: number;
    buffersCreated: number;
    bindGroups: number;
    constBytes: number;
    constBuffers: number;
    /** shader sources with compiled pipelines kept */
    pipelines: number;
  } {
    return {
      numBytes: this.pool.liveBytes,
      numBuffers: this.pool.liveBuffers,
      pooledBytes: this.pool.pooledBytes,
      pooledBuffers: this.pool.pooledBuffers,
      metaBytes: this.metaBytes,
      buffersCreated: this.pool.created,
      bindGroups: this.bgCache.size,
      constBytes: this.constBytes,
      constBuffers: this.consts.size,
      pipelines: this.pipelines.size,
    };
  }

  /** Frees the pooled (unused) buffers now. */
  trim(): void {
    this.flush();
    this.pool.trim(0);
  }

  dispose(): void {
    if (this.disposed) return;
    try {
      if (!this.lostReason) this.flush();
    } catch {
      /* device already gone */
    }
    this.disposed = true;
    this.pool.destroyAll();
    this.staging.destroyAll();
    for (const c of this.consts.values()) c.s.buffer.destroy();
    this.consts.clear();
    this.constBytes = 0;
    for (const b of this.metaCache.values()) for (const e of b) e.buf.destroy();
    this.metaCache.clear();
    this.metaCount = 0;
    for (const b of [...this.statusFree, ...this.checks.map((c) => c.buf)]) b.destroy();
    this.statusFree.length = 0;
    this.checks = [];
    this.bgCache.clear();
    this.bgByBuffer.clear();
    releaseDevice(this.device);
  }
}

/** [1, 1, 3, 4] and [3, 4] index the same flat layout (broadcasting right-aligns shapes). */
function sameUpToLeadingOnes(a: readonly number[], b: readonly number[]): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && a[i] === 1) i++;
  while (j < b.length && b[j] === 1) j++;
  if (a.length - i !== b.length - j) return false;
  for (let k = 0; k < a.length - i; k++) if (a[i + k] !== b[j + k]) return false;
  return true;
}

function alignUp4(n: number): number {
  return (n + 3) & ~3;
}

function allocTyped(dtype: DType, n: number): TypedArray {
  return dtype === 'int32' ? new Int32Array(n) : dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
}
