/** Autocorrelation and autocovariance of a single chain (FFT, O(n log n)). */
import { autocovarianceOf } from './fft.js';
import { ConfigError, NumericalError, ShapeError } from '../errors.js';

function check(op: string, x: ArrayLike<number>): void {
  if (x === null || typeof x !== 'object' || typeof x.length !== 'number') throw new ConfigError(`${op}: x must be an array of numbers (one chain).`);
  if (x.length < 2) throw new ShapeError(`${op}: a chain needs at least 2 draws, got ${x.length}.`);
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) throw new NumericalError(`${op}: draw ${i} is ${x[i]}; autocorrelation needs finite draws.`);
}

/** Autocovariance at lags 0 … n−1 with the 1/n (biased) normalisation used by Geyer's estimator and ArviZ. */
export function autocovariance(x: ArrayLike<number>): Float64Array {
  check('diagnostics.autocovariance', x);
  return autocovarianceOf(x);
}

/** Autocorrelation ρ_t = γ_t / γ_0 at lags 0 … n−1 (all zeros after lag 0 for a constant chain is undefined: NaN). */
export function autocorrelation(x: ArrayLike<number>): Float64Array {
  check('diagnostics.autocorrelation', x);
  const g = autocovarianceOf(x);
  const g0 = g[0]!;
  return g.map((v) => v / g0);
}
