import { Tensor } from '../tensor.js';
import { tidy } from '../memory.js';
import type { PyTree } from '../autodiff/tree.js';
import type { FloatDType } from '../dtype.js';
import { add, exp, greater, log, mul, square, sub, where } from '../autodiff/ops/elementwise.js';
import { sum } from '../autodiff/ops/reduce.js';
import { expandDims, squeeze, mT } from '../autodiff/ops/shape.js';
import { halfLogDet, mahalanobis } from '../gaussian.js';
import { diag, tril } from '../autodiff/ops/indexing.js';
import { matmul } from '../autodiff/ops/matmul.js';
import { eye } from '../autodiff/ops/creation.js';
import { cholesky, triangularSolve } from '../autodiff/ops/linalg.js';
import { normal as randomNormal } from '../random.js';
import { ConfigError, DTypeError, ShapeError } from '../errors.js';
import { checkKeys } from '../validate.js';
import { DistributionBase } from './base.js';
import { registerKl, type Distribution } from './types.js';
import { DiagonalNormal } from './diagonal.js';
import { Independent, klIndependent } from './independent.js';
import { Normal } from './normal.js';
import { bcast, broadcastShapes, checkParams, checkValue, describeValue, fmtShape, LOG_2PI } from './util.js';

/** Constructor options of MultivariateNormal: `loc` and exactly one of `covariance` or `scaleTril`. */
export interface MultivariateNormalOptions {
  /** mean [..., d] */
  loc: Tensor;
  /** covariance [..., d, d] (symmetric positive definite); factorised by Cholesky */
  covariance?: Tensor;
  /** lower Cholesky factor L [..., d, d] of the covariance (positive diagonal); give this or covariance */
  scaleTril?: Tensor;
}


/** raw (unconstrained) → L: strictly-lower part as is, diagonal exp(raw_ii); the upper part is ignored. */
function rawToTril(raw: Tensor): Tensor {
  const d = raw.shape[raw.ndim - 1]!;
  // tidy: the intermediates are freed (a tape that needs them keeps them), only L stays
  return tidy(() => {
    const I = eye(d, d, raw.dtype);
    return add(tril(raw, -1), mul(exp(mul(raw, I)), I));
  });
}

/** L → raw: strictly-lower part as is, log of the diagonal, zeros above. */
function trilToRaw(L: Tensor): Tensor {
  const d = L.shape[L.ndim - 1]!;
  return tidy(() => {
    const I = eye(d, d, L.dtype);
    const isDiag = greater(I, 0);
    return add(tril(L, -1), mul(log(where(isDiag, L, 1)), I));
  });
}

/**
 * MultivariateNormal({ loc, covariance | scaleTril }): a full-covariance Gaussian, eventShape [d],
 * batchShape = broadcast(loc[:-1], L[:-2]). Σ = L Lᵀ with L lower triangular.
 * Trainable params: { loc, scaleTril } where params().scaleTril is the UNCONSTRAINED raw factor:
 * strictly-lower entries as they are, diagonal entries log Lᵢᵢ (L = tril(raw, −1) + diag(exp(diag raw)));
 * its upper triangle is ignored (zero gradient).
 */
export class MultivariateNormal extends DistributionBase {
  readonly eventShape: readonly number[];
  readonly batchShape: readonly number[];
  readonly dtype: FloatDType;
  readonly loc: Tensor;
  /** the lower Cholesky factor L of the covariance */
  readonly scaleTril: Tensor;
  private readonly raw: Tensor | undefined;

  constructor(opts: MultivariateNormalOptions) {
    super();
    const op = 'distributions.MultivariateNormal';
    checkKeys(op, opts, ['loc', 'covariance', 'scaleTril']);
    if (opts === undefined) throw new ConfigError(`${op}: expected { loc, covariance | scaleTril }.`);
    const { loc, covariance, scaleTril } = opts;
    if (!(loc instanceof Tensor)) throw new ConfigError(`${op}: loc must be a Tensor [..., d], got ${describeValue(loc)}.`);
    if ((covariance === undefined) === (scaleTril === undefined)) {
      throw new ConfigError(`${op}: give exactly one of covariance and scaleTril.`);
    }
    const m = (covariance ?? scaleTril) as unknown;
    const mName = covariance !== undefined ? 'covariance' : 'scaleTril';
    if (!(m instanceof Tensor)) throw new ConfigError(`${op}: ${mName} must be a Tensor [..., d, d], got ${describeValue(m)}.`);
    if (loc.dtype !== 'float64' && loc.dtype !== 'float32') throw new DTypeError(`${op}: loc must be float64 or float32, got ${loc.dtype}.`);
    if (m.dtype !== loc.dtype) throw new DTypeError(`${op}: loc is ${loc.dtype} but ${mName} is ${m.dtype}; use one dtype.`);
    if (loc.ndim < 1) throw new ShapeError(`${op}: loc must be [..., d], got a scalar.`);
    const d = loc.shape[loc.ndim - 1]!;
    if (m.ndim < 2 || m.shape[m.ndim - 1] !== d || m.shape[m.ndim - 2] !== d) {
      throw new ShapeError(`${op}: ${mName} must be [..., ${d}, ${d}] to match loc ${fmtShape(loc.shape)}, got ${fmtShape(m.shape)}.`);
    }
    this.dtype = loc.dtype;
    this.loc = loc;
    this.scaleTril = covariance !== undefined ? cholesky(covariance) : tril(m);
    this.eventShape = [d];
    this.batchShape = broadcastShapes(op, loc.shape.slice(0, -1), m.shape.slice(0, -2));
    this.raw = undefined;
  }

  /** Rebuild from { loc, scaleTril: raw } (see the class doc for the raw parameterisation). */
  static fromParams(p: PyTree): MultivariateNormal {
    const op = 'distributions.MultivariateNormal.withParams';
    const dt = ((p as { loc?: Tensor } | null)?.loc?.dtype ?? 'float64') as FloatDType;
    const { loc, scaleTril } = checkParams(op, p, ['loc', 'scaleTril'], dt);
    if (scaleTril!.ndim < 2) throw new ShapeError(`${op}: params.scaleTril must be [..., d, d], got ${fmtShape(scaleTril!.shape)}.`);
    const dist = new MultivariateNormal({ loc: loc!, scaleTril: rawToTril(scaleTril!) });
    (dist as unknown as { raw: Tensor }).raw = scaleTril!;
    return dist;
  }

  get dim(): number {
    return this.eventShape[0]!;
  }

  /** Σ = L Lᵀ [..., d, d]. */
  covariance(): Tensor {
    return matmul(this.scaleTril, mT(this.scaleTril));
  }

  /** log N(x; loc, Σ) for x [..., d] -> [...] (sample and batch dims). */
  logProb(x: Tensor): Tensor {
    const op = 'distributions.MultivariateNormal.logProb';
    checkValue(op, x, this.eventShape, this.batchShape, this.dtype);
    const F = broadcastShapes(op, x.shape, this.loc.shape, [...this.batchShape, this.dim]);
    const diff = bcast(sub(x, this.loc), F);
    const q = mahalanobis(this.scaleTril, diff, this.batchShape);
    return sub(mul(q, -0.5), add(halfLogDet(this.scaleTril), 0.5 * this.dim * LOG_2PI));
  }

  protected draw(key: Tensor, s: number[]): Tensor {
    const eps = randomNormal(key, [...s, ...this.batchShape, this.dim], { dtype: this.dtype });
    const L = this.scaleTril;
    const Le = L.ndim === 2 ? matmul(eps, mT(L)) : squeeze(matmul(L, expandDims(eps, -1)), -1);
    return add(this.loc, Le);
  }

  /** ½ d (1 + log 2π) + Σ log Lᵢᵢ */
  entropy(): Tensor {
    return bcast(add(halfLogDet(this.scaleTril), 0.5 * this.dim * (1 + LOG_2PI)), this.batchShape);
  }

  /** loc broadcast to [...batchShape, d]. */
  mean(): Tensor {
    return bcast(this.loc, [...this.batchShape, this.dim]);
  }

  /** { loc, scaleTril: raw } with raw the unconstrained factor (see the class doc). */
  params(): PyTree {
    return { loc: this.loc, scaleTril: this.raw ?? trilToRaw(this.scaleTril) };
  }

  /** The same family from new { loc, scaleTril: raw } leaves (as fromParams). */
  withParams(p: PyTree): MultivariateNormal {
    return MultivariateNormal.fromParams(p);
  }
}

/** (loc [..., d], L [..., d, d]) of a Gaussian with a vector event, or undefined. */
function gaussianParts(x: Distribution): { loc: Tensor; L: Tensor } | undefined {
  if (x instanceof MultivariateNormal) return { loc: x.loc, L: x.scaleTril };
  if (x instanceof DiagonalNormal) return { loc: x.loc, L: diag(x.scale) };
  if (x instanceof Independent && x.reinterpretedBatchNdims === 1 && x.base instanceof Normal) {
    const shape = x.base.batchShape;
    return { loc: bcast(x.base.loc, shape), L: diag(bcast(x.base.scale, shape)) };
  }
  return undefined;
}

/** KL(N(μp, Σp) ‖ N(μq, Σq)) = Σ log Lq,ii − Σ log Lp,ii + ½(‖Lq⁻¹Lp‖²_F + ‖Lq⁻¹(μq − μp)‖² − d). */
export function klGaussian(p: Distribution, q: Distribution): Tensor {
  if (p instanceof Independent && q instanceof Independent && p.reinterpretedBatchNdims === q.reinterpretedBatchNdims) {
    try {
      return klIndependent(p, q);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
    }
  }
  const gp = gaussianParts(p);
  const gq = gaussianParts(q);
  const name = (d: Distribution): string => (d instanceof Independent ? `Independent(${d.base.constructor.name}, ${d.reinterpretedBatchNdims})` : d.constructor.name);
  if (!gp || !gq) throw new ConfigError(`distributions.kl: no analytic KL(${name(p)} ‖ ${name(q)}) is registered; estimate it by Monte Carlo.`);
  const d = gp.loc.shape[gp.loc.ndim - 1]!;
  if (gq.loc.shape[gq.loc.ndim - 1] !== d) {
    throw new ShapeError(`distributions.kl: event shapes differ: ${name(p)} has [${d}], ${name(q)} has [${gq.loc.shape[gq.loc.ndim - 1]}].`);
  }
  const op = 'distributions.kl';
  const B = broadcastShapes(op, gp.loc.shape.slice(0, -1), gp.L.shape.slice(0, -2), gq.loc.shape.slice(0, -1), gq.L.shape.slice(0, -2));
  const Lp = bcast(gp.L, [...B, d, d]);
  const Lq = bcast(gq.L, [...B, d, d]);
  const M = triangularSolve(Lq, Lp, { lower: true });
  const tr = sum(square(M), { axis: [-2, -1] });
  const diff = bcast(sub(gq.loc, gp.loc), [...B, d]);
  const quad = mahalanobis(Lq, diff, B);
  return add(sub(halfLogDet(Lq), halfLogDet(Lp)), mul(sub(add(tr, quad), d), 0.5));
}

const gaussians = [MultivariateNormal, DiagonalNormal, Independent] as const;
for (const P of gaussians) {
  for (const Q of gaussians) {
    if (P === DiagonalNormal && Q === DiagonalNormal) continue; // its own elementwise rule
    registerKl(P, Q, klGaussian);
  }
}
