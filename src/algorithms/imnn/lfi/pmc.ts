/**
 * Population Monte Carlo ABC (Beaumont, Cornuet, Marin & Robert 2009) as imnn's PopulationMonteCarlo
 * intends, with its defects fixed: the proposal covariance is the *centred* weighted covariance
 * (×2), the importance weights use the mixture kernel over the previous population,
 * w_i ∝ π(θ_i) / Σ_j w_j K(θ_i | θ_j), with K the box-truncated Gaussian (normalised per parent),
 * proposals are redrawn until inside the prior box, and the run stops when the acceptance ratio
 * of a generation falls below a criterion.
 */
import { ConfigError, NumericalError } from '../../../errors.js';
import { Tensor } from '../../../tensor.js';
import { checkKey, foldIn, normal, uniform } from '../../../random.js';
import { tensor } from '../../../autodiff/ops/creation.js';
import { tidy } from '../../../memory.js';
import { ApproximateBayesianComputation } from './abc.js';
import { histogramMarginals, type Marginals } from './grid.js';
import type { BoxPrior } from './prior.js';
import type { Compressor, DistanceMeasure, Simulator } from './distance.js';

/** Options of `PopulationMonteCarlo.run`. */
export interface PMCRunOptions {
  /** Particles in the population. */
  nPoints: number;
  /** Prior draws of the initial rejection step (≥ nPoints; the nPoints closest are kept). */
  nInitialPoints: number;
  /** Next tolerance = this percentile of the current distances (default 75). */
  percentile?: number;
  /** Stop once a generation's accepted/draws falls below this (default 0.1). */
  acceptanceRatio?: number;
  /** At most this many generations (default 50). */
  maxIterations?: number;
  /** Proposals simulated per batch (default nPoints). */
  batchSize?: number;
  /** Monte Carlo draws per parent for the truncated kernel's normaliser (default 512). */
  kernelDraws?: number;
  /** Which target (default 0). */
  target?: number;
  /** Histogram smoothing in cells (default 0). */
  smoothing?: number;
}

/** A PMC run's final population and history. */
export interface PMCResult {
  /** Particles [nPoints, p], their normalised importance weights and distances. */
  theta: Float64Array;
  weights: Float64Array;
  distances: Float64Array;
  /** Final tolerance ε (all particles have ρ < ε). */
  epsilon: number;
  /** Tolerance, acceptance ratio and draws per generation. */
  history: { epsilon: number; acceptanceRatio: number; draws: number }[];
  /** Kish effective sample size (Σw)²/Σw². */
  ess: number;
  /** Total simulations. */
  nDraws: number;
  /** Weighted histogram marginals on the grid, with 68/95 % levels. */
  marginals: Marginals;
}

/** ABC-PMC over a prior box; constructed like ApproximateBayesianComputation. */
export class PopulationMonteCarlo {
  /** The rejection sampler underneath: targets, distance, prior, batched simulate-and-compress. */
  readonly abc: ApproximateBayesianComputation;

  /** Same arguments as ApproximateBayesianComputation. */
  constructor(targetData: Tensor, prior: BoxPrior, simulator: Simulator, compressor: Compressor, gridsize: number | number[], F: Tensor | null = null, distanceMeasure: DistanceMeasure | null = null) {
    this.abc = new ApproximateBayesianComputation(targetData, prior, simulator, compressor, gridsize, F, distanceMeasure);
  }

  /** Run PMC from `key` (same key → same result). */
  run(key: Tensor, options: PMCRunOptions): PMCResult {
    const op = 'PopulationMonteCarlo.run';
    checkKey(op, key);
    const opts = (options ?? {}) as PMCRunOptions;
    const abc = this.abc;
    const known = ['nPoints', 'nInitialPoints', 'percentile', 'acceptanceRatio', 'maxIterations', 'batchSize', 'kernelDraws', 'target', 'smoothing'];
    for (const k of Object.keys(opts)) if (!known.includes(k)) throw new ConfigError(`${op}: unknown option '${k}' (known: ${known.join(', ')}).`);
    const { nPoints, nInitialPoints, percentile = 75, acceptanceRatio = 0.1, maxIterations = 50, kernelDraws = 512, target = 0, smoothing = 0 } = opts;
    const batchSize = opts.batchSize ?? nPoints;
    const posInt = (name: string, v: unknown) => {
      if (!Number.isInteger(v) || (v as number) < 1) throw new ConfigError(`${op}: ${name} must be a positive integer, got ${String(v)}.`);
    };
    posInt('nPoints', nPoints);
    posInt('nInitialPoints', nInitialPoints);
    posInt('maxIterations', maxIterations);
    posInt('batchSize', batchSize);
    posInt('kernelDraws', kernelDraws);
    if (nPoints < 2 || nInitialPoints < nPoints) throw new ConfigError(`${op}: need 2 ≤ nPoints ≤ nInitialPoints, got nPoints=${nPoints}, nInitialPoints=${nInitialPoints}.`);
    if (!(percentile > 0 && percentile < 100)) throw new ConfigError(`${op}: percentile must lie in (0, 100), got ${percentile}.`);
    if (!(acceptanceRatio > 0 && acceptanceRatio < 1)) throw new ConfigError(`${op}: acceptanceRatio must lie in (0, 1), got ${acceptanceRatio}.`);
    if (!Number.isInteger(target) || target < 0 || target >= abc.targetSummaries.length) throw new ConfigError(`${op}: target must index one of ${abc.targetSummaries.length} targets, got ${target}.`);
    const p = abc.nParams;
    const n = nPoints;

    // one tidy scope: the keys, draws and summaries of every generation are freed (the result is host arrays)
    return tidy(() => {
    // generation 0: rejection from the prior, the n closest kept; prior draws carry equal weight
    const [th0, s0] = abc.simulate(foldIn(key, 0), nInitialPoints);
    const r0 = abc.distance(s0, nInitialPoints, target);
    const order = Array.from(r0.keys()).sort((x, y) => r0[x]! - r0[y]!).slice(0, n);
    let theta: Float64Array = Float64Array.from({ length: n * p }, (_, i) => th0[order[Math.floor(i / p)]! * p + (i % p)]!);
    let rho: Float64Array = Float64Array.from(order, (i) => r0[i]!);
    let w: Float64Array = new Float64Array(n).fill(1 / n);
    let epsilon = rho[n - 1]!;
    let nDraws = nInitialPoints;
    const history = [{ epsilon, acceptanceRatio: n / nInitialPoints, draws: nInitialPoints }];

    for (let gen = 1; gen <= maxIterations; gen++) {
      const gKey = foldIn(key, gen);
      const eps = quantile(rho, percentile / 100);
      const L = cholesky(weightedCov(theta, w, p).map((v) => 2 * v), p, gen);
      const Z = truncationMass(theta, n, p, L, abc.prior.low, abc.prior.high, foldIn(gKey, 0), kernelDraws);
      const newTheta = new Float64Array(n * p);
      const newRho = new Float64Array(n);
      let got = 0;
      let draws = 0;
      for (let b = 1; got < n; b++) {
        if (b > 100000) throw new NumericalError(`${op}: generation ${gen} could not accept ${n} particles at ε=${eps}.`);
        const bKey = foldIn(gKey, b);
        const prop = this.propose(theta, w, L, batchSize, bKey);
        const [, s] = abc.simulateAt(foldIn(bKey, 1 << 20), prop, batchSize);
        const r = abc.distance(s, batchSize, target);
        draws += batchSize;
        for (let i = 0; i < batchSize && got < n; i++) {
          if (r[i]! < eps) {
            newTheta.set(prop.subarray(i * p, (i + 1) * p), got * p);
            newRho[got++] = r[i]!;
          }
        }
      }
      nDraws += draws;
      const newW = this.reweight(newTheta, theta, w, L, Z, n, p);
      theta = newTheta;
      rho = newRho;
      w = newW;
      epsilon = eps;
      const ratio = n / draws;
      history.push({ epsilon, acceptanceRatio: ratio, draws });
      if (ratio < acceptanceRatio) break;
    }
    const sw2 = w.reduce((a, v) => a + v * v, 0);
    return {
      theta,
      weights: w,
      distances: rho,
      epsilon,
      history,
      ess: 1 / sw2,
      nDraws,
      marginals: histogramMarginals(theta, w, p, abc.prior, abc.gridsize, smoothing),
    };
    });
  }

  /** m proposals: a parent j ~ w, then θ_j + L z, z redrawn until θ lies in the prior box. */
  private propose(theta: Float64Array, w: Float64Array, L: Float64Array, m: number, key: Tensor): Float64Array {
    const p = this.abc.nParams;
    const n = w.length;
    const cdf = new Float64Array(n);
    w.reduce((a, v, i) => (cdf[i] = a + v), 0);
    const u = uniform(foldIn(key, 0), [m], { dtype: 'float64' });
    const uv = u.dataSync();
    const parents = Int32Array.from(uv, (x) => Math.min(n - 1, lowerBound(cdf, (x as number) * cdf[n - 1]!)));
    u.dispose();
    const out = new Float64Array(m * p);
    let pending = Array.from({ length: m }, (_, i) => i);
    for (let round = 1; pending.length > 0; round++) {
      if (round > 1000) throw new NumericalError(`PopulationMonteCarlo: proposals keep leaving the prior box (the proposal covariance is much wider than the box).`);
      const z = normal(foldIn(key, round), [pending.length, p], { dtype: 'float64' });
      const zv = z.dataSync();
      z.dispose();
      const still: number[] = [];
      pending.forEach((i, r) => {
        const j = parents[i]!;
        let inside = true;
        for (let a = 0; a < p; a++) {
          let v = theta[j * p + a]!;
          for (let b = 0; b <= a; b++) v += L[a * p + b]! * (zv[r * p + b] as number);
          out[i * p + a] = v;
          if (!(v >= this.abc.prior.low[a]! && v <= this.abc.prior.high[a]!)) inside = false;
        }
        if (!inside) still.push(i);
      });
      pending = still;
    }
    return out;
  }

  /** w_i ∝ π(θ_i) / Σ_j w_j N(θ_i; θ_j, Σ)/Z_j (the truncated kernel's mixture over the old population). */
  private reweight(newTheta: Float64Array, old: Float64Array, w: Float64Array, L: Float64Array, Z: Float64Array, n: number, p: number): Float64Array {
    const logPrior = this.abc.prior.logProb(tensor(newTheta, { shape: [n, p] }));
    const lp = logPrior.dataSync();
    const d = new Float64Array(p);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let mix = 0;
      for (let j = 0; j < n; j++) {
        for (let a = 0; a < p; a++) d[a] = newTheta[i * p + a]! - old[j * p + a]!;
        // forward substitution: ‖L⁻¹ d‖²; the common factor (2π)^{p/2}|L| cancels on normalising
        let q = 0;
        for (let a = 0; a < p; a++) {
          let v = d[a]!;
          for (let b = 0; b < a; b++) v -= L[a * p + b]! * d[b]!;
          d[a] = v / L[a * p + a]!;
          q += d[a]! * d[a]!;
        }
        mix += (w[j]! / Z[j]!) * Math.exp(-0.5 * q);
      }
      out[i] = Math.exp(lp[i] as number) / mix;
    }
    logPrior.dispose();
    const s = out.reduce((a, b) => a + b, 0);
    if (!(s > 0) || !Number.isFinite(s)) throw new NumericalError(`PopulationMonteCarlo: importance weights are degenerate (sum ${s}).`);
    return out.map((v) => v / s);
  }
}

/** Centred weighted covariance Σ_i w_i (θ_i − θ̄)(θ_i − θ̄)ᵀ / (1 − Σw²) (unbiased for normalised weights). */
export function weightedCov(theta: Float64Array, w: Float64Array, p: number): Float64Array {
  const n = w.length;
  const mean = new Float64Array(p);
  for (let i = 0; i < n; i++) for (let a = 0; a < p; a++) mean[a]! += w[i]! * theta[i * p + a]!;
  const c = new Float64Array(p * p);
  let sw2 = 0;
  for (let i = 0; i < n; i++) {
    sw2 += w[i]! * w[i]!;
    for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) c[a * p + b]! += w[i]! * (theta[i * p + a]! - mean[a]!) * (theta[i * p + b]! - mean[b]!);
  }
  return c.map((v) => v / (1 - sw2));
}

function cholesky(A: Float64Array, p: number, gen: number): Float64Array {
  const L = new Float64Array(p * p);
  for (let a = 0; a < p; a++) {
    for (let b = 0; b <= a; b++) {
      let s = A[a * p + b]!;
      for (let k = 0; k < b; k++) s -= L[a * p + k]! * L[b * p + k]!;
      if (a === b) {
        if (!(s > 0)) throw new NumericalError(`PopulationMonteCarlo: the population covariance is singular at generation ${gen} (the particles collapsed; use more points or a larger percentile).`);
        L[a * p + a] = Math.sqrt(s);
      } else L[a * p + b] = s / L[b * p + b]!;
    }
  }
  return L;
}

/** Z_j = P(θ_j + L z ∈ box), by M shared standard-normal draws (common random numbers across parents). */
function truncationMass(theta: Float64Array, n: number, p: number, L: Float64Array, low: readonly number[], high: readonly number[], key: Tensor, M: number): Float64Array {
  const z = normal(key, [M, p], { dtype: 'float64' });
  const zv = z.dataSync();
  const offs = new Float64Array(M * p);
  for (let m = 0; m < M; m++) for (let a = 0; a < p; a++) for (let b = 0; b <= a; b++) offs[m * p + a]! += L[a * p + b]! * (zv[m * p + b] as number);
  z.dispose();
  key.dispose();
  const Z = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let c = 0;
    for (let m = 0; m < M; m++) {
      let inside = true;
      for (let a = 0; a < p && inside; a++) {
        const v = theta[j * p + a]! + offs[m * p + a]!;
        inside = v >= low[a]! && v <= high[a]!;
      }
      if (inside) c++;
    }
    // a parent always has mass in the box (it lies inside): floor at one draw
    Z[j] = Math.max(c, 1) / M;
  }
  return Z;
}

function quantile(x: Float64Array, q: number): number {
  const s = Float64Array.from(x).sort();
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  return s[lo]! + (h - lo) * ((s[Math.min(lo + 1, s.length - 1)] ?? s[lo]!) - s[lo]!);
}

function lowerBound(cdf: Float64Array, x: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
