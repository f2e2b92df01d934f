import type { Tensor } from '../tensor.js';
import type { PyTree } from '../autodiff/tree.js';
import type { FloatDType } from '../dtype.js';
import { exp, log } from '../autodiff/ops/elementwise.js';
import { DistributionBase } from './base.js';
import { checkParams } from './util.js';

/**
 * Families parameterised by a location and a positive scale (Normal, LogNormal, DiagonalNormal).
 * Their trainable leaves are { loc, logScale }; when built from those leaves the logScale tensor
 * itself is kept, so gradients reach it directly rather than through log(exp(·)).
 */
export abstract class LocScaleDistribution extends DistributionBase {
  abstract readonly loc: Tensor;
  abstract readonly scale: Tensor;
  private rawLogScale: Tensor | undefined = undefined;

  /** log scale: the trainable leaf (kept as given when built from params, not recomputed). */
  logScale(): Tensor {
    return this.rawLogScale ?? log(this.scale);
  }

  /** The trainable leaves { loc, logScale }. */
  params(): PyTree {
    return { loc: this.loc, logScale: this.logScale() };
  }

  /** make(loc, exp(logScale)) from params { loc, logScale }, keeping logScale as the leaf. */
  protected static fromLocLogScale<T extends LocScaleDistribution>(op: string, p: PyTree, make: (loc: Tensor, scale: Tensor) => T): T {
    const dt = ((p as { loc?: Tensor } | null)?.loc?.dtype ?? 'float64') as FloatDType;
    const { loc, logScale } = checkParams(op, p, ['loc', 'logScale'], dt);
    const d = make(loc!, exp(logScale!));
    // a family may broadcast scale to a larger shape; then the stored scale is the leaf of record
    if (d.scale.shape.length === logScale!.shape.length) (d as LocScaleDistribution).rawLogScale = logScale!;
    return d;
  }
}
