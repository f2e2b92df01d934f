import type { Tensor } from '../tensor.js';
import type { PyTree } from '../autodiff/tree.js';
import type { FloatDType } from '../dtype.js';
import { add, div, log, mul, square, sub } from '../autodiff/ops/elementwise.js';
import { normal as randomNormal } from '../random.js';
import { LocScaleDistribution } from './loc-scale.js';
import { registerKl } from './types.js';
import { asParam, bcast, broadcastShapes, checkValue, firstDType, LOG_2PI, sameDType } from './util.js';

/**
 * Normal(loc, scale): a scalar Gaussian (eventShape []), batchShape = broadcast(loc, scale).
 * Trainable params: { loc, logScale } (scale = exp(logScale)). scale must be positive
 * (not checked on the device).
 */
export class Normal extends LocScaleDistribution {
  readonly eventShape: readonly number[] = [];
  readonly batchShape: readonly number[];
  readonly dtype: FloatDType;
  readonly loc: Tensor;
  readonly scale: Tensor;

  constructor(loc: Tensor | number, scale: Tensor | number) {
    super();
    const op = 'distributions.Normal';
    const dt = firstDType([loc, scale]);
    this.loc = asParam(op, 'loc', loc, dt);
    this.scale = asParam(op, 'scale', scale, dt);
    this.dtype = sameDType(op, { loc: this.loc, scale: this.scale });
    this.batchShape = broadcastShapes(op, this.loc.shape, this.scale.shape);
  }

  /** Rebuild from unconstrained params { loc, logScale }. */
  static fromParams(p: PyTree): Normal {
    return LocScaleDistribution.fromLocLogScale('distributions.Normal.withParams', p, (loc, scale) => new Normal(loc, scale));
  }

  /** log density, element-wise (scalar events). */
  logProb(x: Tensor): Tensor {
    checkValue(`distributions.Normal.logProb`, x, [], this.batchShape, this.dtype);
    const z = div(sub(x, this.loc), this.scale);
    return sub(mul(square(z), -0.5), add(this.logScale(), 0.5 * LOG_2PI));
  }

  protected draw(key: Tensor, s: number[]): Tensor {
    const eps = randomNormal(key, [...s, ...this.batchShape], { dtype: this.dtype });
    return add(this.loc, mul(this.scale, eps));
  }


  /** The entropy ½ + ½ log 2π + log σ. */
  entropy(): Tensor {
    return bcast(add(this.logScale(), 0.5 + 0.5 * LOG_2PI), this.batchShape);
  }

  /** The mean, loc. */
  mean(): Tensor {
    return bcast(this.loc, this.batchShape);
  }

  /** The variance σ². */
  variance(): Tensor {
    return bcast(square(this.scale), this.batchShape);
  }


  /** A Normal from params { loc, logScale }. */
  withParams(p: PyTree): Normal {
    return Normal.fromParams(p);
  }
}

/** KL(N(m1, s1²) ‖ N(m2, s2²)) = log(s2/s1) + (s1² + (m1 − m2)²)/(2 s2²) − ½, elementwise. */
export function klNormalNormal(p: Normal, q: Normal): Tensor {
  const ratio = square(div(p.scale, q.scale));
  const diff = square(div(sub(p.loc, q.loc), q.scale));
  return mul(sub(add(ratio, diff), add(log(ratio), 1)), 0.5);
}

registerKl(Normal, Normal, klNormalNormal);
