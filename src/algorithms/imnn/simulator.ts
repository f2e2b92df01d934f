/**
 * SimulatorIMNN: fresh simulations every iteration, d_i = simulator(key_i, θ_fid) for nS keys
 * split from the iteration's key. ∂x_i/∂θ for the first nD comes from nParams forward-mode
 * passes (jvp along e_α) through simulator and network together; the weight gradient is reverse
 * mode over them. Fresh simulations every time: there is no validation set.
 */
import { Tensor } from '../../tensor.js';
import { ConfigError } from '../../errors.js';
import { jvp } from '../../autodiff/forward.js';
import { vmap } from '../../autodiff/batching.js';
import { eye } from '../../autodiff/ops/creation.js';
import { concat, reshape, slice, stack } from '../../autodiff/ops/shape.js';
import { split, key as makeKey } from '../../random.js';
import type { PyTree } from '../../autodiff/tree.js';
import { IMNN } from './imnn.js';
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

  constructor(opts: SimulatorIMNNOptions<P>) {
    const sim = (opts as { simulator?: unknown } | null)?.simulator;
    if (typeof sim !== 'function' || sim.length !== 2) {
      throw new ConfigError(`imnn.SimulatorIMNN: simulator must be a function (key, θ) => simulation of two arguments, got ${describe(sim)}.`);
    }
    super('SimulatorIMNN', opts, ['simulator']);
    this.simulator = sim as (key: Tensor, θ: Tensor) => Tensor;
    const d = this.simulator(makeKey(0), this.θFid);
    if (!(d instanceof Tensor) || d.ndim !== this.inputShape.length || d.shape.some((s, i) => s !== this.inputShape[i])) {
      throw new ConfigError(`imnn.SimulatorIMNN: simulator(key, θFid) must return a Tensor of shape inputShape [${this.inputShape.join(', ')}], got ${describe(d)}.`);
    }
    d.dispose();
    this.ready();
  }

  protected override needsKey(): boolean {
    return true;
  }

  protected probeInput(): Tensor {
    return this.simulator(makeKey(0), this.θFid);
  }

  /** nS simulations at θ [n, ...inputShape] from keys [n, 2]. */
  private simulate(keys: Tensor, θ: Tensor): Tensor {
    return vmap((k: Tensor, t: Tensor) => this.simulator(k, t), { inAxes: [0, null] })(keys, θ) as Tensor;
  }

  getSummaries(w: P, key?: Tensor, _validate = false): [Tensor, Tensor] {
    if (!(key instanceof Tensor)) throw new ConfigError(`${this.op}.getSummaries: key is required to draw simulations.`);
    const keys = split(key, this.nS);
    const kd = slice(keys, [0, 0], [this.nD, 2]);
    const f = (θ: Tensor) => this.model.apply(w, this.simulate(kd, θ));
    const E = eye(this.nParams, this.nParams, this.θFid.dtype);
    let xd: Tensor | undefined;
    const cols: Tensor[] = [];
    for (let a = 0; a < this.nParams; a++) {
      const e = reshape(slice(E, [a, 0], [1, this.nParams]), [this.nParams]);
      const [y, dy] = jvp(f, [this.θFid], [e]) as [Tensor, Tensor];
      xd ??= y;
      cols.push(dy);
    }
    let x = xd!;
    if (this.nS > this.nD) x = concat([x, this.model.apply(w, this.simulate(slice(keys, [this.nD, 0], [this.nS - this.nD, 2]), this.θFid))], 0);
    return [x, stack(cols, -1)];
  }
}
