/**
 * The MORE natural-gradient estimator (letter Z; §3 of the notes): per component, a weighted ridge
 * regression of the log ratio y = log p̃(x) − β log q(x) on quadratic features of the whitened
 * samples z = L⁻¹(x − μ), φ(z) = [z_a z_b (a ≤ b), z, 1], then the quadratic surrogate mapped back:
 * with f(z) ≈ zᵀQz + l_zᵀz + c and R_z = −(Q + Qᵀ),
 *
 *   −E[∇²] ≈ L⁻ᵀ R_z L⁻¹,   −E[∇] ≈ −L⁻ᵀ l_z   (the surrogate's gradient at μ).
 *
 * All K regressions are one batched solve (a singular system gives NaN for that component only,
 * which the updaters keep). Weights: SNIS, or a_i / N; own-sample mode as Stein. λ_o comes from
 * the wrapper's `l2Regularizers` (not applied to the bias). Diagonal covariances: the same
 * regression, the diagonal of the result (gmmvi supports MORE for full covariances only, §12.10).
 */
import type { Tensor } from '../../tensor.js';
import { ConfigError } from '../../errors.js';
import { tidy } from '../../memory.js';
import { add, cast, div, equal, exp, mul, neg, sub, where } from '../../autodiff/ops/elementwise.js';
import { max, softmax, sum } from '../../autodiff/ops/reduce.js';
import { concat, expandDims, mT, reshape, squeeze } from '../../autodiff/ops/shape.js';
import { diagonal, take } from '../../autodiff/ops/indexing.js';
import { matmul } from '../../autodiff/ops/matmul.js';
import { arange, full, ones, tensor } from '../../autodiff/ops/creation.js';
import { solve } from '../../autodiff/ops/linalg.js';
import { logDensitiesAlsoIndividual, numComponents, numDimensions } from './gmm.js';
import type { GmmWrapperState } from './wrapper.js';
import type { SampleSelection } from './sample-selector.js';
import type { NgEstimate } from './stein.js';

/** Options of the MORE estimator (gmmvi's `ng_estimator_config` without `initial_l2_regularizer`, which lives in the wrapper). */
export interface MoreOptions {
  onlyUseOwnSamples: boolean;
  useSelfNormalizedImportanceWeights: boolean;
  /** β (default 1) */
  temperature?: number;
  /** the database's Gaussian count when the window was selected (own-sample mode) */
  dbNumGaussians?: number;
}

/** The MORE estimate for every component from a selected window. */
export function moreEstimate(s: GmmWrapperState, selection: Pick<SampleSelection, 'samples' | 'mapping' | 'logPdfs' | 'targetLnpdfs'>, opts: MoreOptions): NgEstimate {
  const op = 'gmmvi.moreEstimate';
  if (opts === null || typeof opts !== 'object' || typeof opts.onlyUseOwnSamples !== 'boolean' || typeof opts.useSelfNormalizedImportanceWeights !== 'boolean') {
    throw new ConfigError(`${op}: options need onlyUseOwnSamples and useSelfNormalizedImportanceWeights (true or false).`);
  }
  const beta = opts.temperature ?? 1;
  const model = s.model;
  const k = numComponents(model);
  const d = numDimensions(model);
  const { samples: x, mapping, logPdfs: bg, targetLnpdfs } = selection;
  const n = x.shape[0]!;
  // feature layout: quadratic pairs (a ≤ b, row-major), linear, bias
  const ia: number[] = [], ib: number[] = [];
  for (let a = 0; a < d; a++) for (let b = a; b < d; b++) { ia.push(a); ib.push(b); }
  const nq = ia.length;
  const nf = nq + d + 1;
  // one-hot map from the quadratic coefficients to Q's entries (Q[a][b] for a ≤ b)
  const place = new Array<number>(nq * d * d).fill(0);
  ia.forEach((a, p) => { place[p * d * d + a * d + ib[p]!] = 1; });
  return tidy(() => {
    const dt = x.dtype;
    const [lq, comp] = logDensitiesAlsoIndividual(model, x);
    const y = sub(targetLnpdfs, mul(lq, beta)); // [N]
    // z = L⁻¹(x − μ) per component: [K, N, d]
    const z = model.diagonal
      ? mul(sub(expandDims(x, 0), expandDims(model.means, 1)), expandDims(model.invChols, 1))
      : sub(matmul(expandDims(x, 0), mT(model.invChols)), mT(matmul(model.invChols, expandDims(model.means, -1))));
    const iaT = tensor(Int32Array.from(ia), { dtype: 'int32' });
    const ibT = tensor(Int32Array.from(ib), { dtype: 'int32' });
    const phi = concat([mul(take(z, iaT, 2), take(z, ibT, 2)), z, ones([k, n, 1], dt)], 2); // [K, N, F]
    // importance weights [K, N]
    let logW = sub(comp, expandDims(bg, 0));
    if (opts.onlyUseOwnSamples) {
      const m = cast(mapping, 'int32');
      const offset = opts.dbNumGaussians !== undefined ? opts.dbNumGaussians - k : sub(max(m), k - 1);
      const own = equal(expandDims(sub(m, offset), 0), expandDims(arange(0, k, 1, 'int32'), -1));
      logW = where(own, full([k, n], 0, dt), full([k, n], -Infinity, dt));
    }
    const w = opts.useSelfNormalizedImportanceWeights ? softmax(logW, { axis: -1 }) : div(exp(logW), n);
    const wPhi = mul(phi, expandDims(w, -1));
    const ridgeDiag = new Array<number>(nf).fill(1);
    ridgeDiag[nf - 1] = 0;
    const ridge = mul(expandDims(expandDims(s.l2Regularizers, -1), -1), reshape(tensor(ridgeDiag.flatMap((v, i) => ridgeDiag.map((_, j) => (i === j ? v : 0))), { dtype: dt }), [1, nf, nf]));
    const A = add(matmul(mT(wPhi), phi), ridge); // [K, F, F]
    const b = matmul(mT(wPhi), expandDims(expandDims(y, 0), -1)); // [K, F, 1]
    const theta = squeeze(solve(A, b, { onFailure: 'nan' }), -1); // [K, F]
    const quad = theta.slice([0, 0], [k, nq]);
    const lin = theta.slice([0, nq], [k, d]);
    const Q = reshape(matmul(quad, tensor(place, { dtype: dt }).reshape([nq, d * d])), [k, d, d]);
    const Rz = neg(add(Q, mT(Q)));
    if (model.diagonal) {
      // L⁻¹ = diag(1/σ): R = diag(1/σ) R_z diag(1/σ), g⁻ = −l_z/σ
      const ic = model.invChols;
      const R = mul(mul(Rz, expandDims(ic, -1)), expandDims(ic, 1));
      return { expectedHessianNeg: diagonal(R), expectedGradientNeg: neg(mul(ic, lin)) };
    }
    const ic = model.invChols;
    const R = matmul(matmul(mT(ic), Rz), ic);
    const gNeg = neg(squeeze(matmul(mT(ic), expandDims(lin, -1)), -1));
    return { expectedHessianNeg: R, expectedGradientNeg: gNeg };
  });
}
