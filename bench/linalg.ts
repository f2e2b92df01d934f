/**
 * Batched small linear algebra at GMMVI's size on the CPU backend: triangular solves and matmuls of
 * A [30,20,20] by B [30,20,9000], the JS loops (forced) against the Wasm SIMD kernels. The solves
 * are timed through bt.linalg.triangularSolve on CPU tensors (result disposed each call), so "Wasm"
 * is what a caller gets: the result left in Wasm memory (no copy out); the "copy route" column is the
 * kernel function writing into a preallocated JS array (copy in and out), as this bench timed before.
 * Run: npx tsx bench/linalg.ts [--rounds 15]
 * Writes bench/results/linalg-cpu.{json,md}.
 *
 * GFLOP/s: a solve counts K·d²·n (d²/2 multiply-adds per column), a matmul 2·K·d²·n. Each figure is
 * the best of `rounds` calls, each call timed by process CPU time (the machine is shared: wall time
 * would mostly measure the other processes); the two paths alternate round by round.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { loadavg, cpus } from 'node:os';
import * as bt from '../src/index.js';
import { setTriangularWasm, triangularSolve } from '../src/backends/cpu/linalg/triangular.js';
import { matmul } from '../src/backends/cpu/matmul/matmul.js';
import { matmulJS } from '../src/backends/cpu/matmul/matmul-js.js';
import type { FloatArray } from '../src/backends/cpu/linalg/scratch.js';
import { rng } from '../test/seeded.js';

const argRounds = process.argv.indexOf('--rounds');
const rounds = argRounds >= 0 ? Number(process.argv[argRounds + 1]) : 15;
const K = 30, d = 20, n = 9000;
const load0 = loadavg();

const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
/** Best CPU time (ms) per call of each function, alternating them round by round. */
function bestOf(fns: (() => void)[]): number[] {
  for (let w = 0; w < 3; w++) for (const f of fns) f(); // warm-up (tiers the JS and Wasm code up; the big Wasm kernels take a few calls)
  const best = fns.map(() => Infinity);
  for (let r = 0; r < rounds; r++) {
    fns.forEach((f, i) => { const t0 = cpuMs(); f(); best[i] = Math.min(best[i]!, cpuMs() - t0); });
  }
  return best;
}

interface Row { op: string; dtype: string; flops: number; jsMs: number; wasmMs: number; jsGflops: number; wasmGflops: number; speedup: number; copyRouteGflops?: number }
const rows: Row[] = [];
const r = rng(2026);
for (const [dtype, C] of [['float64', Float64Array], ['float32', Float32Array]] as const) {
  const a = new C(K * d * d);
  for (let q = 0; q < a.length; q++) { const i = Math.floor((q % (d * d)) / d), j = q % d; a[q] = i === j ? 1 + r() : (r() - 0.5) * 0.3; }
  const b = new C(K * d * n).map(() => r() - 0.5);
  const out = new C(K * d * n);
  const A = bt.tensor(a).reshape([K, d, d]), B = bt.tensor(b).reshape([K, d, n]);
  for (const [lower, trans] of [[true, false], [true, true], [false, false], [false, true]] as const) {
    const op = () => bt.linalg.triangularSolve(A, B, { lower, transposeA: trans }).dispose();
    const copyRoute = () => triangularSolve(a as FloatArray, b as FloatArray, out as FloatArray, K, d, n, lower, trans, false, d * d, d * n);
    const [jsMs, wasmMs, copyMs] = bestOf([() => { setTriangularWasm(false); try { op(); } finally { setTriangularWasm(true); } }, op, copyRoute]);
    const flops = K * d * d * n;
    rows.push({ op: `triangularSolve ${lower ? 'lower' : 'upper'}${trans ? ', transposeA' : ''}`, dtype, flops, jsMs: jsMs!, wasmMs: wasmMs!,
      jsGflops: flops / jsMs! / 1e6, wasmGflops: flops / wasmMs! / 1e6, speedup: jsMs! / wasmMs!, copyRouteGflops: flops / copyMs! / 1e6 });
  }
  bt.dispose([A, B]);
  const ao = Array.from({ length: K }, (_, t) => t * d * d), bo = Array.from({ length: K }, (_, t) => t * d * n);
  const [jsMs, wasmMs] = bestOf([
    () => matmulJS(a as FloatArray, ao, b as FloatArray, bo, out as FloatArray, K, d, d, n, false, false),
    () => matmul(a as FloatArray, ao, b as FloatArray, bo, out as FloatArray, K, d, d, n, false, false),
  ]);
  const flops = 2 * K * d * d * n;
  rows.push({ op: 'matmul', dtype, flops, jsMs: jsMs!, wasmMs: wasmMs!, jsGflops: flops / jsMs! / 1e6, wasmGflops: flops / wasmMs! / 1e6, speedup: jsMs! / wasmMs! });
}

const load1 = loadavg();
const f2 = (x: number) => x.toFixed(2);
console.log(`${'op'.padEnd(36)}${'dtype'.padEnd(9)}${'JS GFLOP/s'.padStart(11)}${'Wasm GFLOP/s'.padStart(13)}${'×'.padStart(7)}${'copy route'.padStart(12)}`);
for (const x of rows) console.log(`${x.op.padEnd(36)}${x.dtype.padEnd(9)}${f2(x.jsGflops).padStart(11)}${f2(x.wasmGflops).padStart(13)}${f2(x.speedup).padStart(7)}${(x.copyRouteGflops === undefined ? '' : f2(x.copyRouteGflops)).padStart(12)}`);
console.log(`load average ${load0.map(f2).join(' / ')} at start, ${load1.map(f2).join(' / ')} at end`);

const date = new Date().toISOString();
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/linalg-cpu.json', import.meta.url), JSON.stringify({
  date, node: process.version, cpu: cpus()[0]?.model, cores: cpus().length, loadavgStart: load0, loadavgEnd: load1,
  timer: 'process CPU time, best of rounds (paths alternating)', rounds, shape: { K, d, n }, rows,
}, null, 2) + '\n');
writeFileSync(new URL('./results/linalg-cpu.md', import.meta.url), [
  '# Batched GMMVI-sized linear algebra on the CPU backend: JS loops (before) vs Wasm SIMD (after)',
  '',
  `${date}, Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model}), load average ${load0.map(f2).join(' / ')} (1/5/15 min) at start, ${load1.map(f2).join(' / ')} at end.`,
  '',
  `\`npx tsx bench/linalg.ts\`: A [${K},${d},${d}] by B [${K},${d},${n}]. A solve counts K·d²·n flops, a matmul 2·K·d²·n.`,
  `Best of ${rounds} calls each, timed by process CPU time (the machine is shared), the paths alternating.`,
  'Solves: through `bt.linalg.triangularSolve` on CPU tensors, result disposed each call; "JS" with the Wasm route switched off',
  '(`setTriangularWasm(false)`); "Wasm" leaves the result in the Wasm memory it was computed in (no copy out); "copy route" is the',
  'kernel function writing into a preallocated JS array (copies in and out; what this table reported before).',
  'The float64 Wasm solves return the same bits as the JS loops; the float32 ones compute in float32 (f32x4, four columns per',
  'vector; the JS loops compute in float64 and round once), backward stable at float32 roundoff (test/backends/cpu/trsm-wasm.test.ts).',
  'The matmul "JS" column is the plain-JS kernel (matmul-js.ts) forced; "Wasm" is the routed kernel (matmul-wasm.ts; its helper',
  'thread, when used, counts in the CPU time). The Wasm solve kernels alone, without the copies: `npx tsx bench/trsm-kernel.ts`.',
  '',
  '| op | dtype | JS, ms | Wasm, ms | JS GFLOP/s | Wasm GFLOP/s | speed-up | copy route GFLOP/s |',
  '|---|---|---:|---:|---:|---:|---:|---:|',
  ...rows.map((x) => `| ${x.op} | ${x.dtype} | ${f2(x.jsMs)} | ${f2(x.wasmMs)} | ${f2(x.jsGflops)} | ${f2(x.wasmGflops)} | ${f2(x.speedup)}× | ${x.copyRouteGflops === undefined ? '–' : f2(x.copyRouteGflops)} |`),
  '',
].join('\n'));
