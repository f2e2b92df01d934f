/**
 * Termination (jaxns nested_samplers/common/termination.py): conditions are ORed; the reason is a
 * bitmask with jaxns' bit values. Plateau (all live points on one contour) and no-seed are always on.
 */
import { ConfigError } from '../../errors.js';

/** When to stop: any condition given ends the run (OR). */
export interface TerminationCond {
  /** Stop once this many samples (dead + final live) would be exceeded. */
  maxSamples?: number;
  /** Stop when the live points would add less than this to log Z: log Z(dead + live) − log Z(dead) < dlogZ. */
  dlogZ?: number;
  /** Stop when the Kish ESS of the results (dead and live points) reaches this. */
  ess?: number;
  /** Stop after this many likelihood evaluations. */
  maxNumLikelihoodEvaluations?: number;
  /** Stop when the contour L* reaches this log-likelihood. */
  logLContour?: number;
}

/** jaxns' bit of each reason. */
export const TERMINATION_BITS = {
  maxSamples: 1,
  evidenceUncert: 2,
  dlogZ: 4,
  ess: 8,
  maxNumLikelihoodEvaluations: 16,
  logLContour: 32,
  efficiencyThreshold: 64,
  plateau: 128,
  noSeedPoints: 1024,
} as const;

/** The reason names set in a bitmask. */
export function terminationNames(mask: number): string[] {
  return Object.entries(TERMINATION_BITS)
    .filter(([, b]) => (mask & b) !== 0)
    .map(([k]) => k);
}

const KNOWN = ['maxSamples', 'dlogZ', 'ess', 'maxNumLikelihoodEvaluations', 'logLContour'];

/** Checked termination conditions (ConfigError naming a bad one). */
export function checkTermination(op: string, t: unknown): TerminationCond {
  if (t === undefined) return {};
  if (t === null || typeof t !== 'object') throw new ConfigError(`${op}: terminationCond must be an object { ${KNOWN.join(', ')} }.`);
  for (const [k, v] of Object.entries(t)) {
    if (!KNOWN.includes(k)) throw new ConfigError(`${op}: unknown termination condition '${k}' (known: ${KNOWN.join(', ')}).`);
    if (typeof v !== 'number' || Number.isNaN(v) || (k !== 'logLContour' && !(v > 0))) throw new ConfigError(`${op}: terminationCond.${k} must be a positive number, got ${String(v)}.`);
  }
  return t as TerminationCond;
}
