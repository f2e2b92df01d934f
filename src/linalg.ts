/**
 * bt.linalg: batched dense linear algebra with tested derivatives.
 *
 * @module
 */
export { cholesky, triangularSolve, solve, inv, slogdet, det, choleskySolve, logdetCholesky, type OnFailure } from './autodiff/ops/linalg.js';
