import type { Backend } from '../backend.js';
import { createWebGPUBackend } from './index.js';

/** Options of a WebGPU backend made with `createWebGPU`. */
export interface WebGPUOptions {
  /** Fuse chains of elementwise ops into one kernel (default true). */
  fuse?: boolean;
  /** Dispatches per submitted command buffer (default 64). */
  batchSize?: number;
  /**
   * Time the matmul's tile configurations on the GPU the first time a large product of a new shape
   * class runs, and use the fastest from then on. Default: on where the device has timestamp
   * queries and is not a software adapter (lavapipe). The choice changes speed, never values.
   */
  tuneMatmul?: boolean;
  /**
   * Split long sums with few outputs across workgroups: a product's dot products over a long K (Xᵀr,
   * a linear model's gradient over the data) and a reduction's long axis (a log-likelihood summed
   * over the data). Default: on, except on a software adapter (lavapipe), where it is slower. The
   * sums' order changes, not their accuracy.
   */
  splitSums?: boolean;
  /** Use subgroup operations for sums within a workgroup where the device has them (default true). */
  subgroups?: boolean;
  /** Dawn flags in Node, e.g. ['backend=vulkan', 'adapter=NVIDIA'] (default: BAYESTAPE_WEBGPU_FLAGS, comma-separated). */
  flags?: string[];
  /** Which adapter to ask for when there are several: 'high-performance' (default) or 'low-power'. */
  powerPreference?: 'high-performance' | 'low-power';
}

/**
 * A WebGPU backend with options (the registered 'webgpu' backend uses the defaults). Register it
 * under a name and ready it as usual:
 * `bt.registerBackend('webgpu', () => bt.createWebGPU({ tuneMatmul: false })); await bt.ready('webgpu')`.
 */
export function createWebGPU(opts: WebGPUOptions = {}): Promise<Backend> {
  return createWebGPUBackend(opts);
}
