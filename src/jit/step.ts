/**
 * The `jit` option of the algorithms (SG-MCMC samplers, VI): one step function traced once per
 * input signature and replayed, with the eager function kept for the fallback.
 *
 * - `jit: undefined` (the default): the step is jitted; if tracing fails with a TracerError (the
 *   user's function reads a value on the host or branches on data), the step runs eagerly from
 *   then on, after ONE console warning naming the reason.
 * - `jit: true`: the TracerError is thrown.
 * - `jit: false`: always eager (the same numbers; nothing traced).
 *
 * The step's arguments may be any pytrees: their Tensor leaves are the program's inputs, and the
 * rest (numbers, strings, null, objects that are not plain containers) is part of the cache key
 * (primitives by value, objects by identity), handed back unchanged when the step is traced.
 */
import { Tensor } from '../tensor.js';
import { ConfigError, TracerError } from '../errors.js';
import { flatten, unflatten, type TreeDef } from '../autodiff/tree.js';
import { jit, type JitCacheInfo } from './jit.js';
import { identityIds } from '../identity.js';

/** The `jit` option of an algorithm: undefined (default: on, with a warned fallback), true or false. */
export type JitOption = boolean | undefined;

/** ConfigError unless `v` is a boolean or undefined. */
export function checkJitOption(op: string, v: unknown): JitOption {
  if (v !== undefined && typeof v !== 'boolean') {
    throw new ConfigError(`${op}: jit must be true, false or left out (default: jitted, falling back to eager with a warning), got ${String(v)}.`);
  }
  return v;
}

/** A step function with the jit option applied; see the module comment. */
export interface JitStep<F extends (...args: any[]) => any> {
  (...args: Parameters<F>): ReturnType<F>;
  /** Whether calls are traced and replayed (false with jit: false or after a fallback). */
  readonly jitted: boolean;
  /** How many times the step has been traced. */
  readonly retraces: number;
  /** The compiled-program cache's counters (null once eager). */
  cacheInfo(): JitCacheInfo | null;
  /** Frees the compiled programs (and the constants they hold); the step keeps working (it retraces). */
  dispose(): void;
}

/** ids of the objects and functions among a step's leaves (cache keys by identity) */
const idOf = identityIds();

/** The cache key of a non-Tensor leaf: a primitive by value, an object or function by identity. */
function leafKey(v: unknown): string {
  if (v === null) return 'null';
  const t = typeof v;
  if (t === 'object' || t === 'function') return `#${idOf(v as object)}`;
  if (t === 'number') return Object.is(v, -0) ? 'n-0' : `n${v as number}`;
  return `${t[0]}${String(v)}`;
}

/**
 * Wraps `f` with the jit option `mode` (see the module comment). `op` names the algorithm in the
 * fallback warning and in errors.
 */
export function jitStep<F extends (...args: any[]) => any>(op: string, f: F, mode: JitOption, opts: { cacheSize?: number } = {}): JitStep<F> {
  let active = mode !== false;
  let warned = false;
  // What the current call's non-Tensor leaves and structures are: read when the step is traced.
  let pending: { defs: TreeDef[]; others: unknown[][]; tensorAt: boolean[][] } | null = null;
  const inner = (_key: string, leaves: Tensor[]) => {
    const p = pending!;
    let k = 0;
    const args = p.defs.map((def, i) => {
      const others = p.others[i]!;
      let o = 0;
      const ls = p.tensorAt[i]!.map((isT) => (isT ? leaves[k++] : others[o++]));
      return unflatten(def, ls);
    });
    return f(...args);
  };
  const jitted = jit(inner, { staticArgnums: [0], ...(opts.cacheSize ? { cacheSize: opts.cacheSize } : {}) });

  const call = ((...args: Parameters<F>): ReturnType<F> => {
    if (!active) return f(...args);
    const defs: TreeDef[] = [];
    const others: unknown[][] = [];
    const tensorAt: boolean[][] = [];
    const leaves: Tensor[] = [];
    let key = '';
    for (const a of args) {
      const [ls, def] = flatten(a);
      const os: unknown[] = [];
      const at: boolean[] = [];
      key += `${JSON.stringify(def)}:`;
      for (const l of ls) {
        if (l instanceof Tensor) {
          leaves.push(l);
          at.push(true);
          key += 'T,';
        } else {
          os.push(l);
          at.push(false);
          key += `${leafKey(l)},`;
        }
      }
      key += '|';
      defs.push(def);
      others.push(os);
      tensorAt.push(at);
    }
    pending = { defs, others, tensorAt };
    try {
      return jitted(key, leaves) as ReturnType<F>;
    } catch (e) {
      if (!(e instanceof TracerError) || mode === true) throw e;
      active = false;
      jitted.clearCache();
      if (!warned) {
        warned = true;
        console.warn(
          `${op}: the step could not be jitted, so it runs eagerly from now on (the same numbers, slower): ${e.message} ` +
            `Pass jit: false to silence this warning (or jit: true to make it an error).`,
        );
      }
      return f(...args);
    } finally {
      pending = null;
    }
  }) as JitStep<F>;
  Object.defineProperty(call, 'jitted', { get: () => active });
  Object.defineProperty(call, 'retraces', { get: () => jitted.retraces });
  call.cacheInfo = () => (active ? jitted.cacheInfo() : null);
  call.dispose = () => jitted.clearCache();
  return call;
}
