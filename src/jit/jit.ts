import { Tensor } from '../tensor.js';
import { ConfigError } from '../errors.js';
import { popTrace, pushTrace, Tracer } from '../autodiff/core.js';
import { flatten, unflatten, type TreeDef } from '../autodiff/tree.js';
import { currentBackend, type Backend } from '../backends/backend.js';
import { keep, tidy } from '../memory.js';
import { checkKnown } from '../validate.js';
import { JitTrace } from './ir.js';
import { compile, type Executable } from './run.js';

/** Options of `jit`. */
export interface JitOptions {
  /** Arguments passed by value into the trace (numbers, strings, plain data): a new value retraces. */
  staticArgnums?: number[];
  /** Arguments whose buffers the caller gives up (accepted and checked; buffers are not reused yet). */
  donateArgnums?: number[];
  /** How many compiled programs to keep (least recently used evicted first); 64 by default. */
  cacheSize?: number;
}

/** Counters of a jitted function's compiled-program cache. */
export interface JitCacheInfo {
  hits: number;
  misses: number;
  size: number;
  maxSize: number;
}

/**
 * A jitted function: f's signature, plus its cache counters.
 *
 * @typeParam F - the type of the function that was jitted.
 */
export type Jitted<F extends (...args: any[]) => any> = ((...args: Parameters<F>) => ReturnType<F>) & {
  /** Hits, misses (= traces) and entries of the compiled-program cache. */
  cacheInfo(): JitCacheInfo;
  /** How many times f has been traced. */
  readonly retraces: number;
  /** Drops every compiled program. */
  clearCache(): void;
  /**
   * The program the last call ran, in words: its steps (fused loops such as
   * `loop[256,128]: mul sub mul → reduceSum`, and the kernels between them, such as `matmul` or
   * CPU `tanh` over 256+ elements, which runs a Wasm routine) and the bytes of buffers it keeps
   * between calls; null before the first call. Steps are listed by the CPU and WebGPU compilers
   * (on WebGPU, fused kernels such as `fused[256,128]: add tanh`, or one line saying why the
   * program is interpreted op by op).
   */
  compiled(): { steps: readonly string[]; arenaBytes: number; equations: number } | null;
};

interface Entry {
  exec: Executable;
  outDef: TreeDef;
  /** Per output leaf: an index into the program's outputs, or a non-tensor value returned as is. */
  outLeaves: ({ k: number } | { value: unknown })[];
  key: string;
  /** What the arguments looked like when traced, for the cheap re-check of the next call. */
  guard: ArgGuard[];
  backend: Backend;
}

/** One argument as traced: a static value, or a pytree of tensors of these shapes and dtypes. */
type ArgGuard = { static: unknown; key: string } | { def: TreeDef; avals: { shape: readonly number[]; dtype: string }[] };

/**
 * Collects the tensor leaves of `x` into `out` if x has exactly the structure `def` and each leaf
 * is a live concrete tensor on `backend` with the recorded shape and dtype; false otherwise.
 * Walks plain objects by the recorded (sorted) keys, so no sort and no string keys per call.
 */
function matchTree(def: TreeDef, x: unknown, avals: { shape: readonly number[]; dtype: string }[], backend: Backend, out: Tensor[], base: number): boolean {
  if (def.kind === 'leaf') {
    if (!(x instanceof Tensor) || x._backend !== backend || x._disposed) return false;
    const a = avals[out.length - base]!;
    if (x.dtype !== a.dtype || x.shape.length !== a.shape.length) return false;
    for (let i = 0; i < a.shape.length; i++) if (x.shape[i] !== a.shape[i]) return false;
    out.push(x);
    return true;
  }
  if (def.kind === 'array') {
    if (!Array.isArray(x) || x.length !== def.children.length) return false;
    for (let i = 0; i < x.length; i++) if (!matchTree(def.children[i]!, x[i], avals, backend, out, base)) return false;
    return true;
  }
  if (x === null || typeof x !== 'object' || Object.getPrototypeOf(x) !== Object.prototype) return false;
  const o = x as Record<string, unknown>;
  let n = 0;
  for (const _k in o) n++;
  if (n !== def.keys.length) return false;
  for (let i = 0; i < def.keys.length; i++) {
    const k = def.keys[i]!;
    if (!Object.prototype.hasOwnProperty.call(o, k) || !matchTree(def.children[i]!, o[k], avals, backend, out, base)) return false;
  }
  return true;
}

function matchArgs(e: Entry, args: unknown[], out: Tensor[]): boolean {
  const g = e.guard;
  if (args.length !== g.length) return false;
  for (let i = 0; i < g.length; i++) {
    const a = g[i]!;
    if ('static' in a) {
      // an object is re-keyed every call: the caller may have changed it since
      const v = args[i];
      if (typeof v === 'object' && v !== null ? staticKey('jit', i, v) !== a.key : v !== a.static) return false;
    } else if (!matchTree(a.def, args[i], a.avals, e.backend, out, out.length)) return false;
  }
  // without tensor arguments the program runs on the current backend: it must not have changed
  return out.length > 0 || currentBackend() === e.backend;
}

/** How many recently run entries a call checks before building a cache key. */
const RECENT = 4;

/** Frees what a compiled program holds: its arena and its consts. */
function drop(e: Entry): void {
  e.exec.dispose?.();
  for (const c of e.exec.program.consts) c.dispose();
}

function staticKey(name: string, i: number, v: unknown): string {
  if (v === null || v === undefined || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return `${typeof v}:${String(v)}`;
  if (v instanceof Tensor) throw new ConfigError(`${name}: static argument ${i} is a Tensor; a static argument must be plain data (number, string, boolean, or arrays/objects of them). Drop ${i} from staticArgnums.`);
  try {
    return `json:${JSON.stringify(v, (_k, x) => {
      if (x instanceof Tensor || typeof x === 'function' || typeof x === 'symbol' || typeof x === 'bigint') throw new Error('unhashable');
      return x;
    })}`;
  } catch {
    throw new ConfigError(`${name}: static argument ${i} is not hashable plain data (it holds a Tensor, function or cycle). Pass it as a non-static argument or reduce it to numbers/strings.`);
  }
}

/**
 * jit(f, { staticArgnums, donateArgnums, cacheSize }): traces f once per input signature (pytree
 * structure, shapes, dtypes, backend, static values) into a program of primitive applications and
 * compiles it. On the CPU backend, chains of elementwise ops (and the sums/maxima they feed) run as
 * generated loops, intermediates live in buffers planned once per program and reused every call,
 * and other ops call their kernels; results equal eager dispatch bit for bit. On WebGPU the program's
 * kernels (elementwise chains fused as the backend fuses them) are recorded once with their
 * pipelines, bind groups and buffers, and each call is one command buffer (src/jit/webgpu); results
 * equal eager WebGPU within float32 rounding. Other backends replay the program kernel by kernel. A call whose arguments look like the previous call's (same
 * structure, shapes, dtypes, statics) skips the cache lookup. Called with values of an outer
 * transform (inside grad, jvp, vmap), f is inlined into that transform, so every composition gives
 * the un-jitted numbers. Reading a traced value on the host inside f throws a TracerError.
 *
 * @typeParam F - the type of f; the jitted function keeps its parameter and return types.
 */
export function jit<F extends (...args: any[]) => any>(f: F, opts?: JitOptions): Jitted<F> {
  checkKnown('jit', opts, ['staticArgnums', 'donateArgnums', 'cacheSize']);
  if (typeof f !== 'function') throw new ConfigError('jit(f): f must be a function.');
  const statics = new Set(opts?.staticArgnums ?? []);
  for (const s of [...statics, ...(opts?.donateArgnums ?? [])]) {
    if (!Number.isInteger(s) || s < 0) throw new ConfigError(`jit: staticArgnums/donateArgnums entries must be non-negative integers, got ${s}.`);
  }
  const maxSize = opts?.cacheSize ?? 64;
  if (!Number.isInteger(maxSize) || maxSize < 1) throw new ConfigError(`jit: cacheSize must be a positive integer, got ${maxSize}.`);
  const cache = new Map<string, Entry>();
  // The entries the last few calls ran, newest first: checked against the arguments before any key
  // is built, so a caller alternating between a few shapes (one point, a batch) stays on this path.
  let recent: Entry[] = [];
  let hits = 0;
  let misses = 0;

  const trace = (args: unknown[], leavesPerArg: Tensor[][], defs: (TreeDef | null)[], backend: Backend): Entry => {
    const t = pushTrace((lvl) => new JitTrace(lvl, backend));
    const outvars: number[] = [];
    let outDef: TreeDef = { kind: 'leaf' };
    let outLeaves: Entry['outLeaves'] = [];
    try {
      tidy(() => {
        const callArgs = args.map((a, i) => (defs[i] === null ? a : unflatten(defs[i]!, leavesPerArg[i]!.map((l) => t.newVar(l)))));
        const [ol, def] = flatten(f(...callArgs));
        outDef = def;
        // Inside the scope: an output made inside f (a constant) is still alive to be captured.
        outLeaves = ol.map((l) => {
          if (!(l instanceof Tensor)) return { value: l };
          outvars.push(t.varOf(l));
          return { k: outvars.length - 1 };
        });
        return null;
      });
    } catch (e) {
      // a failed trace (a host read, a shape error in f) leaves no constants behind
      for (const c of t.consts) c.dispose();
      throw e;
    } finally {
      popTrace(t);
    }
    const invars: number[] = [];
    let n = 0;
    for (const ls of leavesPerArg) for (let j = 0; j < ls.length; j++) invars.push(n++);
    const prog = { avals: t.avals, invars, constvars: t.constvars, consts: t.consts, eqns: t.eqns, outvars };
    const guard: ArgGuard[] = args.map((a, i) =>
      defs[i] === null ? { static: a, key: staticKey('jit', i, a) } : { def: defs[i]!, avals: leavesPerArg[i]!.map((l) => ({ shape: l.shape.slice(), dtype: l.dtype })) },
    );
    return { exec: compile(prog, backend), outDef, outLeaves, key: '', guard, backend };
  };

  const run = (entry: Entry, leaves: Tensor[]) => {
    const outs = entry.exec(leaves);
    const ol = entry.outLeaves;
    if (entry.outDef.kind === 'leaf' && ol.length === 1 && 'k' in ol[0]!) return outs[ol[0].k];
    return unflatten(entry.outDef, ol.map((o) => ('k' in o ? outs[o.k] : o.value)));
  };

  const jitted = ((...args: unknown[]) => {
    for (let r = 0; r < recent.length; r++) {
      const e = recent[r]!;
      const leaves: Tensor[] = [];
      if (matchArgs(e, args, leaves)) {
        hits++;
        if (r > 0) {
          recent.splice(r, 1);
          recent.unshift(e);
        }
        return run(e, leaves);
      }
    }
    const leavesPerArg: Tensor[][] = [];
    const defs: (TreeDef | null)[] = [];
    let key = `${args.length}|`;
    let backend: Backend | null = null;
    let outer = false;
    for (let i = 0; i < args.length; i++) {
      if (statics.has(i)) {
        key += `s${staticKey('jit', i, args[i])}|`;
        leavesPerArg.push([]);
        defs.push(null);
        continue;
      }
      const [ls, def] = flatten(args[i]);
      const ts: Tensor[] = [];
      for (const l of ls) {
        if (!(l instanceof Tensor)) {
          throw new ConfigError(`jit: argument ${i} holds a ${l === null ? 'null' : typeof l} leaf, not a Tensor. Mark it static (jit(f, { staticArgnums: [${i}] })) or pass it as a tensor (bt.scalar/bt.tensor).`);
        }
        if (l instanceof Tracer) outer = true;
        else {
          const b = l.concrete()._backend!;
          if (backend === null) backend = b;
          else if (b !== backend) throw new ConfigError(`jit: argument ${i} lives on backend '${b.name}' but an earlier one on '${backend.name}'. Move them to one backend first.`);
        }
        ts.push(l);
        key += `${l.dtype}[${l.shape.join(',')}]`;
      }
      key += `${JSON.stringify(def)}|`;
      leavesPerArg.push(ts);
      defs.push(def);
    }
    // Inside an outer transform, inline f: the transform sees every primitive and its rules.
    if (outer) return f(...(args as Parameters<F>));
    backend ??= currentBackend();
    key += backend.name;
    // Calls that took the fast path did not refresh the LRU order: the recent entries are the newest.
    for (let r = recent.length - 1; r >= 0; r--) {
      const e = recent[r]!;
      if (cache.get(e.key) !== e) continue;
      cache.delete(e.key);
      cache.set(e.key, e);
    }
    let entry = cache.get(key);
    if (entry) {
      hits++;
      cache.delete(key);
    } else {
      misses++;
      entry = trace(args, leavesPerArg, defs, backend);
      entry.key = key;
      if (cache.size >= maxSize) {
        const oldest = cache.keys().next().value!;
        const old = cache.get(oldest)!;
        drop(old);
        cache.delete(oldest);
        recent = recent.filter((e) => e !== old);
      }
    }
    cache.set(key, entry);
    recent = [entry, ...recent.filter((e) => e !== entry)].slice(0, RECENT);
    return run(entry, leavesPerArg.flat());
  }) as unknown as Jitted<F>;
  Object.defineProperty(jitted, 'retraces', { get: () => misses });
  jitted.cacheInfo = () => ({ hits, misses, size: cache.size, maxSize });
  jitted.compiled = () =>
    recent.length === 0 ? null : { steps: recent[0]!.exec.steps ?? [], arenaBytes: recent[0]!.exec.arenaBytes ?? 0, equations: recent[0]!.exec.program.eqns.length };
  jitted.clearCache = () => {
    for (const e of cache.values()) drop(e);
    cache.clear();
    recent = [];
  };
  return jitted;
}
