/// <reference types="@webgpu/types" />
import { bytesPerElement } from '../../dtype.js';
import { BackendError } from '../../errors.js';
import type { OutSpec, TensorInfo } from '../backend.js';
import { readsThenWrite, threadGrid, type BindKind } from './kernels/common.js';
import { fusedKernel, type FusedExpr, type FusedNode } from './fusion.js';
import type { BufferPool } from './pool.js';
import { sizeOfShape, type Handle, type Storage } from './storage.js';

/** Nodes per fused kernel: beyond this, an input is computed rather than inlined. */
export const MAX_FUSED_NODES = 48;
/** Pending lazy results: beyond this, the kept-looking ones are computed (see forceKept). */
const MAX_PENDING_LAZY = 32;
/** Lazy results among the last this many created count as recent (perhaps awaiting a consumer). */
const RECENT_LAZY = 16;

/** What lazy fusion uses of the backend that owns it. */
export interface LazyHost {
  readonly device: GPUDevice;
  readonly pool: BufferPool;
  /** the shared buffer a not-yet-computed result points at */
  readonly zero: GPUBuffer;
  /** puts a new handle under the backend's garbage-collection safety net */
  track(h: Handle): void;
  readonly stats: { fusedOps: number };
  readonly disposed: boolean;
  dispatch(code: string, buffers: GPUBuffer[], kinds: BindKind[], meta: ArrayLike<number> | null, groups: readonly [number, number?, number?]): void;
  releaseStorage(s: Storage): void;
  /** computes what is pending at the end of the synchronous turn */
  scheduleFlush(): void;
}

/**
 * Elementwise fusion. An elementwise op returns a lazy result; an elementwise consumer of the
 * same size inlines it, and it is computed (one kernel for the whole chain, fusion.ts) when
 * anything else needs its buffer — another kernel, a read — or at the end of the synchronous turn.
 */
export class LazyFusion {
  /** lazy results not computed yet, computed at the end of the turn */
  private pending: Storage[] = [];
  /** how many of `pending` are still lazy (computed or dropped ones stay in it until a sweep) */
  private live = 0;
  private seq = 0;

  constructor(private readonly host: LazyHost) {}

  /** Lazy results not computed yet. */
  get size(): number {
    return this.live;
  }

  /** An elementwise op as a lazy result, inlining inputs that are lazy results of the same size. */
  elementwise(op: string, inputs: readonly TensorInfo[], spec: OutSpec): Handle {
    const n = sizeOfShape(spec.shape);
    const bytes = n * bytesPerElement(spec.dtype);
    const max = this.host.device.limits.maxStorageBufferBindingSize;
    if (bytes > max) {
      // at the call, as without fusion (forcing happens later, where no caller could catch it)
      throw new BackendError(`webgpu: a buffer of ${bytes} bytes exceeds this device's maxStorageBufferBindingSize (${max} bytes). Split the tensor, or run this op on the CPU.`);
    }
    const maxBuffers = this.host.device.limits.maxStorageBuffersPerShaderStage - 2; // output and metadata
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
      for (const r of reads) this.host.releaseStorage(r.s);
      return this.elementwise(op, inputs.map((info) => (this.force(info.handle as Handle), info)), spec);
    }
    const root: FusedNode = { kind: 'node', op, args, dtype: spec.dtype, weight };
    const s: Storage = { pooled: null, buffer: this.host.zero, bytes, refs: 1 };
    const h: Handle = { s, buffer: this.host.zero, bytes: s.bytes };
    s.lazy = { root, reads, shape: [...spec.shape], handle: h, consumers: 0, seq: this.seq++ };
    this.host.track(h);
    this.pending.push(s);
    this.live++;
    // computed and dropped ones leave the list in sweeps (a long synchronous loop makes many)
    if (this.pending.length > 256 && this.pending.length > 4 * this.live) this.pending = this.pending.filter((p) => p.lazy !== undefined);
    this.host.stats.fusedOps++;
    this.host.scheduleFlush();
    // a kept lazy holds its inputs: bound how many wait, so a long synchronous loop does not
    // hold several times the memory it would without fusion
    if (this.live > MAX_PENDING_LAZY) this.forceKept();
    return h;
  }

  /** Computes a lazy result into its own buffer (one fused kernel); a no-op for computed ones. */
  force(h: Handle): void {
    const s = h.s;
    const lz = s.lazy;
    if (!lz) return;
    const k = fusedKernel(lz.root, lz.shape);
    s.pooled = this.host.pool.acquire(s.bytes, false);
    s.buffer = s.pooled.buffer;
    lz.handle.buffer = s.buffer;
    s.lazy = undefined;
    this.live--;
    k.buffers.push(s.buffer);
    this.host.dispatch(k.code, k.buffers, readsThenWrite(k.buffers.length - 1), k.meta, threadGrid(sizeOfShape(lz.shape)));
    for (const r of lz.reads) this.host.releaseStorage(r.s);
  }

  drop(s: Storage): void {
    const lz = s.lazy!;
    s.lazy = undefined;
    this.live--;
    if (!this.host.disposed) for (const r of lz.reads) this.host.releaseStorage(r.s);
  }

  /**
   * Computes the pending results that look kept: no other lazy result inlined them (an inlined
   * one is an intermediate whose consumer holds the same inputs; computing it alone would be a
   * wasted dispatch) and they are not recent (a recent one may be an operand whose consumer is
   * still to come). Everything, if even that leaves too many waiting.
   */
  private forceKept(): void {
    for (const s of this.pending) {
      const lz = s.lazy;
      if (!lz) continue;
      if (this.seq - lz.seq <= RECENT_LAZY) break; // insertion order: the rest are newer
      if (lz.consumers === 0) this.force(lz.handle);
    }
    this.pending = this.pending.filter((s) => s.lazy !== undefined);
    if (this.live > 8 * MAX_PENDING_LAZY) this.forceAll();
  }

  /** Computes every pending lazy result (end of the turn, sync). */
  forceAll(): void {
    const list = this.pending;
    this.pending = [];
    for (let i = 0; i < list.length; i++) {
      const lz = list[i]!.lazy;
      if (lz) this.force(lz.handle);
    }
  }
}

/** [1, 1, 3, 4] and [3, 4] index the same flat layout (broadcasting right-aligns shapes). */
export function sameUpToLeadingOnes(a: readonly number[], b: readonly number[]): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && a[i] === 1) i++;
  while (j < b.length && b[j] === 1) j++;
  if (a.length - i !== b.length - j) return false;
  for (let k = 0; k < a.length - i; k++) if (a[i + k] !== b[j + k]) return false;
  return true;
}

