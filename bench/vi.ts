/**
 * VI bench: epochs per second of bt.vi.VI on
 *   - the random walk (T = 100, 1 parameter, MSE, gradient horizon 0), 1 and 10 samples per epoch;
 *   - Brock–Hommes (T = 100, all 11 parameters, MMD, gradient horizon 0), 10 samples per epoch;
 * in reverse mode and in forward mode with jacobianChunkSize 1, 3 and all (undefined). An epoch is
 * one lossAndGrad (N simulations with their gradients + a KL over nSamplesRegularisation = 1000
 * samples, w = 0.01) and one Adam step.
 *
 *   npx tsx bench/vi.ts [--backend cpu|webgpu] [--seconds S] [--out DIR] [--smoke]
 *
 * Writes bench/results/vi-<backend>.{json,md}. On WebGPU everything is float32 and the MMD
 * bandwidth is computed on the host first. `--smoke` (for the tests) runs every case at T = 10
 * with one warm-up and one timed epoch: it checks that the bench runs, not how fast.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as bt from '../src/index.js';
import { parseBenchArgs } from './args.js';

const parseArgs = (argv: string[]) => ({ ...parseBenchArgs('vi.ts', argv.filter((a) => a !== '--smoke'), 3), smoke: argv.includes('--smoke') });

interface Row {
  model: string;
  params: number;
  samples: number;
  mode: string;
  epochs: number;
  seconds: number;
  epochsPerSecond: number;
  msPerEpoch: number;
  msPerSample: number;
  /** process CPU time (user + system) per sample: steadier than wall time on a shared machine */
  cpuMsPerSample: number;
}

async function main() {
  const { backend, seconds, out, smoke } = parseArgs(process.argv.slice(2));
  const nTimesteps = smoke ? 10 : 100;
  const S = bt.simulators;
  // data on the CPU (host reads), then moved as plain numbers
  const rw = S.randomWalk(nTimesteps);
  const rwData = Array.from(S.simulate(rw, bt.tensor([Math.log(1 / 3)]), bt.random.key(1))[0]!.dataSync());
  const bh = S.brockHommes(nTimesteps);
  const bhTruth = [Math.log(120), 0, 0.9, 0.9, 1.01, 0, 0.2, -0.2, 0, Math.log(0.04), 0];
  const bhData = Array.from(S.simulate(bh, bt.tensor(bhTruth), bt.random.key(2))[0]!.dataSync());
  const bandwidth = S.medianHeuristic(bt.tensor(bhData));
  if (backend !== 'cpu') {
    await bt.ready(backend);
    bt.setBackend(backend);
  }
  const dtype: bt.FloatDType = backend === 'cpu' ? 'float64' : 'float32';
  const T = (x: number[] | number[][]) => bt.tensor(x as number[], { dtype });
  const cases: { model: 'random walk' | 'Brock–Hommes'; samples: number; diffMode: 'reverse' | 'forward'; chunk?: number }[] = [];
  for (const samples of [1, 10]) for (const [diffMode, chunk] of [['reverse', undefined], ['forward', undefined]] as const) cases.push({ model: 'random walk', samples, diffMode, chunk });
  for (const [diffMode, chunk] of [['reverse', undefined], ['forward', 1], ['forward', 3], ['forward', undefined]] as const) cases.push({ model: 'Brock–Hommes', samples: 10, diffMode, chunk });
  const rows: Row[] = [];
  for (const c of cases) {
    const isRw = c.model === 'random walk';
    const d = isRw ? 1 : 11;
    const data = bt.keep(T(isRw ? rwData.map((v) => [v]) : bhData));
    const mmd = isRw ? null : S.mmdLoss(data, { bandwidth });
    const loss = isRw
      ? (th: bt.Tensor, y: bt.Tensor, k: bt.Tensor) => S.mse(S.simulate(rw, th, k, { gradientHorizon: 0 })[0]!, y)
      : (th: bt.Tensor, _y: bt.Tensor, k: bt.Tensor) => mmd!(S.simulate(bh, th, k, { gradientHorizon: 0 })[0]!);
    const loc = T(isRw ? [0] : bhTruth.map((v) => v + 0.05));
    const prior = new bt.distributions.MultivariateNormal({ loc, covariance: bt.eye(d, d, dtype) });
    const q = new bt.distributions.MultivariateNormal({ loc, covariance: bt.eye(d, d, dtype).mul(0.01) });
    const vi = new bt.vi.VI({
      loss, prior, posteriorEstimator: q, w: 0.01, nSamplesPerEpoch: c.samples, nSamplesRegularisation: 1000, diffMode: c.diffMode,
      jacobianChunkSize: c.chunk, optimizer: bt.optim.adam({ learningRate: 1e-3 }), key: bt.random.key(3),
    });
    for (let i = 0; i < (smoke ? 1 : 2); i++) await vi.step(data); // warm-up
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    let n = 0;
    while (n < (smoke ? 1 : 2) || (!smoke && performance.now() - t0 < seconds * 1000)) {
      await vi.step(data);
      n++;
    }
    const secs = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const mode = c.diffMode === 'reverse' ? 'reverse' : `forward, chunk ${c.chunk ?? `all (${d})`}`;
    const row: Row = { model: c.model, params: d, samples: c.samples, mode, epochs: n, seconds: secs, epochsPerSecond: n / secs, msPerEpoch: (1000 * secs) / n, msPerSample: (1000 * secs) / n / c.samples, cpuMsPerSample: cpuMs / n / c.samples };
    rows.push(row);
    console.log(`${c.model.padEnd(13)} ${String(c.samples).padStart(2)} samples  ${mode.padEnd(20)} ${row.epochsPerSecond.toFixed(2).padStart(7)} epochs/s  (${row.msPerEpoch.toFixed(1)} ms/epoch, ${row.msPerSample.toFixed(1)} ms/sample, CPU ${row.cpuMsPerSample.toFixed(1)} ms/sample)`);
    vi.dispose();
  }
  mkdirSync(out, { recursive: true });
  const meta = { backend, dtype, date: new Date().toISOString(), node: process.version, secondsPerCase: seconds, nTimesteps, smoke };
  writeFileSync(join(out, `vi-${backend}.json`), JSON.stringify({ meta, rows }, null, 2));
  const md = [
    `# bt.vi epochs per second (${backend}, ${dtype})`,
    '',
    `${meta.date}, Node ${meta.node}. T = ${nTimesteps} steps, gradient horizon 0; KL over 1000 samples, w = 0.01; Adam.${smoke ? ' SMOKE RUN (one epoch a case): not a measurement.' : ''}`,
    '',
    '| model | params | samples/epoch | differentiation | epochs/s | ms/epoch | ms/sample | CPU ms/sample |',
    '|---|---:|---:|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.model} | ${r.params} | ${r.samples} | ${r.mode} | ${r.epochsPerSecond.toFixed(2)} | ${r.msPerEpoch.toFixed(1)} | ${r.msPerSample.toFixed(1)} | ${r.cpuMsPerSample.toFixed(1)} |`),
    '',
  ].join('\n');
  writeFileSync(join(out, `vi-${backend}.md`), md);
  console.log(`\nwrote ${join(out, `vi-${backend}.json`)} and .md`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
