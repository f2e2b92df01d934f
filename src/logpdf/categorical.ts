import { Tensor } from '../tensor.js';
import { logSoftmax } from '../autodiff/ops/reduce.js';
import { expandDims, squeeze } from '../autodiff/ops/shape.js';
import { takeAlongAxis } from '../autodiff/ops/indexing.js';
import { ConfigError, DTypeError, ShapeError } from '../errors.js';
import { fmtShape, shapesEqual } from '../shape.js';
import { describeValue } from '../validate.js';

/**
 * log Categorical(y | softmax(logits)) = logits[y] − logsumexp(logits), for int32 class labels
 * y [...] and logits [..., K]; returns [...]. Labels outside [0, K) are an error of the gather.
 */
export function categoricalLogits(y: Tensor, logits: Tensor): Tensor {
  const op = 'logpdf.categoricalLogits';
  if (!(y instanceof Tensor) || !(logits instanceof Tensor)) {
    throw new ConfigError(`${op}: y and logits must be Tensors, got ${describeValue(y)} and ${describeValue(logits)}.`);
  }
  if (y.dtype !== 'int32') throw new DTypeError(`${op}: y must be int32 class labels, got ${y.dtype}; use y.astype('int32').`);
  if (logits.dtype === 'int32') throw new DTypeError(`${op}: logits must be float, got int32.`);
  if (logits.ndim < 1 || !shapesEqual(y.shape, logits.shape.slice(0, -1))) {
    throw new ShapeError(`${op}: y must be [...] and logits [..., K] with the same leading shape; got y ${fmtShape(y.shape)} and logits ${fmtShape(logits.shape)}.`);
  }
  return squeeze(takeAlongAxis(logSoftmax(logits, { axis: -1 }), expandDims(y, -1), -1), -1);
}
