/**
 * The functional core of generalised VI (blackbirds' `infer/vi.py`, re-derived from the math):
 *
 *   L(ψ) = E_{θ~q_ψ}[ℓ(θ, y)] + w·KL(q_ψ ‖ π)
 *
 * `lossAndGrad(spec, params, data, key)` returns an estimate of L at ψ = params and of ∇ψ L,
 * as tensors (nothing is read to the host here, so it works on any backend):
 *
 * - pathwise: θ_i = T_ψ(ε_i) (rsample); per sample ℓ_i and J_i = ∇θ ℓ(θ_i, y, k_i), by reverse
 *   mode (one VJP) or forward mode (JVPs with basis tangents, `jacobianChunkSize` per batched
 *   pass, all sharing the simulator's key k_i, hence its random draws). Then
 *   ∇ψ (1/N′) Σ_i ⟨stopGradient(J_i), θ_i(ψ)⟩ — the chain rule J_iᵀ ∂θ_i/∂ψ.
 * - score: θ_i ~ q_ψ without gradient, ∇ψ (1/N′) Σ_i (ℓ_i − b_i) log q_ψ(θ_i), with b_i = 0
 *   (baseline 'none', blackbirds) or the leave-one-out mean of the other valid losses
 *   (baseline 'mean': a variance-reducing baseline that keeps the estimator unbiased).
 * - regularisation: w·(1/M) Σ_j [log q(z_j) − log π(z_j)], z_j = rsample; with sticking-the-landing
 *   (default) log q is evaluated with stopGradient(ψ), so the gradient flows only through the
 *   samples (the score term has zero mean and is dropped). The samples are reshaped to the
 *   prior's event shape first, so a univariate prior never broadcasts [M, 1] against [M] into
 *   an M×M matrix (blackbirds quirk §2.9.3).
 *
 * Samples whose loss or gradient is not finite are dropped (N′ = number kept) and counted. The
 * N simulations (and their gradients) run as one vmapped pass over the sample axis (samples.ts).
 */
import { Tensor } from '../../tensor.js';
import { ConfigError, ShapeError } from '../../errors.js';
import { tidy } from '../../memory.js';
import { valueAndGrad } from '../../autodiff/reverse.js';
import { map as treeMap, type PyTree } from '../../autodiff/tree.js';
import { add, cast, div, isFinite, maximum, mul, sub, where } from '../../autodiff/ops/elementwise.js';
import { sum } from '../../autodiff/ops/reduce.js';
import { reshape, slice } from '../../autodiff/ops/shape.js';
import { stopGradient } from '../../autodiff/ops/special.js';
import { splitKeys } from '../../random.js';
import { fmtShape, shapesEqual, sizeOf } from '../../shape.js';
import type { Distribution } from '../../distributions/types.js';
import { sampleLosses, type SampleEvaluation } from './samples.js';

export { callLoss, forwardValueAndGrad, sampleValueAndGrad, type SampleEvaluation } from './samples.js';

/** `loss(θ, data, key) -> 0-D tensor`: a simulator plus a distance; the key drives the simulator. */
export type LossFn<D = unknown> = (theta: Tensor, data: D, key: Tensor) => Tensor;

/** What the prior must provide: a log density over [M, ...eventShape] samples. */
export interface Prior {
  readonly eventShape: readonly number[];
  readonly batchShape?: readonly number[];
  /** log π(x) per sample: x [M, ...eventShape] -> [M]. */
  logProb(x: Tensor): Tensor;
}

/** How ∇θ ℓ is taken for the pathwise estimator: one VJP ('reverse') or JVPs with basis tangents ('forward'). */
export type DiffMode = 'reverse' | 'forward';
/** The gradient estimator of E_q[ℓ]: reparameterised samples ('pathwise') or the score function ('score', for non-differentiable simulators). */
export type GradientEstimationMethod = 'pathwise' | 'score';
/** The score estimator's baseline: none (blackbirds) or the leave-one-out mean of the other samples' losses (lower variance, still unbiased). */
export type Baseline = 'none' | 'mean';

/** Everything lossAndGrad needs, options resolved (makeConfig builds it from BuildOptions, defaults filled in). */
export interface ObjectiveSpec<D = unknown> {
  loss: LossFn<D>;
  prior: Prior;
  /** The estimator family; its parameters are supplied separately (withParams). */
  posteriorEstimator: Distribution;
  w: number;
  nSamplesPerEpoch: number;
  nSamplesRegularisation: number;
  diffMode: DiffMode;
  gradientEstimationMethod: GradientEstimationMethod;
  baseline: Baseline;
  jacobianChunkSize?: number;
  stickingTheLanding: boolean;
  /** the N samples in one vmapped pass ('auto', the default, falls back to one at a time when the loss cannot be vmapped) or one at a time ('loop'); see samples.ts */
  sampleEvaluation?: SampleEvaluation;
}

/** One estimate of the objective and its gradient, all as tensors (nothing read to the host). */
export interface LossAndGrad {
  /** ∇ψ of the estimated objective, with the structure of params. */
  grads: PyTree;
  /** loss + regularisation (0-D). */
  total: Tensor;
  /** mean loss over the kept samples (0-D; NaN when none was kept). */
  loss: Tensor;
  /** w·KL estimate (0-D; 0 when w = 0). */
  regularisation: Tensor;
  /** number of samples dropped for a non-finite loss or gradient (0-D, float). */
  nDropped: Tensor;
}


/**
 * The regularisation estimate w·KL(q_ψ ‖ π) by Monte Carlo, as a function of ψ for differentiation.
 * Non-finite log-ratio terms are left out of the mean (as blackbirds does).
 */
export function regularisation(
  estimator: Distribution,
  params: PyTree,
  prior: Prior,
  nSamples: number,
  key: Tensor,
  stickingTheLanding = true,
): Tensor {
  const q = estimator.withParams(params);
  let z: Tensor;
  let logq: Tensor;
  if (stickingTheLanding) {
    z = q.rsample(key, [nSamples]);
    const qStop = estimator.withParams(treeMap((l: unknown) => (l instanceof Tensor ? stopGradient(l) : l), params));
    logq = qStop.logProb(z);
  } else {
    [z, logq] = q.rsampleAndLogProb(key, [nSamples]);
  }
  const zp = reshape(z, [nSamples, ...prior.eventShape]);
  const logp = prior.logProb(zp);
  if (!shapesEqual(logq.shape, [nSamples]) || !shapesEqual(logp.shape, [nSamples])) {
    throw new ShapeError(
      `vi: for ${nSamples} samples the estimator's logProb gave shape ${fmtShape(logq.shape)} and the prior's ${fmtShape(logp.shape)}; both must be [${nSamples}] (batchShape [] distributions).`,
    );
  }
  const diff = sub(logq, logp);
  const ok = cast(isFinite(diff), diff.dtype);
  const n = maximum(sum(ok), 1);
  return div(sum(where(ok, diff, 0)), n);
}

/** Monte Carlo KL(q ‖ p) = mean(log q(z) − log p(z)), z ~ q (no gradient). */
export function klMonteCarlo(q: Distribution, p: Prior, nSamples: number, key: Tensor): Tensor {
  return tidy(() => stopGradient(regularisation(q, q.params(), p, nSamples, key, false)));
}

/**
 * One estimate of the objective and its gradient at params. The key is split into the sampling
 * key, the simulator keys (foldIn(simKey, i) for sample i) and the regularisation key.
 */
export function lossAndGrad<D>(spec: ObjectiveSpec<D>, params: PyTree, data: D, key: Tensor): LossAndGrad {
  return tidy(() => {
    const { loss, posteriorEstimator: est, nSamplesPerEpoch: N } = spec;
    const [sampleKey, simKey, regKey] = splitKeys(key, 3) as [Tensor, Tensor, Tensor];
    const q0 = est.withParams(params);
    const pathwise = spec.gradientEstimationMethod === 'pathwise';
    // 1. samples (values only) and per-sample losses (and gradients)
    const thetas = stopGradient(pathwise ? q0.rsample(sampleKey, [N]) : q0.sample(sampleKey, [N]));
    const { ell, jac, ok } = sampleLosses( // [N], [N, ...event], [N] (1 = kept)
      { loss, data, thetas, simKey, pathwise, diffMode: spec.diffMode, jacobianChunkSize: spec.jacobianChunkSize },
      spec.sampleEvaluation,
    );
    const nKept = sum(ok);
    const denom = maximum(nKept, 1);
    const ellKept = where(ok, ell, 0);
    const meanLoss = div(sum(ellKept), nKept); // NaN if nothing was kept
    const nDropped = sub(N, nKept);
    // 2. the surrogate whose gradient is the estimator
    let weights: Tensor; // pathwise: J masked [N, ...event]; score: (ℓ_i − b_i) masked [N]
    if (pathwise) {
      const J = jac!;
      const okB = reshape(ok, [N, ...new Array(J.ndim - 1).fill(1)]);
      weights = stopGradient(where(okB, J, 0));
    } else {
      let b: Tensor | number = 0;
      if (spec.baseline === 'mean') {
        // leave-one-out mean of the other kept losses (0 where there is no other)
        const others = sub(nKept, ok);
        b = where(others, div(sub(sum(ellKept), ellKept), maximum(others, 1)), 0);
      }
      weights = stopGradient(where(ok, sub(ell, b), 0));
    }
    const eventShape = est.eventShape;
    const surrogate = (p: PyTree): [Tensor, Tensor] => {
      const q = est.withParams(p);
      let lossTerm: Tensor;
      if (pathwise) {
        const th = q.rsample(sampleKey, [N]);
        lossTerm = div(sum(mul(weights, reshape(th, [N, ...eventShape]))), denom);
      } else {
        lossTerm = div(sum(mul(weights, q.logProb(thetas))), denom);
      }
      if (spec.w === 0) return [lossTerm, lossTerm.mul(0)];
      const reg = mul(regularisation(est, p, spec.prior, spec.nSamplesRegularisation, regKey, spec.stickingTheLanding), spec.w);
      return [add(lossTerm, reg), reg];
    };
    const [[, reg], grads] = valueAndGrad(surrogate, { hasAux: true })(params) as [[Tensor, Tensor], PyTree];
    const regV = stopGradient(reg);
    return { grads, total: add(meanLoss, regV), loss: meanLoss, regularisation: regV, nDropped };
  });
}

/** Checks that do not need data: shapes of prior and estimator, sizes. */
export function checkShapes(prior: Prior, estimator: Distribution): void {
  const pe = prior.eventShape;
  const qe = estimator.eventShape;
  if (!Array.isArray(pe) || !Array.isArray(qe)) throw new ConfigError('vi: prior and posteriorEstimator must be distributions with an eventShape.');
  for (const [name, d] of [['prior', prior], ['posteriorEstimator', estimator]] as const) {
    const bs = d.batchShape ?? [];
    if (bs.length && sizeOf(bs) !== 1) {
      throw new ShapeError(`vi: the ${name} has batch shape ${fmtShape(bs)}; use one distribution over the whole parameter vector (wrap it in Independent).`);
    }
  }
  if (sizeOf(pe) !== sizeOf(qe)) {
    throw new ShapeError(
      `vi: the prior has event shape ${fmtShape(pe)} (${sizeOf(pe)} parameters) but the posteriorEstimator has ${fmtShape(qe)} (${sizeOf(qe)}); they must describe the same parameters.`,
    );
  }
}
