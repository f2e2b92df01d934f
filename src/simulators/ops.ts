/** The engine ops the simulators use (internal re-exports). */
import type { Tensor } from '../tensor.js';
import { add, maximum, mul, sub, abs, exp, log1p, neg } from '../autodiff/ops/elementwise.js';
export { add, sub, mul, div, log, exp, neg, cast, equal, where, sigmoid, square, clip, pow, maximum, minimum, isFinite } from '../autodiff/ops/elementwise.js';
export { max, sum, mean, softmax } from '../autodiff/ops/reduce.js';
export { stack, concat, reshape, slice, broadcastTo, expandDims } from '../autodiff/ops/shape.js';
export { stopGradient } from '../autodiff/ops/special.js';
export { take, scatterAdd, sort } from '../autodiff/ops/indexing.js';

/** log(e^{ka} + e^{kb}) computed as max + log1p(exp(−|ka − kb|)). */
export function logsumexpPair(a: Tensor | number, b: Tensor | number, k: number): Tensor {
  const ka = mul(a as Tensor, k);
  const kb = mul(b as Tensor, k);
  return add(maximum(ka, kb), log1p(exp(neg(abs(sub(ka, kb))))));
}
