/// <reference types="@webgpu/types" />
import type { BindKind } from './kernels/common.js';
import { alignUp4 } from './storage.js';

/** A cached bind group: its layout code and the ids of the buffers it binds (its key, and for invalidation). */
interface BgEntry {
  readonly hash: number;
  readonly layCode: number;
  readonly bg: GPUBindGroup;
  readonly ids: number[];
  used: number;
}

/** A metadata buffer cached by content. */
interface MetaEntry {
  readonly hash: number;
  readonly words: Uint32Array;
  readonly buf: GPUBuffer;
  readonly id: number;
  used: number;
}

interface Layout {
  bgl: GPUBindGroupLayout;
  pl: GPUPipelineLayout;
  code: number;
}

/** Sizes of the encoder's caches (see WebGPUBackendOptions). */
export interface EncoderOptions {
  batchSize: number;
  metaCacheSize: number;
  bindGroupCacheSize: number;
  pipelineCacheSize: number;
}

/** What the encoder asks of its owner: an encoder was opened (submit it by the end of the turn), `batchSize` dispatches are waiting (submit now). */
export interface EncoderHooks {
  opened(): void;
  full(): void;
  /**
   * A buffer holding `words`, written by queue.writeBuffer (so it must not be one the open
   * encoder still reads), for one dispatch: `release` it once that dispatch is encoded.
   */
  upload(words: Uint32Array): { buffer: GPUBuffer; release(): void };
}

/**
 * Metadata words are cached once they have come in META_ADMIT different submits spanning at
 * least META_SPAN submits (others are uploaded per dispatch): shapes recur every step, while a
 * step counter recurs only within its step, which may be a few submits (a jit program's calls).
 */
const META_ADMIT = 3;
const META_SPAN = 4;

/**
 * The command encoder and the caches behind a dispatch: one open compute pass (WebGPU orders
 * successive dispatches in a pass; redundant setPipeline/setBindGroup calls are skipped),
 * pipelines by shader source and layout, bind groups by (layout, buffers) — createBindGroup
 * dominates the host cost of a dispatch — and metadata buffers (shapes, strides) by content once
 * they recur (see `metaBuffer`).
 */
export class Encoder {
  /** pipelines by shader source (memoised strings, so lookups hash nothing new), then layout code */
  private readonly pipelines = new Map<string, Map<number, GPUComputePipeline>>();
  private readonly layouts = new Map<number, Layout>();
  /** metadata buffers by a hash of their words (collisions chained) */
  private readonly metaCache = new Map<number, MetaEntry[]>();
  private metaCount = 0;
  /** metadata not cached yet, by hash: the last submit it came in, and in how many submits */
  private readonly metaSeen = new Map<number, { first: number; gen: number; n: number }>();
  /** the words of a transient metadata upload (reused) */
  private transientWords = new Uint32Array(64);
  /** bytes of the cached metadata buffers */
  metaBytes = 0;
  /** ids of GPUBuffers (never reused), for bind group keys */
  private readonly bufIds = new WeakMap<GPUBuffer, number>();
  private nextBufId = 1;
  /** bind groups by a hash of (layout, buffer ids) (collisions chained) */
  private readonly bgCache = new Map<number, BgEntry[]>();
  private bgCount = 0;
  /** the ids of a dispatch's buffers (reused: no array per dispatch) */
  private readonly idScratch: number[] = [];
  /** bind group entries by the id of each buffer they bind */
  private readonly bgByBuffer = new Map<number, Set<BgEntry>>();
  private tick = 0;
  private readonly metaToDestroy: GPUBuffer[] = [];
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  /** what the open pass last set (redundant setPipeline/setBindGroup calls are skipped) */
  private passPipe: GPUComputePipeline | null = null;
  private passBg: GPUBindGroup | null = null;
  private pendingDispatches = 0;
  private readonly batchSize: number;
  private readonly metaCacheSize: number;
  private readonly bgCacheSize: number;
  private readonly pipelineCacheSize: number;

  constructor(
    private readonly device: GPUDevice,
    opts: EncoderOptions,
    private readonly stats: { dispatches: number; submits: number; pipelines: number; bindGroups: number },
    private readonly hooks: EncoderHooks,
  ) {
    this.batchSize = opts.batchSize;
    this.metaCacheSize = opts.metaCacheSize;
    this.bgCacheSize = opts.bindGroupCacheSize;
    this.pipelineCacheSize = opts.pipelineCacheSize;
  }

  /** Cached bind groups. */
  get bindGroups(): number {
    return this.bgCount;
  }

  /** Shader sources with compiled pipelines kept. */
  get pipelineSources(): number {
    return this.pipelines.size;
  }

  enc(): GPUCommandEncoder {
    if (!this.encoder) {
      this.encoder = this.device.createCommandEncoder();
      this.hooks.opened();
    }
    return this.encoder;
  }

  endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  /** The layout for these binding kinds: bit 0 meta, bits 1-5 the count, bits 6.. the 'w' mask. */
  private layout(kinds: BindKind[], hasMeta: boolean): Layout {
    const n = kinds.length;
    let code = (hasMeta ? 1 : 0) | (n << 1);
    for (let i = 0; i < n; i++) if (kinds[i] === 'w') code += i < 24 ? 1 << (6 + i) : 2 ** (6 + i);
    let lay = this.layouts.get(code);
    if (!lay) {
      const entries: GPUBindGroupLayoutEntry[] = kinds.map((k, i) => ({
        binding: i,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: k === 'w' ? 'storage' : 'read-only-storage' },
      }));
      if (hasMeta) entries.push({ binding: n, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'read-only-storage' } });
      const bgl = this.device.createBindGroupLayout({ entries });
      lay = { bgl, pl: this.device.createPipelineLayout({ bindGroupLayouts: [bgl] }), code };
      this.layouts.set(code, lay);
    }
    return lay;
  }

  private pipeline(code: string, lay: Layout): GPUComputePipeline {
    const byLayout = this.pipelinesOf(code);
    let pipe = byLayout.get(lay.code);
    if (!pipe) {
      const module = this.device.createShaderModule({ code });
      pipe = this.device.createComputePipeline({ layout: lay.pl, compute: { module, entryPoint: 'main' } });
      byLayout.set(lay.code, pipe);
      this.stats.pipelines++;
    }
    return pipe;
  }

  /** The compiled pipelines of a shader source, by layout code (an entry made for a new source). */
  private pipelinesOf(code: string): Map<number, GPUComputePipeline> {
    let byLayout = this.pipelines.get(code);
    if (!byLayout) {
      // bounded: a program whose fused expressions keep changing would otherwise keep every
      // pipeline it ever compiled (first in, first out; a steady loop uses far fewer)
      if (this.pipelines.size >= this.pipelineCacheSize) this.pipelines.delete(this.pipelines.keys().next().value!);
      this.pipelines.set(code, (byLayout = new Map()));
    }
    return byLayout;
  }

  /**
   * Compiles the pipeline a dispatch of `code` with these binding kinds will use, without blocking
   * (createComputePipelineAsync), into the same cache; resolves once it is there.
   */
  async prepareAsync(code: string, kinds: BindKind[], hasMeta: boolean): Promise<void> {
    const lay = this.layout(kinds, hasMeta);
    if (this.pipelines.get(code)?.has(lay.code)) return;
    const module = this.device.createShaderModule({ code });
    const pipe = await this.device.createComputePipelineAsync({ layout: lay.pl, compute: { module, entryPoint: 'main' } });
    const byLayout = this.pipelinesOf(code);
    if (!byLayout.has(lay.code)) {
      byLayout.set(lay.code, pipe);
      this.stats.pipelines++;
    }
  }

  /**
   * The pipeline and bind group layout a dispatch of `code` with these binding kinds uses (from
   * the same caches as `dispatch`), for a caller that builds its own bind groups once and replays
   * them (the jit compiler, src/jit/webgpu). The objects stay valid after a cache evicts them.
   */
  prepared(code: string, kinds: BindKind[], hasMeta: boolean): { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout } {
    const lay = this.layout(kinds, hasMeta);
    return { pipeline: this.pipeline(code, lay), layout: lay.bgl };
  }

  /**
   * The open command encoder for a caller's own commands (its compute pass is ended first); call
   * `addDispatches` after, so they count toward `batchSize` and the stats.
   */
  openEncoder(): GPUCommandEncoder {
    this.endPass();
    return this.enc();
  }

  /** `n` dispatches were encoded by a caller into the open encoder (see `openEncoder`). */
  addDispatches(n: number): void {
    this.stats.dispatches += n;
    this.pendingDispatches += n;
    if (this.pendingDispatches >= this.batchSize) this.hooks.full();
  }

  private bufId(b: GPUBuffer): number {
    let id = this.bufIds.get(b);
    if (id === undefined) {
      id = this.nextBufId++;
      this.bufIds.set(b, id);
    }
    return id;
  }

  /** A buffer is about to be destroyed: drop the bind groups that bind it. */
  forgetBuffer(b: GPUBuffer): void {
    const id = this.bufIds.get(b);
    if (id === undefined) return;
    const set = this.bgByBuffer.get(id);
    if (!set) return;
    for (const e of [...set]) this.dropBindGroup(e);
  }

  private dropBindGroup(e: BgEntry): void {
    const bucket = this.bgCache.get(e.hash);
    const at = bucket ? bucket.indexOf(e) : -1;
    if (at < 0) return;
    bucket!.splice(at, 1);
    if (bucket!.length === 0) this.bgCache.delete(e.hash);
    this.bgCount--;
    for (const id of e.ids) {
      const set = this.bgByBuffer.get(id);
      if (set) {
        set.delete(e);
        if (set.size === 0) this.bgByBuffer.delete(id);
      }
    }
  }

  /** Evicts the least recently used quarter of the bind group cache. */
  private evictBindGroups(): void {
    const all: BgEntry[] = [];
    for (const b of this.bgCache.values()) for (const e of b) all.push(e);
    all.sort((x, y) => x.used - y.used);
    const n = Math.max(1, all.length >> 2);
    for (let i = 0; i < n; i++) this.dropBindGroup(all[i]!);
  }

  /**
   * The metadata buffer for these u32 words: an immutable one cached by content once the words
   * recur across submits (META_ADMIT, META_SPAN: shapes and strides recur every step), else a
   * pooled buffer written for this dispatch only (`release` set), so that a word that changes
   * every call — foldIn's data, a step counter — costs a queue write, not a buffer and a bind
   * group that are never used again.
   */
  private metaBuffer(words: ArrayLike<number>): { buf: GPUBuffer; id: number; release?: () => void } {
    const n = words.length;
    let h = n | 0;
    for (let i = 0; i < n; i++) h = Math.imul(h ^ (words[i]! >>> 0), 0x9e3779b1) ^ (h >>> 15);
    let bucket = this.metaCache.get(h);
    if (bucket) {
      outer: for (const e of bucket) {
        const w = e.words;
        if (w.length !== n) continue;
        for (let i = 0; i < n; i++) if (w[i] !== words[i]! >>> 0) continue outer;
        e.used = ++this.tick;
        return e;
      }
    }
    const gen = this.stats.submits;
    const seen = this.metaSeen.get(h);
    if (!seen || seen.gen === gen || seen.n + 1 < META_ADMIT || gen - seen.first < META_SPAN) {
      if (!seen) {
        if (this.metaSeen.size >= 4 * this.metaCacheSize) this.metaSeen.clear();
        this.metaSeen.set(h, { first: gen, gen, n: 1 });
      } else if (seen.gen !== gen) {
        seen.gen = gen;
        seen.n++;
      }
      const len = Math.max(4, (n + 3) & ~3);
      if (this.transientWords.length < len) this.transientWords = new Uint32Array(len);
      const tw = this.transientWords.subarray(0, len);
      for (let i = 0; i < n; i++) tw[i] = words[i]! >>> 0;
      const up = this.hooks.upload(tw);
      return { buf: up.buffer, id: this.bufId(up.buffer), release: up.release };
    }
    this.metaSeen.delete(h);
    if (!bucket) this.metaCache.set(h, (bucket = []));
    const size = Math.max(16, alignUp4(n * 4));
    const buf = this.device.createBuffer({ size, usage: GPUBufferUsage.STORAGE, mappedAtCreation: true, label: 'bt-meta' });
    const u = new Uint32Array(buf.getMappedRange());
    for (let i = 0; i < n; i++) u[i] = words[i]! >>> 0;
    const copy = u.slice(0, n);
    buf.unmap();
    const e: MetaEntry = { hash: h, words: copy, buf, id: this.bufId(buf), used: ++this.tick };
    bucket.push(e);
    this.metaCount++;
    this.metaBytes += size;
    if (this.metaCount > this.metaCacheSize) this.evictMeta(e);
    return e;
  }

  /** Evicts the least recently used quarter of the metadata cache (never `keep`). */
  private evictMeta(keep: MetaEntry): void {
    const all: MetaEntry[] = [];
    for (const b of this.metaCache.values()) for (const e of b) if (e !== keep) all.push(e);
    all.sort((x, y) => x.used - y.used);
    const n = Math.max(1, all.length >> 2);
    for (let i = 0; i < n; i++) {
      const e = all[i]!;
      const b = this.metaCache.get(e.hash)!;
      b.splice(b.indexOf(e), 1);
      if (b.length === 0) this.metaCache.delete(e.hash);
      this.metaCount--;
      this.metaBytes -= e.buf.size;
      this.forgetBuffer(e.buf);
      this.metaToDestroy.push(e.buf); // possibly used by the open encoder: destroyed after its submit
    }
  }

  dispatch(code: string, buffers: GPUBuffer[], kinds: BindKind[], meta: ArrayLike<number> | null, groups: readonly [number, number?, number?]): void {
    this.encodeDispatch(code, buffers, kinds, meta, groups, null, 0);
  }

  /**
   * A dispatch in a compute pass of its own whose start and end are written to `querySet` at
   * `at` and `at + 1` (the 'timestamp-query' feature): GPU time of this dispatch alone.
   */
  dispatchTimed(code: string, buffers: GPUBuffer[], kinds: BindKind[], meta: ArrayLike<number> | null, groups: readonly [number, number?, number?], querySet: GPUQuerySet, at: number): void {
    this.encodeDispatch(code, buffers, kinds, meta, groups, querySet, at);
  }

  private encodeDispatch(
    code: string,
    buffers: GPUBuffer[],
    kinds: BindKind[],
    meta: ArrayLike<number> | null,
    groups: readonly [number, number?, number?],
    querySet: GPUQuerySet | null,
    at: number,
  ): void {
    const gx = groups[0];
    const gy = groups[1] ?? 1;
    const gz = groups[2] ?? 1;
    if (gx === 0 || gy === 0 || gz === 0) return;
    const lay = this.layout(kinds, meta !== null);
    const pipe = this.pipeline(code, lay);
    const me = meta ? this.metaBuffer(meta) : null;
    const bg = this.bindGroup(lay, buffers, me);
    if (querySet) this.endPass();
    let pass = this.pass;
    if (!pass) {
      pass = this.pass = querySet
        ? this.enc().beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: at, endOfPassWriteIndex: at + 1 } })
        : this.enc().beginComputePass();
      this.passPipe = null;
      this.passBg = null;
    }
    if (this.passPipe !== pipe) {
      pass.setPipeline(pipe);
      this.passPipe = pipe;
    }
    if (this.passBg !== bg) {
      pass.setBindGroup(0, bg);
      this.passBg = bg;
    }
    pass.dispatchWorkgroups(gx, gy, gz);
    if (querySet) this.endPass();
    if (me?.release) me.release();
    this.stats.dispatches++;
    if (++this.pendingDispatches >= this.batchSize) this.hooks.full();
  }

  /** The bind group of these buffers (and metadata buffer) under `lay`, cached by their ids. */
  private bindGroup(lay: Layout, buffers: GPUBuffer[], me: { buf: GPUBuffer; id: number } | null): GPUBindGroup {
    const nb = buffers.length;
    const ids = this.idScratch;
    ids.length = 0;
    let h = lay.code;
    for (let i = 0; i < nb; i++) {
      const id = this.bufId(buffers[i]!);
      ids.push(id);
      h = Math.imul(h ^ id, 0x9e3779b1) ^ (h >>> 15);
    }
    if (me) {
      ids.push(me.id);
      h = Math.imul(h ^ me.id, 0x9e3779b1) ^ (h >>> 15);
    }
    let bucket = this.bgCache.get(h);
    if (bucket) {
      outer: for (const c of bucket) {
        if (c.layCode !== lay.code || c.ids.length !== ids.length) continue;
        for (let i = 0; i < ids.length; i++) if (c.ids[i] !== ids[i]) continue outer;
        c.used = ++this.tick;
        return c.bg;
      }
    }
    const entries: GPUBindGroupEntry[] = buffers.map((b, i) => ({ binding: i, resource: { buffer: b } }));
    if (me) entries.push({ binding: nb, resource: { buffer: me.buf } });
    const bg = this.device.createBindGroup({ layout: lay.bgl, entries });
    this.stats.bindGroups++;
    const e: BgEntry = { hash: h, layCode: lay.code, bg, ids: ids.slice(), used: ++this.tick };
    if (!bucket) this.bgCache.set(h, (bucket = []));
    bucket.push(e);
    this.bgCount++;
    for (const id of e.ids) {
      let set = this.bgByBuffer.get(id);
      if (!set) this.bgByBuffer.set(id, (set = new Set()));
      set.add(e);
    }
    if (this.bgCount > this.bgCacheSize) this.evictBindGroups();
    return bg;
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    if (bytes === 0) return;
    this.endPass();
    this.enc().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  clear(buf: GPUBuffer, bytes: number): void {
    if (bytes === 0) return;
    this.endPass();
    this.enc().clearBuffer(buf, 0, alignUp4(bytes));
  }

  /** Ends the pass and submits what was encoded, if anything. */
  submit(): void {
    this.endPass();
    if (this.encoder) {
      const cb = this.encoder.finish();
      this.encoder = null;
      this.device.queue.submit([cb]);
      this.stats.submits++;
    }
    this.pendingDispatches = 0;
    for (const b of this.metaToDestroy) b.destroy();
    this.metaToDestroy.length = 0;
  }

  destroy(): void {
    for (const b of this.metaCache.values()) for (const e of b) e.buf.destroy();
    this.metaCache.clear();
    this.metaCount = 0;
    this.bgCache.clear();
    this.bgCount = 0;
    this.bgByBuffer.clear();
  }
}
