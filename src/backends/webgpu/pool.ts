/// <reference types="@webgpu/types" />

/**
 * A pool of storage buffers by power-of-two size class.
 *
 * Ordering hazard: `queue.writeBuffer` runs on the queue timeline *before* any command buffer
 * submitted later, including the one being encoded now. A buffer released while the encoder
 * still reads it must therefore not be refilled by an upload until that encoder is submitted.
 * Released buffers go to a `recent` list; kernels (whose writes are ordered inside the encoder)
 * may reuse them at once, uploads only after `flushed()` moves them to the `clean` list.
 */
export interface PooledBuffer {
  readonly buffer: GPUBuffer;
  /** size class in bytes (the GPUBuffer's size) */
  readonly cls: number;
}

export const MIN_CLASS = 16;

export function sizeClass(bytes: number): number {
  let c = MIN_CLASS;
  while (c < bytes) c *= 2;
  return c;
}

export class BufferPool {
  private clean = new Map<number, PooledBuffer[]>();
  private recent = new Map<number, PooledBuffer[]>();
  /** bytes / buffers sitting in the pool */
  pooledBytes = 0;
  pooledBuffers = 0;
  /** bytes / buffers handed out and not yet returned */
  liveBytes = 0;
  liveBuffers = 0;
  /** buffers ever created (for tests: creation stops once the pool is warm) */
  created = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: number,
    /** pooled bytes above this are destroyed at the next flush */
    private readonly maxPooledBytes = 1 << 30,
    /** told before a pooled buffer is destroyed (the backend drops its cached bind groups) */
    private readonly onDestroy?: (buffer: GPUBuffer) => void,
  ) {}

  /**
   * A buffer of at least `bytes`. `forQueueWrite`: it will be filled by queue.writeBuffer, so
   * it must not be one released since the last submit.
   */
  acquire(bytes: number, forQueueWrite: boolean): PooledBuffer {
    const cls = sizeClass(bytes);
    let b = (forQueueWrite ? undefined : this.recent.get(cls)?.pop()) ?? this.clean.get(cls)?.pop();
    if (b) {
      this.pooledBytes -= cls;
      this.pooledBuffers--;
    } else {
      b = { buffer: this.device.createBuffer({ size: cls, usage: this.usage, label: `bt-pool-${cls}` }), cls };
      this.created++;
    }
    this.liveBytes += cls;
    this.liveBuffers++;
    return b;
  }

  release(b: PooledBuffer): void {
    this.liveBytes -= b.cls;
    this.liveBuffers--;
    let list = this.recent.get(b.cls);
    if (!list) this.recent.set(b.cls, (list = []));
    list.push(b);
    this.pooledBytes += b.cls;
    this.pooledBuffers++;
  }

  /** The encoder was submitted: recently released buffers are safe for uploads again. */
  flushed(): void {
    for (const [cls, list] of this.recent) {
      if (list.length === 0) continue;
      let dst = this.clean.get(cls);
      if (!dst) this.clean.set(cls, (dst = []));
      for (const b of list) dst.push(b);
      list.length = 0;
    }
    if (this.pooledBytes > this.maxPooledBytes) this.trim(this.maxPooledBytes / 2);
  }

  /** Destroys clean pooled buffers (largest first) until at most `target` bytes are pooled. */
  trim(target = 0): void {
    const classes = [...this.clean.keys()].sort((a, b) => b - a);
    for (const cls of classes) {
      const list = this.clean.get(cls)!;
      while (list.length && this.pooledBytes > target) {
        const b = list.pop()!;
        this.onDestroy?.(b.buffer);
        b.buffer.destroy();
        this.pooledBytes -= cls;
        this.pooledBuffers--;
      }
    }
  }

  destroyAll(): void {
    for (const m of [this.clean, this.recent]) {
      for (const list of m.values()) {
        for (const b of list) {
          this.onDestroy?.(b.buffer);
          b.buffer.destroy();
        }
      }
    }
    this.clean.clear();
    this.recent.clear();
    this.pooledBytes = 0;
    this.pooledBuffers = 0;
  }
}
