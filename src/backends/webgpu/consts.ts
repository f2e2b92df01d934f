/// <reference types="@webgpu/types" />
import type { DType, TypedArray } from '../../dtype.js';
import { STORAGE_USAGE, type Handle, type Storage } from './storage.js';

/** A cached 1-element constant buffer. */
interface ConstEntry {
  readonly s: Storage;
  used: number;
}

/** a 1-element upload is cached once it has come in this many different submits */
const CONST_ADMIT = 3;

/**
 * The cache of 1-element uploads (number operands such as `x.mul(2)`, gradient seeds, mean
 * divisors come every step). Keyed by (dtype, bit pattern); refcounted like any storage, but a
 * cached buffer is never overwritten nor returned to the pool while cached (it is only read:
 * kernels write to fresh outputs). A value is cached once it has come in CONST_ADMIT different
 * submits (command buffers).
 */
export class ConstCache {
  /** cached 1-element constants by key (dtype, bit pattern) */
  private readonly consts = new Map<number, ConstEntry>();
  /** constants not cached yet: the last submit count in which each came, and in how many submits.
   * A value is cached once it comes in CONST_ADMIT different submits: values that live one step
   * only (Adam's 1 - β^t, used 3 times in one step) would churn the cache. */
  private readonly constSeen = new Map<number, { gen: number; n: number }>();
  private readonly constBits = new Uint32Array(1);
  private tick = 0;
  /** bytes of the cache's own buffers */
  bytes = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly cacheSize: number,
    private readonly stats: { submits: number; uploads: number },
  ) {}

  /** Cached constants. */
  get size(): number {
    return this.consts.size;
  }

  /** The cached handle for this 1-element upload, or null to upload it as usual. */
  constant(values: TypedArray, dtype: DType): Handle | null {
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
      if (this.constSeen.size >= 4 * this.cacheSize) this.constSeen.clear();
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
    if (this.consts.size < this.cacheSize) {
      // the cache's own buffers (not the pool's): at most cacheSize of them, ever
      buffer = this.device.createBuffer({ size: 16, usage: STORAGE_USAGE(), label: 'bt-const' });
      this.bytes += 16;
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

  destroy(): void {
    for (const c of this.consts.values()) c.s.buffer.destroy();
    this.consts.clear();
    this.bytes = 0;
  }
}
