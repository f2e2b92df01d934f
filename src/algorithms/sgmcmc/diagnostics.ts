/** Small host-side diagnostics for checking samplers against Gaussian truths. */
import { ConfigError } from '../../errors.js';

/** Cholesky of a symmetric positive-definite d×d row-major matrix (host, float64). */
function cholesky(a: ArrayLike<number>, d: number): Float64Array {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j]!;
      for (let k = 0; k < j; k++) s -= l[i * d + k]! * l[j * d + k]!;
      if (i === j) {
        if (!(s > 0)) throw new ConfigError('gaussianKL: a covariance is not positive definite.');
        l[i * d + i] = Math.sqrt(s);
      } else l[i * d + j] = s / l[j * d + j]!;
    }
  }
  return l;
}

/**
 * KL(N(m0, S0) ‖ N(m1, S1)) = ½ [tr(S1⁻¹S0) + (m1−m0)ᵀS1⁻¹(m1−m0) − d + log det S1 − log det S0],
 * on the host in float64 (covariances row-major d×d).
 */
export function gaussianKL(m0: ArrayLike<number>, s0: ArrayLike<number>, m1: ArrayLike<number>, s1: ArrayLike<number>): number {
  const d = m0.length;
  if (m1.length !== d || s0.length !== d * d || s1.length !== d * d) throw new ConfigError(`gaussianKL: sizes do not match (d = ${d}).`);
  const l1 = cholesky(s1, d);
  const l0 = cholesky(s0, d);
  // solve L1 y = b (forward)
  const fwd = (b: Float64Array) => {
    for (let i = 0; i < d; i++) {
      let s = b[i]!;
      for (let k = 0; k < i; k++) s -= l1[i * d + k]! * b[k]!;
      b[i] = s / l1[i * d + i]!;
    }
    return b;
  };
  // tr(S1⁻¹ S0) = ‖L1⁻¹ L0‖_F²
  let tr = 0;
  for (let j = 0; j < d; j++) {
    const col = new Float64Array(d);
    for (let i = 0; i < d; i++) col[i] = l0[i * d + j]!;
    fwd(col);
    for (let i = 0; i < d; i++) tr += col[i]! * col[i]!;
  }
  const diff = new Float64Array(d);
  for (let i = 0; i < d; i++) diff[i] = m1[i]! - m0[i]!;
  fwd(diff);
  let maha = 0;
  for (let i = 0; i < d; i++) maha += diff[i]! * diff[i]!;
  let ld1 = 0;
  let ld0 = 0;
  for (let i = 0; i < d; i++) {
    ld1 += 2 * Math.log(l1[i * d + i]!);
    ld0 += 2 * Math.log(l0[i * d + i]!);
  }
  return 0.5 * (tr + maha - d + ld1 - ld0);
}
