/**
 * Results (jaxns NestedSamplerResults): every sample (dead, phantom and the final live points) in
 * ascending log L with its live-point count from the sample tree, the moment recursion once more
 * over them for the per-sample weights, and the named prior values in one batched transform.
 */
import { Tensor } from '../../tensor.js';
import { ConfigError } from '../../errors.js';
import { tensor } from '../../autodiff/ops/creation.js';
import { take } from '../../autodiff/ops/indexing.js';
import { checkKey } from '../../random.js';
import { tidy, keep } from '../../memory.js';
import { withBackend } from '../../backends/backend.js';
import type { Model } from './model.js';
import { freshMoments, step as momentStep, summary } from './evidence.js';
import { terminationNames } from './termination.js';
import { countCrossedEdges } from './tree.js';
import { HostRng } from './rng.js';

/** What a run returns (jaxns' field names in camelCase; scalars as numbers, per-sample arrays as float64 tensors). */
export interface NestedSamplerResults {
  /** 2 log E[Z] − ½ log E[Z²]. */
  logZMean: number;
  /** √(log E[Z²] − 2 log E[Z]), times √(1+k) with k phantoms per chain. */
  logZUncert: number;
  /** Kish effective sample size E[Z]² / Σ E[dZ²], divided by 1+k with k phantoms. */
  ESS: number;
  /** −(Σ p_i log L_i − log Z) = −KL(posterior ‖ prior), as jaxns reports it. */
  HMean: number;
  /** Each prior's values per sample, [N, ...shape]. */
  samples: Record<string, Tensor>;
  /**
   * The parametrised priors' values per sample, [N, ...shape] each, by prior name (jaxns'
   * `parametrised_samples`; a value that depends on earlier priors differs between samples).
   * Empty without parametrised priors.
   */
  parametrisedSamples: Record<string, Tensor>;
  /** Unit-cube points [N, D]. */
  USamples: Tensor;
  /** log L per sample [N]. */
  logLSamples: Tensor;
  /** Normalised log posterior weights log E[dZ_i] − log E[Z] [N]. */
  logDpMean: Tensor;
  /** log E[X_i] after each sample [N]. */
  logXMean: Tensor;
  /** Live points at each sample's contour (tree edges crossing it; phantoms included) [N]. */
  numLivePointsPerSample: Tensor;
  totalNumSamples: number;
  totalNumLikelihoodEvaluations: number;
  /** log(N / evaluations). */
  logEfficiency: number;
  /** jaxns' bitmask (0: aborted or not terminated). */
  terminationReason: number;
  /** The names of the bits set. */
  terminationReasons: string[];
}

interface FinalState {
  U: number[];
  logL: number[];
  sender: number[];
  numEval: number;
}

/**
 * Results from a sampler state: all samples (dead, phantom, live) sorted by (log L, index), each
 * with its crossed-edge live count, through the moment recursion. With k phantoms per chain the
 * samples are correlated: the uncertainty is scaled by √(1+k) and the ESS divided by 1+k (jaxns).
 */
export function buildResults(model: Model, state: FinalState, mask: number, k: number): NestedSamplerResults {
  const { order, numLive } = countCrossedEdges(state.sender, state.logL);
  const N = order.length;
  const D = model.uNdims;
  const logL = new Float64Array(N);
  const U = new Float64Array(N * D);
  for (let j = 0; j < N; j++) {
    const i = order[j]!;
    logL[j] = state.logL[i]!;
    for (let d = 0; d < D; d++) U[j * D + d] = state.U[i * D + d]!;
  }
  const m = freshMoments();
  const logDZ = new Float64Array(N);
  const logX = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const r = momentStep(m, logL[i]!, numLive[i]!);
    logDZ[i] = r.logDZ;
    logX[i] = r.logX;
  }
  const { logZMean, logZUncert, ESS } = summary(m);
  const logDp = logDZ.map((v) => v - m.logZ);
  let sumPL = 0;
  for (let i = 0; i < N; i++) if (logDp[i]! > -Infinity) sumPL += Math.exp(logDp[i]!) * logL[i]!;
  let HMean = -(sumPL - m.logZ);
  if (!Number.isFinite(HMean)) {
    HMean = 0;
    for (let i = 0; i < N; i++) if (logDp[i]! > -Infinity) HMean += Math.exp(logDp[i]!) * Math.log(-logX[i]!);
  }
  const USamples = tensor(U, { shape: [N, D], dtype: 'float64' });
  const samples = tidy(() => keep(model.transformBatch(USamples)));
  const parametrisedSamples = tidy(() => keep(model.parametrisedBatch(USamples)));
  return {
    logZMean,
    logZUncert: logZUncert * Math.sqrt(1 + k),
    ESS: ESS / (1 + k),
    HMean,
    samples,
    parametrisedSamples,
    USamples,
    logLSamples: tensor(logL, { shape: [N], dtype: 'float64' }),
    logDpMean: tensor(logDp, { shape: [N], dtype: 'float64' }),
    logXMean: tensor(logX, { shape: [N], dtype: 'float64' }),
    numLivePointsPerSample: tensor(numLive, { shape: [N], dtype: 'float64' }),
    totalNumSamples: N,
    totalNumLikelihoodEvaluations: state.numEval,
    logEfficiency: Math.log(N / state.numEval),
    terminationReason: mask,
    terminationReasons: terminationNames(mask),
  };
}

/** n posterior draws (with replacement, weights exp(logDpMean)): each prior's values [n, ...shape]. */
export function resample(key: Tensor, results: NestedSamplerResults, n: number): Record<string, Tensor> {
  checkKey('ns.resample', key);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`ns.resample: n must be a positive integer, got ${String(n)}.`);
  const rng = new HostRng(Int32Array.from(key.dataSync()));
  const w = Array.from(results.logDpMean.dataSync(), (v) => Math.exp(v));
  const cdf = new Float64Array(w.length);
  let acc = 0;
  w.forEach((v, i) => (cdf[i] = acc += v));
  const u = rng.uniform(n);
  const idx = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const target = u[j]! * acc;
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    idx[j] = lo;
  }
  return tidy(() => {
    const out: Record<string, Tensor> = {};
    // the indices go where the samples are (the model's backend: WebGPU for a model built there)
    for (const [k, t] of Object.entries(results.samples)) out[k] = keep(take(t, withBackend(t.backend, () => tensor(idx, { shape: [n], dtype: 'int32' })), 0));
    return out;
  });
}

/**
 * n draws of log Z from the shrinkage distribution (jaxns' sample_evidence): T_i = u^{1/n_i} ~
 * Beta(n_i, 1), X_i = Π T, dZ_i = (X_{i−1} − X_i)·L_i; returned as a float64 tensor [n].
 */
export function sampleEvidence(key: Tensor, results: NestedSamplerResults, n: number): Tensor {
  checkKey('ns.sampleEvidence', key);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`ns.sampleEvidence: n must be a positive integer, got ${String(n)}.`);
  const rng = new HostRng(Int32Array.from(key.dataSync()));
  const logL = results.logLSamples.dataSync();
  const nLive = results.numLivePointsPerSample.dataSync();
  const N = logL.length;
  const out = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const u = rng.open(N);
    let logX = 0;
    let logZ = -Infinity;
    for (let i = 0; i < N; i++) {
      const logT = Math.log(u[i]!) / nLive[i]!;
      // log(X_{i−1} − X_i) = log X_{i−1} + log(1 − T_i)
      const logDX = logX + Math.log(-Math.expm1(logT));
      const a = logDX + logL[i]!;
      if (a > -Infinity) logZ = logZ === -Infinity ? a : Math.max(logZ, a) + Math.log1p(Math.exp(-Math.abs(logZ - a)));
      logX += logT;
    }
    out[j] = logZ;
  }
  return tensor(out, { shape: [n], dtype: 'float64' });
}
