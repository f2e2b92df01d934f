/**
 * SG-MCMC bench: SGHMC steps per second on
 *   - Bayesian logistic regression (UCI breast cancer, 30 features + bias = 31 parameters), and
 *   - a BNN, MLP 30-50-1 (tanh; 1,601 parameters), on the same data,
 * with minibatches of 32 and 512 rows (drawn with replacement from the 455 training rows, so 512
 * is possible), and 1 vs 16 parallel chains (one set of batched kernels). A "step" advances every
 * chain once; chain-steps/s = steps/s × chains. Every case runs in two modes side by side, in
 * alternating blocks of 10 steps: the sampler's `jit: false` (eager dispatch) and its default (the
 * update traced once and replayed); the speed-up compares them by process CPU time per step
 * (steadier than wall time on a shared machine) and by wall time. The minibatch draw, eager in both
 * modes, is part of each step. Each mode gets S seconds (2 × S per case).
 *
 *   npx tsx bench/sgmcmc.ts [--backend cpu|webgpu] [--seconds S] [--out DIR] [--quick]
 *
 * `--quick`: 1 s per case and mode, only the batch-32 cases.
 *
 * Writes bench/results/sgmcmc-<backend>.{json,md} (or DIR). On WebGPU the loop never reads back
 * except once at the end of each timing (the finiteness check needs a synchronous read, so it is
 * skipped there), and values are float32.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import * as bt from '../src/index.js';
import { parseBenchArgs } from './args.js';
import { loadBreastCancerRaw } from '../examples/data/loader.js';

const parseArgs = (argv: string[]) => {
  const quick = argv.includes('--quick');
  const a = parseBenchArgs('sgmcmc.ts', argv.filter((x) => x !== '--quick'), quick ? 1 : 2);
  return { ...a, quick };
};

interface Row {
  model: string;
  params: number;
  batch: number;
  chains: number;
  steps: number;
  seconds: number;
  stepsPerSecond: number;
  chainStepsPerSecond: number;
  msPerStep: number;
  /** process CPU time (user + system) per step */
  cpuMsPerStep: number;
  /** false: eager dispatch; true: the jitted update */
  jit: boolean;
  /** load average (1 min) when the case started */
  load: number;
}

async function main() {
  const { backend, seconds, out, quick } = parseArgs(process.argv.slice(2));
  await bt.ready(backend);
  bt.setBackend(backend);
  const dtype = backend === 'cpu' ? 'float64' : 'float32';
  const raw = loadBreastCancerRaw();
  const N = raw.x.length;
  const d = 30;
  const mu = new Array(d).fill(0).map((_, j) => raw.x.reduce((s, r) => s + r[j]!, 0) / N);
  const sd = new Array(d).fill(0).map((_, j) => Math.sqrt(raw.x.reduce((s, r) => s + (r[j]! - mu[j]!) ** 2, 0) / N));
  const X = bt.tensor(raw.x.map((r) => r.map((v, j) => (v - mu[j]!) / sd[j]!)), { dtype });
  const Y = bt.tensor(raw.y, { dtype });

  type LR = { w: bt.Tensor; b: bt.Tensor };
  const lrLogPost = (p: LR, batch: { x: bt.Tensor; y: bt.Tensor }): [bt.Tensor, never[]] => {
    const lg = bt.matmul(batch.x, p.w.expandDims(-1)).squeeze(-1).add(p.b);
    const ll = bt.logpdf.bernoulliLogits(bt.broadcastTo(batch.y, lg.shape), lg).mean({ axis: -1 });
    const prior = p.w.square().sum({ axis: -1 }).add(p.b.square().sum({ axis: -1 })).mul(-0.5);
    return [ll.add(prior.div(N)), []];
  };
  const net = bt.nn.mlp({ sizes: [30, 50, 1], activation: 'tanh', dtype });
  const bnnLogPost = (p: unknown, batch: { x: bt.Tensor; y: bt.Tensor }): [bt.Tensor, never[]] => {
    const lg = net.apply(p as never, batch.x).squeeze(-1);
    const ll = bt.logpdf.bernoulliLogits(batch.y, lg).mean();
    const prior = bt.logpdf.diagNormal(p, 0, 1, { normalize: false });
    return [ll.add(prior.div(N)), []];
  };

  const rows: Row[] = [];
  const cases: { model: 'logreg' | 'bnn'; batch: number; chains: number }[] = [];
  for (const model of ['logreg', 'bnn'] as const) for (const batch of quick ? [32] : [32, 512]) for (const chains of [1, 16]) cases.push({ model, batch, chains });
  for (const c of cases) {
    const load = loadavg()[0]!;
    const key = bt.random.key(0);
    const batchAt = (t: number) => {
      const idx = bt.random.randint(bt.random.foldIn(key, t), [c.batch], 0, N);
      return { x: bt.take(X, idx, 0), y: bt.take(Y, idx, 0) };
    };
    // Both modes step side by side, in alternating blocks of 10 steps, so that the load on a
    // shared machine falls on both alike.
    const modes = [false, true].map((jit) => {
      let params: any;
      let sampler: any;
      if (c.model === 'logreg') {
        const p0 = { w: bt.zeros([30], dtype), b: bt.zeros([1], dtype) };
        const s = bt.sgmcmc.sghmc.build(lrLogPost, { lr: 0.2, alpha: 1, temperature: 1 / N, momenta: 0, jit });
        sampler = c.chains === 1 ? s : bt.sgmcmc.parallel(s, { chains: c.chains, batchedLogPosterior: true });
        params = c.chains === 1 ? p0 : bt.sgmcmc.replicate(p0, c.chains);
      } else {
        const s = bt.sgmcmc.sghmc.build(bnnLogPost, { lr: 0.2, alpha: 1, temperature: 1 / N, momenta: 0, jit });
        sampler = c.chains === 1 ? s : bt.sgmcmc.parallel(s, { chains: c.chains });
        params = c.chains === 1 ? net.init(key) : bt.vmap((k: bt.Tensor) => net.init(k))(bt.random.split(key, c.chains));
      }
      let state = sampler.init(params);
      let t = 0;
      const m = {
        jit, sampler, params, n: 0, wall: 0, cpu: 0,
        state: () => state,
        step: () => {
          const [next, aux] = bt.tidy(() => sampler.update(state, batchAt(t), bt.random.foldIn(key, t)));
          bt.dispose(aux);
          if (t > 0) bt.dispose(state);
          state = next;
          t++;
        },
      };
      return m;
    });
    const nParams = bt.tree.leaves(modes[0]!.params).reduce((s: number, l: any) => s + l.size / (c.chains === 1 ? 1 : c.chains), 0);
    // warm-up (kernel compilation on WebGPU, the trace, V8's JIT)
    for (const m of modes) {
      for (let k = 0; k < 20; k++) m.step();
      await m.state().logPosterior.data();
    }
    const t0 = performance.now();
    while (performance.now() - t0 < 2 * seconds * 1000) {
      for (const m of modes) {
        const w0 = performance.now();
        const c0 = process.cpuUsage();
        for (let k = 0; k < 10; k++, m.n++) m.step();
        if (backend !== 'cpu') await m.state().logPosterior.data();
        const cu = process.cpuUsage(c0);
        m.cpu += (cu.user + cu.system) / 1000;
        m.wall += performance.now() - w0;
      }
    }
    for (const m of modes) {
      const secs = m.wall / 1000;
      const row: Row = {
        model: c.model === 'logreg' ? 'logistic regression' : 'BNN MLP 30-50-1',
        params: nParams,
        batch: c.batch,
        chains: c.chains,
        steps: m.n,
        seconds: secs,
        stepsPerSecond: m.n / secs,
        chainStepsPerSecond: (m.n * c.chains) / secs,
        msPerStep: m.wall / m.n,
        cpuMsPerStep: m.cpu / m.n,
        jit: m.jit,
        load,
      };
      rows.push(row);
      console.log(`${row.model.padEnd(20)} batch ${String(c.batch).padStart(3)}  chains ${String(c.chains).padStart(2)}  jit ${String(m.jit).padEnd(5)}: ${row.stepsPerSecond.toFixed(0).padStart(6)} steps/s  ${row.chainStepsPerSecond.toFixed(0).padStart(7)} chain-steps/s  (${row.msPerStep.toFixed(3)} ms/step, CPU ${row.cpuMsPerStep.toFixed(3)})`);
      bt.dispose([m.state(), m.params]);
      m.sampler.dispose();
    }
  }
  mkdirSync(out, { recursive: true });
  const meta = { backend, dtype, date: new Date().toISOString(), node: process.version, secondsPerCase: seconds, quick, cpus: cpus().length };
  const pairs = rows.filter((r) => !r.jit).map((e) => [e, rows.find((j) => j.jit && j.model === e.model && j.batch === e.batch && j.chains === e.chains)!] as const);
  writeFileSync(join(out, `sgmcmc-${backend}.json`), JSON.stringify({ meta, rows }, null, 2));
  const md = [
    `# SGHMC steps per second (${backend}, ${dtype})`,
    '',
    `${meta.date}, Node ${meta.node}, ${meta.cpus} CPUs${quick ? ', --quick' : ''}. A step advances every chain once. Eager = \`jit: false\`; jit = the default (update traced once, replayed as fused loops). ` +
      'Both modes run side by side in alternating blocks of 10 steps. Speed-up = eager ÷ jit time per step, by process CPU time (steadier on a shared machine) and by wall time; load = the 1-minute load average when the case started.',
    '',
    '| model | params | batch | chains | eager steps/s | jit steps/s | eager CPU ms/step | jit CPU ms/step | speed-up (CPU) | speed-up (wall) | load |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...pairs.map(([e, j]) =>
      `| ${e.model} | ${e.params} | ${e.batch} | ${e.chains} | ${e.stepsPerSecond.toFixed(0)} | ${j.stepsPerSecond.toFixed(0)} | ${e.cpuMsPerStep.toFixed(3)} | ${j.cpuMsPerStep.toFixed(3)} | ${(e.cpuMsPerStep / j.cpuMsPerStep).toFixed(2)}× | ${(j.stepsPerSecond / e.stepsPerSecond).toFixed(2)}× | ${e.load.toFixed(1)} |`),
    '',
  ].join('\n');
  writeFileSync(join(out, `sgmcmc-${backend}.md`), md);
  console.log(`\nwrote ${join(out, `sgmcmc-${backend}.json`)} and .md`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
