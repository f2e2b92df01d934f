/** A host float64 LU for tests that size linear-algebra tolerances (autodiff/linalg, flows). */

/** Entry (i, j) of a row-major n×n host matrix. */
const at = (a: number[], n: number, i: number, j: number) => a[i * n + j]!;

/**
 * Host float64 LU with partial pivoting of an n×n row-major matrix: Pᵀ|L||U| (the backward-error
 * bound's matrix, in the matrix's row order), the inverse, and log|u_ii|. Used only to size
 * float32 bounds: the float64 factors equal the GPU's to O(eps·cond).
 */
export function hostLu(a: number[], n: number): { absLU: number[]; inv: number[]; logU: number[] } {
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
