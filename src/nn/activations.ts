import type { Tensor } from '../tensor.js';
import { add, erf, greater, mul, relu, sigmoid, softplus, tanh, where } from '../autodiff/ops/elementwise.js';
import { ConfigError } from '../errors.js';
import { operands } from '../autodiff/ops/util.js';
import { describeValue } from '../validate.js';

/** The named activations of `activations`. */
export type ActivationName = 'tanh' | 'relu' | 'leakyRelu' | 'sigmoid' | 'softplus' | 'gelu' | 'identity';
/** An activation: a name or any Tensor → Tensor function. */
export type Activation = ActivationName | ((x: Tensor) => Tensor);

/** Exact GELU x·Φ(x) = ½x(1 + erf(x/√2)) (not the tanh approximation that jax.nn.gelu defaults to). */
export function gelu(x: Tensor): Tensor {
  return mul(mul(x, 0.5), add(erf(mul(x, Math.SQRT1_2)), 1));
}

/**
 * Leaky ReLU: x for x > 0, else negativeSlope·x (jax.nn.leaky_relu; default slope 0.01, as jax and
 * imnn's networks). The derivative at 0 is negativeSlope, as jax's `where(x >= 0, …)` gives 1 there:
 * a measure-zero choice that only matters for inputs exactly at 0.
 */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  if (typeof negativeSlope !== 'number' || !Number.isFinite(negativeSlope)) {
    throw new ConfigError(`leakyRelu: negativeSlope must be a finite number, got ${describeValue(negativeSlope)}.`);
  }
  // x·m with the slope mask m = 1 or negativeSlope read off x's sign: m carries no derivative, so a
  // tangent or cotangent costs one product (where(x > 0, x, s·x) costs two to five passes under
  // jvp and grad); the same values bit for bit
  const [one, slope] = operands('leakyRelu', [x, 1, negativeSlope]).slice(1); // x's dtype and backend
  return mul(x, where(greater(x, 0), one!, slope!));
}

/** The named activation functions (GELU exact, identity included). */
export const activations: Record<ActivationName, (x: Tensor) => Tensor> = {
  tanh,
  relu,
  leakyRelu: (x) => leakyRelu(x),
  sigmoid,
  softplus,
  gelu,
  identity: (x) => x,
};

export function resolveActivation(op: string, name: string, a: unknown): (x: Tensor) => Tensor {
  if (typeof a === 'function') return a as (x: Tensor) => Tensor;
  if (typeof a === 'string' && a in activations) return activations[a as ActivationName];
  throw new ConfigError(`${op}: unknown ${name} ${describeValue(a)} (use ${Object.keys(activations).map((k) => `'${k}'`).join(', ')} or a function (x) => Tensor).`);
}
