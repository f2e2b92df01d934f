/**
 * NumericalGradientIMNN: fixed fiducial simulations [nS, ...in] and, for the first nD seeds,
 * simulations at θ_fid ∓ (δθ_α/2) e_α: derivative [nD, 2, nParams, ...in], index 0 below, 1 above,
 * each made with the same seed as fiducial simulation i. ∂x_i/∂θ_α = (x₊ − x₋)/δθ_α, a central
 * difference over a total step δθ_α. This is imnn's code's convention (its docstring says
 * θ_fid ± δθ, which with the same division would double the derivative; imnn-tf used θ ± δθ
 * divided by 2δθ — the same estimator with half our δθ). Only first-order AD is needed.
 */
import { Tensor } from '../../tensor.js';
import { ConfigError } from '../../errors.js';
import { tensor } from '../../autodiff/ops/creation.js';
import { concat, reshape, slice, squeeze, transpose } from '../../autodiff/ops/shape.js';
import { div, sub } from '../../autodiff/ops/elementwise.js';
import type { PyTree } from '../../autodiff/tree.js';
import { keep } from '../../memory.js';
import { IMNN, type Subclass } from './imnn.js';
import { checkArray, checkSimulationSets, describe, type CommonOptions } from './check.js';

/** Options of NumericalGradientIMNN. */
export interface NumericalGradientIMNNOptions<P = PyTree> extends CommonOptions<P> {
  /** fiducial simulations [nS, ...inputShape] */
  fiducial: Tensor;
  /** seed-matched simulations at θ_fid ∓ δθ_α/2 [nD, 2, nParams, ...inputShape] (0: minus, 1: plus) */
  derivative: Tensor;
  /** the total step of each parameter's central difference [nParams], all > 0 */
  δθ: Tensor | number[];
  /** validation fiducial simulations */
  validationFiducial?: Tensor;
  /** validation derivative simulations */
  validationDerivative?: Tensor;
}

/** ∂x/∂θ [n, nSummaries, nParams] = (x₊ − x₋)/δθ from the outputs xpm [n, 2, nParams, nSummaries] of the ∓ simulations. */
export function finiteDifference(xpm: Tensor, δθ: Tensor): Tensor {
  const [n, , nP] = xpm.shape as [number, number, number];
  const d = div(sub(squeeze(slice(xpm, [0, 1], [n, 1]), 1), squeeze(slice(xpm, [0, 0], [n, 1]), 1)), reshape(δθ, [nP, 1]));
  return transpose(d, [0, 2, 1]);
}

/** An IMNN fit with numerical derivatives of the network outputs (imnn's NumericalGradientIMNN). */
export class NumericalGradientIMNN<P = PyTree> extends IMNN<P> {
  /** fitting and (optional) validation sets */
  readonly fiducial: Tensor;
  readonly derivative: Tensor;
  readonly validationFiducial?: Tensor;
  readonly validationDerivative?: Tensor;
  /** [nParams] */
  readonly δθ: Tensor;
  /** δθ given as numbers (or moved to the host by a subclass) is this instance's: dispose frees it */
  protected ownsδθ: boolean;

  /** @param subclass for the Aggregated subclasses: their name and extra arguments (they call ready() themselves) */
  constructor(opts: NumericalGradientIMNNOptions<P>, subclass?: Subclass) {
    super(subclass?.name ?? 'NumericalGradientIMNN', opts, ['fiducial', 'derivative', 'δθ', 'validationFiducial', 'validationDerivative', ...(subclass?.keys ?? [])]);
    const inS = this.inputShape;
    const raw = opts.δθ;
    const dt = Array.isArray(raw) && raw.every((x) => typeof x === 'number') ? tensor(raw, { dtype: this.θFid.dtype }) : raw;
    if (!(dt instanceof Tensor)) throw new ConfigError(`${this.op}: δθ must be a Tensor or array of ${this.nParams} numbers > 0, got ${describe(raw)}.`);
    checkArray(this.op, 'δθ', dt, [this.nParams]);
    if (Array.from(dt.dataSync()).some((v) => !(v > 0) || !Number.isFinite(v))) throw new ConfigError(`${this.op}: every δθ must be finite and > 0, got [${Array.from(dt.dataSync()).join(', ')}].`);
    this.δθ = keep(dt);
    this.ownsδθ = dt !== raw;
    const sets = checkSimulationSets(this.op, opts, [this.nS, ...inS], [this.nD, 2, this.nParams, ...inS]);
    this.fiducial = sets.fiducial;
    this.derivative = sets.derivative;
    this.validationFiducial = sets.validationFiducial;
    this.validationDerivative = sets.validationDerivative;
    this.validate = sets.validationFiducial !== undefined;
    if (!subclass) this.ready();
  }

  override dispose(): void {
    super.dispose();
    if (this.ownsδθ) this.δθ.dispose();
  }

  protected probeInput(): Tensor {
    return squeeze(slice(this.fiducial, [0], [1]), 0);
  }

  getSummaries(w: P, _key?: Tensor, validate = false): [Tensor, Tensor] {
    const v = validate && this.validate;
    const fid = v ? this.validationFiducial! : this.fiducial;
    const der = v ? this.validationDerivative! : this.derivative;
    const [nD, nP, nSum] = [this.nD, this.nParams, this.nSummaries];
    // one pass for the fiducial and the perturbed simulations together
    const all = concat([fid, reshape(der, [nD * 2 * nP, ...this.inputShape])], 0);
    const out = this.model.apply(w, all);
    const x = slice(out, [0], [this.nS]);
    return [x, finiteDifference(reshape(slice(out, [this.nS], [nD * 2 * nP]), [nD, 2, nP, nSum]), this.δθ)];
  }
}
