/// <reference types="@webgpu/types" />
import type { OutSpec } from '../../backends/backend.js';
import type { WebGPUBackend } from '../../backends/webgpu/backend.js';
import type { BindKind, GpuHandle, KernelContext } from '../../backends/webgpu/kernels/common.js';
import { preparedPipeline } from '../../backends/webgpu/jit-access.js';
import { sizeClass } from '../../backends/webgpu/pool.js';
import { alignUp4, STORAGE_USAGE } from '../../backends/webgpu/storage.js';
import type { Check } from '../../backends/webgpu/checks.js';
import { sizeOf } from '../../shape.js';
import { bytesPerElement } from '../../dtype.js';

/** One recorded command, replayed every call in the program's command buffer. */
export type Cmd =
  | { kind: 'dispatch'; pipeline: GPUComputePipeline; bindGroup: GPUBindGroup; x: number; y: number; z: number }
  | { kind: 'copy'; src: GPUBuffer; srcOffset: number; dst: GPUBuffer; dstOffset: number; bytes: number }
  | { kind: 'clear'; buf: GPUBuffer; bytes: number };

/** Why a kernel could not be recorded: the compiler falls back to interpreting the program. */
export class NotRecordable extends Error {}

/**
 * The program's own buffers (its arena) and the commands it replays. Buffers are created here, not
 * taken from the backend's pool, and kept until `destroy`: a buffer whose last reader has been
 * recorded is handed out again to a later value of the same size class. That is safe because
 * every command runs in recording order in one command buffer, the order the backend relies on
 * when its kernels reuse a just-released pool buffer.
 */
export class Recorder {
  readonly cmds: Cmd[] = [];
  readonly buffers: GPUBuffer[] = [];
  /** deferred checks (KernelContext.status) of the recorded kernels, read back after each call */
  readonly checks: Check[] = [];
  /** metadata buffers by content, so equal shapes share one */
  private readonly metas = new Map<string, GPUBuffer>();
  private readonly free = new Map<number, GPUBuffer[]>();
  private readonly handed = new Set<GPUBuffer>();
  bytes = 0;
  /** the matmul shape classes whose tile the recorded kernels looked up */
  readonly tileClasses = new Set<number>();

  constructor(private readonly backend: WebGPUBackend) {}

  get device(): GPUDevice {
    return this.backend.device;
  }

  /** A buffer of at least `bytes` from the arena (bytes > 0). */
  take(bytes: number): GPUBuffer {
    // over the binding limit: interpreted, where the backend's allocation raises its BackendError
    const cls = sizeClass(bytes);
    if (cls > this.device.limits.maxStorageBufferBindingSize) throw new NotRecordable(`a buffer of ${bytes} bytes exceeds maxStorageBufferBindingSize`);
    let b = this.free.get(cls)?.pop();
    if (!b) {
      b = this.device.createBuffer({ size: cls, usage: STORAGE_USAGE(), label: `bt-jit-${cls}` });
      this.buffers.push(b);
      this.bytes += cls;
    }
    this.handed.add(b);
    return b;
  }

  /** Gives an arena buffer back for later values. */
  give(b: GPUBuffer): void {
    if (!this.handed.delete(b)) return;
    let list = this.free.get(b.size);
    if (!list) this.free.set(b.size, (list = []));
    list.push(b);
  }

  /** Whether `b` was handed out by this arena (a kernel output that is not is not recordable). */
  owns(b: GPUBuffer): boolean {
    return this.handed.has(b);
  }

  dispatch(code: string, buffers: GPUBuffer[], kinds: BindKind[], meta: ArrayLike<number> | null, groups: readonly [number, number?, number?]): void {
    const x = groups[0];
    const y = groups[1] ?? 1;
    const z = groups[2] ?? 1;
    if (x === 0 || y === 0 || z === 0) return;
    const { pipeline, layout } = preparedPipeline(this.backend, code, kinds, meta !== null);
    const entries: GPUBindGroupEntry[] = buffers.map((b, i) => ({ binding: i, resource: { buffer: b } }));
    if (meta) entries.push({ binding: buffers.length, resource: { buffer: this.meta(meta) } });
    this.cmds.push({ kind: 'dispatch', pipeline, bindGroup: this.device.createBindGroup({ layout, entries }), x, y, z });
  }

  private meta(words: ArrayLike<number>): GPUBuffer {
    const u = Uint32Array.from(words as ArrayLike<number>, (w) => w >>> 0);
    const key = u.join(',');
    let buf = this.metas.get(key);
    if (!buf) {
      const size = Math.max(16, alignUp4(u.length * 4));
      buf = this.device.createBuffer({ size, usage: GPUBufferUsage.STORAGE, mappedAtCreation: true, label: 'bt-jit-meta' });
      new Uint32Array(buf.getMappedRange()).set(u);
      buf.unmap();
      this.metas.set(key, buf);
      this.buffers.push(buf);
      this.bytes += size;
    }
    return buf;
  }

  /** The context a built-in kernel records into: outputs and scratch from the arena, commands into `cmds`. */
  context(): KernelContext {
    const handle = (bytes: number): GpuHandle => ({ buffer: this.take(bytes), bytes });
    return {
      device: this.device,
      limits: this.device.limits,
      output: (spec: OutSpec) => {
        const bytes = sizeOf(spec.shape) * bytesPerElement(spec.dtype);
        if (bytes === 0) throw new NotRecordable('a zero-size output');
        return handle(bytes);
      },
      scratch: (bytes: number) => {
        if (bytes === 0) throw new NotRecordable('zero-size scratch');
        return handle(bytes);
      },
      free: (h: GpuHandle) => this.give(h.buffer),
      // the backend's tuned matmul tiles; a recorded product may start tuning its class (the tuner
      // times on operands of its own), and the classes it asked for are remembered
      tiles: {
        tile: (cls: number) => {
          this.tileClasses.add(cls);
          return this.backend.tiles.tile(cls);
        },
        wants: (cls: number) => this.backend.tiles.wants(cls),
        tune: (cls, req) => this.backend.tiles.tune(cls, req),
      },
      splitSums: this.backend.splitSums,
      subgroups: this.backend.subgroups,
      dispatch: (code, buffers, kinds, meta, groups) => this.dispatch(code, buffers, kinds, meta, groups),
      copy: (src, srcOffset, dst, dstOffset, bytes) => {
        if (bytes > 0) this.cmds.push({ kind: 'copy', src, srcOffset, dst, dstOffset, bytes });
      },
      clear: (buf, bytes) => {
        if (bytes > 0) this.cmds.push({ kind: 'clear', buf, bytes: alignUp4(bytes) });
      },
      status: (error, kind) => {
        // the program's own status word, zero now; each call reads it back and clears it
        const buf = this.device.createBuffer({ size: 4, usage: STORAGE_USAGE(), label: 'bt-jit-status' });
        this.buffers.push(buf);
        this.bytes += 4;
        this.checks.push({ buf, error, kind: kind ?? 'numerical' });
        return buf;
      },
    };
  }

  destroy(): void {
    for (const b of this.buffers.splice(0)) b.destroy();
    this.metas.clear();
    // `checks` stays: a call's read-back still in flight reports a failure through it (the
    // status words were copied out at that call's submit)
    this.free.clear();
    this.handed.clear();
    this.bytes = 0;
  }
}

/** Encodes `cmds` into `enc`: dispatches share compute passes, copies and clears end them. */
export function encodeCmds(enc: GPUCommandEncoder, cmds: readonly Cmd[]): void {
  let pass: GPUComputePassEncoder | null = null;
  let pipe: GPUComputePipeline | null = null;
  let bg: GPUBindGroup | null = null;
  for (let i = 0; i < cmds.length; i++) {
    const c = cmds[i]!;
    if (c.kind === 'dispatch') {
      if (!pass) {
        pass = enc.beginComputePass();
        pipe = null;
        bg = null;
      }
      if (pipe !== c.pipeline) pass.setPipeline((pipe = c.pipeline));
      if (bg !== c.bindGroup) pass.setBindGroup(0, (bg = c.bindGroup));
      pass.dispatchWorkgroups(c.x, c.y, c.z);
      continue;
    }
    if (pass) {
      pass.end();
      pass = null;
    }
    if (c.kind === 'copy') enc.copyBufferToBuffer(c.src, c.srcOffset, c.dst, c.dstOffset, c.bytes);
    else enc.clearBuffer(c.buf, 0, c.bytes);
  }
  if (pass) pass.end();
}
