/**
 * NestedSampler (jaxns' default static sampler, §2 of the port notes): c = 30·D live points,
 * each shell discards the lowest ⌊shellFraction·c⌋ at once and replaces them by independent
 * chains seeded at live points above the contour: uniform rejection from the prior while that is
 * efficient, then slice sampling with s·D steps (with k phantoms, each chain's last k intermediate
 * states are kept as 0-cost samples). Every sample records its sender, the node at the contour L*
 * it was drawn above; a sample's live-point count is the number of tree edges crossing its contour
 * (tree.ts). The evidence moments are folded in as samples settle below the contour, with the same
 * counts the results get from the whole tree.
 *
 * Where the model lives on a backend that reads asynchronously (WebGPU), a shell's chains run on
 * the device (device-shell.ts: accept and shrink by `where`, a status read every `readEvery`
 * rounds) through initAsync/updateAsync; the bookkeeping above stays on the host in float64.
 *
 * On both paths the batched likelihood is jitted by default (likelihood.ts: traced once per batch
 * size, host batches padded to powers of two; `jit: false` gives the same numbers eagerly).
 */
import { Tensor } from '../../tensor.js';
import { BackendError, ConfigError, NumericalError } from '../../errors.js';
import { checkKey, foldIn } from '../../random.js';
import { tensor } from '../../autodiff/ops/creation.js';
import { withBackend } from '../../backends/backend.js';
import { run as loopRun, type LoopResult } from '../loop/loop.js';
import type { Progress, ProgressOptions } from '../loop/progress.js';
import type { Checkpoint, CheckpointOptions } from '../loop/checkpoint.js';
import { keep, tidy } from '../../memory.js';
import { Model } from './model.js';
import { HostRng } from './rng.js';
import { freshMoments, withLive, step as momentStep, summary, type Moments } from './evidence.js';
import { sliceReplace, uniformReplace } from './slice.js';
import { evaluateRows } from './evaluate.js';
import { BatchLikelihood, type NsJitInfo } from './likelihood.js';
import { checkJitOption } from '../../jit/step.js';
import { byKey } from './tree.js';
import { checkTermination, evaluateTermination, TERMINATION_BITS, terminationNames, type TerminationCond, type TerminationRegister } from './termination.js';
import { buildResults, type NestedSamplerResults } from './results.js';
import { deviceShell, type FreshPoints } from './device-shell.js';
import { deviceInit } from './device-slice.js';
import type { DeviceCounters } from './device-evaluate.js';

/** Options of NestedSampler (jaxns' names in camelCase). */
export interface NestedSamplerOptions {
  /** Most samples kept, phantoms included (default 100·c·(k+1), rounded up to whole shells). */
  maxSamples?: number;
  /** Live points including phantoms: c = numLivePoints / (k+1) chains (default c = 30·D; 100·D with difficultModel). */
  numLivePoints?: number;
  /** Slice steps per dimension: s·D steps per new point (default 5; 10 with difficultModel). */
  s?: number;
  /** Phantom samples per chain, k < s·D (default 0; min(D, s·D − 1) with parameterEstimation). */
  k?: number;
  /** Fraction of live points discarded per shell (default 0.5). */
  shellFraction?: number;
  /** Uniform rejection runs while live points / their evaluations ≥ this (default 0.1). */
  initEfficiencyThreshold?: number;
  /** Harder problems: s = 10, c = 100·D, no midpoint shrink. */
  difficultModel?: boolean;
  /** Posterior-oriented defaults: k = min(D, s·D − 1) phantoms and the run stops on peakXLFrac = 0.1 instead of dlogZ. */
  parameterEstimation?: boolean;
  /** Shrink the slice bracket by α = 0.5…1 after a proposal worse than the current point (default true unless difficultModel). */
  midpointShrink?: boolean;
  /** Device path (WebGPU): slice rounds between status read-backs (default 4). Results do not depend on it. */
  readEvery?: number;
  /**
   * The batched likelihood (prior transform, vmap and log L) traced once per batch size and
   * replayed (default). A likelihood that cannot be traced (it reads a value on the host) runs
   * eagerly after one warning; `true` makes that an error, `false` never traces. The same numbers
   * either way.
   */
  jit?: boolean;
}

/**
 * The sampler's state. Samples are kept in creation order (U rows, log L, sender: −1 for the root,
 * evaluations spent); `live` holds the c live points and `pending` the phantoms above the contour,
 * both in ascending (log L, index); `settled` lists the samples below the contour in that order,
 * with their live-point counts, and `moments` is the evidence recursion over them.
 */
export interface NestedSamplerState {
  shell: number;
  U: number[];
  logL: number[];
  sender: number[];
  cost: number[];
  live: number[];
  pending: number[];
  settled: number[];
  settledN: number[];
  moments: Moments;
  numEval: number;
  uniformPhase: boolean;
  logLStar: number;
  /** The largest log(X·L) at a contour so far (for peakXLFrac). */
  peakLogXL: number;
}

/** What one shell reports. */
export interface ShellAux {
  logLStar: number;
  numEval: number;
  logZ: number;
  dlogZ: number;
}

/** Options of run. */
export interface NestedSamplerRunOptions {
  /**
   * When to stop: criteria ORed (`{ dlogZ: 0.01, ess: 500 }`), or combined with `ns.and(...)` /
   * `ns.or(...)`. Default `{ dlogZ: log(1 + 1e-3) }` (`{ peakXLFrac: 0.1 }` with
   * parameterEstimation); always capped by the sampler's maxSamples, and plateau and no-seed
   * always stop.
   */
  terminationCond?: TerminationCond;
  /** Called with the loop's progress (steps are shells). */
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
  progress?: boolean | ProgressOptions;
  checkpoint?: CheckpointOptions;
  resume?: Checkpoint | string;
}

const KNOWN = ['maxSamples', 'numLivePoints', 's', 'k', 'shellFraction', 'initEfficiencyThreshold', 'difficultModel', 'parameterEstimation', 'midpointShrink', 'readEvery', 'jit'];
const RUN_KNOWN = ['terminationCond', 'onProgress', 'signal', 'progress', 'checkpoint', 'resume'];

const posInt = (op: string, k: string, v: unknown): number => {
  if (!Number.isInteger(v) || (v as number) < 1) throw new ConfigError(`${op}: ${k} must be a positive integer, got ${String(v)}.`);
  return v as number;
};

const bool = (op: string, k: string, v: unknown): boolean | undefined => {
  if (v !== undefined && typeof v !== 'boolean') throw new ConfigError(`${op}: ${k} must be a boolean, got ${String(v)}.`);
  return v as boolean | undefined;
};

/** Merge of two index lists each ascending in (log L, index). */
function mergeSorted(a: number[], b: number[], cmp: (x: number, y: number) => number): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) out.push(cmp(a[i]!, b[j]!) <= 0 ? a[i++]! : b[j++]!);
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

/** Static nested sampling over a Model's unit cube. */
export class NestedSampler {
  readonly model: Model;
  /** Live points c (chains per shell front); with phantoms the effective count is c·(k+1). */
  readonly numLivePoints: number;
  /** Phantom samples per chain. */
  readonly k: number;
  readonly numSlices: number;
  readonly maxSamples: number;
  readonly shellSize: number;
  readonly initEfficiencyThreshold: number;
  readonly midpointShrink: boolean;
  readonly parameterEstimation: boolean;
  /** Device path: slice rounds between status read-backs. */
  readonly readEvery: number;
  /**
   * Whether shells run with the chains on the device (device-shell.ts): true for a model whose
   * backend reads asynchronously (WebGPU); then init and update are initAsync and updateAsync,
   * and run uses them. On the CPU the host path is faster (measured, see device-slice.ts), but
   * setting this to true runs the device path there too (its tests do, without an adapter).
   */
  onDevice: boolean;
  /** Device path counters: batched likelihood calls and read-backs (evaluations are in the state). */
  readonly deviceCounters: DeviceCounters = { numEval: 0, calls: 0, reads: 0 };
  /** withLive of each state seen (states are never mutated). */
  private readonly liveMoments = new WeakMap<NestedSamplerState, Moments>();
  /** The batched likelihood with the jit option applied (it holds the compiled programs). */
  private readonly lik: BatchLikelihood;

  constructor(model: Model, options: NestedSamplerOptions = {}) {
    const op = 'ns.NestedSampler';
    if (!(model instanceof Model)) throw new ConfigError(`${op}: expected an ns.Model, got ${String(model)}.`);
    if (options === null || typeof options !== 'object') throw new ConfigError(`${op}: options must be an object.`);
    for (const k of Object.keys(options)) if (!KNOWN.includes(k)) throw new ConfigError(`${op}: unknown option '${k}' (known: ${KNOWN.join(', ')}).`);
    const D = model.uNdims;
    const hard = bool(op, 'difficultModel', options.difficultModel) === true;
    this.parameterEstimation = bool(op, 'parameterEstimation', options.parameterEstimation) === true;
    this.model = model;
    const s = options.s ?? (hard ? 10 : 5);
    if (!(typeof s === 'number' && s > 0 && Number.isFinite(s))) throw new ConfigError(`${op}: s must be a positive number, got ${String(s)}.`);
    this.numSlices = Math.max(1, Math.round(s * D));
    if (options.k !== undefined) {
      if (!Number.isInteger(options.k) || options.k < 0) throw new ConfigError(`${op}: k (phantoms per chain) must be a non-negative integer, got ${String(options.k)}.`);
      this.k = options.k;
    } else this.k = this.parameterEstimation ? Math.min(D, this.numSlices - 1) : 0;
    if (this.k >= this.numSlices) throw new ConfigError(`${op}: k = ${this.k} phantoms need more slice steps than that; k must be below s·D = ${this.numSlices}.`);
    this.numLivePoints =
      options.numLivePoints === undefined ? (hard ? 100 : 30) * D : Math.max(1, Math.floor(posInt(op, 'numLivePoints', options.numLivePoints) / (this.k + 1)));
    if (this.numLivePoints < 2) throw new ConfigError(`${op}: need at least 2 live points (c = numLivePoints / (k+1) = ${this.numLivePoints}); raise numLivePoints.`);
    const f = options.shellFraction ?? 0.5;
    if (!(typeof f === 'number' && f > 0 && f < 1)) throw new ConfigError(`${op}: shellFraction must be in (0, 1), got ${String(f)}.`);
    this.shellSize = Math.max(1, Math.floor(f * this.numLivePoints));
    if (options.maxSamples === undefined) {
      // jaxns' round_up_max_samples: whole shells of m·(k+1) samples
      const block = this.shellSize * (this.k + 1);
      this.maxSamples = Math.ceil((100 * this.numLivePoints * (this.k + 1)) / block) * block;
    } else this.maxSamples = posInt(op, 'maxSamples', options.maxSamples);
    // jaxns' sanity check: room for the live points and at least one shell
    const least = this.numLivePoints + this.shellSize * (this.k + 1);
    if (this.maxSamples < least) throw new ConfigError(`${op}: maxSamples = ${this.maxSamples} leaves no room for one shell: it must be at least c + m·(k+1) = ${least} (c = ${this.numLivePoints} live points, m = ${this.shellSize} per shell, k = ${this.k} phantoms).`);
    const e = options.initEfficiencyThreshold ?? 0.1;
    if (!(typeof e === 'number' && e >= 0 && e <= 1)) throw new ConfigError(`${op}: initEfficiencyThreshold must be in [0, 1], got ${String(e)}.`);
    this.initEfficiencyThreshold = e;
    this.midpointShrink = bool(op, 'midpointShrink', options.midpointShrink) ?? !hard;
    this.readEvery = options.readEvery === undefined ? 4 : posInt(op, 'readEvery', options.readEvery);
    this.onDevice = !model.backend.readSync;
    this.lik = new BatchLikelihood(model, checkJitOption(op, options.jit));
  }

  /** Whether the likelihood is jitted, how often it was traced, and its program cache. */
  jitInfo(): NsJitInfo {
    return this.lik.info();
  }

  /** Frees the compiled likelihood programs; the sampler keeps working (it retraces). */
  dispose(): void {
    this.lik.dispose();
  }

  /** The host words of a key on any backend, and a CPU key tensor with them (kept: used after an await). */
  private async hostKey(op: string, key: Tensor): Promise<[Int32Array, Tensor]> {
    const k = checkKey(op, key);
    const words = Int32Array.from(await k.data());
    return [words, keep(withBackend('cpu', () => tensor(words, { shape: [2], dtype: 'int32' })))];
  }

  /** init on any backend: on the device path the c points are drawn and evaluated there. */
  async initAsync(key: Tensor): Promise<NestedSamplerState> {
    const [words, k] = await this.hostKey('ns.NestedSampler.init', key);
    try {
      if (!this.onDevice) return this.init(k);
      return this.init(k, await deviceInit(this.model, words, this.numLivePoints, this.deviceCounters, this.lik));
    } finally {
      k.dispose();
    }
  }

  /** update on any backend: on the device path the shell's chains run there (read back every readEvery rounds). */
  async updateAsync(state: NestedSamplerState, key: Tensor): Promise<[NestedSamplerState, ShellAux]> {
    const [words, k] = await this.hostKey('ns.NestedSampler.update', key);
    try {
      if (!this.onDevice) return this.update(state, k);
      const { lStar, seeds } = this.contour(state);
      const { seedU, seedL } = this.seedRows(state, seeds);
      const o = { shellSize: this.shellSize, numSlices: this.numSlices, midpointShrink: this.midpointShrink, numPhantom: this.k, readEvery: this.readEvery };
      return this.update(state, k, await deviceShell(this.model, { lStar, seedU, seedL, uniformPhase: state.uniformPhase }, words, o, this.deviceCounters, this.lik));
    } finally {
      k.dispose();
    }
  }

  /**
   * The next shell's contour: the lowest m live points are discarded, the m-th is the contour's
   * node (its sender for the new samples), and the seeds are the survivors strictly above it (all
   * survivors when the whole top is a plateau). Both paths use this one rule.
   */
  private contour(state: NestedSamplerState): { discarded: number[]; star: number; lStar: number; survivors: number[]; seeds: number[] } {
    const m = this.shellSize;
    const discarded = state.live.slice(0, m);
    const star = discarded[m - 1]!;
    const lStar = state.logL[star]!;
    const survivors = state.live.slice(m);
    let seeds = survivors.filter((i) => state.logL[i]! > lStar);
    if (seeds.length === 0) seeds = survivors;
    return { discarded, star, lStar, survivors, seeds };
  }

  /** The seeds' unit-cube rows (seeds × D) and log L, where the slice chains start. */
  private seedRows(state: NestedSamplerState, seeds: number[]): { seedU: Float64Array; seedL: Float64Array } {
    const D = this.model.uNdims;
    const seedU = new Float64Array(seeds.length * D);
    const seedL = new Float64Array(seeds.length);
    seeds.forEach((s, j) => {
      for (let d = 0; d < D; d++) seedU[j * D + d] = state.U[s * D + d]!;
      seedL[j] = state.logL[s]!;
    });
    return { seedU, seedL };
  }

  /** The termination condition run uses when none is given. */
  get defaultTerminationCond(): TerminationCond {
    return this.parameterEstimation ? { peakXLFrac: 0.1 } : { dlogZ: Math.log1p(1e-3) };
  }

  /** c points uniform in the cube (sent by the root), sorted by log L (`points`: drawn and evaluated on the device by initAsync). */
  init(key: Tensor, points?: { u: Float64Array; logL: Float64Array }): NestedSamplerState {
    if (this.onDevice && !points) throw new BackendError(`ns.NestedSampler.init: the model lives on '${this.model.backend.name}', which reads asynchronously; use await sampler.initAsync(key) (or run).`);
    const rng = new HostRng(Int32Array.from(checkKey('ns.NestedSampler.init', key).dataSync()));
    const c = this.numLivePoints;
    const D = this.model.uNdims;
    const counter = { numEval: points ? c : 0 };
    const u = points ? points.u : rng.open(c * D);
    const l = points ? points.logL : evaluateRows(this.lik, u, c, counter);
    const logL = Array.from(l);
    // a −∞ likelihood is a valid (zero) value: such points stay and die first
    const live = Array.from({ length: c }, (_, i) => i).sort(byKey(logL));
    return {
      shell: 0,
      U: Array.from(u),
      logL,
      sender: logL.map(() => -1),
      cost: logL.map(() => 1),
      live,
      pending: [],
      settled: [],
      settledN: [],
      moments: freshMoments(),
      numEval: counter.numEval,
      uniformPhase: true,
      logLStar: -Infinity,
      peakLogXL: -Infinity,
    };
  }

  /**
   * One shell: discard the lowest m live points, replace them above the new contour. Pure in
   * `state`. (`fresh`: the replacements, made on the device by updateAsync.)
   */
  update(state: NestedSamplerState, key: Tensor, fresh?: FreshPoints): [NestedSamplerState, ShellAux] {
    if (this.onDevice && !fresh) throw new BackendError(`ns.NestedSampler.update: the model lives on '${this.model.backend.name}', which reads asynchronously; use await sampler.updateAsync(state, key) (or run).`);
    const rng = new HostRng(Int32Array.from(checkKey('ns.NestedSampler.update', key).dataSync()));
    const c = this.numLivePoints;
    const D = this.model.uNdims;
    const m = this.shellSize;
    const cmp = byKey(state.logL);
    const { discarded, star, lStar, survivors, seeds } = this.contour(state);
    // settle everything at or below (L*, star): the discarded points and pending phantoms under the contour
    const below = state.pending.filter((i) => cmp(i, star) < 0);
    const pending = state.pending.filter((i) => cmp(i, star) > 0);
    const settling = mergeSorted(discarded, below, cmp);
    const moments = { ...state.moments };
    const settled = state.settled.slice();
    const settledN = state.settledN.slice();
    // every unsettled sample hangs from a settled sender, so c + #pending edges cross the next contour
    let n = c + state.pending.length;
    for (const i of settling) {
      momentStep(moments, state.logL[i]!, n);
      settled.push(i);
      settledN.push(n);
      n--;
    }
    const peakLogXL = Math.max(state.peakLogXL, moments.logX + lStar);
    const counter = { numEval: 0 };
    let uniformPhase = state.uniformPhase;
    const newU = new Float64Array(m * D);
    const newL = new Float64Array(m);
    const newCost = new Float64Array(m);
    let todo = Array.from({ length: m }, (_, i) => i);
    let phantomU: Float64Array = new Float64Array(0);
    let phantomL: Float64Array = new Float64Array(0);
    if (fresh) {
      newU.set(fresh.u);
      newL.set(fresh.logL);
      newCost.set(fresh.cost);
      phantomU = fresh.phantomU;
      phantomL = fresh.phantomL;
      counter.numEval = fresh.numEval;
      todo = [];
    } else if (uniformPhase) {
      const r = uniformReplace(this.lik, rng, m, lStar, counter);
      const left: number[] = [];
      for (let i = 0; i < m; i++) {
        newCost[i] = r.cost[i]!;
        if (r.filled[i]) {
          newU.set(r.u.subarray(i * D, (i + 1) * D), i * D);
          newL[i] = r.logL[i]!;
        } else left.push(i);
      }
      todo = left;
    }
    if (todo.length > 0) {
      const { seedU, seedL } = this.seedRows(state, seeds);
      const r = sliceReplace(this.lik, rng, seedU, seedL, todo.length, lStar, { numSlices: this.numSlices, midpointShrink: this.midpointShrink, numPhantom: this.k }, counter);
      todo.forEach((slot, j) => {
        newU.set(r.u.subarray(j * D, (j + 1) * D), slot * D);
        newL[slot] = r.logL[j]!;
        newCost[slot] += r.cost[j]!;
      });
      phantomU = r.phantomU!;
      phantomL = r.phantomL!;
    }
    // new samples (then phantoms, 0-cost) all sent by the contour's node
    const first = state.logL.length;
    const U = state.U.concat(Array.from(newU), Array.from(phantomU));
    const logL = state.logL.concat(Array.from(newL), Array.from(phantomL));
    const numNew = m + phantomL.length;
    const sender = state.sender.concat(new Array<number>(numNew).fill(star));
    const cost = state.cost.concat(Array.from(newCost), new Array<number>(phantomL.length).fill(0));
    const cmpNew = byKey(logL);
    const added = Array.from({ length: m }, (_, i) => first + i).sort(cmpNew);
    const live = mergeSorted(survivors, added, cmpNew);
    const phantoms = Array.from({ length: phantomL.length }, (_, i) => first + m + i).sort(cmpNew);
    if (uniformPhase) {
      const eff = c / live.reduce((a, i) => a + cost[i]!, 0);
      if (eff < this.initEfficiencyThreshold) uniformPhase = false;
    }
    const next: NestedSamplerState = {
      shell: state.shell + 1,
      U,
      logL,
      sender,
      cost,
      live,
      pending: mergeSorted(pending, phantoms, cmpNew),
      settled,
      settledN,
      moments,
      numEval: state.numEval + counter.numEval,
      uniformPhase,
      logLStar: lStar,
      peakLogXL,
    };
    const logZLive = this.withLive(next).logZ;
    return [next, { logLStar: lStar, numEval: next.numEval, logZ: moments.logZ, dlogZ: logZLive - moments.logZ }];
  }

  /** The moments if every live and pending sample died now (kept per state: update and the termination check both ask). */
  private withLive(state: NestedSamplerState): Moments {
    let all = this.liveMoments.get(state);
    if (!all) this.liveMoments.set(state, (all = withLive(state.moments, this.remainingLogL(state), this.numLivePoints + state.pending.length)));
    return all;
  }

  /** log L of the live and pending phantom samples, ascending: what the results add after the settled ones. */
  private remainingLogL(state: NestedSamplerState): number[] {
    return mergeSorted(state.live, state.pending, byKey(state.logL)).map((i) => state.logL[i]!);
  }

  /** What termination criteria are checked against (jaxns' TerminationRegister). */
  register(state: NestedSamplerState): TerminationRegister {
    const c = this.numLivePoints;
    const all = this.withLive(state);
    const sum = summary(all);
    const lo = state.logL[state.live[0]!]!;
    const hi = state.logL[state.live[c - 1]!]!;
    const spread = Math.abs(hi - lo);
    return {
      numSamplesAfterNextShell: state.logL.length + this.shellSize * (this.k + 1),
      logZDead: state.moments.logZ,
      logZWithLive: all.logZ,
      logZUncert: sum.logZUncert * Math.sqrt(1 + this.k),
      ESS: sum.ESS / (1 + this.k),
      numLikelihoodEvaluations: state.numEval,
      logLContour: state.logLStar,
      efficiency: c / state.live.reduce((a, i) => a + state.cost[i]!, 0),
      // a plateau at 0 has spread 0: 0/0 is no relative spread either
      relativeSpread: spread === 0 ? 0 : (2 * spread) / Math.abs(lo + hi),
      absoluteSpread: spread,
      // before the first contour there is no X·L yet: NaN fails every comparison
      logXL: state.shell === 0 ? NaN : state.moments.logX + state.logLStar,
      peakLogXL: state.peakLogXL,
    };
  }

  /** The termination bitmask of a state (0: carry on): the condition's bits, the sampler's maxSamples, plateau and no-seed. */
  terminationMask(state: NestedSamplerState, cond: TerminationCond): number {
    const c = this.numLivePoints;
    const B = TERMINATION_BITS;
    const r = this.register(state);
    let mask = evaluateTermination(cond, r);
    if (r.numSamplesAfterNextShell > this.maxSamples) mask |= B.maxSamples;
    const live = state.live.map((i) => state.logL[i]!);
    if (live[0] === live[c - 1]) mask |= B.plateau;
    // the next contour would be the top log L: no seed strictly above it (jaxns' no_seed_points)
    if (live[this.shellSize - 1]! >= live[c - 1]!) mask |= B.noSeedPoints;
    return mask;
  }

  /** Runs shells until a termination condition holds; returns the results (live points added as dead). A NumericalError carries `.results`: those of the last finished shell. */
  async run(key: Tensor, options: NestedSamplerRunOptions = {}): Promise<NestedSamplerResults> {
    const op = 'ns.NestedSampler.run';
    checkKey(op, key);
    if (options === null || typeof options !== 'object') throw new ConfigError(`${op}: options must be an object.`);
    for (const k of Object.keys(options)) if (!RUN_KNOWN.includes(k)) throw new ConfigError(`${op}: unknown option '${k}' (known: ${RUN_KNOWN.join(', ')}).`);
    const cond = checkTermination(op, options.terminationCond ?? this.defaultTerminationCond);
    // the init key is freed here: only its bits are used
    const initKey = options.resume === undefined ? keep(tidy(() => foldIn(key, 0x7fffffff))) : null;
    let init: NestedSamplerState | null = null;
    try {
      if (initKey) init = this.onDevice ? await this.initAsync(initKey) : this.init(initKey);
    } finally {
      initKey?.dispose();
    }
    let mask = init ? this.terminationMask(init, cond) : 0;
    const maxShells = Math.ceil(this.maxSamples / this.shellSize) + 1;
    let result: LoopResult<NestedSamplerState> | null = null;
    // the last finished shell: a NumericalError (NaN or +∞ likelihood) carries the results so far
    let last: NestedSamplerState | null = init;
    if (mask === 0) {
      try {
        result = await loopRun<NestedSamplerState, ShellAux>(init, {
          name: op,
          step: (s, k) => (this.onDevice ? this.updateAsync(s, k!) : this.update(s, k!)),
          steps: maxShells,
          key,
          unit: 'shell',
          signal: options.signal,
          onProgress: options.onProgress,
          progress: options.progress ?? false,
          checkpoint: options.checkpoint,
          resume: options.resume,
          values: (s, a) => ({ logZ: a.logZ, dlogZ: a.dlogZ, evals: s.numEval }),
          onStep: (s) => {
            last = s;
            mask = this.terminationMask(s, cond);
            return mask === 0 ? undefined : `terminated: ${terminationNames(mask).join(', ')}`;
          },
        });
      } catch (e) {
        if (e instanceof NumericalError && last) (e as NumericalError & { results?: NestedSamplerResults }).results = this.results(last, 0);
        throw e;
      }
    }
    const state = result ? result.state : init!;
    if (result && result.reason === 'aborted') mask = 0;
    return this.results(state, mask);
  }

  /** Results as host float64 tensors on the CPU; `samples` (X = T(U)) where the model lives, in its dtype. */
  private results(state: NestedSamplerState, mask: number): NestedSamplerResults {
    return withBackend('cpu', () => buildResults(this.model, state, mask, this.k));
  }
}
