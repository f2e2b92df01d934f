/**
 * Nested-sampling bench: bt.ns.NestedSampler with jaxns' defaults (c = 30·D = 240 live points,
 * 5·D slice steps, half the live points per shell, dlogZ = log(1 + 1e-3)) on the 8-D correlated
 * Gaussian of jaxns' tests (prior N(15·1, I), L = N(0 | x, Σ), Σ_ii = 1, Σ_ij = 0.99; exact
 * log Z = −109.2649), over a few seeds: log Z ± its reported uncertainty, likelihood evaluations,
 * batched likelihood calls (one call evaluates every active chain), wall and CPU time per run.
 *
 * Variants run here:
 *   - engine likelihood: the one-point log-likelihood written with tensor ops, vmapped over the
 *     chains by the sampler (how a user writes it), with the sampler's default `jit` (the batched
 *     likelihood traced once per power-of-two batch size and replayed) and with `jit: false`
 *     (eager dispatch, the numbers before jit); same seeds, so the same log Z and evaluations;
 *     In float32 (WebGPU) it is the centred form |x − x̄1|²/a + D·x̄²/(a + D·b) of the same quadratic,
 *     which does not cancel; there the shell's chains stay on the device (read back every 4 rounds);
 *   - plain-JS likelihood (CPU only): a `vectorized` Model whose likelihood reads the batch of
 *     points once and evaluates the same dense quadratic form in a JavaScript loop (the prior
 *     transform still runs on the engine, eagerly: `jit: false`, since a likelihood that reads its
 *     points on the host cannot be traced); a WebGPU tensor cannot be read synchronously, so this
 *     variant is skipped there.
 * Reference rows, not run here: the prototype of issue 12 on this engine, and jaxns v2.6.2's
 * published numbers (jaxns cannot be installed on this machine: no Python package index is
 * reachable; see the table's note). And seconds per EM step (E-step + M-step) per solver (newton-cg, sgd, adam) on jaxns'
 * `test_basic` when `bt.em` is in this build; otherwise the table says it is not available.
 *
 *   npx tsx bench/ns.ts [--backend cpu|webgpu] [--seeds N] [--out DIR] [--smoke]
 *
 * Writes bench/results/ns-<backend>.{json,md} (or DIR). `--smoke` (for the tests) runs one seed
 * with 24 live points, s = 1 and at most 480 samples: it checks that the bench runs, not how
 * fast, and its log Z is not converged.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import * as bt from '../src/index.js';
import { parseBenchArgs } from './args.js';
import { emApi, testBasic } from '../examples/ns/em-problems.js';

const D = 8;

function parseArgs(argv: string[]) {
  let seeds = 3;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--smoke') continue;
    if (a.startsWith('--seeds')) {
      seeds = Number(a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]);
      if (!Number.isInteger(seeds) || seeds < 1) {
        console.error('bench/ns.ts: --seeds needs a positive integer');
        process.exit(2);
      }
    } else rest.push(a);
  }
  const smoke = argv.includes('--smoke');
  return { ...parseBenchArgs('ns.ts [--seeds N] [--smoke]', rest, 0), seeds: smoke ? 1 : seeds, smoke };
}

/** One timed run, or a reference / unavailable row. */
interface Row {
  variant: string;
  kind: 'measured' | 'reference' | 'unavailable';
  seed?: number;
  logZ?: number;
  logZUncert?: number;
  /** logZ − exact */
  error?: number;
  evaluations?: number;
  /** batched likelihood calls */
  calls?: number;
  seconds?: number;
  /** process CPU time (user + system): steadier than wall time on a shared machine */
  cpuSeconds?: number;
  note?: string;
}

/** The 8-D problem; `plainJs` swaps the likelihood for a JavaScript loop over the batch. */
function problem(dtype: bt.FloatDType, plainJs: boolean) {
  const a = 0.01;
  const b = 0.99;
  // Σ = a I + b 11ᵀ: Σ⁻¹ = I/a − b/(a(a + D b)) 11ᵀ, log|Σ| = (D − 1) log a + log(a + D b)
  const inv = Array.from({ length: D }, (_, i) => Array.from({ length: D }, (_, j) => (i === j ? 1 / a : 0) - b / (a * (a + D * b))));
  const logNorm = -0.5 * (D * Math.log(2 * Math.PI) + (D - 1) * Math.log(a) + Math.log(a + D * b));
  const a2 = 1 + a; // I + Σ = 1.01 I + 0.99 11ᵀ
  const q = 225 * (D / a2 - (b * D * D) / (a2 * (a2 + D * b)));
  const exact = -0.5 * (q + D * Math.log(2 * Math.PI) + (D - 1) * Math.log(a2) + Math.log(a2 + D * b));
  const P = bt.keep(bt.tensor(inv, { dtype }));
  const flatInv = Float64Array.from(inv.flat());
  const engineLogL = (x: bt.Tensor) => {
    return bt.add(bt.mul(-0.5, bt.sum(bt.mul(x, bt.matmul(P, x)))), logNorm);
  };
  // in float32 xᵀΣ⁻¹x at x ≈ 15 cancels terms of ≈10⁴ down to ≈10²; the same form without the
  // cancellation: xᵀΣ⁻¹x = |x − x̄1|²/a + D·x̄²/(a + D·b)
  const centredLogL = (x: bt.Tensor) => {
    const xbar = bt.mean(x);
    const q = bt.add(bt.div(bt.sum(bt.square(bt.sub(x, xbar))), a), bt.mul(D / (a + D * b), bt.square(xbar)));
    return bt.add(bt.mul(-0.5, q), logNorm);
  };
  const plainLogL = (x: bt.Tensor) => {
    const v = x.dataSync();
    const n = x.shape[0]!;
    const out = new Float64Array(n);
    for (let p = 0; p < n; p++) {
      let s = 0;
      for (let i = 0; i < D; i++) {
        let r = 0;
        for (let j = 0; j < D; j++) r += flatInv[i * D + j]! * v[p * D + j]!;
        s += v[p * D + i]! * r;
      }
      out[p] = logNorm - 0.5 * s;
    }
    return bt.tensor(out, { dtype: 'float64' });
  };
  const loc = bt.keep(bt.full([D], 15, dtype));
  const scale = bt.keep(bt.ones([D], dtype));
  const model = new bt.ns.Model({
    priorModel: function* () {
      return yield new bt.ns.Prior({ dist: 'Normal', loc, scale }, 'x');
    },
    logLikelihood: plainJs ? plainLogL : dtype === 'float32' ? centredLogL : engineLogL,
    vectorized: plainJs,
  });
  return { model, exact, dispose: () => bt.dispose([P, loc, scale]) };
}

const disposeResults = (r: bt.ns.NestedSamplerResults) => bt.dispose([r.USamples, r.logLSamples, r.logDpMean, r.logXMean, r.numLivePointsPerSample, r.samples]);
const firstLine = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : String(e));

async function runVariant(variant: string, dtype: bt.FloatDType, plainJs: boolean, seeds: number, smoke: boolean, jit: boolean | undefined): Promise<Row[]> {
  let p: ReturnType<typeof problem>;
  try {
    p = problem(dtype, plainJs);
  } catch (e) {
    return [{ variant, kind: 'unavailable', note: `the model could not be built on this backend: ${firstLine(e)}` }];
  }
  const options: bt.ns.NestedSamplerOptions = { ...(smoke ? { numLivePoints: 24, s: 1, maxSamples: 480 } : {}), ...(jit === undefined ? {} : { jit }) };
  const rows: Row[] = [];
  try {
    // warm-up (JIT): a short run through the uniform phase into the first slice shells
    if (!smoke) {
      const w = new bt.ns.NestedSampler(p.model, { maxSamples: 4800, ...(jit === undefined ? {} : { jit }) });
      disposeResults(await w.run(bt.random.key(999)));
      w.dispose();
    }
    for (let s = 0; s < seeds; s++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      // a fresh sampler per run: its traces count in its time
      const sampler = new bt.ns.NestedSampler(p.model, options);
      const r = await sampler.run(bt.random.key(1000 + s));
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(c0);
      const info = sampler.jitInfo();
      sampler.dispose();
      const row: Row = {
        variant,
        kind: 'measured',
        seed: 1000 + s,
        logZ: r.logZMean,
        logZUncert: r.logZUncert,
        error: r.logZMean - p.exact,
        evaluations: r.totalNumLikelihoodEvaluations,
        // the sampler's count: a jitted call does not run the likelihood's own counter
        calls: info.calls,
        seconds,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        note: `${r.terminationReasons.join(', ')}${info.jitted ? `; ${info.retraces} traces` : ''}`,
      };
      disposeResults(r);
      rows.push(row);
      console.log(
        `${variant.padEnd(34)} seed ${row.seed}: log Z ${row.logZ!.toFixed(3)} ± ${row.logZUncert!.toFixed(3)} (error ${row.error! >= 0 ? '+' : ''}${row.error!.toFixed(3)}), ` +
          `${row.evaluations} evaluations in ${row.calls} calls, ${seconds.toFixed(2)} s (CPU ${row.cpuSeconds!.toFixed(2)} s)`,
      );
    }
  } catch (e) {
    rows.push({ variant, kind: 'unavailable', note: `the sampler failed on this backend: ${firstLine(e)}` });
    console.log(`${variant}: not available: ${firstLine(e)}`);
  } finally {
    p.dispose();
  }
  return rows;
}

interface EmRow {
  solver: string;
  steps: number;
  eStepSeconds?: number;
  mStepSeconds?: number;
  /** θ after the last M-step. */
  theta?: number;
  note: string;
}

const EM_SOLVERS: [string, () => unknown][] = [
  ['newton-cg', () => 'newton-cg'],
  ['sgd', () => 'sgd'],
  ['adam (1e-2)', () => bt.optim.adam({ learningRate: 1e-2 })],
];

/** Seconds per EM step (one E-step and one M-step) on test_basic with `solver`, when bt.em is in this build. */
async function emStepTiming(smoke: boolean, solverName: string, solver: unknown): Promise<EmRow> {
  const em = emApi();
  const model = testBasic();
  if (!em || !model) return { solver: solverName, steps: 0, note: 'bt.em not available in this build (evidence maximisation is on another branch): no number' };
  const steps = smoke ? 1 : 3;
  const maxSamples = smoke ? 600 : 10_000;
  const key = bt.random.key(5);
  const runner = new em.EvidenceMaximisation({ model, nsOptions: { maxSamples }, key, solver });
  let params = model.params;
  let tE = 0;
  let tM = 0;
  for (let s = 0; s < steps; s++) {
    const k = bt.random.foldIn(key, s);
    let t0 = performance.now();
    const results = await runner.eStep(k, params);
    tE += (performance.now() - t0) / 1000;
    t0 = performance.now();
    const next = await runner.mStep(bt.random.foldIn(k, 1), params, results);
    tM += (performance.now() - t0) / 1000;
    console.log(`EM test_basic (${solverName}) step ${s}: log Z ${results.logZMean.toFixed(4)} ± ${results.logZUncert.toFixed(4)}; M-step log Ẑ ${next.logZ.toFixed(4)}, θ ${next.params.y_param!.item().toFixed(4)}`);
    disposeResults(results);
    bt.dispose(k);
    if (params !== model.params) bt.dispose(params);
    params = next.params;
  }
  const theta = params.y_param!.item();
  if (params !== model.params) bt.dispose(params);
  bt.dispose(key);
  return { solver: solverName, steps, eStepSeconds: tE / steps, mStepSeconds: tM / steps, theta, note: `nsOptions { maxSamples: ${maxSamples} } (c = 60), from θ = 0, key 5` };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => (xs.length < 2 ? NaN : Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / (xs.length - 1)));
const fx = (v: number | undefined, d: number) => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(d));
const sgn = (v: number | undefined, d: number) => (v === undefined || !Number.isFinite(v) ? '—' : `${v >= 0 ? '+' : ''}${v.toFixed(d)}`);
const big = (v: number | undefined) => (v === undefined ? '—' : v >= 1e5 ? `${(v / 1e6).toFixed(2)}M` : v >= 1e3 ? `${(v / 1e3).toFixed(1)}k` : String(Math.round(v)));

/** Issue 12's prototype (this engine, 2 shared cores) and jaxns' published v2.6.2 numbers. */
const REFERENCES: Row[] = [
  {
    variant: 'prototype, engine likelihood (issue 12)',
    kind: 'reference',
    evaluations: 1.0e6,
    calls: 12e3,
    seconds: 5.7,
    note: 'not run here: log Z −108.79 / −109.60 / −109.06 over three seeds',
  },
  { variant: 'prototype, plain-JS likelihood (issue 12)', kind: 'reference', evaluations: 1.0e6, calls: 12e3, seconds: 1.5, note: 'not run here' },
  {
    variant: 'jaxns v2.6.2 (published, CPU)',
    kind: 'reference',
    evaluations: 1.1e6,
    seconds: 1.1,
    error: -0.012,
    logZUncert: 0.37,
    note: 'not run here: jaxns cannot be installed on this machine (no Python package index reachable); benchmarks/gh168: bias −0.012 over 10 runs, mean reported uncertainty 0.37',
  },
];

async function main() {
  const { backend, out, seeds, smoke } = parseArgs(process.argv.slice(2));
  const loadStart = loadavg()[0]!;
  const dtype: bt.FloatDType = backend === 'cpu' ? 'float64' : 'float32';
  const rows: Row[] = [];
  let adapter = '';
  if (backend !== 'cpu') {
    try {
      const b = (await bt.ready(backend)) as { adapterLabel?: string };
      bt.setBackend(backend);
      adapter = b.adapterLabel ? ` (${b.adapterLabel})` : '';
    } catch (e) {
      rows.push({ variant: `engine likelihood (${backend})`, kind: 'unavailable', note: `backend '${backend}' not available here: ${firstLine(e)}` });
    }
  }
  if (!rows.length) {
    rows.push(...(await runVariant(`engine likelihood (${backend}, vmap, jit)`, dtype, false, seeds, smoke, undefined)));
    rows.push(...(await runVariant(`engine likelihood (${backend}, vmap, jit: false)`, dtype, false, seeds, smoke, false)));
  }
  if (backend === 'cpu') rows.push(...(await runVariant('plain-JS likelihood (cpu, vectorized, jit: false)', 'float64', true, seeds, smoke, false)));
  else rows.push({ variant: `plain-JS likelihood (${backend})`, kind: 'unavailable', note: 'skipped: a vectorized plain-JS likelihood reads its points synchronously, which only the CPU backend can' });
  bt.setBackend('cpu');
  const emRows: EmRow[] = [];
  for (const [name, make] of EM_SOLVERS) {
    let row: EmRow;
    try {
      row = await emStepTiming(smoke, name, make());
    } catch (e) {
      row = { solver: name, steps: 0, note: `EM failed: ${firstLine(e)}` };
    }
    emRows.push(row);
    console.log(row.eStepSeconds === undefined ? `EM test_basic (${name}): ${row.note}` : `EM test_basic (${name}): ${(row.eStepSeconds + row.mStepSeconds!).toFixed(2)} s per step (E ${row.eStepSeconds.toFixed(2)} s, M ${row.mStepSeconds!.toFixed(2)} s)`);
  }
  const loadEnd = loadavg()[0]!;

  // one summary line per measured variant, then the references
  const variants = [...new Set(rows.map((r) => r.variant))];
  const summary = variants.map((v) => {
    const rs = rows.filter((r) => r.variant === v);
    const m = rs.filter((r) => r.kind === 'measured');
    if (!m.length) return { variant: v, kind: rs[0]!.kind, runs: 0, note: rs[0]!.note } as Row & { runs: number; spread?: number };
    return {
      variant: v,
      kind: 'measured' as const,
      runs: m.length,
      error: mean(m.map((r) => r.error!)),
      spread: sd(m.map((r) => r.logZ!)),
      logZUncert: mean(m.map((r) => r.logZUncert!)),
      evaluations: mean(m.map((r) => r.evaluations!)),
      calls: mean(m.map((r) => r.calls!)),
      seconds: mean(m.map((r) => r.seconds!)),
      cpuSeconds: mean(m.map((r) => r.cpuSeconds!)),
    };
  });
  const jaxnsSeconds = REFERENCES.find((r) => r.variant.startsWith('jaxns'))!.seconds!;

  mkdirSync(out, { recursive: true });
  const meta = { backend, dtype, adapter, date: new Date().toISOString(), node: process.version, cores: cpus().length, loadAverage: { start: loadStart, end: loadEnd }, seeds, smoke, problem: `${D}-D correlated Gaussian (jaxns basic_mvn)`, exact: -109.2649 };
  writeFileSync(join(out, `ns-${backend}.json`), JSON.stringify({ meta, runs: rows, summary, references: REFERENCES, em: emRows }, null, 2));
  const md = [
    `# Nested sampling on the ${D}-D correlated Gaussian (${backend}${adapter}, ${dtype})`,
    '',
    `${meta.date}, Node ${meta.node}. bt.ns.NestedSampler with jaxns' defaults (c = 240 live points, 40 slice steps, half the live points per shell, dlogZ = log(1 + 1e-3)); exact log Z = −109.2649; seeds ${1000}…${1000 + seeds - 1}, after one warm-up run. Machine: ${meta.cores} cores, 1-minute load average ${loadStart.toFixed(1)} at the start and ${loadEnd.toFixed(1)} at the end${loadStart > meta.cores || loadEnd > meta.cores ? ' (shared and loaded: other jobs ran beside the bench, so wall times are inflated; CPU s counts this process only)' : ''}.${smoke ? ' SMOKE RUN (24 live points, s = 1, 480 samples): not a measurement.' : ''}`,
    '',
    '| sampler | runs | mean error | spread (sd) | reported ± | evaluations | batched calls | s / run | CPU s / run | µs / evaluation | s vs jaxns |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...summary.map((r) =>
      r.kind === 'measured'
        ? `| ours: ${r.variant} | ${r.runs} | ${sgn(r.error, 3)} | ${fx(r.spread, 3)} | ${fx(r.logZUncert, 3)} | ${big(r.evaluations)} | ${big(r.calls)} | ${fx(r.seconds, 2)} | ${fx(r.cpuSeconds, 2)} | ${fx((1e6 * r.seconds!) / r.evaluations!, 2)} | ${fx(r.seconds! / jaxnsSeconds, 1)}× |`
        : `| ours: ${r.variant} | — | not available | | | | | | | | |`,
    ),
    ...REFERENCES.map(
      (r) => `| ${r.variant} | reference | ${sgn(r.error, 3)} | — | ${fx(r.logZUncert, 2)} | ≈${big(r.evaluations)} | ${r.calls ? `≈${big(r.calls)}` : '—'} | ≈${fx(r.seconds, 1)} | — | ${fx((1e6 * r.seconds!) / r.evaluations!, 2)} | ${fx(r.seconds! / jaxnsSeconds, 1)}× |`,
    ),
    '',
    'Notes:',
    ...summary.filter((r) => r.kind !== 'measured').map((r) => `- ${r.variant}: ${r.note}`),
    ...REFERENCES.map((r) => `- ${r.variant}: ${r.note}`),
    '- "s vs jaxns" divides by jaxns\' published 1.1 s, measured on other hardware: an order of magnitude, not a like-for-like ratio.',
    '',
    '## Runs',
    '',
    '| sampler | seed | log Z | ± | error | evaluations | batched calls | s | CPU s | termination |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows
      .filter((r) => r.kind === 'measured')
      .map((r) => `| ${r.variant} | ${r.seed} | ${fx(r.logZ, 3)} | ${fx(r.logZUncert, 3)} | ${sgn(r.error, 3)} | ${r.evaluations} | ${r.calls} | ${fx(r.seconds, 2)} | ${fx(r.cpuSeconds, 2)} | ${r.note} |`),
    '',
    '## Evidence maximisation: seconds per EM step on jaxns\' test_basic (cpu)',
    '',
    'Each row: 3 EM steps (E-step, then M-step) from θ = 0; θ after them (θ* = −0.6205; see test/algorithms/em/basic.test.ts on why θ* ± 0.05 is not identified).',
    '',
    '| solver | steps | E-step s | M-step s | s / EM step | θ after | setup |',
    '|---|---:|---:|---:|---:|---:|---|',
    ...emRows.map((r) =>
      r.eStepSeconds === undefined
        ? `| ${r.solver} | — | — | — | — | — | ${r.note} |`
        : `| ${r.solver} | ${r.steps} | ${fx(r.eStepSeconds, 2)} | ${fx(r.mStepSeconds, 2)} | ${fx(r.eStepSeconds + r.mStepSeconds!, 2)} | ${fx(r.theta, 3)} | ${r.note} |`,
    ),
    '',
  ].join('\n');
  writeFileSync(join(out, `ns-${backend}.md`), md);
  console.log(`\n${md}\nwrote ${join(out, `ns-${backend}.json`)} and .md`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
