import { tidy } from '../../memory.js';
import type { Tensor } from '../../tensor.js';
import { bind, bind1 } from '../core.js';
import type { Aval, Primitive } from '../primitive.js';
import { ConfigError, ShapeError } from '../../errors.js';
import { assertFloat, assertSameDType } from '../../dtype.js';
import { broadcastShapes, fmtShape } from '../../shape.js';
import { add, alignBatched, exp, log, mul, neg, sub } from './elementwise.js';
import { matmulPrim } from './matmul.js';
import { broadcastTo, expandDims, mT, squeeze, sumTo } from './shape.js';
import { sum } from './reduce.js';
import { diagonal, tril, triu } from './indexing.js';
import { eye } from './creation.js';
import { checkKnown, describeValue } from '../../validate.js';

/**
 * Dense linear algebra over a leading batch of matrices. Derivative rules follow Murray (2016,
 * arXiv:1602.07527) for Cholesky and the standard adjoint identities for solves and log-dets,
 * all expressed with triangular solves and matmuls, so they are differentiable again.
 */

const mm = (a: Tensor, b: Tensor, transA = false, transB = false) => bind1(matmulPrim, [a, b], { transA, transB });

function square(op: string, a: Aval): number {
  const s = a.shape;
  if (s.length < 2 || s[s.length - 1] !== s[s.length - 2]) {
    throw new ShapeError(`${op}: expected square matrices [..., n, n], got ${fmtShape(s)}.`);
  }
  assertFloat(op, a.dtype);
  return s[s.length - 1]!;
}

/** Output aval of solving with a: [...batch(a, b), n, m]. */
function solveShape(op: string, a: Aval, b: Aval): Aval[] {
  const n = square(op, a);
  const dtype = assertSameDType(op, [a.dtype, b.dtype]);
  if (b.shape.length < 2 || b.shape[b.shape.length - 2] !== n) {
    throw new ShapeError(`${op}: right-hand side ${fmtShape(b.shape)} must be [..., ${n}, m] for a ${n}×${n} system (use a column [n, 1] for one vector).`);
  }
  const batch = broadcastShapes(op, a.shape.slice(0, -2), b.shape.slice(0, -2));
  return [{ shape: [...batch, n, b.shape[b.shape.length - 1]!], dtype }];
}

/** Φ: lower triangle with the diagonal halved. */
function phi(x: Tensor): Tensor {
  const n = x.shape[x.ndim - 1]!;
  return sub(tril(x), mul(x, mul(eye(n, n, x.dtype), 0.5)));
}

/**
 * Params of cholesky and solve: `onFailure: 'nan'` makes a failing matrix (not positive definite,
 * singular) come out all NaN instead of raising a NumericalError for the whole batch; the other
 * matrices of the batch are unaffected. Absent (the default) means throw.
 */
interface FailParams {
  onFailure?: 'nan';
}

/** What a caller may ask for when one matrix of a batch fails. */
export type OnFailure = 'throw' | 'nan';

function failParams(op: string, onFailure: unknown): FailParams {
  if (onFailure === undefined || onFailure === 'throw') return {};
  if (onFailure === 'nan') return { onFailure: 'nan' };
  throw new ConfigError(`${op}: onFailure must be 'throw' or 'nan', got ${describeValue(onFailure)}.`);
}

const choleskyPrim: Primitive<FailParams> = {
  name: 'cholesky',
  shape: ([a]) => {
    square('cholesky', a!);
    return [a!];
  },
  jvp: (_x, [t], _p, [l]) => {
    const s = mul(add(t!, mT(t!)), 0.5);
    const x = trsm(l!, s, true, false);
    const y = trsm(l!, mT(x), true, false); // L⁻¹ Ṡ L⁻ᵀ
    return [mm(l!, phi(y))];
  },
  vjp: ([ct], _x, [l]) => {
    if (!ct) return [null];
    const p = phi(mm(l!, ct, true, false)); // Φ(Lᵀ L̄)
    const z = trsm(l!, p, true, true); // L⁻ᵀ P
    const g = mT(trsm(l!, mT(z), true, true)); // L⁻ᵀ P L⁻¹
    return [mul(add(g, mT(g)), 0.5)];
  },
  batch: ([a], _dims, p) => [bind1(choleskyPrim, [a!], p)],
};

interface TriParams {
  lower: boolean;
  transposeA: boolean;
  unitDiagonal: boolean;
}

function trsm(a: Tensor, b: Tensor, lower: boolean, transposeA: boolean, unitDiagonal = false): Tensor {
  return bind1(triangularSolvePrim, [a, b], { lower, transposeA, unitDiagonal });
}

/** The part of a tangent/cotangent that the solve reads: A's triangle (without the diagonal if unit). */
function triPart(x: Tensor, p: TriParams): Tensor {
  const k = p.unitDiagonal ? 1 : 0;
  return p.lower ? tril(x, -k) : triu(x, k);
}

const triangularSolvePrim: Primitive<TriParams> = {
  name: 'triangularSolve',
  shape: ([a, b]) => solveShape('triangularSolve', a!, b!),
  jvp: ([a, b], [ta, tb], p, [x]) => {
    // Ẋ = op(A)⁻¹ (Ḃ − op(Ȧ) X)
    let rhs: Tensor | null = tb;
    if (ta) {
      const dax = mm(triPart(ta, p), x!, p.transposeA, false);
      rhs = rhs ? sub(rhs, dax) : neg(dax);
    }
    return [rhs && trsm(a!, broadcastTo(rhs, x!.shape), p.lower, p.transposeA, p.unitDiagonal)];
  },
  vjp: ([ct], [a, b], [x], p, needs) => {
    if (!ct) return [null, null];
    const bbar = trsm(a!, ct, p.lower, !p.transposeA, p.unitDiagonal);
    const abar = !needs[0] ? null : p.transposeA ? neg(mm(x!, bbar, false, true)) : neg(mm(bbar, x!, false, true));
    return [abar && sumTo(triPart(abar, p), a!.shape), needs[1] ? sumTo(bbar, b!.shape) : null];
  },
  batch: (args, dims, p) => [bind1(triangularSolvePrim, alignBatched(args, dims), p)],
};

// The derivative rules solve with A (or Aᵀ) again under the same params, so a failed matrix gives
// NaN derivatives in 'nan' mode instead of a throw in the backward pass.
const solvePrim: Primitive<FailParams> = {
  name: 'solve',
  shape: ([a, b]) => solveShape('solve', a!, b!),
  jvp: ([a, b], [ta, tb], p, [x]) => {
    let rhs: Tensor | null = tb;
    if (ta) {
      const dax = mm(ta, x!);
      rhs = rhs ? sub(rhs, dax) : neg(dax);
    }
    return [rhs && bind1(solvePrim, [a!, broadcastTo(rhs, x!.shape)], p)];
  },
  vjp: ([ct], [a, b], [x], p, needs) => {
    if (!ct) return [null, null];
    const bbar = bind1(solvePrim, [mT(a!), ct], p);
    return [needs[0] ? sumTo(neg(mm(bbar, x!, false, true)), a!.shape) : null, needs[1] ? sumTo(bbar, b!.shape) : null];
  },
  batch: (args, dims, p) => [bind1(solvePrim, alignBatched(args, dims), p)],
};

const slogdetPrim: Primitive = {
  name: 'slogdet',
  shape: ([a]) => {
    square('slogdet', a!);
    const s = { shape: a!.shape.slice(0, -2), dtype: a!.dtype };
    return [s, s];
  },
  jvp: ([a], [t]) => [null, sum(diagonal(bind1(solvePrim, [a!, t!], {})), { axis: -1 })],
  vjp: ([, ct], [a]) => {
    if (!ct) return [null];
    const n = a!.shape[a!.ndim - 1]!;
    const invT = mT(bind1(solvePrim, [a!, broadcastTo(eye(n, n, a!.dtype), a!.shape)], {}));
    return [mul(expandDims(expandDims(ct, -1), -1), invT)];
  },
  batch: ([a]) => bind(slogdetPrim, [a!], {}),
};

export const linalgPrims = { cholesky: choleskyPrim, triangularSolve: triangularSolvePrim, solve: solvePrim, slogdet: slogdetPrim };

/**
 * Lower Cholesky factor L (A = L Lᵀ) of each matrix in a batch. The input is symmetrised first
 * ((A + Aᵀ)/2, as jax.numpy does), which is also what the derivative assumes.
 * Throws NumericalError if a matrix is not positive definite (on WebGPU at the next read, since
 * GPU kernels cannot throw). With `onFailure: 'nan'` nothing is thrown: each matrix that is not
 * positive definite (or holds a NaN) comes out as an all-NaN matrix, the others exactly as
 * without the option, so `isNan` of a diagonal entry is a per-matrix failure mask. Derivatives
 * of the failed matrices are NaN; the others' are unchanged.
 */
export function cholesky(a: Tensor, opts?: { symmetrizeInput?: boolean; onFailure?: OnFailure }): Tensor {
  checkKnown('cholesky', opts, ['symmetrizeInput', 'onFailure']);
  square('cholesky', a);
  const p = failParams('cholesky', opts?.onFailure);
  if (opts?.symmetrizeInput === false) return bind1(choleskyPrim, [a], p);
  // tidy frees the symmetrised copy once factored (an active tape keeps what it recorded)
  return tidy(() => bind1(choleskyPrim, [mul(add(a, mT(a)), 0.5)], p));
}

/** Solves op(A) X = B for triangular A (lower by default); b may be a vector [n]. */
export function triangularSolve(a: Tensor, b: Tensor, opts?: { lower?: boolean; transposeA?: boolean; unitDiagonal?: boolean }): Tensor {
  checkKnown('triangularSolve', opts, ['lower', 'transposeA', 'unitDiagonal']);
  const vec = b.ndim === 1;
  const x = trsm(a, vec ? expandDims(b, -1) : b, opts?.lower ?? true, opts?.transposeA ?? false, opts?.unitDiagonal ?? false);
  return vec ? squeeze(x, -1) : x;
}

/**
 * Solves A X = B by LU with partial pivoting; b may be a vector [n]. A singular matrix (a zero
 * pivot) throws a NumericalError, or with `onFailure: 'nan'` gives an all-NaN solution for that
 * matrix only (the rest of the batch as without the option).
 */
export function solve(a: Tensor, b: Tensor, opts?: { onFailure?: OnFailure }): Tensor {
  checkKnown('solve', opts, ['onFailure']);
  const p = failParams('solve', opts?.onFailure);
  const vec = b.ndim === 1;
  const x = bind1(solvePrim, [a, vec ? expandDims(b, -1) : b], p);
  return vec ? squeeze(x, -1) : x;
}

/**
 * The inverse of a (batch of) square matrices, by LU with partial pivoting. A singular matrix
 * throws a NumericalError, or with `onFailure: 'nan'` comes out all NaN (the others unaffected).
 */
export function inv(a: Tensor, opts?: { onFailure?: OnFailure }): Tensor {
  checkKnown('inv', opts, ['onFailure']);
  const p = failParams('inv', opts?.onFailure);
  const n = square('inv', a);
  return bind1(solvePrim, [a, eye(n, n, a.dtype)], p);
}

/** [sign, log|det A|] for each matrix in a batch. */
export function slogdet(a: Tensor): [Tensor, Tensor] {
  const [s, l] = bind(slogdetPrim, [a], {});
  return [s!, l!];
}

/** The determinant of a (batch of) square matrices, from `slogdet`. */
export function det(a: Tensor): Tensor {
  const [s, l] = slogdet(a);
  return mul(s, exp(l));
}

/** Solves A X = B given the lower Cholesky factor L of A. */
export function choleskySolve(l: Tensor, b: Tensor): Tensor {
  const y = triangularSolve(l, b, { lower: true });
  return triangularSolve(l, y, { lower: true, transposeA: true });
}

/** log det A = 2 Σ log diag L, from the Cholesky factor L of A. */
export function logdetCholesky(l: Tensor): Tensor {
  return mul(sum(log(diagonal(l)), { axis: -1 }), 2);
}
