import { Tensor } from '../tensor.js';
import { add, cast, logSigmoid, mul, neg } from '../autodiff/ops/elementwise.js';
import { ConfigError, DTypeError, ShapeError } from '../errors.js';
import { fmtShape, shapesEqual } from '../shape.js';
import { describeValue } from '../validate.js';

/**
 * Elementwise log Bernoulli(y | σ(logits)) = y·ℓ + log σ(−ℓ), which equals y log σ(ℓ) +
 * (1 − y) log σ(−ℓ) for y ∈ {0, 1} and never evaluates log(0) or exp of a large ℓ.
 * y (0/1, float or int32) must have exactly the shape of logits: a [n] label vector against
 * [n, 1] logits would otherwise broadcast to an [n, n] matrix, the classic silent bug.
 */
export function bernoulliLogits(y: Tensor, logits: Tensor): Tensor {
  const op = 'logpdf.bernoulliLogits';
  if (!(y instanceof Tensor) || !(logits instanceof Tensor)) {
    throw new ConfigError(`${op}: y and logits must be Tensors, got ${describeValue(y)} and ${describeValue(logits)}.`);
  }
  if (logits.dtype === 'int32') throw new DTypeError(`${op}: logits must be float, got int32.`);
  if (!shapesEqual(y.shape, logits.shape)) {
    throw new ShapeError(`${op}: y ${fmtShape(y.shape)} and logits ${fmtShape(logits.shape)} must have the same shape (squeeze or reshape one of them).`);
  }
  const yf = y.dtype === logits.dtype ? y : cast(y, logits.dtype); // labels are data, casting them is safe
  return add(mul(yf, logits), logSigmoid(neg(logits)));
}
