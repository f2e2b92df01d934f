/// <reference types="@webgpu/types" />
import { bytesPerElement, type DType, type TypedArray } from '../../dtype.js';
import { BackendError, ConfigError, DTypeError } from '../../errors.js';
import type { Backend, OutSpec, TensorInfo } from '../backend.js';
import { adapterLabel, releaseDevice, type AcquiredDevice, type AdapterDescription } from './device.js';
import { BufferPool, type PooledBuffer } from './pool.js';
import type { BindKind, GpuHandle, GpuInput, GpuKernel, KernelContext } from './kernels/common.js';
import { builtinKernels } from './kernels/registry.js';
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
  pooled: PooledBuffer | null; // null: the shared 4-byte buffer of a zero-size tensor
  readonly buffer: GPUBuffer;
  readonly bytes: number;
  refs: number;
}

interface Handle extends GpuHandle {
  s: Storage;
}

export interface WebGPUBackendOptions {
  /** Dispatches per submitted command buffer (TF.js uses 15). */
  batchSize?: number;
  /** Distinct metadata buffers (shapes, strides) kept by content. */
  metaCacheSize?: number;
}

const STORAGE_USAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

export class WebGPUBackend implements Backend {
  readonly name = 'webgpu';
  readonly defaultFloat: DType = 'float32';
  readonly device: GPUDevice;
  readonly adapterInfo: AdapterDescription;
  private readonly pool: BufferPool;
  private readonly staging: BufferPool;
  private readonly kernels = new Map<string, GpuKernel>(builtinKernels);
  /** pipelines by shader source (memoised strings, so lookups hash nothing new), then layout */
  private readonly pipelines = new Map<string, Map<string, GPUComputePipeline>>();
  private readonly layouts = new Map<string, { bgl: GPUBindGroupLayout; pl: GPUPipelineLayout }>();
  private readonly metaCache = new Map<string, GPUBuffer>();
  private metaBytes = 0;
  private readonly metaToDestroy: GPUBuffer[] = [];
  private readonly zero: GPUBuffer;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pendingDispatches = 0;
  private flushScheduled = false;
  private readonly batchSize: number;
  private readonly metaCacheSize: number;
  private lostReason: string | null = null;
  private errors: string[] = [];
  private disposed = false;
  private readonly finalizer: FinalizationRegistry<Storage>;
  /** Counters for tests and benchmarks. */
  readonly stats = { dispatches: 0, submits: 0, pipelines: 0, uploads: 0, reads: 0 };
  private readonly ctx: KernelContext;

  constructor(acq: AcquiredDevice, opts: WebGPUBackendOptions = {}) {
    this.device = acq.device;
    this.adapterInfo = acq.info;
    this.batchSize = opts.batchSize ?? 64;
    this.metaCacheSize = opts.metaCacheSize ?? 4096;
    this.pool = new BufferPool(this.device, STORAGE_USAGE());
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
    const h = handle as Handle;
    const s = h.s;
    if (s.refs <= 0) return;
    if (--s.refs === 0) {
      this.finalizer.unregister(s);
      if (s.pooled && !this.disposed) this.pool.release(s.pooled);
    }
  }

  async read(handle: unknown, dtype: DType, size: number): Promise<TypedArray> {
    this.check('read');
    const h = handle as Handle;
    const bytes = size * bytesPerElement(dtype);
    if (bytes === 0) return allocTyped(dtype, 0);
    if (h.s.refs <= 0) throw new ConfigError('webgpu: read() of a released buffer.');
    const st = this.staging.acquire(bytes, false);
    this.endPass();
    this.enc().copyBufferToBuffer(h.buffer, 0, st.buffer, 0, alignUp4(bytes));
    this.flush();
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
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.throwErrors();
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
    const ins: GpuInput[] = inputs.map((i) => {
      if (i.dtype === 'float64') throw new DTypeError(`${op}: float64 inputs are not supported on webgpu; use float32.`);
      const h = i.handle as Handle;
      if (!h || !h.s || h.s.refs <= 0) throw new ConfigError(`${op}: an input buffer was already released.`);
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
      if (!this.disposed && !this.lostReason) this.flush();
    });
  }

  /** Submits everything encoded so far. */
  flush(): void {
    this.endPass();
    if (this.encoder) {
      const cb = this.encoder.finish();
      this.encoder = null;
      this.device.queue.submit([cb]);
      this.stats.submits++;
    }
    this.pendingDispatches = 0;
    this.pool.flushed();
    for (const b of this.metaToDestroy) b.destroy();
    this.metaToDestroy.length = 0;
  }

  private pipeline(code: string, kinds: BindKind[], hasMeta: boolean): { pipe: GPUComputePipeline; bgl: GPUBindGroupLayout } {
    const layoutKey = kinds.join('') + (hasMeta ? 'm' : '');
    let lay = this.layouts.get(layoutKey);
    if (!lay) {
      const entries: GPUBindGroupLayoutEntry[] = kinds.map((k, i) => ({
        binding: i,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: k === 'w' ? 'storage' : 'read-only-storage' },
      }));
      if (hasMeta) entries.push({ binding: kinds.length, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'read-only-storage' } });
      const bgl = this.device.createBindGroupLayout({ entries });
      lay = { bgl, pl: this.device.createPipelineLayout({ bindGroupLayouts: [bgl] }) };
      this.layouts.set(layoutKey, lay);
    }
    let byLayout = this.pipelines.get(code);
    if (!byLayout) this.pipelines.set(code, (byLayout = new Map()));
    let pipe = byLayout.get(layoutKey);
    if (!pipe) {
      const module = this.device.createShaderModule({ code });
      pipe = this.device.createComputePipeline({ layout: lay.pl, compute: { module, entryPoint: 'main' } });
      byLayout.set(layoutKey, pipe);
      this.stats.pipelines++;
    }
    return { pipe, bgl: lay.bgl };
  }

  /** An immutable metadata buffer with these u32 words, cached by content. */
  private metaBuffer(words: ArrayLike<number>): GPUBuffer {
    let key = '';
    for (let i = 0; i < words.length; i++) key += (words[i]! >>> 0).toString(36) + ',';
    const hit = this.metaCache.get(key);
    if (hit) {
      this.metaCache.delete(key);
      this.metaCache.set(key, hit);
      return hit;
    }
    const size = Math.max(16, alignUp4(words.length * 4));
    const buf = this.device.createBuffer({ size, usage: GPUBufferUsage.STORAGE, mappedAtCreation: true, label: 'bt-meta' });
    const u = new Uint32Array(buf.getMappedRange());
    for (let i = 0; i < words.length; i++) u[i] = words[i]! >>> 0;
    buf.unmap();
    this.metaCache.set(key, buf);
    this.metaBytes += size;
    if (this.metaCache.size > this.metaCacheSize) {
      const [oldKey, old] = this.metaCache.entries().next().value as [string, GPUBuffer];
      this.metaCache.delete(oldKey);
      this.metaBytes -= old.size;
      this.metaToDestroy.push(old); // possibly used by the open encoder: destroyed after its submit
    }
    return buf;
  }

  private dispatch(code: string, buffers: GPUBuffer[], kinds: BindKind[], meta: ArrayLike<number> | null, groups: readonly [number, number?, number?]): void {
    const [gx, gy = 1, gz = 1] = groups;
    if (gx === 0 || gy === 0 || gz === 0) return;
    const { pipe, bgl } = this.pipeline(code, kinds, meta !== null);
    const entries: GPUBindGroupEntry[] = buffers.map((b, i) => ({ binding: i, resource: { buffer: b } }));
    if (meta) entries.push({ binding: buffers.length, resource: { buffer: this.metaBuffer(meta) } });
    const bg = this.device.createBindGroup({ layout: bgl, entries });
    if (!this.pass) this.pass = this.enc().beginComputePass();
    this.pass.setPipeline(pipe);
    this.pass.setBindGroup(0, bg);
    this.pass.dispatchWorkgroups(gx, gy, gz);
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

  memory(): { numBytes: number; numBuffers: number; pooledBytes: number; pooledBuffers: number; metaBytes: number; buffersCreated: number } {
    return {
      numBytes: this.pool.liveBytes,
      numBuffers: this.pool.liveBuffers,
      pooledBytes: this.pool.pooledBytes,
      pooledBuffers: this.pool.pooledBuffers,
      metaBytes: this.metaBytes,
      buffersCreated: this.pool.created,
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
    for (const b of this.metaCache.values()) b.destroy();
    this.metaCache.clear();
    releaseDevice(this.device);
  }
}

function sizeOfShape(s: readonly number[]): number {
  let n = 1;
  for (const d of s) n *= d;
  return n;
}

function alignUp4(n: number): number {
  return (n + 3) & ~3;
}

function allocTyped(dtype: DType, n: number): TypedArray {
  return dtype === 'int32' ? new Int32Array(n) : dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
}
