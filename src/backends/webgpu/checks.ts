/// <reference types="@webgpu/types" />
import { NumericalError, ShapeError } from '../../errors.js';
import type { BufferPool, PooledBuffer } from './pool.js';
import { STORAGE_USAGE } from './storage.js';

/** Which typed error a failed check becomes. */
export type CheckKind = 'numerical' | 'shape';

/** A deferred check (see KernelContext.status): its status word, and how to word its error. */
export interface Check {
  readonly buf: GPUBuffer;
  readonly error: (code: number) => string;
  readonly kind: CheckKind;
}

/**
 * Deferred checks: kernels cannot throw, so a kernel that finds its input invalid (a matrix not
 * positive definite, an index out of range) stores a code in a status word; the words ride along
 * with each submit and come back asynchronously, and the first failure is thrown — the CPU's
 * NumericalError or ShapeError — at the next read or sync.
 */
export class DeferredChecks {
  /** status words written since the last submit, each with the wording of its error */
  private checks: Check[] = [];
  /** status words copied out and cleared, ready for the next check */
  private readonly statusFree: GPUBuffer[] = [];
  /** status words owned by someone else (a jit program): read and cleared, never recycled here */
  private readonly owned = new WeakSet<GPUBuffer>();
  /** readbacks of submitted status words not yet mapped */
  private readonly checksInFlight = new Map<Promise<void>, number>();
  /** the first failed check since the last read or sync, thrown by the next one */
  private failedCheck: { message: string; kind: CheckKind; submit: number } | null = null;

  constructor(
    private readonly device: GPUDevice,
    private readonly staging: BufferPool,
  ) {}

  /** Whether checks were added since the last submit. */
  get pending(): boolean {
    return this.checks.length > 0;
  }

  status(error: (code: number) => string, kind: CheckKind): GPUBuffer {
    // a new buffer is zero (WebGPU clears on creation); a reused one was cleared after its copy
    const buf = this.statusFree.pop() ?? this.device.createBuffer({ size: 4, usage: STORAGE_USAGE(), label: 'bt-status' });
    this.checks.push({ buf, error, kind });
    return buf;
  }

  /** Copies this submit's status words into one staging buffer and clears them for reuse. */
  encode(enc: GPUCommandEncoder): { staging: PooledBuffer; list: Check[] } {
    const list = this.checks;
    this.checks = [];
    const res = this.encodeWords(enc, list);
    // commands recorded after this submit see the cleared words
    for (const { buf } of list) if (!this.owned.has(buf)) this.statusFree.push(buf);
    return res;
  }

  /**
   * Adds checks whose status words someone else owns and reuses (a jit program encoded into the
   * backend's command stream): read back and cleared with the next submit, once each.
   */
  addOwned(list: readonly Check[]): void {
    for (const c of list) {
      this.owned.add(c.buf);
      if (!this.checks.includes(c)) this.checks.push(c);
    }
  }

  /**
   * Copies the status words of `list` into one staging buffer and clears them; the words stay
   * their owner's (a jit program keeps its own and reuses them every call). Give the result to
   * `read` after the submit.
   */
  encodeWords(enc: GPUCommandEncoder, list: Check[]): { staging: PooledBuffer; list: Check[] } {
    const staging = this.staging.acquire(4 * list.length, false);
    list.forEach(({ buf }, i) => {
      enc.copyBufferToBuffer(buf, 0, staging.buffer, 4 * i, 4);
      enc.clearBuffer(buf, 0, 4);
    });
    return { staging, list };
  }

  /** Reads back the status words that rode with submit number `submit`. */
  read(staging: PooledBuffer, list: Check[], submit: number): void {
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
  async throwFailed(upTo = Infinity): Promise<void> {
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

  destroy(): void {
    for (const b of [...this.statusFree, ...this.checks.map((c) => c.buf)]) b.destroy();
    this.statusFree.length = 0;
    this.checks = [];
  }
}
