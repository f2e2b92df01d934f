/**
 * Shared fixtures for the optimiser tests: a nested parameter tree and ½‖θ‖² (whose gradient is θ),
 * and a host float64 reference of the optimiser recursions with the float32 rounding budget they
 * accumulate (for the WebGPU bodies; see ../backend-harness.ts).
 */
import * as bt from '../../src/index.js';
import { assertCloseArr, read, type BackendCase } from '../backend-harness.js';

export type Params = { a: bt.Tensor; b: { c: bt.Tensor[] } };

/** θ = (1, −2, 0.5) spread over a nested pytree: a = [1, −2], b.c[0] = [[0.5]] (the backend's default float dtype). */
export function nestedParams(): Params {
  return { a: bt.tensor([1, -2]), b: { c: [bt.tensor([[0.5]])] } };
}

export const THETA0 = [1, -2, 0.5];

export const halfSquaredNorm = (p: Params): bt.Tensor => bt.add(bt.sum(bt.square(p.a)), bt.sum(bt.square(p.b.c[0]!))).mul(0.5);

/** Leaves in flatten order (a then b.c[0]) as one plain array (`await t.data()`: any backend). */
export async function values(p: Params): Promise<number[]> {
  return [...(await read(p.a)), ...(await read(p.b.c[0]!))];
}

/** Runs `steps` updates of opt on ½‖θ‖² and returns θ after each step. */
export async function run(opt: bt.optim.GradientTransformation<any>, steps: number, params = nestedParams()): Promise<number[][]> {
  let state = opt.init(params);
  const out: number[][] = [];
  for (let i = 0; i < steps; i++) {
    const g = bt.grad(halfSquaredNorm)(params);
    const [u, s] = opt.update(g, state, params);
    params = bt.optim.applyUpdates(params, u);
    state = s;
    out.push(await values(params));
  }
  return out;
}

// ---- host float64 reference recursions (optax semantics) on ½‖θ‖², g = θ ----

export interface HostSpec {
  /** the learning rate at step count k (0 first) */
  lr: (k: number) => number;
  /** sgd: trace(momentum, nesterov) then −lr; adam: scaleByAdam then (decay) then −lr */
  kind: 'sgd' | 'adam';
  momentum?: number;
  nesterov?: boolean;
  b1?: number;
  b2?: number;
  eps?: number;
  epsRoot?: number;
  /** adamw: decoupled decay, per coordinate (THETA0's order) whether it applies */
  weightDecay?: number;
  decayMask?: boolean[];
  /** clipByGlobalNorm(maxNorm) on the gradient first */
  clip?: number;
}

/**
 * θ after each step (float64), and the float32 rounding budget accumulated up to that step, per
 * coordinate: Σ_j (|θ_j| + mem_j·|u_j|). A step rounds θ + u (relative to |θ|) and forms u by a
 * short chain of roundings (relative to |u|); state that averages past gradients (the trace m, or
 * Adam's μ and ν) carries its own rounding into later updates for as many steps as it remembers,
 * mem_j = min(j, 1/(1 − β)) with β the slowest decay (1 without state). The WebGPU bodies compare
 * within B.adRtol (64 ulps, the harness's per-chain allowance) times this budget.
 */
export function hostRun(spec: HostSpec, steps: number, theta0 = THETA0): { theta: number[][]; budget: number[][] } {
  const n = theta0.length;
  let th = theta0.slice();
  const m = new Array<number>(n).fill(0);
  const v = new Array<number>(n).fill(0);
  const acc = new Array<number>(n).fill(0);
  const theta: number[][] = [];
  const budget: number[][] = [];
  const b1 = spec.b1 ?? 0.9;
  const b2 = spec.b2 ?? 0.999;
  const beta = spec.kind === 'adam' ? Math.max(b1, b2) : spec.momentum ?? 0;
  for (let k = 0; k < steps; k++) {
    let g = th.slice();
    if (spec.clip !== undefined) {
      const norm = Math.sqrt(g.reduce((s, x) => s + x * x, 0));
      if (!(norm < spec.clip)) g = g.map((x) => (x / norm) * spec.clip!);
    }
    const lr = spec.lr(k);
    const u = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      if (spec.kind === 'sgd') {
        const mu = spec.momentum ?? 0;
        if (mu > 0) {
          m[i] = g[i]! + mu * m[i]!;
          u[i] = -lr * (spec.nesterov ? g[i]! + mu * m[i]! : m[i]!);
        } else u[i] = -lr * g[i]!;
      } else {
        const t = k + 1;
        m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
        v[i] = b2 * v[i]! + (1 - b2) * g[i]! ** 2;
        let d = m[i]! / (1 - b1 ** t) / (Math.sqrt(v[i]! / (1 - b2 ** t) + (spec.epsRoot ?? 0)) + (spec.eps ?? 1e-8));
        if (spec.weightDecay !== undefined && (spec.decayMask?.[i] ?? true)) d += spec.weightDecay * th[i]!;
        u[i] = -lr * d;
      }
    }
    const mem = beta > 0 ? Math.min(k + 1, 1 / (1 - beta)) : 1;
    th = th.map((x, i) => x + u[i]!);
    for (let i = 0; i < n; i++) acc[i] = acc[i]! + Math.abs(th[i]!) + mem * Math.abs(u[i]!);
    theta.push(th.slice());
    budget.push(acc.slice());
  }
  return { theta, budget };
}

/** WebGPU: each step's θ within B.adRtol times the accumulated rounding budget of the host recursion. */
export function assertTrajectory(B: BackendCase, got: number[][], ref: { theta: number[][]; budget: number[][] }, what: string): void {
  got.forEach((row, k) => assertCloseArr(row, ref.theta[k]!, 0, 0, `${what} step ${k + 1}`, ref.budget[k]!.map((s) => B.adRtol * s)));
}
