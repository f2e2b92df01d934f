/**
 * IMNN fit speed: SimulatorIMNN fit iterations per second, CPU (float64) and WebGPU (float32) in
 * one run, on
 *   - gaussian: the mean-and-variance problem of acceptance 1 (10 points, nS = nD = 1000,
 *     3 × [Dense(128) + LeakyReLU] → 2, Adam 1e-3): per iteration 1000 simulations, nParams = 2
 *     forward JVPs through simulator and network, reverse mode over them;
 *   - field 32²: the Gaussian random field of acceptance 6 (gaussianRandomField(32), DFT by
 *     matmuls) with the CNN of examples/imnn/field-model.ts, nS = nD = 100, Adam 1e-2.
 * Each case: one fit call of `warmup` iterations (kernels, jit caches), then one timed fit call of
 * `iterations` iterations (the fit's own per-iteration host reads of det F etc. included: that is
 * what a user's fit costs). Wall and process CPU time are recorded; on a shared machine the CPU
 * seconds are the steadier number.
 *
 *   npx tsx bench/imnn.ts [--iterations N] [--warmup N] [--backends cpu,webgpu] [--out DIR]
 *
 * Writes bench/results/imnn-<backend>.{json,md} for each backend that ran (an unavailable one is
 * recorded as such in its own files).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cpus, loadavg } from 'node:os';
import * as bt from '../src/index.js';
import { fieldModel, whitenHead } from '../examples/imnn/field-model.js';

interface Row {
  problem: string;
  backend: string;
  dtype: string;
  /** update traced and replayed (the default) or eager (jit: false) */
  jit: boolean;
  kind: 'measured' | 'unavailable';
  iterations?: number;
  seconds?: number;
  cpuSeconds?: number;
  itPerSec?: number;
  lastDetF?: number;
  note?: string;
}

function parseArgs(argv: string[]) {
  let iterations = 5, warmup = 2, backends = ['cpu', 'webgpu'];
  let out = resolve(new URL('./results', import.meta.url).pathname);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = () => (a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]) ?? '';
    if (a.startsWith('--iterations')) iterations = Number(val());
    else if (a.startsWith('--warmup')) warmup = Number(val());
    else if (a.startsWith('--backends')) backends = val().split(',');
    else if (a.startsWith('--out')) out = resolve(val());
    else {
      console.error('usage: tsx bench/imnn.ts [--iterations N] [--warmup N] [--backends cpu,webgpu] [--out DIR]');
      process.exit(2);
    }
  }
  if (!(Number.isInteger(iterations) && iterations >= 1 && Number.isInteger(warmup) && warmup >= 0)) {
    console.error('bench/imnn.ts: --iterations must be ≥ 1 and --warmup ≥ 0 integers');
    process.exit(2);
  }
  return { iterations, warmup, backends, out };
}

/** The two problems' SimulatorIMNNs, built with the current backend (its default float). */
const problems: Record<string, (dt: 'float32' | 'float64', jit: boolean) => bt.imnn.SimulatorIMNN> = {
  'gaussian (nS = nD = 1000, 3×Dense(128))': (dt, jit) => {
    const sim = (k: bt.Tensor, θ: bt.Tensor) => bt.random.normal(k, [10], { dtype: θ.dtype as 'float32' }).mul(θ.slice([1], [1]).sqrt()).add(θ.slice([0], [1]));
    return new bt.imnn.SimulatorIMNN({
      nS: 1000, nD: 1000, nParams: 2, nSummaries: 2, inputShape: [10], θFid: bt.tensor([0, 1], { dtype: dt }),
      model: bt.nn.mlp({ sizes: [10, 128, 128, 128, 2], activation: 'leakyRelu', dtype: dt }), optimiser: bt.optim.adam({ learningRate: 1e-3 }), keyOrState: bt.random.key(0), simulator: sim, jit,
    });
  },
  'field 32² (nS = nD = 100, CNN)': (dt, jit) => {
    const field = bt.simulators.gaussianRandomField(32);
    const sim = (k: bt.Tensor, θ: bt.Tensor) => field(k, θ);
    const θFid = bt.tensor([1, 0.5], { dtype: dt });
    const model = fieldModel({ n: 32, dtype: dt });
    const optimiser = bt.optim.adam({ learningRate: 1e-2 });
    const probe = bt.vmap((k: bt.Tensor) => sim(k, θFid))(bt.random.split(bt.random.key(99), 200)) as bt.Tensor;
    const w0 = whitenHead(model, model.init(bt.random.key(0)), probe, 98);
    return new bt.imnn.SimulatorIMNN({ nS: 100, nD: 100, nParams: 2, nSummaries: 2, inputShape: [32, 32], θFid, model, optimiser, keyOrState: { w: w0, opt: optimiser.init(w0) }, simulator: sim, jit });
  },
};

async function runCase(name: string, backend: string, iterations: number, warmup: number, jit: boolean): Promise<Row> {
  const dt = backend === 'cpu' ? 'float64' : 'float32';
  try {
    const m = bt.withBackend(backend, () => problems[name]!(dt, jit));
    // fit awaits between iterations (past withBackend's synchronous scope): the backend is made the default
    const fit = async (its: number, seed: number) => {
      bt.setBackend(backend);
      try {
        await m.fit(10, 0.1, { rng: bt.random.key(seed), maxIterations: its, minIterations: its, patience: 1e5, best: false });
      } finally {
        bt.setBackend('cpu');
      }
    };
    if (warmup > 0) await fit(warmup, 1);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fit(iterations, 2);
    const seconds = (performance.now() - t0) / 1000;
    const cu = process.cpuUsage(c0);
    const row: Row = { problem: name, backend, dtype: dt, jit, kind: 'measured', iterations, seconds, cpuSeconds: (cu.user + cu.system) / 1e6, itPerSec: iterations / seconds, lastDetF: m.history.detF.at(-1)! };
    m.dispose();
    console.log(`${backend}${jit ? ' jit' : ''} ${name}: ${row.itPerSec!.toFixed(3)} it/s (${seconds.toFixed(2)} s, CPU ${row.cpuSeconds!.toFixed(2)} s for ${iterations})`);
    return row;
  } catch (e) {
    return { problem: name, backend, dtype: dt, jit, kind: 'unavailable', note: `failed: ${String((e as Error).message ?? e).split('\n')[0]}` };
  }
}

async function main(): Promise<void> {
  const { iterations, warmup, backends, out } = parseArgs(process.argv.slice(2));
  mkdirSync(out, { recursive: true });
  const all: Record<string, { rows: Row[]; adapter: string; load: [number, number] }> = {};
  for (const backend of backends) {
    const loadStart = loadavg()[0]!;
    let adapter = '';
    const rows: Row[] = [];
    if (backend !== 'cpu') {
      try {
        const b = (await bt.ready(backend)) as { adapterLabel?: string };
        adapter = b.adapterLabel ?? '';
      } catch (e) {
        for (const p of Object.keys(problems)) rows.push({ problem: p, backend, dtype: 'float32', jit: true, kind: 'unavailable', note: `backend '${backend}' not available here: ${String((e as Error).message ?? e).split('\n')[0]}` });
      }
    }
    if (!rows.length) for (const p of Object.keys(problems)) for (const jit of [true, false]) rows.push(await runCase(p, backend, iterations, warmup, jit));
    all[backend] = { rows, adapter, load: [loadStart, loadavg()[0]!] };
  }
  const date = new Date().toISOString();
  for (const [backend, { rows, adapter, load }] of Object.entries(all)) {
    const meta = { backend, adapter, date, node: process.version, cores: cpus().length, loadAverage: { start: load[0], end: load[1] }, iterations, warmup };
    writeFileSync(join(out, `imnn-${backend}.json`), JSON.stringify({ meta, rows, compare: Object.values(all).flatMap((a) => a.rows) }, null, 2));
    const cpuRow = (p: string, jit: boolean) => all['cpu']?.rows.find((r) => r.problem === p && r.jit === jit && r.kind === 'measured');
    const eager = (r: Row) => rows.find((e) => e.problem === r.problem && !e.jit && e.kind === 'measured');
    const lines = [
      `# IMNN fit iterations per second (${backend}${adapter ? ` (${adapter})` : ''})`,
      '',
      `${date}, Node ${process.version}, ${cpus().length} cores, load average ${load[0].toFixed(2)} → ${load[1].toFixed(2)} (a shared machine: CPU seconds are steadier than wall). SimulatorIMNN.fit, λ = 10, ε = 0.1; ${warmup} warm-up iterations, then ${iterations} timed (one fit call each, host reads of the statistics included), with the default \`jit\` (the loss gradient and validation statistics traced once and replayed; the optimiser eager) and with \`jit: false\`. Command: \`npx tsx bench/imnn.ts --iterations ${iterations} --warmup ${warmup}\`.`,
      '',
      '| problem | backend | dtype | jit | iterations | s | CPU s | it/s | jit speed-up (eager CPU s ÷ jit CPU s) | vs CPU (it/s) |',
      '|---|---|---|---|---:|---:|---:|---:|---:|---:|',
      ...rows.map((r) => r.kind === 'measured'
        ? `| ${r.problem} | ${r.backend} | ${r.dtype} | ${r.jit ? 'jit' : 'eager'} | ${r.iterations} | ${r.seconds!.toFixed(2)} | ${r.cpuSeconds!.toFixed(2)} | ${r.itPerSec!.toFixed(3)} | ${r.jit && eager(r) ? `${(eager(r)!.cpuSeconds! / r.cpuSeconds!).toFixed(2)}×` : '—'} | ${cpuRow(r.problem, r.jit) ? `${(r.itPerSec! / cpuRow(r.problem, r.jit)!.itPerSec!).toFixed(2)}×` : '—'} |`
        : `| ${r.problem} | ${r.backend} | ${r.dtype} | ${r.jit ? 'jit' : 'eager'} | — | — | — | — | — | ${r.note} |`),
      '',
    ];
    writeFileSync(join(out, `imnn-${backend}.md`), lines.join('\n'));
    console.log(lines.join('\n'));
  }
}

await main();
