/**
 * Typed errors. Every message names the operation, the values involved and what to do about it,
 * so a user can act on it without reading our source.
 */
export class BayestapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Shapes that do not fit together (broadcasting, matmul, reshape, pytree structure). */
export class ShapeError extends BayestapeError {}
/** A dtype that an op does not accept, or two dtypes mixed without an explicit cast. */
export class DTypeError extends BayestapeError {}
/** A backend that is missing, not ready, or lacks a kernel for an op. */
export class BackendError extends BayestapeError {}
/** A bad option, argument or API misuse (unknown key, disposed tensor, wrong argument kind). */
export class ConfigError extends BayestapeError {}
/** A numerical failure: a non-SPD matrix in Cholesky, a singular solve, a NaN where none is allowed. */
export class NumericalError extends BayestapeError {}

/** A traced value (inside `jit`) was used where a concrete value is needed, e.g. read on the host. */
export class TracerError extends BayestapeError {}
