import { allocArray, prefixView, type DType, type TypedArray } from '../../dtype.js';

/**
 * Amortised appends: a loop that grows an array step by step with `concat([all, new])` (GMMVI's
 * sample database, a run's history) would copy everything so far on every step, O(n²) in all. A
 * contiguous concatenation (all dimensions before the axis are 1) of at least MIN_BYTES instead
 * writes into storage with room to spare, and its result is a prefix view of that storage.
 *
 * Tensors stay immutable: every view is a prefix [0, length) of its storage, and `used` records how
 * far the storage has been written. A concat whose first part is a prefix view ending exactly at
 * `used` writes the other parts after it (no live view covers those rows) and returns the longer
 * prefix. Any other first part — an older, shorter prefix (a branch from an earlier state, say) —
 * is copied into new storage, as a plain concat would be. A one-off concat takes the plain path
 * (pooled output); a concat whose first part is a plain concat's result starts a chain with room to
 * grow, and storage grows by GROWTH whenever a chain outruns it, so each element is copied a bounded
 * number of times. Append storage never goes to the buffer pool (pool.ts): other views of it may live.
 */
const MIN_BYTES = 256 * 1024;
const GROWTH = 1.5;

/** storage → how many elements from its start have been written */
const used = new WeakMap<ArrayBufferLike, { length: number }>();
/** plain concat results big enough to start a chain (a pooled array reused later is a false start: room wasted, nothing wrong) */
const plainResults = new WeakSet<TypedArray>();
/** results that share storage with their first input by design (the CPU backend's alias check lets them through) */
const appended = new WeakSet<TypedArray>();

/** Whether `a` is (a view of) append storage: it must not be pooled when freed. */
export function isAppendStorage(a: TypedArray): boolean {
  return used.has(a.buffer);
}

/** Whether `out` is an in-place append result, sharing its first input's storage on purpose. */
export function isInPlaceAppend(out: TypedArray): boolean {
  return appended.has(out);
}

/** Records a plain concat's result, so that appending to it starts a chain. */
export function notePlainConcat(out: TypedArray): void {
  if (out.byteLength >= MIN_BYTES) plainResults.add(out);
}

/**
 * The concatenation of `parts` (flat, in order) as append storage, or null when the first part is
 * neither append storage nor a plain concat's result, or the whole is small (the caller takes its
 * plain path and notes the result).
 */
export function appendContiguous(parts: readonly TypedArray[], dtype: DType, total: number): TypedArray | null {
  const base = parts[0]!;
  if (total * base.BYTES_PER_ELEMENT < MIN_BYTES) return null;
  const rec = used.get(base.buffer);
  const atEnd = rec !== undefined && base.byteOffset === 0 && base.length === rec.length;
  let out: TypedArray;
  let offset: number;
  if (atEnd && base.buffer.byteLength / base.BYTES_PER_ELEMENT >= total) {
    out = prefixView(base, total);
    offset = base.length;
    rec.length = total;
    appended.add(out);
    for (let i = 1; i < parts.length; i++) {
      out.set(parts[i]!, offset);
      offset += parts[i]!.length;
    }
    return out;
  }
  if (!atEnd && !plainResults.has(base)) return null;
  // a chain starting, or one that has outrun its storage: new storage with room to grow
  const storage = allocArray(dtype, Math.ceil(total * GROWTH));
  out = prefixView(storage, total);
  offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  used.set(storage.buffer, { length: total });
  return out;
}
