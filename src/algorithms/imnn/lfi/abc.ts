/** imnn's ApproximateBayesianComputation: rejection ABC in summary space, batched. */
import { ConfigError } from '../../../errors.js';
import { Tensor } from '../../../tensor.js';
import { checkKey, foldIn, split } from '../../../random.js';
import { slice, reshape } from '../../../autodiff/ops/shape.js';
import { tensor } from '../../../autodiff/ops/creation.js';
import { checkGridsize, histogramMarginals, type Marginals } from './grid.js';
import { checkPrior, type BoxPrior } from './prior.js';
import { checkFunctions, distances, type Compressor, type DistanceMeasure, type Simulator } from './distance.js';
import { matrixPerTarget } from './gaussian-approximation.js';

/** Options of `ApproximateBayesianComputation.run`. */
export interface ABCRunOptions {
  /** Simulations per iteration (one batched simulator call). */
  nSamples: number;
  /** Keep iterating until every target has this many accepted draws (default 0: one iteration). */
  minAccepted?: number;
  /** At most this many iterations (default 10). */
  maxIterations?: number;
  /** Gaussian smoothing of the histogram marginals, in grid cells (default 0). */
  smoothing?: number;
}

/** Per-target results of an ABC run. */
export interface ABCTargetResult {
  /** Accepted θ [nAccepted, p] and their distances. */
  accepted: Float64Array;
  acceptedDistances: Float64Array;
  /** Rejected θ and their distances. */
  rejected: Float64Array;
  rejectedDistances: Float64Array;
  nAccepted: number;
  /** Histogram marginals of the accepted draws. */
  marginals: Marginals;
}

/** The whole run. */
export interface ABCResult {
  targets: ABCTargetResult[];
  /** θ drawn (all), their summaries and the distances per target [nTargets][nDraws]. */
  parameters: Float64Array;
  summaries: Float64Array;
  distances: Float64Array[];
  iterations: number;
  nDraws: number;
}

/**
 * Rejection ABC: draw θ from the prior, simulate (batched), compress, and accept the θ whose
 * summaries lie within ε of the target's: ρ = √(Δᵀ F Δ) with F given (the same F for every target
 * unless one per target is given, unlike imnn's repeat), Euclidean otherwise, or `distanceMeasure`.
 * The compressed target is computed once, from `targetData` [nTargets, ...input].
 */
export class ApproximateBayesianComputation {
  /** Compressed targets, one row each. */
  readonly targetSummaries: number[][];
  /** F per target, or null (Euclidean / user measure). */
  readonly F: number[][] | null;
  /** The prior box and draws. */
  readonly prior: BoxPrior;
  /** Cells per parameter. */
  readonly gridsize: number[];
  /** Number of parameters. */
  readonly nParams: number;
  private readonly simulator: Simulator;
  private readonly compressor: Compressor;
  private readonly measure: DistanceMeasure | null;

  /** targetData [nTargets, ...input] (batched like simulations); F [p, p], [nTargets, p, p] or null. */
  constructor(targetData: Tensor, prior: BoxPrior, simulator: Simulator, compressor: Compressor, gridsize: number | number[], F: Tensor | null = null, distanceMeasure: DistanceMeasure | null = null) {
    const op = 'ApproximateBayesianComputation';
    if (!(targetData instanceof Tensor)) throw new ConfigError(`${op}: targetData must be a Tensor [nTargets, ...input].`);
    checkFunctions(op, simulator, compressor, distanceMeasure);
    const pr = checkPrior(op, prior);
    const p = pr.low.length;
    const s = compressor(targetData);
    if (!(s instanceof Tensor) || s.ndim !== 2 || s.shape[0] !== targetData.shape[0] || s.shape[1] !== p) {
      throw new ConfigError(`${op}: compressor(targetData) must give [${targetData.shape[0]}, ${p}] (one estimate per target, prior has ${p} parameters), got ${s instanceof Tensor ? `[${s.shape.join(', ')}]` : typeof s}.`);
    }
    const v = Array.from(s.dataSync(), Number);
    this.targetSummaries = Array.from({ length: s.shape[0]! }, (_, t) => v.slice(t * p, (t + 1) * p));
    this.prior = pr;
    this.nParams = p;
    this.gridsize = checkGridsize(op, gridsize, p);
    this.F = F === null || F === undefined ? null : matrixPerTarget(op, 'F', F, p, this.targetSummaries.length);
    this.simulator = simulator;
    this.compressor = compressor;
    this.measure = distanceMeasure;
  }

  /** The distances of summaries s [n, p] to target t. */
  distance(s: Float64Array, n: number, t: number): Float64Array {
    return distances(s, n, this.targetSummaries[t]!, this.F ? this.F[t]! : null, this.measure);
  }

  /** Draw, simulate and compress n points with one key: [θ, summaries]. */
  simulate(key: Tensor, n: number): [Float64Array, Float64Array] {
    const ks = split(key, 2);
    const kPrior = reshape(slice(ks, [0, 0], [1, 2]), [2]);
    const kSim = reshape(slice(ks, [1, 0], [1, 2]), [2]);
    const th = this.prior.sample(kPrior, n);
    const theta = Float64Array.from(th.dataSync(), Number);
    const data = this.simulator(kSim, th);
    if (!(data instanceof Tensor) || data.shape[0] !== n) throw new ConfigError(`simulator(key, θ [${n}, ${this.nParams}]) must return a Tensor with leading axis ${n}.`);
    const sT = this.compressor(data);
    if (!(sT instanceof Tensor) || sT.ndim !== 2 || sT.shape[0] !== n || sT.shape[1] !== this.nParams) throw new ConfigError(`compressor must return estimates [${n}, ${this.nParams}].`);
    const s = Float64Array.from(sT.dataSync(), Number);
    for (const t of [ks, kPrior, kSim, th, data, sT]) t.dispose();
    return [theta, s];
  }

  /** Simulate and compress at given θ [m, p] (host rows) in one batched call; consumes (disposes) `key`. */
  simulateAt(key: Tensor, theta: Float64Array, m: number): [Float64Array, Float64Array] {
    const th = tensor(theta, { shape: [m, this.nParams] });
    const data = this.simulator(key, th);
    const sT = this.compressor(data);
    if (!(sT instanceof Tensor) || sT.ndim !== 2 || sT.shape[0] !== m || sT.shape[1] !== this.nParams) throw new ConfigError(`compressor must return estimates [${m}, ${this.nParams}].`);
    const s = Float64Array.from(sT.dataSync(), Number);
    for (const t of [th, data, sT, key]) t.dispose();
    return [theta, s];
  }

  /** Run rejection ABC at tolerance ε (a number, or one per target). */
  run(epsilon: number | number[], key: Tensor, opts: ABCRunOptions): ABCResult {
    const op = 'ApproximateBayesianComputation.run';
    const nT = this.targetSummaries.length;
    const eps = typeof epsilon === 'number' ? Array(nT).fill(epsilon) : epsilon;
    if (!Array.isArray(eps) || eps.length !== nT || eps.some((e) => typeof e !== 'number' || !(e > 0) || !Number.isFinite(e))) {
      throw new ConfigError(`${op}: ε must be a positive finite number (or ${nT}, one per target), got ${JSON.stringify(epsilon)}.`);
    }
    checkKey(op, key);
    const known = ['nSamples', 'minAccepted', 'maxIterations', 'smoothing'];
    for (const k of Object.keys(opts ?? {})) if (!known.includes(k)) throw new ConfigError(`${op}: unknown option '${k}' (known: ${known.join(', ')}).`);
    const { nSamples, minAccepted = 0, maxIterations = 10, smoothing = 0 } = opts ?? ({} as ABCRunOptions);
    if (!Number.isInteger(nSamples) || nSamples < 1) throw new ConfigError(`${op}: nSamples must be a positive integer, got ${nSamples}.`);
    if (!Number.isInteger(minAccepted) || minAccepted < 0) throw new ConfigError(`${op}: minAccepted must be a non-negative integer, got ${minAccepted}.`);
    if (!Number.isInteger(maxIterations) || maxIterations < 1) throw new ConfigError(`${op}: maxIterations must be a positive integer, got ${maxIterations}.`);
    if (typeof smoothing !== 'number' || !(smoothing >= 0)) throw new ConfigError(`${op}: smoothing must be ≥ 0 (grid cells), got ${smoothing}.`);
    const p = this.nParams;
    const thetas: Float64Array[] = [];
    const summaries: Float64Array[] = [];
    const rho: Float64Array[][] = Array.from({ length: nT }, () => []);
    const counts = new Array<number>(nT).fill(0);
    let it = 0;
    while (it < maxIterations) {
      const k = foldIn(key, it);
      const [theta, s] = this.simulate(k, nSamples);
      k.dispose();
      thetas.push(theta);
      summaries.push(s);
      for (let t = 0; t < nT; t++) {
        const r = this.distance(s, nSamples, t);
        rho[t]!.push(r);
        for (const v of r) if (v < eps[t]!) counts[t]!++;
      }
      it++;
      if (counts.every((c) => c >= minAccepted)) break;
    }
    const parameters = concatF(thetas);
    const allS = concatF(summaries);
    const n = parameters.length / p;
    const dist = rho.map(concatF);
    const targets = dist.map((d, t) => {
      const acc: number[] = [];
      const rej: number[] = [];
      for (let i = 0; i < n; i++) (d[i]! < eps[t]! ? acc : rej).push(i);
      const accepted = pick(parameters, acc, p);
      return {
        accepted,
        acceptedDistances: Float64Array.from(acc, (i) => d[i]!),
        rejected: pick(parameters, rej, p),
        rejectedDistances: Float64Array.from(rej, (i) => d[i]!),
        nAccepted: acc.length,
        marginals: histogramMarginals(accepted, null, p, this.prior, this.gridsize, smoothing),
      };
    });
    return { targets, parameters, summaries: allS, distances: dist, iterations: it, nDraws: n };
  }
}

function concatF(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((a, b) => a + b.length, 0));
  let o = 0;
  for (const x of parts) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}

function pick(theta: Float64Array, idx: number[], p: number): Float64Array {
  const out = new Float64Array(idx.length * p);
  idx.forEach((i, r) => out.set(theta.subarray(i * p, (i + 1) * p), r * p));
  return out;
}
