/**
 * The chunking behind the Aggregated IMNN classes (imnn's `_AggregatedIMNN`): simulations are
 * processed nPerDevice at a time on each of the `devices` (backend names), chunk k of a section
 * on devices[k mod nDevices], and the results gathered on `host`, the backend the loss and the
 * optimiser run on. Only one chunk's intermediate values are alive at a time, so the memory of a
 * pass is bounded by nPerDevice (plus nS × nSummaries host outputs), not nS.
 *
 * Moves between backends are synchronous where they can be, so a pass runs inside an update: a
 * value is copied when its backend reads synchronously (CPU) and left alone when it already lives
 * on the target. Where a backend reads asynchronously and another one is involved (a CPU host
 * with a WebGPU device), fit runs the same passes with asynchronous moves (`mapAsync`, `sumAsync`;
 * floats take the target's default float: float32 on WebGPU) and the synchronous methods refuse.
 */
import { Tensor } from '../../tensor.js';
import { ConfigError } from '../../errors.js';
import { dispose, keep, tidy } from '../../memory.js';
import { backendByName, getBackend, withBackend, type Backend } from '../../backends/backend.js';
import { allocArray, type DType } from '../../dtype.js';
import { tensor } from '../../autodiff/ops/creation.js';
import { add, mul } from '../../autodiff/ops/elementwise.js';
import { sum } from '../../autodiff/ops/reduce.js';
import { concat as concatRows } from '../../autodiff/ops/shape.js';
import { flatten, map, unflatten, type PyTree } from '../../autodiff/tree.js';
import { valueAndGrad } from '../../autodiff/reverse.js';
import { describe } from './check.js';
import { imnnLoss, type LossAux } from './fisher.js';

/** The arguments of the Aggregated classes on top of their in-memory parent's. */
export interface AggregationOptions {
  /** the backend the loss, the optimiser and the gathered outputs live on (default: the current backend) */
  host?: string;
  /** the backends the chunks run on, chunk k on devices[k mod devices.length] (e.g. ['cpu']) */
  devices: string[];
  /** simulations per chunk: nS, nD and nS − nD must divide by devices.length · nPerDevice */
  nPerDevice: number;
}

/** prefetch and cache of the Aggregated classes with fixed simulation sets. */
export interface DataAggregationOptions extends AggregationOptions {
  /**
   * chunks moved to their device ahead of use (default 0: each just before it is used); with
   * asynchronous moves these transfers are in flight while the current chunk computes
   */
  prefetch?: number;
  /** keep every chunk moved to a device there for later passes (default false: free it after use) */
  cache?: boolean;
}

/** A chunk of a pass: where it runs, its (cacheable) data and per-pass extras such as cotangents. */
export interface Piece {
  /** the backend it runs on */
  device: string;
  /** the cache key of its data ('' = never cached, e.g. keys that change every iteration) */
  id: string;
  /** makes its data on the host (slices of a simulation set, or keys) */
  data: () => PyTree;
  /** makes what changes from pass to pass (the cotangents of pass 2) */
  extra?: () => PyTree;
}

/** What a pass runs on one piece, on its device: its data, its extras, w and θ moved there. */
export type PieceFn = (data: PyTree, extra: PyTree, w: PyTree, θ: Tensor) => PyTree;

/** A copy of `tree` on `backend` (leaves already there are returned themselves). */
export function moveSync<T>(tree: T, backend: string, op: string): T {
  const target = backendByName(backend);
  const [leaves, def] = flatten(tree as PyTree);
  const moved = leaves.map((l) => {
    if (!(l instanceof Tensor)) return l;
    const src = l.concrete()._backend!;
    if (src === target) return l;
    // a copy would drop a trace silently: the passes are not differentiated through (getGradient is the VJP)
    if (l._backend === null) throw new ConfigError(`${op}: a traced value (inside grad/jvp/vmap) cannot move from '${src.name}' to '${backend}'; the Aggregated passes are not differentiable across backends: use getGradient for dΛ/dw.`);
    if (!src.readSync) throw new ConfigError(`${op}: a value on backend '${src.name}' cannot be read synchronously to move it to '${backend}'; use getSummariesAsync/getGradientAsync (fit does), or one backend for host and devices.`);
    return withBackend(backend, () => tensor(l.dataSync().slice(), { shape: [...l.shape], dtype: floatOn(l.dtype, target) }));
  });
  return unflatten(def, moved) as T;
}

/** The dtype a value takes on `target`: float leaves become its default float (WebGPU: float32), int32 stays. */
function floatOn(dtype: DType, target: Backend): DType {
  return dtype === 'int32' ? dtype : target.defaultFloat ?? 'float64';
}

/** moveSync for any backends: reads asynchronously where it must (WebGPU). The copies are not in any tidy scope. */
export async function moveAsync<T>(tree: T, backend: string, op: string): Promise<T> {
  const target = backendByName(backend);
  const [leaves, def] = flatten(tree as PyTree);
  const moved = await Promise.all(leaves.map(async (l) => {
    if (!(l instanceof Tensor)) return l;
    const src = l.concrete()._backend!;
    if (src === target) return l;
    if (l._backend === null) throw new ConfigError(`${op}: a traced value (inside grad/jvp/vmap) cannot move from '${src.name}' to '${backend}'.`);
    const dtype = floatOn(l.dtype, target);
    const values = allocArray(dtype, l.size);
    values.set(await l.data());
    return withBackend(backend, () => tensor(values, { shape: [...l.shape], dtype }));
  }));
  return unflatten(def, moved) as T;
}

/** Disposes the tensors of `tree` that are not in `orig` (a move's copies). */
function releaseCopies(tree: PyTree, orig: PyTree): void {
  const keepSet = new Set(flatten(orig)[0]);
  for (const l of flatten(tree)[0]) if (l instanceof Tensor && !keepSet.has(l) && !l.isDisposed) l.dispose();
}

/**
 * The checked chunking of nS simulations, the first nD of which have derivatives, and the passes
 * over them: `map` (outputs gathered on the host, in order) and `sum` (gradients summed there).
 */
export class Aggregation {
  readonly host: string;
  readonly devices: string[];
  readonly nPerDevice: number;
  readonly prefetch: number;
  readonly cache: boolean;
  /**
   * Whether values move between host and devices synchronously (one backend, or all read
   * synchronously like the CPU): then every method works; otherwise (a CPU host with a WebGPU
   * device, say) fit runs the passes asynchronously and the synchronous getSummaries/getGradient
   * refuse, pointing to getSummariesAsync/getGradientAsync.
   */
  readonly sync: boolean;
  /** nS − nD: the simulations without a derivative */
  readonly nRemaining: number;
  /** chunks-per-device passes over the nD derivative simulations */
  readonly nIterations: number;
  /** chunks-per-device passes over the nS − nD remaining ones */
  readonly nRemainingIterations: number;
  /** [nD / (nDevices · nPerDevice), nDevices, nPerDevice] */
  readonly batchShape: number[];
  /** [(nS − nD) / (nDevices · nPerDevice), nDevices, nPerDevice] */
  readonly remainingBatchShape: number[];
  private readonly cached = new Map<string, PyTree>();
  private readonly protectedSet = new WeakSet<Tensor>();
  private readonly op: string;

  constructor(op: string, nS: number, nD: number, o: Partial<DataAggregationOptions>, withData: boolean) {
    this.op = op;
    const host = o.host ?? getBackend();
    if (typeof host !== 'string') throw new ConfigError(`${op}: host must be a backend name such as 'cpu', got ${describe(host)}.`);
    const devices = o.devices;
    if (!Array.isArray(devices) || devices.length === 0 || devices.some((d) => typeof d !== 'string')) {
      throw new ConfigError(`${op}: devices must be a non-empty array of backend names (e.g. ['cpu']), got ${describe(devices)}.`);
    }
    for (const name of [host, ...devices]) backendByName(name); // a BackendError names an unknown or uninitialised one
    const readsSync = [host, ...devices].map((d) => !!backendByName(d).readSync);
    const distinct = new Set([host, ...devices].map((d) => backendByName(d)));
    this.sync = distinct.size === 1 || readsSync.every((r) => r);
    const nPer = o.nPerDevice;
    if (typeof nPer !== 'number' || !Number.isInteger(nPer) || nPer < 1) throw new ConfigError(`${op}: nPerDevice must be a positive integer, got ${describe(nPer)}.`);
    const per = devices.length * nPer;
    for (const [name, n] of [['nS', nS], ['nD', nD], ['nS − nD', nS - nD]] as const) {
      if (n % per !== 0) {
        throw new ConfigError(`${op}: ${name} = ${n} does not divide into chunks of devices.length · nPerDevice = ${devices.length} · ${nPer} = ${per}; choose nPerDevice (or the number of devices) so that nS, nD and nS − nD are multiples of it.`);
      }
    }
    if (withData) {
      if (o.prefetch !== undefined && (typeof o.prefetch !== 'number' || !Number.isInteger(o.prefetch) || o.prefetch < 0)) throw new ConfigError(`${op}: prefetch must be a non-negative integer (chunks moved ahead), got ${describe(o.prefetch)}.`);
      if (o.cache !== undefined && typeof o.cache !== 'boolean') throw new ConfigError(`${op}: cache must be a boolean, got ${describe(o.cache)}.`);
    }
    this.host = host;
    this.devices = [...devices];
    this.nPerDevice = nPer;
    this.prefetch = o.prefetch ?? 0;
    this.cache = o.cache ?? false;
    this.nRemaining = nS - nD;
    this.nIterations = nD / per;
    this.nRemainingIterations = (nS - nD) / per;
    this.batchShape = [this.nIterations, devices.length, nPer];
    this.remainingBatchShape = [this.nRemainingIterations, devices.length, nPer];
  }

  /** The device of chunk k of a section. */
  device(k: number): string {
    return this.devices[k % this.devices.length]!;
  }

  /** Chunks of nPerDevice over [start, start + n): their offsets and devices. */
  chunks(start: number, n: number): { offset: number; device: string }[] {
    const out: { offset: number; device: string }[] = [];
    for (let k = 0; k * this.nPerDevice < n; k++) out.push({ offset: start + k * this.nPerDevice, device: this.device(k) });
    return out;
  }

  /** Tensors a pass never frees (the simulation sets a chunk may be the whole of). */
  protect(tree: PyTree): void {
    for (const l of flatten(tree)[0]) if (l instanceof Tensor) this.protectedSet.add(l);
  }

  private releaseExcept(tree: PyTree, keepTree: PyTree): void {
    const keepSet = new Set(flatten(keepTree)[0]);
    for (const l of flatten(tree)[0]) if (l instanceof Tensor && !l.isDisposed && !keepSet.has(l) && !this.protectedSet.has(l)) l.dispose();
  }

  private release(tree: PyTree): void {
    for (const l of flatten(tree)[0]) if (l instanceof Tensor && !l.isDisposed && !this.protectedSet.has(l)) l.dispose();
  }

  /**
   * Runs fn(data, extra, wDev, θDev) on each piece's device, one piece at a time, `prefetch`
   * pieces' data moved ahead, and hands each result, moved to the host, to onResult (which owns
   * it). w and θ are moved to each device once per pass.
   */
  private each(pieces: Piece[], w: PyTree, θ: Tensor, fn: PieceFn, onResult: (r: PyTree) => void): void {
    const onDevice = new Map<string, [PyTree, Tensor]>();
    const ahead = new Map<number, PyTree>();
    const cached = (p: Piece) => p.id !== '' && this.cache;
    const fetch = (i: number): PyTree => {
      const p = pieces[i]!;
      const hit = cached(p) ? this.cached.get(p.id) : undefined;
      if (hit) return hit;
      // the slices made here are freed by tidy unless they are what is returned (no copy needed)
      const moved = keep(tidy(() => moveSync(p.data(), p.device, this.op)));
      if (cached(p)) this.cached.set(p.id, moved);
      return moved;
    };
    try {
      for (let i = 0; i < pieces.length; i++) {
        const p = pieces[i]!;
        for (let j = i; j <= Math.min(i + this.prefetch, pieces.length - 1); j++) if (!ahead.has(j)) ahead.set(j, fetch(j));
        const data = ahead.get(i)!;
        ahead.delete(i);
        let wd = onDevice.get(p.device);
        if (!wd) {
          const moved: [PyTree, Tensor] = [moveSync(w, p.device, this.op), moveSync(θ, p.device, this.op)];
          keep(flatten(moved)[0].filter((l) => !flatten([w, θ])[0].includes(l)));
          wd = moved;
          onDevice.set(p.device, wd);
        }
        const [wDev, θDev] = wd;
        const r = tidy(() => {
          const extra = p.extra ? moveSync(p.extra(), p.device, this.op) : undefined;
          const out = withBackend(p.device, () => fn(data, extra, wDev, θDev));
          return moveSync(out, this.host, this.op);
        });
        if (!cached(p)) this.release(data);
        onResult(r);
      }
    } finally {
      for (const [i, d] of ahead) if (!cached(pieces[i]!)) this.release(d);
      for (const [wDev, θDev] of onDevice.values()) releaseCopies([wDev, θDev], [w, θ]);
    }
  }

  /** `each` with asynchronous moves; `prefetch` pieces' moves are in flight ahead of use. */
  private async eachAsync(pieces: Piece[], w: PyTree, θ: Tensor, fn: PieceFn, onResult: (r: PyTree) => void): Promise<void> {
    const onDevice = new Map<string, [PyTree, Tensor]>();
    const ahead = new Map<number, Promise<PyTree>>();
    const cached = (p: Piece) => p.id !== '' && this.cache;
    const moveOwned = async (p: Piece, make: () => PyTree): Promise<PyTree> => {
      const src = keep(tidy(make));
      const moved = await moveAsync(src, p.device, this.op);
      if (moved !== src) this.releaseExcept(src, moved); // the host slices, once copied
      return moved;
    };
    const fetch = (i: number): Promise<PyTree> => {
      const p = pieces[i]!;
      const hit = cached(p) ? this.cached.get(p.id) : undefined;
      if (hit) return Promise.resolve(hit);
      return moveOwned(p, p.data).then((moved) => {
        if (cached(p)) this.cached.set(p.id, moved);
        return moved;
      });
    };
    try {
      for (let i = 0; i < pieces.length; i++) {
        const p = pieces[i]!;
        for (let j = i; j <= Math.min(i + this.prefetch, pieces.length - 1); j++) if (!ahead.has(j)) ahead.set(j, fetch(j));
        const data = await ahead.get(i)!;
        ahead.delete(i);
        let wd = onDevice.get(p.device);
        if (!wd) {
          wd = [await moveAsync(w, p.device, this.op), await moveAsync(θ, p.device, this.op)];
          onDevice.set(p.device, wd);
        }
        const [wDev, θDev] = wd;
        const extra = p.extra ? await moveOwned(p, p.extra) : undefined;
        const out = keep(tidy(() => withBackend(p.device, () => fn(data, extra, wDev, θDev))));
        this.release(extra);
        if (!cached(p)) this.release(data);
        const r = await moveAsync(out, this.host, this.op);
        releaseCopies(out, r);
        onResult(r);
      }
    } finally {
      for (const [i, d] of ahead) void d.then((v) => !cached(pieces[i]!) && this.release(v), () => {});
      for (const [wDev, θDev] of onDevice.values()) releaseCopies([wDev, θDev], [w, θ]);
    }
  }

  /** `map` with asynchronous moves (results owned by the caller, in no tidy scope). */
  async mapAsync(pieces: Piece[], w: PyTree, θ: Tensor, fn: PieceFn): Promise<PyTree[]> {
    const out: PyTree[] = [];
    await this.eachAsync(pieces, w, θ, fn, (r) => out.push(r));
    return out;
  }

  /** `sum` with asynchronous moves. */
  async sumAsync(pieces: Piece[], w: PyTree, θ: Tensor, fn: PieceFn): Promise<PyTree> {
    let acc: PyTree | undefined;
    await this.eachAsync(pieces, w, θ, fn, (r) => {
      if (acc === undefined) {
        acc = r;
        return;
      }
      const prev = acc;
      acc = keep(tidy(() => withBackend(this.host, () => map((a: Tensor, b: Tensor) => add(a, b), prev, r))));
      dispose([prev, r]);
    });
    return acc!;
  }

  /** fn over the pieces, each result on the host, in order (in the caller's tidy scope). */
  map(pieces: Piece[], w: PyTree, θ: Tensor, fn: PieceFn): PyTree[] {
    const out: PyTree[] = [];
    this.each(pieces, w, θ, fn, (r) => out.push(r));
    return out;
  }

  /** Σ over the pieces of fn (a pytree of tensors, e.g. a weight gradient), summed on the host. */
  sum(pieces: Piece[], w: PyTree, θ: Tensor, fn: PieceFn): PyTree {
    let acc: PyTree | undefined;
    this.each(pieces, w, θ, fn, (r) => {
      if (acc === undefined) {
        acc = r;
        return;
      }
      const prev = acc;
      acc = tidy(() => withBackend(this.host, () => map((a: Tensor, b: Tensor) => add(a, b), prev, r)));
      dispose([prev, r]);
    });
    return acc!;
  }

  /** Frees the cached chunks. */
  clearCache(): void {
    for (const v of this.cached.values()) this.release(v);
    this.cached.clear();
  }
}

/** Concatenates the pieces' outputs column by column on the host (output j of every piece along axis 0), then frees the pieces' outputs. */
export function gather(host: string, outs: Tensor[][]): Tensor[] {
  if (outs.length === 0) return [];
  const cols = outs[0]!.map((_, j) => withBackend(host, () => concatRows(outs.map((o) => o[j]!))));
  const result = new Set(cols);
  for (const o of outs) for (const t of o) if (!result.has(t)) t.dispose();
  return cols;
}

/** Rows of a then b on the host (a alone when b is absent); frees a and b. */
export function joinRows(host: string, a: Tensor, b: Tensor | undefined): Tensor {
  if (b === undefined) return a;
  const r = withBackend(host, () => concatRows([a, b], 0));
  a.dispose();
  b.dispose();
  return r;
}

/** Σ_k ⟨ct_k, y_k⟩: the scalar whose gradient is the vector–Jacobian product of y along ct. */
export function contract(ct: Tensor[], ys: Tensor[]): Tensor {
  let s: Tensor | undefined;
  ct.forEach((c, k) => {
    const term = sum(mul(c, ys[k]!));
    s = s === undefined ? term : add(s, term);
  });
  return s!;
}

/**
 * The host half of the two-pass chain rule: Λ from the gathered outputs x and `a` (∂x/∂θ, or
 * what `derive` turns into it), with dΛ/dx and dΛ/da — the cotangents the second pass carries
 * back through the network chunk by chunk.
 */
export function lossCotangents(host: string, x: Tensor, a: Tensor, derive: (a: Tensor) => Tensor, λ: number, α: number): [Tensor, LossAux, [Tensor, Tensor]] {
  return withBackend(host, () => {
    const [[loss, st], g] = valueAndGrad((xv: Tensor, av: Tensor) => imnnLoss(xv, derive(av), λ, α), { argnums: [0, 1], hasAux: true })(x, a) as [[Tensor, LossAux], [Tensor, Tensor]];
    return [loss, st, g];
  });
}
