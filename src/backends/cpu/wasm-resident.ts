import type { TypedArray } from '../../dtype.js';
import { Wasm, WASM_PAGE, type WasmMemory } from './matmul/wasm-api.js';

/**
 * Wasm memories that hold CPU tensors' storage, so a Wasm kernel can leave its result where it
 * computed it instead of copying it out into a JS array (the triangular solves: trsm-wasm.ts).
 *
 * One memory per buffer, created with maximum = initial: it can never grow, so a typed-array view of
 * it can never be detached (memory.grow detaches every view of the old buffer; the kernels' shared,
 * growing heap therefore never backs a tensor). A tensor's data is a view of the memory's buffer (the
 * kernel's scratch, e.g. the A matrices, lies after it). When the CPU backend frees the buffer
 * (pool.ts recycle), the memory goes to a free list by size, as the pool does for JS arrays, so a
 * loop that solves the same shapes each step reuses warm memory (no page faults, no new reservation);
 * beyond RESIDENT_KEEP_BYTES or RESIDENT_KEEP_COUNT free memories the rest are left to the garbage
 * collector. Each memory reserves address space far beyond its size (≈10 GiB in 64-bit V8, and a
 * browser tab's sandbox holds only so many), hence the count cap; and once the engine refuses a
 * memory, the next FAILED_BACKOFF requests take the JS route without trying (each refusal first runs
 * full garbage collections).
 */
const RESIDENT_KEEP_BYTES = 128 * 1024 * 1024;
const RESIDENT_KEEP_COUNT = 16;
const FAILED_BACKOFF = 256;

/** buffer → its memory, for every memory handed out and not yet dropped by the collector */
const owners = new WeakMap<ArrayBufferLike, WasmMemory>();
const free = new Map<number, WasmMemory[]>(); // by page count
let freeBytes = 0;
let freeCount = 0;
let skipCreates = 0;

/** A never-growing Wasm memory of at least `bytes` bytes (a free one of that page count if any), or
 * null if the engine will not make one (address space for Wasm memories is limited): the caller then
 * takes its JS route. Its contents are unspecified: the caller overwrites what it uses. */
export function takeResidentMemory(bytes: number): WasmMemory | null {
  const pages = Math.max(1, Math.ceil(bytes / WASM_PAGE));
  const mem = free.get(pages)?.pop();
  if (mem) {
    freeBytes -= pages * WASM_PAGE;
    freeCount--;
    return mem;
  }
  if (skipCreates > 0) {
    skipCreates--;
    return null;
  }
  let fresh: WasmMemory;
  try {
    fresh = new Wasm.Memory({ initial: pages, maximum: pages });
  } catch {
    skipCreates = FAILED_BACKOFF;
    return null;
  }
  owners.set(fresh.buffer, fresh);
  return fresh;
}

/** Whether `a` is a view of a resident memory. */
export function isResident(a: TypedArray): boolean {
  return owners.has(a.buffer);
}

/**
 * If `a` views a resident memory, returns that memory to the free list (or drops it past the cap) and
 * says true; otherwise false. Called by pool.ts recycle when a CPU buffer's last reference goes, so
 * the same rule holds as for pooled arrays: nobody may use `a` afterwards.
 */
export function recycleResident(a: TypedArray): boolean {
  const mem = owners.get(a.buffer);
  if (!mem) return false;
  const bytes = mem.buffer.byteLength;
  if (freeBytes + bytes > RESIDENT_KEEP_BYTES || freeCount >= RESIDENT_KEEP_COUNT) return true;
  const pages = bytes / WASM_PAGE;
  let list = free.get(pages);
  if (!list) free.set(pages, (list = []));
  if (list.includes(mem)) return true; // already free (a second view of the same memory): never hand it out twice
  list.push(mem);
  freeBytes += bytes;
  freeCount++;
  return true;
}

/** Free resident memories kept (for tests: at most RESIDENT_KEEP_COUNT). */
export function residentFreeCount(): number {
  return freeCount;
}

/** Bytes held in free resident memories (for tests: bounded, and back to its level after a loop). */
export function residentFreeBytes(): number {
  return freeBytes;
}
