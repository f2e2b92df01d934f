/**
 * New points above a contour L*: uniform rejection from the prior (the start, while it is
 * efficient) and jaxns' UniDimSliceSampler ("perfect" hit-and-run in the cube): a random
 * direction, the bracket where the line leaves [0,1]^D (no stepping out), a uniform proposal in
 * the bracket, accepted if L > L*; a rejection shrinks that side to the proposal t, and with
 * midpoint shrink (jaxns ≥ 2.5.1) to α_j·t, α_j = linspace(0.5, 1, numSlices)[j] for slice step j.
 * All chains advance together so each round is one batched likelihood call. With k phantoms the
 * chain's states after its last k intermediate steps (before the final one) are kept too: they
 * satisfy the contour, cost no evaluations, and join the samples (jaxns' num_phantom_save).
 */
import type { BatchLikelihood } from './likelihood.js';
import type { HostRng } from './rng.js';
import { evaluateRows } from './evaluate.js';

/** Points found: U (m × D), log L, evaluations spent per point. */
export interface NewPoints {
  u: Float64Array;
  logL: Float64Array;
  cost: Float64Array;
  filled: Uint8Array;
  /** Phantom points of each chain (m × k rows, chain-major), when asked for. */
  phantomU?: Float64Array;
  phantomL?: Float64Array;
}

const above = (l: number, lStar: number, l0: number): boolean => l > lStar || (l === lStar && l0 === lStar);

/** Up to maxTries rounds of prior draws for m slots; slots left unfilled keep filled = 0. */
export function uniformReplace(lik: BatchLikelihood, rng: HostRng, m: number, lStar: number, counter: { numEval: number }, maxTries = 100): NewPoints {
  const D = lik.model.uNdims;
  const res: NewPoints = { u: new Float64Array(m * D), logL: new Float64Array(m).fill(-Infinity), cost: new Float64Array(m), filled: new Uint8Array(m) };
  let open = Array.from({ length: m }, (_, i) => i);
  for (let t = 0; t < maxTries && open.length > 0; t++) {
    const u = rng.open(open.length * D);
    const l = evaluateRows(lik, u, open.length, counter);
    const still: number[] = [];
    open.forEach((slot, j) => {
      res.cost[slot]!++;
      if (l[j]! > lStar) {
        res.u.set(u.subarray(j * D, (j + 1) * D), slot * D);
        res.logL[slot] = l[j]!;
        res.filled[slot] = 1;
      } else still.push(slot);
    });
    open = still;
  }
  return res;
}

/** Slice options. */
export interface SliceOptions {
  numSlices: number;
  midpointShrink: boolean;
  /** Rejections in one slice step before the chain stays where it is (a safeguard). */
  maxRejections?: number;
  /** Phantoms k < numSlices: the states after steps numSlices − k − 1 … numSlices − 2. */
  numPhantom?: number;
}

/** m chains from the seeds (rows of seedU with seedL > L* or on a plateau), numSlices steps each. */
export function sliceReplace(
  lik: BatchLikelihood,
  rng: HostRng,
  seedU: Float64Array,
  seedL: Float64Array,
  m: number,
  lStar: number,
  opts: SliceOptions,
  counter: { numEval: number },
): NewPoints {
  const D = lik.model.uNdims;
  const x = new Float64Array(m * D);
  const lx = new Float64Array(m);
  const cost = new Float64Array(m);
  const nSeeds = seedL.length;
  const pick = rng.uniform(m);
  for (let i = 0; i < m; i++) {
    const s = Math.min(nSeeds - 1, Math.floor(pick[i]! * nSeeds));
    x.set(seedU.subarray(s * D, (s + 1) * D), i * D);
    lx[i] = seedL[s]!;
  }
  const dir = new Float64Array(m * D);
  const tL = new Float64Array(m);
  const tR = new Float64Array(m);
  const prop = new Float64Array(m * D);
  const ts = new Float64Array(m);
  const active = new Int32Array(m);
  const maxRej = opts.maxRejections ?? 100;
  const k = opts.numPhantom ?? 0;
  if (!(Number.isInteger(k) && k >= 0 && k < opts.numSlices)) throw new Error(`ns: numPhantom ${k} must be an integer in [0, numSlices = ${opts.numSlices}).`);
  const phantomU = new Float64Array(m * k * D);
  const phantomL = new Float64Array(m * k);
  const firstPhantomStep = opts.numSlices - k - 1;
  for (let j = 0; j < opts.numSlices; j++) {
    const alpha = opts.numSlices > 1 ? 0.5 + (0.5 * j) / (opts.numSlices - 1) : 1;
    const shrink = opts.midpointShrink ? alpha : 1;
    const z = rng.normal(m * D);
    for (let i = 0; i < m; i++) {
      let nrm = 0;
      for (let d = 0; d < D; d++) nrm += z[i * D + d]! ** 2;
      nrm = Math.sqrt(nrm) || 1;
      let lo = -Infinity;
      let hi = Infinity;
      for (let d = 0; d < D; d++) {
        const n = z[i * D + d]! / nrm;
        dir[i * D + d] = n;
        if (n === 0) continue;
        const xd = x[i * D + d]!;
        // the line x + t·n meets the faces 0 and 1 of coordinate d at these t
        const a = -xd / n;
        const b = (1 - xd) / n;
        lo = Math.max(lo, Math.min(a, b));
        hi = Math.min(hi, Math.max(a, b));
      }
      tL[i] = lo;
      tR[i] = hi;
    }
    // the chains still shrinking this step, compacted in place after each round
    let nActive = m;
    for (let i = 0; i < m; i++) active[i] = i;
    let rejections = 0;
    while (nActive > 0) {
      const u = rng.uniform(nActive);
      for (let r = 0; r < nActive; r++) {
        const i = active[r]!;
        const t = tL[i]! + (tR[i]! - tL[i]!) * u[r]!;
        ts[r] = t;
        for (let d = 0; d < D; d++) {
          const v = x[i * D + d]! + t * dir[i * D + d]!;
          prop[r * D + d] = Math.min(1 - 2 ** -53, Math.max(2 ** -53, v));
        }
      }
      const l = evaluateRows(lik, prop, nActive, counter);
      rejections++;
      let still = 0;
      for (let r = 0; r < nActive; r++) {
        const i = active[r]!;
        cost[i]!++;
        if (above(l[r]!, lStar, lx[i]!)) {
          for (let d = 0; d < D; d++) x[i * D + d] = prop[r * D + d]!;
          lx[i] = l[r]!;
          continue;
        }
        // shrink the rejected side to t (exact), or with midpoint shrink further to α·t (jaxns ≥ 2.5.1)
        const t = ts[r]!;
        if (t < 0) tL[i] = shrink * t;
        else tR[i] = shrink * t;
        // a chain whose bracket collapsed stays where it is (the current point satisfies the contour)
        if (rejections < maxRej && tR[i]! - tL[i]! > 1e-15) active[still++] = i;
      }
      nActive = still;
    }
    if (j >= firstPhantomStep && j < opts.numSlices - 1) {
      const p = j - firstPhantomStep;
      for (let i = 0; i < m; i++) {
        phantomU.set(x.subarray(i * D, (i + 1) * D), (i * k + p) * D);
        phantomL[i * k + p] = lx[i]!;
      }
    }
  }
  return { u: x, logL: lx, cost, filled: new Uint8Array(m).fill(1), phantomU, phantomL };
}
