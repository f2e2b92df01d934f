import { allocArray, prefixView, type DType, type TypedArray } from '../../dtype.js';
import { recycleResident } from './wasm-resident.js';
import { isAppendStorage } from './growable.js';

/**
 * Recycles freed CPU buffers. A training step frees the sizes it will allocate next step, and
 * reusing warm memory avoids both the page faults of fresh allocations and most garbage
 * collections: a fresh 43 MB array costs ≈140 ms to fill on a VM where a warm one costs ≈35.
 * Reused arrays are zeroed, so kernels see what `new` would give, unless the caller says it
 * overwrites every element.
 *
 * Large requests are rounded up to a size class (four per octave, ≤ 25% slack) and handed out as a
 * view of the class's buffer, so that sizes which change a little every step (a GMMVI window's
 * rows, say) still find warm memory; small ones are pooled by exact length.
 */
const MAX_POOLED_BYTES = 256 * 1024 * 1024;
const MIN_POOLED_LENGTH = 64; // tiny arrays are cheaper to allocate than to track
const MIN_CLASS_LENGTH = 4096; // below this, exact lengths: slack would cost more than it saves

const free = new Map<string, TypedArray[]>();
/** buffers this pool allocated in a size class: a view of one may be shorter than the buffer */
const classBuffers = new WeakSet<ArrayBufferLike>();
let pooledBytes = 0;

const keyOf = (dtype: DType, length: number) => `${dtype}:${length}`;

/** The element count of `length`'s size class: `length` itself when small, else rounded up to a quarter-octave step. */
export function sizeClass(length: number): number {
  if (length < MIN_CLASS_LENGTH) return length;
  const step = 2 ** (Math.floor(Math.log2(length)) - 2);
  return Math.ceil(length / step) * step;
}

/**
 * An array of `length` elements, warm from the pool when one is free. Zeroed like `new` unless
 * `overwritten` (the caller writes every element, so zeroing would be a wasted pass).
 */
export function allocPooled(dtype: DType, length: number, overwritten = false): TypedArray {
  if (length < MIN_POOLED_LENGTH) return allocArray(dtype, length);
  const cap = sizeClass(length);
  const a = free.get(keyOf(dtype, cap))?.pop() ?? (cap !== length ? free.get(keyOf(dtype, length))?.pop() : undefined);
  if (a) {
    pooledBytes -= a.byteLength;
    const out = a.length === length ? a : prefixView(a, length);
    if (!overwritten) out.fill(0);
    return out;
  }
  if (cap === length) return allocArray(dtype, length);
  const whole = allocArray(dtype, cap);
  classBuffers.add(whole.buffer);
  return prefixView(whole, length);
}

export function recycle(a: TypedArray): void {
  if (recycleResident(a)) return; // storage in a Wasm memory of its own (wasm-resident.ts): freed there
  if (a.length < MIN_POOLED_LENGTH || a.byteOffset !== 0) return;
  if (isAppendStorage(a)) return; // other tensors may view the same storage (growable.ts)
  let whole = a;
  if (a.byteLength !== a.buffer.byteLength) {
    if (!classBuffers.has(a.buffer)) return; // a view into someone else's larger buffer
    const C = a.constructor as new (b: ArrayBufferLike) => TypedArray;
    whole = new C(a.buffer);
  }
  if (pooledBytes + whole.byteLength > MAX_POOLED_BYTES) return;
  const dtype: DType = whole instanceof Float64Array ? 'float64' : whole instanceof Float32Array ? 'float32' : 'int32';
  const k = keyOf(dtype, whole.length);
  let list = free.get(k);
  if (!list) free.set(k, (list = []));
  list.push(whole);
  pooledBytes += whole.byteLength;
}

export function pooledBytesNow(): number {
  return pooledBytes;
}
