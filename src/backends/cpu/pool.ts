import { allocArray, type DType, type TypedArray } from '../../dtype.js';
import { recycleResident } from './wasm-resident.js';
import { isAppendStorage } from './growable.js';

/**
 * Recycles freed CPU buffers by (dtype, length). A training step frees the same sizes it will
 * allocate next step, and reusing warm memory avoids both the page faults of fresh allocations
 * and most garbage collections. Reused arrays are zeroed, so kernels see what `new` would give.
 */
const MAX_POOLED_BYTES = 64 * 1024 * 1024;
const MIN_POOLED_LENGTH = 64; // tiny arrays are cheaper to allocate than to track

const free = new Map<string, TypedArray[]>();
let pooledBytes = 0;

const keyOf = (dtype: DType, length: number) => `${dtype}:${length}`;

export function allocPooled(dtype: DType, length: number): TypedArray {
  if (length >= MIN_POOLED_LENGTH) {
    const list = free.get(keyOf(dtype, length));
    const a = list?.pop();
    if (a) {
      pooledBytes -= a.byteLength;
      a.fill(0);
      return a;
    }
  }
  return allocArray(dtype, length);
}

export function recycle(a: TypedArray): void {
  if (recycleResident(a)) return; // storage in a Wasm memory of its own (wasm-resident.ts): freed there
  if (a.length < MIN_POOLED_LENGTH || pooledBytes + a.byteLength > MAX_POOLED_BYTES) return;
  if (a.byteOffset !== 0 || a.byteLength !== a.buffer.byteLength) return; // a view into a larger buffer
  if (isAppendStorage(a)) return; // other tensors may view the same storage (growable.ts)
  const dtype: DType = a instanceof Float64Array ? 'float64' : a instanceof Float32Array ? 'float32' : 'int32';
  const k = keyOf(dtype, a.length);
  let list = free.get(k);
  if (!list) free.set(k, (list = []));
  list.push(a);
  pooledBytes += a.byteLength;
}

export function pooledBytesNow(): number {
  return pooledBytes;
}
