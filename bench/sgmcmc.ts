/**
 * SG-MCMC bench: SGHMC steps per second on
 *   - Bayesian logistic regression (UCI breast cancer, 30 features + bias = 31 parameters), and
 *   - a BNN, MLP 30-50-1 (tanh; 1,601 parameters), on the same data,
 * with minibatches of 32 and 512 rows (drawn with replacement from the 455 training rows, so 512
 * is possible), and 1 vs 16 parallel chains (`bt.sgmcmc.parallel`: one set of batched kernels).
 * A "step" advances every chain once; chain-steps/s = steps/s × chains. Every case runs in two
 * modes side by side, in alternating blocks of (up to) 10 steps: the sampler's `jit: false`
 * (eager dispatch) and its default (the update traced once and replayed); the speed-up compares
 * them by process CPU time per step (steadier than wall time on a shared machine) and by wall
 * time. The minibatch draw, eager in both modes, is part of each step.
 *
 * Each mode gets about S seconds per case (2 × S per case), after a warm-up of 20 steps or S
 * seconds, whichever ends first; a case whose steps are slow (many chains on the CPU) shrinks its
 * blocks to fit S and still times at least 2 steps per mode, so a sweep stays bounded.
 *
 *   npx tsx bench/sgmcmc.ts [--backend cpu|webgpu] [--seconds S] [--out DIR] [--quick]
 *                           [--models logreg,bnn] [--batch 32,512] [--chains 1,16,64,256,1024]
 *                           [--modes eager,jit] [--compare cpu,webgpu [--append]]
 *
 * `--quick`: 1 s per case and mode, only the batch-32 cases (unless --batch says otherwise).
 * `--models`, `--batch`, `--chains`: the sweep, every combination (defaults: logreg,bnn; 32,512;
 * 1,16). `--modes`: eager, jit or both (default).
 *
 * Writes bench/results/sgmcmc-<backend>.{json,md} (or DIR). On WebGPU the loop never reads back
 * except once at the end of each timed block (the finiteness check needs a synchronous read, so
 * it is skipped there), and values are float32; on the CPU, float64.
 *
 * `--compare cpu,webgpu` (the crossover): runs the same sweep on both backends in one process,
 * case by case (the CPU's then WebGPU's, so a shared machine's load falls on both alike), and
 * writes bench/results/crossover-sgmcmc.{json,md} instead: both backends' steps/s side by side,
 * the ratio webgpu ÷ cpu (throughput; > 1: the GPU pays) and, per model, batch and mode, the
 * smallest chain count from which it pays. A software adapter (lavapipe) is named as such in the
 * heading and in every output: its numbers are the CPU's, not a GPU's. With `--append` the
 * crossover keeps the cases of an earlier crossover-sgmcmc.json in DIR that this run does not
 * measure again (a sweep built from several runs, e.g. BNN at batch 512 and logreg at batch 32).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import * as bt from '../src/index.js';
import { backendLines, choiceList, describeBackend, earlierRows, intList, parseBenchArgs, paysFrom, paysHeading, type BackendNote } from './args.js';
import { loadBreastCancerRaw } from '../examples/data/loader.js';

const SCRIPT = 'sgmcmc.ts';
const MODELS = ['logreg', 'bnn'] as const;
type Model = (typeof MODELS)[number];
const MODES = ['eager', 'jit'] as const;
type Mode = (typeof MODES)[number];

const parseArgs = (argv: string[]) => {
  const quick = argv.includes('--quick');
  const append = argv.includes('--append');
  const a = parseBenchArgs(SCRIPT, argv.filter((x) => x !== '--quick' && x !== '--append'), quick ? 1 : 2, ['models', 'batch', 'chains', 'modes', 'compare']);
  const compare = a.lists.compare;
  if (compare && compare.length !== 2) {
    console.error(`bench/${SCRIPT}: --compare takes two backends, e.g. --compare cpu,webgpu`);
    process.exit(2);
  }
  return {
    ...a,
    quick,
    compare,
    append,
    models: choiceList(SCRIPT, 'models', a.lists.models, MODELS, MODELS),
    batches: intList(SCRIPT, 'batch', a.lists.batch, quick ? [32] : [32, 512]),
    chains: intList(SCRIPT, 'chains', a.lists.chains, [1, 16]),
    modes: choiceList(SCRIPT, 'modes', a.lists.modes, MODES, MODES),
  };
};

interface Row {
  backend: string;
  dtype: string;
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

const MODEL_NAME: Record<Model, string> = { logreg: 'logistic regression', bnn: 'BNN MLP 30-50-1' };

type Batch = { x: bt.Tensor; y: bt.Tensor };

/** One backend's data and models (tensors made on that backend). */
function setup(backend: string) {
  bt.setBackend(backend);
  const dtype: bt.FloatDType = backend === 'cpu' ? 'float64' : 'float32';
  const raw = loadBreastCancerRaw();
  const N = raw.x.length;
  const d = 30;
  const mu = new Array(d).fill(0).map((_, j) => raw.x.reduce((s, r) => s + r[j]!, 0) / N);
  const sd = new Array(d).fill(0).map((_, j) => Math.sqrt(raw.x.reduce((s, r) => s + (r[j]! - mu[j]!) ** 2, 0) / N));
  const X = bt.keep(bt.tensor(raw.x.map((r) => r.map((v, j) => (v - mu[j]!) / sd[j]!)), { dtype }));
  const Y = bt.keep(bt.tensor(raw.y, { dtype }));

  type LR = { w: bt.Tensor; b: bt.Tensor };
  const lrLogPost = (p: LR, batch: Batch): [bt.Tensor, never[]] => {
    const lg = bt.matmul(batch.x, p.w.expandDims(-1)).squeeze(-1).add(p.b);
    const ll = bt.logpdf.bernoulliLogits(bt.broadcastTo(batch.y, lg.shape), lg).mean({ axis: -1 });
    const prior = p.w.square().sum({ axis: -1 }).add(p.b.square().sum({ axis: -1 })).mul(-0.5);
    return [ll.add(prior.div(N)), []];
  };
  const net = bt.nn.mlp({ sizes: [30, 50, 1], activation: 'tanh', dtype });
  const bnnLogPost = (p: unknown, batch: Batch): [bt.Tensor, never[]] => {
    const lg = net.apply(p as never, batch.x).squeeze(-1);
    const ll = bt.logpdf.bernoulliLogits(batch.y, lg).mean();
    const prior = bt.logpdf.diagNormal(p, 0, 1, { normalize: false });
    return [ll.add(prior.div(N)), []];
  };
  return { backend, dtype, N, X, Y, lrLogPost, net, bnnLogPost };
}
type Ctx = ReturnType<typeof setup>;

/** One case on one backend: each mode's row. */
async function runCase(ctx: Ctx, c: { model: Model; batch: number; chains: number }, modesWanted: readonly Mode[], seconds: number, note: BackendNote): Promise<Row[]> {
  const { backend, dtype, N, X, Y, net } = ctx;
  bt.setBackend(backend);
  const load = loadavg()[0]!;
  const key = bt.random.key(0);
  const batchAt = (t: number): Batch => {
    const idx = bt.random.randint(bt.random.foldIn(key, t), [c.batch], 0, N);
    return { x: bt.take(X, idx, 0), y: bt.take(Y, idx, 0) };
  };
  // The modes step side by side, in alternating blocks, so that the load on a shared machine
  // falls on them alike.
  const modes = modesWanted.map((mode) => {
    const jit = mode === 'jit';
    let params: any;
    let sampler: any;
    if (c.model === 'logreg') {
      const p0 = { w: bt.zeros([30], dtype), b: bt.zeros([1], dtype) };
      const s = bt.sgmcmc.sghmc.build(ctx.lrLogPost, { lr: 0.2, alpha: 1, temperature: 1 / N, momenta: 0, jit });
      sampler = c.chains === 1 ? s : bt.sgmcmc.parallel(s, { chains: c.chains, batchedLogPosterior: true });
      params = c.chains === 1 ? p0 : bt.sgmcmc.replicate(p0, c.chains);
    } else {
      const s = bt.sgmcmc.sghmc.build(ctx.bnnLogPost, { lr: 0.2, alpha: 1, temperature: 1 / N, momenta: 0, jit });
      sampler = c.chains === 1 ? s : bt.sgmcmc.parallel(s, { chains: c.chains });
      params = c.chains === 1 ? net.init(key) : bt.vmap((k: bt.Tensor) => net.init(k))(bt.random.split(key, c.chains));
    }
    let state = sampler.init(params);
    let t = 0;
    return {
      jit, sampler, params, n: 0, wall: 0, cpu: 0, warmMs: 0,
      state: () => state,
      step: () => {
        const [next, aux] = bt.tidy(() => sampler.update(state, batchAt(t), bt.random.foldIn(key, t)));
        bt.dispose(aux);
        if (t > 0) bt.dispose(state);
        state = next;
        t++;
      },
    };
  });
  const nParams = bt.tree.leaves(modes[0]!.params).reduce((s: number, l: any) => s + l.size / (c.chains === 1 ? 1 : c.chains), 0);
  // warm-up (kernel compilation on WebGPU, the trace, V8's JIT): 20 steps, or fewer (at least 3)
  // once S seconds have gone
  for (const m of modes) {
    const w0 = performance.now();
    let k = 0;
    let w2 = w0; // after the first 2 steps (compilation, the trace): the rest estimate a step's time
    while (k < 20 && (k < 3 || performance.now() - w0 < seconds * 1000)) {
      m.step();
      if (++k === 2) {
        await m.state().logPosterior.data();
        w2 = performance.now();
      }
    }
    await m.state().logPosterior.data();
    m.warmMs = (performance.now() - w2) / (k - 2);
  }
  // block size: 10 steps, or fewer when a step is slow, so a block stays under ~S/4
  const slowest = Math.max(...modes.map((m) => m.warmMs));
  const block = Math.max(1, Math.min(10, Math.floor((seconds * 1000) / 4 / Math.max(slowest, 1e-3))));
  const t0 = performance.now();
  while (modes.some((m) => m.n < 2) || performance.now() - t0 < modes.length * seconds * 1000) {
    for (const m of modes) {
      const w0 = performance.now();
      const c0 = process.cpuUsage();
      for (let k = 0; k < block; k++, m.n++) m.step();
      if (backend !== 'cpu') await m.state().logPosterior.data();
      const cu = process.cpuUsage(c0);
      m.cpu += (cu.user + cu.system) / 1000;
      m.wall += performance.now() - w0;
    }
  }
  const rows: Row[] = [];
  for (const m of modes) {
    const secs = m.wall / 1000;
    const row: Row = {
      backend,
      dtype,
      model: MODEL_NAME[c.model],
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
    console.log(
      `${backend.padEnd(6)} ${row.model.padEnd(20)} batch ${String(c.batch).padStart(3)}  chains ${String(c.chains).padStart(4)}  jit ${String(m.jit).padEnd(5)}: ` +
        `${fmtRate(row.stepsPerSecond).padStart(7)} steps/s  ${fmtRate(row.chainStepsPerSecond).padStart(8)} chain-steps/s  (${row.msPerStep.toFixed(3)} ms/step, CPU ${row.cpuMsPerStep.toFixed(3)}, ${m.n} steps)` +
        (note.warning ? `  [${note.warning}]` : ''),
    );
    bt.dispose([m.state(), m.params]);
    m.sampler.dispose();
  }
  return rows;
}

/** Rates below 10 with 2 decimals (a slow CPU case), else whole. */
const fmtRate = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(0));
const same = (a: Row, b: Row) => a.model === b.model && a.batch === b.batch && a.chains === b.chains && a.jit === b.jit;

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const { seconds, out, quick, models, batches, chains, modes } = args;
  const backends = args.compare ?? [args.backend];
  const notes: BackendNote[] = [];
  for (const b of backends) notes.push(await describeBackend(b));
  for (const n of notes) console.log(`${n.backend}: ${n.device}${n.warning ? ` — ${n.warning}` : ''}`);
  const ctxs = backends.map(setup);

  const rows: Row[] = [];
  const cases: { model: Model; batch: number; chains: number }[] = [];
  for (const model of models) for (const batch of batches) for (const ch of chains) cases.push({ model, batch, chains: ch });
  for (const c of cases) for (let i = 0; i < backends.length; i++) rows.push(...(await runCase(ctxs[i]!, c, modes, seconds, notes[i]!)));

  mkdirSync(out, { recursive: true });
  const date = new Date().toISOString();
  const common = { date, node: process.version, secondsPerCase: seconds, quick, cpus: cpus().length, models, batches, chains, modes };
  const modeText =
    'A step advances every chain once; chain-steps/s = steps/s × chains. Eager = `jit: false`; jit = the default (update traced once, replayed as fused loops). ' +
    'The modes run side by side in alternating blocks of up to 10 steps (fewer where a step is slow, at least 2 timed steps a mode).';
  if (args.compare) {
    const [b0, b1] = backends as [string, string];
    const path = join(out, 'crossover-sgmcmc.json');
    const run = { date, secondsPerCase: seconds, quick, models, batches, chains, modes };
    const prev = args.append ? earlierRows(path, backends, rows, (r: Row) => `${r.backend}|${r.model}|${r.batch}|${r.chains}|${r.jit}`) : { rows: [], runs: [] };
    const all = [...prev.rows, ...rows];
    const runs = [...prev.runs, run];
    const order = Object.values(MODEL_NAME) as string[];
    const pairs = all
      .filter((r) => r.backend === b0 && all.some((x) => x.backend === b1 && same(x, r)))
      .sort((a, b) => order.indexOf(a.model) - order.indexOf(b.model) || a.batch - b.batch || a.chains - b.chains || Number(a.jit) - Number(b.jit))
      .map((a) => ({ a, b: all.find((r) => r.backend === b1 && same(r, a))! }))
      .map(({ a, b }) => ({ model: a.model, params: a.params, batch: a.batch, chains: a.chains, jit: a.jit, [b0]: a, [b1]: b, ratio: b.stepsPerSecond / a.stepsPerSecond }));
    const groups = [...new Set(pairs.map((p) => `${p.model}|${p.batch}|${p.jit}`))].map((g) => {
      const ps = pairs.filter((p) => `${p.model}|${p.batch}|${p.jit}` === g);
      return { model: ps[0]!.model, batch: ps[0]!.batch, jit: ps[0]!.jit, paysFrom: paysFrom(ps.map((p) => ({ x: p.chains, ratio: p.ratio })), (x) => `${x} chain${x === 1 ? '' : 's'}`) };
    });
    const meta = { ...common, compare: backends, backends: notes, dtypes: Object.fromEntries(ctxs.map((c) => [c.backend, c.dtype])), runs };
    writeFileSync(path, JSON.stringify({ meta, pairs, paysFrom: groups, rows: all }, null, 2));
    const when =
      runs.length === 1
        ? `${date}, ~${seconds} s per case, mode and backend${quick ? ', --quick' : ''}`
        : `${runs.length} runs (--append): ${(runs as { date: string; secondsPerCase: number }[]).map((r) => `${r.date} (~${r.secondsPerCase} s per case, mode and backend)`).join(', ')}`;
    const bl = backendLines(notes);
    const md = [
      `# SGHMC crossover: ${b1} vs ${b0}${bl.heading}`,
      '',
      ...bl.lines,
      '',
      `${when}; Node ${process.version}, ${meta.cpus} CPUs. ${b0} in ${meta.dtypes[b0]}, ${b1} in ${meta.dtypes[b1]}. ${modeText} ` +
        `The backends run case by case in turn. Ratio = ${b1} ÷ ${b0} steps/s (wall-clock throughput; > 1: ${b1} pays); load = the 1-minute load average when ${b0}'s run of the case started.`,
      '',
      `| model | batch | chains | mode | ${b0} steps/s | ${b1} steps/s | ${b1} ÷ ${b0} | ${b0} chain-steps/s | ${b1} chain-steps/s | ${b0} ms/step | ${b1} ms/step | load |`,
      '|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...pairs.map((p) => {
        const [a, b] = [p[b0] as Row, p[b1] as Row];
        return `| ${p.model} | ${p.batch} | ${p.chains} | ${p.jit ? 'jit' : 'eager'} | ${fmtRate(a.stepsPerSecond)} | ${fmtRate(b.stepsPerSecond)} | ${p.ratio.toFixed(2)}× | ${fmtRate(a.chainStepsPerSecond)} | ${fmtRate(b.chainStepsPerSecond)} | ${a.msPerStep.toFixed(3)} | ${b.msPerStep.toFixed(3)} | ${a.load.toFixed(1)} |`;
      }),
      '',
      paysHeading(b1, notes),
      '',
      ...groups.map((g) => `- ${g.model}, batch ${g.batch}, ${g.jit ? 'jit' : 'eager'}: ${g.paysFrom}`),
      '',
    ].join('\n');
    writeFileSync(join(out, 'crossover-sgmcmc.md'), md);
    console.log(`\n${md}\nwrote ${join(out, 'crossover-sgmcmc.json')} and .md`);
    return;
  }

  const { backend } = args;
  const note = notes[0]!;
  const dtype = ctxs[0]!.dtype;
  const meta = { backend, dtype, ...common, device: note.device, softwareAdapter: note.software, warning: note.warning };
  writeFileSync(join(out, `sgmcmc-${backend}.json`), JSON.stringify({ meta, rows }, null, 2));
  const both = modes.length === 2;
  const keyRows = rows.filter((r) => r.jit === (modes[0] === 'jit'));
  const other = (r: Row) => rows.find((x) => x !== r && x.model === r.model && x.batch === r.batch && x.chains === r.chains);
  const bl = backendLines(notes);
  const md = [
    `# SGHMC steps per second (${backend}, ${dtype})${bl.heading}`,
    '',
    ...(backend === 'cpu' ? [] : [...bl.lines, '']),
    `${date}, Node ${process.version}, ${meta.cpus} CPUs${quick ? ', --quick' : ''}. ${modeText} ` +
      (both ? 'Speed-up = eager ÷ jit time per step, by process CPU time (steadier on a shared machine) and by wall time; ' : '') +
      'load = the 1-minute load average when the case started.',
    '',
    both
      ? '| model | params | batch | chains | eager steps/s | jit steps/s | eager chain-steps/s | jit chain-steps/s | eager CPU ms/step | jit CPU ms/step | speed-up (CPU) | speed-up (wall) | load |'
      : `| model | params | batch | chains | ${modes[0]} steps/s | ${modes[0]} chain-steps/s | ${modes[0]} ms/step | ${modes[0]} CPU ms/step | load |`,
    both ? '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|' : '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...keyRows.map((e) => {
      if (!both) return `| ${e.model} | ${e.params} | ${e.batch} | ${e.chains} | ${fmtRate(e.stepsPerSecond)} | ${fmtRate(e.chainStepsPerSecond)} | ${e.msPerStep.toFixed(3)} | ${e.cpuMsPerStep.toFixed(3)} | ${e.load.toFixed(1)} |`;
      const j = other(e)!;
      return `| ${e.model} | ${e.params} | ${e.batch} | ${e.chains} | ${fmtRate(e.stepsPerSecond)} | ${fmtRate(j.stepsPerSecond)} | ${fmtRate(e.chainStepsPerSecond)} | ${fmtRate(j.chainStepsPerSecond)} | ${e.cpuMsPerStep.toFixed(3)} | ${j.cpuMsPerStep.toFixed(3)} | ${(e.cpuMsPerStep / j.cpuMsPerStep).toFixed(2)}× | ${(j.stepsPerSecond / e.stepsPerSecond).toFixed(2)}× | ${e.load.toFixed(1)} |`;
    }),
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
