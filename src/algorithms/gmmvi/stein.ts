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
import { expandDims, mT, slice } from '../../autodiff/ops/shape.js';
import { matmul } from '../../autodiff/ops/matmul.js';
import { arange, full } from '../../autodiff/ops/creation.js';
import { stopGradient } from '../../autodiff/ops/special.js';
import { fmtShape } from '../../shape.js';
import { componentLogDensities, jitPays, logDensityGradAndPrecisionResiduals, plainGmm, numComponents, numDimensions, type GmmState } from './gmm.js';
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
  const o = { ...opts, temperature: beta };
  const rows = Math.max(1, Math.floor(BLOCK_ELEMENTS / (k * d)));
  if (n <= rows) {
    if (jitPays(k, n, d)) return steinJit(plainGmm(model), x, mapping, bg, targetGrads, o);
    return tidy(() => steinOf(model, x, mapping, bg, targetGrads, o));
  }
  return steinInBlocks(model, x, mapping, bg, targetGrads, o, rows);
}

/**
 * K·rows·d past which the estimate sums over blocks of rows: a window's [K, N, d] residuals would
 * otherwise be held several times over (PlanarRobot4: 300 components × 30000 samples × 10
 * dimensions is 720 MB a tensor), and equal-sized blocks replay one jitted program instead of
 * tracing each window's size. The blocked path evaluates the component densities once more (the
 * weights normalise over all N before any block is summed), and its sums round differently from
 * one product over all N.
 */
let BLOCK_ELEMENTS = 1 << 23;

/** @internal Sets the K·rows·d block size (tests reach the blocked path with small windows); returns the old one. */
export function setSteinBlockElements(n: number): number {
  const old = BLOCK_ELEMENTS;
  BLOCK_ELEMENTS = n;
  return old;
}

/**
 * Large windows run jitted (fused passes over the [K, N, d] residuals; see gmm.ts): one program
 * for a window that fits one block (its size changes every iteration, so each call traces), two
 * for the blocks (full ones, and the last).
 */
const steinJit = jitStep('gmmvi.steinEstimate', steinOf, undefined, { cacheSize: 1 });
const steinBlockJit = jitStep('gmmvi.steinEstimate.block', steinSums, undefined, { cacheSize: 2 });

/** Frees the jitted Stein estimate's programs; later calls trace again. */
export function disposeSteinPrograms(): void {
  steinJit.dispose();
  steinBlockJit.dispose();
}

/** Σ_i W_oi g_i [K, d] and Σ_i W_oi p_oi g_iᵀ as its transpose [K, d, d] (diagonal: Σ_i W_oi p_oi ⊙ g_i, [K, d]) over the rows x. */
function steinSums(model: GmmState, x: Tensor, targetGrads: Tensor, W: Tensor, beta: number): { gSum: Tensor; hSum: Tensor } {
  return sumsFrom(model.diagonal, logDensityGradAndPrecisionResiduals(model, x), targetGrads, W, beta);
}

/** The sums from ∇ log q and p_oi = Σ_o⁻¹(x_i − μ_o) in row form [K, N, d] (one pass gives both). */
function sumsFrom(diagonal: boolean, q: { grads: Tensor; precisionResiduals: Tensor }, targetGrads: Tensor, W: Tensor, beta: number): { gSum: Tensor; hSum: Tensor } {
  const p = q.precisionResiduals;
  const g = sub(targetGrads, mul(q.grads, beta)); // [N, d]
  const gSum = matmul(W, g); // [K, d]
  // (Σ_i w_i p_i g_iᵀ)ᵀ = Σ_i g_i (w_i p_i)ᵀ: transposing the [N, d] gradients, not the [K, N, d] residuals
  const hSum = diagonal ? sum(mul(mul(p, expandDims(g, 0)), expandDims(W, -1)), { axis: 1 }) : matmul(expandDims(mT(g), 0), mul(p, expandDims(W, -1)));
  return { gSum, hSum };
}

/** −Ĥ and −ĝ from the sums (the full-covariance Hessian symmetrised). */
function estimateFromSums(diagonal: boolean, gSum: Tensor, hSum: Tensor): NgEstimate {
  const H = diagonal ? hSum : mul(add(hSum, mT(hSum)), 0.5);
  return { expectedHessianNeg: neg(H), expectedGradientNeg: neg(gSum) };
}

function steinOf(model: GmmState, x: Tensor, mapping: Tensor, bg: Tensor, targetGrads: Tensor, opts: SteinOptions & { temperature: number }): NgEstimate {
  const q = logDensityGradAndPrecisionResiduals(model, x);
  const W = expectationWeights(logImportanceWeights(q.componentLogDensities, bg, mapping, numComponents(model), opts), opts.useSelfNormalizedImportanceWeights, opts.onlyUseOwnSamples); // [K, N]
  const { gSum, hSum } = sumsFrom(model.diagonal, q, targetGrads, W, opts.temperature);
  return estimateFromSums(model.diagonal, gSum, hSum);
}

/** The weights over the whole window first ([K, N]: they normalise over all N), then the sums a block of rows at a time. */
function steinInBlocks(model: GmmState, x: Tensor, mapping: Tensor, bg: Tensor, targetGrads: Tensor, opts: SteinOptions & { temperature: number }, rows: number): NgEstimate {
  const [n, d] = x.shape as [number, number];
  return tidy(() => {
    const comp = componentLogDensities(model, x);
    const W = expectationWeights(logImportanceWeights(comp, bg, mapping, numComponents(model), opts), opts.useSelfNormalizedImportanceWeights, opts.onlyUseOwnSamples);
    const k = W.shape[0]!;
    const plain = plainGmm(model);
    let gSum: Tensor | null = null;
    let hSum: Tensor | null = null;
    for (let start = 0; start < n; start += rows) {
      const b = Math.min(rows, n - start);
      const part = steinBlockJit(plain, slice(x, [start, 0], [b, d]), slice(targetGrads, [start, 0], [b, d]), slice(W, [0, start], [k, b]), opts.temperature);
      gSum = gSum === null ? part.gSum : add(gSum, part.gSum);
      hSum = hSum === null ? part.hSum : add(hSum, part.hSum);
    }
    return estimateFromSums(model.diagonal, gSum!, hSum!);
  });
}
