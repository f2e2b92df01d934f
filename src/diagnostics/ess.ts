/**
 * Effective sample size by Geyer's initial monotone sequence over the multi-chain autocorrelation
 * (Vehtari et al. 2021; the same steps as ArviZ's `_ess` and Stan), and the ESS-based MCSE.
 */
import { autocovarianceOf } from './fft.js';
import { meanVar, pooled, quantileSorted, splitChains, toChains, type ChainDraws } from './draws.js';
import { zScale } from './rank.js';

/** ESS of chains as given (no splitting); constant draws count as independent (ESS = all draws), as in ArviZ. */
export function essOfChains(chains: Float64Array[]): number {
  const m = chains.length;
  const n = chains[0]!.length;
  const all = pooled(chains);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of all) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (hi - lo < 1e-15) return all.length;
  const acov = chains.map(autocovarianceOf);
  const meanAcov = (t: number) => acov.reduce((s, a) => s + a[t]!, 0) / m;
  const meanVarW = (meanAcov(0) * n) / (n - 1); // W: mean within-chain variance
  let varPlus = (meanVarW * (n - 1)) / n;
  if (m > 1) varPlus += meanVar(chains.map((c) => meanVar(c)[0]))[1];
  const rho = new Float64Array(n);
  const rhoAt = (t: number) => 1 - (meanVarW - meanAcov(t)) / varPlus;
  let rhoEven = 1;
  let rhoOdd = rhoAt(1);
  rho[0] = rhoEven;
  rho[1] = rhoOdd;
  // Geyer's initial positive sequence: sum pairs while Γ_k = ρ_2k + ρ_2k+1 stays positive
  let t = 1;
  while (t < n - 3 && rhoEven + rhoOdd > 0) {
    rhoEven = rhoAt(t + 1);
    rhoOdd = rhoAt(t + 2);
    if (rhoEven + rhoOdd >= 0) {
      rho[t + 1] = rhoEven;
      rho[t + 2] = rhoOdd;
    }
    t += 2;
  }
  const maxT = t - 2;
  if (rhoEven > 0) rho[maxT + 1] = rhoEven; // the last positive even lag still helps (Stan's improvement)
  // initial monotone sequence: no pair sum may exceed the one before it
  for (t = 1; t <= maxT - 2; t += 2) {
    if (rho[t + 1]! + rho[t + 2]! > rho[t - 1]! + rho[t]!) {
      rho[t + 1] = (rho[t - 1]! + rho[t]!) / 2;
      rho[t + 2] = rho[t + 1]!;
    }
  }
  let sum = 0;
  for (let k = 0; k <= maxT; k++) sum += rho[k]!;
  const tau = Math.max(-1 + 2 * sum + (maxT + 1 < n ? rho[maxT + 1]! : 0), 1 / Math.log10(m * n));
  return (m * n) / tau;
}

/** Bulk ESS: ESS of the rank-normalised split chains (how well the centre of the distribution is estimated). */
export function essBulk(draws: ChainDraws): number {
  return essOfChains(zScale(splitChains(toChains('diagnostics.essBulk', draws))));
}

/** Tail ESS: the smaller ESS of the indicators draw ≤ 5 % and ≤ 95 % quantiles (how well the tails are estimated). */
export function essTail(draws: ChainDraws): number {
  const chains = toChains('diagnostics.essTail', draws);
  const sorted = pooled(chains).sort();
  const at = (q: number) => {
    const cut = quantileSorted(sorted, q);
    return essOfChains(splitChains(chains.map((c) => c.map((v) => (v <= cut ? 1 : 0)))));
  };
  return Math.min(at(0.05), at(0.95));
}

/** ESS of the mean: ESS of the split chains themselves (no ranks), the one that sets the MCSE of the mean. */
export function essMean(draws: ChainDraws): number {
  return essOfChains(splitChains(toChains('diagnostics.essMean', draws)));
}

/** Monte Carlo standard error of the posterior mean estimate: sd / √ESS_mean. */
export function mcseMean(draws: ChainDraws): number {
  const chains = toChains('diagnostics.mcseMean', draws);
  return Math.sqrt(meanVar(pooled(chains))[1] / essOfChains(splitChains(chains)));
}
