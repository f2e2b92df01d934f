/**
 * Throughput of the CPU matmul kernel (src/backends/cpu/matmul/matmul.ts).
 * Run: npx tsx bench/matmul-kernel.ts  [--quick]
 * Prints GFLOP/s (2*m*n*k*batch / time) for square sizes and the MLP/Jacobian shapes the engine hits.
 */
import { matmul, type FloatArray } from '../src/backends/cpu/matmul/matmul.js';

type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;
const quick = process.argv.includes('--quick');

function bench(C: Ctor, batch: number, m: number, k: number, n: number, tA = false, tB = false): number {
  const a = new C(batch * m * k).map(() => Math.random() - 0.5) as FloatArray;
  const b = new C(batch * k * n).map(() => Math.random() - 0.5) as FloatArray;
  const out = new C(batch * m * n) as FloatArray;
  const ao = Array.from({ length: batch }, (_, t) => t * m * k);
  const bo = Array.from({ length: batch }, (_, t) => t * k * n);
  const flops = 2 * batch * m * n * k;
  const run = () => matmul(a, ao, b, bo, out, batch, m, k, n, tA, tB);
  // Warm up (also lets V8 tier the Wasm/JS code up), then time batches of calls for >= ~0.3 s.
  const warmEnd = performance.now() + (quick ? 100 : 300);
  while (performance.now() < warmEnd) run();
  let best = Infinity;
  const reps = Math.max(1, Math.floor(2e7 / flops));
  for (let round = 0; round < (quick ? 3 : 7); round++) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) run();
    best = Math.min(best, (performance.now() - t0) / reps);
  }
  return flops / (best * 1e-3) / 1e9;
}

const cases: [string, number, number, number, number, boolean?, boolean?][] = [
  ['n=64', 1, 64, 64, 64], ['n=128', 1, 128, 128, 128], ['n=256', 1, 256, 256, 256], ['n=512', 1, 512, 512, 512],
  ['n=256 A^T', 1, 256, 256, 256, true, false], ['n=256 B^T', 1, 256, 256, 256, false, true],
  ['[256,32]x[32,128]', 1, 256, 32, 128], ['[256,128]x[128,2]', 1, 256, 128, 2],
  ['[2,128]x[128,256]', 1, 2, 128, 256], ['[64,8,8]x[8,8]', 64, 8, 8, 8],
  ['[256,128]^T x[256,32] (grad W)', 1, 128, 256, 32, true, false],
  ['[256,32]x[128,32]^T (grad x)', 1, 256, 32, 128, false, true],
];

console.log(`${'shape'.padEnd(34)}${'f64 GFLOP/s'.padStart(12)}${'f32 GFLOP/s'.padStart(12)}`);
for (const [name, batch, m, k, n, tA, tB] of cases) {
  const g64 = bench(Float64Array, batch, m, k, n, tA, tB);
  const g32 = bench(Float32Array, batch, m, k, n, tA, tB);
  console.log(`${name.padEnd(34)}${g64.toFixed(2).padStart(12)}${g32.toFixed(2).padStart(12)}`);
}
