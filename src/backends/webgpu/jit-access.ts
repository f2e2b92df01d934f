/// <reference types="@webgpu/types" />
import { WebGPUBackend } from './backend.js';
import type { Encoder } from './encoder.js';
import type { LazyFusion } from './lazy.js';
import type { GpuKernel } from './kernels/common.js';
import { builtinKernels } from './kernels/registry.js';
import type { Handle } from './storage.js';
import type { Check, DeferredChecks } from './checks.js';
import type { PooledBuffer } from './pool.js';

/**
 * What the jit compiler (src/jit/webgpu) needs of the WebGPU backend beyond the Backend interface:
 * the kernel `run` would call, pipelines from the encoder's caches, computing a pending lazy input,
 * a fresh output buffer from the pool, the deferred checks and the open command encoder. Kept here,
 * beside the backend, so the coupling to its private fields is in one small file (as
 * src/backends/cpu/jit-access.ts).
 */
interface Inner {
  kernels: Map<string, GpuKernel>;
  encoder: Encoder;
  lazy: LazyFusion;
  alloc(bytes: number): Handle;
  check(op: string): void;
  checks: DeferredChecks;
}

const inner = (b: WebGPUBackend) => b as unknown as Inner;

/**
 * Whether `b` is the built-in WebGPU backend with the internals below; if a refactor renames them
 * this says no and jit interprets the program, and the jit/webgpu tests that list steps fail.
 */
export function isWebgpuBackend(b: unknown): b is WebGPUBackend {
  if (!(b instanceof WebGPUBackend)) return false;
  const i = inner(b);
  return i.kernels instanceof Map && typeof i.encoder?.prepared === 'function' && typeof i.lazy?.force === 'function' && typeof i.alloc === 'function' && typeof i.check === 'function' && typeof i.checks?.encodeWords === 'function';
}

/** The kernel `backend.run(op, ...)` would call now, and whether it is the built-in one. */
export function gpuKernelOf(b: WebGPUBackend, op: string): { kernel: GpuKernel; builtin: boolean } | null {
  const k = inner(b).kernels.get(op);
  if (!k) return null;
  return { kernel: k, builtin: k === (builtinKernels as Partial<Record<string, GpuKernel>>)[op] };
}

/** Pipeline and bind group layout for a dispatch (the encoder's caches). */
export function preparedPipeline(b: WebGPUBackend, code: string, kinds: ('r' | 'w')[], hasMeta: boolean): { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout } {
  return inner(b).encoder.prepared(code, kinds, hasMeta);
}

/** The buffer of a tensor handle, computing it first if it is a pending fused expression. */
export function computedBuffer(b: WebGPUBackend, handle: unknown): GPUBuffer {
  const h = handle as Handle;
  inner(b).lazy.force(h);
  return h.buffer;
}

/** A fresh pooled buffer of `bytes` as a tensor handle (one reference), as a kernel output gets. */
export function allocHandle(b: WebGPUBackend, bytes: number): Handle {
  return inner(b).alloc(bytes);
}

/** Throws the backend's BackendError if it was disposed or its device lost. */
export function checkUsable(b: WebGPUBackend, op: string): void {
  inner(b).check(op);
}

/**
 * Encodes the read-back of a program's own status words (deferred checks, see
 * KernelContext.status) into `enc`, which clears them for the next call; give the result to
 * `readChecks` right after the submit, so a failed check is thrown at the next read or sync.
 */
export function encodeChecks(b: WebGPUBackend, enc: GPUCommandEncoder, list: Check[]): { staging: PooledBuffer; list: Check[] } {
  return inner(b).checks.encodeWords(enc, list);
}

/** Reads back the status words encoded by `encodeChecks` for the submit just made. */
export function readChecks(b: WebGPUBackend, encoded: { staging: PooledBuffer; list: Check[] }): void {
  inner(b).checks.read(encoded.staging, encoded.list, b.stats.submits);
}

/**
 * The backend's open command encoder, for a program encoded into its command stream (submitted
 * with the backend's next batch, read or end of turn); call `sharedDone` after encoding.
 */
export function sharedEncoder(b: WebGPUBackend): GPUCommandEncoder {
  return inner(b).encoder.openEncoder();
}

/**
 * A program's commands went into the open encoder: its dispatches count toward the batch (which
 * may submit now), and its status words are read back with that submit like the backend's own.
 */
export function sharedDone(b: WebGPUBackend, dispatches: number, checks: readonly Check[]): void {
  const i = inner(b);
  if (checks.length) i.checks.addOwned(checks);
  i.encoder.addDispatches(dispatches);
}
