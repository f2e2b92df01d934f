/**
 * The evidence moments (jaxns internals/shrinkage_statistics.py), in log space and float64 on
 * the host. Dead point i (sorted by L, with n_i live points at its contour) shrinks the volume by
 * T_i ~ Beta(n_i, 1); the trapezoid L̄_i = ½(L_i + L_{i−1}) from L_0 = 0 gives E[Z], E[Z²], E[ZX],
 * E[X], E[X²] exactly (a Keeton-style recursion), starting from X = X² = 1, Z = Z² = ZX = 0.
 */

/** The running moments, all as logs. */
export interface Moments {
  logX: number;
  logX2: number;
  logZ: number;
  logZ2: number;
  logZX: number;
  logSumDZ2: number;
  logLPrev: number;
}

/** The moments before any dead point: X = X² = 1, Z = Z² = ZX = 0. */
export const freshMoments = (): Moments => ({ logX: 0, logX2: 0, logZ: -Infinity, logZ2: -Infinity, logZX: -Infinity, logSumDZ2: -Infinity, logLPrev: -Infinity });

/** log(e^a + e^b), exact at ±∞. */
export function lae(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log1p(Math.exp(-Math.abs(a - b)));
}

/** Folds one dead point (log L, n live) into m; returns log E[dZ] and log E[X] after it. */
export function step(m: Moments, logL: number, n: number): { logDZ: number; logX: number } {
  const logLbar = lae(logL, m.logLPrev) - Math.LN2;
  const logN = Math.log(n);
  const logN1 = Math.log(n + 1);
  const logN2 = Math.log(n + 2);
  const logT = logN - logN1;
  const logt = -logN1;
  const logT2 = logN - logN2;
  const logt2 = Math.LN2 - logN1 - logN2;
  const logtT = logN - logN1 - logN2;
  const logDZ = m.logX + logt + logLbar;
  const dZ2 = m.logX2 + logt2 + 2 * logLbar;
  // E[Z²] ← E[Z²] + 2E[ZX]·t·L̄ + E[X²]·t₂·L̄²  and  E[ZX] ← E[ZX]·T + E[X²]·tT·L̄ (old values on the right)
  const logZ2 = lae(lae(m.logZ2, Math.LN2 + m.logZX + logt + logLbar), dZ2);
  const logZX = lae(m.logZX + logT, m.logX2 + logtT + logLbar);
  m.logZ2 = logZ2;
  m.logZX = logZX;
  m.logZ = lae(m.logZ, logDZ);
  m.logSumDZ2 = lae(m.logSumDZ2, dZ2);
  m.logX += logT;
  m.logX2 += logT2;
  m.logLPrev = logL;
  return { logDZ, logX: m.logX };
}

/** Log-normal moment match: log Z mean = 2 log E[Z] − ½ log E[Z²], uncertainty √(log E[Z²] − 2 log E[Z]). */
export function summary(m: Moments): { logZMean: number; logZUncert: number; ESS: number } {
  if (m.logZ === -Infinity) return { logZMean: -Infinity, logZUncert: NaN, ESS: 0 };
  const v = m.logZ2 - 2 * m.logZ;
  return { logZMean: 2 * m.logZ - 0.5 * m.logZ2, logZUncert: Math.sqrt(Math.max(0, v)), ESS: Math.exp(2 * m.logZ - m.logSumDZ2) };
}

/**
 * The moments if the remaining points (ascending log L) were all killed now, the first with
 * nStart live points and one fewer after each (as the results will count them: the live points,
 * and with phantoms the pending ones above the contour, all hang from already-dead senders).
 */
export function withLive(m: Moments, remainingLogLSorted: ArrayLike<number>, nStart = remainingLogLSorted.length): Moments {
  const c = { ...m };
  const n = remainingLogLSorted.length;
  for (let i = 0; i < n; i++) step(c, remainingLogLSorted[i]!, nStart - i);
  return c;
}

/** log E[Z] over dead and remaining points (for dlogZ). */
export const logZWithLive = (m: Moments, remainingLogLSorted: ArrayLike<number>, nStart = remainingLogLSorted.length): number => withLive(m, remainingLogLSorted, nStart).logZ;
