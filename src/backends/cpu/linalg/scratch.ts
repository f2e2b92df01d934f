/** A float matrix's storage: the kernels compute in float64 whatever the storage. */
export type FloatArray = Float64Array | Float32Array;

// ---------------------------------------------------------------------------------------------------------------
// float32 handling
//
// The O(n^3) kernels are written for Float64Array only, so their element accesses stay monomorphic (a kernel that
// sees both Float32Array and Float64Array runs ~1.6x slower in V8). Float32 operands are widened into reusable
// float64 scratch buffers (O(n^2) copies), the kernel runs in double precision, and results are rounded once when
// copied back: the float32 path therefore returns the correctly rounded double-precision result.
// ---------------------------------------------------------------------------------------------------------------

/** Scratch buffers larger than this (elements) are not kept alive between calls. */
const SCRATCH_KEEP = 1 << 20;
const scratchPool: Float64Array[] = [new Float64Array(0), new Float64Array(0)];

/** Float64 scratch buffer `slot` of at least `size` elements (reused between calls up to SCRATCH_KEEP). */
export function scratch(slot: number, size: number): Float64Array {
  const cur = scratchPool[slot];
  if (cur.length >= size) return cur;
  const fresh = new Float64Array(size);
  if (size <= SCRATCH_KEEP) scratchPool[slot] = fresh;
  return fresh;
}

/** `src` itself when it is a Float64Array, else its first `size` elements widened into scratch `slot`. */
export function asF64(src: FloatArray, size: number, slot: number): Float64Array {
  if (src instanceof Float64Array) return src;
  const d = scratch(slot, size);
  for (let q = 0; q < size; q++) d[q] = src[q];
  return d;
}

/** Copies a float64 result into the output (rounding once for float32); a no-op when they are the same array. */
export function copyOut(src: Float64Array, dst: FloatArray, size: number): void {
  if (src === dst) return;
  for (let q = 0; q < size; q++) dst[q] = src[q];
}
