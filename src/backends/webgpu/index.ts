/**
 * WebGPU backend (Dawn's `webgpu` package in Node, navigator.gpu in a browser).
 *
 * Status: every primitive of the CPU backend has a WGSL kernel, with the same names and params
 * (kernels/registry.ts; test/webgpu/parity.test.ts compares each family against the CPU in
 * float32 on lavapipe). float32 and int32 only. Known differences from the CPU, all documented
 * at the kernel: the NumericalErrors of cholesky (not positive definite) and solve (singular)
 * and the ShapeErrors of out-of-range take/scatterAdd indices are raised at the next read or
 * sync instead of at the call (kernels cannot throw; a status word comes back with each
 * submit), float32 accumulation in sums/matmul,
 * subnormals possibly flushed to zero, int32 pow not available (pow is float-only anyway),
 * gamma draws may differ where an acceptance test sits at its float32 threshold.
 * matmul: 128×128 / 64×64 / 32×32 tiles on a 2-D grid with vec4 loads, specialised by
 * transposition, vec4-ability and tile fit (kernels/matmul.ts). Long sums with few outputs (a
 * product's K, a reduction's axis) split across workgroups (split-sums.ts). Where the device has
 * 'timestamp-query', the first large product of each shape class times every tile configuration on
 * the GPU and the class keeps the fastest (tile-tuner.ts). Elementwise ops are
 * fused: each returns a lazy expression that same-size elementwise consumers inline, computed
 * as one kernel when something else needs it (fusion.ts; `backend.fuse = false` turns it off).
 * Host side: bind groups, metadata buffers (encoder.ts) and 1-element constants (consts.ts) are cached.
 * Not tuned yet: cumsum scans each column sequentially; linalg is one workgroup per matrix.
 */
import { acquireDevice, type DeviceOptions } from './device.js';
import { WebGPUBackend, type WebGPUBackendOptions } from './backend.js';

export { WebGPUBackend, type WebGPUBackendOptions } from './backend.js';
export { acquireDevice, adapterLabel, type AdapterDescription, type DeviceOptions } from './device.js';
export type { GpuKernel, GpuInput, GpuHandle, KernelContext } from './kernels/common.js';
export type { WgslKernelSpec } from './kernels/user.js';

/**
 * Creates the WebGPU backend: acquires an adapter and device (navigator.gpu in a browser, the npm
 * package `webgpu` in Node). Throws a BackendError when no adapter is available.
 * Registered as 'webgpu': `await bt.ready('webgpu'); bt.setBackend('webgpu')`.
 */
export async function createWebGPUBackend(opts: DeviceOptions & WebGPUBackendOptions = {}): Promise<WebGPUBackend> {
  const acq = await acquireDevice(opts);
  return new WebGPUBackend(acq, opts);
}
