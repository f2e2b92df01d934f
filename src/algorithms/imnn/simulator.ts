/**
 * SimulatorIMNN: fresh simulations every iteration, d_i = simulator(key_i, θ_fid) for nS keys
 * split from the iteration's key. ∂x_i/∂θ for the first nD comes from forward mode along each
 * e_α (one jvp mapped over the basis) through simulator and network together; the weight gradient
 * is reverse mode over it. Fresh simulations every time: there is no validation set.
 */
import { Tensor } from '../../tensor.js';
import { ConfigError } from '../../errors.js';
import { tidy } from '../../memory.js';
import { jvp } from '../../autodiff/forward.js';
import { vmap } from '../../autodiff/batching.js';
import { eye } from '../../autodiff/ops/creation.js';
import { concat, moveAxis, reshape, slice } from '../../autodiff/ops/shape.js';
import { split, key as makeKey } from '../../random.js';
import type { PyTree } from '../../autodiff/tree.js';
import { IMNN, type Subclass } from './imnn.js';
import { describe, type CommonOptions } from './check.js';

/** Options of SimulatorIMNN: the common ones and `simulator(key, θ)` → one simulation [...inputShape]. */
export interface SimulatorIMNNOptions<P = PyTree> extends CommonOptions<P> {
  /** simulator(key, θ): one simulation of shape inputShape at parameters θ [nParams] (differentiable in θ) */
  simulator: (key: Tensor, θ: Tensor) => Tensor;
}

/** An IMNN fit to simulations drawn on the fly (imnn's SimulatorIMNN). */
export class SimulatorIMNN<P = PyTree> extends IMNN<P> {
  /** simulator(key, θ) */
  readonly simulator: (key: Tensor, θ: Tensor) => Tensor;

  /** @param subclass for the Aggregated subclasses: their name and extra arguments (they call ready() themselves) */
  constructor(opts: SimulatorIMNNOptions<P>, subclass?: Subclass) {
    const sim = (opts as { simulator?: unknown } | null)?.simulator;
    if (typeof sim !== 'function' || sim.length !== 2) {
      throw new ConfigError(`imnn.SimulatorIMNN: simulator must be a function (key, θ) => simulation of two arguments, got ${describe(sim)}.`);
    }
    super(subclass?.name ?? 'SimulatorIMNN', opts, ['simulator', ...(subclass?.keys ?? [])]);
    this.simulator = sim as (key: Tensor, θ: Tensor) => Tensor;
    // tidy: the probe's key and the simulator's intermediates are freed with it
    tidy(() => {
      const d = this.simulator(makeKey(0), this.θFid);
      if (!(d instanceof Tensor) || d.ndim !== this.inputShape.length || d.shape.some((s, i) => s !== this.inputShape[i])) {
        throw new ConfigError(`imnn.SimulatorIMNN: simulator(key, θFid) must return a Tensor of shape inputShape [${this.inputShape.join(', ')}], got ${describe(d)}.`);
      }
    });
    if (!subclass) this.ready();
  }

  protected override needsKey(): boolean {
    return true;
  }

  protected probeInput(): Tensor {
    return this.simulator(makeKey(0), this.θFid);
  }

  /** nS simulations at θ [n, ...inputShape] from keys [n, 2]. */
  protected simulate(keys: Tensor, θ: Tensor): Tensor {
    return vmap((k: Tensor, t: Tensor) => this.simulator(k, t), { inAxes: [0, null] })(keys, θ) as Tensor;
  }

  /**
   * Outputs of the simulations made with keys [n, 2] at θ, x [n, nSummaries], and with
   * `derivative` also ∂x/∂θ [n, nSummaries, nParams]: the forward derivatives along e_1 … e_nParams
   * as one jvp mapped over the basis, so the simulation and the network's primal pass run once
   * (nParams separate jvps would redo them nParams times: 2× the time of a 128² field's weight
   * gradient at nParams = 2).
   */
  protected summariesOf(w: P, keys: Tensor, θ: Tensor, derivative: boolean): [Tensor] | [Tensor, Tensor] {
    if (!derivative) return [this.model.apply(w, this.simulate(keys, θ))];
    const f = (t: Tensor) => this.model.apply(w, this.simulate(keys, t));
    // the primal does not depend on the mapped tangent: vmap hands it back broadcast over the basis
    const [ys, dys] = vmap((e: Tensor) => jvp(f, [θ], [e]) as [Tensor, Tensor])(eye(this.nParams, this.nParams, θ.dtype)) as [Tensor, Tensor];
    const x = reshape(slice(ys, [0], [1]), ys.shape.slice(1));
    return [x, moveAxis(dys, 0, -1)];
  }

  getSummaries(w: P, key?: Tensor, _validate = false): [Tensor, Tensor] {
    if (!(key instanceof Tensor)) throw new ConfigError(`${this.op}.getSummaries: key is required to draw simulations.`);
    const keys = split(key, this.nS);
    const [xd, dx] = this.summariesOf(w, slice(keys, [0, 0], [this.nD, 2]), this.θFid, true) as [Tensor, Tensor];
    if (this.nS === this.nD) return [xd, dx];
    const [xr] = this.summariesOf(w, slice(keys, [this.nD, 0], [this.nS - this.nD, 2]), this.θFid, false);
    return [concat([xd, xr], 0), dx];
  }
}
