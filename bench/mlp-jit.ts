/**
 * The engine bench's MLP 32-128-128-2 value+grad step (batch 256) alone: bayestape eager and
 * `bt.jit` in float64 and float32 beside jax-js's jit, interleaved rounds, CPU time of this
 * process (the machine is shared: wall time mostly measures the others). For before/after
 * comparisons of the jitted step; `--steps` prints the compiled program.
 *
 *   npx tsx bench/mlp-jit.ts [--rounds R] [--steps]
 */
import os from 'node:os';
import * as bt from '../src/index.js';
import { jaxjsMlpValueAndGrad, type MeasureOptions } from './peers.js';
import { oursMlpStep, oursMlpValueAndGrad } from './ours.js';

const argv = process.argv.slice(2);
const rounds = Number(argv[argv.indexOf('--rounds') + 1] ?? 3) || 3;
const opts: MeasureOptions = { minTimeMs: 600, warmupMs: 200, minSamples: 5, targetSampleMs: 25, timer: 'cpu' };

if (argv.includes('--steps')) {
  const m = oursMlpStep(256, 'float32', true);
  bt.dispose(m.step());
  console.log((m as unknown as { compiled?: () => unknown }).compiled?.() ?? '(see jit.compiled())');
  m.dispose();
}

const cases: [string, () => Promise<{ value: number | null }>][] = [
  ['eager f64', () => oursMlpValueAndGrad(256, 'float64', opts)],
  ['jit f64', () => oursMlpValueAndGrad(256, 'float64', opts, true)],
  ['eager f32', () => oursMlpValueAndGrad(256, 'float32', opts)],
  ['jit f32', () => oursMlpValueAndGrad(256, 'float32', opts, true)],
  ['jax-js jit f32', () => jaxjsMlpValueAndGrad(256, true, opts)],
];
const got = new Map<string, number[]>(cases.map(([k]) => [k, []]));
console.log(`load average ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}`);
for (let r = 0; r < rounds; r++) for (const [k, run] of cases) got.get(k)!.push((await run()).value ?? NaN);
const med = (a: number[]) => a.slice().sort((x, y) => x - y)[a.length >> 1]!;
for (const [k, v] of got) console.log(`${k.padEnd(16)} ${med(v).toFixed(0).padStart(6)} steps/s (CPU time; rounds ${v.map((x) => x.toFixed(0)).join(' ')})`);
console.log(`jit f32 / jax-js jit: ${(med(got.get('jit f32')!) / med(got.get('jax-js jit f32')!)).toFixed(2)}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}`);
