import type { Tensor } from '../tensor.js';
import type { PyTree } from '../autodiff/tree.js';
import type { FloatDType } from '../dtype.js';
import { add, div, greater, greaterEqual, less, lessEqual, log, mul, sub, where } from '../autodiff/ops/elementwise.js';
import { uniform as randomUniform } from '../random.js';
import { DistributionBase } from './base.js';
import { registerKl } from './types.js';
import { asParam, bcast, broadcastShapes, checkParams, checkValue, firstDType, sameDType } from './util.js';

/**
 * Uniform(low, high) on [low, high]; eventShape [], batchShape = broadcast(low, high).
 * logProb = −log(high − low) inside, −Infinity outside. rsample = low + (high − low)·u is
 * reparameterised (differentiable in low and high). Trainable params: { low, high } (raw: keep
 * high > low yourself).
 */
export class Uniform extends DistributionBase {
  readonly eventShape: readonly number[] = [];
  readonly batchShape: readonly number[];
  readonly dtype: FloatDType;
  readonly low: Tensor;
  readonly high: Tensor;

  constructor(low: Tensor | number, high: Tensor | number) {
    super();
    const op = 'distributions.Uniform';
    const dt = firstDType([low, high]);
    this.low = asParam(op, 'low', low, dt);
    this.high = asParam(op, 'high', high, dt);
    this.dtype = sameDType(op, { low: this.low, high: this.high });
    this.batchShape = broadcastShapes(op, this.low.shape, this.high.shape);
  }

  /** Rebuild from params { low, high }. */
  static fromParams(p: PyTree): Uniform {
    const dt = ((p as { low?: Tensor } | null)?.low?.dtype ?? 'float64') as FloatDType;
    const { low, high } = checkParams('distributions.Uniform.withParams', p, ['low', 'high'], dt);
    return new Uniform(low!, high!);
  }

  /** high − low. */
  width(): Tensor {
    return sub(this.high, this.low);
  }

  /** log density: −log(high − low) inside [low, high], −∞ outside. */
  logProb(x: Tensor): Tensor {
    checkValue('distributions.Uniform.logProb', x, [], this.batchShape, this.dtype);
    const lp = mul(log(this.width()), -1);
    const full = broadcastShapes('distributions.Uniform.logProb', x.shape, this.batchShape);
    const inside = where(less(x, this.low), -Infinity, bcast(lp, full));
    return where(greater(x, this.high), -Infinity, inside);
  }

  protected draw(key: Tensor, s: number[]): Tensor {
    const u = randomUniform(key, [...s, ...this.batchShape], { dtype: this.dtype });
    return add(this.low, mul(this.width(), u));
  }

  /** The entropy log(high − low). */
  entropy(): Tensor {
    return bcast(log(this.width()), this.batchShape);
  }

  /** The mean (low + high)/2. */
  mean(): Tensor {
    return bcast(mul(add(this.low, this.high), 0.5), this.batchShape);
  }

  /** The trainable leaves { low, high }. */
  params(): PyTree {
    return { high: this.high, low: this.low };
  }

  /** A Uniform from params { low, high }. */
  withParams(p: PyTree): Uniform {
    return Uniform.fromParams(p);
  }
}

/** KL(U(a1, b1) ‖ U(a2, b2)) = log((b2 − a2)/(b1 − a1)) when [a1, b1] ⊆ [a2, b2], else +Infinity. */
registerKl(Uniform, Uniform, (p, q) => {
  const val = log(div(q.width(), p.width()));
  const inside = where(greaterEqual(p.low, q.low), val, Infinity);
  return where(lessEqual(p.high, q.high), inside, Infinity);
});
