/**
 * TensorFlow.js on its WebGPU backend (@tensorflow/tfjs-backend-webgpu), run on the very GPUDevice
 * that bayestape's WebGPU backend created through Dawn (the npm package `webgpu`), so both
 * libraries share one adapter, one device and one queue. Used by bench/webgpu.ts.
 *
 * tfjs-backend-webgpu looks for `navigator.gpu`: at import (to register its own factory, which
 * would request a second adapter and device) and in the WebGPUBackend constructor (a bare
 * "is WebGPU supported" check). We do not let it create a device: we register our own factory,
 * `new WebGPUBackend(device, adapterInfo)`, under the name 'webgpu' (tfjs' kernels are keyed by
 * that name), and put a marker object on `navigator.gpu` only while the backend is constructed.
 * Nothing GPU-related stays on `globalThis.navigator` (a Dawn GPU object there keeps Node alive).
 * The union package `@tensorflow/tfjs` is imported for its gradient registrations, as in
 * peers.ts.
 *
 * Dispatch counting: the bench wraps `GPUComputePassEncoder.prototype.dispatchWorkgroups` (the
 * class Dawn's `globals` install) so both libraries' dispatches are counted the same way; see
 * `installDispatchCounter`.
 */
/// <reference types="@webgpu/types" />

type TF = typeof import('@tensorflow/tfjs');

let tfPromise: Promise<TF> | null = null;
let tfDevice: GPUDevice | null = null;

/** tfjs with its 'webgpu' backend built on `device`; one device per process. */
export function loadTfWebGPU(device: GPUDevice, adapterInfo?: GPUAdapterInfo): Promise<TF> {
  if (tfDevice && tfDevice !== device) throw new Error('tfjs-webgpu: already bound to another GPUDevice');
  tfDevice = device;
  tfPromise ??= (async () => {
    const tf = await import('@tensorflow/tfjs');
    const g = globalThis as unknown as { navigator?: Record<string, unknown> };
    const hadNavigator = g.navigator !== undefined;
    const nav = (g.navigator ??= {});
    const hadGpu = 'gpu' in nav;
    const marker = { note: 'bench/peers-webgpu.ts: tfjs runs on the bayestape GPUDevice' };
    try {
      if (!hadGpu) nav.gpu = marker;
      const tfw = (await import('@tensorflow/tfjs-backend-webgpu')) as typeof import('@tensorflow/tfjs-backend-webgpu');
      // its import may have registered a factory that requests its own adapter: replace it
      if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
      tf.registerBackend('webgpu', () => new tfw.WebGPUBackend(device, adapterInfo), 3);
      if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs: the webgpu backend did not initialise');
      await tf.ready();
    } finally {
      if (!hadGpu && nav.gpu === marker) delete nav.gpu;
      if (!hadNavigator && Object.keys(nav).length === 0) delete g.navigator;
    }
    tf.enableProdMode();
    return tf;
  })();
  return tfPromise;
}

/** Frees tfjs' WebGPU buffers (not the device: bayestape owns it). */
export async function disposeTfWebGPU(): Promise<void> {
  if (!tfPromise) return;
  const tf = await tfPromise;
  try {
    tf.disposeVariables();
    tf.removeBackend('webgpu'); // disposes the backend instance (buffer manager, pipelines)
  } catch {
    /* already gone */
  }
}

export async function tfjsWebGPUVersion(): Promise<string> {
  try {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const { createRequire } = await import('node:module');
    const req = createRequire(import.meta.url);
    let dir = path.dirname(req.resolve('@tensorflow/tfjs-backend-webgpu'));
    while (!fs.existsSync(path.join(dir, 'package.json')) || JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name !== '@tensorflow/tfjs-backend-webgpu') {
      const up = path.dirname(dir);
      if (up === dir) throw new Error('not found');
      dir = up;
    }
    return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version as string;
  } catch {
    return 'not installed';
  }
}

/** Counts every compute dispatch on any device of this process (both libraries alike). */
export interface DispatchCounter {
  readonly count: number;
  uninstall(): void;
}

export function installDispatchCounter(): DispatchCounter | null {
  const cls = (globalThis as unknown as { GPUComputePassEncoder?: { prototype: Record<string, unknown> } }).GPUComputePassEncoder;
  const proto = cls?.prototype;
  const orig = proto?.dispatchWorkgroups as ((...a: unknown[]) => unknown) | undefined;
  if (!proto || typeof orig !== 'function') return null;
  const state = { count: 0 };
  proto.dispatchWorkgroups = function (this: unknown, ...a: unknown[]) {
    state.count++;
    return orig.apply(this, a);
  };
  return {
    get count() {
      return state.count;
    },
    uninstall() {
      proto.dispatchWorkgroups = orig;
    },
  };
}
