/**
 * The Stein natural-gradient estimator (letter S; §3 of the notes, Lin et al. 2019): for each
 * component o, with g_i = ∇ log p̃(x_i) − β ∇ log q(x_i) the gradient of the log ratio,
 *
 *   ĝ_o = E_w[g_i],    Ĥ_o = E_w[Σ_o⁻¹(x_i − μ_o) g_iᵀ]   (Stein's lemma: E_q[∇²f] = E_q[Σ⁻¹(x−μ)∇fᵀ])
 *
 * under importance weights a_oi = q(x_i|o) / q_bg(x_i), self-normalised (SNIS) or standard
 * ((1/n) Σ a_oi v_i). Returns the negations −Ĥ [K, d, d] (diagonal: [K, d]) and −ĝ [K, d].
 * All K components in one batched pass (no loop over components).
 *
 * Deliberate differences from gmmvi (README quirks): the temperature β multiplies ∇ log q (gmmvi
 * ignores it, §12.3; identical for β = 1); the standard-IS Hessian is symmetrised like the SNIS
 * one (§12.5); with `onlyUseOwnSamples`, a sample's own component is found from the database's
 * Gaussian count (the last K Gaussians are the current components) when given, instead of from
 * max(mapping) (§3's relative mapping, which assumes every component drew in the newest batch).
 */
import type { Tensor } from '../../tensor.js';
import { ConfigError, ShapeError } from '../../errors.js';
import { tidy } from '../../memory.js';
import { add, cast, div, equal, exp, mul, neg, sub, where } from '../../autodiff/ops/elementwise.js';
import { max, softmax, sum } from '../../autodiff/ops/reduce.js';
import { expandDims, mT } from '../../autodiff/ops/shape.js';
import { matmul } from '../../autodiff/ops/matmul.js';
import { arange, full } from '../../autodiff/ops/creation.js';
import { stopGradient } from '../../autodiff/ops/special.js';
import { fmtShape } from '../../shape.js';
import { jitPays, logDensityGradAndPrecisionResiduals, plainGmm, numComponents, numDimensions, type GmmState } from './gmm.js';
import { jitStep } from '../../jit/step.js';
import type { SampleSelection } from './sample-selector.js';

/** Options of the Stein estimator (gmmvi's `ng_estimator_config`, camelCased). */
export interface SteinOptions {
  /** use only the samples a component drew itself, with q(x|o) as their background (uniform weights) */
  onlyUseOwnSamples: boolean;
  /** self-normalised importance weights (gmmvi's default true) or standard ones */
  useSelfNormalizedImportanceWeights: boolean;
  /** β, the entropy weight (default 1) */
  temperature?: number;
  /** the database's Gaussian count when the window was selected (own-sample mode; default: from max(mapping)) */
  dbNumGaussians?: number;
}

/** −E[∇² log(p̃/q^β)] per component ([K, d, d], or [K, d] for diagonal covariances) and −E[∇ log(p̃/q^β)] [K, d]. */
export interface NgEstimate {
  expectedHessianNeg: Tensor;
  expectedGradientNeg: Tensor;
}

/** log a_oi [K, N]: log q(x_i|o) − log q_bg(x_i), or in own-sample mode 0 for own samples and −∞ for the rest. */
function logImportanceWeights(comp: Tensor, bg: Tensor, mapping: Tensor, k: number, opts: SteinOptions): Tensor {
  if (!opts.onlyUseOwnSamples) return sub(comp, expandDims(bg, 0));
  const m = cast(mapping, 'int32');
  const offset = opts.dbNumGaussians !== undefined ? opts.dbNumGaussians - k : sub(max(m), k - 1);
  const rel = sub(m, offset); // [N]
  const own = equal(expandDims(rel, 0), expandDims(arange(0, k, 1, 'int32'), -1)); // [K, N]
  return where(own, full([k, mapping.shape[0]!], 0, comp.dtype), full([k, mapping.shape[0]!], -Infinity, comp.dtype));
}

/**
 * Weights v ↦ E_w[v] as a [K, N] matrix W: SNIS rows sum to one; standard IS rows are a_oi / n_o
 * (n_o = the samples that component may use), scaled by the row's largest weight before
 * exponentiating so that large log-weights do not overflow.
 */
function expectationWeights(logW: Tensor, selfNormalized: boolean, onlyOwn: boolean): Tensor {
  if (selfNormalized) return softmax(logW, { axis: -1 });
  const m = stopGradient(max(logW, { axis: -1, keepdims: true }));
  const scaled = exp(sub(logW, m));
  const n = onlyOwn ? sum(cast(equal(logW, 0), logW.dtype), { axis: -1, keepdims: true }) : logW.shape[1]!;
  return div(mul(scaled, exp(m)), n);
}

/**
 * The Stein estimate for every component from a selected window (samples, mapping, background
 * log density, target values and gradients). A component with no usable sample gets NaN (the
 * updaters keep such a component unchanged).
 */
export function steinEstimate(model: GmmState, selection: Pick<SampleSelection, 'samples' | 'mapping' | 'logPdfs' | 'targetGrads'>, opts: SteinOptions): NgEstimate {
  const op = 'gmmvi.steinEstimate';
  if (opts === null || typeof opts !== 'object' || typeof opts.onlyUseOwnSamples !== 'boolean' || typeof opts.useSelfNormalizedImportanceWeights !== 'boolean') {
    throw new ConfigError(`${op}: options need onlyUseOwnSamples and useSelfNormalizedImportanceWeights (true or false).`);
  }
  const beta = opts.temperature ?? 1;
  if (typeof beta !== 'number' || !Number.isFinite(beta)) throw new ConfigError(`${op}: temperature must be a finite number, got ${String(beta)}.`);
  const { samples: x, mapping, logPdfs: bg, targetGrads } = selection;
  const k = numComponents(model);
  const d = numDimensions(model);
  const n = x.shape[0]!;
  if (x.ndim !== 2 || x.shape[1] !== d) throw new ShapeError(`${op}: samples must be [N, ${d}], got ${fmtShape(x.shape)}.`);
  for (const [name, t, shape] of [['mapping', mapping, [n]], ['logPdfs', bg, [n]], ['targetGrads', targetGrads, [n, d]]] as const) {
    if (t.ndim !== shape.length || t.shape.some((v, i) => v !== shape[i])) throw new ShapeError(`${op}: ${name} must be ${fmtShape(shape)} for ${n} samples, got ${fmtShape(t.shape)}.`);
  }
  if (jitPays(k, n, d)) return steinJit(plainGmm(model), x, mapping, bg, targetGrads, { ...opts, temperature: beta });
  return tidy(() => steinOf(model, x, mapping, bg, targetGrads, { ...opts, temperature: beta }));
}

/**
 * Large windows run jitted (fused passes over the [K, N, d] residuals; see gmm.ts). The window's
 * size changes every iteration, so one program is kept (it holds its buffers) and each call traces.
 */
const steinJit = jitStep('gmmvi.steinEstimate', steinOf, undefined, { cacheSize: 1 });

/** Frees the jitted Stein estimate's program; later calls trace again. */
export function disposeSteinPrograms(): void {
  steinJit.dispose();
}

function steinOf(model: GmmState, x: Tensor, mapping: Tensor, bg: Tensor, targetGrads: Tensor, opts: SteinOptions & { temperature: number }): NgEstimate {
  const k = numComponents(model);
  const beta = opts.temperature;
  // p_oi = Σ_o⁻¹(x_i − μ_o) in row form [K, N, d], shared with ∇ log q
  const { grads: qGrad, componentLogDensities: comp, precisionResiduals: p } = logDensityGradAndPrecisionResiduals(model, x);
  const g = sub(targetGrads, mul(qGrad, beta)); // [N, d]
  const W = expectationWeights(logImportanceWeights(comp, bg, mapping, k, opts), opts.useSelfNormalizedImportanceWeights, opts.onlyUseOwnSamples); // [K, N]
  const gHat = matmul(W, g); // [K, d]
  let H: Tensor;
  if (model.diagonal) {
    H = sum(mul(mul(p, expandDims(g, 0)), expandDims(W, -1)), { axis: 1 }); // [K, d]
  } else {
    // (Σ_i w_i p_i g_iᵀ)ᵀ = Σ_i g_i (w_i p_i)ᵀ: transposing the [N, d] gradients, not the [K, N, d] residuals
    const rawT = matmul(expandDims(mT(g), 0), mul(p, expandDims(W, -1))); // [K, d, d]
    H = mul(add(rawT, mT(rawT)), 0.5);
  }
  return { expectedHessianNeg: neg(H), expectedGradientNeg: neg(gHat) };
}
