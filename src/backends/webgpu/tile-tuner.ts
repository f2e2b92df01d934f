/// <reference types="@webgpu/types" />
import type { BufferPool, PooledBuffer } from './pool.js';
import type { TileConfig } from './kernels/matmul.js';

/** One candidate of a tuning run: its tile, and how to encode one timed dispatch of it. */
export interface TimedRun {
  readonly tile: TileConfig;
  /** encodes the candidate as a dispatch whose pass writes timestamps `at` and `at + 1` of `querySet` */
  encode(querySet: GPUQuerySet, at: number): void;
}

/** What a kernel sees of the tuner (the jit compiler's recording context has `tile` only). */
export interface TileChoice {
  /** the tuned tile of a shape class; null: tuned, the kernel's own pick won; undefined: not tuned */
  tile(cls: number): TileConfig | null | undefined;
  /** times every run on the GPU, once per shape class (the first is the kernel's own pick) */
  tune?(cls: number, runs: TimedRun[]): void;
  /** whether `tune` would time this class now */
  wants?(cls: number): boolean;
}

interface Job {
  readonly cls: number;
  readonly runs: TimedRun[];
  readonly querySet: GPUQuerySet;
  readonly count: number;
}

/** repetitions of each candidate (the median counts) */
const REPS = 3;
/** a candidate replaces the kernel's own pick only when this much faster */
const MARGIN = 0.97;

/**
 * The matmul's tile autotuner: the first time a shape class (kernels/matmul.ts `shapeClass`) runs
 * with enough work, the matmul kernel also encodes each tile configuration on the same operands
 * into scratch, each dispatch in a compute pass of its own with GPU timestamps (the
 * 'timestamp-query' feature), so the timing is the GPU's and nothing else queued interferes. The
 * timestamps come back after that submit; from then on the class runs with the fastest tile
 * (cached for the life of the backend, per device). Every tile sums over K in the same order, so
 * the choice changes speed, never values. Without the feature nothing is timed and the kernel's
 * own pick stays.
 */
export class TileTuner implements TileChoice {
  private readonly chosen = new Map<number, TileConfig | null>();
  private readonly tuning = new Set<number>();
  private encoded: Job[] = [];
  /** tuning runs whose timestamps came back: for tests and benches */
  readonly log: { cls: number; tiles: TileConfig[]; ns: number[]; picked: TileConfig | null }[] = [];

  constructor(
    private readonly device: GPUDevice,
    private readonly staging: BufferPool,
    readonly enabled: boolean,
  ) {}

  tile(cls: number): TileConfig | null | undefined {
    return this.chosen.get(cls);
  }

  wants(cls: number): boolean {
    return this.enabled && !this.chosen.has(cls) && !this.tuning.has(cls);
  }

  tune(cls: number, runs: TimedRun[]): void {
    if (!this.wants(cls) || runs.length < 2) return;
    this.tuning.add(cls);
    const count = 2 * REPS * runs.length;
    const querySet = this.device.createQuerySet({ type: 'timestamp', count, label: 'bt-tile-tuner' });
    let at = 0;
    for (let r = 0; r < REPS; r++) {
      for (const run of runs) {
        run.encode(querySet, at);
        at += 2;
      }
    }
    this.encoded.push({ cls, runs, querySet, count });
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
      const resolve = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC, label: 'bt-tile-tuner-resolve' });
      const staging = this.staging.acquire(bytes, false);
      enc.resolveQuerySet(job.querySet, 0, job.count, resolve, 0);
      enc.copyBufferToBuffer(resolve, 0, staging.buffer, 0, bytes);
      return { job, resolve, staging };
    });
  }

  /** Reads back the timestamps of submitted jobs and records each class's fastest tile. */
  read(list: { job: Job; resolve: GPUBuffer; staging: PooledBuffer }[]): void {
    for (const { job, resolve, staging } of list) {
      staging.buffer.mapAsync(GPUMapMode.READ, 0, staging.cls).then(
        () => {
          const t = new BigUint64Array(staging.buffer.getMappedRange(0, staging.cls), 0, job.count).slice();
          staging.buffer.unmap();
          this.staging.release(staging);
          this.finish(job, t);
        },
        () => this.finish(job, null), // device lost or backend disposed: keep the kernel's own pick
      ).finally(() => {
        resolve.destroy();
        job.querySet.destroy();
      });
    }
  }

  private finish(job: Job, t: BigUint64Array | null): void {
    this.tuning.delete(job.cls);
    const n = job.runs.length;
    const ns: number[] = [];
    for (let i = 0; i < n; i++) {
      const reps: number[] = [];
      for (let r = 0; t && r < REPS; r++) {
        const at = 2 * (r * n + i);
        reps.push(Number(t[at + 1]! - t[at]!));
      }
      reps.sort((a, b) => a - b);
      ns.push(reps.length ? reps[reps.length >> 1]! : NaN);
    }
    // unusable timings (none, zero, or not increasing): the kernel's own pick stays
    const usable = ns.every((x) => Number.isFinite(x) && x > 0);
    let best = 0;
    for (let i = 1; usable && i < n; i++) if (ns[i]! < ns[best]!) best = i;
    const picked = usable && best !== 0 && ns[best]! < MARGIN * ns[0]! ? job.runs[best]!.tile : null;
    this.chosen.set(job.cls, picked);
    this.log.push({ cls: job.cls, tiles: job.runs.map((r) => r.tile), ns, picked });
  }
}
