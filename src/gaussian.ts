/**
 * Gaussian algebra shared by logpdf.multivariateNormal and distributions.MultivariateNormal
 * (and its KL): the Mahalanobis term through a triangular solve with the lower Cholesky factor,
 * and half the log-determinant. Neither forms the covariance or its inverse.
 */
import type { Tensor } from './tensor.js';
import { log, square } from './autodiff/ops/elementwise.js';
import { sum } from './autodiff/ops/reduce.js';
import { broadcastTo, moveAxis, reshape, transpose } from './autodiff/ops/shape.js';
import { diagonal } from './autodiff/ops/indexing.js';
import { triangularSolve } from './autodiff/ops/linalg.js';
import { shapesEqual, sizeOf } from './shape.js';

/** Σᵢ log Lᵢᵢ over the last axis of a Cholesky factor L [..., d, d]: ½ log det Σ, shape [...]. */
export function halfLogDet(L: Tensor): Tensor {
  return sum(log(diagonal(L)), { axis: -1 });
}

/**
 * ‖L⁻¹ diff‖² over the last axis, for diff [...S, ...batch, d] and L either [d, d] (one factor for
 * every point: a single solve with the points as the columns) or broadcastable to [...batch, d, d];
 * returns [...S, ...batch].
 */
export function mahalanobis(L: Tensor, diff: Tensor, batch: readonly number[]): Tensor {
  const d = L.shape[L.ndim - 1]!;
  const F = diff.shape;
  if (L.ndim === 2) {
    const m = sizeOf(F.slice(0, -1));
    const z = triangularSolve(L, transpose(reshape(diff, [m, d])), { lower: true });
    return reshape(sum(square(z), { axis: 0 }), F.slice(0, -1));
  }
  const full = [...batch, d, d];
  const Lb = shapesEqual(L.shape, full) ? L : broadcastTo(L, full);
  const S = F.slice(0, F.length - 1 - batch.length);
  const m = sizeOf(S);
  const cols = moveAxis(reshape(diff, [m, ...batch, d]), 0, -1); // [...batch, d, m]
  const z = triangularSolve(Lb, cols, { lower: true });
  const q = moveAxis(sum(square(z), { axis: -2 }), -1, 0); // [m, ...batch]
  return reshape(q, [...S, ...batch]);
}
