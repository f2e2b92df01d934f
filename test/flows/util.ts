/** Helpers for the flow tests (not a test file). */
import * as bt from '../../src/index.js';
import { read, ULPS, type BackendCase } from '../backend-harness.js';

/** params with every leaf moved by scale·N(0, 1) (so zero-initialised layers are no longer the identity) */
export function perturb(params: bt.tree.PyTree, seed: number, scale = 0.3): bt.tree.PyTree {
  const leaves = bt.tree.leaves(params) as bt.Tensor[];
  const keys = bt.random.split(bt.random.key(seed), Math.max(1, leaves.length));
  let i = 0;
  return bt.tree.map((l: bt.Tensor) => {
    const k = bt.reshape(bt.slice(keys, [i++, 0], [1, 2]), [2]);
    return l.add(bt.random.normal(k, l.shape, { dtype: l.dtype as 'float64' }).mul(scale));
  }, params);
}

/** Entry (i, j) of a row-major n×n host matrix. */
const at = (a: number[], n: number, i: number, j: number) => a[i * n + j]!;

/**
 * Host float64 LU with partial pivoting of an n×n matrix: Pᵀ|L||U| (the backward-error bound's
 * matrix, in the matrix's row order), the inverse, and log|u_ii| (as in ../autodiff/linalg.test.ts).
 */
function hostLu(a: number[], n: number): { absLU: number[]; inv: number[]; logU: number[] } {
  const lu = a.slice();
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(lu[i * n + k]!) > Math.abs(lu[p * n + k]!)) p = i;
    if (p !== k) {
      for (let c = 0; c < n; c++) [lu[k * n + c], lu[p * n + c]] = [lu[p * n + c]!, lu[k * n + c]!];
      [perm[k], perm[p]] = [perm[p]!, perm[k]!];
    }
    for (let i = k + 1; i < n; i++) {
      const l = (lu[i * n + k] = lu[i * n + k]! / lu[k * n + k]!);
      for (let c = k + 1; c < n; c++) lu[i * n + c] -= l * lu[k * n + c]!;
    }
  }
  const L = (i: number, j: number) => (i > j ? at(lu, n, i, j) : i === j ? 1 : 0);
  const U = (i: number, j: number) => (i <= j ? at(lu, n, i, j) : 0);
  const absLU = new Array<number>(n * n).fill(0);
  for (let i = 0; i < n; i++) for (let c = 0; c < n; c++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += Math.abs(L(i, k)) * Math.abs(U(k, c));
    absLU[perm[i]! * n + c] = s;
  }
  const inv = new Array<number>(n * n).fill(0);
  for (let j = 0; j < n; j++) {
    const x = perm.map((pi) => (pi === j ? 1 : 0));
    for (let i = 0; i < n; i++) for (let k = 0; k < i; k++) x[i] -= L(i, k) * x[k]!;
    for (let i = n - 1; i >= 0; i--) {
      for (let k = i + 1; k < n; k++) x[i] -= U(i, k) * x[k]!;
      x[i] /= U(i, i);
    }
    for (let i = 0; i < n; i++) inv[i * n + j] = x[i]!;
  }
  return { absLU, inv, logU: Array.from({ length: n }, (_, i) => Math.log(Math.abs(U(i, i)))) };
}

/**
 * Float32 error bound of log|det J| from bt.linalg.slogdet of a float32 Jacobian J (n×n, read
 * back) on WebGPU, first order: the Jacobian entries (short forward-mode chains) carry ULPS·eps·|J|,
 * the LU's backward error γ_{3n}·Pᵀ|L||U| (Higham Thm 9.4, γ_k taken as (k + 4)·eps as in
 * ../autodiff/linalg.test.ts), both moving log|det| by tr(J⁻¹ΔJ) ≤ Σ_ij |J⁻¹|_ji |ΔJ|_ij; then n
 * logs (4 eps absolute each) and their float32 sum (γ_n·Σ|log|u_ii||).
 */
export function logdetTol(B: BackendCase, J: number[], n: number): number {
  const { absLU, inv, logU } = hostLu(J, n);
  const gam = (k: number) => (k + 4) * B.eps;
  let tr = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) tr += Math.abs(inv[j * n + i]!) * (ULPS * B.eps * Math.abs(J[i * n + j]!) + gam(3 * n) * absLU[i * n + j]!);
  const sumLog = logU.reduce((s, v) => s + Math.abs(v), 0);
  return tr + 4 * B.eps * n + (gam(n) + 3 * B.eps) * sumLog;
}

/**
 * The size of the terms of log q(x) for each row of x [N, d] (flow density direction): |log N(z)| of
 * the base plus Σ_k |log|det|| of each layer's inverse (each a sum of log-scales), plus 1 — what a
 * float32 evaluation of log q is accurate to ULPS·eps of.
 */
export async function logQTermScale(f: bt.flows.Flow, x: bt.Tensor): Promise<number[]> {
  const p = f.params();
  let z = x;
  const total = new Array<number>(x.shape[0]!).fill(1);
  for (let k = f.bijectors.length - 1; k >= 0; k--) {
    const [y, l] = f.bijectors[k]!.inverse(p.layers[k], z);
    z = y;
    (await read(l)).forEach((v, i) => (total[i] += Math.abs(v)));
  }
  const lb = await read(bt.distributions.DiagonalNormal.fromParams(p.base).logProb(z));
  return total.map((t, i) => t + Math.abs(lb[i]!));
}
