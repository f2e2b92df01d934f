/** imnn's GaussianApproximation: the Fisher (Laplace-like) approximation N(θ̂, F⁻¹) gridded over the prior box. */
import { ConfigError, ShapeError } from '../../../errors.js';
import { Tensor } from '../../../tensor.js';
import { cellWidths, checkGridsize, getLevels, makeRanges, type Marginal2D, type Marginals } from './grid.js';
import { checkPrior, type BoxPrior } from './prior.js';

/** Estimates [p] or [nTargets, p] as rows of numbers (a typed error naming `estimates`). */
export function targetRows(op: string, name: string, t: unknown): number[][] {
  if (!(t instanceof Tensor)) throw new ConfigError(`${op}: ${name} must be a Tensor [nParams] or [nTargets, nParams].`);
  if (t.ndim !== 1 && t.ndim !== 2) throw new ShapeError(`${op}: ${name} must be [nParams] or [nTargets, nParams], got [${t.shape.join(', ')}].`);
  const p = t.shape[t.ndim - 1]!;
  const v = Array.from(t.dataSync(), Number);
  if (v.some((x) => !Number.isFinite(x))) throw new ConfigError(`${op}: ${name} has non-finite values.`);
  const n = t.ndim === 1 ? 1 : t.shape[0]!;
  return Array.from({ length: n }, (_, i) => v.slice(i * p, (i + 1) * p));
}

/** One p×p matrix per target from [p, p] (shared: not repeated into a wrong shape) or [nTargets, p, p]. */
export function matrixPerTarget(op: string, name: string, m: unknown, p: number, nTargets: number): number[][] {
  if (!(m instanceof Tensor)) throw new ConfigError(`${op}: ${name} must be a Tensor [${p}, ${p}] or [${nTargets}, ${p}, ${p}].`);
  const ok = (m.ndim === 2 && m.shape[0] === p && m.shape[1] === p) || (m.ndim === 3 && m.shape[0] === nTargets && m.shape[1] === p && m.shape[2] === p);
  if (!ok) throw new ShapeError(`${op}: ${name} must be [${p}, ${p}] or [${nTargets}, ${p}, ${p}] to match the estimates, got [${m.shape.join(', ')}].`);
  const v = Array.from(m.dataSync(), Number);
  return Array.from({ length: nTargets }, (_, t) => (m.ndim === 2 ? v : v.slice(t * p * p, (t + 1) * p * p)));
}

/**
 * Gaussian approximations to the posterior, N(θ̂, F⁻¹) for each target's estimate θ̂, evaluated
 * as 1-D and 2-D marginals on a grid of `gridsize` cells per parameter over the prior box, with
 * 68/95 % levels. As imnn warns, this is not the true posterior: it is what the Fisher
 * information alone says about it (and ignores the prior's edges).
 */
export class GaussianApproximation {
  /** Estimates, one row per target. */
  readonly estimates: number[][];
  /** F⁻¹ per target (row-major p×p). */
  readonly invF: number[][];
  /** The prior whose box sets the grids. */
  readonly prior: BoxPrior;
  /** Cells per parameter. */
  readonly gridsize: number[];
  /** Marginals per target. */
  readonly marginals: Marginals[];

  /** estimates [p] or [nTargets, p]; invF [p, p] or [nTargets, p, p]; gridsize a number or one per parameter. */
  constructor(estimates: Tensor, invF: Tensor, prior: BoxPrior, gridsize: number | number[]) {
    const op = 'GaussianApproximation';
    this.estimates = targetRows(op, 'estimates', estimates);
    const p = this.estimates[0]!.length;
    this.prior = checkPrior(op, prior, p);
    this.gridsize = checkGridsize(op, gridsize, p);
    this.invF = matrixPerTarget(op, 'invF', invF, p, this.estimates.length);
    this.invF.forEach((m, t) => {
      for (let k = 0; k < p; k++) {
        if (!(m[k * p + k]! > 0)) throw new ConfigError(`${op}: invF of target ${t} has a non-positive variance ${m[k * p + k]} for parameter ${k}; invF must be positive definite.`);
      }
    });
    this.marginals = this.estimates.map((e, t) => this.gaussianMarginals(e, this.invF[t]!));
  }

  private gaussianMarginals(mean: number[], cov: number[]): Marginals {
    const p = mean.length;
    const ranges = makeRanges(this.prior, this.gridsize);
    const dx = cellWidths(this.prior, this.gridsize);
    const oneD = ranges.map((r, k) => {
      const s2 = cov[k * p + k]!;
      return r.map((x) => Math.exp(-0.5 * (x - mean[k]!) ** 2 / s2) / Math.sqrt(2 * Math.PI * s2));
    });
    const twoD: Marginal2D[] = [];
    for (let i = 0; i < p; i++) {
      for (let j = i + 1; j < p; j++) {
        const a = cov[i * p + i]!;
        const b = cov[i * p + j]!;
        const c = cov[j * p + j]!;
        const det = a * c - b * b;
        if (!(det > 0)) throw new ConfigError(`GaussianApproximation: the (${i}, ${j}) block of invF is not positive definite (det ${det}).`);
        const gi = this.gridsize[i]!;
        const gj = this.gridsize[j]!;
        const d = new Float64Array(gi * gj);
        const norm = 1 / (2 * Math.PI * Math.sqrt(det));
        for (let u = 0; u < gi; u++) {
          const x = ranges[i]![u]! - mean[i]!;
          for (let v = 0; v < gj; v++) {
            const y = ranges[j]![v]! - mean[j]!;
            d[u * gj + v] = norm * Math.exp(-0.5 * (c * x * x - 2 * b * x * y + a * y * y) / det);
          }
        }
        twoD.push({ i, j, density: d, levels: getLevels(d, dx[i]! * dx[j]!) });
      }
    }
    return { ranges, oneD, levels1D: oneD.map((d, k) => getLevels(d, dx[k]!)), twoD };
  }
}
