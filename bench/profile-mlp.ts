/**
 * Where does one MLP value+grad step go? (the bench's MLP 32-128-128-2, batch 256)
 *
 *   npx tsx bench/profile-mlp.ts [--dtype float64|float32] [--steps N] [--jit]
 *
 * Times N steps plainly, then again with every CPU kernel call (`CpuBackend.run`) timed by op
 * name, so the step splits into kernel time per op (matmul vs elementwise vs reduce vs shape;
 * output allocation happens inside the kernels and is included) and the rest: tracing, tape,
 * shape rules, tensor/tracer objects, tidy. For a function-level view run it under
 * `node --cpu-prof --import tsx bench/profile-mlp.ts --plain` and open the .cpuprofile (the main
 * thread's; large matmuls also run on a helper thread, whose profile is a separate file).
 */
import * as bt from '../src/index.js';
import { CpuBackend } from '../src/backends/cpu/index.js';
import { oursMlpStep, type FloatDType } from './ours.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : dflt;
};
const dtype = opt('--dtype', 'float64') as FloatDType;
const steps = +opt('--steps', '400');

const mlp = oursMlpStep(256, dtype, argv.includes('--jit'));
const step = () => {
  const [v, g] = mlp.step();
  v.item();
  bt.dispose([v, g]);
};

function timeSteps(n: number): number {
  const t = performance.now();
  for (let i = 0; i < n; i++) step();
  return (performance.now() - t) / n;
}

for (let i = 0; i < 100; i++) step(); // warm up (JIT tiers, Wasm compile)
const plain = Math.min(timeSteps(steps), timeSteps(steps), timeSteps(steps));
if (argv.includes('--plain')) {
  // For --cpu-prof: no kernel timers.
  console.log(`MLP 32-128-128-2 batch 256 ${dtype}: ${plain.toFixed(3)} ms/step (${(1000 / plain).toFixed(0)} steps/s)`);
  mlp.dispose();
  process.exit(0);
}

// Kernel timers.
type Stat = { calls: number; ms: number; shapes: Map<string, { calls: number; ms: number }> };
const stats = new Map<string, Stat>();
const proto = CpuBackend.prototype as unknown as { run: (...a: unknown[]) => unknown[] };
const origRun = proto.run;
proto.run = function (this: unknown, op: unknown, inputs: unknown, params: unknown, outs: unknown) {
  const t = performance.now();
  const r = origRun.call(this, op, inputs, params, outs);
  const dt = performance.now() - t;
  const s = stats.get(op as string) ?? { calls: 0, ms: 0, shapes: new Map() };
  s.calls++;
  s.ms += dt;
  const ins = (inputs as { shape: readonly number[] }[]).map((i) => `[${i.shape.join(',')}]`).join(' ');
  const p = params && typeof params === 'object' && 'transA' in params ? ` tA=${+(params as any).transA} tB=${+(params as any).transB}` : '';
  const key = `${ins}${p}`;
  const ss = s.shapes.get(key) ?? { calls: 0, ms: 0 };
  ss.calls++;
  ss.ms += dt;
  s.shapes.set(key, ss);
  stats.set(op as string, s);
  return r;
};
const instrumented = timeSteps(steps);
proto.run = origRun;

const kernelMs = [...stats.values()].reduce((a, s) => a + s.ms, 0) / steps;
const cat = (op: string) =>
  op === 'matmul' ? 'matmul' : op.startsWith('reduce') ? 'reduce' : ['transpose', 'broadcastTo', 'slice', 'pad', 'concat'].includes(op) ? 'shape' : 'elementwise';
const byCat = new Map<string, number>();
for (const [op, s] of stats) byCat.set(cat(op), (byCat.get(cat(op)) ?? 0) + s.ms / steps);

console.log(`MLP 32-128-128-2 batch 256 ${dtype}: ${plain.toFixed(3)} ms/step (${(1000 / plain).toFixed(0)} steps/s) plain; ${instrumented.toFixed(3)} ms/step instrumented`);
console.log(`kernel calls per step: ${[...stats.values()].reduce((a, s) => a + s.calls, 0) / steps}`);
console.log(`\nby category (ms/step, % of the instrumented step):`);
for (const [c, ms] of [...byCat].sort((a, b) => b[1] - a[1])) console.log(`  ${c.padEnd(12)} ${ms.toFixed(3).padStart(7)}  ${((100 * ms) / instrumented).toFixed(1).padStart(5)}%`);
const rest = instrumented - kernelMs;
console.log(`  ${'non-kernel'.padEnd(12)} ${rest.toFixed(3).padStart(7)}  ${((100 * rest) / instrumented).toFixed(1).padStart(5)}%  (tracing, tape, shape rules, objects, tidy, timer overhead)`);
console.log(`\nby op:`);
for (const [op, s] of [...stats].sort((a, b) => b[1].ms - a[1].ms)) {
  console.log(`  ${op.padEnd(12)} ${(s.calls / steps).toFixed(0).padStart(3)} calls  ${(s.ms / steps).toFixed(3).padStart(7)} ms`);
  for (const [k, v] of [...s.shapes].sort((a, b) => b[1].ms - a[1].ms)) {
    console.log(`      ${k.padEnd(44)} ${(v.calls / steps).toFixed(0).padStart(3)}x ${((v.ms / v.calls) * 1000).toFixed(1).padStart(8)} us`);
  }
}
mlp.dispose();
