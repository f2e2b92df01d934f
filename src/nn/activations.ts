import type { Tensor } from '../tensor.js';
import { add, erf, mul, relu, sigmoid, softplus, tanh } from '../autodiff/ops/elementwise.js';
import { ConfigError } from '../errors.js';
import { describeValue } from '../validate.js';

/** The named activations of `activations`. */
export type ActivationName = 'tanh' | 'relu' | 'sigmoid' | 'softplus' | 'gelu' | 'identity';
/** An activation: a name or any Tensor → Tensor function. */
export type Activation = ActivationName | ((x: Tensor) => Tensor);

/** Exact GELU x·Φ(x) = ½x(1 + erf(x/√2)) (not the tanh approximation that jax.nn.gelu defaults to). */
export function gelu(x: Tensor): Tensor {
  return mul(mul(x, 0.5), add(erf(mul(x, Math.SQRT1_2)), 1));
}

/** The named activation functions (GELU exact, identity included). */
export const activations: Record<ActivationName, (x: Tensor) => Tensor> = {
  tanh,
  relu,
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
