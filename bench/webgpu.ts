/**
 * The WebGPU engine benchmark (WebGPU issue, acceptance item 4):
 *
 *   npm run bench -- --backend webgpu          # = tsx bench/engine.ts --backend webgpu (lands here)
 *   npx tsx bench/webgpu.ts [--quick] [--out <dir>] [--max-first-s 20] [--sizes 256,512,...]
 *
 * On one Dawn device (bayestape's `bt.ready('webgpu')` device, shared with tfjs-backend-webgpu,
 * see bench/peers-webgpu.ts) and beside bayestape's CPU backend (float32):
 * (a) matmul n × n @ n × n float32, n = 256, 512, 1024, 2048, 4096, GFLOP/s: bayestape-webgpu,
 *     tfjs-webgpu, bayestape-cpu. GPU throughput is timed with several matmuls queued back to
 *     back and one element of the last read (the queue is in order), so the 64 MiB readback of a
 *     4096² result is not in the timing; the full result is read once and checked.
 *     A size is skipped for a library when its first run is predicted (8× the previous size's
 *     first run) to take more than --max-first-s seconds (default 20): on a software adapter
 *     (lavapipe) the big sizes would take minutes. A case whose warm run takes ≥ 1 s is timed
 *     from two runs only (≥ 5 s: from that warm run alone).
 * (b) value+grad of the MLP 32-128-128-2 (tanh) at batch 256 (bench/peers.ts' `mlpProblem`),
 *     steps/s, two ways: reading the loss after every step (latency: one GPU round trip per
 *     step, as bench/engine.ts does on the CPU) and with 16 steps queued before the loss of the
 *     last is read (throughput). Reported per step: compute dispatches (counted on the
 *     GPUComputePassEncoder prototype, for both libraries alike; for bayestape also its own
 *     stats), submits, uploads, pipelines created after warm-up, and the host (JS) time to
 *     encode a step; live GPU bytes before/after the timing (flat memory).
 *
 * Checks: matmul — the sum of C against the float64 reference (rel 1e-3, as bench/engine.ts)
 * and 64 sampled entries against float64 dot products of the float32-rounded inputs, scaled by
 * Σ|a_ik b_kj| (the float32 bound n·2^-24); MLP — loss and gradient norm (rel 1e-4) and every
 * gradient entry (max abs error / max |ref| of its tensor ≤ 1e-4) against the float64 reference.
 * A failed check prints ERROR and makes the exit code 1.
 *
 * Writes bench/results/engine-webgpu.{json,md} (--quick: engine-webgpu-quick.*; --out <dir>:
 * there), naming the adapter. Timings on a software adapter (Mesa lavapipe) say nothing about
 * GPU speed; the markdown says so. The README is not touched.
 */
import { spawnSync, execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

type BT = typeof import('../src/index.js');
type TF = typeof import('@tensorflow/tfjs');
type Peers = typeof import('./peers.js');
type MeasureOptions = import('./peers.js').MeasureOptions;
type WebGPUBackend = import('../src/backends/webgpu/index.js').WebGPUBackend;

interface Args {
  quick: boolean;
  outDir: string;
  maxFirstS: number;
  sizes: number[];
}

function parseArgs(argv: string[]): Args {
  let quick = false;
  let outDir = path.join(here, 'results');
  let maxFirstS = 20;
  let sizes = [256, 512, 1024, 2048, 4096];
  const val = (a: string, i: number): [string, number] => {
    if (a.includes('=')) return [a.slice(a.indexOf('=') + 1), i];
    const v = argv[i + 1];
    if (v === undefined) usage(`${a} needs a value`);
    return [v, i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.split('=')[0]!;
    if (a === '--quick') quick = true;
    else if (name === '--backend') {
      const [v, j] = val(a, i);
      i = j;
      if (v !== 'webgpu') usage(`bench/webgpu.ts runs the webgpu bench only (got --backend ${v}); use bench/engine.ts for the CPU`);
    } else if (name === '--out') {
      const [v, j] = val(a, i);
      i = j;
      outDir = path.resolve(v);
    } else if (name === '--max-first-s') {
      const [v, j] = val(a, i);
      i = j;
      maxFirstS = Number(v);
      if (!(maxFirstS > 0)) usage('--max-first-s needs a positive number of seconds');
    } else if (name === '--sizes') {
      const [v, j] = val(a, i);
      i = j;
      sizes = v.split(',').map(Number);
      if (!sizes.length || sizes.some((n) => !Number.isInteger(n) || n < 1)) usage('--sizes needs positive integers, e.g. 256,512');
    } else if (a === '--help' || a === '-h') usage();
    else usage(`unknown argument '${a}'`);
  }
  return { quick, outDir, maxFirstS, sizes };
}

function usage(err?: string): never {
  if (err) console.error(`bench/webgpu.ts: ${err}`);
  console.error('usage: npm run bench -- --backend webgpu [--quick] [--out <dir>] [--max-first-s <s>] [--sizes 256,512,...]');
  process.exit(err ? 2 : 0);
}

const PEERS = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu'];

function ensurePeers(): boolean {
  const ok = () => PEERS.every((p) => fs.existsSync(path.join(here, 'node_modules', p, 'package.json')));
  if (ok()) return true;
  const cmd = 'npm install --prefix bench';
  console.log(`Peer libraries are not installed in bench/node_modules; running \`${cmd}\` ...`);
  const r = spawnSync('npm', ['install', '--prefix', here, '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0 || !ok()) {
    console.error(`\nCould not install the peers. Run this yourself, then try again:\n\n    ${cmd}\n`);
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Library adapters: the same operations on bayestape (webgpu, cpu) and tfjs-webgpu
// ---------------------------------------------------------------------------------------------

type Lib = 'bayestape-webgpu' | 'tfjs-webgpu' | 'bayestape-cpu';
const LIBS: Lib[] = ['bayestape-webgpu', 'tfjs-webgpu', 'bayestape-cpu'];
const onGpu = (l: Lib) => l !== 'bayestape-cpu';

interface MatmulCase {
  /** Enqueue one C = A @ B; returns an opaque handle. */
  mm(): unknown;
  readAll(c: unknown): Promise<Float32Array>;
  /** Waits until c is computed (reads one element). */
  readOne(c: unknown): Promise<void>;
  free(c: unknown): void;
  dispose(): void;
}

interface MlpStep {
  /** One value+grad step; returns [loss, grads] handles, still alive. */
  step(): unknown;
  readLoss(s: unknown): Promise<number>;
  readGrads(s: unknown): Promise<Float32Array[]>;
  free(s: unknown): void;
  dispose(): void;
}

function btMatmul(bt: BT, backend: string, n: number, A: Float32Array, B: Float32Array): MatmulCase {
  bt.setBackend(backend);
  const [a, b] = bt.keep(bt.tidy(() => [bt.tensor(A, { dtype: 'float32', shape: [n, n] }), bt.tensor(B, { dtype: 'float32', shape: [n, n] })]));
  type T = InstanceType<BT['Tensor']>;
  return {
    mm: () => bt.matmul(a!, b!),
    readAll: async (c) => (await (c as T).data()) as Float32Array,
    readOne: async (c) => {
      const s = bt.slice(c as T, [0, 0], [1, 1]);
      await s.data();
      s.dispose();
    },
    free: (c) => (c as T).dispose(),
    dispose: () => bt.dispose([a, b]),
  };
}

function tfMatmul(tf: TF, n: number, A: Float32Array, B: Float32Array): MatmulCase {
  const a = tf.tensor2d(A, [n, n], 'float32');
  const b = tf.tensor2d(B, [n, n], 'float32');
  type T = import('@tensorflow/tfjs').Tensor2D;
  return {
    mm: () => tf.matMul(a, b),
    readAll: async (c) => (await (c as T).data()) as Float32Array,
    readOne: async (c) => {
      const s = tf.slice(c as T, [0, 0], [1, 1]);
      await s.data();
      s.dispose();
    },
    free: (c) => (c as T).dispose(),
    dispose: () => tf.dispose([a, b]),
  };
}

function btMlp(bt: BT, backend: string, peers: Peers, batch: number): MlpStep {
  bt.setBackend(backend);
  const p = peers.mlpProblem(batch);
  const f32 = (x: Float64Array, shape: number[]) => bt.tensor(Float32Array.from(x), { dtype: 'float32', shape });
  const { params, X, Y } = bt.keep(
    bt.tidy(() => ({
      params: p.layers.flatMap((L) => [f32(L.W, [L.fanIn, L.fanOut]), f32(L.b, [L.fanOut])]),
      X: f32(p.X, [batch, peers.MLP_SIZES[0]]),
      Y: f32(p.Y, [batch, peers.MLP_SIZES[peers.MLP_SIZES.length - 1]!]),
    })),
  );
  type T = InstanceType<BT['Tensor']>;
  const nl = p.layers.length;
  const loss = (ps: T[]) => {
    let h = X;
    for (let l = 0; l < nl; l++) {
      const z = bt.add(bt.matmul(h, ps[2 * l]!), ps[2 * l + 1]!);
      h = l + 1 < nl ? bt.tanh(z) : z;
    }
    return bt.mean(bt.square(bt.sub(h, Y)));
  };
  const vg = bt.valueAndGrad(loss);
  return {
    step: () => bt.tidy(() => vg(params) as [T, T[]]),
    readLoss: async (s) => (await (s as [T, T[]])[0].data())[0]!,
    readGrads: async (s) => (await Promise.all((s as [T, T[]])[1].map((g) => g.data()))) as Float32Array[],
    free: (s) => bt.dispose(s),
    dispose: () => bt.dispose([params, X, Y]),
  };
}

function tfMlp(tf: TF, peers: Peers, batch: number): MlpStep {
  const p = peers.mlpProblem(batch);
  const f32 = (a: Float64Array) => Float32Array.from(a);
  type T = import('@tensorflow/tfjs').Tensor;
  type T2 = import('@tensorflow/tfjs').Tensor2D;
  const params = p.layers.flatMap((L) => [tf.tensor2d(f32(L.W), [L.fanIn, L.fanOut]), tf.tensor1d(f32(L.b))]);
  const X = tf.tensor2d(f32(p.X), [batch, peers.MLP_SIZES[0]]);
  const Y = tf.tensor2d(f32(p.Y), [batch, peers.MLP_SIZES[peers.MLP_SIZES.length - 1]!]);
  const nl = p.layers.length;
  const loss = (...ps: T[]) => {
    let h: T = X;
    for (let l = 0; l < nl; l++) {
      const z = tf.add(tf.matMul(h as T2, ps[2 * l] as T2), ps[2 * l + 1]!);
      h = l + 1 < nl ? tf.tanh(z) : z;
    }
    return tf.mean(tf.square(tf.sub(h, Y))) as import('@tensorflow/tfjs').Scalar;
  };
  const vg = tf.valueAndGrads(loss);
  type R = { value: T; grads: T[] };
  return {
    step: () => vg(params),
    readLoss: async (s) => (await (s as R).value.data())[0]!,
    readGrads: async (s) => (await Promise.all((s as R).grads.map((g) => g.data()))) as Float32Array[],
    free: (s) => {
      (s as R).value.dispose();
      tf.dispose((s as R).grads);
    },
    dispose: () => tf.dispose([...params, X, Y]),
  };
}

// ---------------------------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------------------------

interface MatmulRow {
  n: number;
  library: Lib;
  value: number | null;
  unit: 'GFLOP/s';
  msPerMatmul: number | null;
  firstRunMs: number | null;
  /** matmuls queued per timed step (one small read at the end) */
  queued: number | null;
  timing: 'measure' | 'two runs' | 'one run' | null;
  skipped?: string;
  check?: { sum: number; sumRef: number; sumRelErr: number; sampleMaxScaledErr: number; sampleTol: number };
  ok: boolean;
  error?: string;
}

interface MlpRow {
  library: Lib;
  stepsPerSecSync: number | null;
  stepsPerSecQueued: number | null;
  msPerStepSync: number | null;
  msPerStepQueued: number | null;
  hostMsPerStep: number | null;
  dispatchesPerStep: number | null;
  ourDispatchesPerStep?: number;
  submitsPerStep?: number;
  uploadsPerStep?: number;
  readsPerStep?: number;
  pipelinesCreatedWhileTiming?: number;
  liveBytesBefore?: number;
  liveBytesAfter?: number;
  check?: { loss: number; gradNorm: number; lossRef: number; gradNormRef: number; relErr: number; gradMaxRelErr: number };
  ok: boolean;
  error?: string;
}

export async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (!ensurePeers()) return 1;
  const bt: BT = await import('../src/index.js');
  const peers: Peers = await import('./peers.js');
  const pw = await import('./peers-webgpu.js');

  let gpu: WebGPUBackend;
  try {
    gpu = (await bt.ready('webgpu')) as WebGPUBackend;
  } catch (e) {
    console.error(`ERROR: the webgpu backend is not available: ${(e as Error).message}`);
    return 1;
  }
  await bt.ready('cpu');
  const info = gpu.adapterInfo;
  const software = info.isFallbackAdapter || /llvmpipe|lavapipe|swiftshader|software/i.test(`${info.description} ${info.architecture} ${info.device}`);
  const counter = pw.installDispatchCounter();
  const tf = await pw.loadTfWebGPU(gpu.device, info as unknown as GPUAdapterInfo);

  const opts: MeasureOptions = args.quick
    ? { minTimeMs: 150, warmupMs: 40, minSamples: 3, targetSampleMs: 10 }
    : { minTimeMs: 800, warmupMs: 250, minSamples: 5, targetSampleMs: 25 };
  const QUEUE_TARGET_MS = 20; // GPU matmuls queued per timed step: about this much work
  const SLOW_MS = 1000; // a warm run this slow: time two runs, not measure()
  const MLP_BATCH = 256;
  const MLP_QUEUE = 16;

  const cpuModel = os.cpus()[0]?.model?.trim() ?? 'unknown cpu';
  const ourVersion = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version as string;
  let commit: string | null = null;
  try {
    commit = execSync('git rev-parse --short HEAD', { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    if (execSync('git status --porcelain --untracked-files=no', { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim()) commit += '+dirty';
  } catch {
    /* not a git checkout */
  }
  const versions = { ...(await peers.peerVersions()), '@tensorflow/tfjs-backend-webgpu': await pw.tfjsWebGPUVersion() };
  const webgpuPkg = (() => {
    try {
      return JSON.parse(fs.readFileSync(path.join(root, 'node_modules', 'webgpu', 'package.json'), 'utf8')).version as string;
    } catch {
      return 'unknown';
    }
  })();

  console.log(`bayestape ${ourVersion}${commit ? ` (${commit})` : ''}: WebGPU bench; node ${process.version}; ${cpuModel} x${os.availableParallelism()}`);
  console.log(`adapter: ${gpu.adapterLabel}${info.isFallbackAdapter ? ' (fallback adapter)' : ''}; Dawn via npm webgpu ${webgpuPkg}; tfjs-backend-webgpu ${versions['@tensorflow/tfjs-backend-webgpu']} on the same GPUDevice`);
  if (software) console.log('NOTE: a software adapter: these timings say nothing about GPU speed.');
  console.log(`matmul sizes ${args.sizes.join(', ')}; a size is skipped when its first run is predicted to exceed ${args.maxFirstS} s\n`);

  const fmt = (v: number | null | undefined, d = 2) => (v == null || !Number.isFinite(v) ? '-' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(d));
  let errors = 0;
  const t0 = performance.now();

  // ---- matmul ----
  const matmulRows: MatmulRow[] = [];
  const lastFirst = new Map<Lib, { n: number; ms: number }>();
  for (const n of args.sizes) {
    const p = peers.matmulProblem(n);
    const A = Float32Array.from(p.A);
    const B = Float32Array.from(p.B);
    const sumRef = peers.matmulReference(p);
    // 64 sampled entries, float64 dot products of the float32-rounded inputs, and Σ|a b|
    const samples: { i: number; j: number; ref: number; scale: number }[] = [];
    const r = peers.rng(99);
    for (let s = 0; s < 64; s++) {
      const i = Math.floor(r() * n);
      const j = Math.floor(r() * n);
      let ref = 0;
      let scale = 0;
      for (let k = 0; k < n; k++) {
        const v = A[i * n + k]! * B[k * n + j]!;
        ref += v;
        scale += Math.abs(v);
      }
      samples.push({ i, j, ref, scale });
    }
    const sampleTol = Math.max(1e-5, n * 2 ** -24);
    for (const lib of LIBS) {
      const row: MatmulRow = { n, library: lib, value: null, unit: 'GFLOP/s', msPerMatmul: null, firstRunMs: null, queued: null, timing: null, ok: true };
      matmulRows.push(row);
      const prev = lastFirst.get(lib);
      if (prev && prev.ms < 0) {
        row.skipped = `skipped: a smaller size was skipped or failed`;
      } else if (prev) {
        const predicted = prev.ms * (n / prev.n) ** 3;
        if (predicted > args.maxFirstS * 1000) {
          row.skipped = `skipped: first run predicted ${(predicted / 1000).toFixed(0)} s > ${args.maxFirstS} s (n = ${prev.n} took ${(prev.ms / 1000).toFixed(1)} s)`;
        }
      }
      if (row.skipped) {
        lastFirst.set(lib, { n, ms: -1 });
        console.log(`      ${lib.padEnd(17)} matmul ${String(n).padEnd(5)} ${row.skipped}`);
        continue;
      }
      let mc: MatmulCase | null = null;
      try {
        mc = lib === 'tfjs-webgpu' ? tfMatmul(tf, n, A, B) : btMatmul(bt, lib === 'bayestape-webgpu' ? 'webgpu' : 'cpu', n, A, B);
        const m = mc;
        // first run: pipeline compilation, full readback, checks
        let ts = performance.now();
        const C0 = m.mm();
        const C = await m.readAll(C0);
        row.firstRunMs = performance.now() - ts;
        m.free(C0);
        // bayestape may be timing its tile candidates for this shape in the background (the tile
        // autotuner): let it finish, so that its work is not in this library's timing
        if (lib === 'bayestape-webgpu') await gpu.tiles.settled();
        lastFirst.set(lib, { n, ms: row.firstRunMs });
        let sum = 0;
        for (let q = 0; q < C.length; q++) sum += C[q]!;
        let worst = 0;
        for (const s of samples) worst = Math.max(worst, Math.abs(C[s.i * n + s.j]! - s.ref) / s.scale);
        const sumRelErr = Math.abs(sum - sumRef) / Math.abs(sumRef);
        row.check = { sum, sumRef, sumRelErr, sampleMaxScaledErr: worst, sampleTol };
        row.ok = C.length === n * n && sumRelErr <= 1e-3 && worst <= sampleTol;
        // a warm run (one small read) sizes the queue
        ts = performance.now();
        const C1 = m.mm();
        await m.readOne(C1);
        const warm = performance.now() - ts;
        m.free(C1);
        // the next size's first run is predicted from this warm one: a first run also pays one-off
        // costs (shader compilation, bayestape's tile tuning) that do not grow as n³
        lastFirst.set(lib, { n, ms: Math.min(row.firstRunMs, Math.max(warm, 1e-3)) });
        const queued = onGpu(lib) ? Math.max(1, Math.min(32, Math.round(QUEUE_TARGET_MS / Math.max(warm, 1e-3)))) : 1;
        const step = async () => {
          let last: unknown = null;
          for (let q = 0; q < queued; q++) {
            if (last !== null) m.free(last);
            last = m.mm();
          }
          await m.readOne(last);
          m.free(last);
        };
        let msPerStep: number;
        if (warm >= 5 * SLOW_MS) {
          msPerStep = warm; // the warm run itself (a software adapter's big sizes)
          row.timing = 'one run';
        } else if (warm >= SLOW_MS) {
          ts = performance.now();
          await step();
          const t2 = performance.now() - ts;
          msPerStep = (warm + t2) / 2;
          row.timing = 'two runs';
        } else {
          msPerStep = (await peers.measure(step, opts)).msPerIter;
          row.timing = 'measure';
        }
        row.queued = queued;
        row.msPerMatmul = msPerStep / queued;
        row.value = (2 * n ** 3) / (row.msPerMatmul * 1e6);
      } catch (e) {
        row.ok = false;
        row.error = String((e as Error)?.stack ?? e).split('\n').slice(0, 3).join(' | ');
        lastFirst.set(lib, { n, ms: -1 });
      } finally {
        try {
          mc?.dispose();
        } catch {
          /* ignore */
        }
      }
      const line = `${lib.padEnd(17)} matmul ${String(n).padEnd(5)} ${fmt(row.value).padStart(8)} GFLOP/s  ${row.msPerMatmul == null ? '' : `${row.msPerMatmul.toFixed(3)} ms`}  (first run ${row.firstRunMs == null ? '-' : (row.firstRunMs / 1000).toFixed(2)} s${row.queued && row.queued > 1 ? `, ${row.queued} queued` : ''}${row.timing === 'measure' ? '' : `, timed by ${row.timing}`})`;
      if (!row.ok) {
        errors++;
        const c = row.check;
        console.error(`ERROR ${line}  ${row.error ?? `check failed: sum rel err ${c?.sumRelErr.toExponential(2)} (tol 1e-3), sampled scaled err ${c?.sampleMaxScaledErr.toExponential(2)} (tol ${sampleTol.toExponential(2)})`}`);
      } else console.log(`      ${line}`);
    }
  }

  // ---- MLP ----
  const ref = peers.mlpReference(peers.mlpProblem(MLP_BATCH));
  const refGrads = ref.grads.flatMap((L) => [L.W, L.b]);
  const mlpRows: MlpRow[] = [];
  for (const lib of LIBS) {
    const row: MlpRow = { library: lib, stepsPerSecSync: null, stepsPerSecQueued: null, msPerStepSync: null, msPerStepQueued: null, hostMsPerStep: null, dispatchesPerStep: null, ok: true };
    mlpRows.push(row);
    let ms: MlpStep | null = null;
    try {
      ms = lib === 'tfjs-webgpu' ? tfMlp(tf, peers, MLP_BATCH) : btMlp(bt, lib === 'bayestape-webgpu' ? 'webgpu' : 'cpu', peers, MLP_BATCH);
      const m = ms;
      const s0 = m.step();
      const loss = await m.readLoss(s0);
      const grads = await m.readGrads(s0);
      m.free(s0);
      let sq = 0;
      let gradMaxRelErr = 0;
      grads.forEach((g, gi) => {
        const want = refGrads[gi]!;
        let maxRef = 0;
        let maxErr = g.length === want.length ? 0 : Infinity;
        for (let q = 0; q < want.length; q++) {
          sq += g[q]! * g[q]!;
          maxRef = Math.max(maxRef, Math.abs(want[q]!));
          maxErr = Math.max(maxErr, Math.abs(g[q]! - want[q]!));
        }
        gradMaxRelErr = Math.max(gradMaxRelErr, maxErr / maxRef);
      });
      const gradNorm = Math.sqrt(sq);
      const relErr = Math.max(Math.abs(loss - ref.loss) / Math.abs(ref.loss), Math.abs(gradNorm - ref.gradNorm) / ref.gradNorm);
      row.check = { loss, gradNorm, lossRef: ref.loss, gradNormRef: ref.gradNorm, relErr, gradMaxRelErr };
      row.ok = grads.length === refGrads.length && relErr <= 1e-4 && gradMaxRelErr <= 1e-4;

      // latency: loss read after every step
      const sync = await peers.measure(async () => {
        const s = m.step();
        await m.readLoss(s);
        m.free(s);
      }, opts);
      row.msPerStepSync = sync.msPerIter;
      row.stepsPerSecSync = 1000 / sync.msPerIter;

      // throughput: MLP_QUEUE steps queued, then the last loss read; counters over one such batch
      let hostMs = 0;
      let batches = 0;
      const queuedStep = async () => {
        const ts = performance.now();
        const held: unknown[] = [];
        for (let q = 0; q < MLP_QUEUE; q++) held.push(m.step());
        hostMs += performance.now() - ts;
        batches++;
        await m.readLoss(held[held.length - 1]);
        for (const s of held) m.free(s);
      };
      await queuedStep(); // warm
      const before = { d: counter?.count ?? 0, ...gpu.stats, mem: gpu.memory().numBytes };
      await queuedStep();
      const after = { d: counter?.count ?? 0, ...gpu.stats, mem: gpu.memory().numBytes };
      if (onGpu(lib)) {
        row.dispatchesPerStep = counter ? (after.d - before.d) / MLP_QUEUE : null;
        if (lib === 'bayestape-webgpu') {
          row.ourDispatchesPerStep = (after.dispatches - before.dispatches) / MLP_QUEUE;
          row.submitsPerStep = (after.submits - before.submits) / MLP_QUEUE;
          row.uploadsPerStep = (after.uploads - before.uploads) / MLP_QUEUE;
          row.readsPerStep = (after.reads - before.reads) / MLP_QUEUE;
        }
      }
      hostMs = 0;
      batches = 0;
      const memBefore = gpu.memory().numBytes;
      const pipesBefore = gpu.stats.pipelines;
      const q = await peers.measure(queuedStep, opts);
      row.msPerStepQueued = q.msPerIter / MLP_QUEUE;
      row.stepsPerSecQueued = 1000 / row.msPerStepQueued;
      row.hostMsPerStep = hostMs / (batches * MLP_QUEUE);
      if (lib === 'bayestape-webgpu') {
        row.pipelinesCreatedWhileTiming = gpu.stats.pipelines - pipesBefore;
        row.liveBytesBefore = memBefore;
        row.liveBytesAfter = gpu.memory().numBytes;
      }
    } catch (e) {
      row.ok = false;
      row.error = String((e as Error)?.stack ?? e).split('\n').slice(0, 3).join(' | ');
    } finally {
      try {
        ms?.dispose();
      } catch {
        /* ignore */
      }
    }
    const line =
      `${lib.padEnd(17)} mlp value+grad   ${fmt(row.stepsPerSecSync).padStart(7)} steps/s (loss read each step)  ${fmt(row.stepsPerSecQueued).padStart(7)} steps/s (${MLP_QUEUE} queued)` +
      (onGpu(lib) ? `  host ${fmt(row.hostMsPerStep, 3)} ms/step, ${fmt(row.dispatchesPerStep, 1)} dispatches/step` : '') +
      (lib === 'bayestape-webgpu' ? `, ${fmt(row.submitsPerStep, 2)} submits/step, ${fmt(row.uploadsPerStep, 2)} uploads/step` : '');
    if (!row.ok) {
      errors++;
      const c = row.check;
      console.error(`ERROR ${line}  ${row.error ?? `check failed: loss/gradNorm rel err ${c?.relErr.toExponential(2)} (tol 1e-4), grad entries ${c?.gradMaxRelErr.toExponential(2)} (tol 1e-4)`}`);
    } else console.log(`      ${line}`);
  }
  bt.setBackend('webgpu');
  const totalS = (performance.now() - t0) / 1000;

  // ---- targets (the WebGPU issue; meaningful on a real GPU only) ----
  const mmRow = (n: number, lib: Lib) => matmulRows.find((x) => x.n === n && x.library === lib);
  const ours4096 = mmRow(4096, 'bayestape-webgpu');
  const tf4096 = mmRow(4096, 'tfjs-webgpu');
  const targets = [
    { name: 'matmul 4096 float32 on WebGPU, GFLOP/s (H100 target)', ratio: false, value: ours4096?.value ?? null, goal: 20000 },
    { name: 'matmul 4096 float32: bayestape-webgpu / tfjs-webgpu', ratio: true, value: ours4096?.value != null && tf4096?.value ? ours4096.value / tf4096.value : null, goal: 2 },
  ].map((t) => ({ ...t, met: t.value != null && t.value >= t.goal }));

  // ---- markdown ----
  const date = new Date().toISOString();
  const x = (v: number | null | undefined) => (v == null ? '—' : `${v >= 10 ? v.toFixed(0) : v.toFixed(2)}×`);
  const mcell = (r: MatmulRow | undefined) => (r == null ? 'n/a' : r.skipped ? 'skipped' : r.error ? 'error' : `${fmt(r.value)}${r.ok ? '' : ' ✗'}`);
  const md: string[] = [];
  md.push(
    `Measured ${date.slice(0, 10)} on adapter **${gpu.adapterLabel}**${info.isFallbackAdapter ? ' (a fallback adapter)' : ''} through Dawn (npm \`webgpu\` ${webgpuPkg}), ` +
      `host ${cpuModel} (${os.availableParallelism()} threads), Node ${process.version}${args.quick ? ', **quick (smoke) timings**' : ''}. ` +
      `tfjs-backend-webgpu ${versions['@tensorflow/tfjs-backend-webgpu']} runs on the same GPUDevice as bayestape; bayestape-cpu is our CPU backend in float32, in the same process.`,
    '',
  );
  if (software) {
    md.push(
      `> **These timings mean nothing for GPU speed.** The adapter is a software rasteriser (${info.description || 'Mesa lavapipe'}) running the WGSL kernels on ${os.availableParallelism()} CPU threads. ` +
        'This run checks that the bench and every kernel work and agree with the float64 references; the speed targets of the WebGPU issue (H100: matmul 4096 ≥ 20 TFLOP/s and ≥ 2× tfjs-webgpu) can only be judged on a real GPU.',
      '',
    );
  }
  md.push(
    `**Matmul** (n × n @ n × n, float32, GFLOP/s). GPU: several matmuls queued per timed step, one element of the last read (the full result is read once and checked: sum vs float64, 64 sampled entries within n·2⁻²⁴ of Σ|a·b|). ` +
      `Sizes whose first run was predicted to exceed ${args.maxFirstS} s are skipped.`,
    '',
    '| n | bayestape-webgpu | tfjs-webgpu | bayestape-cpu (f32) | webgpu vs tfjs-webgpu | first run, s (ours / tfjs) |',
    '|---:|---:|---:|---:|---:|---|',
  );
  for (const n of args.sizes) {
    const o = mmRow(n, 'bayestape-webgpu');
    const t = mmRow(n, 'tfjs-webgpu');
    const c = mmRow(n, 'bayestape-cpu');
    const fr = (r: MatmulRow | undefined) => (r?.firstRunMs == null ? '—' : (r.firstRunMs / 1000).toFixed(2));
    md.push(`| ${n} | **${mcell(o)}** | ${mcell(t)} | ${mcell(c)} | ${x(o?.value != null && t?.value ? o.value / t.value : null)} | ${fr(o)} / ${fr(t)} |`);
  }
  const skippedNotes = matmulRows.filter((r) => r.skipped).map((r) => `${r.library} n = ${r.n}: ${r.skipped!.replace(/^skipped: /, '')}`);
  if (skippedNotes.length) md.push('', `Skipped: ${skippedNotes.join('; ')}.`);
  const fewRuns = matmulRows.filter((r) => r.timing === 'one run' || r.timing === 'two runs').map((r) => `${r.library} n = ${r.n} (${r.timing})`);
  if (fewRuns.length) md.push('', `Timed from one or two warm runs (a warm run ≥ ${SLOW_MS / 1000} s; ≥ ${(5 * SLOW_MS) / 1000} s: one): ${fewRuns.join(', ')}.`);
  md.push(
    '',
    `**MLP ${peers.MLP_SIZES.join('-')} (tanh), value + gradient, batch ${MLP_BATCH}, float32** (steps/s). *sync*: the loss read after every step (one GPU round trip per step, as bench/engine.ts); ` +
      `*queued*: ${MLP_QUEUE} steps enqueued, then the last loss read. *host*: JS time to enqueue one step. Dispatches counted on GPUComputePassEncoder for both libraries.`,
    '',
    '| library | steps/s sync | steps/s queued | host ms/step | dispatches/step | submits/step | uploads/step |',
    '|---|---:|---:|---:|---:|---:|---:|',
  );
  for (const r of mlpRows) {
    const bad = r.error ? ' (error)' : r.ok ? '' : ' ✗';
    const g = onGpu(r.library);
    md.push(
      `| ${r.library} | **${fmt(r.stepsPerSecSync)}**${bad} | ${fmt(r.stepsPerSecQueued)} | ${g ? fmt(r.hostMsPerStep, 3) : '—'} | ${g ? fmt(r.dispatchesPerStep, 1) : '—'} | ${r.submitsPerStep == null ? '—' : fmt(r.submitsPerStep, 2)} | ${r.uploadsPerStep == null ? '—' : fmt(r.uploadsPerStep, 2)} |`,
    );
  }
  const ourMlp = mlpRows.find((r) => r.library === 'bayestape-webgpu');
  if (ourMlp?.liveBytesBefore != null) {
    md.push(
      '',
      `bayestape-webgpu during the queued timing: live GPU bytes ${ourMlp.liveBytesBefore} → ${ourMlp.liveBytesAfter}, pipelines created ${ourMlp.pipelinesCreatedWhileTiming}` +
        (ourMlp.ourDispatchesPerStep != null ? `, its own dispatch counter ${fmt(ourMlp.ourDispatchesPerStep, 1)}/step` : '') +
        '.',
    );
  }
  md.push('', '**Targets** (WebGPU issue; on a real GPU only)', '', '| target | value | goal | met |', '|---|---:|---:|:---:|');
  for (const t of targets) {
    md.push(`| ${t.name} | ${t.value == null ? 'not measured' : t.ratio ? x(t.value) : fmt(t.value)} | ${t.ratio ? `≥ ${t.goal}×` : `≥ ${t.goal}`} | ${software ? 'n/a (software adapter)' : t.met ? '✓' : '✗'} |`);
  }
  md.push(
    '',
    '<sub>Generated by `npm run bench -- --backend webgpu` (bench/webgpu.ts). On a machine with a GPU: `npm ci && npm install --prefix bench && npm run bench -- --backend webgpu` ' +
      '(Dawn needs the GPU\'s Vulkan driver in Linux; choose an adapter with `BAYESTAPE_WEBGPU_FLAGS=backend=vulkan,adapter=<name>` if several are present).</sub>',
    '',
  );

  // ---- output ----
  fs.mkdirSync(args.outDir, { recursive: true });
  const stem = args.quick ? 'engine-webgpu-quick' : 'engine-webgpu';
  const json = {
    meta: {
      date,
      quick: args.quick,
      backend: 'webgpu',
      adapter: { ...info, label: gpu.adapterLabel, software },
      limits: {
        maxStorageBufferBindingSize: gpu.device.limits.maxStorageBufferBindingSize,
        maxComputeWorkgroupStorageSize: gpu.device.limits.maxComputeWorkgroupStorageSize,
        maxComputeInvocationsPerWorkgroup: gpu.device.limits.maxComputeInvocationsPerWorkgroup,
      },
      note: software ? 'software adapter: the timings say nothing about GPU speed' : undefined,
      bayestape: { version: ourVersion, commit },
      node: process.version,
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      cpu: { model: cpuModel, cores: os.cpus().length, availableParallelism: os.availableParallelism() },
      dawn: `npm webgpu ${webgpuPkg}`,
      peers: versions,
      timing: { ...opts, queueTargetMs: QUEUE_TARGET_MS, slowMs: SLOW_MS, maxFirstS: args.maxFirstS, mlpQueue: MLP_QUEUE },
      totalSeconds: +totalS.toFixed(1),
    },
    targets,
    matmul: matmulRows,
    mlp: mlpRows,
  };
  const written = [path.join(args.outDir, `${stem}.json`), path.join(args.outDir, `${stem}.md`)];
  fs.writeFileSync(written[0]!, JSON.stringify(json, null, 2) + '\n');
  fs.writeFileSync(written[1]!, md.join('\n'));
  console.log(`\n${md.join('\n')}`);
  console.log(`wrote ${written.map((w) => path.relative(process.cwd(), w)).join(', ')} (${totalS.toFixed(0)} s)`);
  if (errors) console.error(`\n${errors} ERROR(s): see the lines marked ERROR above.`);

  // ---- cleanup: tfjs' buffers, the counter, then our device (Node then has nothing keeping it alive) ----
  await pw.disposeTfWebGPU();
  counter?.uninstall();
  gpu.dispose();
  return errors ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const code = await main(process.argv.slice(2));
  process.exit(code);
}
