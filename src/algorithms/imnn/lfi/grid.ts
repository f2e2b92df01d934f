/** Grids over the prior box, marginals of a posterior on them, and density-sorted credible levels. */
import { ConfigError } from '../../../errors.js';
import type { BoxPrior } from './prior.js';

/** A 2-D marginal of parameters (i, j): density [gridsize_i × gridsize_j], row i-major. */
export interface Marginal2D {
  i: number;
  j: number;
  density: Float64Array;
  /** Density thresholds enclosing 68 % and 95 % of the mass (density-sorted). */
  levels: [number, number];
}

/** The 1-D and 2-D marginals of one posterior on the grid over the prior box. */
export interface Marginals {
  /** ranges[k]: the grid (cell centres) of parameter k. */
  ranges: Float64Array[];
  /** oneD[k]: the density of parameter k on ranges[k] (integrates to ≈1 over the box). */
  oneD: Float64Array[];
  /** levels1D[k]: the 68 % and 95 % density levels of oneD[k]. */
  levels1D: [number, number][];
  /** Every pair i < j. */
  twoD: Marginal2D[];
}

/** Per-parameter gridsizes from a number or an array (positive integers). */
export function checkGridsize(op: string, gridsize: unknown, nParams: number): number[] {
  const g = typeof gridsize === 'number' ? Array(nParams).fill(gridsize) : gridsize;
  if (!Array.isArray(g) || g.length !== nParams || g.some((v) => !Number.isInteger(v) || v < 2)) {
    throw new ConfigError(`${op}: gridsize must be an integer ≥ 2 (or ${nParams} of them, one per parameter), got ${JSON.stringify(gridsize)}.`);
  }
  return g as number[];
}

/** Cell-centred grids over [low, high] (centres, so a histogram's bins and the density grid coincide). */
export function makeRanges(prior: BoxPrior, gridsize: number[]): Float64Array[] {
  return gridsize.map((g, k) => {
    const lo = prior.low[k]!;
    const h = (prior.high[k]! - lo) / g;
    return Float64Array.from({ length: g }, (_, a) => lo + (a + 0.5) * h);
  });
}

/** Cell width of each grid. */
export function cellWidths(prior: BoxPrior, gridsize: number[]): number[] {
  return gridsize.map((g, k) => (prior.high[k]! - prior.low[k]!) / g);
}

/**
 * Levels ℓ68, ℓ95: the density values above which 68 % and 95 % of the grid mass lies (the
 * density-sorted contours imnn's get_levels draws).
 */
export function getLevels(density: ArrayLike<number>, cellArea: number): [number, number] {
  const v = Float64Array.from(density).sort().reverse();
  const total = v.reduce((a, b) => a + b, 0) * cellArea;
  const out: [number, number] = [0, 0];
  const targets = [0.68, 0.95];
  let acc = 0;
  let t = 0;
  for (let a = 0; a < v.length && t < 2; a++) {
    acc += v[a]! * cellArea;
    while (t < 2 && acc >= targets[t]! * total) out[t++] = v[a]!;
  }
  return out;
}

/**
 * Weighted histograms of samples θ [n, p] on the grid, as densities, optionally smoothed by a
 * Gaussian of `smoothing` cells (imnn's gaussian_filter option); samples outside the box are dropped.
 */
export function histogramMarginals(theta: Float64Array, weights: Float64Array | null, p: number, prior: BoxPrior, gridsize: number[], smoothing = 0): Marginals {
  const n = theta.length / p;
  const ranges = makeRanges(prior, gridsize);
  const dx = cellWidths(prior, gridsize);
  const bin = (i: number, k: number): number => {
    const a = Math.floor((theta[i * p + k]! - prior.low[k]!) / dx[k]!);
    return a >= 0 && a < gridsize[k]! ? a : -1;
  };
  const w = (i: number) => (weights ? weights[i]! : 1);
  const oneD: Float64Array[] = [];
  for (let k = 0; k < p; k++) {
    const h = new Float64Array(gridsize[k]!);
    for (let i = 0; i < n; i++) {
      const a = bin(i, k);
      if (a >= 0) h[a]! += w(i);
    }
    oneD.push(normalise(smooth1(h, smoothing), dx[k]!));
  }
  const twoD: Marginal2D[] = [];
  for (let i = 0; i < p; i++) {
    for (let j = i + 1; j < p; j++) {
      const gi = gridsize[i]!;
      const gj = gridsize[j]!;
      const h = new Float64Array(gi * gj);
      for (let s = 0; s < n; s++) {
        const a = bin(s, i);
        const b = bin(s, j);
        if (a >= 0 && b >= 0) h[a * gj + b]! += w(s);
      }
      const d = normalise(smooth2(h, gi, gj, smoothing), dx[i]! * dx[j]!);
      twoD.push({ i, j, density: d, levels: getLevels(d, dx[i]! * dx[j]!) });
    }
  }
  return { ranges, oneD, levels1D: oneD.map((d, k) => getLevels(d, dx[k]!)), twoD };
}

function normalise(h: Float64Array, cell: number): Float64Array {
  const s = h.reduce((a, b) => a + b, 0) * cell;
  return s > 0 ? h.map((v) => v / s) : h;
}

function kernel(sigma: number): Float64Array {
  const r = Math.ceil(4 * sigma);
  const k = Float64Array.from({ length: 2 * r + 1 }, (_, a) => Math.exp(-0.5 * ((a - r) / sigma) ** 2));
  const s = k.reduce((a, b) => a + b, 0);
  return k.map((v) => v / s);
}

function smooth1(h: Float64Array, sigma: number, stride = 1, len = h.length, offset = 0, out?: Float64Array): Float64Array {
  if (!(sigma > 0)) return h;
  const k = kernel(sigma);
  const r = (k.length - 1) / 2;
  const o = out ?? new Float64Array(h.length);
  for (let a = 0; a < len; a++) {
    let acc = 0;
    for (let b = -r; b <= r; b++) {
      const c = a + b;
      if (c >= 0 && c < len) acc += k[b + r]! * h[offset + c * stride]!;
    }
    o[offset + a * stride] = acc;
  }
  return o;
}

function smooth2(h: Float64Array, gi: number, gj: number, sigma: number): Float64Array {
  if (!(sigma > 0)) return h;
  const rows = new Float64Array(h.length);
  for (let a = 0; a < gi; a++) smooth1(h, sigma, 1, gj, a * gj, rows);
  const out = new Float64Array(h.length);
  for (let b = 0; b < gj; b++) smooth1(rows, sigma, gj, gi, b, out);
  return out;
}
