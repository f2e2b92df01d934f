/**
 * The shell's new points with the chains on the device (WebGPU; also runs on the CPU backend):
 * the same kernels as slice.ts — uniform rejection from the prior, and cube-bracketed slice
 * sampling with midpoint shrink — but every chain's position, bracket, step counter and an
 * 'active' mask are tensors, a round is one batched likelihood call over all chains with accept
 * and shrink done by `where`, and the host reads back only a two-number status every `readEvery`
 * rounds (are all chains done? did any likelihood come back NaN or +∞?) and, once per shell, the
 * new points with their log L and costs. Directions and proposals come from the device PRNG,
 * round r keyed foldIn(key, r).
 *
 * Unlike the host path, a chain that accepts starts its next slice step in the next round instead
 * of waiting for the slowest chain: each chain follows the same Markov kernel (s·D steps of the
 * same slice move), only the rounds are shared, so a shell takes about the rounds of its slowest
 * chain overall rather than the sum over steps of the slowest chain per step.
 *
 * With k phantoms a chain also keeps its states after steps s·D − k − 1 … s·D − 2 (before the
 * final one), as the host path does: a [m, k, D] buffer written by `where` when such a step ends.
 *
 * Measured (8-D correlated Gaussian, c = 240, 40 slices, key 1, 2 shared cores): the CPU host
 * path 0.94M evaluations in 20.7k calls, 9.6 s; this path on the CPU backend 0.97M evaluations in
 * 11.6k calls (every round evaluates all chains, finished ones too, and costs ~40 small ops),
 * 18 s — so the CPU keeps the host path; on WebGPU (lavapipe, float32) 0.95M evaluations in
 * 11.3k calls and 2.9k read-backs (readEvery = 4), 153 s, log Z −109.21 ± 0.37 (exact −109.26).
 */
import { Tensor } from '../../tensor.js';
import { dispose, keep, tidy } from '../../memory.js';
import { fromHost } from '../../autodiff/core.js';
import { withBackend } from '../../backends/backend.js';
import { add, cast, clip, div, equal, greater, greaterEqual, isNan, less, lessEqual, maximum, minimum, mul, neg, sqrt, square, sub, where } from '../../autodiff/ops/elementwise.js';
import { full } from '../../autodiff/ops/creation.js';
import { max, min, sum } from '../../autodiff/ops/reduce.js';
import { concat, reshape, stack } from '../../autodiff/ops/shape.js';
import { arange } from '../../autodiff/ops/creation.js';
import { foldIn, normal, uniform } from '../../random.js';
import type { Model } from './model.js';
import type { NewPoints } from './slice.js';
import type { BatchLikelihood } from './likelihood.js';
import { badPointError, evaluateDevice, onModel, readBack, type DeviceCounters } from './device-evaluate.js';

/** Options of the device slice sampler. */
export interface DeviceSliceOptions {
  numSlices: number;
  midpointShrink: boolean;
  /** Rounds between status read-backs (≥ 1). */
  readEvery: number;
  /** Rejections in one slice step before the chain stays where it is (as on the host). */
  maxRejections?: number;
  /** Phantoms k < numSlices per chain (default 0). */
  numPhantom?: number;
}

/** The smallest step off the cube's faces in the model's dtype: u stays in (0, 1) for every quantile. */
const edge = (model: Model): number => (model.dtype === 'float32' ? 2 ** -24 : 2 ** -53);

/** Runs fn with the model's backend current, where every chain tensor is made. */
const on = <T>(model: Model, fn: () => T): T => withBackend(model.backend.name, fn);

/** The device key as an int32 tensor on the model's backend. */
const deviceKey = (model: Model, key: Int32Array): Tensor => keep(fromHost(Int32Array.from(key), [2], model.backend));

/** Replaces the tensors of `old` by those of `next` (kept), freeing what `next` no longer holds. */
function swap<T extends Record<string, Tensor>>(old: T, next: T): T {
  keep(next);
  const still = new Set(Object.values(next));
  for (const t of Object.values(old)) if (!still.has(t) && !t.isDisposed) t.dispose();
  return next;
}

/** Throws the NaN/+∞ error of the first flagged chain (rows of badU [m, D], values badL [m]). */
async function throwBad(model: Model, st: { hasBad: Tensor; badU: Tensor; badL: Tensor }, counters: DeviceCounters): Promise<never> {
  const D = model.uNdims;
  const all = keep(tidy(() => concat([st.badU, reshape(st.badL, [-1, 1]), reshape(cast(st.hasBad, st.badL.dtype), [-1, 1])], 1)));
  const a = await readBack(all, counters);
  all.dispose();
  const m = a.length / (D + 2);
  for (let i = 0; i < m; i++) {
    if (a[i * (D + 2) + D + 1] !== 0) throw await badPointError(model, Array.from(a.subarray(i * (D + 2), i * (D + 2) + D)), a[i * (D + 2) + D]!);
  }
  throw new Error('ns: internal: a chain was flagged bad but none was found');
}

/** c points uniform in the cube and their log L, read back once. */
export async function deviceInit(model: Model, key: Int32Array, c: number, counters: DeviceCounters, lik?: BatchLikelihood): Promise<{ u: Float64Array; logL: Float64Array }> {
  const D = model.uNdims;
  const k = deviceKey(model, key);
  const e = edge(model);
  const both = on(model, () => keep(tidy(() => {
    const u = clip(uniform(k, [c, D], { dtype: model.dtype as 'float32' }), e, 1 - e);
    return concat([u, reshape(evaluateDevice(model, u, counters, lik), [c, 1])], 1);
  })));
  k.dispose();
  const a = await readBack(both, counters);
  both.dispose();
  counters.numEval += c;
  const u = new Float64Array(c * D);
  const logL = new Float64Array(c);
  for (let i = 0; i < c; i++) {
    for (let d = 0; d < D; d++) u[i * D + d] = a[i * (D + 1) + d]!;
    const v = a[i * (D + 1) + D]!;
    if (Number.isNaN(v) || v === Infinity) throw await badPointError(model, Array.from(u.subarray(i * D, (i + 1) * D)), v);
    logL[i] = v;
  }
  return { u, logL };
}

/** Up to maxTries rounds of prior draws for m slots above L*; unfilled slots keep filled = 0. */
export async function deviceUniform(model: Model, key: Int32Array, m: number, lStar: number, readEvery: number, counters: DeviceCounters, maxTries = 100, lik?: BatchLikelihood): Promise<NewPoints> {
  const D = model.uNdims;
  const dt = model.dtype as 'float32';
  const k = deviceKey(model, key);
  const e = edge(model);
  let st = on(model, () => keep({
    u: full([m, D], 0.5, dt),
    l: full([m], -Infinity, dt),
    filled: full([m], 0, 'int32'),
    cost: full([m], 0, dt),
    hasBad: full([m], 0, 'int32'),
    badU: full([m, D], 0, dt),
    badL: full([m], 0, dt),
    status: full([2], 0, dt),
  }));
  try {
    for (let r = 0; r < maxTries; r++) {
      st = swap(st, on(model, () => tidy(() => {
        const u = clip(uniform(foldIn(k, r), [m, D], { dtype: dt }), e, 1 - e);
        const lp = evaluateDevice(model, u, counters, lik);
        const open = sub(1, st.filled);
        const bad = mul(open, maximum(isNan(lp), equal(lp, Infinity)));
        const take = mul(open, greater(lp, lStar));
        const newBad = mul(bad, sub(1, st.hasBad));
        const filled = maximum(st.filled, take);
        const hasBad = maximum(st.hasBad, bad);
        return {
          u: where(reshape(take, [m, 1]), u, st.u),
          l: where(take, lp, st.l),
          filled,
          cost: add(st.cost, cast(open, dt)),
          hasBad,
          badU: where(reshape(newBad, [m, 1]), u, st.badU),
          badL: where(newBad, lp, st.badL),
          status: cast(stack([sum(sub(1, filled)), sum(hasBad)]), dt),
        };
      })));
      if ((r + 1) % readEvery === 0 || r === maxTries - 1) {
        const s = await readBack(st.status, counters);
        if (s[1]! > 0) await throwBad(model, st, counters);
        if (s[0] === 0) break;
      }
    }
    const all = keep(tidy(() => concat([st.u, reshape(st.l, [m, 1]), reshape(st.cost, [m, 1]), reshape(cast(st.filled, dt), [m, 1])], 1)));
    const a = await readBack(all, counters);
    all.dispose();
    const res: NewPoints = { u: new Float64Array(m * D), logL: new Float64Array(m), cost: new Float64Array(m), filled: new Uint8Array(m) };
    const W = D + 3;
    for (let i = 0; i < m; i++) {
      for (let d = 0; d < D; d++) res.u[i * D + d] = a[i * W + d]!;
      res.logL[i] = a[i * W + D]!;
      res.cost[i] = a[i * W + D + 1]!;
      res.filled[i] = a[i * W + D + 2]! > 0 ? 1 : 0;
      counters.numEval += res.cost[i]!;
    }
    return res;
  } finally {
    dispose(st);
    k.dispose();
  }
}

/**
 * m chains from the given starts (rows of x0 with log L l0, each above L* or on a plateau at it),
 * numSlices slice steps each, all on the device.
 */
export async function deviceSlice(
  model: Model,
  key: Int32Array,
  x0: Float64Array,
  l0: Float64Array,
  m: number,
  lStar: number,
  opts: DeviceSliceOptions,
  counters: DeviceCounters,
  lik?: BatchLikelihood,
): Promise<NewPoints> {
  const D = model.uNdims;
  const dt = model.dtype as 'float32';
  const S = opts.numSlices;
  const maxRej = opts.maxRejections ?? 100;
  const K = opts.numPhantom ?? 0;
  if (!(Number.isInteger(K) && K >= 0 && K < S)) throw new Error(`ns: numPhantom ${K} must be an integer in [0, numSlices = ${S}).`);
  const firstPhantomStep = S - K - 1;
  const k = deviceKey(model, key);
  const e = edge(model);
  // phantom slot p of a chain is written when its step firstPhantomStep + p ends
  const slots = K > 0 ? on(model, () => keep(reshape(arange(0, K, 1, dt), [1, K]))) : null;
  let st = on(model, () => keep({
    x: onModel(model, x0.subarray(0, m * D), [m, D]),
    lx: onModel(model, l0.subarray(0, m), [m]),
    dir: full([m, D], 0, dt),
    tL: full([m], 0, dt),
    tR: full([m], 0, dt),
    // the slice step each chain is in (S: finished), its rejections in that step, a new step starting
    j: full([m], 0, dt),
    rej: full([m], 0, dt),
    fresh: full([m], 1, 'int32'),
    cost: full([m], 0, dt),
    hasBad: full([m], 0, 'int32'),
    badU: full([m, D], 0, dt),
    badL: full([m], 0, dt),
    status: full([2], 0, dt),
    phU: full([m, Math.max(K, 1), D], 0, dt),
    phL: full([m, Math.max(K, 1)], 0, dt),
  }));
  // every chain finishes a step within maxRej rounds
  const maxRounds = S * maxRej + 1;
  try {
    for (let r = 0; r < maxRounds; r++) {
      st = swap(st, on(model, () => tidy(() => {
        const kr = foldIn(k, r);
        // a new direction and its cube bracket for chains starting a step
        const z = normal(foldIn(kr, 0), [m, D], { dtype: dt });
        const n = div(z, sqrt(sum(square(z), { axis: 1, keepdims: true })));
        const a = div(neg(st.x), n);
        const b = div(sub(1, st.x), n);
        const lo = max(minimum(a, b), { axis: 1 });
        const hi = min(maximum(a, b), { axis: 1 });
        const dir = where(reshape(st.fresh, [m, 1]), n, st.dir);
        const tL = where(st.fresh, lo, st.tL);
        const tR = where(st.fresh, hi, st.tR);
        // a uniform proposal in the bracket, all chains in one call
        const t = add(tL, mul(sub(tR, tL), uniform(foldIn(kr, 1), [m], { dtype: dt })));
        const prop = clip(add(st.x, mul(reshape(t, [m, 1]), dir)), e, 1 - e);
        const lp = evaluateDevice(model, prop, counters, lik);
        const running = less(st.j, S);
        const bad = mul(running, maximum(isNan(lp), equal(lp, Infinity)));
        const acc = mul(running, maximum(greater(lp, lStar), mul(equal(lp, lStar), equal(st.lx, lStar))));
        // a rejection shrinks its side of the bracket to t, or with midpoint shrink to α_j·t
        const rejd = sub(running, acc);
        const shr = opts.midpointShrink && S > 1 ? mul(add(0.5, mul(0.5 / (S - 1), st.j)), t) : t;
        const below = less(t, 0);
        const tL2 = where(mul(rejd, below), shr, tL);
        const tR2 = where(mul(rejd, sub(1, below)), shr, tR);
        const rej = add(st.rej, cast(rejd, dt));
        // a chain whose bracket collapsed (or that hit maxRej) stays where it is: the step ends
        const collapsed = mul(rejd, maximum(greaterEqual(rej, maxRej), lessEqual(sub(tR2, tL2), 1e-15)));
        const done = maximum(acc, collapsed);
        const j = add(st.j, cast(done, dt));
        const newBad = mul(bad, sub(1, st.hasBad));
        const hasBad = maximum(st.hasBad, bad);
        const x = where(reshape(acc, [m, 1]), prop, st.x);
        const lx = where(acc, lp, st.lx);
        let phU = st.phU;
        let phL = st.phL;
        if (slots) {
          // the step that just ended (st.j) is a phantom step: keep the chain's state in its slot
          const write = mul(reshape(cast(done, dt), [m, 1]), cast(equal(slots!, reshape(sub(st.j, firstPhantomStep), [m, 1])), dt));
          const w = greater(write, 0);
          phU = where(reshape(w, [m, K, 1]), reshape(x, [m, 1, D]), st.phU);
          phL = where(w, reshape(lx, [m, 1]), st.phL);
        }
        return {
          x,
          lx,
          dir,
          tL: tL2,
          tR: tR2,
          j,
          rej: where(done, 0, rej),
          fresh: done,
          cost: add(st.cost, cast(running, dt)),
          hasBad,
          badU: where(reshape(newBad, [m, 1]), prop, st.badU),
          badL: where(newBad, lp, st.badL),
          status: cast(stack([sum(cast(less(j, S), dt)), cast(sum(hasBad), dt)]), dt),
          phU,
          phL,
        };
      })));
      if ((r + 1) % opts.readEvery === 0 || r === maxRounds - 1) {
        const s = await readBack(st.status, counters);
        if (s[1]! > 0) await throwBad(model, st, counters);
        if (s[0] === 0) break;
      }
    }
    // one read: per chain its point, log L, cost, then its k phantoms (D + 1 numbers each)
    const all = keep(tidy(() => {
      const parts = [st.x, reshape(st.lx, [m, 1]), reshape(st.cost, [m, 1])];
      if (K > 0) parts.push(reshape(concat([st.phU, reshape(st.phL, [m, K, 1])], 2), [m, K * (D + 1)]));
      return concat(parts, 1);
    }));
    const a = await readBack(all, counters);
    all.dispose();
    const res: NewPoints = { u: new Float64Array(m * D), logL: new Float64Array(m), cost: new Float64Array(m), filled: new Uint8Array(m).fill(1), phantomU: new Float64Array(m * K * D), phantomL: new Float64Array(m * K) };
    const W = D + 2 + K * (D + 1);
    for (let i = 0; i < m; i++) {
      for (let d = 0; d < D; d++) res.u[i * D + d] = a[i * W + d]!;
      res.logL[i] = a[i * W + D]!;
      res.cost[i] = a[i * W + D + 1]!;
      counters.numEval += res.cost[i]!;
      for (let p = 0; p < K; p++) {
        const o = i * W + D + 2 + p * (D + 1);
        for (let d = 0; d < D; d++) res.phantomU![(i * K + p) * D + d] = a[o + d]!;
        res.phantomL![i * K + p] = a[o + D]!;
      }
    }
    return res;
  } finally {
    dispose(st);
    slots?.dispose();
    k.dispose();
  }
}
