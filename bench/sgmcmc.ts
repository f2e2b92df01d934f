/**
 * SG-MCMC bench: SGHMC steps per second on
 *   - Bayesian logistic regression (UCI breast cancer, 30 features + bias = 31 parameters), and
 *   - a BNN, MLP 30-50-1 (tanh; 1,601 parameters), on the same data,
 * with minibatches of 32 and 512 rows (drawn with replacement from the 455 training rows, so 512
 * is possible), and 1 vs 16 parallel chains (one set of batched kernels). A "step" advances every
 * chain once; chain-steps/s = steps/s × chains.
 *
 *   npx tsx bench/sgmcmc.ts [--backend cpu|webgpu] [--seconds S] [--out DIR]
 *
 * Writes bench/results/sgmcmc-<backend>.{json,md} (or DIR). On WebGPU the loop never reads back
 * except once at the end of each timing (the finiteness check needs a synchronous read, so it is
 * skipped there), and values are float32.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as bt from '../src/index.js';
import { parseBenchArgs } from './args.js';
import { loadBreastCancerRaw } from '../examples/data/loader.js';

const parseArgs = (argv: string[]) => parseBenchArgs('sgmcmc.ts', argv, 2);

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
}

async function main() {
  const { backend, seconds, out } = parseArgs(process.argv.slice(2));
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
  for (const model of ['logreg', 'bnn'] as const) for (const batch of [32, 512]) for (const chains of [1, 16]) cases.push({ model, batch, chains });
  for (const c of cases) {
    const key = bt.random.key(0);
    let params: any;
    let sampler: any;
    if (c.model === 'logreg') {
      const p0 = { w: bt.zeros([30], dtype), b: bt.zeros([1], dtype) };
      const s = bt.sgmcmc.sghmc.build(lrLogPost, { lr: 0.2, alpha: 1, temperature: 1 / N, momenta: 0 });
      sampler = c.chains === 1 ? s : bt.sgmcmc.parallel(s, { chains: c.chains, batchedLogPosterior: true });
      params = c.chains === 1 ? p0 : bt.sgmcmc.replicate(p0, c.chains);
    } else {
      const s = bt.sgmcmc.sghmc.build(bnnLogPost, { lr: 0.2, alpha: 1, temperature: 1 / N, momenta: 0 });
      sampler = c.chains === 1 ? s : bt.sgmcmc.parallel(s, { chains: c.chains });
      params = c.chains === 1 ? net.init(key) : bt.vmap((k: bt.Tensor) => net.init(k))(bt.random.split(key, c.chains));
    }
    const nParams = bt.tree.leaves(params).reduce((s: number, l: any) => s + l.size / (c.chains === 1 ? 1 : c.chains), 0);
    const batchAt = (t: number) => {
      const idx = bt.random.randint(bt.random.foldIn(key, t), [c.batch], 0, N);
      return { x: bt.take(X, idx, 0), y: bt.take(Y, idx, 0) };
    };
    let state = sampler.init(params);
    const step = (t: number) => {
      const [next, aux] = bt.tidy(() => sampler.update(state, batchAt(t), bt.random.foldIn(key, t)));
      bt.dispose(aux);
      if (t > 0) bt.dispose(state);
      state = next;
    };
    // warm-up (kernel compilation on WebGPU, JIT on CPU)
    let t = 0;
    for (; t < 10; t++) step(t);
    await state.logPosterior.data();
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < seconds * 1000) {
      for (let k = 0; k < 10; k++, n++) step(t++);
      if (backend !== 'cpu') await state.logPosterior.data();
    }
    await state.logPosterior.data();
    const secs = (performance.now() - t0) / 1000;
    const row: Row = {
      model: c.model === 'logreg' ? 'logistic regression' : 'BNN MLP 30-50-1',
      params: nParams,
      batch: c.batch,
      chains: c.chains,
      steps: n,
      seconds: secs,
      stepsPerSecond: n / secs,
      chainStepsPerSecond: (n * c.chains) / secs,
      msPerStep: (1000 * secs) / n,
    };
    rows.push(row);
    console.log(`${row.model.padEnd(20)} batch ${String(c.batch).padStart(3)}  chains ${String(c.chains).padStart(2)}: ${row.stepsPerSecond.toFixed(0).padStart(6)} steps/s  ${row.chainStepsPerSecond.toFixed(0).padStart(7)} chain-steps/s  (${row.msPerStep.toFixed(3)} ms/step)`);
    bt.dispose([state, params]);
  }
  mkdirSync(out, { recursive: true });
  const meta = { backend, dtype, date: new Date().toISOString(), node: process.version, secondsPerCase: seconds };
  writeFileSync(join(out, `sgmcmc-${backend}.json`), JSON.stringify({ meta, rows }, null, 2));
  const md = [
    `# SGHMC steps per second (${backend}, ${dtype})`,
    '',
    `${meta.date}, Node ${meta.node}. A step advances every chain once.`,
    '',
    '| model | params | batch | chains | steps/s | chain-steps/s | ms/step |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.model} | ${r.params} | ${r.batch} | ${r.chains} | ${r.stepsPerSecond.toFixed(0)} | ${r.chainStepsPerSecond.toFixed(0)} | ${r.msPerStep.toFixed(3)} |`),
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
