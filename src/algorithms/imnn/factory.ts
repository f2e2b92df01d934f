/** imnn's `IMNN(...)` factory: the class follows from which arguments are given. */
import { ConfigError } from '../../errors.js';
import type { PyTree } from '../../autodiff/tree.js';
import { SimulatorIMNN, type SimulatorIMNNOptions } from './simulator.js';
import { GradientIMNN, type GradientIMNNOptions } from './gradient.js';
import { NumericalGradientIMNN, type NumericalGradientIMNNOptions } from './numerical.js';

/** Any of the IMNN classes' options. */
export type AnyIMNNOptions<P = PyTree> = SimulatorIMNNOptions<P> | GradientIMNNOptions<P> | NumericalGradientIMNNOptions<P>;

/**
 * `simulator` → SimulatorIMNN; `fiducial`, `derivative` and `δθ` → NumericalGradientIMNN;
 * `fiducial` and `derivative` → GradientIMNN. The Aggregated variants (host, devices, nPerDevice)
 * are not built yet: asking for one is a ConfigError.
 */
export function IMNN<P = PyTree>(opts: AnyIMNNOptions<P>): SimulatorIMNN<P> | GradientIMNN<P> | NumericalGradientIMNN<P> {
  const op = 'imnn.IMNN';
  if (opts === null || typeof opts !== 'object') throw new ConfigError(`${op}: expected an options object.`);
  const has = (k: string) => (opts as unknown as Record<string, unknown>)[k] !== undefined;
  if (has('host') || has('devices') || has('nPerDevice')) {
    throw new ConfigError(`${op}: the Aggregated IMNN classes (host, devices, nPerDevice) are not available in this version; fit in memory (drop those arguments).`);
  }
  if (has('simulator')) {
    if (has('fiducial') || has('derivative')) throw new ConfigError(`${op}: give either simulator (SimulatorIMNN) or fiducial/derivative (GradientIMNN, NumericalGradientIMNN), not both.`);
    return new SimulatorIMNN(opts as SimulatorIMNNOptions<P>);
  }
  if (has('fiducial') && has('derivative')) {
    return has('δθ') ? new NumericalGradientIMNN(opts as NumericalGradientIMNNOptions<P>) : new GradientIMNN(opts as GradientIMNNOptions<P>);
  }
  throw new ConfigError(`${op}: cannot tell which IMNN to build: give simulator (SimulatorIMNN), fiducial + derivative (GradientIMNN) or fiducial + derivative + δθ (NumericalGradientIMNN).`);
}
