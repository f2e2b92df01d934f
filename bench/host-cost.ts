/**
 * Host cost of the WebGPU backend: the JavaScript one step costs with no GPU underneath.
 *
 *   npx tsx bench/host-cost.ts [--steps N] [--rounds R] [--only SUBSTRING] [--out DIR]
 *
 * The backend runs over a null device (bench/null-gpu.ts) whose calls return at once, so a step's
 * time is all ours — tracing, tape, fusion, caches, encoding — and no driver's. A real device adds
 * its own native cost per call (Dawn's setBindGroup / dispatchWorkgroups / submit), which the
 * table's call counts let one estimate. Problems:
 *   - mlp: value+grad of the MLP 32-128-128-2 at batch 256 (the engine bench's), loss read every
 *     step: the "≤ 0.1 ms of JS per step" figure;
 *   - mlp jit: the same step through bt.jit (replayed program);
 *   - sghmc: one SGHMC step of logistic regression (bench/sgmcmc.ts's), 1 chain, minibatch 32,
 *     log posterior read every step; eager and jit.
 * Times are the best of R rounds of N steps (after a warm-up), in ms of wall time per step: with
 * no GPU to wait for, wall time is host time.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as bt from '../src/index.js';
import { nullWebGPUBackend, type CallCounts } from './null-gpu.js';
import { oursMlpStep } from './ours.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = argv.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(argv[i + 1]);
  if (!Number.isInteger(v) || v <= 0) {
    console.error(`host-cost: ${name} needs a positive integer, got '${argv[i + 1] ?? ''}'`);
    process.exit(2);
  }
  return v;
};
for (const a of argv) {
  if (a.startsWith('--') && !['--steps', '--rounds', '--out', '--only'].includes(a)) {
    console.error('usage: tsx bench/host-cost.ts [--steps N] [--rounds R] [--only SUBSTRING] [--out DIR]');
    process.exit(2);
  }
}
const steps = opt('--steps', 2000);
const rounds = opt('--rounds', 5);
const outIdx = argv.indexOf('--out');
const outDir = outIdx >= 0 ? resolve(argv[outIdx + 1] ?? '.') : null;
const onlyIdx = argv.indexOf('--only');
const only = onlyIdx >= 0 ? argv[onlyIdx + 1] ?? '' : '';

const { backend, calls } = nullWebGPUBackend();
bt.registerBackend('null-webgpu', backend);
bt.setBackend('null-webgpu');

interface Row {
  problem: string;
  msPerStep: number;
  dispatchesPerStep: number;
  usPerDispatch: number;
  submitsPerStep: number;
  /** native calls a real device would receive per step, by method */
  callsPerStep: Record<string, number>;
}

function snapshot(): { calls: CallCounts; dispatches: number; submits: number } {
  return { calls: { ...calls }, dispatches: backend.stats.dispatches, submits: backend.stats.submits };
}

async function measure(problem: string, step: () => Promise<void>): Promise<Row> {
  for (let i = 0; i < 500; i++) await step(); // warm: caches filled, V8 has optimised the hot paths
  let best = Infinity;
  let per: Row | null = null;
  for (let r = 0; r < rounds; r++) {
    const before = snapshot();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) await step();
    const ms = (performance.now() - t0) / steps;
    const after = snapshot();
    if (ms < best) {
      best = ms;
      const callsPerStep: Record<string, number> = {};
      for (const [k, v] of Object.entries(after.calls)) {
        const d = (v - (before.calls[k] ?? 0)) / steps;
        if (d > 0) callsPerStep[k] = +d.toFixed(3);
      }
      const dispatches = (after.dispatches - before.dispatches) / steps;
      per = {
        problem,
        msPerStep: ms,
        dispatchesPerStep: dispatches,
        usPerDispatch: dispatches > 0 ? (1000 * ms) / dispatches : NaN,
        submitsPerStep: (after.submits - before.submits) / steps,
        callsPerStep,
      };
    }
  }
  return per!;
}

function mlpProblem(jit: boolean): () => Promise<void> {
  const mlp = oursMlpStep(256, 'float32', jit);
  return async () => {
    const [v, g] = mlp.step();
    await v.data();
    bt.dispose([v, g]);
  };
}

function sghmcProblem(jit: boolean): () => Promise<void> {
  // logistic regression (30 features + bias), minibatch 32 drawn each step, as bench/sgmcmc.ts
  const N = 569;
  const X = bt.keep(bt.random.normal(bt.random.key(1), [N, 30], { dtype: 'float32' }));
  const Y = bt.keep(bt.greater(bt.random.uniform(bt.random.key(2), [N], { dtype: 'float32' }), 0.5).astype('float32'));
  type LR = { w: bt.Tensor; b: bt.Tensor };
  const logPost = (p: LR, batch: { x: bt.Tensor; y: bt.Tensor }): [bt.Tensor, never[]] => {
    const lg = bt.matmul(batch.x, p.w.expandDims(-1)).squeeze(-1).add(p.b);
    const ll = bt.logpdf.bernoulliLogits(bt.broadcastTo(batch.y, lg.shape), lg).mean({ axis: -1 });
    const prior = p.w.square().sum({ axis: -1 }).add(p.b.square().sum({ axis: -1 })).mul(-0.5);
    return [ll.add(prior.div(N)), []];
  };
  const sampler = bt.sgmcmc.sghmc.build(logPost, { lr: 0.2, alpha: 1, temperature: 1 / N, momenta: 0, jit });
  const key = bt.keep(bt.random.key(0));
  let state = sampler.init({ w: bt.zeros([30], 'float32'), b: bt.zeros([1], 'float32') });
  let t = 0;
  return async () => {
    const [next, aux] = bt.tidy(() => {
      const idx = bt.random.randint(bt.random.foldIn(key, t), [32], 0, N);
      return sampler.update(state, { x: bt.take(X, idx, 0), y: bt.take(Y, idx, 0) }, bt.random.foldIn(key, t));
    });
    bt.dispose(aux);
    bt.dispose(state);
    state = next;
    t++;
    await state.logPosterior.data();
  };
}

const rows: Row[] = [];
for (const [name, make] of [
  ['mlp 32-128-128-2 value+grad, batch 256', () => mlpProblem(false)],
  ['mlp 32-128-128-2 value+grad, batch 256, jit', () => mlpProblem(true)],
  ['sghmc logistic regression, 1 chain, batch 32', () => sghmcProblem(false)],
  ['sghmc logistic regression, 1 chain, batch 32, jit', () => sghmcProblem(true)],
] as const) {
  if (!name.includes(only)) continue;
  let row: Row;
  try {
    row = await measure(name, make());
  } catch (e) {
    console.error(`host-cost: ${name} failed: ${(e as Error).stack ?? e}`);
    process.exitCode = 1;
    continue;
  }
  rows.push(row);
  const top = Object.entries(row.callsPerStep)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  console.log(
    `${name.padEnd(48)} ${row.msPerStep.toFixed(4)} ms/step  ${row.dispatchesPerStep.toFixed(1)} dispatches  ${row.usPerDispatch.toFixed(2)} µs/dispatch  ${row.submitsPerStep.toFixed(2)} submits\n    native calls/step: ${top}`,
  );
}

if (outDir) {
  mkdirSync(outDir, { recursive: true });
  const md = [
    '# WebGPU host cost (null device: no GPU work, JavaScript only)',
    '',
    `node ${process.version}, ${steps} steps × best of ${rounds} rounds, ${new Date().toISOString().slice(0, 10)}`,
    '',
    'Native calls: what a real device would receive per step (each costs the driver some host time of its own).',
    '',
    '| problem | ms/step | dispatches/step | µs/dispatch | submits/step | native calls/step |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.problem} | ${r.msPerStep.toFixed(4)} | ${r.dispatchesPerStep.toFixed(1)} | ${r.usPerDispatch.toFixed(2)} | ${r.submitsPerStep.toFixed(2)} | ${Object.values(r.callsPerStep).reduce((a, b) => a + b, 0).toFixed(0)} |`),
    '',
  ].join('\n');
  writeFileSync(resolve(outDir, 'host-cost.md'), md);
  writeFileSync(resolve(outDir, 'host-cost.json'), JSON.stringify({ node: process.version, steps, rounds, rows }, null, 2));
  console.log(`wrote ${resolve(outDir, 'host-cost.md')}`);
}
backend.dispose();
