/** Helpers for the flow tests (not a test file). */
import * as bt from '../../src/index.js';
import { read, ULPS, type BackendCase } from '../backend-harness.js';
import { hostLu } from '../host-lu.js';

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
