/**
 * Peer libraries for the engine benchmark: TensorFlow.js (pure-JS CPU backend)
 * and jax-js (Wasm backend, eager and jit).
 *
 * The peers are dev dependencies of the bench only (bench/package.json);
 * install them with `npm install --prefix bench`. They are loaded lazily, so
 * importing this module costs nothing until a peer function is called.
 *
 * Every function builds the same deterministic problem (see `matmulProblem`,
 * `mlpProblem`, `jacobianProblem`, also exported so our engine can run the
 * identical workload), times it with `measure` (exported too, so every
 * library is timed the same way), and returns a `PeerResult`. `check` holds a
 * number computed by the peer from its own result (matmul: sum of C; MLP: loss
 * and gradient 2-norm; Jacobian: sum of J), to be compared with the float64
 * plain-JS references `matmulReference`, `mlpReference`, `jacobianReference`.
 */
import { rng } from '../test/seeded.js';
import os from 'node:os';

// ---------------------------------------------------------------------------
// Result type and timing harness
// ---------------------------------------------------------------------------

export interface PeerResult {
  peer: string;
  variant?: string;
  value: number | null;
  unit: string;
  note?: string;
  /** Median time of one iteration, in milliseconds (null when not measured), by the timer in use. */
  msPerIter?: number | null;
  /** Median wall time of one iteration, in milliseconds (when measured). */
  wallMsPerIter?: number;
  /** Correctness probe computed from the peer's own output (see module doc). */
  check?: number[];
}

export interface MeasureOptions {
  /** Keep sampling until this much time has been spent in timed samples (default 1500 ms). */
  minTimeMs?: number;
  /** Warm-up time before timing starts (default 300 ms, and at least 2 calls). */
  warmupMs?: number;
  /** At least this many timed samples (default 5). */
  minSamples?: number;
  /** Each sample runs enough iterations to last about this long (default 25 ms). */
  targetSampleMs?: number;
  /**
   * What `msPerIter` measures: 'wall' (default) or 'cpu', this process's CPU time
   * (process.cpuUsage: every thread, so a matmul helper thread counts too). On a shared, loaded
   * machine wall time mostly measures the other processes; CPU time does not.
   */
  timer?: 'wall' | 'cpu';
}

export interface Measurement {
  /** Median over samples of the per-iteration time, in ms, by `opts.timer`. */
  msPerIter: number;
  /** Median per-iteration wall time, in ms (= msPerIter with the wall timer). */
  wallMsPerIter: number;
  /** Median per-iteration CPU time of this process, in ms. */
  cpuMsPerIter: number;
  samples: number;
  iterations: number;
}

/** CPU time of this process (all threads), in ms. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const median = (xs: number[]): number => {
  const a = xs.slice().sort((x, y) => x - y);
  const m = a.length;
  return m % 2 ? a[(m - 1) / 2]! : (a[m / 2 - 1]! + a[m / 2]!) / 2;
};

/**
 * Time `step` robustly: warm up (>= warmupMs and >= 2 calls), then take
 * samples of `inner` back-to-back iterations (inner chosen so a sample lasts
 * about targetSampleMs) until >= minTimeMs of samples and >= minSamples; return
 * the median per-iteration time. `step` must force its result to be computed.
 */
export async function measure(
  step: () => unknown | Promise<unknown>,
  opts: MeasureOptions = {},
): Promise<Measurement> {
  const minTimeMs = opts.minTimeMs ?? 1500;
  const warmupMs = opts.warmupMs ?? 300;
  const minSamples = opts.minSamples ?? 5;
  const targetSampleMs = opts.targetSampleMs ?? 25;

  let warmCalls = 0;
  let last = Infinity;
  const w0 = performance.now();
  while (warmCalls < 2 || performance.now() - w0 < warmupMs) {
    const t = performance.now();
    await step();
    last = performance.now() - t;
    warmCalls++;
  }
  const inner = Math.max(1, Math.round(targetSampleMs / Math.max(last, 1e-3)));

  const perIter: number[] = [];
  const cpuPerIter: number[] = [];
  let total = 0;
  // Hard stop at 4x minTimeMs (of wall time) so one very slow case cannot run away.
  while ((total < minTimeMs || perIter.length < minSamples) && !(total > 4 * minTimeMs && perIter.length >= 3)) {
    const c = cpuMs();
    const t = performance.now();
    for (let i = 0; i < inner; i++) await step();
    const dt = performance.now() - t;
    cpuPerIter.push((cpuMs() - c) / inner);
    total += dt;
    perIter.push(dt / inner);
  }
  const wall = median(perIter);
  const cpu = median(cpuPerIter);
  return { msPerIter: opts.timer === 'cpu' ? cpu : wall, wallMsPerIter: wall, cpuMsPerIter: cpu, samples: perIter.length, iterations: perIter.length * inner };
}

// ---------------------------------------------------------------------------
// Deterministic problems (shared with our engine) and float64 references
// ---------------------------------------------------------------------------

/** mulberry32, uniform in [0, 1): the tests' one seeded generator (the same sequences). */
export { rng };

function uniform(r: () => number, size: number, lo: number, hi: number): Float64Array {
  const out = new Float64Array(size);
  for (let i = 0; i < size; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/** A, B: [n, n] row-major, uniform(-1, 1), seed 1. */
export function matmulProblem(n: number): { n: number; A: Float64Array; B: Float64Array } {
  const r = rng(1);
  return { n, A: uniform(r, n * n, -1, 1), B: uniform(r, n * n, -1, 1) };
}

/** Sum of the entries of A @ B (float64), the reference for matmul `check`. */
export function matmulReference(p: { n: number; A: Float64Array; B: Float64Array }): number {
  // sum_ij (AB)_ij = sum_k (sum_i A_ik) (sum_j B_kj)
  const { n, A, B } = p;
  let s = 0;
  for (let k = 0; k < n; k++) {
    let ca = 0;
    let rb = 0;
    for (let i = 0; i < n; i++) ca += A[i * n + k]!;
    for (let j = 0; j < n; j++) rb += B[k * n + j]!;
    s += ca * rb;
  }
  return s;
}

export const MLP_SIZES = [32, 128, 128, 2] as const;

export interface MlpLayer {
  /** [fanIn, fanOut] row-major, so layer output = h @ W + b. */
  W: Float64Array;
  /** [fanOut] */
  b: Float64Array;
  fanIn: number;
  fanOut: number;
}

export interface MlpProblem {
  batch: number;
  sizes: readonly number[];
  layers: MlpLayer[];
  /** [batch, 32] row-major */
  X: Float64Array;
  /** [batch, 2] row-major */
  Y: Float64Array;
}

/**
 * MLP 32-128-128-2, tanh hidden, linear output; loss = mean((mlp(X) - Y)^2)
 * over all batch*2 entries. W ~ U(-g, g) with g = sqrt(6 / (fanIn + fanOut))
 * (Glorot uniform), b ~ U(-0.1, 0.1), X ~ U(-1, 1), Y ~ U(-1, 1); seed 42.
 */
export function mlpProblem(batch: number): MlpProblem {
  const r = rng(42);
  const layers: MlpLayer[] = [];
  for (let l = 0; l + 1 < MLP_SIZES.length; l++) {
    const fanIn = MLP_SIZES[l]!;
    const fanOut = MLP_SIZES[l + 1]!;
    const g = Math.sqrt(6 / (fanIn + fanOut));
    layers.push({ W: uniform(r, fanIn * fanOut, -g, g), b: uniform(r, fanOut, -0.1, 0.1), fanIn, fanOut });
  }
  const X = uniform(r, batch * MLP_SIZES[0], -1, 1);
  const Y = uniform(r, batch * MLP_SIZES[MLP_SIZES.length - 1]!, -1, 1);
  return { batch, sizes: MLP_SIZES, layers, X, Y };
}

/** Float64 plain-JS loss and gradient (same layout as the layers). */
export function mlpReference(p: MlpProblem): { loss: number; gradNorm: number; grads: MlpLayer[] } {
  const B = p.batch;
  const acts: Float64Array[] = [p.X]; // post-activation inputs of each layer
  let h = p.X;
  p.layers.forEach((L, li) => {
    const z = new Float64Array(B * L.fanOut);
    for (let i = 0; i < B; i++)
      for (let j = 0; j < L.fanOut; j++) {
        let s = L.b[j]!;
        for (let k = 0; k < L.fanIn; k++) s += h[i * L.fanIn + k]! * L.W[k * L.fanOut + j]!;
        z[i * L.fanOut + j] = li + 1 < p.layers.length ? Math.tanh(s) : s;
      }
    h = z;
    acts.push(z);
  });
  const out = h;
  const m = out.length;
  let loss = 0;
  let dh = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const d = out[i]! - p.Y[i]!;
    loss += d * d;
    dh[i] = (2 * d) / m;
  }
  loss /= m;
  const grads: MlpLayer[] = p.layers.map((L) => ({ ...L, W: new Float64Array(L.W.length), b: new Float64Array(L.b.length) }));
  for (let li = p.layers.length - 1; li >= 0; li--) {
    const L = p.layers[li]!;
    const G = grads[li]!;
    const a = acts[li]!;
    if (li + 1 < p.layers.length) {
      const y = acts[li + 1]!; // tanh output
      for (let i = 0; i < dh.length; i++) dh[i] = dh[i]! * (1 - y[i]! * y[i]!);
    }
    const dPrev = new Float64Array(B * L.fanIn);
    for (let i = 0; i < B; i++)
      for (let j = 0; j < L.fanOut; j++) {
        const g = dh[i * L.fanOut + j]!;
        G.b[j] = G.b[j]! + g;
        for (let k = 0; k < L.fanIn; k++) {
          G.W[k * L.fanOut + j] = G.W[k * L.fanOut + j]! + a[i * L.fanIn + k]! * g;
          dPrev[i * L.fanIn + k] = dPrev[i * L.fanIn + k]! + L.W[k * L.fanOut + j]! * g;
        }
      }
    dh = dPrev;
  }
  let sq = 0;
  for (const G of grads) {
    for (const v of G.W) sq += v * v;
    for (const v of G.b) sq += v * v;
  }
  return { loss, gradNorm: Math.sqrt(sq), grads };
}

export interface JacobianProblem {
  n: number;
  /** [n, n] row-major, U(-1, 1) / sqrt(n) */
  W: Float64Array;
  /** [n], U(-0.5, 0.5) */
  b: Float64Array;
  /** [n], U(-1, 1): the point where the Jacobian is evaluated */
  x: Float64Array;
}

/** f(x) = tanh(W @ x + b) + 0.1 * sin(x), f: R^n -> R^n; seed 7. */
export function jacobianProblem(n: number): JacobianProblem {
  const r = rng(7);
  const s = 1 / Math.sqrt(n);
  return { n, W: uniform(r, n * n, -s, s), b: uniform(r, n, -0.5, 0.5), x: uniform(r, n, -1, 1) };
}

/** Float64 Jacobian J[i][j] = dF_i/dx_j (row-major [n, n]) and its entry sum. */
export function jacobianReference(p: JacobianProblem): { J: Float64Array; sum: number } {
  const { n, W, b, x } = p;
  const J = new Float64Array(n * n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    let z = b[i]!;
    for (let j = 0; j < n; j++) z += W[i * n + j]! * x[j]!;
    const d = 1 - Math.tanh(z) ** 2;
    for (let j = 0; j < n; j++) {
      const v = d * W[i * n + j]! + (i === j ? 0.1 * Math.cos(x[j]!) : 0);
      J[i * n + j] = v;
      sum += v;
    }
  }
  return { J, sum };
}

/** Σ a (used by the result checks of every library). */
export function sumOf(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

/** The 2-norm of several arrays taken together (gradient checks). */
export function norm2(arrays: ArrayLike<number>[]): number {
  let s = 0;
  for (const a of arrays) for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return Math.sqrt(s);
}

// ---------------------------------------------------------------------------
// Lazy loaders
// ---------------------------------------------------------------------------

type TF = typeof import('@tensorflow/tfjs');
type TfTensor = import('@tensorflow/tfjs').Tensor;
type TfTensor2D = import('@tensorflow/tfjs').Tensor2D;
type Jax = typeof import('@jax-js/jax');
type JArray = import('@jax-js/jax').Array;

let tfPromise: Promise<TF> | null = null;

/**
 * TensorFlow.js on its pure-JS CPU backend (tfjs-backend-cpu; never
 * tfjs-node), in prod mode. Loaded through the union package
 * `@tensorflow/tfjs` because tfjs-core's Node bundle registers no gradient
 * functions (`tf.grad` fails with "gradient function not found for Mean");
 * the union bundle registers them. Its WebGL backend cannot start in Node and
 * is not used.
 */
export function loadTf(): Promise<TF> {
  tfPromise ??= (async () => {
    const tf = await import('@tensorflow/tfjs');
    // Prod mode skips debug checks and silences the "install tfjs-node" banner.
    tf.enableProdMode();
    if (!(await tf.setBackend('cpu'))) throw new Error('tfjs: cpu backend unavailable');
    await tf.ready();
    return tf;
  })();
  return tfPromise;
}

/**
 * Globals jax-js 0.1.25 touches that Node 20 lacks:
 * - `navigator.userAgent`: read without a guard by the Wasm kernel scheduler
 *   (`/Mobi|Android/.test(navigator.userAgent)` while optimising reduction
 *   kernels: any matmul/sum/mean), so the first such kernel throws
 *   `ReferenceError: navigator is not defined`. `navigator.gpu` is read
 *   without a guard by `init()` / `init('webgpu')`; leaving it undefined makes
 *   WebGPU report unavailable. `navigator.hardwareConcurrency` sizes the Wasm
 *   worker pool (guarded, but the pool is only built when SharedArrayBuffer
 *   *and* a global `Worker` exist, and Node has no global Worker, so jax-js
 *   Wasm runs single-threaded in Node).
 * - `Float16Array`: `np.array(typedArray)` does `data instanceof Float16Array`,
 *   a ReferenceError on Node < 24. A constructor that throws keeps
 *   `instanceof` false; float16 arrays are simply unavailable.
 * Node >= 21 has a global `navigator` (userAgent "Node.js/..."), so the stub
 * is installed only when missing. It must be in place before the first kernel
 * runs; we install it before the (dynamic) import to be safe.
 */
export function installJaxNodeStubs(): void {
  const g = globalThis as Record<string, unknown>;
  if (typeof g.navigator === 'undefined') {
    Object.defineProperty(globalThis, 'navigator', {
      value: { userAgent: `Node.js/${process.versions.node}`, hardwareConcurrency: os.availableParallelism() },
      configurable: true,
      writable: true,
    });
  }
  if (typeof g.Float16Array === 'undefined') {
    g.Float16Array = class Float16Array {
      constructor() {
        throw new Error('Float16Array is not available in this Node version');
      }
    };
  }
}

let jaxPromise: Promise<Jax> | null = null;

/** jax-js with the Wasm device as default. */
export function loadJax(): Promise<Jax> {
  jaxPromise ??= (async () => {
    installJaxNodeStubs();
    const jax = await import('@jax-js/jax');
    const devs = await jax.init('wasm');
    if (!devs.includes('wasm')) throw new Error(`jax-js: wasm device unavailable (have ${devs.join(', ')})`);
    jax.defaultDevice('wasm');
    return jax;
  })();
  return jaxPromise;
}

export async function peerVersions(): Promise<Record<string, string>> {
  const { createRequire } = await import('node:module');
  const req = createRequire(import.meta.url);
  const out: Record<string, string> = {};
  for (const name of ['@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu', '@jax-js/jax']) {
    try {
      // package.json is not exported by every package; read it from disk.
      const fs = await import('node:fs');
      const path = await import('node:path');
      let dir = path.dirname(req.resolve(name));
      while (!fs.existsSync(path.join(dir, 'package.json')) || JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name !== name) {
        const up = path.dirname(dir);
        if (up === dir) throw new Error('not found');
        dir = up;
      }
      out[name] = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
    } catch {
      out[name] = 'not installed';
    }
  }
  return out;
}

const f32 = (a: Float64Array) => Float32Array.from(a);

// ---------------------------------------------------------------------------
// Matmul: GFLOP/s = 2 n^3 / t
// ---------------------------------------------------------------------------

export async function tfjsMatmul(n: number, dtype: 'float32' | 'float64', opts?: MeasureOptions): Promise<PeerResult> {
  const peer = 'tfjs-cpu';
  const variant = `matmul ${n} ${dtype}`;
  if (dtype === 'float64') return { peer, variant, value: null, unit: 'GFLOP/s', note: 'no float64' };
  const tf = await loadTf();
  const p = matmulProblem(n);
  const A = tf.tensor2d(f32(p.A), [n, n], 'float32');
  const B = tf.tensor2d(f32(p.B), [n, n], 'float32');
  try {
    const C0 = tf.matMul(A, B);
    const check = [sumOf(await C0.data())];
    C0.dispose();
    const m = await measure(async () => {
      const C = tf.matMul(A, B); // the CPU backend computes synchronously
      await C.data(); // no copy on the CPU backend
      C.dispose();
    }, opts);
    return { peer, variant, value: (2 * n ** 3) / (m.msPerIter * 1e6), unit: 'GFLOP/s', msPerIter: m.msPerIter, wallMsPerIter: m.wallMsPerIter, check };
  } finally {
    A.dispose();
    B.dispose();
  }
}

export async function jaxjsMatmul(
  n: number,
  dtype: 'float32' | 'float64',
  jit: boolean,
  opts?: MeasureOptions,
): Promise<PeerResult> {
  const peer = jit ? 'jax-js-wasm-jit' : 'jax-js-wasm';
  const variant = `matmul ${n} ${dtype}`;
  const jax = await loadJax();
  const np = jax.numpy;
  const p = matmulProblem(n);
  const mk = (a: Float64Array) => (dtype === 'float64' ? np.array(a) : np.array(f32(a))).reshape([n, n]);
  const A = mk(p.A);
  const B = mk(p.B);
  const plain = (a: JArray, b: JArray) => np.matmul(a, b);
  const jitted = jit ? jax.jit(plain) : null;
  const mm = jitted ?? plain;
  try {
    const C0 = mm(A.ref, B.ref);
    if (C0.dtype !== dtype) throw new Error(`jax-js matmul produced ${C0.dtype}, wanted ${dtype}`);
    const check = [sumOf(await C0.data())]; // data() consumes C0
    const m = await measure(async () => {
      const C = mm(A.ref, B.ref);
      await C.blockUntilReady();
      C.dispose();
    }, opts);
    const note = dtype === 'float64' ? 'float64 kernels are not SIMD-tiled on Wasm' : undefined;
    return { peer, variant, value: (2 * n ** 3) / (m.msPerIter * 1e6), unit: 'GFLOP/s', msPerIter: m.msPerIter, wallMsPerIter: m.wallMsPerIter, check, ...(note ? { note } : {}) };
  } finally {
    A.dispose();
    B.dispose();
    jitted?.dispose();
  }
}

// ---------------------------------------------------------------------------
// MLP value-and-grad: steps/s
// ---------------------------------------------------------------------------

export async function tfjsMlpValueAndGrad(batch: number, opts?: MeasureOptions): Promise<PeerResult> {
  const peer = 'tfjs-cpu';
  const variant = `mlp ${MLP_SIZES.join('-')} batch ${batch} float32`;
  const tf = await loadTf();
  const p = mlpProblem(batch);
  const params = p.layers.flatMap((L) => [tf.tensor2d(f32(L.W), [L.fanIn, L.fanOut]), tf.tensor1d(f32(L.b))]);
  const X = tf.tensor2d(f32(p.X), [batch, MLP_SIZES[0]]);
  const Y = tf.tensor2d(f32(p.Y), [batch, MLP_SIZES[MLP_SIZES.length - 1]!]);
  const nl = p.layers.length;
  const loss = (...ps: TfTensor[]) => {
    let h: TfTensor = X;
    for (let l = 0; l < nl; l++) {
      const z = tf.add(tf.matMul(h as TfTensor2D, ps[2 * l] as TfTensor2D), ps[2 * l + 1]!);
      h = l + 1 < nl ? tf.tanh(z) : z;
    }
    return tf.mean(tf.square(tf.sub(h, Y))) as import('@tensorflow/tfjs').Scalar;
  };
  const vg = tf.valueAndGrads(loss);
  try {
    const first = vg(params);
    const lossV = (await first.value.data())[0]!;
    const gradNorm = norm2(await Promise.all(first.grads.map((g) => g.data())));
    first.value.dispose();
    tf.dispose(first.grads);
    const m = await measure(async () => {
      const { value, grads } = vg(params); // CPU backend: grads are computed eagerly here
      await value.data();
      value.dispose();
      tf.dispose(grads);
    }, opts);
    return { peer, variant, value: 1000 / m.msPerIter, unit: 'steps/s', msPerIter: m.msPerIter, wallMsPerIter: m.wallMsPerIter, check: [lossV, gradNorm] };
  } finally {
    tf.dispose([...params, X, Y]);
  }
}

type JaxParams = { W: JArray; b: JArray }[];

export async function jaxjsMlpValueAndGrad(batch: number, jit: boolean, opts?: MeasureOptions): Promise<PeerResult> {
  const peer = jit ? 'jax-js-wasm-jit' : 'jax-js-wasm';
  const variant = `mlp ${MLP_SIZES.join('-')} batch ${batch} float32`;
  const jax = await loadJax();
  const np = jax.numpy;
  const p = mlpProblem(batch);
  const params: JaxParams = p.layers.map((L) => ({ W: np.array(f32(L.W)).reshape([L.fanIn, L.fanOut]), b: np.array(f32(L.b)) }));
  const X = np.array(f32(p.X)).reshape([batch, MLP_SIZES[0]]);
  const Y = np.array(f32(p.Y)).reshape([batch, MLP_SIZES[MLP_SIZES.length - 1]!]);
  // Ownership: every argument is consumed exactly once.
  const loss = (ps: JaxParams, x: JArray, y: JArray): JArray => {
    let h = x;
    ps.forEach((L, l) => {
      const z = np.matmul(h, L.W).add(L.b);
      h = l + 1 < ps.length ? np.tanh(z) : z;
    });
    return np.mean(np.square(h.sub(y)));
  };
  const vgRaw = jax.valueAndGrad(loss);
  const jitted = jit ? jax.jit(vgRaw) : null;
  const vg = jitted ?? vgRaw;
  try {
    const [v0, g0] = vg(jax.tree.ref(params), X.ref, Y.ref);
    const lossV = (await v0.data())[0]!;
    const gradNorm = norm2(await Promise.all(jax.tree.leaves(g0).map((g: JArray) => g.data())));
    const m = await measure(async () => {
      const [v, g] = vg(jax.tree.ref(params), X.ref, Y.ref);
      await v.data(); // loss to host (consumes v)
      await jax.blockUntilReady(g); // gradients materialised
      jax.tree.dispose(g);
    }, opts);
    return { peer, variant, value: 1000 / m.msPerIter, unit: 'steps/s', msPerIter: m.msPerIter, wallMsPerIter: m.wallMsPerIter, check: [lossV, gradNorm] };
  } finally {
    jax.tree.dispose(params);
    X.dispose();
    Y.dispose();
    jitted?.dispose();
  }
}

// ---------------------------------------------------------------------------
// Jacobian of f(x) = tanh(W x + b) + 0.1 sin(x): jacobians/s
// ---------------------------------------------------------------------------

/**
 * tfjs has no jacobian and no forward mode. 'rev' is emulated with
 * ceil(n / chunk) batched VJP passes: f is applied to `chunk` copies of x
 * (rows of a [chunk, n] matrix) and pulled back with one-hot cotangent rows,
 * giving `chunk` rows of J per pass (chunk = n: one pass). 'fwd' returns null.
 */
export async function tfjsJacobian(n: number, chunk: number, mode: 'rev' | 'fwd', opts?: MeasureOptions): Promise<PeerResult> {
  const peer = 'tfjs-cpu';
  const variant = `jacobian ${mode} n=${n} chunk=${chunk} float32`;
  if (mode === 'fwd') return { peer, variant, value: null, unit: 'jacobians/s', note: 'no forward-mode AD in tfjs' };
  const tf = await loadTf();
  const p = jacobianProblem(n);
  const k = Math.max(1, Math.min(chunk, n));
  const W = tf.tensor2d(f32(p.W), [n, n]);
  const WT = tf.transpose(W); // rows of X @ W^T are W x
  W.dispose();
  const b = tf.tensor1d(f32(p.b));
  const xs = tf.tensor2d(f32(p.x), [1, n]);
  const passes = Math.ceil(n / k);
  // One-hot cotangents for each pass (the last pass may be partial: pad rows are zero).
  const cot: TfTensor2D[] = [];
  for (let q = 0; q < passes; q++) {
    const e = new Float32Array(k * n);
    for (let r = 0; r < k && q * k + r < n; r++) e[r * n + q * k + r] = 1;
    cot.push(tf.tensor2d(e, [k, n]));
  }
  const Xk = tf.tile(xs, [k, 1]) as TfTensor2D;
  const f = (X: TfTensor) =>
    tf.add(tf.tanh(tf.add(tf.matMul(X as TfTensor2D, WT), b)), tf.mul(0.1, tf.sin(X)));
  const g = tf.grad(f);
  const jac = () =>
    tf.tidy(() => {
      const rows = cot.map((dy) => g(Xk, dy));
      const J = passes === 1 ? rows[0]! : tf.concat(rows, 0);
      return k * passes === n ? J : tf.slice(J, [0, 0], [n, n]);
    });
  try {
    const J0 = jac();
    const check = [sumOf(await J0.data())];
    J0.dispose();
    const m = await measure(async () => {
      const J = jac();
      await J.data();
      J.dispose();
    }, opts);
    return {
      peer,
      variant,
      value: 1000 / m.msPerIter,
      unit: 'jacobians/s',
      msPerIter: m.msPerIter, wallMsPerIter: m.wallMsPerIter,
      check,
      note: `emulated: ${passes} batched VJP pass(es) of ${k} rows`,
    };
  } finally {
    tf.dispose([WT, b, xs, Xk, ...cot]);
  }
}

export async function jaxjsJacobian(n: number, mode: 'rev' | 'fwd', jit: boolean, opts?: MeasureOptions): Promise<PeerResult> {
  const peer = jit ? 'jax-js-wasm-jit' : 'jax-js-wasm';
  const variant = `jacobian ${mode} n=${n} float32`;
  const jax = await loadJax();
  const np = jax.numpy;
  const p = jacobianProblem(n);
  const W = np.array(f32(p.W)).reshape([n, n]);
  const b = np.array(f32(p.b));
  const x = np.array(f32(p.x));
  // W and b are closed over: take a new reference on each use.
  const f = (v: JArray): JArray => np.tanh(np.matmul(W.ref, v.ref).add(b.ref)).add(np.sin(v).mul(0.1));
  const jf = mode === 'rev' ? jax.jacrev(f) : jax.jacfwd(f);
  const jitted = jit ? jax.jit(jf) : null;
  const jac = jitted ?? jf;
  try {
    const J0 = jac(x.ref);
    const check = [sumOf(await J0.data())];
    const m = await measure(async () => {
      const J = jac(x.ref);
      await J.blockUntilReady();
      J.dispose();
    }, opts);
    return { peer, variant, value: 1000 / m.msPerIter, unit: 'jacobians/s', msPerIter: m.msPerIter, wallMsPerIter: m.wallMsPerIter, check };
  } finally {
    jitted?.dispose();
    W.dispose();
    b.dispose();
    x.dispose();
  }
}
