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
