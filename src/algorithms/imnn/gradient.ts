/**
 * GradientIMNN: fixed fiducial simulations [nS, ...in] and their derivatives ∂d/∂θ
 * [nD, ...in, nParams]. ∂x_i/∂θ_α is the network's JVP along the α-th slice of ∂d_i/∂θ, which
 * contracts the input axes in order for any input rank (imnn's `.T` reverses them: right only
 * for 1-D inputs).
 */
import { Tensor } from '../../tensor.js';
import { jvp } from '../../autodiff/forward.js';
import { concat, moveAxis, slice, squeeze, stack } from '../../autodiff/ops/shape.js';
import type { PyTree } from '../../autodiff/tree.js';
import { IMNN, type Subclass } from './imnn.js';
import { checkSimulationSets, type CommonOptions } from './check.js';

/** Options of GradientIMNN. */
export interface GradientIMNNOptions<P = PyTree> extends CommonOptions<P> {
  /** fiducial simulations [nS, ...inputShape] */
  fiducial: Tensor;
  /** ∂d/∂θ of the first nD of them [nD, ...inputShape, nParams] */
  derivative: Tensor;
  /** validation fiducial simulations [nS, ...inputShape] */
  validationFiducial?: Tensor;
  /** validation derivatives [nD, ...inputShape, nParams] */
  validationDerivative?: Tensor;
}

/** ∂x/∂θ [n, nSummaries, nParams] by one batched JVP per parameter along dd [n, ...in, nParams]. */
export function jvpDerivatives(apply: (d: Tensor) => Tensor, d: Tensor, dd: Tensor, nParams: number): [Tensor, Tensor] {
  const ddFirst = moveAxis(dd, -1, 0); // [nParams, n, ...in]
  let x: Tensor | undefined;
  const cols: Tensor[] = [];
  for (let a = 0; a < nParams; a++) {
    const t = squeeze(slice(ddFirst, [a], [1]), 0);
    const [y, dy] = jvp(apply, [d], [t]) as [Tensor, Tensor];
    x ??= y;
    cols.push(dy);
  }
  return [x!, stack(cols, -1)];
}

/** An IMNN fit to fixed simulations and their exact derivatives (imnn's GradientIMNN). */
export class GradientIMNN<P = PyTree> extends IMNN<P> {
  /** fitting and (optional) validation sets */
  readonly fiducial: Tensor;
  readonly derivative: Tensor;
  readonly validationFiducial?: Tensor;
  readonly validationDerivative?: Tensor;

  /** @param subclass for the Aggregated subclasses: their name and extra arguments (they call ready() themselves) */
  constructor(opts: GradientIMNNOptions<P>, subclass?: Subclass) {
    super(subclass?.name ?? 'GradientIMNN', opts, ['fiducial', 'derivative', 'validationFiducial', 'validationDerivative', ...(subclass?.keys ?? [])]);
    const inS = this.inputShape;
    const sets = checkSimulationSets(this.op, opts, [this.nS, ...inS], [this.nD, ...inS, this.nParams]);
    this.fiducial = sets.fiducial;
    this.derivative = sets.derivative;
    this.validationFiducial = sets.validationFiducial;
    this.validationDerivative = sets.validationDerivative;
    this.validate = sets.validationFiducial !== undefined;
    if (!subclass) this.ready();
  }

  protected probeInput(): Tensor {
    return squeeze(slice(this.fiducial, [0], [1]), 0);
  }

  getSummaries(w: P, _key?: Tensor, validate = false): [Tensor, Tensor] {
    const v = validate && this.validate;
    const fid = v ? this.validationFiducial! : this.fiducial;
    const der = v ? this.validationDerivative! : this.derivative;
    const apply = (d: Tensor) => this.model.apply(w, d);
    const [xd, dx] = jvpDerivatives(apply, this.nD === this.nS ? fid : slice(fid, [0], [this.nD]), der, this.nParams);
    const x = this.nD === this.nS ? xd : concat([xd, apply(slice(fid, [this.nD], [this.nS - this.nD]))], 0);
    return [x, dx];
  }
}
