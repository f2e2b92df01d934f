/**
 * jit on the WebGPU backend, four ways: eager dispatch (with the backend's lazy elementwise
 * fusion), the jitted program interpreted op by op (src/jit/run.ts `interpret`, what jit did on
 * WebGPU before src/jit/webgpu), compiled (src/jit/webgpu: recorded kernels replayed as one
 * command buffer per call) and compiled-shared (the same commands put into the backend's open
 * encoder, submitted with its batches: `submit: 'shared'`). Cases: the 8-D Gaussian log-likelihood (full precision matrix) at 1
 * and 100 points per call, calls/s; the MLP 32-128-128-2 value+grad at batch 256, steps/s.
 *
 * Timing: wall time of `calls` calls queued back to back, then `backend.sync()` (the GPU has
 * finished them all): throughput. Per call also the process CPU time over the same span (on
 * lavapipe its worker threads, i.e. the "GPU", are in this process: the measure that holds up on
 * a loaded machine), the host time to issue it (before the sync) and the command buffers submitted. Variants are interleaved in each round; the median of the
 * rounds is reported. On a software adapter (Mesa lavapipe) the GPU work runs on the same CPU
 * cores: these are not GPU timings.
 * Run: npx tsx bench/jit-webgpu.ts [--rounds R] [--json FILE]
 */
import { writeFileSync } from 'node:fs';
import * as bt from '../src/index.js';
import { D, gaussianLogLik, mlpProblem } from './jit-problems.js';
import { jitCompilers } from '../src/jit/run.js';
import type { WebGPUBackend } from '../src/backends/webgpu/index.js';

const argv = process.argv.slice(2);
const opt = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const rounds = Number(opt('--rounds') ?? 9);
const jsonOut = opt('--json');

const gpu = (await bt.ready('webgpu')) as unknown as WebGPUBackend;
bt.setBackend('webgpu');

const { ll } = gaussianLogLik('float32');
const { params, xb, yb, vg } = mlpProblem();
type P = typeof params;

/** A jitted f traced now, interpreted or compiled (the choice is read when the program is traced). */
function jitted<A extends unknown[]>(f: (...a: A) => unknown, args: A, compiled: boolean, submit: 'own' | 'shared' = 'own'): (...a: A) => unknown {
  jitCompilers.webgpu = compiled;
  jitCompilers.webgpuSubmit = submit;
  const j = bt.jit(f);
  bt.dispose(j(...args));
  jitCompilers.webgpu = true;
  jitCompilers.webgpuSubmit = 'own';
  const steps = j.compiled()!.steps;
  if (compiled === steps.some((s) => s.startsWith('interpreted'))) throw new Error(`expected a ${compiled ? 'compiled' : 'interpreted'} program, got ${steps.join(' | ')}`);
  return j as (...a: A) => unknown;
}

type Case = { name: string; calls: number; run: () => void };
const cases: Case[] = [];
const pts: Record<number, bt.Tensor> = {};
for (const n of [1, 100]) {
  const x = (pts[n] = bt.tensor(Float32Array.from({ length: n * D }, (_, i) => Math.sin(i)), { shape: [n, D] }));
  const calls = 100;
  cases.push({ name: `ll${n} eager`, calls, run: () => bt.dispose(ll(x)) });
  const ji = jitted(ll, [x], false);
  cases.push({ name: `ll${n} interpreted`, calls, run: () => bt.dispose(ji(x)) });
  const jc = jitted(ll, [x], true);
  cases.push({ name: `ll${n} compiled`, calls, run: () => bt.dispose(jc(x)) });
  const js = jitted(ll, [x], true, 'shared');
  cases.push({ name: `ll${n} compiled-shared`, calls, run: () => bt.dispose(js(x)) });
}
{
  const calls = 16;
  cases.push({ name: 'mlp eager', calls, run: () => bt.dispose(vg(params, xb, yb)) });
  const ji = jitted(vg, [params, xb, yb], false);
  cases.push({ name: 'mlp interpreted', calls, run: () => bt.dispose(ji(params, xb, yb)) });
  const jc = jitted(vg, [params, xb, yb], true);
  cases.push({ name: 'mlp compiled', calls, run: () => bt.dispose(jc(params, xb, yb)) });
  const js = jitted(vg, [params, xb, yb], true, 'shared');
  cases.push({ name: 'mlp compiled-shared', calls, run: () => bt.dispose(js(params, xb, yb)) });
}

// compiled and eager give the same numbers within float32 rounding (printed once, not timed)
{
  const j = bt.jit(vg);
  const [a, ga] = j(params, xb, yb) as [bt.Tensor, P];
  const [b, gb] = vg(params, xb, yb);
  const [va, vb, wa, wb] = await Promise.all([a.data(), b.data(), ga.w1.data(), gb.w1.data()]);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < wa.length; i++) {
    err = Math.max(err, Math.abs(wa[i]! - wb[i]!));
    scale = Math.max(scale, Math.abs(wb[i]!));
  }
  console.log(`check: mlp loss compiled ${va[0]} eager ${vb[0]}; grad w1 max |diff| ${err.toExponential(2)} (max |g| ${scale.toExponential(2)})`);
}

type Sample = { wallUs: number; cpuUs: number; hostUs: number; submits: number };
const cpuNow = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
async function timeCase(c: Case): Promise<Sample> {
  await gpu.sync();
  const s0 = gpu.stats.submits;
  const c0 = cpuNow();
  const t0 = performance.now();
  for (let i = 0; i < c.calls; i++) c.run();
  const t1 = performance.now();
  await gpu.sync();
  const t2 = performance.now();
  const cpu = cpuNow() - c0;
  return { wallUs: ((t2 - t0) * 1e3) / c.calls, cpuUs: cpu / c.calls, hostUs: ((t1 - t0) * 1e3) / c.calls, submits: (gpu.stats.submits - s0) / c.calls };
}

for (const c of cases) await timeCase(c); // warm-up: pipelines, pools
const samples = new Map<string, Sample[]>(cases.map((c) => [c.name, []]));
for (let r = 0; r < rounds; r++) for (const c of cases) samples.get(c.name)!.push(await timeCase(c));
const med = (name: string, k: keyof Sample) => {
  const a = samples.get(name)!.map((s) => s[k]).sort((x, y) => x - y);
  return a[a.length >> 1]!;
};

console.log(`adapter: ${gpu.adapterLabel}${gpu.adapterInfo.isFallbackAdapter || /llvmpipe|lavapipe/i.test(gpu.adapterLabel) ? ' — software Vulkan: NOT GPU timings' : ''}`);
console.log(`median of ${rounds} rounds; per call: wall µs (calls queued, then sync), process CPU µs (lavapipe's threads included), host µs to issue it, command buffers submitted`);
const result: Record<string, number> = {};
for (const c of cases) {
  const [w, cp, h, s] = (['wallUs', 'cpuUs', 'hostUs', 'submits'] as const).map((k) => med(c.name, k));
  const key = c.name.replace(' ', '_').replace('-', '_');
  Object.assign(result, { [`${key}_per_s`]: 1e6 / w!, [`${key}_cpu_us`]: cp, [`${key}_host_us`]: h, [`${key}_submits`]: s });
  console.log(`${c.name.padEnd(22)} ${(1e6 / w!).toFixed(0).padStart(7)} /s   wall ${w!.toFixed(0).padStart(7)} µs   CPU ${cp!.toFixed(0).padStart(7)} µs   host ${h!.toFixed(0).padStart(6)} µs   submits ${s!.toFixed(2)}`);
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ date: new Date().toISOString(), adapter: gpu.adapterLabel, timer: 'wall time, calls queued then sync', rounds, ...result }, null, 2) + '\n');
