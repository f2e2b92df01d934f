/// <reference types="@webgpu/types" />
import type { DType, TypedArray } from '../../dtype.js';
import type { GpuHandle } from './kernels/common.js';
import type { PooledBuffer } from './pool.js';
import type { FusedNode } from './fusion.js';

/** A tensor's storage: a pooled buffer shared by views (reshape) and refcounted. */
export interface Storage {
  pooled: PooledBuffer | null; // null: the shared 4-byte buffer of a zero-size tensor, or not computed yet (lazy)
  buffer: GPUBuffer;
  readonly bytes: number;
  refs: number;
  /** a cached constant (see ConstCache): at 0 refs it stays cached, never back in the pool */
  constKey?: number;
  /** the submit count when its refs last went to 0 (a recycled constant buffer is rewritten only
   * once every command buffer that read it was submitted) */
  freeGen?: number;
  /** registered with the backend's FinalizationRegistry (see WebGPUBackend.track) */
  tracked?: boolean;
  /** an elementwise result not computed yet (see LazyFusion) */
  lazy?: Lazy;
}

/**
 * A pending elementwise expression and the handles whose buffers it reads (one ref each on their
 * storage). Handles, not storages: holding the handle keeps the FinalizationRegistry safety net
 * from reclaiming a buffer this expression still reads after its tensors were dropped.
 */
export interface Lazy {
  readonly root: FusedNode;
  readonly reads: Handle[];
  readonly shape: readonly number[];
  readonly handle: Handle;
  /** how many lazy results inlined this one (an intermediate: computing it alone is wasted work) */
  consumers: number;
  /** creation order among lazy results */
  readonly seq: number;
}

/** What a tensor on this backend holds: its storage, and the buffer kernels bind. */
export interface Handle extends GpuHandle {
  s: Storage;
  buffer: GPUBuffer;
}

/** Usage flags of every tensor buffer (bound as storage, copied in and out). */
export const STORAGE_USAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

export { sizeOf as sizeOfShape } from '../../shape.js';

/** n rounded up to a multiple of 4 (copy and clear sizes). */
export function alignUp4(n: number): number {
  return (n + 3) & ~3;
}

/** A zeroed host array of the dtype. */
export function allocTyped(dtype: DType, n: number): TypedArray {
  return dtype === 'int32' ? new Int32Array(n) : dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
}
