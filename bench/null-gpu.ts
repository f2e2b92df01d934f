/// <reference types="@webgpu/types" />
/**
 * A GPUDevice that does nothing: every WebGPU call the backend makes returns at once (buffers are
 * host ArrayBuffers that are never written by "kernels", maps resolve immediately, reads see
 * zeros). Under it, a WebGPUBackend step costs exactly its own JavaScript — tracing, tape, fusion,
 * caches, encoding — with no driver underneath, which is what bench/host-cost.ts measures. The
 * device counts every call it receives, so a bench can also say how many native calls a real
 * device would have been asked for per step.
 *
 * Values computed under it are meaningless (nothing runs); only host cost and call counts are.
 */
import { WebGPUBackend, type WebGPUBackendOptions } from '../src/backends/webgpu/index.js';

/** WebGPU's constant objects, as the spec numbers them (Dawn's `globals` define the same). */
const GLOBALS: Record<string, Record<string, number>> = {
  GPUBufferUsage: { MAP_READ: 1, MAP_WRITE: 2, COPY_SRC: 4, COPY_DST: 8, INDEX: 16, VERTEX: 32, UNIFORM: 64, STORAGE: 128, INDIRECT: 256, QUERY_RESOLVE: 512 },
  GPUShaderStage: { VERTEX: 1, FRAGMENT: 2, COMPUTE: 4 },
  GPUMapMode: { READ: 1, WRITE: 2 },
};

/** Limits of a large discrete GPU (an NVIDIA H200 under Dawn/Vulkan reports these or more). */
const LIMITS = {
  maxBindGroups: 4,
  maxBindingsPerBindGroup: 1000,
  maxStorageBuffersPerShaderStage: 16,
  maxStorageBufferBindingSize: 2 ** 31,
  maxBufferSize: 2 ** 32 - 1,
  maxUniformBufferBindingSize: 65536,
  minStorageBufferOffsetAlignment: 256,
  minUniformBufferOffsetAlignment: 256,
  maxComputeWorkgroupStorageSize: 49152,
  maxComputeInvocationsPerWorkgroup: 1024,
  maxComputeWorkgroupSizeX: 1024,
  maxComputeWorkgroupSizeY: 1024,
  maxComputeWorkgroupSizeZ: 64,
  maxComputeWorkgroupsPerDimension: 65535,
};

/** Calls the null device received, by method name. */
export type CallCounts = Record<string, number>;

export interface NullDevice {
  device: GPUDevice;
  calls: CallCounts;
}

/** A fresh null device (WebGPU's constant globals are defined if absent). */
export function createNullDevice(): NullDevice {
  for (const [k, v] of Object.entries(GLOBALS)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  const calls: CallCounts = {};
  const count = (name: string) => {
    calls[name] = (calls[name] ?? 0) + 1;
  };
  const done = Promise.resolve(undefined);

  const buffer = (desc: GPUBufferDescriptor): GPUBuffer => {
    let mem: ArrayBuffer | null = desc.mappedAtCreation ? new ArrayBuffer(desc.size) : null;
    return {
      size: desc.size,
      usage: desc.usage,
      label: desc.label ?? '',
      mapState: desc.mappedAtCreation ? 'mapped' : 'unmapped',
      mapAsync() {
        count('mapAsync');
        mem = new ArrayBuffer(desc.size);
        return done;
      },
      getMappedRange(offset = 0, size?: number) {
        count('getMappedRange');
        if (!mem) mem = new ArrayBuffer(desc.size);
        return size === undefined && offset === 0 ? mem : mem.slice(offset, size === undefined ? undefined : offset + size);
      },
      unmap() {
        count('unmap');
        mem = null;
      },
      destroy() {
        count('destroy');
        mem = null;
      },
    } as unknown as GPUBuffer;
  };

  const pass = {
    setPipeline: () => count('setPipeline'),
    setBindGroup: () => count('setBindGroup'),
    dispatchWorkgroups: () => count('dispatchWorkgroups'),
    dispatchWorkgroupsIndirect: () => count('dispatchWorkgroupsIndirect'),
    end: () => count('passEnd'),
  } as unknown as GPUComputePassEncoder;
  const encoder = {
    beginComputePass: () => (count('beginComputePass'), pass),
    copyBufferToBuffer: () => count('copyBufferToBuffer'),
    clearBuffer: () => count('clearBuffer'),
    writeTimestamp: () => count('writeTimestamp'),
    resolveQuerySet: () => count('resolveQuerySet'),
    finish: () => (count('finish'), {} as GPUCommandBuffer),
  } as unknown as GPUCommandEncoder;

  const device = {
    label: 'null',
    features: new Set<string>(),
    limits: LIMITS,
    lost: new Promise<never>(() => undefined),
    queue: {
      submit: () => count('submit'),
      writeBuffer: () => count('writeBuffer'),
      onSubmittedWorkDone: () => (count('onSubmittedWorkDone'), done),
    },
    createBuffer: (d: GPUBufferDescriptor) => (count('createBuffer'), buffer(d)),
    createBindGroupLayout: () => (count('createBindGroupLayout'), {}),
    createPipelineLayout: () => (count('createPipelineLayout'), {}),
    createShaderModule: () => (count('createShaderModule'), {}),
    createComputePipeline: () => (count('createComputePipeline'), { getBindGroupLayout: () => ({}) }),
    createBindGroup: () => (count('createBindGroup'), {}),
    createCommandEncoder: () => (count('createCommandEncoder'), encoder),
    createQuerySet: () => (count('createQuerySet'), { destroy() {} }),
    pushErrorScope: () => undefined,
    popErrorScope: () => Promise.resolve(null),
    addEventListener: () => undefined,
    destroy: () => undefined,
  } as unknown as GPUDevice;
  return { device, calls };
}

/** A WebGPUBackend over a null device, and the device's call counts. */
export function nullWebGPUBackend(opts: WebGPUBackendOptions = {}): { backend: WebGPUBackend; calls: CallCounts } {
  const { device, calls } = createNullDevice();
  const info = { vendor: 'null', architecture: '', device: '', description: 'null device (no GPU work)', isFallbackAdapter: false };
  const backend = new WebGPUBackend({ device, adapter: null as unknown as GPUAdapter, info, subgroups: false }, opts);
  return { backend, calls };
}
