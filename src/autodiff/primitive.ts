import type { DType, TypedArray } from '../dtype.js';
import type { Tensor } from '../tensor.js';

/** Abstract value: what shape rules see. */
export interface Aval {
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** A cotangent in a reverse rule: a Tensor, or null for a symbolic zero (nothing flows). */
export type Cotangent = Tensor | null;

/**
 * A primitive is the unit the engine knows: a shape rule, kernels per backend, and derivative
 * rules written with other ops (never raw kernels), so every transform composes with every other.
 */
export interface Primitive<P = any> {
  readonly name: string;
  /** Validates inputs and gives the output avals (throws a typed error on bad input). */
  shape(inputs: readonly Aval[], params: P): Aval[];
  /** Forward rule: tangents of the outputs from tangents of the inputs (null = zero). */
  jvp?(primals: Tensor[], tangents: (Tensor | null)[], params: P, outs: Tensor[]): (Tensor | null)[];
  /**
   * Reverse rule: cotangents of the inputs from cotangents of the outputs (null = zero).
   * `needs[i]` is false when input i is a constant of the transform: the rule may skip it.
   */
  vjp?(cts: Cotangent[], primals: Tensor[], outs: Tensor[], params: P, needs: readonly boolean[]): Cotangent[];
  /**
   * Batching rule for vmap: args with dims[i] === 0 carry a leading batch axis, null ones do not.
   * Returns outputs that all carry a leading batch axis. Without a rule, vmap loops and stacks.
   */
  batch?(args: Tensor[], dims: (0 | null)[], params: P, size: number): Tensor[];
  /** Outputs carry no derivative (comparisons, argsort, random bits): transforms pass through. */
  readonly nondiff?: boolean;
  /** The output shares the input's storage (reshape-like): no kernel runs. */
  readonly view?: boolean;
}

/** The CPU kernel convention for user primitives: inputs as flat typed arrays plus shapes. */
export interface CpuInput {
  readonly data: TypedArray;
  readonly shape: readonly number[];
  readonly dtype: DType;
}
/** A CPU kernel: computes the outputs (one typed array per output aval) from flat inputs and the op's params. */
export type CpuKernel<P = any> = (inputs: CpuInput[], params: P, outs: Aval[]) => TypedArray | TypedArray[];
