/** The engine ops the simulators use (internal re-exports). */
import type { Tensor } from '../tensor.js';
import { logaddexp, mul } from '../autodiff/ops/elementwise.js';
export { add, sub, mul, div, log, exp, neg, cast, equal, where, sigmoid, square, clip, pow, maximum, minimum, isFinite } from '../autodiff/ops/elementwise.js';
export { max, sum, mean, softmax } from '../autodiff/ops/reduce.js';
export { stack, concat, reshape, slice, broadcastTo, expandDims } from '../autodiff/ops/shape.js';
export { stopGradient } from '../autodiff/ops/special.js';
export { take, scatterAdd, sort } from '../autodiff/ops/indexing.js';

/** log(e^{ka} + e^{kb}), stable, with smooth derivatives where ka = kb (bt.logaddexp). */
export function logsumexpPair(a: Tensor | number, b: Tensor | number, k: number): Tensor {
  return logaddexp(mul(a as Tensor, k), mul(b as Tensor, k));
}
