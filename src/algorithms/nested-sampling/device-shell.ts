/**
 * One shell's replacements with the chains on the device (device-slice.ts), for the sampler's
 * asynchronous path (WebGPU, where reads are asynchronous): the same contour, seeds and
 * uniform-then-slice split as NestedSampler.update, whose host bookkeeping (dead points, the
 * float64 moment recursion, the merge and sort) then runs unchanged on what this returns.
 */
import { foldInKeys } from '../../prng/threefry.js';
import type { Model } from './model.js';
import { HostRng } from './rng.js';
import { deviceSlice, deviceUniform } from './device-slice.js';
import type { DeviceCounters } from './device-evaluate.js';

/** New points for the m discarded slots, as NestedSampler.update would make them. */
export interface FreshPoints {
  /** U (m × D), log L [m], evaluations spent per slot [m]. */
  u: Float64Array;
  logL: Float64Array;
  cost: Float64Array;
  /** Evaluations of this shell. */
  numEval: number;
  /** The live point each slot's slice chain started from (−1: a uniform draw). */
  seeds: Int32Array;
}

/** What the shell needs from the sampler and its state. */
export interface ShellInput {
  liveU: number[];
  liveL: number[];
  uniformPhase: boolean;
}

/** Shell options: c, m, slice settings and the read-back period. */
export interface ShellOptions {
  numLivePoints: number;
  shellSize: number;
  numSlices: number;
  midpointShrink: boolean;
  readEvery: number;
}

/** The contour L* = the m-th lowest log L, and the seeds: live points above it (or all survivors on a plateau); must match update's rule. */
export function contourAndSeeds(liveL: number[], c: number, m: number): { lStar: number; seedIdx: number[] } {
  const lStar = liveL[m - 1]!;
  let seedIdx: number[] = [];
  for (let i = m; i < c; i++) if (liveL[i]! > lStar) seedIdx.push(i);
  if (seedIdx.length === 0) seedIdx = Array.from({ length: c - m }, (_, i) => m + i);
  return { lStar, seedIdx };
}

/** The m replacements of a shell, chains on the model's backend; keys derived from `key` on the host. */
export async function deviceShell(model: Model, state: ShellInput, key: Int32Array, o: ShellOptions, counters: DeviceCounters): Promise<FreshPoints> {
  const D = model.uNdims;
  const { numLivePoints: c, shellSize: m } = o;
  const { lStar, seedIdx } = contourAndSeeds(state.liveL, c, m);
  const before = counters.numEval;
  const out: FreshPoints = { u: new Float64Array(m * D), logL: new Float64Array(m), cost: new Float64Array(m), numEval: 0, seeds: new Int32Array(m).fill(-1) };
  let todo = Array.from({ length: m }, (_, i) => i);
  if (state.uniformPhase) {
    const r = await deviceUniform(model, foldInKeys(key, 1, 0), m, lStar, o.readEvery, counters);
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
    const pick = new HostRng(foldInKeys(key, 1, 1)).uniform(n);
    const x0 = new Float64Array(n * D);
    const l0 = new Float64Array(n);
    const from = new Int32Array(n);
    for (let j = 0; j < n; j++) {
      const s = seedIdx[Math.min(seedIdx.length - 1, Math.floor(pick[j]! * seedIdx.length))]!;
      from[j] = s;
      for (let d = 0; d < D; d++) x0[j * D + d] = state.liveU[s * D + d]!;
      l0[j] = state.liveL[s]!;
    }
    const r = await deviceSlice(model, foldInKeys(key, 1, 2), x0, l0, n, lStar, { numSlices: o.numSlices, midpointShrink: o.midpointShrink, readEvery: o.readEvery }, counters);
    todo.forEach((slot, j) => {
      out.u.set(r.u.subarray(j * D, (j + 1) * D), slot * D);
      out.logL[slot] = r.logL[j]!;
      out.cost[slot]! += r.cost[j]!;
      out.seeds[slot] = from[j]!;
    });
  }
  out.numEval = counters.numEval - before;
  return out;
}
