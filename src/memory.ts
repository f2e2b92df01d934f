import type { Tensor } from './tensor.js';
import { liveBackends } from './backends/backend.js';

/**
 * Scoped memory management in the style of TF.js: `tidy(fn)` frees every concrete tensor created
 * inside fn except what fn returns, so a long-running loop keeps memory flat. A tensor still held
 * by an active gradient tape survives (the tape needs it) and moves to the enclosing scope.
 */
const scopes: Set<Tensor>[] = [];
let numTensors = 0;

export function onCreate(t: Tensor): void {
  numTensors++;
  const top = scopes[scopes.length - 1];
  if (top) top.add(t);
}

export function onDispose(t: Tensor): void {
  numTensors--;
  const top = scopes[scopes.length - 1];
  if (top) top.delete(t);
}

/** Tensors reachable from a result: pytree leaves, and through tracers the concrete values they wrap. */
function collect(x: unknown, into: Set<Tensor>, seen = new Set<unknown>()): void {
  if (x === null || typeof x !== 'object' || seen.has(x)) return;
  seen.add(x);
  const t = x as Partial<Tensor> & { _parts?: () => Tensor[] };
  if (typeof t._parts === 'function') {
    for (const p of t._parts()) collect(p, into, seen);
    if (t._backend) into.add(x as Tensor);
    return;
  }
  if (t._backend !== undefined && 'dtype' in t) {
    into.add(x as Tensor);
    return;
  }
  // primitives skipped inline: a state may hold long arrays of numbers
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) {
      const v: unknown = x[i];
      if (v !== null && typeof v === 'object') collect(v, into, seen);
    }
  }
  else if (Object.getPrototypeOf(x) === Object.prototype) for (const v of Object.values(x)) collect(v, into, seen);
}

/** Runs fn and disposes every tensor created inside it except those it returns (and those a live gradient tape still needs). */
export function tidy<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new TypeError('tidy(fn): fn must be a function');
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    endScope(scope, new Set());
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    throw new TypeError('tidy(fn): fn returned a Promise; tidy scopes are synchronous. Await outside tidy and tidy each synchronous step.');
  }
  // nothing made inside fn outlived it: no need to walk the result (a large host state) for tensors to keep
  const keepSet = new Set<Tensor>();
  if (scope.size > 0) collect(result, keepSet);
  endScope(scope, keepSet);
  if (scopes.length === 0) for (const b of liveBackends()) b.scopeEnded?.();
  return result;
}

function endScope(scope: Set<Tensor>, keepSet: Set<Tensor>): void {
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (t._disposed) continue;
    if (keepSet.has(t) || (t._heldBy !== null && t._heldBy.active)) {
      parent?.add(t);
    } else {
      t.dispose();
    }
  }
}

/** Exempts t (and whatever a tracer wraps) from the enclosing tidy scopes. */
export function keep<T>(x: T): T {
  const set = new Set<Tensor>();
  collect(x, set);
  for (const t of set) for (const s of scopes) s.delete(t);
  return x;
}

/** Disposes every tensor in a pytree. */
export function dispose(x: unknown): void {
  const set = new Set<Tensor>();
  collect(x, set);
  for (const t of set) t.dispose();
}

/** Live tensors, their bytes and their backend buffers, for leak checks. */
export function memory(): { numTensors: number; numBytes: number; numBuffers: number } {
  let numBytes = 0;
  let numBuffers = 0;
  for (const b of liveBackends()) {
    const m = b.memory();
    numBytes += m.numBytes;
    numBuffers += m.numBuffers;
  }
  return { numTensors, numBytes, numBuffers };
}
