/// <reference types="@webgpu/types" />
import { bytesPerElement, type DType, type TypedArray } from '../../dtype.js';
import { BackendError, ConfigError, DTypeError } from '../../errors.js';
import type { Backend, OutSpec, TensorInfo } from '../backend.js';
import { adapterLabel, releaseDevice, type AcquiredDevice, type AdapterDescription } from './device.js';
import { BufferPool } from './pool.js';
import type { GpuHandle, GpuInput, GpuKernel, KernelContext } from './kernels/common.js';
import { builtinKernels } from './kernels/registry.js';
import { ELEMENTWISE_GPU_OPS, expressionFor } from './kernels/elementwise.js';
import { userKernel } from './kernels/user.js';
import { allocTyped, alignUp4, sizeOfShape, STORAGE_USAGE, type Handle, type Storage } from './storage.js';
import { ConstCache } from './consts.js';
import { Encoder } from './encoder.js';
import { DeferredChecks } from './checks.js';
import { LazyFusion } from './lazy.js';
import { TileTuner } from './tile-tuner.js';

/**
 * The WebGPU backend. `run` records compute dispatches into one command encoder (one open
 * compute pass; WebGPU orders successive dispatches in a pass) and submits every
 * `batchSize` dispatches, or when a value is read, or at the end of the current synchronous
 * turn (a microtask). Nothing waits for the GPU except `read`, which copies into a MAP_READ
 * staging buffer and awaits `mapAsync`. float32 and int32 only (WGSL has no f64).
 */

/**
 * The ops lazy fusion inlines (the jit compiler, src/jit/webgpu, fuses the same); broadcastTo joins
 * too: in a fused kernel it is only an index map of a leaf.
 */
export const FUSABLE = new Set<string>([...ELEMENTWISE_GPU_OPS, 'broadcastTo']);

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
  /**
   * Time the matmul's tile configurations on the GPU the first time a large product of a new
   * shape class runs, and use the fastest from then on (tile-tuner.ts). Default: on where the
   * device has 'timestamp-query' and is not a software (fallback) adapter.
   */
  tuneMatmul?: boolean;
  /**
   * Split long sums with few outputs — a product's K (Xᵀr: a linear model's gradient), a
   * reduction's axis (a sum over the data) — across the threads of workgroups and across
   * workgroups (kernels/split-sums.ts). Default: on, except on a software (fallback) adapter, whose
   * workgroup barriers cost more than the split gains. The sums' order changes (fixed for a
   * device), within the float32 bound of any order.
   */
  splitSums?: boolean;
  /**
   * Sum within a workgroup with subgroup operations where the device and WGSL have them (reductions,
   * the split dot products, a convolution's weight gradient). Default true; false: trees in
   * workgroup memory only.
   */
  subgroups?: boolean;
}

/**
 * The backend is a façade over its parts: buffers and their refcounts here, the constant cache
 * (consts.ts), the command encoder with its pipeline / bind group / metadata caches (encoder.ts),
 * elementwise fusion (lazy.ts) and deferred checks (checks.ts).
 */
export class WebGPUBackend implements Backend {
  readonly name = 'webgpu';
  readonly defaultFloat: DType = 'float32';
  readonly device: GPUDevice;
  readonly adapterInfo: AdapterDescription;
  private readonly pool: BufferPool;
  private readonly staging: BufferPool;
  private readonly kernels = new Map<string, GpuKernel>(Object.entries(builtinKernels));
  private readonly encoder: Encoder;
  private readonly consts: ConstCache;
  private readonly checks: DeferredChecks;
  private readonly lazy: LazyFusion;
  /** the matmul's tile autotuner */
  readonly tiles: TileTuner;
  /** Whether long sums with few outputs are split across workgroups (the `splitSums` option). */
  readonly splitSums: boolean;
  /** Whether workgroup sums use subgroup operations (the device has them and the `subgroups` option allows). */
  readonly subgroups: boolean;
  private readonly zero: GPUBuffer;
  private flushScheduled = false;
  private lostReason: string | null = null;
  private errors: string[] = [];
  private disposed = false;
  private readonly finalizer: FinalizationRegistry<Storage>;
  /** handles made since the last adoption, and those that outlived it (see `track`) */
  private readonly young: Handle[] = [];
  private readonly middle: Handle[] = [];
  /** Counters for tests and benchmarks. */
  readonly stats = { dispatches: 0, submits: 0, pipelines: 0, uploads: 0, reads: 0, bindGroups: 0, fusedOps: 0 };
  /**
   * Elementwise fusion (lazy.ts): an elementwise op returns a lazy result that same-size
   * elementwise consumers inline, computed as one kernel when something else needs it. Turning
   * it off makes every op its own dispatch (for comparison and debugging).
   */
  fuse: boolean;
  private readonly ctx: KernelContext;

  constructor(acq: AcquiredDevice, opts: WebGPUBackendOptions = {}) {
    this.device = acq.device;
    this.adapterInfo = acq.info;
    this.fuse = opts.fuse ?? true;
    this.splitSums = opts.splitSums ?? !acq.info.isFallbackAdapter;
    this.subgroups = (opts.subgroups ?? true) && acq.subgroups;
    this.encoder = new Encoder(
      this.device,
      {
        batchSize: opts.batchSize ?? 64,
        metaCacheSize: opts.metaCacheSize ?? 4096,
        bindGroupCacheSize: opts.bindGroupCacheSize ?? 4096,
        pipelineCacheSize: opts.pipelineCacheSize ?? 1024,
      },
      this.stats,
      {
        opened: () => this.scheduleFlush(),
        full: () => this.flush(),
        upload: (words) => {
          const pooled = this.pool.acquire(words.byteLength, true);
          this.device.queue.writeBuffer(pooled.buffer, 0, words.buffer, words.byteOffset, words.byteLength);
          return { buffer: pooled.buffer, release: () => this.pool.release(pooled) };
        },
      },
    );
    this.consts = new ConstCache(this.device, opts.constCacheSize ?? 64, this.stats);
    this.pool = new BufferPool(this.device, STORAGE_USAGE(), undefined, (b) => this.encoder.forgetBuffer(b));
    this.staging = new BufferPool(this.device, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 64 << 20);
    this.checks = new DeferredChecks(this.device, this.staging);
    // a software adapter (lavapipe) runs each timed candidate at CPU speed: 39 extra products of a
    // 1024² matmul cost seconds there, so it tunes only when asked
    const timestamps = !!this.device.features?.has('timestamp-query');
    this.tiles = new TileTuner(
      {
        device: this.device,
        staging: this.staging,
        maxBinding: this.device.limits.maxStorageBufferBindingSize,
        prepare: (code, kinds) => this.encoder.prepareAsync(code, kinds, true),
        dispatchTimed: (code, buffers, kinds, meta, groups, querySet, at) => this.encoder.dispatchTimed(code, buffers, kinds, meta, groups, querySet, at),
        flushSoon: () => this.scheduleFlush(),
        get disposed() {
          return self.disposed;
        },
      },
      (opts.tuneMatmul ?? !acq.info.isFallbackAdapter) && timestamps,
    );
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
        if (s.lazy) this.lazy.drop(s);
        if (s.pooled) this.pool.release(s.pooled);
      }
    });
    const self = this;
    this.lazy = new LazyFusion({
      device: this.device,
      pool: this.pool,
      zero: this.zero,
      track: (h) => self.track(h),
      stats: this.stats,
      get disposed() {
        return self.disposed;
      },
      dispatch: (code, buffers, kinds, meta, groups) => self.encoder.dispatch(code, buffers, kinds, meta, groups),
      releaseStorage: (s) => self.releaseStorage(s),
      scheduleFlush: () => self.scheduleFlush(),
    });
    this.ctx = {
      device: this.device,
      limits: this.device.limits,
      output: (spec: OutSpec) => self.alloc(sizeOfShape(spec.shape) * bytesPerElement(spec.dtype)),
      scratch: (bytes: number) => self.alloc(bytes),
      free: (h: GpuHandle) => self.release(h),
      dispatch: (code, buffers, kinds, meta, groups) => self.encoder.dispatch(code, buffers, kinds, meta, groups),
      copy: (src, so, dst, dOff, bytes) => self.encoder.copy(src, so, dst, dOff, bytes),
      clear: (buf, bytes) => self.encoder.clear(buf, bytes),
      status: (error, kind) => self.checks.status(error, kind ?? 'numerical'),
      tiles: this.tiles,
      splitSums: this.splitSums,
      subgroups: this.subgroups,
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
    this.track(h);
    return h;
  }

  /**
   * Puts a new handle under the garbage-collection safety net. Registering with a
   * FinalizationRegistry costs more than the rest of an allocation, and most handles are released
   * soon (a step's intermediates within its turn, its results in the next), so a handle is
   * registered only once it has outlived two adoptions (at the end of each turn, and every 1024
   * new handles in a long synchronous loop). Until then `young` or `middle` holds it, so it cannot
   * be collected unseen.
   */
  private track(h: Handle): void {
    if (this.young.push(h) === 1) this.scheduleFlush();
    else if (this.young.length >= 1024) this.adoptYoung();
  }

  private adoptYoung(): void {
    const middle = this.middle;
    for (let i = 0; i < middle.length; i++) {
      const h = middle[i]!;
      const s = h.s;
      if (s.refs > 0 && !s.tracked) {
        s.tracked = true;
        this.finalizer.register(h, s, s);
      }
    }
    middle.length = 0;
    const young = this.young;
    for (let i = 0; i < young.length; i++) if (young[i]!.s.refs > 0) middle.push(young[i]!);
    young.length = 0;
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
      const c = this.consts.constant(values, dtype);
      if (c) return c;
    }
    const h = this.alloc(bytes, true);
    if (bytes > 0) {
      this.device.queue.writeBuffer(h.buffer, 0, values.buffer, values.byteOffset, bytes);
      this.stats.uploads++;
    }
    return h;
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

  /** @internal drops one ref of a storage (its lazy expression, or its buffer, goes at the last) */
  releaseStorage(s: Storage): void {
    if (s.refs <= 0) return;
    if (--s.refs === 0) {
      if (s.constKey !== undefined) {
        s.freeGen = this.stats.submits; // stays cached
        return;
      }
      if (s.tracked) {
        s.tracked = false;
        this.finalizer.unregister(s);
      }
      // a lazy result nobody needs is never computed
      if (s.lazy) this.lazy.drop(s);
      if (s.pooled && !this.disposed) this.pool.release(s.pooled);
    }
  }

  /**
   * The outermost tidy scope ended: the lazy results still pending are what it returned (its
   * intermediates were disposed, and never computed). Computing them now keeps a synchronous
   * training loop from inlining each step's state into the next step's expressions, which would
   * grow a new kernel shape every step.
   */
  scopeEnded(): void {
    if (!this.disposed && !this.lostReason && this.lazy.size) this.lazy.forceAll();
  }

  async read(handle: unknown, dtype: DType, size: number): Promise<TypedArray> {
    this.check('read');
    const h = handle as Handle;
    const bytes = size * bytesPerElement(dtype);
    if (bytes === 0) return allocTyped(dtype, 0);
    if (h.s.refs <= 0) throw new ConfigError('webgpu: read() of a released buffer.');
    this.lazy.force(h);
    const st = this.staging.acquire(bytes, false);
    this.encoder.endPass();
    this.encoder.enc().copyBufferToBuffer(h.buffer, 0, st.buffer, 0, alignUp4(bytes));
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
    await this.checks.throwFailed(submit);
    return copy;
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
    this.lazy.forceAll();
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.throwErrors();
    await this.checks.throwFailed();
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
    if (this.fuse && FUSABLE.has(op) && outs.length === 1 && sizeOfShape(outs[0]!.shape) > 0 && this.kernels.get(op) === (builtinKernels as Partial<Record<string, GpuKernel>>)[op]) {
      // validates dtypes as the plain kernel would (e.g. no int32 pow), before anything is deferred
      if (op !== 'broadcastTo') expressionFor(op, inputs.map((i) => i.dtype), outs[0]!.dtype);
      return [this.lazy.elementwise(op, inputs, outs[0]!)];
    }
    const ins: GpuInput[] = inputs.map((i) => {
      const h = i.handle as Handle;
      this.lazy.force(h);
      return { shape: i.shape, dtype: i.dtype, buffer: h.buffer, size: sizeOfShape(i.shape) };
    });
    const res = kernel(this.ctx, ins, params, outs);
    if (res.length !== outs.length) throw new BackendError(`webgpu kernel '${op}' returned ${res.length} outputs, expected ${outs.length}.`);
    return res;
  }

  // ---------------------------------------------------------------------------------------------
  // submitting

  /** @internal submits (computing pending lazy results first) at the end of the synchronous turn */
  scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      if (!this.disposed && !this.lostReason) {
        this.adoptYoung();
        try {
          this.lazy.forceAll();
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
    this.encoder.endPass();
    const checks = this.checks.pending ? this.checks.encode(this.encoder.enc()) : null;
    const timings = this.tiles.pending ? this.tiles.encode(this.encoder.enc()) : null;
    this.encoder.submit();
    if (checks) this.checks.read(checks.staging, checks.list, this.stats.submits);
    if (timings) this.tiles.read(timings);
    this.pool.flushed();
  }

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
      metaBytes: this.encoder.metaBytes,
      buffersCreated: this.pool.created,
      bindGroups: this.encoder.bindGroups,
      constBytes: this.consts.bytes,
      constBuffers: this.consts.size,
      pipelines: this.encoder.pipelineSources,
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
    this.young.length = 0;
    this.middle.length = 0;
    this.pool.destroyAll();
    this.staging.destroyAll();
    this.consts.destroy();
    this.encoder.destroy();
    this.checks.destroy();
    releaseDevice(this.device);
  }
}
