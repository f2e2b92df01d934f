import type { Tensor } from '../tensor.js';
import type { PyTree } from '../autodiff/tree.js';
import type { FloatDType } from '../dtype.js';
import { add, div, log, mul, square, sub } from '../autodiff/ops/elementwise.js';
import { sum } from '../autodiff/ops/reduce.js';
import { normal as randomNormal } from '../random.js';
import { ShapeError } from '../errors.js';
import { LocScaleDistribution } from './loc-scale.js';
import { registerKl } from './types.js';
import { asParam, bcast, broadcastShapes, checkValue, firstDType, fmtShape, LOG_2PI, sameDType } from './util.js';

/**
 * DiagonalNormal(loc, scale): a d-dimensional Gaussian with independent coordinates,
 * eventShape [d], batchShape = the leading dims of broadcast(loc, scale) (both [..., d]).
 * Trainable params: { loc, logScale } (scale = exp(logScale)), each of the broadcast shape.
 */
export class DiagonalNormal extends LocScaleDistribution {
  readonly eventShape: readonly number[];
  readonly batchShape: readonly number[];
  readonly dtype: FloatDType;
  readonly loc: Tensor;
  readonly scale: Tensor;

  constructor(loc: Tensor | number, scale: Tensor | number) {
    super();
    const op = 'distributions.DiagonalNormal';
    const dt = firstDType([loc, scale]);
    let l = asParam(op, 'loc', loc, dt);
    let s = asParam(op, 'scale', scale, dt);
    this.dtype = sameDType(op, { loc: l, scale: s });
    const full = broadcastShapes(op, l.shape, s.shape);
    if (full.length < 1) throw new ShapeError(`${op}: loc and scale must broadcast to [..., d], got loc ${fmtShape(l.shape)} and scale ${fmtShape(s.shape)}.`);
    // store both at the full shape, so params() leaves have the shape of the distribution
    l = bcast(l, full);
    s = bcast(s, full);
    this.loc = l;
    this.scale = s;
    this.eventShape = full.slice(-1);
    this.batchShape = full.slice(0, -1);
  }

  /** Rebuild from unconstrained params { loc, logScale }. */
  static fromParams(p: PyTree): DiagonalNormal {
    return LocScaleDistribution.fromLocLogScale('distributions.DiagonalNormal.withParams', p, (loc, scale) => new DiagonalNormal(loc, scale));
  }


  /** log density summed over the last (event) axis. */
  logProb(x: Tensor): Tensor {
    checkValue('distributions.DiagonalNormal.logProb', x, this.eventShape, this.batchShape, this.dtype);
    const z = div(sub(x, this.loc), this.scale);
    const lp = sub(mul(square(z), -0.5), add(this.logScale(), 0.5 * LOG_2PI));
    return sum(lp, { axis: -1 });
  }

  protected draw(key: Tensor, s: number[]): Tensor {
    const eps = randomNormal(key, [...s, ...this.batchShape, ...this.eventShape], { dtype: this.dtype });
    return add(this.loc, mul(this.scale, eps));
  }

  /** The entropy Σ (½ + ½ log 2π + log σ), shape batchShape. */
  entropy(): Tensor {
    return sum(add(this.logScale(), 0.5 + 0.5 * LOG_2PI), { axis: -1 });
  }

  /** The mean, loc. */
  mean(): Tensor {
    return this.loc;
  }

  /** The per-coordinate variance σ². */
  variance(): Tensor {
    return square(this.scale);
  }


  /** A DiagonalNormal from params { loc, logScale }. */
  withParams(p: PyTree): DiagonalNormal {
    return DiagonalNormal.fromParams(p);
  }
}

registerKl(DiagonalNormal, DiagonalNormal, (p, q) => {
  const ratio = square(div(p.scale, q.scale));
  const diff = square(div(sub(p.loc, q.loc), q.scale));
  return sum(mul(sub(add(ratio, diff), add(log(ratio), 1)), 0.5), { axis: -1 });
});
