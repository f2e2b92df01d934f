import { Tensor } from '../tensor.js';
import { mul, sub } from '../autodiff/ops/elementwise.js';
import { broadcastTo } from '../autodiff/ops/shape.js';
import { ConfigError, ShapeError } from '../errors.js';
import { broadcastShapes, fmtShape, shapesEqual } from '../shape.js';
import { halfLogDet, mahalanobis } from '../gaussian.js';
import { describeValue } from '../validate.js';

/**
 * log N(x | mean, L Lᵀ) for x [..., d], with the lower Cholesky factor L [d, d] (or a batch
 * [..., d, d]) of the covariance; returns one value per leading index of x: shape [...].
 *   −½‖L⁻¹(x − mean)‖² − Σ log Lᵢᵢ − (d/2) log 2π.
 * The triangular solve never forms the covariance or its inverse. L's diagonal must be positive
 * (a Cholesky factor); it is not checked on the device.
 */
export function multivariateNormal(x: Tensor, mean: Tensor | number, cholFactor: Tensor): Tensor {
  const op = 'logpdf.multivariateNormal';
  if (!(x instanceof Tensor)) throw new ConfigError(`${op}: x must be a Tensor [..., d], got ${describeValue(x)}.`);
  if (!(cholFactor instanceof Tensor)) throw new ConfigError(`${op}: cholFactor must be a Tensor [d, d], got ${describeValue(cholFactor)}.`);
  if (!(mean instanceof Tensor) && typeof mean !== 'number') throw new ConfigError(`${op}: mean must be a Tensor [..., d] or a number, got ${describeValue(mean)}.`);
  const L = cholFactor;
  if (L.ndim < 2 || L.shape[L.ndim - 1] !== L.shape[L.ndim - 2]) throw new ShapeError(`${op}: cholFactor must be square [..., d, d], got ${fmtShape(L.shape)}.`);
  const d = L.shape[L.ndim - 1]!;
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== d) throw new ShapeError(`${op}: x must be [..., ${d}] to match cholFactor ${fmtShape(L.shape)}, got ${fmtShape(x.shape)}.`);
  if (mean instanceof Tensor && mean.ndim >= 1 && mean.shape[mean.ndim - 1] !== d && mean.shape[mean.ndim - 1] !== 1) {
    throw new ShapeError(`${op}: mean must be [..., ${d}], got ${fmtShape(mean.shape)}.`);
  }
  // broadcast both operands explicitly: jvp of add/sub currently leaves the tangent of a
  // broadcast operand at its own shape, which the reshape below would then reject
  const full = mean instanceof Tensor ? broadcastShapes(op, x.shape, mean.shape) : [...x.shape];
  const diff = sub(broadcastTo(x, full), mean instanceof Tensor ? broadcastTo(mean, full) : mean);
  const batch = diff.shape.slice(0, -1);
  let quad: Tensor;
  if (L.ndim === 2) {
    quad = mahalanobis(L, diff, batch);
  } else {
    const B = broadcastShapes(op, batch, L.shape.slice(0, -2));
    quad = mahalanobis(L, shapesEqual(B, batch) ? diff : broadcastTo(diff, [...B, d]), B);
  }
  return sub(sub(mul(quad, -0.5), halfLogDet(L)), 0.5 * d * Math.log(2 * Math.PI));
}
