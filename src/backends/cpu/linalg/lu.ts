import { asF64, copyOut, scratch, type FloatArray } from './scratch.js';
import { trsmInPlace } from './triangular.js';

// ---------------------------------------------------------------------------------------------------------------
// LU
// ---------------------------------------------------------------------------------------------------------------

/** LU with partial pivoting, P A = L U, packed (unit-lower L below diagonal, U on and above) into lu (batch×n×n);
 * perm (Int32Array batch×n) gives the row permutation: row i of P A is row perm[i] of A; sign (batch) is det(P) = ±1.
 * Returns -1, or the index of the first exactly singular batch element (a zero pivot).
 *
 * Like LAPACK getrf, a zero pivot does not stop the factorization: that column is left unscaled and elimination
 * continues, so lu, perm and sign are fully defined for every batch element. `lu` may be the same array as `a`.
 * `singular`, if given (length batch), receives 1 for every exactly singular element and 0 for the others. */
export function luFactor(
  a: FloatArray,
  lu: FloatArray,
  perm: Int32Array,
  sign: FloatArray,
  batch: number,
  n: number,
  singular?: Uint8Array,
): number {
  const nn = n * n;
  const size = batch * nn;
  // Factor in place in lu (float64) or in a float64 scratch copy of a.
  const w = lu instanceof Float64Array ? lu : scratch(0, size);
  if (a !== w) for (let q = 0; q < size; q++) w[q] = a[q];
  let firstSingular = -1;
  for (let t = 0; t < batch; t++) {
    sign[t] = luOne(w, t * nn, perm, t * n, n);
    if (singular !== undefined) singular[t] = luSingular ? 1 : 0;
    if (luSingular && firstSingular < 0) firstSingular = t;
  }
  copyOut(w, lu, size);
  return firstSingular;
}

/** Set by luOne: whether the last factored matrix had a zero pivot. */
let luSingular = false;

/** Factor one matrix in place (at element offset off); returns det(P) and sets luSingular. */
function luOne(lu: Float64Array, off: number, perm: Int32Array, pOff: number, n: number): number {
  for (let i = 0; i < n; i++) perm[pOff + i] = i;
  let s = 1;
  let singular = false;
  for (let k = 0; k < n; k++) {
    const rk = off + k * n;
    // Pivot search down column k (strided, O(n) per step).
    let p = k;
    let best = Math.abs(lu[rk + k]);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(lu[off + i * n + k]);
      if (v > best) { best = v; p = i; }
    }
    if (p !== k) {
      const rp = off + p * n;
      for (let c = 0; c < n; c++) {
        const tmp = lu[rk + c];
        lu[rk + c] = lu[rp + c];
        lu[rp + c] = tmp;
      }
      const tp = perm[pOff + k];
      perm[pOff + k] = perm[pOff + p];
      perm[pOff + p] = tp;
      s = -s;
    }
    const pivot = lu[rk + k];
    if (pivot === 0) {
      // Whole sub-column is zero (pivot has the largest magnitude): nothing to eliminate.
      singular = true;
      continue;
    }
    // Rank-1 update of the trailing matrix, row by row (contiguous). Two rows per pass share the loads of row k.
    let i = k + 1;
    for (; i + 1 < n; i += 2) {
      const ri = off + i * n, ri1 = ri + n;
      const l0 = lu[ri + k] / pivot, l1 = lu[ri1 + k] / pivot;
      lu[ri + k] = l0;
      lu[ri1 + k] = l1;
      if (l0 !== 0 && l1 !== 0) {
        for (let c = k + 1; c < n; c++) {
          const u = lu[rk + c];
          lu[ri + c] -= l0 * u;
          lu[ri1 + c] -= l1 * u;
        }
      } else {
        if (l0 !== 0) for (let c = k + 1; c < n; c++) lu[ri + c] -= l0 * lu[rk + c];
        if (l1 !== 0) for (let c = k + 1; c < n; c++) lu[ri1 + c] -= l1 * lu[rk + c];
      }
    }
    if (i < n) {
      const ri = off + i * n;
      const l0 = lu[ri + k] / pivot;
      lu[ri + k] = l0;
      if (l0 !== 0) for (let c = k + 1; c < n; c++) lu[ri + c] -= l0 * lu[rk + c];
    }
  }
  luSingular = singular;
  return s;
}

/** Solve A X = B from the LU factors (B n×m, bBatchStride as above). out is batch×n×m.
 * Rows of B are gathered through the permutation, so `out` must not overlap `b`. */
export function luSolve(
  lu: FloatArray,
  perm: Int32Array,
  b: FloatArray,
  out: FloatArray,
  batch: number,
  n: number,
  m: number,
  bBatchStride: number,
): void {
  if (batch <= 0 || n === 0 || m === 0) return;
  const nn = n * n;
  const nm = n * m;
  const lu64 = asF64(lu, batch * nn, 0);
  const x64 = out instanceof Float64Array ? out : scratch(1, batch * nm);
  for (let t = 0; t < batch; t++) {
    const luOff = t * nn;
    const pOff = t * n;
    const bOff = t * bBatchStride;
    const xOff = t * nm;
    // X = P B: row i of X is row perm[i] of B.
    for (let i = 0; i < n; i++) {
      const src = bOff + perm[pOff + i] * m;
      const dst = xOff + i * m;
      for (let c = 0; c < m; c++) x64[dst + c] = b[src + c];
    }
    trsmInPlace(lu64, luOff, x64, xOff, n, m, true, false, true); // L (unit lower)
    trsmInPlace(lu64, luOff, x64, xOff, n, m, false, false, false); // U
  }
  copyOut(x64, out, batch * nm);
}

/** sign and log|det| of each matrix from LU (sign 0 and logabsdet -Infinity for singular).
 * `luSign` is the permutation sign from luFactor; `sign` receives sign(det A). A NaN on the diagonal gives NaN for both. */
export function slogdetFromLu(
  lu: FloatArray,
  sign: FloatArray,
  luSign: FloatArray,
  logabsdet: FloatArray,
  batch: number,
  n: number,
): void {
  const nn = n * n;
  const step = n + 1;
  for (let t = 0; t < batch; t++) {
    const off = t * nn;
    let s = luSign[t];
    let acc = 0;
    let zero = false;
    for (let i = 0; i < n; i++) {
      const d = lu[off + i * step];
      if (d === 0) { zero = true; break; }
      if (d < 0) s = -s;
      else if (d !== d) s = NaN;
      acc += Math.log(Math.abs(d));
    }
    if (zero) {
      sign[t] = 0;
      logabsdet[t] = -Infinity;
    } else {
      sign[t] = s;
      logabsdet[t] = acc;
    }
  }
}
