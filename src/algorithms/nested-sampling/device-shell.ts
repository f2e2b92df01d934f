/**
 * One shell's replacements with the chains on the device (device-slice.ts), for the sampler's
 * asynchronous path (WebGPU, where reads are asynchronous): the contour and seeds come from
 * NestedSampler.update's own rule, and update's host bookkeeping (settling, the sender tree, the
 * float64 moment recursion, the merge) then runs unchanged on what this returns.
 */
import { foldInKeys } from '../../prng/threefry.js';
import type { Model } from './model.js';
import type { BatchLikelihood } from './likelihood.js';
import { HostRng } from './rng.js';
import { deviceSlice, deviceUniform } from './device-slice.js';
import type { DeviceCounters } from './device-evaluate.js';

/** New points for the m discarded slots, as NestedSampler.update would make them. */
export interface FreshPoints {
  /** U (m × D), log L [m], evaluations spent per slot [m]. */
  u: Float64Array;
  logL: Float64Array;
  cost: Float64Array;
  /** The slice chains' phantoms (chain-major rows, k per chain; none from uniform draws). */
  phantomU: Float64Array;
  phantomL: Float64Array;
  /** Evaluations of this shell. */
  numEval: number;
}

/** Where the shell starts: the contour, the seeds' points (rows) and log L, the phase. */
export interface ShellInput {
  lStar: number;
  seedU: Float64Array;
  seedL: Float64Array;
  uniformPhase: boolean;
}

/** Shell options: m, slice settings, phantoms and the read-back period. */
export interface ShellOptions {
  shellSize: number;
  numSlices: number;
  midpointShrink: boolean;
  numPhantom: number;
  readEvery: number;
}

/** The m replacements of a shell, chains on the model's backend; keys derived from `key` on the host. */
export async function deviceShell(model: Model, input: ShellInput, key: Int32Array, o: ShellOptions, counters: DeviceCounters, lik?: BatchLikelihood): Promise<FreshPoints> {
  const D = model.uNdims;
  const m = o.shellSize;
  const { lStar, seedU, seedL } = input;
  const before = counters.numEval;
  const out: FreshPoints = { u: new Float64Array(m * D), logL: new Float64Array(m), cost: new Float64Array(m), phantomU: new Float64Array(0), phantomL: new Float64Array(0), numEval: 0 };
  let todo = Array.from({ length: m }, (_, i) => i);
  if (input.uniformPhase) {
    const r = await deviceUniform(model, foldInKeys(key, 1, 0), m, lStar, o.readEvery, counters, 100, lik);
    const left: number[] = [];
    for (let i = 0; i < m; i++) {
      out.cost[i] = r.cost[i]!;
      if (r.filled[i]) {
        out.u.set(r.u.subarray(i * D, (i + 1) * D), i * D);
        out.logL[i] = r.logL[i]!;
      } else left.push(i);
    }
    todo = left;
  }
  if (todo.length > 0) {
    const n = todo.length;
    const nSeeds = seedL.length;
    const pick = new HostRng(foldInKeys(key, 1, 1)).uniform(n);
    const x0 = new Float64Array(n * D);
    const l0 = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const s = Math.min(nSeeds - 1, Math.floor(pick[j]! * nSeeds));
      x0.set(seedU.subarray(s * D, (s + 1) * D), j * D);
      l0[j] = seedL[s]!;
    }
    const r = await deviceSlice(model, foldInKeys(key, 1, 2), x0, l0, n, lStar, { numSlices: o.numSlices, midpointShrink: o.midpointShrink, readEvery: o.readEvery, numPhantom: o.numPhantom }, counters, lik);
    todo.forEach((slot, j) => {
      out.u.set(r.u.subarray(j * D, (j + 1) * D), slot * D);
      out.logL[slot] = r.logL[j]!;
      out.cost[slot]! += r.cost[j]!;
    });
    out.phantomU = r.phantomU!;
    out.phantomL = r.phantomL!;
  }
  out.numEval = counters.numEval - before;
  return out;
}
