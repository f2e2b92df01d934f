/**
 * bt.linalg: batched dense linear algebra with tested derivatives.
 *
 * @module
 */
export { cholesky, triangularSolve, solve, inv, slogdet, det, choleskySolve, logdetCholesky } from './autodiff/ops/linalg.js';
