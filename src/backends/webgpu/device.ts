/// <reference types="@webgpu/types" />
import { BackendError } from '../../errors.js';

/**
 * GPU device acquisition: the browser's `navigator.gpu`, or in Node the npm package `webgpu`
 * (Dawn's Node bindings), imported lazily so this module also loads in a browser.
 *
 * Dawn lives as long as the object returned by `create()` is referenced. It is kept here, in
 * module scope, never on `globalThis.navigator` (which keeps Node's event loop alive, crbug
 * 387965810); devices are destroyed on `beforeExit` so a script ends on its own.
 */

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
}

export interface AcquiredDevice {
  device: GPUDevice;
  adapter: GPUAdapter;
  info: AdapterDescription;
  /** The device has 'subgroups' and WGSL the subgroup_id builtin (what `workgroupSum` needs). */
  subgroups: boolean;
}

let nodeGpu: GPU | null = null;
const liveDevices = new Set<GPUDevice>();
let exitHookInstalled = false;

const HOW_TO_GET_ONE =
  'Install a GPU driver with Vulkan, Metal or D3D12 support; on Linux without a GPU, Mesa\'s software Vulkan (lavapipe) works: ' +
  "on Debian bookworm `apt-get install -y -t bookworm-backports mesa-vulkan-drivers` (bookworm's own Mesa 22 is too old for Dawn), " +
  'on Ubuntu/other distributions a recent `mesa-vulkan-drivers`. In a browser, use one with WebGPU enabled (Chrome/Edge 113+, Firefox 141+, Safari 26+).';

function isNode(): boolean {
  return typeof process !== 'undefined' && !!(process as { versions?: { node?: string } }).versions?.node;
}

async function getGpu(flags: string[]): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu && !isNode()) return nav.gpu;
  if (!isNode()) {
    throw new BackendError(`webgpu: this environment has no navigator.gpu. ${HOW_TO_GET_ONE}`);
  }
  if (nodeGpu) return nodeGpu;
  let mod: { create: (flags: string[]) => GPU; globals: object };
  try {
    const name = 'webgpu'; // a variable, so browser bundlers do not try to resolve the Node package
    mod = (await import(/* @vite-ignore */ /* webpackIgnore: true */ name)) as typeof mod;
  } catch (e) {
    throw new BackendError(
      `webgpu: could not load the npm package 'webgpu' (Dawn's Node bindings): ${(e as Error).message}. Install it with \`npm install webgpu\`.`,
    );
  }
  // GPUBufferUsage, GPUMapMode, ... as globals (they are plain constant objects; no navigator)
  for (const [k, v] of Object.entries(mod.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  nodeGpu = mod.create(flags);
  return nodeGpu;
}

function describe(adapter: GPUAdapter): AdapterDescription {
  const i = (adapter as { info?: GPUAdapterInfo }).info;
  return {
    vendor: i?.vendor ?? '',
    architecture: i?.architecture ?? '',
    device: i?.device ?? '',
    description: i?.description ?? '',
    isFallbackAdapter: !!((i as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter),
  };
}

export function adapterLabel(info: AdapterDescription): string {
  const parts = [info.description, info.vendor, info.architecture, info.device].filter((s) => s && s.length > 0);
  return parts.length ? [...new Set(parts)].join(' / ') : '(unnamed adapter)';
}

/** Limits worth raising to the adapter's maximum. */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxBindingsPerBindGroup',
] as const;

export interface DeviceOptions {
  /** Dawn flags for `create()` in Node, e.g. ['backend=vulkan', 'adapter=llvmpipe']. */
  flags?: string[];
  powerPreference?: GPUPowerPreference;
}

/**
 * Requests an adapter and a device with the adapter's maximum limits. No adapter is a
 * BackendError that says how to get one.
 */
export async function acquireDevice(opts: DeviceOptions = {}): Promise<AcquiredDevice> {
  const envFlags = isNode() && process.env.BAYESTAPE_WEBGPU_FLAGS ? process.env.BAYESTAPE_WEBGPU_FLAGS.split(',').filter(Boolean) : [];
  const gpu = await getGpu(opts.flags ?? envFlags);
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  } catch (e) {
    throw new BackendError(`webgpu: requestAdapter() failed: ${(e as Error).message}. ${HOW_TO_GET_ONE}`);
  }
  if (!adapter) throw new BackendError(`webgpu: no GPU adapter is available. ${HOW_TO_GET_ONE}`);
  const requiredLimits: Record<string, number> = {};
  for (const k of WANTED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number | undefined>)[k];
    if (typeof v === 'number') requiredLimits[k] = v;
  }
  let device: GPUDevice;
  try {
    // timestamps time the matmul's tile candidates on the GPU (tile-tuner.ts); subgroups sum
    // within a workgroup with one barrier (kernels/common.ts: workgroupSum)
    const requiredFeatures = (['timestamp-query', 'subgroups'] as GPUFeatureName[]).filter((f) => adapter!.features?.has(f));
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'bayestape' });
  } catch (e) {
    throw new BackendError(`webgpu: requestDevice() failed: ${(e as Error).message}.`);
  }
  liveDevices.add(device);
  device.lost.then(() => liveDevices.delete(device)).catch(() => undefined);
  installExitHook();
  const wgsl = (gpu as { wgslLanguageFeatures?: ReadonlySet<string> }).wgslLanguageFeatures;
  const subgroups = !!device.features?.has('subgroups') && !!wgsl?.has('subgroup_id');
  return { device, adapter, info: describe(adapter), subgroups };
}

/** Destroys a device (idempotent) so Node can exit. */
export function releaseDevice(device: GPUDevice): void {
  if (!liveDevices.has(device)) return;
  liveDevices.delete(device);
  try {
    device.destroy();
  } catch {
    /* already lost */
  }
}

function installExitHook(): void {
  if (exitHookInstalled || !isNode()) return;
  exitHookInstalled = true;
  process.once('beforeExit', () => {
    for (const d of [...liveDevices]) releaseDevice(d);
  });
}
