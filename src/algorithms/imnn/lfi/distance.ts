/** Distances between compressed simulations and targets, and the batched simulate-and-compress step. */
import { ConfigError, ShapeError } from '../../../errors.js';
import { Tensor } from '../../../tensor.js';

/** A batched simulator: keys come from one key, θ is [n, nParams], data [n, ...input]. */
export type Simulator = (key: Tensor, theta: Tensor) => Tensor;
/** A compressor of data [n, ...input] into estimates [n, nParams] (usually an IMNN's getEstimate). */
export type Compressor = (data: Tensor) => Tensor;
/** A user distance: summaries s [n, p] (host rows) to one target [p] → ρ per row. */
export type DistanceMeasure = (s: Float64Array, target: readonly number[], n: number) => Float64Array;

/**
 * ρ = √((s − s_t)ᵀ F (s − s_t)) with the target's F (the summaries must be parameter estimates
 * for F to weigh them), Euclidean without F, or the user's measure.
 */
export function distances(s: Float64Array, n: number, target: readonly number[], F: number[] | null, measure: DistanceMeasure | null): Float64Array {
  if (measure) {
    const r = measure(s, target, n);
    if (!(r instanceof Float64Array) || r.length !== n) throw new ShapeError(`distanceMeasure must return a Float64Array of ${n} distances, got length ${(r as { length?: number })?.length}.`);
    return r;
  }
  const p = target.length;
  const out = new Float64Array(n);
  const d = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < p; a++) d[a] = s[i * p + a]! - target[a]!;
    let q = 0;
    for (let a = 0; a < p; a++) {
      if (F) for (let b = 0; b < p; b++) q += d[a]! * F[a * p + b]! * d[b]!;
      else q += d[a]! * d[a]!;
    }
    out[i] = Math.sqrt(Math.max(q, 0));
  }
  return out;
}

/** Typed checks of simulator/compressor/distance arguments. */
export function checkFunctions(op: string, simulator: unknown, compressor: unknown, measure: unknown): void {
  if (typeof simulator !== 'function' || simulator.length !== 2) throw new ConfigError(`${op}: simulator must be a function (key, θ) → data (2 arguments), got ${typeof simulator === 'function' ? `${simulator.length} arguments` : typeof simulator}.`);
  if (typeof compressor !== 'function') throw new ConfigError(`${op}: compressor must be a function data → estimates, got ${typeof compressor}.`);
  if (measure !== undefined && measure !== null && typeof measure !== 'function') throw new ConfigError(`${op}: distanceMeasure must be a function (s, target, n) → distances, or omitted.`);
}
