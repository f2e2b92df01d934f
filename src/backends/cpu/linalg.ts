/**
 * Batched dense linear-algebra kernels for the CPU backend.
 *
 * All matrices are row-major and contiguous; a batch is `batch` matrices laid out one after another.
 * Kernels are synchronous, allocation-free in their inner loops, and work on Float64Array (reference path)
 * or Float32Array. Intermediate sums are accumulated in JS numbers (double precision) and rounded once on store,
 * so the float32 path is as accurate as the storage format allows — except float32 triangular solves on the
 * Wasm route below, which compute in float32 (see linalg/trsm-wasm.ts).
 *
 * Loop orders are chosen so that inner loops run over contiguous memory:
 *  - cholesky: row-oriented (Cholesky–Banachiewicz); each entry is a dot product of two rows of L,
 *    computed two rows at a time to halve memory traffic.
 *  - triangularSolve / luSolve: right-hand-side rows are updated with axpy's over contiguous rows of X,
 *    tiled over the columns of B so the working set of X stays in cache, and register-blocked over
 *    four rows of X at a time. triangularSolve with ≥ 2 right-hand sides and enough work runs the same
 *    operations as Wasm SIMD kernels (linalg/trsm-wasm.ts): float64 bit for bit; float32 in float32
 *    arithmetic, four columns per vector (backward stable at float32's roundoff, about twice as fast);
 *    large results stay in the Wasm memory they were computed in (triangularSolveResident).
 *  - luFactor: right-looking rank-1 updates over contiguous rows (partial pivoting, like LAPACK getf2).
 */

// The kernels live one factorisation per file under linalg/; this module is their one entry point.
export type { FloatArray } from './linalg/scratch.js';
export { cholesky } from './linalg/cholesky.js';
export { triangularSolve, triangularSolveResident } from './linalg/triangular.js';
export { luFactor, luSolve, slogdetFromLu } from './linalg/lu.js';
