/** Rank normalisation (Vehtari et al. 2021, eq. 14): z = Φ⁻¹((r − 3/8) / (S + 1/4)) with average ranks r over all chains. */
import { normalQuantile } from './normal.js';

/** The chains' draws replaced by normal scores of their pooled ranks (ties share the average rank). */
export function zScale(chains: Float64Array[]): Float64Array[] {
  const n = chains[0]!.length;
  const all = new Float64Array(chains.length * n);
  chains.forEach((c, i) => all.set(c, i * n));
  const S = all.length;
  const order = Array.from({ length: S }, (_, i) => i).sort((a, b) => all[a]! - all[b]!);
  const z = new Float64Array(S);
  for (let i = 0; i < S; ) {
    let j = i;
    while (j + 1 < S && all[order[j + 1]!] === all[order[i]!]) j++;
    const rank = (i + j) / 2 + 1; // 1-based average rank of the tie block i..j
    const score = normalQuantile((rank - 3 / 8) / (S + 1 / 4));
    for (let k = i; k <= j; k++) z[order[k]!] = score;
    i = j + 1;
  }
  return chains.map((_, i) => z.subarray(i * n, (i + 1) * n));
}
