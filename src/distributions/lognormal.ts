import type { Tensor } from '../tensor.js';
import type { PyTree } from '../autodiff/tree.js';
import type { FloatDType } from '../dtype.js';
import { add, div, exp, greater, log, mul, square, sub, where } from '../autodiff/ops/elementwise.js';
import { normal as randomNormal } from '../random.js';
import { LocScaleDistribution } from './loc-scale.js';
import { registerKl } from './types.js';
import { klNormalNormal, Normal } from './normal.js';
import { asParam, bcast, broadcastShapes, checkValue, firstDType, LOG_2PI, sameDType } from './util.js';

/**
 * LogNormal(loc, scale): x = exp(y) with y ~ Normal(loc, scale); eventShape [], batchShape =
 * broadcast(loc, scale). logProb is −Infinity for x ≤ 0. Trainable params: { loc, logScale }.
 */
export class LogNormal extends LocScaleDistribution {
  readonly eventShape: readonly number[] = [];
  readonly batchShape: readonly number[];
  readonly dtype: FloatDType;
  readonly loc: Tensor;
  readonly scale: Tensor;

  constructor(loc: Tensor | number, scale: Tensor | number) {
    super();
    const op = 'distributions.LogNormal';
    const dt = firstDType([loc, scale]);
    this.loc = asParam(op, 'loc', loc, dt);
    this.scale = asParam(op, 'scale', scale, dt);
    this.dtype = sameDType(op, { loc: this.loc, scale: this.scale });
    this.batchShape = broadcastShapes(op, this.loc.shape, this.scale.shape);
  }

  /** Rebuild from unconstrained params { loc, logScale } (of log x). */
  static fromParams(p: PyTree): LogNormal {
    return LocScaleDistribution.fromLocLogScale('distributions.LogNormal.withParams', p, (loc, scale) => new LogNormal(loc, scale));
  }


  /** The Normal of log x. */
  base(): Normal {
    return new Normal(this.loc, this.scale);
  }

  /** log density of x > 0 (−∞ for x ≤ 0). */
  logProb(x: Tensor): Tensor {
    checkValue('distributions.LogNormal.logProb', x, [], this.batchShape, this.dtype);
    const pos = greater(x, 0);
    const lx = log(where(pos, x, 1));
    const z = div(sub(lx, this.loc), this.scale);
    const lp = sub(mul(square(z), -0.5), add(add(this.logScale(), lx), 0.5 * LOG_2PI));
    return where(pos, lp, -Infinity);
  }

  protected draw(key: Tensor, s: number[]): Tensor {
    const eps = randomNormal(key, [...s, ...this.batchShape], { dtype: this.dtype });
    return exp(add(this.loc, mul(this.scale, eps)));
  }

  /** H = loc + ½ + ½ log 2π + log scale */
  entropy(): Tensor {
    return bcast(add(add(this.loc, this.logScale()), 0.5 + 0.5 * LOG_2PI), this.batchShape);
  }

  /** exp(loc + scale²/2) */
  mean(): Tensor {
    return bcast(exp(add(this.loc, mul(square(this.scale), 0.5))), this.batchShape);
  }


  /** A LogNormal from params { loc, logScale }. */
  withParams(p: PyTree): LogNormal {
    return LogNormal.fromParams(p);
  }
}

// KL is invariant under the shared bijection exp
registerKl(LogNormal, LogNormal, (p, q) => klNormalNormal(p.base(), q.base()));
