/** The engine ops the simulators use (internal re-exports). */
import type { Tensor } from '../tensor.js';
import type { DType } from '../dtype.js';
import { keep } from '../memory.js';
import { currentBackend } from '../backends/backend.js';
import { logaddexp, mul } from '../autodiff/ops/elementwise.js';
export { add, sub, mul, div, log, exp, neg, cast, equal, where, sigmoid, square, clip, pow, maximum, minimum, isFinite } from '../autodiff/ops/elementwise.js';
export { max, sum, mean, softmax } from '../autodiff/ops/reduce.js';
export { stack, concat, reshape, slice, broadcastTo, expandDims } from '../autodiff/ops/shape.js';
export { stopGradient } from '../autodiff/ops/special.js';
export { take, scatterAdd, sort } from '../autodiff/ops/indexing.js';

/**
 * log(e^{ka} + e^{kb}), stable, with smooth derivatives where ka = kb (bt.logaddexp). A
 * plain-number operand stays a number until it meets the tensor one, so it takes that tensor's dtype.
 */
export function logsumexpPair(a: Tensor | number, b: Tensor | number, k: number): Tensor {
  const ka = typeof a === 'number' ? a * k : mul(a, k);
  const kb = typeof b === 'number' ? b * k : mul(b, k);
  return logaddexp(ka, kb);
}

/**
 * A model's constant (graph indices, a covariance factor), made on first use for each backend and
 * dtype and kept for the model's lifetime: a model is often built before the backend is chosen,
 * and the same model may run on the CPU and on WebGPU.
 */
export function perBackend(make: (dtype: DType) => Tensor): (dtype: DType) => Tensor {
  const made = new Map<string, Tensor>();
  return (dtype) => {
    const k = `${currentBackend().name}/${dtype}`;
    let t = made.get(k);
    if (t === undefined || t._disposed) {
      t = keep(make(dtype));
      made.set(k, t);
    }
    return t;
  };
}
