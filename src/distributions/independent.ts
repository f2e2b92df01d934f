import type { Tensor } from '../tensor.js';
import type { PyTree } from '../autodiff/tree.js';
import type { FloatDType } from '../dtype.js';
import { sum } from '../autodiff/ops/reduce.js';
import { ConfigError, ShapeError } from '../errors.js';
import { DistributionBase } from './base.js';
import { kl, registerKl, type Distribution } from './types.js';
import { checkValue, describeValue, fmtShape } from './util.js';

function sumLast(x: Tensor, n: number): Tensor {
  if (n === 0) return x;
  return sum(x, { axis: Array.from({ length: n }, (_, i) => -1 - i) });
}

/**
 * Independent(base, reinterpretedBatchNdims): the last `reinterpretedBatchNdims` batch dims of
 * `base` become event dims (logProb and entropy sum over them). E.g.
 * Independent(new Normal(zeros([d]), ones([d])), 1) is a d-dim diagonal Gaussian with eventShape [d].
 * Trainable params: base.params(); withParams rebuilds the base.
 */
export class Independent extends DistributionBase {
  readonly eventShape: readonly number[];
  readonly batchShape: readonly number[];
  readonly dtype: FloatDType;
  readonly base: Distribution;
  readonly reinterpretedBatchNdims: number;

  constructor(base: Distribution, reinterpretedBatchNdims: number) {
    super();
    const op = 'distributions.Independent';
    if (base === null || typeof base !== 'object' || typeof (base as Distribution).logProb !== 'function' || !Array.isArray((base as Distribution).batchShape)) {
      throw new ConfigError(`${op}: base must be a Distribution, got ${describeValue(base)}.`);
    }
    const nb = base.batchShape.length;
    if (!Number.isInteger(reinterpretedBatchNdims) || reinterpretedBatchNdims < 0) {
      throw new ConfigError(`${op}: reinterpretedBatchNdims must be a non-negative integer, got ${describeValue(reinterpretedBatchNdims)}.`);
    }
    if (reinterpretedBatchNdims > nb) {
      throw new ShapeError(`${op}: reinterpretedBatchNdims ${reinterpretedBatchNdims} exceeds the base's batch rank (batchShape ${fmtShape(base.batchShape)}).`);
    }
    this.base = base;
    this.reinterpretedBatchNdims = reinterpretedBatchNdims;
    this.batchShape = base.batchShape.slice(0, nb - reinterpretedBatchNdims);
    this.eventShape = [...base.batchShape.slice(nb - reinterpretedBatchNdims), ...base.eventShape];
    this.dtype = ((base as { dtype?: FloatDType }).dtype ?? 'float64') as FloatDType;
  }

  /** The base's log density summed over the reinterpreted batch axes. */
  logProb(x: Tensor): Tensor {
    checkValue('distributions.Independent.logProb', x, this.eventShape, this.batchShape, this.dtype);
    return sumLast(this.base.logProb(x), this.reinterpretedBatchNdims);
  }

  protected draw(key: Tensor, s: number[]): Tensor {
    return this.base.rsample(key, s);
  }

  /** The base's draws (without gradient). */
  override sample(key: Tensor, sampleShape?: readonly number[]): Tensor {
    return this.base.sample(key, sampleShape);
  }

  /** The base's reparameterised draws and their log density summed over the reinterpreted axes. */
  override rsampleAndLogProb(key: Tensor, sampleShape?: readonly number[]): [Tensor, Tensor] {
    const [x, lp] = this.base.rsampleAndLogProb(key, sampleShape);
    return [x, sumLast(lp, this.reinterpretedBatchNdims)];
  }

  /** The base's entropy summed over the reinterpreted batch axes. */
  entropy(): Tensor {
    return sumLast(this.base.entropy(), this.reinterpretedBatchNdims);
  }

  /** The base's mean. */
  mean(): Tensor {
    return this.base.mean();
  }

  /** The base distribution's params. */
  params(): PyTree {
    return this.base.params();
  }

  /** The same reinterpretation of the base rebuilt from new params. */
  withParams(p: PyTree): Independent {
    return new Independent(this.base.withParams(p), this.reinterpretedBatchNdims);
  }
}

/** KL of two Independents with the same reinterpreted dims: the base KL summed over them. */
export function klIndependent(p: Independent, q: Independent): Tensor {
  if (p.reinterpretedBatchNdims !== q.reinterpretedBatchNdims || p.eventShape.length !== q.eventShape.length || p.eventShape.some((d, i) => d !== q.eventShape[i])) {
    throw new ConfigError(
      `distributions.kl: Independent pair with different event shapes (${fmtShape(p.eventShape)} over ${p.reinterpretedBatchNdims} dims vs ${fmtShape(q.eventShape)} over ${q.reinterpretedBatchNdims}).`,
    );
  }
  return sumLast(kl(p.base, q.base), p.reinterpretedBatchNdims);
}

registerKl(Independent, Independent, klIndependent);
