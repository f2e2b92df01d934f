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
};

interface Entry {
  exec: Executable;
  outDef: TreeDef;
  /** Per output leaf: an index into the program's outputs, or a non-tensor value returned as is. */
  outLeaves: ({ k: number } | { value: unknown })[];
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
 * structure, shapes, dtypes, backend, static values) into a program of primitive applications, and
 * then runs that program directly against the backend's kernels. Called with values of an outer
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
    } finally {
      popTrace(t);
    }
    const invars: number[] = [];
    let n = 0;
    for (const ls of leavesPerArg) for (let j = 0; j < ls.length; j++) invars.push(n++);
    const prog = { avals: t.avals, invars, constvars: t.constvars, consts: t.consts, eqns: t.eqns, outvars };
    return { exec: compile(prog, backend), outDef, outLeaves };
  };

  const jitted = ((...args: unknown[]) => {
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
    let entry = cache.get(key);
    if (entry) {
      hits++;
      cache.delete(key);
    } else {
      misses++;
      entry = trace(args, leavesPerArg, defs, backend);
      if (cache.size >= maxSize) {
        const oldest = cache.keys().next().value!;
        for (const c of cache.get(oldest)!.exec.program.consts) c.dispose();
        cache.delete(oldest);
      }
    }
    cache.set(key, entry);
    const outs = entry.exec(leavesPerArg.flat());
    return unflatten(entry.outDef, entry.outLeaves.map((o) => ('k' in o ? outs[o.k] : o.value)));
  }) as unknown as Jitted<F>;
  Object.defineProperty(jitted, 'retraces', { get: () => misses });
  jitted.cacheInfo = () => ({ hits, misses, size: cache.size, maxSize });
  jitted.clearCache = () => {
    for (const e of cache.values()) for (const c of e.exec.program.consts) c.dispose();
    cache.clear();
  };
  return jitted;
}
