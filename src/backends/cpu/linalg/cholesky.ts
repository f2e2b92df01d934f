import { asF64, copyOut, scratch, type FloatArray } from './scratch.js';

// ---------------------------------------------------------------------------------------------------------------
// Cholesky
// ---------------------------------------------------------------------------------------------------------------

/** Lower Cholesky factor of each SPD matrix (reads only the lower triangle of a; writes zeros above the diagonal of out).
 * Returns -1 if all succeeded, else the index of the first batch element that is not (numerically) positive definite,
 * in which case `failInfo.pivot` is the failing column and `failInfo.value` the non-positive pivot value.
 *
 * Every batch element is processed even after a failure; the rows of a failed element from the failing pivot on are
 * filled with NaN (its upper triangle is still zero). A NaN pivot counts as a failure. `out` may be the same array
 * as `a` (in-place factorization). */
export function cholesky(
  a: FloatArray,
  out: FloatArray,
  batch: number,
  n: number,
  failInfo?: { pivot: number; value: number },
): number {
  const nn = n * n;
  const size = batch * nn;
  let a64: Float64Array, o64: Float64Array;
  if (a instanceof Float64Array && out instanceof Float64Array) {
    a64 = a;
    o64 = out;
  } else {
    // Widen a into the float64 output (or scratch) and factor in place there.
    o64 = out instanceof Float64Array ? out : scratch(0, size);
    for (let q = 0; q < size; q++) o64[q] = a[q];
    a64 = o64;
  }
  let firstFail = -1;
  for (let t = 0; t < batch; t++) {
    const r = choleskyOne(a64, o64, t * nn, n);
    if (r >= 0 && firstFail < 0) {
      firstFail = t;
      if (failInfo !== undefined) {
        failInfo.pivot = r;
        failInfo.value = failValue;
      }
    }
  }
  copyOut(o64, out, size);
  return firstFail;
}

/** Pivot value of the last failure of choleskyOne (module-level to avoid allocating a result object). */
let failValue = 0;

/** Factor one matrix at element offset `off`. Returns -1 or the failing pivot column (value in failValue). */
function choleskyOne(a: Float64Array, L: Float64Array, off: number, n: number): number {
  let i = 0;
  // Rows are computed two at a time: L[i][j] and L[i+1][j] share the row L[j] in their dot products.
  for (; i + 1 < n; i += 2) {
    const ri = off + i * n;
    const ri1 = ri + n;
    for (let j = 0; j < i; j++) {
      const rj = off + j * n;
      let s0 = 0, s1 = 0, u0 = 0, u1 = 0;
      let k = 0;
      for (; k + 1 < j; k += 2) {
        const l0 = L[rj + k], l1 = L[rj + k + 1];
        s0 += L[ri + k] * l0;
        s1 += L[ri + k + 1] * l1;
        u0 += L[ri1 + k] * l0;
        u1 += L[ri1 + k + 1] * l1;
      }
      if (k < j) {
        const l0 = L[rj + k];
        s0 += L[ri + k] * l0;
        u0 += L[ri1 + k] * l0;
      }
      const d = L[rj + j];
      L[ri + j] = (a[ri + j] - (s0 + s1)) / d;
      L[ri1 + j] = (a[ri1 + j] - (u0 + u1)) / d;
    }
    // Diagonal of row i, then entry (i+1, i), then diagonal of row i+1.
    let s0 = 0, s1 = 0, c0 = 0, c1 = 0;
    let k = 0;
    for (; k + 1 < i; k += 2) {
      const x0 = L[ri + k], x1 = L[ri + k + 1];
      s0 += x0 * x0;
      s1 += x1 * x1;
      c0 += L[ri1 + k] * x0;
      c1 += L[ri1 + k + 1] * x1;
    }
    if (k < i) {
      const x0 = L[ri + k];
      s0 += x0 * x0;
      c0 += L[ri1 + k] * x0;
    }
    const di = a[ri + i] - (s0 + s1);
    if (!(di > 0)) return failRows(L, off, n, i, di);
    const lii = Math.sqrt(di);
    L[ri + i] = lii;
    for (let c = i + 1; c < n; c++) L[ri + c] = 0;
    const li1i = (a[ri1 + i] - (c0 + c1)) / lii;
    L[ri1 + i] = li1i;
    let q0 = li1i * li1i, q1 = 0;
    k = 0;
    for (; k + 1 < i; k += 2) {
      const x0 = L[ri1 + k], x1 = L[ri1 + k + 1];
      q0 += x0 * x0;
      q1 += x1 * x1;
    }
    if (k < i) {
      const x0 = L[ri1 + k];
      q0 += x0 * x0;
    }
    const di1 = a[ri1 + i + 1] - (q0 + q1);
    if (!(di1 > 0)) return failRows(L, off, n, i + 1, di1);
    L[ri1 + i + 1] = Math.sqrt(di1);
    for (let c = i + 2; c < n; c++) L[ri1 + c] = 0;
  }
  if (i < n) {
    // Last row when n is odd.
    const ri = off + i * n;
    for (let j = 0; j < i; j++) {
      const rj = off + j * n;
      let s0 = 0, s1 = 0;
      let k = 0;
      for (; k + 1 < j; k += 2) {
        s0 += L[ri + k] * L[rj + k];
        s1 += L[ri + k + 1] * L[rj + k + 1];
      }
      if (k < j) s0 += L[ri + k] * L[rj + k];
      L[ri + j] = (a[ri + j] - (s0 + s1)) / L[rj + j];
    }
    let s0 = 0, s1 = 0;
    let k = 0;
    for (; k + 1 < i; k += 2) {
      const x0 = L[ri + k], x1 = L[ri + k + 1];
      s0 += x0 * x0;
      s1 += x1 * x1;
    }
    if (k < i) {
      const x0 = L[ri + k];
      s0 += x0 * x0;
    }
    const di = a[ri + i] - (s0 + s1);
    if (!(di > 0)) return failRows(L, off, n, i, di);
    L[ri + i] = Math.sqrt(di);
  }
  return -1;
}

/** Mark a failed factorization: rows p.. get NaN in the lower triangle (zeros above). Returns p. */
function failRows(L: Float64Array, off: number, n: number, p: number, value: number): number {
  failValue = value;
  for (let i = p; i < n; i++) {
    const ri = off + i * n;
    for (let c = 0; c <= i; c++) L[ri + c] = NaN;
    for (let c = i + 1; c < n; c++) L[ri + c] = 0;
  }
  return p;
}
