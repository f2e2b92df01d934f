/**
 * Shared by the PMC tests: a CDF from cumulative masses on a uniform grid (linear between
 * nodes), and the Kolmogorov–Smirnov distance of weighted draws (weights summing to 1) from it.
 */

/** x ↦ c(x)/c(end) for cumulative masses c[0..m] at lo, lo + dx, …, lo + m·dx. */
export function gridCdf(c: Float64Array, lo: number, dx: number): (x: number) => number {
  const m = c.length - 1;
  return (x: number) => {
    const u = Math.min(m, Math.max(0, (x - lo) / dx));
    const i = Math.min(m - 1, Math.floor(u));
    return (c[i]! + (u - i) * (c[i + 1]! - c[i]!)) / c[m]!;
  };
}

/** sup |F_w − F| over the weighted empirical CDF of x, checked on both sides of each jump. */
export function weightedKS(x: Float64Array, w: Float64Array, cdf: (x: number) => number): number {
  const idx = Array.from(x.keys()).sort((a, b) => x[a]! - x[b]!);
  let acc = 0;
  let d = 0;
  for (const i of idx) {
    const F = cdf(x[i]!);
    d = Math.max(d, Math.abs(acc - F));
    acc += w[i]!;
    d = Math.max(d, Math.abs(acc - F));
  }
  return d;
}
