/**
 * Browser entry of the headless-Chromium test (bundled by esbuild for platform 'browser'; see
 * webgpu-browser.test.ts). It runs checks in the page and leaves the JSON result in
 * `window.__bayestape`, a promise the Node side awaits over the DevTools protocol. No Node APIs:
 * in the page `process` does not exist, WebGPU comes from `navigator.gpu`, and the CPU backend
 * must stay on the calling thread (no worker_threads).
 *
 * Values that Node must reproduce (the CPU draw of random.normal(key(7))) come back as plain
 * arrays; every other comparison (WebGPU vs CPU in the same page) is decided here.
 */
import * as bt from '../../src/index.js';
import type { WebGPUBackend } from '../../src/backends/webgpu/index.js';
import { rng } from '../seeded.js';

export interface CheckResult {
  group: 'cpu' | 'webgpu';
  name: string;
  ok: boolean;
  message: string;
  ms: number;
}

export interface PageResult {
  env: { userAgent: string; hasProcess: boolean; hasNavigatorGpu: boolean; secureContext: boolean };
  /** Set when `bt.ready('webgpu')` resolved. */
  adapter: { label: string; vendor: string; architecture: string; description: string; isFallbackAdapter: boolean } | null;
  /** Why there is no WebGPU backend (ready() rejected), when `adapter` is null. */
  webgpuError: string | null;
  checks: CheckResult[];
  /** CPU float32 random.normal(key(7), [10000]) computed in the page, for Node to compare with its own. */
  cpuNormal7: number[];
}

class CheckFailed extends Error {}

function randArray(n: number, seed: number, lo = -2, hi = 2): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

function f32(shape: number[], seed: number, lo = -2, hi = 2): bt.Tensor {
  return bt.tensor(randArray(shape.reduce((p, d) => p * d, 1), seed, lo, hi), { shape, dtype: 'float32' });
}

/** float32 subnormals may be flushed to zero on a GPU (WGSL allows it). */
const FLT_MIN = 1.1754943508222875e-38;

function closeEnough(a: number, b: number, rtol: number, atol: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  if (Math.abs(a) < FLT_MIN && Math.abs(b) < FLT_MIN) return true;
  return Math.abs(a - b) <= atol + rtol * Math.abs(b);
}

function expectClose(what: string, got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number): void {
  if (got.length !== want.length) throw new CheckFailed(`${what}: ${got.length} values, want ${want.length}`);
  for (let i = 0; i < got.length; i++) {
    if (!closeEnough(got[i]!, want[i]!, rtol, atol)) {
      throw new CheckFailed(`${what} entry ${i}: got ${got[i]}, want ${want[i]} (rtol ${rtol}, atol ${atol})`);
    }
  }
}

function expect(cond: boolean, what: string): void {
  if (!cond) throw new CheckFailed(what);
}

type Outs = bt.Tensor[];

/**
 * Runs `make` (which creates its own float32 inputs) on the CPU and on WebGPU (the current
 * backend, set by setBackend) and compares every output to float32 tolerances.
 */
async function parity(what: string, make: () => Outs, rtol = 1e-5, atol = 1e-6): Promise<string> {
  const want = bt.withBackend('cpu', () => bt.tidy(make));
  const got = bt.tidy(make);
  try {
    expect(got.length === want.length, `${what}: number of outputs`);
    for (let k = 0; k < got.length; k++) {
      const g = got[k]!;
      const w = want[k]!;
      expect(g.backend === 'webgpu', `${what} output ${k} ran on '${g.backend}', not webgpu`);
      expect(w.backend === 'cpu', `${what} reference ${k} ran on '${w.backend}', not cpu`);
      expect(JSON.stringify(g.shape) === JSON.stringify(w.shape), `${what} output ${k}: shape [${g.shape}] vs [${w.shape}]`);
      expect(g.dtype === w.dtype, `${what} output ${k}: dtype ${g.dtype} vs ${w.dtype}`);
      expectClose(`${what} output ${k}`, await g.data(), await w.data(), rtol, atol);
    }
    return `${got.length} output(s), ${got.reduce((s, t) => s + t.size, 0)} values agree`;
  } finally {
    bt.dispose([got, want]);
  }
}

/** Checks as they finish, so the Node side can report how far a run that timed out got. */
const checks: CheckResult[] = [];
(globalThis as { __bayestapeProgress?: CheckResult[] }).__bayestapeProgress = checks;

async function run(): Promise<PageResult> {
  const check = async (group: CheckResult['group'], name: string, body: () => Promise<string | void>): Promise<void> => {
    const t0 = performance.now();
    try {
      const note = await body();
      checks.push({ group, name, ok: true, message: note ?? '', ms: performance.now() - t0 });
    } catch (e) {
      const err = e as Error;
      const message = err instanceof CheckFailed ? err.message : `${err.name}: ${err.message}\n${err.stack ?? ''}`;
      checks.push({ group, name, ok: false, message, ms: performance.now() - t0 });
    }
  };

  const nav = navigator as Navigator & { gpu?: unknown };
  const env: PageResult['env'] = {
    userAgent: navigator.userAgent,
    hasProcess: typeof (globalThis as { process?: unknown }).process !== 'undefined',
    hasNavigatorGpu: !!nav.gpu,
    secureContext: globalThis.isSecureContext,
  };

  // ---------------------------------------------------------------- CPU backend alone (before any WebGPU)
  let cpuNormal7: number[] = [];

  await check('cpu', 'the page is a browser, not Node (no process global); the CPU backend is the default', async () => {
    expect(!env.hasProcess, 'a `process` global exists in the page');
    expect(bt.getBackend() === 'cpu', `default backend is '${bt.getBackend()}'`);
  });

  await check('cpu', 'a 256x256x256 matmul (the size Node hands to its helper thread) runs on the calling thread and is right', async () => {
    const n = 256;
    const a = randArray(n * n, 1);
    const b = randArray(n * n, 2);
    const c = bt.tidy(() => bt.matmul(bt.tensor(a, { shape: [n, n], dtype: 'float32' }), bt.tensor(b, { shape: [n, n], dtype: 'float32' })));
    const got = await c.data();
    c.dispose();
    const want = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < n; k++) {
        const aik = a[i * n + k]!;
        for (let j = 0; j < n; j++) want[i * n + j] += aik * b[k * n + j]!;
      }
    }
    expectClose('matmul vs float64 triple loop', got, want, 1e-4, 1e-3);
  });

  await check('cpu', 'grad of sum(tanh(x)^2) (float64) is 2 tanh(x) (1 - tanh(x)^2)', async () => {
    const xs = Array.from(randArray(50, 3), Number);
    const g = bt.tidy(() => bt.grad((x: bt.Tensor) => bt.sum(bt.square(bt.tanh(x))))(bt.tensor(xs, { dtype: 'float64' })));
    const got = await g.data();
    g.dispose();
    expectClose('grad', got, xs.map((x) => 2 * Math.tanh(x) * (1 - Math.tanh(x) ** 2)), 1e-12, 1e-14);
  });

  await check('cpu', 'random.normal(key(7), [10000]) float32 on the CPU (compared with Node on the Node side)', async () => {
    const z = bt.tidy(() => bt.random.normal(bt.random.key(7), [10000], { dtype: 'float32' }));
    cpuNormal7 = Array.from(await z.data());
    z.dispose();
    expect(cpuNormal7.every(Number.isFinite), 'non-finite draws');
  });

  await check('cpu', 'sgmcmc.run for > 50 ms (it yields to the event loop: no setImmediate in a browser) and vi progress lines', async () => {
    const target = (p: bt.Tensor): [bt.Tensor, never[]] => [p.square().sum().mul(-0.5), []];
    const s = bt.sgmcmc.sgld.build(target, { lr: 0.01 });
    let yields = 0;
    const timer = setInterval(() => yields++, 5); // only runs if run() gives the event loop a turn
    const t0 = performance.now();
    let steps = 0;
    try {
      while (performance.now() - t0 < 300) {
        const r = await bt.sgmcmc.run(s, s.init(bt.tensor([1, -1])), { steps: 2000, key: bt.random.key(steps) });
        steps += r.steps;
        bt.sgmcmc.disposeState(r.state);
      }
    } finally {
      clearInterval(timer);
    }
    expect(yields > 0, `the interval never ran during ${steps} steps: run() did not yield`);
    const lines: string[] = [];
    const err = console.error;
    console.error = (...a: unknown[]) => void lines.push(a.join(' '));
    try {
      const vi = new bt.vi.VI({
        loss: (theta: bt.Tensor, y: bt.Tensor) => theta.sub(y).square().sum(),
        prior: new bt.distributions.Normal(0, 1),
        posteriorEstimator: new bt.distributions.Normal(0, 1),
        nSamplesPerEpoch: 2,
        key: bt.random.key(1),
        progress: true,
      });
      await vi.run(bt.tensor(0.5), 3, Infinity);
    } finally {
      console.error = err;
    }
    expect(lines.length === 3 && lines[0]!.startsWith('vi epoch 0'), `progress lines: ${JSON.stringify(lines)}`);
    return `${steps} SGLD steps, ${yields} timer turns`;
  });

  // ---------------------------------------------------------------- WebGPU through navigator.gpu
  let adapter: PageResult['adapter'] = null;
  let webgpuError: string | null = null;
  let gpu: WebGPUBackend | null = null;
  try {
    gpu = (await bt.ready('webgpu')) as WebGPUBackend;
    const i = gpu.adapterInfo;
    adapter = { label: gpu.adapterLabel, vendor: i.vendor, architecture: i.architecture, description: i.description, isFallbackAdapter: i.isFallbackAdapter };
  } catch (e) {
    webgpuError = `${(e as Error).name}: ${(e as Error).message}`;
  }

  if (gpu) {
    const gpuBytesAtStart = gpu.memory().numBytes;
    await check('webgpu', "bt.ready('webgpu') resolved through navigator.gpu; setBackend('webgpu') makes new tensors WebGPU tensors", async () => {
      expect(env.hasNavigatorGpu && !env.hasProcess, 'not a browser with navigator.gpu');
      bt.setBackend('webgpu');
      expect(bt.getBackend() === 'webgpu', `getBackend() is '${bt.getBackend()}'`);
      const t = bt.tensor([1, 2, 3]);
      const u = t.mul(2).add(1);
      expect(u.backend === 'webgpu' && u.dtype === 'float32', `tensor on '${u.backend}' as ${u.dtype}`);
      expectClose('2x+1', await u.data(), [3, 5, 7], 0, 0);
      bt.dispose([t, u]);
    });

    await check('webgpu', 'elementwise ops (unary, binary, broadcasting) match the CPU', () =>
      parity('elementwise', () => {
        const x = f32([40, 25], 10);
        const y = f32([25], 11, 0.5, 3);
        return [
          bt.exp(x), bt.tanh(x), bt.sigmoid(x), bt.log1p(bt.abs(x)), bt.sqrt(y), bt.erf(x), bt.softplus(x),
          bt.add(x, y), bt.mul(x, y), bt.div(x, y), bt.pow(y, x), bt.maximum(x, bt.neg(y)), bt.where(bt.greater(x, 0), x, y),
        ];
      }, 4e-6, 1e-6));

    await check('webgpu', 'matmul (plain, tiled, batched with broadcasting, vector) matches the CPU', () =>
      parity('matmul', () => [
        bt.matmul(f32([5, 7], 20), f32([7, 3], 21)),
        bt.matmul(f32([70, 45], 22), f32([45, 33], 23)),
        bt.matmul(f32([2, 1, 20, 17], 24), f32([3, 17, 19], 25)),
        bt.matmul(f32([40, 30], 26), f32([30], 27)),
      ], 1e-5, 2e-5));

    await check('webgpu', 'reductions (sum, mean, max, logsumexp, softmax, cumsum, argmax) match the CPU', () =>
      parity('reductions', () => {
        const x = f32([6, 500], 30);
        return [
          bt.sum(x), bt.sum(x, { axis: 1 }), bt.mean(x, { axis: 0 }), bt.max(x, { axis: 1, keepdims: true }),
          bt.logsumexp(x, { axis: 1 }), bt.softmax(x, { axis: -1 }), bt.cumsum(x, { axis: 1 }), bt.argmax(x, { axis: 1 }),
        ];
      }, 1e-5, 1e-4));

    await check('webgpu', 'grad of a small MLP loss matches the CPU', () =>
      parity('grad', () => {
        const x = f32([16, 8], 40);
        const w1 = f32([8, 12], 41, -0.5, 0.5);
        const w2 = f32([12], 42, -0.5, 0.5);
        const loss = (a: bt.Tensor, b: bt.Tensor) => bt.add(bt.mean(bt.square(bt.matmul(bt.tanh(bt.matmul(x, a)), b))), bt.logsumexp(b));
        const [ga, gb] = bt.grad(loss, { argnums: [0, 1] })(w1, w2) as bt.Tensor[];
        return [loss(w1, w2), ga!, gb!];
      }, 1e-5, 1e-6));

    await check('webgpu', 'random.normal(key(7), [10000]) equals the CPU float32 draw to float32 rounding', () =>
      parity('normal', () => [bt.random.normal(bt.random.key(7), [10000], { dtype: 'float32' })], 4e-6, 2e-7));

    await check('webgpu', 'definePrimitive with a WGSL kernel: values and gradient match its CPU kernel', async () => {
      const cube = bt.definePrimitive({
        name: 'browserTestCube',
        impl: {
          cpu: ([x]) => (x!.data as Float32Array).map((v) => v * v * v),
          webgpu: { shader: 'out0[i] = in0[i] * in0[i] * in0[i];' },
        },
        jvp: ([x], [t]) => [bt.mul(t!, bt.mul(bt.square(x!), 3))],
        vjp: ([ct], [x]) => [ct && bt.mul(ct, bt.mul(bt.square(x!), 3))],
      });
      return parity('custom cube', () => {
        const x = f32([33], 50);
        return [cube([x])[0]!, bt.grad((z: bt.Tensor) => bt.sum(cube([z])[0]!))(x)];
      });
    });

    await check('webgpu', 'tidy/dispose free every WebGPU buffer the checks made (live bytes back to the start)', async () => {
      await gpu!.sync();
      const end = gpu!.memory();
      expect(end.numBytes === gpuBytesAtStart, `webgpu live bytes ${end.numBytes}, at the start ${gpuBytesAtStart}`);
      return `webgpu memory(): ${JSON.stringify(end)}`;
    });
  }

  bt.setBackend('cpu');
  return { env, adapter, webgpuError, checks, cpuNormal7 };
}

(globalThis as { __bayestape?: Promise<PageResult> }).__bayestape = run();
