/**
 * The engine benchmark (acceptance item 6): our engine side by side with the peers, in one run.
 *
 *   npm run bench                      # = tsx bench/engine.ts
 *   npx tsx bench/engine.ts --quick    # short timings (smoke test, ~30 s)
 *   npx tsx bench/engine.ts --backend cpu
 *   npm run bench -- --backend webgpu  # the WebGPU bench instead: bench/webgpu.ts (matmul 256..4096,
 *                                      # MLP, tfjs-webgpu on the same device; engine-webgpu.{json,md})
 *
 * (a) matmul 256 and 512, float32 and float64, GFLOP/s: ours, tfjs-cpu, jax-js wasm eager & jit;
 * (b) value+grad of the MLP 32-128-128-2 (tanh) at batch 256, steps/s: ours in float64 and float32,
 *     eager and under `bt.jit`, tfjs-cpu and jax-js (float32, eager & jit), all on the data of
 *     `mlpProblem`;
 * (c) Jacobians of f: R^64 -> R^64 (`jacobianProblem`), jacobians/s: ours jacrev/jacfwd at chunk
 *     sizes 1, 8, 64 (float64 and float32), eager and under `bt.jit`; jax-js jacrev/jacfwd (eager &
 *     jit); tfjs emulated rev.
 *
 * Times are this process's CPU time by default (`--timer wall` for wall time): the bench machine
 * is shared, and wall time there mostly measures the other processes. The load average at the
 * start and the end of the run goes into the JSON and the Markdown header.
 *
 * Every result is checked against the float64 plain-JS references (a mismatch prints an ERROR
 * line and makes the exit code 1). Writes bench/results/engine.json (machine info, versions,
 * every number) and bench/results/engine.md, and refreshes the same tables in README.md between
 * its <!-- bench:engine --> markers; `--quick` writes bench/results/engine-quick.{json,md}
 * only, and `--out <dir>` writes <dir>/engine{,-quick}.{json,md} only.
 *
 * Peers are installed in bench/node_modules (`npm install --prefix bench`); if they are missing
 * this script runs that install first.
 */
import { spawnSync, execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

// ---------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------

function parseArgs(argv: string[]): { quick: boolean; backend: string; outDir: string; defaultOut: boolean; timer: 'cpu' | 'wall' } {
  let quick = false;
  let timer: 'cpu' | 'wall' = 'cpu';
  let backend = 'cpu';
  let outDir: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--backend' || a.startsWith('--backend=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (!v) usage('--backend needs a name (cpu, webgpu)');
      backend = v;
    } else if (a === '--out' || a.startsWith('--out=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (!v) usage('--out needs a directory');
      outDir = path.resolve(v);
    } else if (a === '--timer' || a.startsWith('--timer=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v !== 'cpu' && v !== 'wall') usage('--timer needs cpu or wall');
      timer = v;
    } else if (a === '--help' || a === '-h') usage();
    else usage(`unknown argument '${a}'`);
  }
  return { quick, backend, outDir: outDir ?? path.join(here, 'results'), defaultOut: outDir === null, timer };
}

function usage(err?: string): never {
  if (err) console.error(`bench/engine.ts: ${err}`);
  console.error('usage: tsx bench/engine.ts [--quick] [--backend <cpu|webgpu>] [--out <dir>] [--timer <cpu|wall>]');
  process.exit(err ? 2 : 0);
}

// `--backend webgpu` runs the WebGPU bench (bench/webgpu.ts: its own cases, options and output).
{
  const argv = process.argv.slice(2);
  if (argv.some((a, i) => a === '--backend=webgpu' || (a === '--backend' && argv[i + 1] === 'webgpu'))) {
    const { main } = await import('./webgpu.js');
    process.exit(await main(argv));
  }
}

const args = parseArgs(process.argv.slice(2));

// ---------------------------------------------------------------------------
// Peers installed? (before importing peers.ts' lazy loaders ever run)
// ---------------------------------------------------------------------------

function peersInstalled(): boolean {
  const nm = path.join(here, 'node_modules');
  return ['@tensorflow/tfjs', '@jax-js/jax'].every((p) => fs.existsSync(path.join(nm, p, 'package.json')));
}

if (!peersInstalled()) {
  const cmd = 'npm install --prefix bench';
  console.log(`Peer libraries are not installed in bench/node_modules; running \`${cmd}\` ...`);
  const r = spawnSync('npm', ['install', '--prefix', here, '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0 || !peersInstalled()) {
    console.error(`\nCould not install the peers. Run this yourself, then \`npm run bench\` again:\n\n    ${cmd}\n`);
    process.exit(1);
  }
}

const peers = await import('./peers.js');
const { threadsAvailable: matmulThreads } = await import('../src/backends/cpu/matmul/matmul-worker.js');
const ours = await import('./ours.js');
type PeerResult = import('./peers.js').PeerResult;
type MeasureOptions = import('./peers.js').MeasureOptions;

// ---------------------------------------------------------------------------
// Plan
// ---------------------------------------------------------------------------

// Full: 2 rounds of >= 0.8 s of samples per case (40 cases: ~2 min). Quick: a smoke test (~15 s).
const opts: MeasureOptions = args.quick
  ? { minTimeMs: 120, warmupMs: 30, minSamples: 3, targetSampleMs: 10, timer: args.timer }
  : { minTimeMs: 800, warmupMs: 250, minSamples: 5, targetSampleMs: 25, timer: args.timer };

const ROUNDS = args.quick ? 1 : 2;
const MATMUL_SIZES = [256, 512];
const DTYPES = ['float64', 'float32'] as const;
const BATCH = 256;
const JN = 64;
const CHUNKS = [1, 8, 64];

type Group = 'matmul' | 'mlp' | 'jacobian';

interface Row extends PeerResult {
  group: Group;
  /** Key of the comparison group: rows with the same key are compared (e.g. 'matmul 256 float32'). */
  key: string;
  /** 'ours-jit': our engine with the step under `bt.jit`. */
  library: 'ours' | 'ours-jit' | 'tfjs-cpu' | 'jax-js-wasm' | 'jax-js-wasm-jit';
  dtype: 'float32' | 'float64';
  mode?: 'rev' | 'fwd';
  chunk?: number;
  n?: number;
  reference: number[];
  relErr: number | null;
  tol: number;
  ok: boolean;
  error?: string;
  ratio?: Record<string, number | null>;
  /** The value of each round (the reported one is the best). */
  rounds?: (number | null)[];
  /** Which peer row `ratio.bestPeer` compares with. */
  bestPeer?: string;
}

interface Case {
  group: Group;
  key: string;
  library: Row['library'];
  dtype: Row['dtype'];
  mode?: Row['mode'];
  chunk?: number;
  n?: number;
  reference: number[];
  tol: number;
  run: () => Promise<PeerResult>;
}

const refMatmul = new Map(MATMUL_SIZES.map((n) => [n, peers.matmulReference(peers.matmulProblem(n))]));
const refMlp = peers.mlpReference(peers.mlpProblem(BATCH));
const refJac = peers.jacobianReference(peers.jacobianProblem(JN)).sum;

// Relative tolerances against the float64 references. float32 sums of 65k-262k products of
// U(-1,1) terms need a loose bound; float64 results should agree to rounding.
const tolOf = (group: Group, dtype: string) => (dtype === 'float64' ? 1e-9 : group === 'matmul' ? 1e-3 : 1e-4);

let label = `bayestape-${args.backend}`;
try {
  label = await ours.useBackend(args.backend);
} catch (e) {
  console.error(`ERROR: backend '${args.backend}' is not available: ${(e as Error).message}`);
  process.exit(1);
}

const cases: Case[] = [];
for (const n of MATMUL_SIZES) {
  for (const dtype of DTYPES) {
    const base = { group: 'matmul' as const, key: `matmul ${n} ${dtype}`, dtype, n, reference: [refMatmul.get(n)!], tol: tolOf('matmul', dtype) };
    cases.push({ ...base, library: 'ours', run: () => ours.oursMatmul(n, dtype, opts) });
    cases.push({ ...base, library: 'tfjs-cpu', run: () => peers.tfjsMatmul(n, dtype, opts) });
    cases.push({ ...base, library: 'jax-js-wasm', run: () => peers.jaxjsMatmul(n, dtype, false, opts) });
    cases.push({ ...base, library: 'jax-js-wasm-jit', run: () => peers.jaxjsMatmul(n, dtype, true, opts) });
  }
}
{
  const ref = [refMlp.loss, refMlp.gradNorm];
  const base = { group: 'mlp' as const, key: 'mlp', reference: ref };
  for (const dtype of DTYPES) {
    cases.push({ ...base, library: 'ours', dtype, tol: tolOf('mlp', dtype), run: () => ours.oursMlpValueAndGrad(BATCH, dtype, opts) });
    cases.push({ ...base, library: 'ours-jit', dtype, tol: tolOf('mlp', dtype), run: () => ours.oursMlpValueAndGrad(BATCH, dtype, opts, true) });
  }
  const f32 = { ...base, dtype: 'float32' as const, tol: tolOf('mlp', 'float32') };
  cases.push({ ...f32, library: 'tfjs-cpu', run: () => peers.tfjsMlpValueAndGrad(BATCH, opts) });
  cases.push({ ...f32, library: 'jax-js-wasm', run: () => peers.jaxjsMlpValueAndGrad(BATCH, false, opts) });
  cases.push({ ...f32, library: 'jax-js-wasm-jit', run: () => peers.jaxjsMlpValueAndGrad(BATCH, true, opts) });
}
for (const mode of ['rev', 'fwd'] as const) {
  const base = { group: 'jacobian' as const, key: `jacobian ${mode}`, mode, n: JN, reference: [refJac] };
  for (const chunk of CHUNKS) {
    for (const dtype of DTYPES) {
      cases.push({ ...base, library: 'ours', dtype, chunk, tol: tolOf('jacobian', dtype), run: () => ours.oursJacobian(JN, mode, chunk, dtype, opts) });
      cases.push({ ...base, library: 'ours-jit', dtype, chunk, tol: tolOf('jacobian', dtype), run: () => ours.oursJacobian(JN, mode, chunk, dtype, opts, true) });
    }
  }
  const f32 = { ...base, dtype: 'float32' as const, tol: tolOf('jacobian', 'float32') };
  if (mode === 'rev') for (const chunk of CHUNKS) cases.push({ ...f32, library: 'tfjs-cpu', chunk, run: () => peers.tfjsJacobian(JN, chunk, mode, opts) });
  cases.push({ ...f32, library: 'jax-js-wasm', run: () => peers.jaxjsJacobian(JN, mode, false, opts) });
  cases.push({ ...f32, library: 'jax-js-wasm-jit', run: () => peers.jaxjsJacobian(JN, mode, true, opts) });
}

// ---------------------------------------------------------------------------
// Run
// ---------------------------------------------------------------------------

const fmt = (v: number | null | undefined, d = 2) =>
  v == null || !Number.isFinite(v) ? '-' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(d);
const relErr = (got: number[] | undefined, want: number[]) =>
  got && got.length >= want.length ? Math.max(...want.map((w, i) => Math.abs((got[i] ?? NaN) - w) / Math.max(Math.abs(w), 1e-12))) : null;
const isOurs = (lib: string) => lib === 'ours' || lib === 'ours-jit';
const displayName = (r: { library: string }) => (r.library === 'ours' ? label : r.library === 'ours-jit' ? `${label} jit` : r.library);
const loadavg = () => os.loadavg().map((l) => +l.toFixed(2));
const loadStart = loadavg();

const cpuModel = os.cpus()[0]?.model?.trim() ?? 'unknown cpu';
const versions = await peers.peerVersions();
const ourVersion = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version as string;
let commit: string | null = null;
try {
  commit = execSync('git rev-parse --short HEAD', { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  const dirty = execSync('git status --porcelain --untracked-files=no', { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  if (dirty) commit += '+dirty';
} catch {
  /* not a git checkout */
}

console.log(`bayestape ${ourVersion}${commit ? ` (${commit})` : ''}, backend ${args.backend}; node ${process.version}; ${cpuModel} x${os.availableParallelism()}`);
console.log(`peers: ${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join(', ')}`);
console.log(
  `timing: ${args.timer} time, ${args.quick ? 'quick (smoke, >= 0.12 s per case)' : `full (>= ${opts.minTimeMs} ms of samples per case, median; best of ${ROUNDS} rounds)`}; ${cases.length} cases; load average ${loadStart.join(', ')}\n`,
);

const t0 = performance.now();
// Each round runs every case once; a case's reported result is its fastest round (its median
// is the least disturbed by other load on the machine), every round's number is kept in the JSON.
const perCase: { r: PeerResult; error?: string }[][] = cases.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  if (ROUNDS > 1) console.log(`round ${round + 1} of ${ROUNDS}`);
  for (const [ci, c] of cases.entries()) {
    let r: PeerResult;
    let error: string | undefined;
    try {
      r = await c.run();
    } catch (e) {
      error = String((e as Error)?.stack ?? e).split('\n').slice(0, 3).join(' | ');
      r = { peer: c.library, value: null, unit: '', note: 'failed' };
    }
    perCase[ci]!.push({ r, ...(error ? { error } : {}) });
    const what = `${c.key}${c.chunk ? ` chunk=${c.chunk}` : ''}${c.key.includes(c.dtype) ? '' : ` ${c.dtype}`}`;
    const err = r.value == null ? null : relErr(r.check, c.reference);
    const ok = !error && (r.value == null || (err != null && err <= c.tol));
    const line = `${displayName(c).padEnd(16)} ${what.padEnd(28)} ${fmt(r.value).padStart(8)} ${(r.unit || '').padEnd(12)} ${r.msPerIter == null ? '' : `${r.msPerIter.toFixed(3)} ms`}`;
    if (!ok) {
      console.error(
        `ERROR ${line}  ${error ?? `result disagrees with the float64 reference: rel err ${err == null ? 'n/a' : err.toExponential(2)} > ${c.tol} (got ${JSON.stringify(r.check)}, want ${JSON.stringify(c.reference)})`}`,
      );
    } else console.log(`      ${line}${r.note ? `  (${r.note})` : ''}`);
  }
}

const rows: Row[] = [];
let errors = 0;
for (const [ci, c] of cases.entries()) {
  const runs = perCase[ci]!;
  // Any failing or disagreeing round fails the case; otherwise report the fastest round.
  const judged = runs.map(({ r, error }) => {
    const err = r.value == null ? null : relErr(r.check, c.reference);
    return { r, error, err, ok: !error && (r.value == null || (err != null && err <= c.tol)) };
  });
  const bad = judged.find((j) => !j.ok);
  const pick = bad ?? judged.reduce((a, b) => ((b.r.value ?? -Infinity) > (a.r.value ?? -Infinity) ? b : a));
  if (bad) errors++;
  rows.push({
    ...pick.r,
    group: c.group,
    key: c.key,
    library: c.library,
    dtype: c.dtype,
    ...(c.mode ? { mode: c.mode } : {}),
    ...(c.chunk ? { chunk: c.chunk } : {}),
    ...(c.n ? { n: c.n } : {}),
    reference: c.reference,
    relErr: pick.err,
    tol: c.tol,
    ok: !bad,
    ...(pick.error ? { error: pick.error } : {}),
    rounds: judged.map((j) => j.r.value),
  });
}
const totalS = (performance.now() - t0) / 1000;
const loadEnd = loadavg();

// ---------------------------------------------------------------------------
// Ratios and targets
// ---------------------------------------------------------------------------

const peerRows = (key: string) => rows.filter((r) => r.key === key && !isOurs(r.library) && r.value != null && r.ok);
const ratio = (a: number | null | undefined, b: number | null | undefined) => (a != null && b != null && b > 0 ? a / b : null);
const best = (rs: Row[]) => rs.reduce<Row | null>((m, r) => (m === null || r.value! > m.value! ? r : m), null);

for (const r of rows) {
  if (!isOurs(r.library) || r.value == null) continue;
  const ps = peerRows(r.key);
  const b = best(ps);
  // tfjs: the same chunk for the emulated jacrev (its only Jacobian), the same problem otherwise.
  const tf = ps.find((p) => p.library === 'tfjs-cpu' && (r.group !== 'jacobian' || p.chunk === r.chunk));
  const jaxE = ps.find((p) => p.library === 'jax-js-wasm');
  const jaxJ = ps.find((p) => p.library === 'jax-js-wasm-jit');
  r.ratio = {
    bestPeer: ratio(r.value, b?.value),
    tfjs: ratio(r.value, tf?.value),
    jaxEager: ratio(r.value, jaxE?.value),
    jaxJit: ratio(r.value, jaxJ?.value),
  };
  if (b) r.bestPeer = `${b.library}${b.chunk ? ` chunk=${b.chunk}` : ''}`;
}

const oursRow = (key: string, dtype: string, chunk?: number, library: 'ours' | 'ours-jit' = 'ours') =>
  rows.find((r) => r.library === library && r.key === key && r.dtype === dtype && (chunk === undefined || r.chunk === chunk));

interface Target {
  name: string;
  value: number | null;
  goal: number;
  met: boolean;
}
const targets: Target[] = [];
const addTarget = (name: string, value: number | null | undefined, goal: number) =>
  targets.push({ name, value: value ?? null, goal, met: value != null && value >= goal });
for (const dtype of DTYPES) {
  const r = oursRow('mlp', dtype);
  addTarget(`MLP value+grad ${dtype}: ours / tfjs-cpu (float32)`, r?.ratio?.tfjs, 4);
  addTarget(`MLP value+grad ${dtype}: ours / jax-js wasm eager (float32)`, r?.ratio?.jaxEager, 1);
}
// bt.jit (issue 15): the jitted step against jax-js's jit, both in float32 (and ours in float64).
for (const dtype of DTYPES) addTarget(`MLP value+grad (jit) ${dtype}: ours jit / jax-js wasm jit (float32)`, oursRow('mlp', dtype, undefined, 'ours-jit')?.ratio?.jaxJit, 1.2);
for (const dtype of DTYPES) {
  // the best chunk size: the user picks it
  const bestFwd = CHUNKS.map((c) => oursRow('jacobian fwd', dtype, c, 'ours-jit')?.ratio?.jaxJit ?? null).reduce<number | null>((m, v) => (v != null && (m == null || v > m) ? v : m), null);
  addTarget(`jacfwd R^${JN}→R^${JN} (jit, best chunk) ${dtype}: ours jit / jax-js wasm jit (float32)`, bestFwd, 1);
}
for (const n of MATMUL_SIZES) addTarget(`matmul ${n} float64 GFLOP/s`, oursRow(`matmul ${n} float64`, 'float64')?.value, 5);

// ---------------------------------------------------------------------------
// Markdown
// ---------------------------------------------------------------------------

const cell = (r: Row | undefined) => (r == null ? 'n/a' : r.error ? 'error' : r.value == null ? `— (${r.note ?? 'n/a'})` : `${fmt(r.value)}${r.ok ? '' : ' ✗'}`);
const x = (v: number | null | undefined) => (v == null ? '—' : `${v >= 10 ? v.toFixed(0) : v.toFixed(2)}×`);
const find = (key: string, library: string, dtype?: string, chunk?: number) =>
  rows.find((r) => r.key === key && r.library === library && (dtype === undefined || r.dtype === dtype) && (chunk === undefined || r.chunk === chunk));

const date = new Date().toISOString();
const md: string[] = [];
md.push(
  `Measured ${date.slice(0, 10)} on ${cpuModel} (${os.availableParallelism()} threads), Node ${process.version}, ` +
    `backend \`${args.backend}\`${args.quick ? ', **quick (smoke) timings**' : ''}. ` +
    `Peers: tfjs ${versions['@tensorflow/tfjs']} (pure-JS \`cpu\` backend), jax-js ${versions['@jax-js/jax']} (Wasm, single-threaded in Node). ` +
    `${args.timer === 'cpu' ? 'Times are this process\'s CPU time (all its threads), not wall time: the machine is shared' : 'Times are wall time on a shared machine'} ` +
    `(load average ${loadStart.join(', ')} at the start, ${loadEnd.join(', ')} at the end). ` +
    `Median of timed samples${ROUNDS > 1 ? `, best of ${ROUNDS} rounds` : ''}; higher is better; every result checked against a float64 reference. ` +
    (args.backend === 'cpu' && matmulThreads
      ? 'bayestape splits matmuls of ≥ 4M multiply-adds with one helper thread (the MLP\'s 128×128 layers and the n = 256, 512 products); the peers run on one thread.'
      : ''),
  '',
  '**Matmul** (n × n @ n × n, GFLOP/s)',
  '',
  '| n | dtype | bayestape | tfjs-cpu | jax-js wasm | jax-js wasm (jit) | vs best peer | vs tfjs |',
  '|---:|---|---:|---:|---:|---:|---:|---:|',
);
for (const n of MATMUL_SIZES) {
  for (const dtype of DTYPES) {
    const key = `matmul ${n} ${dtype}`;
    const o = find(key, 'ours');
    md.push(
      `| ${n} | ${dtype} | **${cell(o)}** | ${cell(find(key, 'tfjs-cpu'))} | ${cell(find(key, 'jax-js-wasm'))} | ${cell(find(key, 'jax-js-wasm-jit'))} | ${x(o?.ratio?.bestPeer)} | ${x(o?.ratio?.tfjs)} |`,
    );
  }
}
md.push(
  '',
  `**MLP ${peers.MLP_SIZES.join('-')} (tanh), value + gradient, batch ${BATCH}** (steps/s; peers in float32; ours inside \`bt.tidy\`, loss read each step; \`jit\`: the value+grad step under \`bt.jit\`)`,
  '',
  '| bayestape dtype | bayestape | bayestape jit | tfjs-cpu | jax-js wasm | jax-js wasm (jit) | vs tfjs | vs jax-js eager | ours jit / jax-js jit |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
);
for (const dtype of DTYPES) {
  const o = find('mlp', 'ours', dtype);
  const oj = find('mlp', 'ours-jit', dtype);
  md.push(
    `| ${dtype} | **${cell(o)}** | **${cell(oj)}** | ${cell(find('mlp', 'tfjs-cpu'))} | ${cell(find('mlp', 'jax-js-wasm'))} | ${cell(find('mlp', 'jax-js-wasm-jit'))} | ${x(o?.ratio?.tfjs)} | ${x(o?.ratio?.jaxEager)} | ${x(oj?.ratio?.jaxJit)} |`,
  );
}
md.push(
  '',
  `**Jacobian of f(x) = tanh(Wx + b) + 0.1 sin(x), R^${JN} → R^${JN}** (Jacobians/s; peers in float32; jax-js pushes all ${JN} basis vectors in one vmapped pass; tfjs has no jacobian or forward mode, its rev is emulated with batched VJPs of \`chunk\` rows)`,
  '',
  '| mode | chunk | bayestape f64 | bayestape f32 | bayestape jit f64 | bayestape jit f32 | tfjs-cpu | jax-js wasm | jax-js wasm (jit) | f32 vs best peer | f32 vs tfjs | ours jit f32 / jax-js jit |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
);
for (const mode of ['rev', 'fwd'] as const) {
  const key = `jacobian ${mode}`;
  for (const chunk of CHUNKS) {
    const o32 = find(key, 'ours', 'float32', chunk);
    const j32 = find(key, 'ours-jit', 'float32', chunk);
    const tf = mode === 'rev' ? cell(find(key, 'tfjs-cpu', undefined, chunk)) : '— (no fwd)';
    md.push(
      `| ${mode} | ${chunk} | **${cell(find(key, 'ours', 'float64', chunk))}** | **${cell(o32)}** | **${cell(find(key, 'ours-jit', 'float64', chunk))}** | **${cell(j32)}** | ${tf} | ${cell(find(key, 'jax-js-wasm'))} | ${cell(find(key, 'jax-js-wasm-jit'))} | ${x(o32?.ratio?.bestPeer)} | ${x(o32?.ratio?.tfjs)} | ${x(j32?.ratio?.jaxJit)} |`,
    );
  }
}
md.push('', '**Targets** (engine issue)', '', '| target | value | goal | met |', '|---|---:|---:|:---:|');
for (const t of targets) md.push(`| ${t.name} | ${t.name.includes('GFLOP') ? fmt(t.value) : x(t.value)} | ${t.name.includes('GFLOP') ? `≥ ${t.goal}` : `≥ ${t.goal}×`} | ${t.met ? '✓' : '✗'} |`);
md.push('', `<sub>\`vs best peer\` compares with the fastest peer on the same problem (for Jacobians: any peer variant and chunk of the same mode; for the matmul: the same dtype); \`vs tfjs\` with tfjs on the same problem (for Jacobians: its emulated rev at the same chunk). Generated by \`npm run bench\` (bench/engine.ts).</sub>`, '');

// ---------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------

fs.mkdirSync(args.outDir, { recursive: true });
// A quick (smoke) run never overwrites the published results.
const stem = args.quick ? 'engine-quick' : 'engine';
const json = {
  meta: {
    date,
    quick: args.quick,
    backend: args.backend,
    bayestape: { version: ourVersion, commit },
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpu: { model: cpuModel, cores: os.cpus().length, availableParallelism: os.availableParallelism() },
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    peers: versions,
    matmulHelperThread: args.backend === 'cpu' && matmulThreads,
    timing: opts,
    timer: args.timer === 'cpu' ? 'process CPU time (process.cpuUsage, all threads)' : 'wall time',
    loadAverage: { start: loadStart, end: loadEnd },
    totalSeconds: +totalS.toFixed(1),
  },
  targets,
  results: rows,
};
const written = [path.join(args.outDir, `${stem}.json`), path.join(args.outDir, `${stem}.md`)];
fs.writeFileSync(written[0]!, JSON.stringify(json, null, 2) + '\n');
fs.writeFileSync(written[1]!, md.join('\n'));
// A full default run also refreshes the README's copy of the tables, between its
// <!-- bench:engine --> and <!-- /bench:engine --> markers, so the README never shows stale numbers.
if (!args.quick && args.defaultOut) {
  const readme = path.join(here, '..', 'README.md');
  const text = fs.readFileSync(readme, 'utf8');
  const re = /<!-- bench:engine -->[\s\S]*?<!-- \/bench:engine -->/;
  if (re.test(text)) {
    fs.writeFileSync(readme, text.replace(re, `<!-- bench:engine -->\n${md.join('\n')}\n<!-- /bench:engine -->`));
    written.push(readme);
  } else {
    console.log('README.md has no <!-- bench:engine --> ... <!-- /bench:engine --> markers; not updated');
  }
}

console.log(`\n${md.join('\n')}`);
console.log(`wrote ${written.map((w) => path.relative(process.cwd(), w)).join(', ')} (${totalS.toFixed(0)} s)`);
for (const t of targets) if (!t.met) console.log(`target not met: ${t.name}: ${t.value == null ? 'n/a' : t.value.toFixed(2)} < ${t.goal}`);
if (errors) console.error(`\n${errors} ERROR(s): see the lines marked ERROR above.`);
process.exitCode = errors ? 1 : 0;
