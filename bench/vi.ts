/**
 * VI bench: epochs per second of bt.vi.VI on
 *   - the random walk (T = 100, 1 parameter, MSE, gradient horizon 0), 1 and 10 samples per epoch;
 *   - Brock–Hommes (T = 100, all 11 parameters, MMD, gradient horizon 0), 10 samples per epoch;
 * in reverse mode and in forward mode with jacobianChunkSize 1, 3 and all (undefined). An epoch is
 * one lossAndGrad (N simulations with their gradients + a KL over nSamplesRegularisation = 1000
 * samples, w = 0.01) and one Adam step. Every case runs in two modes side by side, one epoch each in
 * turn: `jit: false` (eager dispatch) and the default (the epoch's estimate traced once and
 * replayed; the Adam step eager); a row's epochsPerSecond is the default's, `eager` holds the
 * other, and the speed-ups compare them by process CPU time and by wall time.
 *
 *   npx tsx bench/vi.ts [--backend cpu|webgpu] [--seconds S] [--out DIR] [--smoke] [--quick]
 *
 * Writes bench/results/vi-<backend>.{json,md}. On WebGPU everything is float32 and the MMD
 * bandwidth is computed on the host first. `--smoke` (for the tests) runs every case at T = 10
 * with one warm-up and one timed epoch: it checks that the bench runs, not how fast. `--quick`:
 * 1 s per case and mode (at least 2 timed epochs each).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import * as bt from '../src/index.js';
import { parseBenchArgs } from './args.js';

const parseArgs = (argv: string[]) => {
  const quick = argv.includes('--quick');
  return { ...parseBenchArgs('vi.ts', argv.filter((a) => a !== '--smoke' && a !== '--quick'), quick ? 1 : 3), smoke: argv.includes('--smoke'), quick };
};

/** One mode's timing of a case. */
interface Timing {
  epochs: number;
  seconds: number;
  epochsPerSecond: number;
  msPerEpoch: number;
  msPerSample: number;
  cpuMsPerSample: number;
}

/** A case: the jitted timing (process CPU time per sample is steadier than wall time on a shared machine) beside the eager one. */
interface Row extends Timing {
  model: string;
  params: number;
  samples: number;
  mode: string;
  /** the same case with jit: false (the fields above are the default, jitted) */
  eager: Timing;
  /** eager ÷ jitted time per epoch: by process CPU time, and by wall time */
  speedupCpu: number;
  speedupWall: number;
  /** load average (1 min) when the case started */
  load: number;
}

async function main() {
  const { backend, seconds, out, smoke, quick } = parseArgs(process.argv.slice(2));
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
    const load = loadavg()[0]!;
    const modes = [false, undefined].map((jit) => ({
      vi: new bt.vi.VI({
        loss, prior, posteriorEstimator: q, w: 0.01, nSamplesPerEpoch: c.samples, nSamplesRegularisation: 1000, diffMode: c.diffMode,
        jacobianChunkSize: c.chunk, optimizer: bt.optim.adam({ learningRate: 1e-3 }), key: bt.random.key(3), ...(jit === false ? { jit } : {}),
      }),
      n: 0, wall: 0, cpu: 0,
    }));
    for (const m of modes) for (let i = 0; i < (smoke ? 1 : 2); i++) await m.vi.step(data); // warm-up (and the trace)
    const t0 = performance.now();
    // one epoch of each mode in turn, so the load on a shared machine falls on both alike
    while (modes[1]!.n < (smoke ? 1 : 2) || (!smoke && performance.now() - t0 < 2 * seconds * 1000)) {
      for (const m of modes) {
        const w0 = performance.now();
        const c0 = process.cpuUsage();
        await m.vi.step(data);
        const cu = process.cpuUsage(c0);
        m.cpu += (cu.user + cu.system) / 1000;
        m.wall += performance.now() - w0;
        m.n++;
      }
    }
    const timing = (m: (typeof modes)[number]): Timing => ({
      epochs: m.n, seconds: m.wall / 1000, epochsPerSecond: (1000 * m.n) / m.wall, msPerEpoch: m.wall / m.n, msPerSample: m.wall / m.n / c.samples, cpuMsPerSample: m.cpu / m.n / c.samples,
    });
    const [eager, jitted] = [timing(modes[0]!), timing(modes[1]!)];
    const mode = c.diffMode === 'reverse' ? 'reverse' : `forward, chunk ${c.chunk ?? `all (${d})`}`;
    const row: Row = {
      model: c.model, params: d, samples: c.samples, mode, ...jitted, eager,
      speedupCpu: eager.cpuMsPerSample / jitted.cpuMsPerSample, speedupWall: eager.msPerEpoch / jitted.msPerEpoch, load,
    };
    rows.push(row);
    console.log(
      `${c.model.padEnd(13)} ${String(c.samples).padStart(2)} samples  ${mode.padEnd(20)} eager ${eager.epochsPerSecond.toFixed(2).padStart(7)} epochs/s (CPU ${eager.cpuMsPerSample.toFixed(1)} ms/sample)  ` +
        `jit ${jitted.epochsPerSecond.toFixed(2).padStart(7)} epochs/s (CPU ${jitted.cpuMsPerSample.toFixed(1)} ms/sample)  ×${row.speedupCpu.toFixed(2)} CPU, ×${row.speedupWall.toFixed(2)} wall`,
    );
    for (const m of modes) m.vi.dispose();
  }
  mkdirSync(out, { recursive: true });
  const meta = { backend, dtype, date: new Date().toISOString(), node: process.version, secondsPerCase: seconds, nTimesteps, smoke, quick, cpus: cpus().length };
  writeFileSync(join(out, `vi-${backend}.json`), JSON.stringify({ meta, rows }, null, 2));
  const md = [
    `# bt.vi epochs per second (${backend}, ${dtype})`,
    '',
    `${meta.date}, Node ${meta.node}, ${meta.cpus} CPUs${quick ? ', --quick' : ''}. T = ${nTimesteps} steps, gradient horizon 0; KL over 1000 samples, w = 0.01; Adam.${smoke ? ' SMOKE RUN (one epoch a case): not a measurement.' : ''}`,
    '',
    'Eager = `jit: false`; jit = the default (the epoch\'s estimate traced once and replayed as fused loops; the Adam step eager). The two run side by side, one epoch each in turn. ' +
      'Speed-up = eager ÷ jit time per epoch, by process CPU time (steadier on a shared machine) and by wall time; load = the 1-minute load average when the case started.',
    '',
    '| model | params | samples/epoch | differentiation | eager epochs/s | jit epochs/s | eager CPU ms/sample | jit CPU ms/sample | speed-up (CPU) | speed-up (wall) | load |',
    '|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.model} | ${r.params} | ${r.samples} | ${r.mode} | ${r.eager.epochsPerSecond.toFixed(2)} | ${r.epochsPerSecond.toFixed(2)} | ${r.eager.cpuMsPerSample.toFixed(1)} | ${r.cpuMsPerSample.toFixed(1)} | ${r.speedupCpu.toFixed(2)}× | ${r.speedupWall.toFixed(2)}× | ${r.load.toFixed(1)} |`,
    ),
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
