/**
 * Host-side (float64) Gaussian mixtures for the gmmvi tests: parameters as plain numbers, their
 * densities by the textbook formula (Σ⁻¹ and log det Σ from a host Cholesky, nothing shared with
 * the library's code path), and the same mixture as library tensors.
 */
import * as bt from '../../../src/index.js';
import { rng } from '../../seeded.js';

export interface HostGmm {
  w: number[];
  mu: number[][];
  /** lower Cholesky factors (full) or standard deviations as a diagonal (diagonal) */
  L: number[][][];
  diagonal: boolean;
}

/** A random K-component mixture in d dimensions: means spread by `spread`, covariances AAᵀ/d + 0.3I (scaled by `scale²`). */
export function randomHostGmm(k: number, d: number, seed: number, opts: { diagonal?: boolean; spread?: number; scale?: number } = {}): HostGmm {
  const r = rng(seed);
  const n = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const spread = opts.spread ?? 3;
  const scale = opts.scale ?? 1;
  const raw = Array.from({ length: k }, () => 0.5 + r());
  const tot = raw.reduce((a, b) => a + b, 0);
  const w = raw.map((v) => v / tot);
  const mu = Array.from({ length: k }, () => Array.from({ length: d }, () => spread * n()));
  const L = Array.from({ length: k }, () => {
    if (opts.diagonal) return Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? scale * (0.4 + r()) : 0)));
    const A = Array.from({ length: d }, () => Array.from({ length: d }, () => n()));
    const S = A.map((ai, i) => A.map((aj, j) => (scale * scale * (ai.reduce((s, v, c) => s + v * aj[c]!, 0) / d + (i === j ? 0.3 : 0)))));
    return hostCholesky(S);
  });
  return { w, mu, L, diagonal: !!opts.diagonal };
}

export function hostCholesky(S: number[][]): number[][] {
  const d = S.length;
  const L = S.map(() => new Array<number>(d).fill(0));
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = S[i]![j]!;
      for (let k = 0; k < j; k++) s -= L[i]![k]! * L[j]![k]!;
      L[i]![j] = i === j ? Math.sqrt(s) : s / L[j]![j]!;
    }
  }
  return L;
}

/** Σ = LLᵀ */
export function hostCov(L: number[][]): number[][] {
  return L.map((li) => L.map((lj) => li.reduce((s, v, c) => s + v * lj[c]!, 0)));
}

/** log N(x; μ, LLᵀ) by forward substitution. */
export function hostLogN(x: number[], mu: number[], L: number[][]): number {
  const d = x.length;
  const z = new Array<number>(d);
  let logdet = 0;
  for (let i = 0; i < d; i++) {
    let s = x[i]! - mu[i]!;
    for (let k = 0; k < i; k++) s -= L[i]![k]! * z[k]!;
    z[i] = s / L[i]![i]!;
    logdet += Math.log(L[i]![i]!);
  }
  return -0.5 * z.reduce((s, v) => s + v * v, 0) - logdet - 0.5 * d * Math.log(2 * Math.PI);
}

export function hostLogSumExp(v: number[]): number {
  const m = Math.max(...v);
  return m + Math.log(v.reduce((s, x) => s + Math.exp(x - m), 0));
}

/** log q(x) = log Σ_o w_o N(x; μ_o, Σ_o). */
export function hostLogQ(g: HostGmm, x: number[]): number {
  return hostLogSumExp(g.w.map((w, o) => Math.log(w) + hostLogN(x, g.mu[o]!, g.L[o]!)));
}

/** The mixture as a library GMM state in `dtype` on the current backend. */
export function gmmState(g: HostGmm, dtype: 'float64' | 'float32' = 'float64'): bt.gmmvi.GmmState {
  const d = g.mu[0]!.length;
  const k = g.w.length;
  const T = (v: number[], shape: number[]) => bt.tensor(dtype === 'float32' ? Float32Array.from(v) : Float64Array.from(v), { shape, dtype });
  const chols = g.diagonal ? T(g.L.flatMap((L) => L.map((row, i) => row[i]!)), [k, d]) : T(g.L.flat(2), [k, d, d]);
  return bt.gmmvi.createGmm({ weights: T(g.w, [k]), means: T(g.mu.flat(), [k, d]), chols });
}

/** Rows of a [N, d] tensor on the host. */
export async function rows(x: bt.Tensor): Promise<number[][]> {
  const v = Array.from(await x.data(), Number);
  const d = x.shape[1]!;
  return Array.from({ length: x.shape[0]! }, (_, i) => v.slice(i * d, (i + 1) * d));
}
