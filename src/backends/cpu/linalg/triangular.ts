import { asF64, copyOut, scratch, type FloatArray } from './scratch.js';
import { trsmWasm, trsmWasmResident } from './trsm-wasm.js';

/** Below this many multiply-adds (batch·n²·m/2) the JS loops beat the Wasm path's copies and call. */
const WASM_MIN_WORK = 2048;
let wasmOn = true;
/** Enables/disables the Wasm route (benchmarks and tests compare the two; float64 results are identical,
 * float32 ones differ by float32 rounding: the Wasm route computes in float32). */
export function setTriangularWasm(on: boolean): void { wasmOn = on; }

/** Below this many bytes of result the copy out of Wasm memory is cheap (it is still in cache), and a
 * Wasm memory of its own per result would not pay for itself. */
const RESIDENT_MIN_BYTES = 1 << 20;
/** The result must be at least this many times the A copies that share its memory. */
const RESIDENT_MAX_A_SHARE = 8;

/**
 * triangularSolve's Wasm route with the result left in Wasm memory (trsm-wasm.ts trsmWasmResident:
 * no copy out): returns the result (batch·n·m elements, a view of a Wasm memory of its own that the
 * CPU backend frees through pool.ts recycle), or null where that route does not apply (Wasm off or
 * unavailable, m = 1, too little work, a small result, A copies over 1/8 of the result, rows that
 * would need padding); the caller then allocates `out` and calls triangularSolve. Same bits as triangularSolve.
 */
export function triangularSolveResident(
  a: FloatArray, b: FloatArray, batch: number, n: number, m: number,
  lower: boolean, transposeA: boolean, unitDiagonal: boolean, aBatchStride: number, bBatchStride: number,
): FloatArray | null {
  if (!wasmOn || batch <= 0 || n === 0 || m < 2 || (batch * n * n * m) / 2 < WASM_MIN_WORK) return null;
  if (batch * n * m * a.BYTES_PER_ELEMENT < RESIDENT_MIN_BYTES) return null;
  // The kernels' copies of A lie in the same memory, after the result, and stay there while the result
  // lives (bt.memory() counts only the result): keep them small beside it (at most 1/8). Where A is the
  // larger part (n large, m small) the solve is O(n²m) and the copy out O(nm), so nothing is lost.
  if ((aBatchStride === 0 ? 1 : batch) * n * RESIDENT_MAX_A_SHARE > batch * m) return null;
  return trsmWasmResident(a, b, batch, n, m, lower, transposeA, unitDiagonal, aBatchStride, bBatchStride);
}

/** Column tile width (in elements) for the triangular solves: keeps an n×TILE slab of X in L2 for n≈512. */
const TILE = 64;

// ---------------------------------------------------------------------------------------------------------------
// Triangular solves
// ---------------------------------------------------------------------------------------------------------------

/** Solve op(A) X = B for each batch element, A n×n triangular (lower or upper; only that triangle is read),
 * op(A) = A or A^T, B is n×m; unitDiagonal treats diag(A) as ones. aBatchStride/bBatchStride (in elements) allow
 * broadcasting (stride 0 = the same matrix for every batch). out is batch×n×m.
 *
 * `out` may be the same array as `b` when bBatchStride = n*m (in-place solve); it must not otherwise overlap a or b.
 *
 * Every kernel here (and the Wasm ones, which mirror the general-m kernels bit for bit) multiplies by the
 * reciprocal 1/A_ii rather than dividing by A_ii, as optimised BLAS trsm does: in the Wasm kernels the
 * divisions took about half the time, and one reciprocal per diagonal element (per column tile here) is
 * free. The cost is one more rounding per solved element: |B − op(A)X| ≤ γ_{n+2}|op(A)||X| instead of
 * γ_{n+1} (test/backends/cpu/trsm-wasm.test.ts). A zero diagonal gives the same ±Inf/NaN as dividing
 * (b·(1/±0) = ±Inf with b's sign, 0·Inf = NaN as 0/0). Deliberately different from dividing: diagonals
 * whose reciprocal leaves the normal range: |A_ii| < 2⁻¹⁰²⁴ (or 2⁻¹²⁸ in the float32 Wasm kernels) gives
 * 1/A_ii = ±Inf, so X_i = ±Inf (or NaN for a zero right-hand side) where b/A_ii may be finite, and
 * |A_ii| > 2¹⁰²² (2¹²⁶) gives a subnormal reciprocal and fewer correct bits. */
export function triangularSolve(
  a: FloatArray,
  b: FloatArray,
  out: FloatArray,
  batch: number,
  n: number,
  m: number,
  lower: boolean,
  transposeA: boolean,
  unitDiagonal: boolean,
  aBatchStride: number,
  bBatchStride: number,
): void {
  if (batch <= 0 || n === 0 || m === 0) return;
  // The Wasm kernels repeat the general-m JS kernels' operations (float64: bit for bit; float32: in float32
  // arithmetic, so these sizes round differently from the JS path below); m = 1 keeps the JS vector
  // routines (a different order, and too little work to gain).
  if (wasmOn && m >= 2 && (batch * n * n * m) / 2 >= WASM_MIN_WORK &&
    trsmWasm(a, b, out, batch, n, m, lower, transposeA, unitDiagonal, aBatchStride, bBatchStride)) return;
  const nm = n * m;
  const aExtent = (batch - 1) * aBatchStride + n * n;
  const a64 = asF64(a, aExtent, 0);
  const x64 = out instanceof Float64Array ? out : scratch(1, batch * nm);
  for (let t = 0; t < batch; t++) {
    const bOff = t * bBatchStride;
    const xOff = t * nm;
    if (x64 !== b || bOff !== xOff) {
      for (let q = 0; q < nm; q++) x64[xOff + q] = b[bOff + q];
    }
    trsmInPlace(a64, t * aBatchStride, x64, xOff, n, m, lower, transposeA, unitDiagonal);
  }
  copyOut(x64, out, batch * nm);
}

/** Overwrite X (n×m at xOff) with op(A)^{-1} X, A n×n at aOff (diagonal applied as reciprocals: see triangularSolve). */
export function trsmInPlace(
  A: Float64Array, aOff: number, X: Float64Array, xOff: number, n: number, m: number,
  lower: boolean, trans: boolean, unit: boolean,
): void {
  if (n === 0 || m === 0) return;
  if (m === 1) {
    if (!trans) {
      if (lower) vecLowerN(A, aOff, X, xOff, n, unit);
      else vecUpperN(A, aOff, X, xOff, n, unit);
    } else {
      if (lower) vecLowerT(A, aOff, X, xOff, n, unit);
      else vecUpperT(A, aOff, X, xOff, n, unit);
    }
    return;
  }
  for (let c0 = 0; c0 < m; c0 += TILE) {
    const c1 = Math.min(m, c0 + TILE);
    if (!trans) {
      if (lower) matLowerN(A, aOff, X, xOff, n, m, c0, c1, unit);
      else matUpperN(A, aOff, X, xOff, n, m, c0, c1, unit);
    } else {
      if (lower) matLowerT(A, aOff, X, xOff, n, m, c0, c1, unit);
      else matUpperT(A, aOff, X, xOff, n, m, c0, c1, unit);
    }
  }
}

// ---- m === 1 (vector right-hand side): dot / axpy over contiguous rows of A ------------------------------------

/** L x = b, forward substitution, x_i = (b_i - L[i,:i]·x[:i]) / L_ii. */
function vecLowerN(A: Float64Array, aOff: number, x: Float64Array, xOff: number, n: number, unit: boolean): void {
  for (let i = 0; i < n; i++) {
    const ri = aOff + i * n;
    let s0 = 0, s1 = 0;
    let k = 0;
    for (; k + 1 < i; k += 2) {
      s0 += A[ri + k] * x[xOff + k];
      s1 += A[ri + k + 1] * x[xOff + k + 1];
    }
    if (k < i) s0 += A[ri + k] * x[xOff + k];
    const v = x[xOff + i] - (s0 + s1);
    x[xOff + i] = unit ? v : v * (1 / A[ri + i]);
  }
}

/** U x = b, backward substitution. */
function vecUpperN(A: Float64Array, aOff: number, x: Float64Array, xOff: number, n: number, unit: boolean): void {
  for (let i = n - 1; i >= 0; i--) {
    const ri = aOff + i * n;
    let s0 = 0, s1 = 0;
    let k = i + 1;
    for (; k + 1 < n; k += 2) {
      s0 += A[ri + k] * x[xOff + k];
      s1 += A[ri + k + 1] * x[xOff + k + 1];
    }
    if (k < n) s0 += A[ri + k] * x[xOff + k];
    const v = x[xOff + i] - (s0 + s1);
    x[xOff + i] = unit ? v : v * (1 / A[ri + i]);
  }
}

/** L^T x = b: column-oriented backward substitution using rows of L. */
function vecLowerT(A: Float64Array, aOff: number, x: Float64Array, xOff: number, n: number, unit: boolean): void {
  for (let i = n - 1; i >= 0; i--) {
    const ri = aOff + i * n;
    const xi = unit ? x[xOff + i] : x[xOff + i] * (1 / A[ri + i]);
    x[xOff + i] = xi;
    if (xi !== 0) for (let k = 0; k < i; k++) x[xOff + k] -= A[ri + k] * xi;
  }
}

/** U^T x = b: column-oriented forward substitution using rows of U. */
function vecUpperT(A: Float64Array, aOff: number, x: Float64Array, xOff: number, n: number, unit: boolean): void {
  for (let i = 0; i < n; i++) {
    const ri = aOff + i * n;
    const xi = unit ? x[xOff + i] : x[xOff + i] * (1 / A[ri + i]);
    x[xOff + i] = xi;
    if (xi !== 0) for (let k = i + 1; k < n; k++) x[xOff + k] -= A[ri + k] * xi;
  }
}

// ---- general m: axpy's over contiguous rows of X, columns [c0, c1) -------------------------------------------

/** L X = B, row-oriented: X_i = (B_i - Σ_{k<i} L_ik X_k) / L_ii, four rows of X updated per load of X_k. */
function matLowerN(
  A: Float64Array, aOff: number, X: Float64Array, xOff: number, n: number, m: number, c0: number, c1: number, unit: boolean,
): void {
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const r0 = aOff + i * n, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n;
    const x0 = xOff + i * m, x1 = x0 + m, x2 = x1 + m, x3 = x2 + m;
    // Shared part: rows k < i (i is a multiple of 4), 4×4 register blocks.
    for (let k = 0; k < i; k += 4) {
      update4x4(A, r0 + k, r1 + k, r2 + k, r3 + k, X, xOff + k * m, m, x0, x1, x2, x3, c0, c1);
    }
    // 4×4 diagonal block.
    const a10 = A[r1 + i], a20 = A[r2 + i], a21 = A[r2 + i + 1], a30 = A[r3 + i], a31 = A[r3 + i + 1], a32 = A[r3 + i + 2];
    const e0 = unit ? 1 : 1 / A[r0 + i], e1 = unit ? 1 : 1 / A[r1 + i + 1], e2 = unit ? 1 : 1 / A[r2 + i + 2], e3 = unit ? 1 : 1 / A[r3 + i + 3];
    for (let c = c0; c < c1; c++) {
      const v0 = unit ? X[x0 + c] : X[x0 + c] * e0;
      const v1 = unit ? X[x1 + c] - a10 * v0 : (X[x1 + c] - a10 * v0) * e1;
      const v2 = unit ? X[x2 + c] - a20 * v0 - a21 * v1 : (X[x2 + c] - a20 * v0 - a21 * v1) * e2;
      const v3 = unit
        ? X[x3 + c] - a30 * v0 - a31 * v1 - a32 * v2
        : (X[x3 + c] - a30 * v0 - a31 * v1 - a32 * v2) * e3;
      X[x0 + c] = v0; X[x1 + c] = v1; X[x2 + c] = v2; X[x3 + c] = v3;
    }
  }
  for (; i < n; i++) {
    const ri = aOff + i * n;
    const xi = xOff + i * m;
    for (let k = 0; k < i; k++) {
      const aik = A[ri + k];
      if (aik === 0) continue;
      const xk = xOff + k * m;
      for (let c = c0; c < c1; c++) X[xi + c] -= aik * X[xk + c];
    }
    if (!unit) {
      const rd = 1 / A[ri + i];
      for (let c = c0; c < c1; c++) X[xi + c] *= rd;
    }
  }
}

/** U X = B, row-oriented backward: X_i = (B_i - Σ_{k>i} U_ik X_k) / U_ii, four rows at a time. */
function matUpperN(
  A: Float64Array, aOff: number, X: Float64Array, xOff: number, n: number, m: number, c0: number, c1: number, unit: boolean,
): void {
  let i = n - 1;
  // Process rows i-3..i (i descending) as a block.
  for (; i - 3 >= 0; i -= 4) {
    const r3 = aOff + i * n, r2 = r3 - n, r1 = r2 - n, r0 = r1 - n; // rows i, i-1, i-2, i-3
    const x3 = xOff + i * m, x2 = x3 - m, x1 = x2 - m, x0 = x1 - m;
    let k = i + 1;
    for (; k + 3 < n; k += 4) {
      update4x4(A, r0 + k, r1 + k, r2 + k, r3 + k, X, xOff + k * m, m, x0, x1, x2, x3, c0, c1);
    }
    for (; k < n; k++) {
      const a0 = A[r0 + k], a1 = A[r1 + k], a2 = A[r2 + k], a3 = A[r3 + k];
      const xk = xOff + k * m;
      for (let c = c0; c < c1; c++) {
        const v = X[xk + c];
        X[x0 + c] -= a0 * v;
        X[x1 + c] -= a1 * v;
        X[x2 + c] -= a2 * v;
        X[x3 + c] -= a3 * v;
      }
    }
    // Diagonal block, rows/cols i-3..i: solve row i first.
    const j = i - 3;
    const e3 = unit ? 1 : 1 / A[r3 + j + 3], e2 = unit ? 1 : 1 / A[r2 + j + 2], e1 = unit ? 1 : 1 / A[r1 + j + 1], e0 = unit ? 1 : 1 / A[r0 + j];
    const a23 = A[r2 + j + 3], a13 = A[r1 + j + 3], a12 = A[r1 + j + 2], a03 = A[r0 + j + 3], a02 = A[r0 + j + 2], a01 = A[r0 + j + 1];
    for (let c = c0; c < c1; c++) {
      const v3 = unit ? X[x3 + c] : X[x3 + c] * e3;
      const v2 = unit ? X[x2 + c] - a23 * v3 : (X[x2 + c] - a23 * v3) * e2;
      const v1 = unit ? X[x1 + c] - a13 * v3 - a12 * v2 : (X[x1 + c] - a13 * v3 - a12 * v2) * e1;
      const v0 = unit
        ? X[x0 + c] - a03 * v3 - a02 * v2 - a01 * v1
        : (X[x0 + c] - a03 * v3 - a02 * v2 - a01 * v1) * e0;
      X[x0 + c] = v0; X[x1 + c] = v1; X[x2 + c] = v2; X[x3 + c] = v3;
    }
  }
  for (; i >= 0; i--) {
    const ri = aOff + i * n;
    const xi = xOff + i * m;
    for (let k = i + 1; k < n; k++) {
      const aik = A[ri + k];
      if (aik === 0) continue;
      const xk = xOff + k * m;
      for (let c = c0; c < c1; c++) X[xi + c] -= aik * X[xk + c];
    }
    if (!unit) {
      const rd = 1 / A[ri + i];
      for (let c = c0; c < c1; c++) X[xi + c] *= rd;
    }
  }
}

/** L^T X = B (op is upper): column-oriented backward. For a block of rows i-3..i of X: solve the block with the
 * 4×4 diagonal block of L^T, then X_k -= Σ_{p in block} L_pk X_p for all k < i-3 (four X rows per load of X_k). */
function matLowerT(
  A: Float64Array, aOff: number, X: Float64Array, xOff: number, n: number, m: number, c0: number, c1: number, unit: boolean,
): void {
  let i = n - 1;
  for (; i - 3 >= 0; i -= 4) {
    const j = i - 3;
    const r0 = aOff + j * n, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n; // rows j..j+3 of L
    const x0 = xOff + j * m, x1 = x0 + m, x2 = x1 + m, x3 = x2 + m;
    // (L^T) restricted to the block is upper: (L^T)[p][q] = L[q][p].
    const e0 = unit ? 1 : 1 / A[r0 + j], e1 = unit ? 1 : 1 / A[r1 + j + 1], e2 = unit ? 1 : 1 / A[r2 + j + 2], e3 = unit ? 1 : 1 / A[r3 + j + 3];
    const l10 = A[r1 + j], l20 = A[r2 + j], l21 = A[r2 + j + 1], l30 = A[r3 + j], l31 = A[r3 + j + 1], l32 = A[r3 + j + 2];
    for (let c = c0; c < c1; c++) {
      const v3 = unit ? X[x3 + c] : X[x3 + c] * e3;
      const v2 = unit ? X[x2 + c] - l32 * v3 : (X[x2 + c] - l32 * v3) * e2;
      const v1 = unit ? X[x1 + c] - l31 * v3 - l21 * v2 : (X[x1 + c] - l31 * v3 - l21 * v2) * e1;
      const v0 = unit
        ? X[x0 + c] - l30 * v3 - l20 * v2 - l10 * v1
        : (X[x0 + c] - l30 * v3 - l20 * v2 - l10 * v1) * e0;
      X[x0 + c] = v0; X[x1 + c] = v1; X[x2 + c] = v2; X[x3 + c] = v3;
    }
    let k = 0;
    for (; k + 3 < j; k += 4) {
      update4x4T(A, r0 + k, r1 + k, r2 + k, r3 + k, X, xOff + k * m, m, x0, x1, x2, x3, c0, c1);
    }
    for (; k < j; k++) {
      const a0 = A[r0 + k], a1 = A[r1 + k], a2 = A[r2 + k], a3 = A[r3 + k];
      const xk = xOff + k * m;
      for (let c = c0; c < c1; c++) {
        X[xk + c] -= a0 * X[x0 + c] + a1 * X[x1 + c] + a2 * X[x2 + c] + a3 * X[x3 + c];
      }
    }
  }
  for (; i >= 0; i--) {
    const ri = aOff + i * n;
    const xi = xOff + i * m;
    if (!unit) {
      const rd = 1 / A[ri + i];
      for (let c = c0; c < c1; c++) X[xi + c] *= rd;
    }
    for (let k = 0; k < i; k++) {
      const aik = A[ri + k];
      if (aik === 0) continue;
      const xk = xOff + k * m;
      for (let c = c0; c < c1; c++) X[xk + c] -= aik * X[xi + c];
    }
  }
}

/** U^T X = B (op is lower): column-oriented forward, blocks of four rows of X. */
function matUpperT(
  A: Float64Array, aOff: number, X: Float64Array, xOff: number, n: number, m: number, c0: number, c1: number, unit: boolean,
): void {
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const r0 = aOff + i * n, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n; // rows i..i+3 of U
    const x0 = xOff + i * m, x1 = x0 + m, x2 = x1 + m, x3 = x2 + m;
    // (U^T) restricted to the block is lower: (U^T)[p][q] = U[q][p].
    const e0 = unit ? 1 : 1 / A[r0 + i], e1 = unit ? 1 : 1 / A[r1 + i + 1], e2 = unit ? 1 : 1 / A[r2 + i + 2], e3 = unit ? 1 : 1 / A[r3 + i + 3];
    const u01 = A[r0 + i + 1], u02 = A[r0 + i + 2], u03 = A[r0 + i + 3], u12 = A[r1 + i + 2], u13 = A[r1 + i + 3], u23 = A[r2 + i + 3];
    for (let c = c0; c < c1; c++) {
      const v0 = unit ? X[x0 + c] : X[x0 + c] * e0;
      const v1 = unit ? X[x1 + c] - u01 * v0 : (X[x1 + c] - u01 * v0) * e1;
      const v2 = unit ? X[x2 + c] - u02 * v0 - u12 * v1 : (X[x2 + c] - u02 * v0 - u12 * v1) * e2;
      const v3 = unit
        ? X[x3 + c] - u03 * v0 - u13 * v1 - u23 * v2
        : (X[x3 + c] - u03 * v0 - u13 * v1 - u23 * v2) * e3;
      X[x0 + c] = v0; X[x1 + c] = v1; X[x2 + c] = v2; X[x3 + c] = v3;
    }
    let k = i + 4;
    for (; k + 3 < n; k += 4) {
      update4x4T(A, r0 + k, r1 + k, r2 + k, r3 + k, X, xOff + k * m, m, x0, x1, x2, x3, c0, c1);
    }
    for (; k < n; k++) {
      const a0 = A[r0 + k], a1 = A[r1 + k], a2 = A[r2 + k], a3 = A[r3 + k];
      const xk = xOff + k * m;
      for (let c = c0; c < c1; c++) {
        X[xk + c] -= a0 * X[x0 + c] + a1 * X[x1 + c] + a2 * X[x2 + c] + a3 * X[x3 + c];
      }
    }
  }
  for (; i < n; i++) {
    const ri = aOff + i * n;
    const xi = xOff + i * m;
    if (!unit) {
      const rd = 1 / A[ri + i];
      for (let c = c0; c < c1; c++) X[xi + c] *= rd;
    }
    for (let k = i + 1; k < n; k++) {
      const aik = A[ri + k];
      if (aik === 0) continue;
      const xk = xOff + k * m;
      for (let c = c0; c < c1; c++) X[xk + c] -= aik * X[xi + c];
    }
  }
}

/** X[x_p] -= Σ_q A[r_p + q] X[xk + q*m], p, q in 0..3, columns [c0, c1): rows x0..x3 of X receive the contributions
 * of the four consecutive rows of X starting at xk, with coefficients A[r_p + q]. */
function update4x4(
  A: Float64Array, r0: number, r1: number, r2: number, r3: number,
  X: Float64Array, xk: number, m: number, x0: number, x1: number, x2: number, x3: number, c0: number, c1: number,
): void {
  const a00 = A[r0], a01 = A[r0 + 1], a02 = A[r0 + 2], a03 = A[r0 + 3];
  const a10 = A[r1], a11 = A[r1 + 1], a12 = A[r1 + 2], a13 = A[r1 + 3];
  const a20 = A[r2], a21 = A[r2 + 1], a22 = A[r2 + 2], a23 = A[r2 + 3];
  const a30 = A[r3], a31 = A[r3 + 1], a32 = A[r3 + 2], a33 = A[r3 + 3];
  const k0 = xk, k1 = xk + m, k2 = k1 + m, k3 = k2 + m;
  for (let c = c0; c < c1; c++) {
    const v0 = X[k0 + c], v1 = X[k1 + c], v2 = X[k2 + c], v3 = X[k3 + c];
    X[x0 + c] -= a00 * v0 + a01 * v1 + a02 * v2 + a03 * v3;
    X[x1 + c] -= a10 * v0 + a11 * v1 + a12 * v2 + a13 * v3;
    X[x2 + c] -= a20 * v0 + a21 * v1 + a22 * v2 + a23 * v3;
    X[x3 + c] -= a30 * v0 + a31 * v1 + a32 * v2 + a33 * v3;
  }
}

/** Transposed variant: the four rows of X starting at xk receive contributions of rows x0..x3:
 * X[xk + q*m] -= Σ_p A[r_p + q] X[x_p], p, q in 0..3. */
function update4x4T(
  A: Float64Array, r0: number, r1: number, r2: number, r3: number,
  X: Float64Array, xk: number, m: number, x0: number, x1: number, x2: number, x3: number, c0: number, c1: number,
): void {
  const a00 = A[r0], a01 = A[r0 + 1], a02 = A[r0 + 2], a03 = A[r0 + 3];
  const a10 = A[r1], a11 = A[r1 + 1], a12 = A[r1 + 2], a13 = A[r1 + 3];
  const a20 = A[r2], a21 = A[r2 + 1], a22 = A[r2 + 2], a23 = A[r2 + 3];
  const a30 = A[r3], a31 = A[r3 + 1], a32 = A[r3 + 2], a33 = A[r3 + 3];
  const k0 = xk, k1 = xk + m, k2 = k1 + m, k3 = k2 + m;
  for (let c = c0; c < c1; c++) {
    const v0 = X[x0 + c], v1 = X[x1 + c], v2 = X[x2 + c], v3 = X[x3 + c];
    X[k0 + c] -= a00 * v0 + a10 * v1 + a20 * v2 + a30 * v3;
    X[k1 + c] -= a01 * v0 + a11 * v1 + a21 * v2 + a31 * v3;
    X[k2 + c] -= a02 * v0 + a12 * v1 + a22 * v2 + a32 * v3;
    X[k3 + c] -= a03 * v0 + a13 * v1 + a23 * v2 + a33 * v3;
  }
}
