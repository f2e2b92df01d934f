/**
 * GMMVI bench: SAMTRON (gmmvi's default codename, module defaults of §7.1) through bt.gmmvi.run on
 *   - GMM20: gmmvi's gmm20 experiment (d = 20, 10 equal modes; the target drawn with our PRNG);
 *   - breastCancer: Bayesian logistic regression on examples/data/breast-cancer.csv (d = 31).
 * For each: iterations per second and target evaluations per second of the run over a window of
 * iterations after a warm-up (wall and process CPU time; the components K at the window's ends),
 * the target's own throughput (log density + x-gradient of a batch of 1000 samples) and the cost
 * of one metrics evaluation (−ELBO from 2000 samples). `--to-target` also runs GMM20 until
 * −ELBO < 0.01 (metrics every 10 iterations, capped by --minutes) and records the wall time,
 * iterations and target evaluations it took; without it that row says it was not run.
 *
 *   npx tsx bench/gmmvi.ts [--backend cpu|webgpu] [--seconds S] [--out DIR] [--quick] [--warmup N] [--to-target] [--minutes M]
 *
 * Writes bench/results/gmmvi-<backend>.{json,md}. CPU runs float64, WebGPU float32. `--quick`
 * (also the smoke test's mode) times 2 warm-up and 4 timed iterations a case: it shows the
 * bench works and gives rough numbers, not steady ones. The full run warms up 35 iterations (past
 * the first component added at iteration 30) and times 30 s a case.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg, cpus } from 'node:os';
import * as bt from '../src/index.js';
import { loadBreastCancerRaw } from '../examples/data/loader.js';
import { parseBenchArgs } from './args.js';

const g = bt.gmmvi;

function parseArgs(argv: string[]) {
  const flags = ['--quick', '--to-target'];
  const rest: string[] = [];
  let warmup: number | undefined;
  let minutes = 30;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (flags.includes(a)) continue;
    const val = () => Number(a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]);
    if (a.startsWith('--warmup')) warmup = val();
    else if (a.startsWith('--minutes')) minutes = val();
    else rest.push(a);
  }
  const quick = argv.includes('--quick');
  return { ...parseBenchArgs('gmmvi.ts [--quick] [--warmup N] [--to-target] [--minutes M]', rest, quick ? 0 : 30), quick, warmup: warmup ?? (quick ? 2 : 35), toTarget: argv.includes('--to-target'), minutes };
}

interface Row {
  experiment: string;
  dimensions: number;
  warmupIterations: number;
  iterations: number;
  seconds: number;
  iterationsPerSecond: number;
  targetEvaluations: number;
  evaluationsPerSecond: number;
  /** process CPU time (user + system) per iteration: steadier than wall time on a shared machine */
  cpuMsPerIteration: number;
  componentsAtStart: number;
  componentsAtEnd: number;
  /** the target alone: log density and x-gradient of 1000 samples */
  targetOnlyEvaluationsPerSecond: number;
  /** the target alone: process CPU µs per evaluation */
  targetOnlyCpuUsPerEvaluation: number;
  /** one metrics evaluation (−ELBO from 2000 model samples): wall and process CPU ms */
  metricsMs: number;
  metricsCpuMs: number;
  negElbo: number;
  /** WebGPU: the backend's dispatches, submits, host reads and uploads per iteration in the window */
  devicePerIteration?: Record<string, number>;
}

/** The WebGPU backend's counters (null on the CPU). */
let deviceStats: Record<string, number> | null = null;

interface ToTarget {
  run: boolean;
  note: string;
  reached?: boolean;
  seconds?: number;
  iterations?: number;
  targetEvaluations?: number;
  negElbo?: number;
  modes?: number;
}

type Dt = 'float64' | 'float32';

function makeCase(experiment: 'gmm20' | 'breast_cancer', dtype: Dt): { config: bt.gmmvi.GmmviConfig; target: bt.gmmvi.LNPDF } {
  const config = g.getDefaultConfig('SAMTRON', experiment);
  if (experiment === 'gmm20') return { config, target: g.makeGmmTarget(20, bt.random.key(13), { dtype }) };
  const raw = loadBreastCancerRaw();
  return { config, target: g.logisticRegressionTarget(raw.x, raw.y, { dtype }) };
}

async function readAll(t: bt.Tensor): Promise<number[]> {
  return Array.from(t.concrete()._backend!.readSync ? t.dataSync() : await t.data());
}

/** Log density + gradient throughput of the target alone (evaluateTarget of 1000 samples, after one warm-up call). */
async function targetThroughput(target: bt.gmmvi.LNPDF, dtype: Dt, seconds: number): Promise<{ perSecond: number; cpuUs: number }> {
  const n = 1000;
  const x = bt.keep(bt.mul(bt.random.normal(bt.random.key(7), [n, target.numDimensions], { dtype }), 2));
  const once = async () => {
    const e = await g.evaluateTarget(target, x);
    await readAll(e.targetLnpdfs);
    bt.dispose([e.targetLnpdfs, e.targetGrads]);
  };
  await once();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let calls = 0;
  while (calls < 2 || performance.now() - t0 < Math.min(seconds, 5) * 1000) {
    await once();
    calls++;
  }
  const c = process.cpuUsage(c0);
  x.dispose();
  return { perSecond: (calls * n) / ((performance.now() - t0) / 1000), cpuUs: (c.user + c.system) / (calls * n) };
}

async function benchCase(experiment: 'gmm20' | 'breast_cancer', dtype: Dt, warmup: number, seconds: number, quick: boolean): Promise<Row> {
  const { config, target } = makeCase(experiment, dtype);
  const state = g.init(config, target, bt.random.key(1), { dtype });
  let start: { t: number; cpu: NodeJS.CpuUsage; evals: number; k: number; dev: Record<string, number> } | null = null;
  let end: { t: number; cpuMs: number; evals: number; k: number; it: number; dev: Record<string, number> } | null = null;
  const maxTimed = quick ? 4 : Infinity;
  const mark = (s: bt.gmmvi.GmmviRunState) => ({ t: performance.now(), cpu: process.cpuUsage(), evals: s.sampleDb.numSamplesWritten, k: g.numComponents(s.model.model), dev: { ...(deviceStats ?? {}) } });
  const ctl = new AbortController();
  if (warmup === 0) start = mark(state);
  const r = await g.run(state, target, {
    iterations: 1_000_000, key: bt.random.key(2), logMetricsInterval: 0, metricSamples: 10, progress: false, signal: ctl.signal,
    onIteration: (s, _info, t) => {
      if (t === warmup) start = mark(s);
      else if (start && t > warmup) {
        const c = process.cpuUsage(start.cpu);
        end = { ...mark(s), cpuMs: (c.user + c.system) / 1000, it: t - warmup };
        if (quick ? end.it >= maxTimed : end.it >= 2 && end.t - start.t >= seconds * 1000) ctl.abort();
      }
    },
  });
  const a = start!;
  const b = end!;
  const secs = (b.t - a.t) / 1000;
  const cpuMs = b.cpuMs;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const m = await g.evaluateMetrics(r.state, target, bt.random.key(3), 2000);
  const metricsMs = performance.now() - t0;
  const mc = process.cpuUsage(c0);
  const thr = await targetThroughput(target, dtype, seconds);
  bt.dispose(r.state);
  bt.dispose(state);
  return {
    experiment, dimensions: target.numDimensions, warmupIterations: warmup, iterations: b.it, seconds: secs, iterationsPerSecond: b.it / secs,
    targetEvaluations: b.evals - a.evals, evaluationsPerSecond: (b.evals - a.evals) / secs, cpuMsPerIteration: cpuMs / b.it,
    componentsAtStart: a.k, componentsAtEnd: b.k, targetOnlyEvaluationsPerSecond: thr.perSecond, targetOnlyCpuUsPerEvaluation: thr.cpuUs,
    metricsMs, metricsCpuMs: (mc.user + mc.system) / 1000, negElbo: m.negElbo,
    ...(deviceStats ? { devicePerIteration: Object.fromEntries(['dispatches', 'submits', 'reads', 'uploads'].map((k) => [k, ((b.dev[k] ?? 0) - (a.dev[k] ?? 0)) / b.it])) } : {}),
  };
}

/** SAMTRON on GMM20 until −ELBO < 0.01 (metrics every 10 iterations) or the time cap. */
async function toTarget(dtype: Dt, minutes: number): Promise<ToTarget> {
  const { config, target } = makeCase('gmm20', dtype);
  const gt = target as bt.gmmvi.GmmTarget;
  const ctl = new AbortController();
  const t0 = performance.now();
  let hit: bt.gmmvi.GmmviMetrics | null = null;
  const r = await g.run(g.init(config, target, bt.random.key(1), { dtype }), target, {
    iterations: 1_000_000, key: bt.random.key(2), logMetricsInterval: 10, signal: ctl.signal, progress: false,
    onProgress: (m) => {
      if (m.iteration % 100 === 0) console.log(`  to target: iteration ${m.iteration}  −ELBO ${m.negElbo.toFixed(4)}  K ${m.numComponents}  evaluations ${m.targetEvaluations}  ${m.seconds.toFixed(0)} s`);
      if (m.negElbo < 0.01) hit = m;
      if (hit || performance.now() - t0 > minutes * 60e3) ctl.abort();
    },
  });
  const last = (hit ?? r.metrics[r.metrics.length - 1]!) as bt.gmmvi.GmmviMetrics;
  const modes = await gt.detectedModes(r.state.model.model.means);
  bt.dispose(r.state);
  return {
    run: true, reached: hit !== null, seconds: last.seconds, iterations: last.iteration, targetEvaluations: last.targetEvaluations, negElbo: last.negElbo, modes,
    note: hit ? 'first logged −ELBO < 0.01 (metrics every 10 iterations)' : `not reached within ${minutes} min (the last logged value)`,
  };
}

async function main() {
  const { backend, seconds, out, quick, warmup, toTarget: wantTarget, minutes } = parseArgs(process.argv.slice(2));
  const dtype: Dt = backend === 'cpu' ? 'float64' : 'float32';
  let adapter = '';
  if (backend !== 'cpu') {
    const b = (await bt.ready(backend)) as { adapterLabel?: string; stats?: Record<string, number> };
    bt.setBackend(backend);
    adapter = b.adapterLabel ?? '';
    deviceStats = b.stats ?? null;
  }
  const load = loadavg().map((v) => Number(v.toFixed(1)));
  const rows: Row[] = [];
  for (const exp of ['gmm20', 'breast_cancer'] as const) {
    const row = await benchCase(exp, dtype, warmup, seconds, quick);
    rows.push(row);
    console.log(`${exp.padEnd(13)} d ${row.dimensions}  ${row.iterationsPerSecond.toFixed(2)} it/s  ${row.evaluationsPerSecond.toFixed(0)} evals/s  CPU ${row.cpuMsPerIteration.toFixed(0)} ms/it  K ${row.componentsAtStart}→${row.componentsAtEnd}  target alone ${row.targetOnlyEvaluationsPerSecond.toFixed(0)} evals/s (CPU ${row.targetOnlyCpuUsPerEvaluation.toFixed(0)} µs each)  metrics ${row.metricsMs.toFixed(0)} ms (CPU ${row.metricsCpuMs.toFixed(0)})`);
  }
  const target: ToTarget = wantTarget ? await toTarget(dtype, minutes) : { run: false, note: 'not run (pass --to-target; the GMM20 −ELBO < 0.01 wall time is measured by examples/gmmvi/validate.ts)' };
  if (wantTarget) console.log(`GMM20 to −ELBO < 0.01: ${JSON.stringify(target)}`);
  mkdirSync(out, { recursive: true });
  const meta = { backend, dtype, adapter, date: new Date().toISOString(), node: process.version, cores: cpus().length, loadAverage: load, quick, warmupIterations: warmup, secondsPerCase: seconds, codename: 'SAMTRON' };
  writeFileSync(join(out, `gmmvi-${backend}.json`), JSON.stringify({ meta, rows, toTarget: target }, null, 2));
  const f = (v: number | undefined, d = 0) => (v === undefined ? '–' : v.toFixed(d));
  const md = [
    `# bt.gmmvi: SAMTRON iterations and target evaluations per second (${backend}${adapter ? `, ${adapter}` : ''}, ${dtype})`,
    '',
    `${meta.date}, Node ${meta.node}, ${meta.cores} cores, load average ${load.join(' / ')} (1/5/15 min) when it started.${quick ? ' QUICK RUN (2 warm-up, 4 timed iterations a case): rough numbers.' : ''}`,
    '',
    'On a shared machine (see the load average above) wall-time rates fall and vary run to run; the process CPU time per iteration is the steadier number, and "per CPU second" is the rate one busy core would give (an estimate: it ignores waiting, and contention still inflates CPU time somewhat).',
    'SAMTRON with the module defaults (n_des 100 per component, ρ = 2, one initial component, components added every 30 iterations), through `bt.gmmvi.run` (display off, no metrics inside the window).',
    'The cost of an iteration grows with the number of components K and the database size, so the window (after the warm-up iterations) and K at its ends are given.',
    '',
    '| experiment | d | window (iterations) | K | iterations/s | target evaluations/s | CPU ms/iteration | iterations per CPU second | evaluations per CPU second | target alone, evaluations/s | target alone, CPU µs/evaluation | metrics (2000 samples), ms | metrics, CPU ms |',
    '|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.experiment} | ${r.dimensions} | ${r.warmupIterations}…${r.warmupIterations + r.iterations} (${r.seconds.toFixed(1)} s) | ${r.componentsAtStart}→${r.componentsAtEnd} | ${r.iterationsPerSecond.toFixed(2)} | ${r.evaluationsPerSecond.toFixed(0)} | ${r.cpuMsPerIteration.toFixed(0)} | ${(1000 / r.cpuMsPerIteration).toFixed(1)} | ${((1000 * r.targetEvaluations) / r.iterations / r.cpuMsPerIteration).toFixed(0)} | ${r.targetOnlyEvaluationsPerSecond.toFixed(0)} | ${r.targetOnlyCpuUsPerEvaluation.toFixed(0)} | ${r.metricsMs.toFixed(0)} | ${r.metricsCpuMs.toFixed(0)} |`),
    '',
    ...(deviceStats
      ? [
          'On this backend the process CPU time includes the threads that run the shaders when the adapter is a software one (lavapipe / llvmpipe).',
          '',
          '| experiment | dispatches/iteration | submits/iteration | host reads/iteration | uploads/iteration |',
          '|---|---:|---:|---:|---:|',
          ...rows.map((r) => `| ${r.experiment} | ${['dispatches', 'submits', 'reads', 'uploads'].map((k) => (r.devicePerIteration?.[k] ?? NaN).toFixed(0)).join(' | ')} |`),
          '',
        ]
      : []),
    '"Target alone" is `evaluateTarget` (log density and x-gradient by reverse mode) of a batch of 1000 samples: the ceiling the target sets on the run\'s evaluations per second.',
    '',
    '## GMM20 to −ELBO < 0.01',
    '',
    '| run | reached | wall time, s | iterations | target evaluations | −ELBO | modes found | note |',
    '|---|---|---:|---:|---:|---:|---:|---|',
    `| ${target.run ? 'yes' : 'no'} | ${target.reached === undefined ? '–' : target.reached ? 'yes' : 'no'} | ${f(target.seconds)} | ${f(target.iterations)} | ${f(target.targetEvaluations)} | ${f(target.negElbo, 4)} | ${target.modes === undefined ? '–' : `${target.modes}/10`} | ${target.note} |`,
    '',
    'gmmvi (paper): GMM20 to −ELBO < 0.01 in about 30 min on 4–5 cores, ≈7e5 target evaluations (VIPS).',
    '',
  ].join('\n');
  writeFileSync(join(out, `gmmvi-${backend}.md`), md);
  console.log(`\nwrote ${join(out, `gmmvi-${backend}.json`)} and .md`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
