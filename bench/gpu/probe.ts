/**
 * Adapter probe for bench/gpu/remote.sh: acquires bayestape's WebGPU device the way the benches
 * do, prints what Dawn found and which Vulkan loader and driver this process really mapped, runs
 * one small matmul as a smoke check, and exits non-zero unless the adapter is the one wanted.
 *
 * Wanted: a label matching BT_GPU_ALLOW_ADAPTER (a case-insensitive regex, default "nvidia") and,
 * unless BT_GPU_ALLOW_ADAPTER is set, not a software/fallback adapter. The benches' numbers are
 * only worth the device time when they come from the GPU, so a CPU fallback stops the run here.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as bt from '../../src/index.js';
import type { WebGPUBackend } from '../../src/backends/webgpu/index.js';

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|software|softpipe/i;
const DRIVER_LIBS = /vulkan|GLX|GLdispatch|nvidia|X11|Xext|xcb|Xau|Xdmcp|libbsd|libmd\.|lvp|stdc\+\+/;

/** Shared objects this process has mapped whose names concern the Vulkan path. */
function mappedDriverLibs(): string[] {
  try {
    const paths = readFileSync('/proc/self/maps', 'utf8')
      .split('\n')
      .map((l) => l.split(/\s+/).slice(5).join(' '))
      .filter((p) => p.startsWith('/') && /\.so(\.|$)/.test(p) && DRIVER_LIBS.test(p.slice(p.lastIndexOf('/'))));
    return [...new Set(paths)].sort();
  } catch {
    return ['(no /proc/self/maps)'];
  }
}

async function main(): Promise<number> {
  const allow = process.env.BT_GPU_ALLOW_ADAPTER;
  const wanted = new RegExp(allow || 'nvidia', 'i');
  console.log(`node ${process.version}; BAYESTAPE_WEBGPU_FLAGS=${process.env.BAYESTAPE_WEBGPU_FLAGS ?? '(unset)'}`);
  let gpu: WebGPUBackend;
  try {
    gpu = (await bt.ready('webgpu')) as WebGPUBackend;
  } catch (e) {
    console.error(`PROBE FAILED: no WebGPU device: ${(e as Error).message}`);
    return 3;
  }
  const info = gpu.adapterInfo;
  const label = gpu.adapterLabel;
  const software = info.isFallbackAdapter || SOFTWARE.test(`${info.description} ${info.architecture} ${info.device} ${info.vendor}`);
  const lim = gpu.device.limits;
  console.log(`adapter: ${label}${info.isFallbackAdapter ? ' (fallback adapter)' : ''}`);
  console.log(`adapter info: ${JSON.stringify(info)}`);
  console.log(
    `limits: maxBufferSize ${lim.maxBufferSize}, maxStorageBufferBindingSize ${lim.maxStorageBufferBindingSize}, ` +
      `maxComputeInvocationsPerWorkgroup ${lim.maxComputeInvocationsPerWorkgroup}, maxComputeWorkgroupStorageSize ${lim.maxComputeWorkgroupStorageSize}`,
  );
  // what the backend's choices depend on: timestamps (the tile tuner), subgroups (workgroup sums)
  // (subgroups: the device's 'subgroups' and WGSL's subgroup_id both)
  const features = [...gpu.device.features].sort();
  const backendUses = { tuneMatmul: gpu.tiles.enabled, splitSums: gpu.splitSums, subgroups: gpu.subgroups };
  console.log(`device features: ${features.join(' ') || '(none)'}`);
  console.log(`backend uses: ${JSON.stringify(backendUses)}`);
  const libs = mappedDriverLibs();
  console.log(`mapped driver libraries:\n${libs.map((p) => `  ${p}`).join('\n') || '  (none)'}`);
  const carried = process.env.BT_GPU_LIB_DIR;
  const loader = libs.filter((p) => /\/libvulkan\.so\.1$/.test(p));
  if (carried) console.log(`Vulkan loader: ${loader.join(', ') || '(not mapped)'} — ${loader.length === 1 && loader[0]!.startsWith(carried + '/') ? 'the carried one' : 'NOT the carried one'}`);

  // smoke: a matmul whose answer is known, read back
  bt.setBackend('webgpu');
  const a = bt.tensor([1, 2, 3, 4], { dtype: 'float32', shape: [2, 2] });
  const c = bt.matmul(a, a);
  const got = Array.from(await c.data());
  const want = [7, 10, 15, 22];
  const smokeOk = got.length === 4 && got.every((v, i) => v === want[i]);
  console.log(`smoke matmul [[1,2],[3,4]]^2 = ${JSON.stringify(got)} ${smokeOk ? 'ok' : `WRONG (want ${JSON.stringify(want)})`}`);
  bt.dispose([a, c]);

  const ok = smokeOk && wanted.test(label) && (!software || !!allow);
  if (process.env.OUT) {
    writeFileSync(`${process.env.OUT}/adapter.json`, JSON.stringify({ label, info, software, features, backendUses, mappedLibraries: libs, limits: { maxBufferSize: lim.maxBufferSize, maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize }, ok }, null, 2) + '\n');
  }
  gpu.dispose();
  if (!ok) {
    const why = !smokeOk ? 'the smoke matmul was wrong' : software && !allow ? 'it is a software (CPU) adapter' : `its label does not match /${wanted.source}/i`;
    console.error(`PROBE FAILED: adapter '${label}' is not the one wanted: ${why}. (Set BT_GPU_ALLOW_ADAPTER=<regex> to accept another adapter, e.g. llvmpipe for a local test.)`);
    return 3;
  }
  console.log(`PROBE OK: ${label}${software ? ' (software adapter, allowed by BT_GPU_ALLOW_ADAPTER)' : ''}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`PROBE FAILED: ${(e as Error)?.stack ?? e}`);
    process.exit(3);
  },
);
