/// <reference types="@webgpu/types" />
import type { BindKind } from './kernels/common.js';
import type { BufferPool, PooledBuffer } from './pool.js';
import type { TileConfig } from './kernels/matmul.js';

/** One candidate: its tile, and the dispatch that computes the product with it. */
export interface TileRun {
  readonly tile: TileConfig;
  readonly code: string;
  readonly groups: readonly [number, number, number];
}

/** A product to tune for: the candidates (the kernel's own pick first), their metadata, operand sizes. */
export interface TuneRequest {
  readonly runs: TileRun[];
  readonly meta: readonly number[];
  /** bytes of A, B and C */
  readonly bytes: readonly [number, number, number];
}

/** What a kernel sees of the tuner (the jit compiler's recording context has `tile` only). */
export interface TileChoice {
  /** the tuned tile of a shape class; null: tuned, the kernel's own pick won; undefined: not tuned */
  tile(cls: number): TileConfig | null | undefined;
  /** whether `tune` would time this class now */
  wants?(cls: number): boolean;
  /** times every candidate of this class on the GPU, once (see TileTuner) */
  tune?(cls: number, req: TuneRequest): void;
}

/** What the tuner uses of the backend. */
export interface TunerHost {
  readonly device: GPUDevice;
  readonly staging: BufferPool;
  readonly maxBinding: number;
  prepare(code: string, kinds: BindKind[]): Promise<void>;
  dispatchTimed(code: string, buffers: GPUBuffer[], kinds: BindKind[], meta: readonly number[], groups: readonly [number, number, number], querySet: GPUQuerySet, at: number): void;
  /** submits what was encoded by the end of the turn */
  flushSoon(): void;
  readonly disposed: boolean;
}

interface Job {
  readonly cls: number;
  readonly runs: TileRun[];
  readonly querySet: GPUQuerySet;
  readonly count: number;
  readonly operands: GPUBuffer[];
}

/** repetitions of each candidate (the median counts) */
const REPS = 3;
/** a candidate replaces the kernel's own pick only when this much faster */
const MARGIN = 0.97;
const KINDS: BindKind[] = ['r', 'r', 'w'];

/**
 * The matmul's tile autotuner. The first time a shape class (kernels/matmul.ts `shapeClass`) runs
 * a large enough product, the kernel hands its candidates here and goes on with its own pick.
 * Their pipelines compile in the background (createComputePipelineAsync: the program does not
 * stall); then each candidate computes the product on zeroed operands of the same shape, 3 times,
 * each dispatch in a compute pass of its own with GPU timestamps ('timestamp-query'), so the
 * timing is the GPU's and nothing else queued counts. When the timestamps come back the class
 * keeps the fastest tile for the life of the backend (if it beats the kernel's own by 3%). Every
 * tile sums over K in the same order, so the choice changes speed, never values.
 */
export class TileTuner implements TileChoice {
  private readonly chosen = new Map<number, TileConfig | null>();
  private readonly tuning = new Set<number>();
  private encoded: Job[] = [];
  /** tuning runs whose timestamps came back: for tests and benches */
  readonly log: { cls: number; tiles: TileConfig[]; ns: number[]; picked: TileConfig | null }[] = [];

  constructor(
    private readonly host: TunerHost,
    readonly enabled: boolean,
  ) {}

  tile(cls: number): TileConfig | null | undefined {
    return this.chosen.get(cls);
  }

  wants(cls: number): boolean {
    return this.enabled && !this.chosen.has(cls) && !this.tuning.has(cls);
  }

  /** Whether this class is being tuned now. */
  isTuning(cls: number): boolean {
    return this.tuning.has(cls);
  }

  /** Classes being tuned now (their timings not back yet). */
  get inFlight(): number {
    return this.tuning.size;
  }

  private waiters: (() => void)[] = [];
  /** Resolves once no class is being tuned (a bench waits for it before timing). */
  settled(): Promise<void> {
    return this.tuning.size === 0 ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }

  tune(cls: number, req: TuneRequest): void {
    if (!this.wants(cls)) return;
    if (req.runs.length < 2 || req.bytes.some((b) => b > this.host.maxBinding)) {
      this.chosen.set(cls, null);
      return;
    }
    this.tuning.add(cls);
    Promise.all(req.runs.map((r) => this.host.prepare(r.code, KINDS)))
      .then(() => this.time(cls, req))
      // a candidate failed to compile, or the device went away: keep the kernel's own pick
      .catch(() => this.settle(cls, null));
  }

  private time(cls: number, req: TuneRequest): void {
    if (this.host.disposed) return this.settle(cls, null);
    const { device } = this.host;
    const operands = req.bytes.map((b) => device.createBuffer({ size: Math.max(16, b), usage: GPUBufferUsage.STORAGE, label: 'bt-tile-tuner' }));
    const count = 2 * REPS * req.runs.length;
    const querySet = device.createQuerySet({ type: 'timestamp', count, label: 'bt-tile-tuner' });
    let at = 0;
    for (let r = 0; r < REPS; r++) {
      for (const run of req.runs) {
        this.host.dispatchTimed(run.code, operands, KINDS, req.meta, run.groups, querySet, at);
        at += 2;
      }
    }
    this.encoded.push({ cls, runs: req.runs, querySet, count, operands });
    this.host.flushSoon();
  }

  /** Whether timestamps wait to be resolved into the next submit. */
  get pending(): boolean {
    return this.encoded.length > 0;
  }

  /** Resolves the waiting timestamps into staging buffers (before the submit); give the result to `read` after it. */
  encode(enc: GPUCommandEncoder): { job: Job; resolve: GPUBuffer; staging: PooledBuffer }[] {
    const jobs = this.encoded;
    this.encoded = [];
    return jobs.map((job) => {
      const bytes = 8 * job.count;
      const resolve = this.host.device.createBuffer({ size: bytes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC, label: 'bt-tile-tuner-resolve' });
      const staging = this.host.staging.acquire(bytes, false);
      enc.resolveQuerySet(job.querySet, 0, job.count, resolve, 0);
      enc.copyBufferToBuffer(resolve, 0, staging.buffer, 0, bytes);
      return { job, resolve, staging };
    });
  }

  /** Reads back the timestamps of submitted jobs and records each class's fastest tile. */
  read(list: { job: Job; resolve: GPUBuffer; staging: PooledBuffer }[]): void {
    for (const { job, resolve, staging } of list) {
      staging.buffer
        .mapAsync(GPUMapMode.READ, 0, staging.cls)
        .then(() => {
          const t = new BigUint64Array(staging.buffer.getMappedRange(0, staging.cls), 0, job.count).slice();
          staging.buffer.unmap();
          this.host.staging.release(staging);
          this.finish(job, t);
        })
        .catch(() => this.settle(job.cls, null)) // device lost or backend disposed: keep the kernel's own pick
        .finally(() => {
          resolve.destroy();
          job.querySet.destroy();
          for (const b of job.operands) b.destroy();
        });
    }
  }

  private settle(cls: number, tile: TileConfig | null): void {
    this.tuning.delete(cls);
    this.chosen.set(cls, tile);
    if (this.tuning.size === 0) for (const w of this.waiters.splice(0)) w();
  }

  private finish(job: Job, t: BigUint64Array): void {
    const n = job.runs.length;
    const ns: number[] = [];
    for (let i = 0; i < n; i++) {
      const reps: number[] = [];
      for (let r = 0; r < REPS; r++) {
        const at = 2 * (r * n + i);
        reps.push(Number(t[at + 1]! - t[at]!));
      }
      reps.sort((a, b) => a - b);
      ns.push(reps[reps.length >> 1]!);
    }
    // unusable timings (zero, or not increasing): the kernel's own pick stays
    const usable = ns.every((x) => Number.isFinite(x) && x > 0);
    let best = 0;
    for (let i = 1; usable && i < n; i++) if (ns[i]! < ns[best]!) best = i;
    const picked = usable && best !== 0 && ns[best]! < MARGIN * ns[0]! ? job.runs[best]!.tile : null;
    this.settle(job.cls, picked);
    this.log.push({ cls: job.cls, tiles: job.runs.map((r) => r.tile), ns, picked });
  }
}
