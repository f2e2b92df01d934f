/**
 * Demo section (j): the same code on the GPU. With a WebGPU adapter (a GPU, or Mesa's software
 * Vulkan), the CPU's known answers are reproduced on WebGPU in float32: the PRNG stream, and the
 * logistic-regression MAP of section (f) by Newton's method (bt.hessian + bt.linalg.solve), its
 * data moved with bt.toBackend. Without an adapter the section says so and adds no rows.
 */
import * as bt from '../src/index.js';
import type { WebGPUBackend } from '../src/backends/webgpu/index.js';
import { loadBreastCancer } from './data/loader.js';
import { laplace, logits, PRIOR_SD } from './sgmcmc.js';
import type { ResultRow } from './lib/rows.js';

async function maxAbsDiff(a: bt.Tensor, b: bt.Tensor): Promise<number> {
  const [x, y] = await Promise.all([a.data(), b.data()]);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

export async function runWebgpuDemo(): Promise<ResultRow[]> {
  let gpu: WebGPUBackend;
  try {
    gpu = (await bt.ready('webgpu')) as WebGPUBackend;
  } catch (e) {
    console.log(`  skipped: no WebGPU adapter (${(e as Error).message.split('\n')[0]})`);
    return [];
  }
  console.log(`  adapter: ${gpu.adapterLabel}${gpu.adapterInfo.isFallbackAdapter ? ' (a software fallback: correct, not fast)' : ''}`);
  const rows: ResultRow[] = [];

  // 1. the same counter-based random stream on both backends
  const cpuDraw = bt.withBackend('cpu', () => bt.tidy(() => bt.random.normal(bt.random.key(7), [10000], { dtype: 'float32' })));
  const gpuDraw = bt.withBackend('webgpu', () => bt.tidy(() => bt.random.normal(bt.random.key(7), [10000])));
  const gpuDrawOnCpu = await bt.toBackend(gpuDraw, 'cpu');
  const dDraw = await maxAbsDiff(cpuDraw, gpuDrawOnCpu);
  console.log(`  random.normal(key(7), [10000]): max |WebGPU − CPU| = ${dDraw.toExponential(2)} (the same Threefry bits; float32 rounding only)`);
  rows.push({ problem: 'WebGPU: random.normal(key(7)) vs CPU (float32)', ours: `max |Δ| ${dDraw.toExponential(1)}`, known: '0 (same stream)', err: dDraw, tol: 1e-6 });
  bt.dispose([cpuDraw, gpuDraw, gpuDrawOnCpu]);

  // 2. Newton's method for the logistic-regression MAP on the GPU vs the CPU's float64 Laplace fit
  const data = loadBreastCancer();
  const lap = laplace(data);
  const { x, y } = await bt.toBackend({ x: data.xTrain, y: data.yTrain }, 'webgpu', { dtype: 'float32' });
  const logPost = (theta: bt.Tensor) => {
    const w = theta.slice([0], [30]);
    const b = theta.slice([30], [1]);
    return bt.logpdf.bernoulliLogits(y, logits({ w, b }, x)).sum().sub(theta.square().sum().mul(0.5 / PRIOR_SD ** 2));
  };
  const grad = bt.grad(logPost);
  const hess = bt.hessian(logPost);
  let theta = bt.withBackend('webgpu', () => bt.tidy(() => bt.zeros([31])));
  const t0 = performance.now();
  const d0 = gpu.stats.dispatches;
  let steps = 0;
  const value = async (t: bt.Tensor) => {
    const v = bt.withBackend('webgpu', () => bt.tidy(() => logPost(t)));
    const r = (await v.data())[0]!;
    v.dispose();
    return r;
  };
  for (; steps < 50; steps++) {
    // damped Newton, as the CPU fit: the Newton direction, halved until the log posterior increases
    const dir = bt.withBackend('webgpu', () => bt.tidy(() => bt.linalg.solve(hess(theta).neg(), grad(theta).expandDims(-1)).squeeze(-1)));
    const f0 = await value(theta);
    let t = 1;
    let cand = bt.withBackend('webgpu', () => theta.add(dir));
    while (!((await value(cand)) >= f0) && t > 1e-6) {
      t /= 2;
      cand.dispose();
      cand = bt.withBackend('webgpu', () => bt.tidy(() => theta.add(dir.mul(t))));
    }
    const maxDir = bt.withBackend('webgpu', () => bt.tidy(() => bt.max(bt.abs(dir))));
    const moved = t * (await maxDir.data())[0]!;
    bt.dispose([maxDir, dir, theta]);
    theta = cand;
    if (moved < 1e-5) break;
  }
  const ms = performance.now() - t0;
  const mapGpu = Array.from(await theta.data());
  const z = Math.max(...mapGpu.map((m, i) => Math.abs(m - lap.mean[i]!) / lap.sd[i]!));
  console.log(
    `  logistic-regression MAP on WebGPU (float32): ${steps + 1} damped Newton steps (Hessian 31×31 by forward-over-reverse, LU solve) in ${ms.toFixed(0)} ms, ` +
      `${((gpu.stats.dispatches - d0) / (steps + 1)).toFixed(0)} kernel dispatches per step; max |MAP − CPU float64 MAP| = ${z.toExponential(2)} posterior sd`,
  );
  rows.push({ problem: 'WebGPU: logistic-regression MAP by Newton (f32)', ours: `max |Δ|/sd ${z.toExponential(1)}`, known: 'CPU float64 MAP', err: z, tol: 1e-3 });
  bt.dispose([theta, x, y, data.xTrain, data.yTrain, data.xTest, data.yTest]);
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runWebgpuDemo().then((rows) => {
    console.table(rows);
    if (rows.some((r) => !(r.err <= r.tol))) process.exit(1);
  });
}
