/**
 * The Gaussian mixture model of GMMVI as a functional core: a `GmmState` is a plain pytree
 * (log-weights, means, Cholesky factors and their inverses) and every operation returns a new
 * state or new tensors, never mutating its input. The `GMM` class (./gmm-class.ts) is a thin face
 * over these functions with gmmvi's method names.
 *
 * Full covariances keep L (lower, Σ = LLᵀ) and L⁻¹ per component, diagonal ones the standard
 * deviations and their reciprocals: component densities are then one batched matmul (the seed's
 * `inv_chols`), not a triangular solve per evaluation.
 */
import { Tensor } from '../../tensor.js';
import { ConfigError, DTypeError, ShapeError } from '../../errors.js';
import { tidy } from '../../memory.js';
import { add, div, exp, log, mul, neg, reciprocal, sqrt, square, sub } from '../../autodiff/ops/elementwise.js';
import { logsumexp, softmax, sum } from '../../autodiff/ops/reduce.js';
import { concat, expandDims, mT, reshape, slice, squeeze } from '../../autodiff/ops/shape.js';
import { diagonal as diagPart, take } from '../../autodiff/ops/indexing.js';
import { matmul } from '../../autodiff/ops/matmul.js';
import { eye, tensor } from '../../autodiff/ops/creation.js';
import { cholesky, triangularSolve } from '../../autodiff/ops/linalg.js';
import { categorical, foldIn, normal } from '../../random.js';
import { fmtShape } from '../../shape.js';
import { jitStep } from '../../jit/step.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** A Gaussian mixture: K components in d dimensions. All tensors share one float dtype. */
export interface GmmState {
  /** log w [K], normalised (logsumexp = 0) */
  logWeights: Tensor;
  /** μ [K, d] */
  means: Tensor;
  /** lower Cholesky factors L [K, d, d] (full), or standard deviations [K, d] (diagonal) */
  chols: Tensor;
  /** L⁻¹ [K, d, d] (full), or 1/σ [K, d] (diagonal) */
  invChols: Tensor;
  /** whether the covariances are diagonal (chols [K, d]) */
  diagonal: boolean;
}

/** Options of `createGmm`: means and weights, and exactly one of `covs` or `chols`. */
export interface CreateGmmOptions {
  /** μ [K, d] */
  means: Tensor;
  /** w [K] (normalised here); give this or `logWeights`; default uniform */
  weights?: Tensor;
  /** log w [K] (normalised here) */
  logWeights?: Tensor;
  /** Σ [K, d, d] (full), or the variances [K, d] (diagonal) */
  covs?: Tensor;
  /** L [K, d, d] lower (full), or the standard deviations [K, d] (diagonal) */
  chols?: Tensor;
  /** diagonal covariances (default: inferred from the rank of covs / chols, [K, d] = diagonal) */
  diagonal?: boolean;
}

/** The number of components K. */
export function numComponents(s: GmmState): number {
  return s.means.shape[0]!;
}

/** The dimension d. */
export function numDimensions(s: GmmState): number {
  return s.means.shape[1]!;
}

/** w [K] = exp(log w). */
export function weights(s: GmmState): Tensor {
  return exp(s.logWeights);
}

/** L⁻¹ of each Cholesky factor (full: a triangular solve against I; diagonal: 1/σ). */
export function invertChols(chols: Tensor, diagonal: boolean): Tensor {
  if (diagonal) return reciprocal(chols);
  const d = chols.shape[chols.ndim - 1]!;
  return tidy(() => triangularSolve(chols, eye(d, d, chols.dtype), { lower: true }));
}

function checkFloat(op: string, name: string, t: unknown, dtype?: string): Tensor {
  if (!(t instanceof Tensor)) throw new ConfigError(`${op}: ${name} must be a Tensor, got ${t === null ? 'null' : typeof t}.`);
  if (t.dtype !== 'float64' && t.dtype !== 'float32') throw new DTypeError(`${op}: ${name} must be float64 or float32, got ${t.dtype}.`);
  if (dtype !== undefined && t.dtype !== dtype) throw new DTypeError(`${op}: ${name} is ${t.dtype} but the means are ${dtype}; use one dtype.`);
  return t;
}

/** Checks the factor shape: [K, d, d] (full) or [K, d] (diagonal). */
function checkFactorShape(op: string, name: string, t: Tensor, k: number, d: number, diagonal: boolean): void {
  const want = diagonal ? [k, d] : [k, d, d];
  if (t.ndim !== want.length || t.shape.some((v, i) => v !== want[i])) {
    throw new ShapeError(`${op}: ${name} must be ${fmtShape(want)} for ${k} ${diagonal ? 'diagonal' : 'full-covariance'} components in ${d} dimensions, got ${fmtShape(t.shape)}.`);
  }
}

/**
 * A GMM state from means, (log-)weights and covariances or Cholesky factors. Covariances are
 * factorised here (a NumericalError if one is not positive definite); weights are normalised.
 */
export function createGmm(opts: CreateGmmOptions): GmmState {
  const op = 'gmmvi.createGmm';
  if (opts === null || typeof opts !== 'object') throw new ConfigError(`${op}: expected { means, weights | logWeights, covs | chols }.`);
  for (const key of Object.keys(opts)) {
    if (!['means', 'weights', 'logWeights', 'covs', 'chols', 'diagonal'].includes(key)) throw new ConfigError(`${op}: unknown option '${key}' (known: means, weights, logWeights, covs, chols, diagonal).`);
  }
  const means = checkFloat(op, 'means', opts.means);
  if (means.ndim !== 2) throw new ShapeError(`${op}: means must be [K, d], got ${fmtShape(means.shape)}.`);
  const [k, d] = means.shape as [number, number];
  if (k < 1 || d < 1) throw new ShapeError(`${op}: need at least one component and one dimension, got means ${fmtShape(means.shape)}.`);
  if ((opts.covs === undefined) === (opts.chols === undefined)) throw new ConfigError(`${op}: give exactly one of covs and chols.`);
  if (opts.weights !== undefined && opts.logWeights !== undefined) throw new ConfigError(`${op}: give at most one of weights and logWeights.`);
  const factorName = opts.covs !== undefined ? 'covs' : 'chols';
  const factor = checkFloat(op, factorName, opts.covs ?? opts.chols, means.dtype);
  const diagonal = opts.diagonal ?? factor.ndim === 2;
  checkFactorShape(op, factorName, factor, k, d, diagonal);
  let logW: Tensor;
  if (opts.logWeights !== undefined || opts.weights !== undefined) {
    const w = checkFloat(op, opts.weights !== undefined ? 'weights' : 'logWeights', opts.weights ?? opts.logWeights, means.dtype);
    if (w.ndim !== 1 || w.shape[0] !== k) throw new ShapeError(`${op}: ${opts.weights !== undefined ? 'weights' : 'logWeights'} must be [${k}] (one per component), got ${fmtShape(w.shape)}.`);
    logW = opts.weights !== undefined ? log(w) : w;
  } else {
    logW = tensor(new Array<number>(k).fill(0), { dtype: means.dtype });
  }
  return tidy(() => {
    const chols = opts.covs !== undefined ? (diagonal ? sqrt(factor) : cholesky(factor)) : factor;
    return { logWeights: sub(logW, logsumexp(logW)), means, chols, invChols: invertChols(chols, diagonal), diagonal };
  });
}

/** Σ_k log diag L per component [K] (½ log det Σ). */
function halfLogDets(s: GmmState): Tensor {
  return sum(log(s.diagonal ? s.chols : diagPart(s.chols)), { axis: -1 });
}

/** Whitened residuals z = L⁻¹(x − μ) for every component: [K, N, d]. */
function whiten(s: GmmState, x: Tensor): Tensor {
  if (s.diagonal) return mul(sub(expandDims(x, 0), expandDims(s.means, 1)), expandDims(s.invChols, 1));
  // z_o = [x, 1] [L_o⁻ᵀ; −(L_o⁻¹ μ_o)ᵀ]: the shift rides in the product as one more row, so the
  // [K, N, d] result is written once (a broadcast subtraction over it cost as much as the product)
  const ml = matmul(s.invChols, expandDims(s.means, -1)); // [K, d, 1]
  const w = concat([mT(s.invChols), neg(mT(ml))], 1); // [K, d + 1, d]
  const xa = concat([x, tensor(1, { dtype: x.dtype }).broadcastTo([x.shape[0]!, 1])], 1); // [N, d + 1]
  return matmul(expandDims(xa, 0), w);
}

function checkSamples(op: string, s: GmmState, x: Tensor): void {
  if (!(x instanceof Tensor)) throw new ConfigError(`${op}: samples must be a Tensor [N, d].`);
  const d = numDimensions(s);
  if (x.ndim !== 2 || x.shape[1] !== d) throw new ShapeError(`${op}: samples must be [N, ${d}] for this ${d}-dimensional GMM, got ${fmtShape(x.shape)}.`);
  if (x.dtype !== s.means.dtype) throw new DTypeError(`${op}: samples are ${x.dtype} but the GMM is ${s.means.dtype}; use one dtype.`);
}

function componentLogDensitiesOf(s: GmmState, x: Tensor): Tensor {
  const q = sum(square(whiten(s, x)), { axis: -1 }); // [K, N]
  return sub(mul(q, -0.5), expandDims(add(halfLogDets(s), 0.5 * numDimensions(s) * LOG_2PI), -1));
}

/**
 * Large evaluations run jitted: the [K, N, d] residuals are then squared and summed in one fused
 * pass instead of two more sweeps over memory (≈2× on the sample database's background blocks,
 * the hot path once K and the database grow; the same numbers bit for bit on the CPU). Small
 * ones stay eager, where a trace per new shape would cost more than it saves.
 */
const JIT_MIN_ELEMENTS = 1 << 16;
// a few programs kept: shapes repeat within an iteration (≈45% hits on breast cancer), each holds its buffers
const componentLogDensitiesJit = jitStep('gmmvi.componentLogDensities', componentLogDensitiesOf, undefined, { cacheSize: 4 });
const logDensityAndGradJit = jitStep('gmmvi.logDensityAndGrad', logDensityAndGradOf, undefined, { cacheSize: 2 });
/** Whether K components over N samples in d dimensions are worth a jitted evaluation. */
export const jitPays = (k: number, n: number, d: number): boolean => k * n * d >= JIT_MIN_ELEMENTS;
/** Frees the programs of the jitted GMM evaluations (each holds its buffers); later calls trace again. */
export function disposeGmmPrograms(): void {
  componentLogDensitiesJit.dispose();
  logDensityAndGradJit.dispose();
}
const worthJit = (s: GmmState, x: Tensor) => jitPays(s.means.shape[0]!, x.shape[0]!, x.shape[1]!);
/**
 * The state as a plain object for a jitted call: jitStep reads a plain object's tensors as the
 * program's inputs, but takes any other object (a class instance implementing GmmState, say) as one
 * opaque leaf, keyed by identity, whose tensors the trace would bake in as constants; a later call
 * with the same object, its tensors replaced, would then replay the old values.
 */
export const plainGmm = (s: GmmState): GmmState => ({ logWeights: s.logWeights, means: s.means, chols: s.chols, invChols: s.invChols, diagonal: s.diagonal });

/**
 * Rows per block so that a block's [K, rows, d] residuals stay near 2M numbers: samples are
 * independent, so blocks over N give the same numbers bit for bit while memory stays bounded
 * (PlanarRobot4's 300 components over 30000 samples would otherwise make 90M-number temporaries).
 */
const BLOCK_ELEMENTS = 1 << 21;
function sampleBlocks<T>(s: GmmState, x: Tensor, one: (rows: Tensor) => T, join: (parts: T[]) => T): T {
  const [n, d] = x.shape as [number, number];
  const rows = Math.max(1, Math.floor(BLOCK_ELEMENTS / (s.means.shape[0]! * d)));
  if (n <= rows) return one(x);
  return tidy(() => {
    const parts: T[] = [];
    for (let start = 0; start < n; start += rows) parts.push(one(slice(x, [start, 0], [Math.min(rows, n - start), d])));
    return join(parts);
  });
}

/** log N(x_n; μ_o, Σ_o) for every component and sample: [K, N]. */
export function componentLogDensities(s: GmmState, x: Tensor): Tensor {
  checkSamples('gmmvi.componentLogDensities', s, x);
  return sampleBlocks(s, x, (rows) => componentBlock(s, rows), (parts) => concat(parts, 1));
}

/** One block's component log densities [K, rows], jitted when large enough. */
const componentBlock = (s: GmmState, rows: Tensor): Tensor =>
  worthJit(s, rows) ? componentLogDensitiesJit(plainGmm(s), rows) : tidy(() => componentLogDensitiesOf(s, rows));

/** log q(x) [rows] from the component log densities [K, rows]: log Σ_o w_o N(x; μ_o, Σ_o). */
const mixtureOf = (s: GmmState, comp: Tensor): Tensor => tidy(() => logsumexp(add(comp, expandDims(s.logWeights, -1)), { axis: 0 }));

/**
 * log q(x) of the mixture [N] and the component log densities [K, N] (gmmvi's
 * `log_densities_also_individual`). The mixture is summed a block of samples at a time, while the
 * block is in cache: over PlanarRobot4's add heuristic (100k samples, K ≈ 100) a pass over the
 * whole [K, N] table cost more than computing it. Columns are independent: the same bits.
 */
export function logDensitiesAlsoIndividual(s: GmmState, x: Tensor): [Tensor, Tensor] {
  checkSamples('gmmvi.logDensitiesAlsoIndividual', s, x);
  return sampleBlocks(s, x, (rows): [Tensor, Tensor] => {
    const comp = componentBlock(s, rows);
    return [mixtureOf(s, comp), comp];
  }, (parts) => [concat(parts.map((p) => p[0]), 0), concat(parts.map((p) => p[1]), 1)]);
}

/** log q(x) of the mixture, [N], without keeping the [K, N] component table. */
export function logDensity(s: GmmState, x: Tensor): Tensor {
  checkSamples('gmmvi.logDensity', s, x);
  return sampleBlocks(s, x, (rows) => tidy(() => mixtureOf(s, componentBlock(s, rows))), (parts) => concat(parts, 0));
}

/** The mixture's log density [N], its x-gradient [N, d] and the component log densities [K, N]. */
export interface LogDensityAndGrad {
  logDensities: Tensor;
  grads: Tensor;
  componentLogDensities: Tensor;
}

/**
 * log q(x), ∇ₓ log q(x) and the component log densities, in closed form:
 * ∇ₓ log q(x) = −Σ_o r_o(x) Σ_o⁻¹(x − μ_o) = −Σ_o r_o(x) L_o⁻ᵀ z_o with responsibilities
 * r_o(x) = softmax_o(log w_o + log N(x; μ_o, Σ_o)). Differentiable again (plain ops).
 */
export function logDensityAndGrad(s: GmmState, x: Tensor): LogDensityAndGrad {
  checkSamples('gmmvi.logDensityAndGrad', s, x);
  return sampleBlocks(s, x, (rows) => (worthJit(s, rows) ? logDensityAndGradJit(plainGmm(s), rows) : tidy(() => logDensityAndGradOf(s, rows))), (parts) => ({
    logDensities: concat(parts.map((p) => p.logDensities), 0),
    grads: concat(parts.map((p) => p.grads), 0),
    componentLogDensities: concat(parts.map((p) => p.componentLogDensities), 1),
  }));
}

function logDensityAndGradOf(s: GmmState, x: Tensor): LogDensityAndGrad {
  const { precisionResiduals: _, ...out } = logDensityGradAndPrecisionResiduals(s, x);
  return out;
}

/**
 * logDensityAndGrad's numbers and, on the way, the precision-weighted residuals Σ_o⁻¹(x − μ_o)
 * [K, N, d] (row form), which the Stein estimator needs too: unblocked, unjitted (the caller's
 * trace, if any, covers it).
 */
export function logDensityGradAndPrecisionResiduals(s: GmmState, x: Tensor): LogDensityAndGrad & { precisionResiduals: Tensor } {
  const d = numDimensions(s);
  const z = whiten(s, x); // [K, N, d]
  const comp = sub(mul(sum(square(z), { axis: -1 }), -0.5), expandDims(add(halfLogDets(s), 0.5 * d * LOG_2PI), -1));
  const joint = add(comp, expandDims(s.logWeights, -1));
  const logDensities = logsumexp(joint, { axis: 0 });
  const r = expandDims(softmax(joint, { axis: 0 }), -1); // [K, N, 1]
  // Σ⁻¹(x − μ) = L⁻ᵀ z: row form z L⁻¹ (diagonal: z/σ)
  const prec = s.diagonal ? mul(z, expandDims(s.invChols, 1)) : matmul(z, s.invChols);
  const grads = neg(sum(mul(r, prec), { axis: 0 }));
  return { logDensities, grads, componentLogDensities: comp, precisionResiduals: prec };
}

/** H(N(μ, LLᵀ)) = ½ d (log 2π + 1) + Σ log diag L for one factor [d, d] (or σ [d] when diagonal). */
export function gaussianEntropy(chol: Tensor, diagonal: boolean): Tensor {
  const d = chol.shape[chol.ndim - 1]!;
  return tidy(() => add(sum(log(diagonal ? chol : diagPart(chol)), { axis: -1 }), 0.5 * d * (LOG_2PI + 1)));
}

/** The entropy of each component, [K]. */
export function componentEntropies(s: GmmState): Tensor {
  return gaussianEntropy(s.chols, s.diagonal);
}

/** Σ_o w_o H_o: the weight-averaged component entropy (gmmvi's `get_average_entropy`), a scalar. */
export function getAverageEntropy(s: GmmState): Tensor {
  return tidy(() => sum(mul(weights(s), componentEntropies(s))));
}

/** Σ_o = L_o L_oᵀ [K, d, d] (full), or the variances σ² [K, d] (diagonal). */
export function covs(s: GmmState): Tensor {
  return s.diagonal ? square(s.chols) : matmul(s.chols, mT(s.chols));
}

/** Component indices [n] (int32) drawn with probabilities w. */
export function sampleCategorical(s: GmmState, n: number, key: Tensor): Tensor {
  checkCount('gmmvi.sampleCategorical', n);
  if (n === 0) return tensor(new Int32Array(0), { dtype: 'int32' });
  return categorical(key, s.logWeights, { shape: [n, numComponents(s)] });
}

function checkCount(op: string, n: unknown): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new ConfigError(`${op}: the number of samples must be a non-negative integer, got ${String(n)}.`);
  return n;
}

/** Sample rows per chunk of the gathered full-covariance draw (bounds the [chunk, d, d] gather). */
const GATHER_BUDGET = 1 << 21;

/**
 * x_i = μ_{m_i} + L_{m_i} ε_i with ε ~ N(0, I) from `key`, for a given component per sample
 * (mapping [N], int32): row i of the result was drawn from component mapping[i].
 */
export function sampleWithMapping(s: GmmState, mapping: Tensor, key: Tensor): Tensor {
  const n = mapping.shape[0]!;
  const d = numDimensions(s);
  return tidy(() => {
    const eps = normal(key, [n, d], { dtype: s.means.dtype as 'float64' | 'float32' });
    if (n === 0) return eps;
    const mu = take(s.means, mapping, 0);
    if (s.diagonal) return add(mu, mul(take(s.chols, mapping, 0), eps));
    const chunk = Math.max(1, Math.floor(GATHER_BUDGET / (d * d)));
    const parts: Tensor[] = [];
    for (let start = 0; start < n; start += chunk) {
      const size = Math.min(chunk, n - start);
      const m = slice(mapping, [start], [size]);
      const e = expandDims(slice(eps, [start, 0], [size, d]), -1);
      parts.push(squeeze(matmul(take(s.chols, m, 0), e), -1));
    }
    return add(mu, parts.length === 1 ? parts[0]! : concat(parts, 0));
  });
}

/** Samples [N, d] and, for every row, the component that drew it [N] (int32). */
export interface GmmSamples {
  samples: Tensor;
  mapping: Tensor;
}

/**
 * n samples from the mixture and the component of each: components by the weights, then one
 * Gaussian draw per sample. Unlike gmmvi's `sample` (§12.1 of the notes: samples grouped by
 * component but the mapping in draw order), row i of `samples` always comes from `mapping[i]`.
 */
export function sample(s: GmmState, n: number, key: Tensor): GmmSamples {
  checkCount('gmmvi.sample', n);
  const d = numDimensions(s);
  if (n === 0) return { samples: reshape(tensor([] as number[], { dtype: s.means.dtype }), [0, d]), mapping: tensor(new Int32Array(0), { dtype: 'int32' }) };
  return tidy(() => {
    const ks = splitTwo(key);
    const mapping = sampleCategorical(s, n, ks[0]);
    return { samples: sampleWithMapping(s, mapping, ks[1]), mapping };
  });
}

/** Two independent keys from one (component choice, then the Gaussian draws). */
function splitTwo(key: Tensor): [Tensor, Tensor] {
  return [foldIn(key, 0), foldIn(key, 1)];
}

/**
 * counts[o] samples from component o, grouped by component in component order (no shuffle);
 * mapping = [0 × counts[0], 1 × counts[1], ...].
 */
export function sampleFromComponentsNoShuffle(s: GmmState, counts: ArrayLike<number>, key: Tensor): GmmSamples {
  const op = 'gmmvi.sampleFromComponentsNoShuffle';
  const k = numComponents(s);
  if (counts === null || typeof counts !== 'object' || counts.length !== k) {
    throw new ShapeError(`${op}: counts must give one number per component (${k}), got ${counts === null || typeof counts !== 'object' ? String(counts) : `length ${counts.length}`}.`);
  }
  const map: number[] = [];
  for (let o = 0; o < k; o++) {
    const c = checkCount(op, counts[o]);
    for (let i = 0; i < c; i++) map.push(o);
  }
  const mapping = tensor(Int32Array.from(map), { dtype: 'int32' });
  return { samples: sampleWithMapping(s, mapping, key), mapping };
}

/** A new state with weights exp(newLogWeights) renormalised (gmmvi's `replace_weights`). */
export function replaceWeights(s: GmmState, newLogWeights: Tensor): GmmState {
  const k = numComponents(s);
  checkFloat('gmmvi.replaceWeights', 'newLogWeights', newLogWeights, s.means.dtype);
  if (newLogWeights.ndim !== 1 || newLogWeights.shape[0] !== k) throw new ShapeError(`gmmvi.replaceWeights: newLogWeights must be [${k}], got ${fmtShape(newLogWeights.shape)}.`);
  return { ...s, logWeights: tidy(() => sub(newLogWeights, logsumexp(newLogWeights))) };
}

/** A new state with new means [K, d] and Cholesky factors (L⁻¹ recomputed). */
export function replaceComponents(s: GmmState, means: Tensor, chols: Tensor): GmmState {
  const op = 'gmmvi.replaceComponents';
  const k = numComponents(s);
  const d = numDimensions(s);
  checkFloat(op, 'means', means, s.means.dtype);
  checkFloat(op, 'chols', chols, s.means.dtype);
  if (means.ndim !== 2 || means.shape[0] !== k || means.shape[1] !== d) throw new ShapeError(`${op}: means must be [${k}, ${d}], got ${fmtShape(means.shape)}.`);
  checkFactorShape(op, 'chols', chols, k, d, s.diagonal);
  return { ...s, means, chols, invChols: invertChols(chols, s.diagonal) };
}

/** The Cholesky factor [d, d] (or σ [d] when diagonal) of one covariance given as [d, d] or as variances [d]. */
function factorOfCov(op: string, cov: Tensor, d: number, diagonal: boolean): Tensor {
  if (cov.ndim === 1 && cov.shape[0] === d) return diagonal ? sqrt(cov) : mul(eye(d, d, cov.dtype), expandDims(sqrt(cov), 0));
  if (cov.ndim === 2 && cov.shape[0] === d && cov.shape[1] === d) return diagonal ? sqrt(diagPart(cov)) : cholesky(cov);
  throw new ShapeError(`${op}: the covariance must be [${d}, ${d}] or its diagonal [${d}], got ${fmtShape(cov.shape)}.`);
}

/**
 * A new state with one more component (appended last): weight `initialWeight` before the
 * renormalisation, mean [d], covariance [d, d] (or its diagonal [d]).
 */
export function addComponent(s: GmmState, initialWeight: number, initialMean: Tensor, initialCov: Tensor): GmmState {
  const op = 'gmmvi.addComponent';
  const d = numDimensions(s);
  if (typeof initialWeight !== 'number' || !(initialWeight > 0) || !Number.isFinite(initialWeight)) throw new ConfigError(`${op}: initialWeight must be a positive finite number, got ${String(initialWeight)}.`);
  checkFloat(op, 'initialMean', initialMean, s.means.dtype);
  checkFloat(op, 'initialCov', initialCov, s.means.dtype);
  if (initialMean.ndim !== 1 || initialMean.shape[0] !== d) throw new ShapeError(`${op}: initialMean must be [${d}], got ${fmtShape(initialMean.shape)}.`);
  return tidy(() => {
    const factor = factorOfCov(op, initialCov, d, s.diagonal);
    const chols = concat([s.chols, expandDims(factor, 0)], 0);
    const invChols = concat([s.invChols, expandDims(invertChols(factor, s.diagonal), 0)], 0);
    const logW = concat([s.logWeights, tensor([Math.log(initialWeight)], { dtype: s.means.dtype })], 0);
    return { logWeights: sub(logW, logsumexp(logW)), means: concat([s.means, expandDims(initialMean, 0)], 0), chols, invChols, diagonal: s.diagonal };
  });
}

/** Rows [0, i) and (i, K) of x along axis 0. */
export function dropRow(x: Tensor, i: number): Tensor {
  const k = x.shape[0]!;
  const rest = x.shape.slice(1);
  const zeros = rest.map(() => 0);
  const parts: Tensor[] = [];
  if (i > 0) parts.push(slice(x, [0, ...zeros], [i, ...rest]));
  if (i < k - 1) parts.push(slice(x, [i + 1, ...zeros], [k - i - 1, ...rest]));
  return parts.length === 1 ? parts[0]! : concat(parts, 0);
}

/** A new state without component `idx` (weights renormalised). The last component cannot be removed. */
export function removeComponent(s: GmmState, idx: number): GmmState {
  const op = 'gmmvi.removeComponent';
  const k = numComponents(s);
  if (!Number.isInteger(idx) || idx < 0 || idx >= k) throw new ConfigError(`${op}: index must be an integer in [0, ${k}), got ${String(idx)}.`);
  if (k === 1) throw new ConfigError(`${op}: cannot remove the only component of a GMM.`);
  return tidy(() => {
    const logW = dropRow(s.logWeights, idx);
    return { logWeights: sub(logW, logsumexp(logW)), means: dropRow(s.means, idx), chols: dropRow(s.chols, idx), invChols: dropRow(s.invChols, idx), diagonal: s.diagonal };
  });
}

/** Values along one dimension: x [N] as they are, or column `dimension` of samples [N, d]. */
function marginalValues(op: string, s: GmmState, x: Tensor, dimension: number): Tensor {
  const d = numDimensions(s);
  if (!Number.isInteger(dimension) || dimension < 0 || dimension >= d) throw new ConfigError(`${op}: dimension must be an integer in [0, ${d}), got ${String(dimension)}.`);
  if (x.ndim === 1) return x;
  if (x.ndim === 2 && x.shape[1] === d) return reshape(slice(x, [0, dimension], [x.shape[0]!, 1]), [x.shape[0]!]);
  throw new ShapeError(`${op}: samples must be [N] (values along the dimension) or [N, ${d}], got ${fmtShape(x.shape)}.`);
}

/** log N(x_n; μ_o[j], Σ_o[j, j]) for the 1-D marginal along dimension j: [K, N]. */
export function componentMarginalLogDensities(s: GmmState, x: Tensor, dimension: number): Tensor {
  const op = 'gmmvi.componentMarginalLogDensities';
  const v = marginalValues(op, s, x, dimension);
  if (v.dtype !== s.means.dtype) throw new DTypeError(`${op}: samples are ${v.dtype} but the GMM is ${s.means.dtype}; use one dtype.`);
  const k = numComponents(s);
  return tidy(() => {
    const mu = slice(s.means, [0, dimension], [k, 1]); // [K, 1]
    // Σ_jj = Σ_c L_jc² (row j of L), σ_j² when diagonal
    const variance = s.diagonal ? square(slice(s.chols, [0, dimension], [k, 1])) : sum(square(slice(s.chols, [0, dimension, 0], [k, 1, numDimensions(s)])), { axis: -1 });
    const r = sub(expandDims(v, 0), mu);
    return sub(mul(div(square(r), variance), -0.5), mul(add(log(variance), LOG_2PI), 0.5));
  });
}

/** log of the mixture's 1-D marginal density along `dimension`: [N] (for plots). */
export function marginalLogDensity(s: GmmState, x: Tensor, dimension: number): Tensor {
  return tidy(() => logsumexp(add(componentMarginalLogDensities(s, x, dimension), expandDims(s.logWeights, -1)), { axis: 0 }));
}
