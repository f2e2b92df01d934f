/**
 * Shared preamble of the WebGPU test files: acquire the backend, print which adapter runs the
 * tests, and without an adapter fail under CI=true (WebGPU must really run in CI) or skip loudly.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import type { WebGPUBackend } from '../../src/backends/webgpu/index.js';

export async function webgpuOrSkip(file: string): Promise<WebGPUBackend | null> {
  try {
    const gpu = (await bt.ready('webgpu')) as WebGPUBackend;
    console.log(`[note] webgpu adapter (${file}): ${gpu.adapterLabel}${gpu.adapterInfo.isFallbackAdapter ? ' (fallback adapter)' : ''}`);
    return gpu;
  } catch (e) {
    const msg = (e as Error).message.replace(/\s*\n\s*/g, ' ');
    if (process.env.CI === 'true') {
      test(`${file}: a WebGPU adapter is available in CI`, () => {
        assert.unreachable(`CI=true but no WebGPU adapter: ${msg}`);
      });
    } else {
      // no uvu tests registered: the runner counts 0 tests; this line is what it surfaces
      console.log(`[note] webgpu tests in ${file} SKIPPED: no WebGPU adapter (${msg}). With CI=true this is a failure.`);
      return null;
    }
    test.run();
    return null;
  }
}
