/**
 * The M-step objective (jaxns' EvidenceMaximisation, §1 of the port notes): with the unit-cube
 * points U_i of the last E-step held fixed and their prior-volume masses
 * log ΔX_i = log dp_i − log L_i + log Z (θ-independent, as Z(θ) = ∫ L_θ(T_θ(U)) dU),
 *   log Ẑ(θ) = logsumexp_i [ log ΔX_i + log L_θ(T_θ(U_i)) ],
 * an importance-reweighted evidence whose gradient at the E-step's θ is the posterior-weighted
 * score. Points with zero weight (L = 0, so log ΔX would be −∞ − (−∞) = NaN, or dp = 0) are left
 * out on the host: that is the mask jaxns' padding lacks.
 */
import { Tensor } from '../../tensor.js';
import { ConfigError } from '../../errors.js';
import { tensor } from '../../autodiff/ops/creation.js';
import { add } from '../../autodiff/ops/elementwise.js';
import { logsumexp } from '../../autodiff/ops/reduce.js';
import { take } from '../../autodiff/ops/indexing.js';
import type { Model, ModelParams } from '../nested-sampling/model.js';
import type { NestedSamplerResults } from '../nested-sampling/results.js';

/** The E-step's samples the M-step uses: U [N, D] and log ΔX [N] (host copy too), zero-weight points removed. */
export interface MStepData {
  U: Tensor;
  logW: Tensor;
  logWHost: Float64Array;
  /** Samples kept (finite log ΔX). */
  n: number;
}

/** log ΔX_i = logDpMean_i − logL_i + logZMean over the samples with a finite value. */
export function mStepData(op: string, results: NestedSamplerResults): MStepData {
  if (!results || typeof results !== 'object' || !(results.USamples instanceof Tensor) || !(results.logDpMean instanceof Tensor) || !(results.logLSamples instanceof Tensor)) {
    throw new ConfigError(`${op}: results must be nested-sampling results (from eStep or ns.NestedSampler.run).`);
  }
  const logDp = results.logDpMean.dataSync();
  const logL = results.logLSamples.dataSync();
  const logZ = results.logZMean;
  const keepIdx: number[] = [];
  const w: number[] = [];
  for (let i = 0; i < logL.length; i++) {
    const v = logDp[i]! - logL[i]! + logZ;
    if (Number.isFinite(v)) {
      keepIdx.push(i);
      w.push(v);
    }
  }
  if (keepIdx.length === 0) throw new ConfigError(`${op}: no sample has a finite weight (log Z = ${logZ}); the E-step found no point with a non-zero likelihood.`);
  const idx = tensor(Int32Array.from(keepIdx), { shape: [keepIdx.length], dtype: 'int32' });
  const U = take(results.USamples, idx, 0);
  idx.dispose();
  const logWHost = Float64Array.from(w);
  return { U, logW: tensor(logWHost, { shape: [w.length], dtype: 'float64' }), logWHost, n: w.length };
}

/** The terms log ΔX_i + log L_θ(T_θ(U_i)) [n] (rows `rows` of the data when given). */
export function logTerms(model: Model, params: ModelParams, data: MStepData, rows?: Tensor): Tensor {
  const U = rows ? take(data.U, rows, 0) : data.U;
  const w = rows ? take(data.logW, rows, 0) : data.logW;
  return add(w, model.logLikelihoodBatch(U, params));
}

/** log Ẑ(θ) (a float64 scalar), differentiable in params. */
export function logEvidence(model: Model, params: ModelParams, data: MStepData, rows?: Tensor): Tensor {
  return logsumexp(logTerms(model, params, data, rows));
}

/** Kish ESS (Σw)²/Σw² of weights given as logs (−∞ entries count 0; NaN gives 0). */
export function kishESS(logw: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < logw.length; i++) if (logw[i]! > m) m = logw[i]!;
  if (!Number.isFinite(m)) return 0;
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < logw.length; i++) {
    const v = logw[i]!;
    if (Number.isNaN(v)) return 0;
    const e = Math.exp(v - m);
    s += e;
    s2 += e * e;
  }
  return (s * s) / s2;
}
