/** Potential scale reduction R̂ (Gelman–Rubin with split chains; rank-normalised and folded as in Vehtari et al. 2021). */
import { meanVar, pooled, splitChains, toChains, type ChainDraws } from './draws.js';
import { zScale } from './rank.js';

/** R̂ of chains as given (no splitting): √((n−1)/n + B/(nW)); NaN when every chain is constant. */
export function rhatOfChains(chains: Float64Array[]): number {
  const n = chains[0]!.length;
  const stats = chains.map(meanVar);
  const W = stats.reduce((s, [, v]) => s + v, 0) / chains.length;
  const [, varMeans] = meanVar(stats.map(([m]) => m));
  const B = chains.length > 1 ? n * varMeans : 0;
  if (!(W > 0)) return NaN;
  return Math.sqrt((B / W + n - 1) / n);
}

function median(x: Float64Array): number {
  const s = Float64Array.from(x).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Split-R̂ without rank normalisation (Gelman et al., BDA3): the classic convergence check. */
export function splitRhat(draws: ChainDraws): number {
  return rhatOfChains(splitChains(toChains('diagnostics.splitRhat', draws)));
}

/**
 * Rank-normalised split-R̂ as Stan and ArviZ report it: the larger of the bulk R̂ (ranks of the
 * draws) and the tail R̂ (ranks of |draw − median|). Values above 1.01 say the chains disagree.
 * One chain works too (its two halves are compared), where ArviZ returns NaN.
 */
export function rhat(draws: ChainDraws): number {
  const chains = toChains('diagnostics.rhat', draws);
  const split = splitChains(chains);
  const bulk = rhatOfChains(zScale(split));
  // folded about the median of the split draws (ArviZ's _rhat_rank): sensitive to unequal scales
  const med = median(pooled(split));
  const tail = rhatOfChains(zScale(split.map((c) => c.map((v) => Math.abs(v - med)))));
  return Math.max(bulk, tail);
}
