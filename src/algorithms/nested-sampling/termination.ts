/**
 * Termination (jaxns nested_samplers/common/termination.py). A condition is a plain object of
 * criteria, any of which ends the run (OR); `and(...)` / `or(...)` (or `{ and: [...] }`,
 * `{ or: [...] }`) combine conditions. The reason is a bitmask with jaxns' bit values: the bits of
 * every criterion that holds (inside an `and`, only once all its parts hold). Plateau and no-seed
 * are always on, and the sampler's own maxSamples always caps a run.
 */
import { ConfigError } from '../../errors.js';

/** Criteria ORed together: any one that holds ends the run. */
export interface TerminationCriteria {
  /** Stop before the samples (dead, phantom and final live) would exceed this. Bit 1. */
  maxSamples?: number;
  /** Stop when the log Z uncertainty (dead and live points) is at most this. Bit 2. */
  evidenceUncert?: number;
  /** Stop when the live points would add less than this to log Z: log Z(dead + live) − log Z(dead) < dlogZ. Bit 4. */
  dlogZ?: number;
  /** Stop when the Kish ESS the results would report (dead and live points) reaches this. Bit 8. */
  ess?: number;
  /** Stop after this many likelihood evaluations. Bit 16. */
  maxNumLikelihoodEvaluations?: number;
  /** Stop when the contour L* reaches this log-likelihood. Bit 32. */
  logLContour?: number;
  /** Stop when the live points' efficiency (c / their evaluations) falls below this. Bit 64. */
  efficiencyThreshold?: number;
  /** Stop when the live log L spread is small relative to its size: 2|L_max − L_min| / |L_max + L_min| < rtol. Bit 256. */
  rtol?: number;
  /** Stop when the live log L spread |L_max − L_min| < atol. Bit 512. */
  atol?: number;
  /** Stop when X·L at the contour falls below peakXLFrac times its peak so far (past the posterior bulk). Bit 2048. */
  peakXLFrac?: number;
}

/** Every part must hold (the reason: all their bits). */
export interface TerminationAnd {
  and: TerminationCond[];
}

/** Any part may hold (the reason: the bits of those that do). */
export interface TerminationOr {
  or: TerminationCond[];
}

/**
 * A termination condition: criteria (ORed), or an and/or of conditions. For example
 * `{ dlogZ: 0.01, maxNumLikelihoodEvaluations: 1e6 }` stops on either;
 * `ns.and({ ess: 1000 }, { dlogZ: 0.1 })` only once both hold;
 * `ns.or(ns.and({ ess: 1000 }, { dlogZ: 0.1 }), { evidenceUncert: 0.05 })` nests them.
 */
export type TerminationCond = TerminationCriteria | TerminationAnd | TerminationOr;

/** All of the conditions must hold (jaxns' `c1 & c2`). */
export const and = (...conds: TerminationCond[]): TerminationAnd => ({ and: conds });

/** Any of the conditions may hold (jaxns' `c1 | c2`). */
export const or = (...conds: TerminationCond[]): TerminationOr => ({ or: conds });

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
  rtol: 256,
  atol: 512,
  noSeedPoints: 1024,
  peakXLFrac: 2048,
} as const;

/** The reason names set in a bitmask. */
export function terminationNames(mask: number): string[] {
  return Object.entries(TERMINATION_BITS)
    .filter(([, b]) => (mask & b) !== 0)
    .map(([k]) => k);
}

/** What the criteria are checked against, computed once per shell (jaxns' TerminationRegister). */
export interface TerminationRegister {
  /** Samples if one more shell ran (the maxSamples check stops before exceeding it). */
  numSamplesAfterNextShell: number;
  /** log E[Z] of the dead points, and with the live (and pending phantom) points added. */
  logZDead: number;
  logZWithLive: number;
  /** The results' uncertainty and ESS if the run stopped now. */
  logZUncert: number;
  ESS: number;
  numLikelihoodEvaluations: number;
  logLContour: number;
  efficiency: number;
  relativeSpread: number;
  absoluteSpread: number;
  /** log(X·L) at the contour and its peak so far. */
  logXL: number;
  peakLogXL: number;
}

type Check = (v: number, r: TerminationRegister) => boolean;

const CHECKS: Record<keyof TerminationCriteria, Check> = {
  maxSamples: (v, r) => r.numSamplesAfterNextShell > v,
  evidenceUncert: (v, r) => r.logZUncert <= v,
  // before any dead point log Z(dead) = −∞ and the difference is +∞: no stop
  dlogZ: (v, r) => r.logZWithLive - r.logZDead < v,
  ess: (v, r) => r.ESS >= v,
  maxNumLikelihoodEvaluations: (v, r) => r.numLikelihoodEvaluations >= v,
  logLContour: (v, r) => r.logLContour >= v,
  efficiencyThreshold: (v, r) => r.efficiency < v,
  rtol: (v, r) => r.relativeSpread < v,
  atol: (v, r) => r.absoluteSpread < v,
  peakXLFrac: (v, r) => r.logXL < r.peakLogXL + Math.log(v),
};

const KNOWN = Object.keys(CHECKS);

/** The bits of the criteria that hold (0: carry on). */
export function evaluateTermination(cond: TerminationCond, r: TerminationRegister): number {
  if ('and' in cond) {
    let mask = 0;
    for (const c of cond.and) {
      const m = evaluateTermination(c, r);
      if (m === 0) return 0;
      mask |= m;
    }
    return mask;
  }
  if ('or' in cond) return cond.or.reduce((mask, c) => mask | evaluateTermination(c, r), 0);
  let mask = 0;
  for (const [k, v] of Object.entries(cond)) if (v !== undefined && CHECKS[k as keyof TerminationCriteria](v as number, r)) mask |= TERMINATION_BITS[k as keyof TerminationCriteria];
  return mask;
}

/** Checked termination condition (ConfigError naming a bad part). */
export function checkTermination(op: string, t: unknown, path = 'terminationCond'): TerminationCond {
  if (t === null || typeof t !== 'object' || Array.isArray(t)) throw new ConfigError(`${op}: ${path} must be an object of criteria { ${KNOWN.join(', ')} }, or ns.and(...) / ns.or(...) of such objects.`);
  const keys = Object.keys(t);
  if (keys.includes('and') || keys.includes('or')) {
    const k = keys.includes('and') ? 'and' : 'or';
    if (keys.length !== 1) throw new ConfigError(`${op}: ${path} mixes '${k}' with other keys (${keys.join(', ')}); put the criteria inside the '${k}' list.`);
    const parts = (t as Record<string, unknown>)[k];
    if (!Array.isArray(parts) || parts.length === 0) throw new ConfigError(`${op}: ${path}.${k} must be a non-empty array of termination conditions.`);
    parts.forEach((p, i) => checkTermination(op, p, `${path}.${k}[${i}]`));
    return t as TerminationCond;
  }
  for (const [k, v] of Object.entries(t)) {
    if (!KNOWN.includes(k)) throw new ConfigError(`${op}: unknown termination condition '${k}' in ${path} (known: ${KNOWN.join(', ')}, and, or).`);
    if (typeof v !== 'number' || Number.isNaN(v)) throw new ConfigError(`${op}: ${path}.${k} must be a number, got ${String(v)}.`);
    if (k === 'peakXLFrac' && !(v > 0 && v < 1)) throw new ConfigError(`${op}: ${path}.peakXLFrac must be in (0, 1), got ${v}.`);
    if (k !== 'logLContour' && !(v > 0)) throw new ConfigError(`${op}: ${path}.${k} must be a positive number, got ${v}.`);
  }
  return t as TerminationCond;
}
