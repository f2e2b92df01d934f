import type { TypedArray } from '../../dtype.js';
import type { CpuKernel } from '../../autodiff/primitive.js';
import { CpuBackend } from './index.js';

/**
 * What the jit compiler (src/jit/cpu) needs of the CPU backend beyond the Backend interface: the
 * kernel eager dispatch would run for an op, and a way to hand a typed array it computed to the
 * backend as a buffer. Kept here, beside the backend, so the coupling to its private fields is in
 * one small file.
 */

/**
 * Whether `b` is the built-in CPU backend with the internals below (its kernel table and wrap);
 * if a refactor renames them this says no and jit falls back to replaying kernels, and the jit
 * tests that list compiled steps fail, pointing here.
 */
export function isCpuBackend(b: unknown): b is CpuBackend {
  const inner = b as { kernels?: unknown; wrap?: unknown };
  return b instanceof CpuBackend && inner.kernels instanceof Map && typeof inner.wrap === 'function';
}

/** The kernel `backend.run(op, ...)` would call now (built in, or added by registerKernel). */
export function cpuKernelOf(backend: CpuBackend, op: string): CpuKernel | undefined {
  return (backend as unknown as { kernels: Map<string, CpuKernel> }).kernels.get(op);
}

/**
 * Gives the backend a typed array that nobody else references as a new buffer (one reference),
 * without the copy `upload` makes: counted by memory() and freed (pooled) like a kernel output.
 */
export function adoptCpuArray(backend: CpuBackend, data: TypedArray): unknown {
  return (backend as unknown as { wrap(d: TypedArray): unknown }).wrap(data);
}
