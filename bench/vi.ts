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
 * bt.vi evaluates an epoch's N samples in one vmapped pass (src/algorithms/vi/samples.ts), falling
 * back to one at a time for a loss that cannot run under vmap; each row's `evaluation` says which
 * (probed by vmapping the per-sample value and gradient over 2 samples; 1 sample is always the loop).
 *
 *   npx tsx bench/vi.ts [--backend cpu|webgpu] [--seconds S] [--out DIR] [--smoke] [--quick]
 *                       [--models rw,bh] [--samples 10,64,256,1024] [--diff reverse,forward:1,forward:3,forward]
 *                       [--modes eager,jit] [--compare cpu,webgpu [--append]]
 *
 * Writes bench/results/vi-<backend>.{json,md}. On WebGPU everything is float32 and the MMD
 * bandwidth is computed on the host first. `--smoke` (for the tests) runs every case at T = 10
 * with one warm-up and one timed epoch: it checks that the bench runs, not how fast. `--quick`:
 * 1 s per case and mode (at least 2 timed epochs each). An epoch slower than S seconds gets one
 * warm-up epoch instead of two, so a large sweep stays bounded.
 *
 * `--models`: rw (random walk), bh (Brock–Hommes), or both (default). `--samples`: samples per
 * epoch, for every model given (default: rw 1,10; bh 10). `--diff`: reverse, forward (Jacobian
 * chunk = all parameters), forward:K (chunk K), for every model (default: rw reverse,forward; bh
 * reverse,forward:1,forward:3,forward); a chunk ≥ the model's parameter count is `forward`.
 * `--modes`: eager, jit or both (default).
 *
 * `--compare cpu,webgpu` (the crossover): runs the same sweep on both backends in one process,
 * case by case, and writes bench/results/crossover-vi.{json,md} instead: both backends' epochs/s
 * and ms/sample side by side, the ratio webgpu ÷ cpu (throughput; > 1: the GPU pays) and, per
 * model, differentiation and mode, the smallest samples/epoch from which it pays. A software
 * adapter (lavapipe) is named as such in the heading and in every output. With `--append` the
 * crossover keeps the cases of an earlier crossover-vi.json in DIR that this run does not measure
 * again.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import * as bt from '../src/index.js';
import { backendLines, choiceList, describeBackend, earlierRows, intList, parseBenchArgs, paysFrom, paysHeading, type BackendNote } from './args.js';

const SCRIPT = 'vi.ts';
const MODELS = ['rw', 'bh'] as const;
type ModelKey = (typeof MODELS)[number];
const MODES = ['eager', 'jit'] as const;
type Mode = (typeof MODES)[number];
type Diff = { diffMode: 'reverse' | 'forward'; chunk?: number };

const parseDiff = (items: string[] | undefined): Diff[] | undefined =>
  items?.map((s) => {
    const m = /^(reverse|forward)(?::(\d+))?$/.exec(s);
    if (!m || (m[1] === 'reverse' && m[2]) || (m[2] !== undefined && !(Number(m[2]) > 0))) {
      console.error(`bench/${SCRIPT}: --diff takes reverse, forward or forward:K (K ≥ 1), got ${s}`);
      process.exit(2);
    }
    return { diffMode: m[1] as Diff['diffMode'], chunk: m[2] === undefined ? undefined : Number(m[2]) };
  });

const parseArgs = (argv: string[]) => {
  const quick = argv.includes('--quick');
  const a = parseBenchArgs(SCRIPT, argv.filter((x) => x !== '--smoke' && x !== '--quick' && x !== '--append'), quick ? 1 : 3, ['models', 'samples', 'diff', 'modes', 'compare']);
  if (a.lists.compare && a.lists.compare.length !== 2) {
    console.error(`bench/${SCRIPT}: --compare takes two backends, e.g. --compare cpu,webgpu`);
    process.exit(2);
  }
  return {
    ...a,
    smoke: argv.includes('--smoke'),
    append: argv.includes('--append'),
    quick,
    compare: a.lists.compare,
    models: choiceList(SCRIPT, 'models', a.lists.models, MODELS, MODELS),
    samples: a.lists.samples ? intList(SCRIPT, 'samples', a.lists.samples, []) : undefined,
    diffs: parseDiff(a.lists.diff),
    modes: choiceList(SCRIPT, 'modes', a.lists.modes, MODES, MODES),
  };
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

/**
 * A case: the jitted timing (process CPU time per sample is steadier than wall time on a shared
 * machine) beside the eager one. With `--modes eager` alone the top-level fields are eager's.
 */
interface Row extends Timing {
  backend: string;
  dtype: string;
  model: string;
  params: number;
  samples: number;
  mode: string;
  /** which mode the top-level fields are: true (the default, jitted) unless --modes eager */
  jit: boolean;
  /** the same case with jit: false (the fields above are the default, jitted); absent unless both modes ran */
  eager?: Timing;
  /** eager ÷ jitted time per epoch: by process CPU time, and by wall time (both modes only) */
  speedupCpu?: number;
  speedupWall?: number;
  /** how bt.vi evaluated the epoch's samples: 'batched' (one vmapped pass) or 'loop' (one at a time) */
  evaluation: 'batched' | 'loop';
  /** why the vmapped pass failed (evaluation 'loop' with more than 1 sample) */
  evaluationError?: string;
  /** load average (1 min) when the case started */
  load: number;
}

const MODEL_NAME: Record<ModelKey, 'random walk' | 'Brock–Hommes'> = { rw: 'random walk', bh: 'Brock–Hommes' };
type Case = { model: ModelKey; samples: number } & Diff;

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const { seconds, out, smoke, quick } = args;
  const backends = args.compare ?? [args.backend];
  const nTimesteps = smoke ? 10 : 100;
  const S = bt.simulators;
  // data on the CPU (host reads), then moved as plain numbers
  const rw = S.randomWalk(nTimesteps);
  const rwData = Array.from(S.simulate(rw, bt.tensor([Math.log(1 / 3)]), bt.random.key(1))[0]!.dataSync());
  const bh = S.brockHommes(nTimesteps);
  const bhTruth = [Math.log(120), 0, 0.9, 0.9, 1.01, 0, 0.2, -0.2, 0, Math.log(0.04), 0];
  const bhData = Array.from(S.simulate(bh, bt.tensor(bhTruth), bt.random.key(2))[0]!.dataSync());
  const bandwidth = S.medianHeuristic(bt.tensor(bhData));
  const notes: BackendNote[] = [];
  for (const b of backends) notes.push(await describeBackend(b));
  for (const n of notes) console.log(`${n.backend}: ${n.device}${n.warning ? ` — ${n.warning}` : ''}`);

  const cases: Case[] = [];
  const defaults: Record<ModelKey, { samples: number[]; diffs: Diff[] }> = {
    rw: { samples: [1, 10], diffs: [{ diffMode: 'reverse' }, { diffMode: 'forward' }] },
    bh: { samples: [10], diffs: [{ diffMode: 'reverse' }, { diffMode: 'forward', chunk: 1 }, { diffMode: 'forward', chunk: 3 }, { diffMode: 'forward' }] },
  };
  for (const model of args.models) {
    const d = model === 'rw' ? 1 : 11;
    const diffs: Diff[] = [];
    for (const x of args.diffs ?? defaults[model].diffs) {
      const y: Diff = { diffMode: x.diffMode, chunk: x.chunk !== undefined && x.chunk < d ? x.chunk : undefined };
      if (!diffs.some((z) => z.diffMode === y.diffMode && z.chunk === y.chunk)) diffs.push(y);
    }
    for (const samples of args.samples ?? defaults[model].samples) for (const df of diffs) cases.push({ model, samples, ...df });
  }

  const rows: Row[] = [];
  for (const c of cases) for (let i = 0; i < backends.length; i++) rows.push(await runCase(backends[i]!, notes[i]!, c));

  async function runCase(backend: string, note: BackendNote, c: Case): Promise<Row> {
    bt.setBackend(backend);
    const dtype: bt.FloatDType = backend === 'cpu' ? 'float64' : 'float32';
    const T = (x: number[] | number[][]) => bt.tensor(x as number[], { dtype });
    const isRw = c.model === 'rw';
    const d = isRw ? 1 : 11;
    const data = bt.keep(T(isRw ? rwData.map((v) => [v]) : bhData));
    const mmd = isRw ? null : S.mmdLoss(data, { bandwidth });
    const loss = isRw
      ? (th: bt.Tensor, y: bt.Tensor, k: bt.Tensor) => S.mse(S.simulate(rw, th, k, { gradientHorizon: 0 })[0]!, y)
      : (th: bt.Tensor, _y: bt.Tensor, k: bt.Tensor) => mmd!(S.simulate(bh, th, k, { gradientHorizon: 0 })[0]!);
    const locValues = isRw ? [0] : bhTruth.map((v) => v + 0.05);
    const loc = T(locValues);
    const prior = new bt.distributions.MultivariateNormal({ loc, covariance: bt.eye(d, d, dtype) });
    const q = new bt.distributions.MultivariateNormal({ loc, covariance: bt.eye(d, d, dtype).mul(0.01) });
    const load = loadavg()[0]!;
    // does the loss batch under vmap (as bt.vi's 'auto' evaluation tries first)?
    let evaluation: Row['evaluation'] = 'loop';
    let evaluationError: string | undefined;
    if (c.samples > 1) {
      try {
        bt.tidy(() => {
          const thetas = T([locValues, locValues]);
          const keys = bt.random.split(bt.random.key(4), 2);
          bt.vmap((th: bt.Tensor, k: bt.Tensor) => bt.vi.sampleValueAndGrad(loss, th, data, k, c.diffMode, c.chunk))(thetas, keys);
        });
        evaluation = 'batched';
      } catch (e) {
        evaluationError = String((e as Error)?.message ?? e).slice(0, 300);
      }
    }
    const modes = args.modes.map((mode) => ({
      jit: mode === 'jit',
      vi: new bt.vi.VI({
        loss, prior, posteriorEstimator: q, w: 0.01, nSamplesPerEpoch: c.samples, nSamplesRegularisation: 1000, diffMode: c.diffMode,
        jacobianChunkSize: c.chunk, optimizer: bt.optim.adam({ learningRate: 1e-3 }), key: bt.random.key(3), ...(mode === 'eager' ? { jit: false } : {}),
      }),
      n: 0, wall: 0, cpu: 0,
    }));
    // warm-up (and the trace): 2 epochs, 1 when the first took longer than S seconds (or --smoke)
    for (const m of modes) {
      const w0 = performance.now();
      await m.vi.step(data);
      if (!smoke && performance.now() - w0 < seconds * 1000) await m.vi.step(data);
    }
    const minEpochs = smoke ? 1 : 2;
    const t0 = performance.now();
    // one epoch of each mode in turn, so the load on a shared machine falls on both alike
    while (modes.some((m) => m.n < minEpochs) || (!smoke && performance.now() - t0 < modes.length * seconds * 1000)) {
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
    const eagerM = modes.find((m) => !m.jit);
    const jitM = modes.find((m) => m.jit);
    const top = timing((jitM ?? eagerM)!);
    const eager = jitM && eagerM ? timing(eagerM) : undefined;
    const mode = c.diffMode === 'reverse' ? 'reverse' : `forward, chunk ${c.chunk ?? `all (${d})`}`;
    const row: Row = {
      backend, dtype, model: MODEL_NAME[c.model], params: d, samples: c.samples, mode, jit: !!jitM, ...top, eager,
      speedupCpu: eager && eager.cpuMsPerSample / top.cpuMsPerSample, speedupWall: eager && eager.msPerEpoch / top.msPerEpoch,
      evaluation, evaluationError, load,
    };
    const fmt = (t: Timing) => `${t.epochsPerSecond.toFixed(2).padStart(7)} epochs/s (${t.msPerSample.toFixed(1)} ms/sample, CPU ${t.cpuMsPerSample.toFixed(1)})`;
    console.log(
      `${backend.padEnd(6)} ${row.model.padEnd(13)} ${`${c.samples} samples (${evaluation})`.padStart(20)}  ${mode.padEnd(23)} ` +
        (eager ? `eager ${fmt(eager)}  jit ${fmt(top)}  ×${row.speedupCpu!.toFixed(2)} CPU, ×${row.speedupWall!.toFixed(2)} wall` : `${row.jit ? 'jit' : 'eager'} ${fmt(top)}`) +
        (note.warning ? `  [${note.warning}]` : ''),
    );
    if (evaluationError) console.log(`       (the vmapped pass failed: ${evaluationError})`);
    for (const m of modes) m.vi.dispose();
    bt.dispose([data, loc]);
    return row;
  }

  mkdirSync(out, { recursive: true });
  const date = new Date().toISOString();
  const common = { date, node: process.version, secondsPerCase: seconds, nTimesteps, smoke, quick, cpus: cpus().length, modes: args.modes };
  const setting = `T = ${nTimesteps} steps, gradient horizon 0; KL over 1000 samples, w = 0.01; Adam.${smoke ? ' SMOKE RUN (one epoch a case): not a measurement.' : ''}`;
  const both = args.modes.length === 2;
  const modeText =
    'Eager = `jit: false`; jit = the default (the epoch\'s estimate traced once and replayed as fused loops; the Adam step eager)' +
    (both ? '. The two run side by side, one epoch each in turn.' : '.') +
    ' Evaluation: how bt.vi ran the epoch\'s samples, batched (one vmapped pass) or loop (one at a time; always so for 1 sample).';
  const bl = backendLines(notes);

  if (args.compare) {
    const [b0, b1] = backends as [string, string];
    type Pair = { model: string; params: number; samples: number; mode: string; jit: boolean; evaluation: string; a: Timing; b: Timing; ratio: number; loadA: number };
    const path = join(out, 'crossover-vi.json');
    const run = { date, secondsPerCase: seconds, nTimesteps, smoke, quick, models: args.models, samples: args.samples ?? 'default', diff: args.diffs ?? 'default', modes: args.modes };
    const prev = args.append ? earlierRows(path, backends, rows, (r: Row) => `${r.backend}|${r.model}|${r.samples}|${r.mode}|${r.jit}|${!!r.eager}`) : { rows: [], runs: [] };
    const all = [...prev.rows, ...rows];
    const runs = [...prev.runs, run];
    const order = Object.values(MODEL_NAME) as string[];
    const same = (a: Row, b: Row) => a.model === b.model && a.samples === b.samples && a.mode === b.mode;
    const pairs: Pair[] = [];
    const diffOrder = [...new Set(all.map((r) => r.mode))]; // as the sweep listed them
    const firsts = all
      .filter((r) => r.backend === b0 && all.some((x) => x.backend === b1 && same(x, r)))
      .sort((a, b) => order.indexOf(a.model) - order.indexOf(b.model) || diffOrder.indexOf(a.mode) - diffOrder.indexOf(b.mode) || a.samples - b.samples);
    for (const a of firsts) {
      const b = all.find((r) => r.backend === b1 && same(r, a))!;
      const timings: [boolean, Timing | undefined, Timing | undefined][] = [
        [false, a.jit ? a.eager : a, b.jit ? b.eager : b],
        [true, a.jit ? a : undefined, b.jit ? b : undefined],
      ];
      for (const [jit, ta, tb] of timings) {
        if (!ta || !tb) continue;
        const evaluation = a.evaluation === b.evaluation ? a.evaluation : `${b0} ${a.evaluation}, ${b1} ${b.evaluation}`;
        pairs.push({ model: a.model, params: a.params, samples: a.samples, mode: a.mode, jit, evaluation, a: ta, b: tb, ratio: tb.epochsPerSecond / ta.epochsPerSecond, loadA: a.load });
      }
    }
    const gkey = (p: Pair) => `${p.model}|${p.mode}|${p.jit}`;
    const groups = [...new Set(pairs.map(gkey))].map((g) => {
      const ps = pairs.filter((p) => gkey(p) === g);
      return { model: ps[0]!.model, mode: ps[0]!.mode, jit: ps[0]!.jit, paysFrom: paysFrom(ps.map((p) => ({ x: p.samples, ratio: p.ratio })), (x) => `${x} sample${x === 1 ? '' : 's'}/epoch`) };
    });
    const meta = { ...common, compare: backends, backends: notes, dtypes: { [b0]: b0 === 'cpu' ? 'float64' : 'float32', [b1]: b1 === 'cpu' ? 'float64' : 'float32' }, runs };
    const json = { meta, pairs: pairs.map(({ a, b, ...p }) => ({ ...p, [b0]: a, [b1]: b })), paysFrom: groups, rows: all };
    writeFileSync(path, JSON.stringify(json, null, 2));
    const when =
      runs.length === 1
        ? `${date}, ~${seconds} s per case, mode and backend${quick ? ', --quick' : ''}`
        : `${runs.length} runs (--append): ${(runs as { date: string; secondsPerCase: number }[]).map((r) => `${r.date} (~${r.secondsPerCase} s per case, mode and backend)`).join(', ')}`;
    const md = [
      `# bt.vi crossover: ${b1} vs ${b0}${bl.heading}`,
      '',
      ...bl.lines,
      '',
      `${when}; Node ${process.version}, ${meta.cpus} CPUs. ${b0} in ${meta.dtypes[b0]}, ${b1} in ${meta.dtypes[b1]}. ${setting}`,
      '',
      `${modeText} The backends run case by case in turn. Ratio = ${b1} ÷ ${b0} epochs/s (wall-clock throughput; > 1: ${b1} pays); load = the 1-minute load average when ${b0}'s run of the case started.`,
      '',
      `| model | samples/epoch | differentiation | mode | evaluation | ${b0} epochs/s | ${b1} epochs/s | ${b1} ÷ ${b0} | ${b0} ms/sample | ${b1} ms/sample | load |`,
      '|---|---:|---|---|---|---:|---:|---:|---:|---:|---:|',
      ...pairs.map(
        (p) =>
          `| ${p.model} | ${p.samples} | ${p.mode} | ${p.jit ? 'jit' : 'eager'} | ${p.evaluation} | ${p.a.epochsPerSecond.toFixed(2)} | ${p.b.epochsPerSecond.toFixed(2)} | ${p.ratio.toFixed(2)}× | ${p.a.msPerSample.toFixed(2)} | ${p.b.msPerSample.toFixed(2)} | ${p.loadA.toFixed(1)} |`,
      ),
      '',
      paysHeading(b1, notes),
      '',
      ...groups.map((g) => `- ${g.model}, ${g.mode}, ${g.jit ? 'jit' : 'eager'}: ${g.paysFrom}`),
      '',
    ].join('\n');
    writeFileSync(join(out, 'crossover-vi.md'), md);
    console.log(`\n${md}\nwrote ${join(out, 'crossover-vi.json')} and .md`);
    return;
  }

  const { backend } = args;
  const note = notes[0]!;
  const dtype = backend === 'cpu' ? 'float64' : 'float32';
  const meta = { backend, dtype, ...common, device: note.device, softwareAdapter: note.software, warning: note.warning };
  writeFileSync(join(out, `vi-${backend}.json`), JSON.stringify({ meta, rows }, null, 2));
  const only = args.modes[0]!;
  const md = [
    `# bt.vi epochs per second (${backend}, ${dtype})${bl.heading}`,
    '',
    ...(backend === 'cpu' ? [] : [...bl.lines, '']),
    `${date}, Node ${process.version}, ${meta.cpus} CPUs${quick ? ', --quick' : ''}. ${setting}`,
    '',
    modeText + (both ? ' Speed-up = eager ÷ jit time per epoch, by process CPU time (steadier on a shared machine) and by wall time;' : '') +
      ' load = the 1-minute load average when the case started.',
    '',
    both
      ? '| model | params | samples/epoch | differentiation | evaluation | eager epochs/s | jit epochs/s | eager CPU ms/sample | jit CPU ms/sample | speed-up (CPU) | speed-up (wall) | load |'
      : `| model | params | samples/epoch | differentiation | evaluation | ${only} epochs/s | ${only} ms/sample | ${only} CPU ms/sample | load |`,
    both ? '|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|' : '|---|---:|---:|---|---|---:|---:|---:|---:|',
    ...rows.map((r) =>
      both
        ? `| ${r.model} | ${r.params} | ${r.samples} | ${r.mode} | ${r.evaluation} | ${r.eager!.epochsPerSecond.toFixed(2)} | ${r.epochsPerSecond.toFixed(2)} | ${r.eager!.cpuMsPerSample.toFixed(1)} | ${r.cpuMsPerSample.toFixed(1)} | ${r.speedupCpu!.toFixed(2)}× | ${r.speedupWall!.toFixed(2)}× | ${r.load.toFixed(1)} |`
        : `| ${r.model} | ${r.params} | ${r.samples} | ${r.mode} | ${r.evaluation} | ${r.epochsPerSecond.toFixed(2)} | ${r.msPerSample.toFixed(2)} | ${r.cpuMsPerSample.toFixed(1)} | ${r.load.toFixed(1)} |`,
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
