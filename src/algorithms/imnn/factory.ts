/** imnn's `IMNN(...)` factory: the class follows from which arguments are given. */
import { ConfigError } from '../../errors.js';
import type { PyTree } from '../../autodiff/tree.js';
import { SimulatorIMNN, type SimulatorIMNNOptions } from './simulator.js';
import { GradientIMNN, type GradientIMNNOptions } from './gradient.js';
import { NumericalGradientIMNN, type NumericalGradientIMNNOptions } from './numerical.js';
import { AggregatedSimulatorIMNN, type AggregatedSimulatorIMNNOptions } from './aggregated-simulator.js';
import { AggregatedGradientIMNN, type AggregatedGradientIMNNOptions } from './aggregated-gradient.js';
import { AggregatedNumericalGradientIMNN, type AggregatedNumericalGradientIMNNOptions } from './aggregated-numerical.js';

/** Any of the IMNN classes' options. */
export type AnyIMNNOptions<P = PyTree> =
  | SimulatorIMNNOptions<P>
  | GradientIMNNOptions<P>
  | NumericalGradientIMNNOptions<P>
  | AggregatedSimulatorIMNNOptions<P>
  | AggregatedGradientIMNNOptions<P>
  | AggregatedNumericalGradientIMNNOptions<P>;

/** Any of the IMNN classes. */
export type AnyIMNN<P = PyTree> =
  | SimulatorIMNN<P>
  | GradientIMNN<P>
  | NumericalGradientIMNN<P>
  | AggregatedSimulatorIMNN<P>
  | AggregatedGradientIMNN<P>
  | AggregatedNumericalGradientIMNN<P>;

/**
 * `simulator` → SimulatorIMNN; `fiducial`, `derivative` and `δθ` → NumericalGradientIMNN;
 * `fiducial` and `derivative` → GradientIMNN; any of `host`, `devices`, `nPerDevice` (with
 * `prefetch`, `cache`) → the Aggregated variant of the same.
 */
export function IMNN<P = PyTree>(opts: AnyIMNNOptions<P>): AnyIMNN<P> {
  const op = 'imnn.IMNN';
  if (opts === null || typeof opts !== 'object') throw new ConfigError(`${op}: expected an options object.`);
  const has = (k: string) => (opts as unknown as Record<string, unknown>)[k] !== undefined;
  const aggregated = has('host') || has('devices') || has('nPerDevice');
  if (!aggregated && (has('prefetch') || has('cache'))) throw new ConfigError(`${op}: prefetch and cache belong to the Aggregated classes: give devices and nPerDevice too (or drop them).`);
  if (has('simulator')) {
    if (has('fiducial') || has('derivative')) throw new ConfigError(`${op}: give either simulator (SimulatorIMNN) or fiducial/derivative (GradientIMNN, NumericalGradientIMNN), not both.`);
    return aggregated ? new AggregatedSimulatorIMNN(opts as AggregatedSimulatorIMNNOptions<P>) : new SimulatorIMNN(opts as SimulatorIMNNOptions<P>);
  }
  if (has('fiducial') && has('derivative')) {
    if (has('δθ')) return aggregated ? new AggregatedNumericalGradientIMNN(opts as AggregatedNumericalGradientIMNNOptions<P>) : new NumericalGradientIMNN(opts as NumericalGradientIMNNOptions<P>);
    return aggregated ? new AggregatedGradientIMNN(opts as AggregatedGradientIMNNOptions<P>) : new GradientIMNN(opts as GradientIMNNOptions<P>);
  }
  throw new ConfigError(`${op}: cannot tell which IMNN to build: give simulator (SimulatorIMNN), fiducial + derivative (GradientIMNN) or fiducial + derivative + δθ (NumericalGradientIMNN); add host/devices/nPerDevice for the Aggregated variant.`);
}
