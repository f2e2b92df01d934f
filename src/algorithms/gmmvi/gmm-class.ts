/**
 * `GMM`: gmmvi's model class as a thin, mutable face over the functional core (./gmm.ts). Every
 * mutating method replaces `state` with the new state the core returns and frees the tensors the
 * old state held that the new one does not share.
 */
import type { Tensor } from '../../tensor.js';
import { dispose } from '../../memory.js';
import { leaves } from '../../autodiff/tree.js';
import * as core from './gmm.js';
import type { CreateGmmOptions, GmmSamples, GmmState, LogDensityAndGrad } from './gmm.js';

/** Frees the tensors of `old` that `next` does not hold. */
export function disposeReplaced(old: object, next: object): void {
  const kept = new Set(leaves(next as never));
  dispose(leaves(old as never).filter((t) => !kept.has(t)));
}

/** A Gaussian mixture (full or diagonal covariances) with gmmvi's method names, over a `GmmState`. */
export class GMM {
  /** the current parameters (replaced, never mutated, by the methods below) */
  state: GmmState;

  /** A GMM from an existing state, or from `createGmm`'s options. */
  constructor(init: GmmState | CreateGmmOptions) {
    this.state = 'invChols' in init && init.invChols !== undefined ? (init as GmmState) : core.createGmm(init as CreateGmmOptions);
  }

  private swap(next: GmmState): void {
    disposeReplaced(this.state, next);
    this.state = next;
  }

  /** whether the covariances are diagonal */
  get diagonalCovs(): boolean {
    return this.state.diagonal;
  }
  /** the number of components K */
  get numComponents(): number {
    return core.numComponents(this.state);
  }
  /** the dimension d */
  get numDimensions(): number {
    return core.numDimensions(this.state);
  }
  /** log w [K] */
  get logWeights(): Tensor {
    return this.state.logWeights;
  }
  /** w [K] (a new tensor) */
  get weights(): Tensor {
    return core.weights(this.state);
  }
  /** μ [K, d] */
  get means(): Tensor {
    return this.state.means;
  }
  /** L [K, d, d] (full) or σ [K, d] (diagonal) */
  get cholCov(): Tensor {
    return this.state.chols;
  }
  /** L⁻¹ [K, d, d] (full) or 1/σ [K, d] (diagonal) */
  get invChols(): Tensor {
    return this.state.invChols;
  }
  /** Σ [K, d, d] (full) or σ² [K, d] (diagonal), a new tensor */
  get covs(): Tensor {
    return core.covs(this.state);
  }

  /** log q(x) [N] of samples [N, d]. */
  logDensity(samples: Tensor): Tensor {
    return core.logDensity(this.state, samples);
  }
  /** log N(x; μ_o, Σ_o) [K, N]. */
  componentLogDensities(samples: Tensor): Tensor {
    return core.componentLogDensities(this.state, samples);
  }
  /** [log q(x) [N], component log densities [K, N]]. */
  logDensitiesAlsoIndividual(samples: Tensor): [Tensor, Tensor] {
    return core.logDensitiesAlsoIndividual(this.state, samples);
  }
  /** log q(x), ∇ₓ log q(x) and the component log densities. */
  logDensityAndGrad(samples: Tensor): LogDensityAndGrad {
    return core.logDensityAndGrad(this.state, samples);
  }
  /** 1-D marginal log density along `dimension` [N] (x as [N] values or [N, d] samples). */
  marginalLogDensity(samples: Tensor, dimension: number): Tensor {
    return core.marginalLogDensity(this.state, samples, dimension);
  }
  /** Per-component 1-D marginal log densities along `dimension` [K, N]. */
  componentMarginalLogDensities(samples: Tensor, dimension: number): Tensor {
    return core.componentMarginalLogDensities(this.state, samples, dimension);
  }
  /** Component entropies [K]. */
  componentEntropies(): Tensor {
    return core.componentEntropies(this.state);
  }
  /** Σ_o w_o H_o (scalar tensor). */
  getAverageEntropy(): Tensor {
    return core.getAverageEntropy(this.state);
  }
  /** n mixture samples and the component of each (row i from mapping[i]). */
  sample(n: number, key: Tensor): GmmSamples {
    return core.sample(this.state, n, key);
  }
  /** Component indices [n] drawn by weight. */
  sampleCategorical(n: number, key: Tensor): Tensor {
    return core.sampleCategorical(this.state, n, key);
  }
  /** counts[o] samples from each component o, grouped in component order. */
  sampleFromComponentsNoShuffle(counts: ArrayLike<number>, key: Tensor): GmmSamples {
    return core.sampleFromComponentsNoShuffle(this.state, counts, key);
  }
  /** Replaces the weights by exp(newLogWeights), renormalised. */
  replaceWeights(newLogWeights: Tensor): void {
    this.swap(core.replaceWeights(this.state, newLogWeights));
  }
  /** Replaces means and Cholesky factors (L⁻¹ recomputed). */
  replaceComponents(means: Tensor, chols: Tensor): void {
    this.swap(core.replaceComponents(this.state, means, chols));
  }
  /** Appends a component (weight before renormalisation, mean [d], covariance [d, d] or [d]). */
  addComponent(initialWeight: number, initialMean: Tensor, initialCov: Tensor): void {
    this.swap(core.addComponent(this.state, initialWeight, initialMean, initialCov));
  }
  /** Removes component `idx` (weights renormalised). */
  removeComponent(idx: number): void {
    this.swap(core.removeComponent(this.state, idx));
  }
}
