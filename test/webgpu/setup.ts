/**
 * Shared preamble of the WebGPU test files: acquire the backend, print which adapter runs the
 * tests, and without an adapter fail under CI=true (WebGPU must really run in CI) or skip loudly.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { WebGPUBackend } from '../../src/backends/webgpu/index.js';
import { findWebgpu } from '../backend-harness.js';

export async function webgpuOrSkip(file: string): Promise<WebGPUBackend | null> {
  const gpu = await findWebgpu(file);
  if (typeof gpu !== 'string') return gpu;
  if (process.env.CI === 'true') {
    test(`${file}: a WebGPU adapter is available in CI`, () => {
      assert.unreachable(`CI=true but no WebGPU adapter: ${gpu}`);
    });
    test.run();
  } else {
    // no uvu tests registered: the runner counts 0 tests; this line is what it surfaces
    console.log(`[note] webgpu tests in ${file} SKIPPED: no WebGPU adapter (${gpu}). With CI=true this is a failure.`);
  }
  return null;
}
