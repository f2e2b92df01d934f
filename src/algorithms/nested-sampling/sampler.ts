/**
 * NestedSampler (jaxns' default static sampler, §2 of the port notes): c = 30·D live points,
 * each shell discards the lowest ⌊shellFraction·c⌋ at once and replaces them by independent
 * chains seeded at live points above the contour: uniform rejection from the prior while that is
 * efficient, then slice sampling with s·D steps. The live-point count of a dead point is the
 * number of tree edges crossing its contour; with k = 0 and a shell discarded before any
 * replacement it is c, c − 1, …, c − m + 1 inside each shell, and N…1 for the final live points.
 */
import { Tensor } from '../../tensor.js';
import { BackendError, ConfigError, NumericalError } from '../../errors.js';
import { checkKey, foldIn } from '../../random.js';
import { run as loopRun, type LoopResult } from '../loop/loop.js';
import type { Progress, ProgressOptions } from '../loop/progress.js';
import type { Checkpoint, CheckpointOptions } from '../loop/checkpoint.js';
import { Model } from './model.js';
import { HostRng } from './rng.js';
import { freshMoments, logZWithLive, withLive, step as momentStep, summary, type Moments } from './evidence.js';
import { sliceReplace, uniformReplace } from './slice.js';
import { evaluateRows } from './evaluate.js';
import { checkTermination, TERMINATION_BITS, terminationNames, type TerminationCond } from './termination.js';
import { buildResults, type NestedSamplerResults } from './results.js';
import { withBackend } from '../../backends/backend.js';
import { tensor } from '../../autodiff/ops/creation.js';
import { deviceShell, type FreshPoints } from './device-shell.js';
import { deviceInit } from './device-slice.js';
import { keep } from '../../memory.js';
import type { DeviceCounters } from './device-evaluate.js';

/** Options of NestedSampler (jaxns' names in camelCase). */
export interface NestedSamplerOptions {
  /** Most samples kept (default 100·c). */
  maxSamples?: number;
  /** Live points c (default 30·D; 100·D with difficultModel). */
  numLivePoints?: number;
  /** Slice steps per dimension: s·D steps per new point (default 5; 10 with difficultModel). */
  s?: number;
  /** Phantom points per chain (only 0 for now). */
  k?: number;
  /** Fraction of live points discarded per shell (default 0.5). */
  shellFraction?: number;
  /** Uniform rejection runs while live points / their evaluations ≥ this (default 0.1). */
  initEfficiencyThreshold?: number;
  /** Harder problems: s = 10, c = 100·D, no midpoint shrink. */
  difficultModel?: boolean;
  /** Shrink the slice bracket by α = 0.5…1 after a proposal worse than the current point (default true unless difficultModel). */
  midpointShrink?: boolean;
  /** Device path (a model on WebGPU): rounds between the host's reads of the chains' status (default 4). */
  readEvery?: number;
}

/** The sampler's state: live points sorted by log L, dead points in order, the evidence moments. */
export interface NestedSamplerState {
  shell: number;
  liveU: number[];
  liveL: number[];
  liveCost: number[];
  deadU: number[];
  deadL: number[];
  deadN: number[];
  moments: Moments;
  numEval: number;
  uniformPhase: boolean;
  logLStar: number;
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
  /** When to stop (ORed; default { dlogZ: log(1 + 1e-3) }, always capped by maxSamples). */
  terminationCond?: TerminationCond;
  /** Called with the loop's progress (steps are shells). */
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
  progress?: boolean | ProgressOptions;
  checkpoint?: CheckpointOptions;
  resume?: Checkpoint | string;
}

const KNOWN = ['maxSamples', 'numLivePoints', 's', 'k', 'shellFraction', 'initEfficiencyThreshold', 'difficultModel', 'midpointShrink', 'readEvery'];
const RUN_KNOWN = ['terminationCond', 'onProgress', 'signal', 'progress', 'checkpoint', 'resume'];

const posInt = (op: string, k: string, v: unknown): number => {
  if (!Number.isInteger(v) || (v as number) < 1) throw new ConfigError(`${op}: ${k} must be a positive integer, got ${String(v)}.`);
  return v as number;
};

/** Static nested sampling over a Model's unit cube. */
export class NestedSampler {
  readonly model: Model;
  /** Live points c. */
  readonly numLivePoints: number;
  readonly numSlices: number;
  readonly maxSamples: number;
  readonly shellSize: number;
  readonly initEfficiencyThreshold: number;
  readonly midpointShrink: boolean;

  constructor(model: Model, options: NestedSamplerOptions = {}) {
    const op = 'ns.NestedSampler';
    if (!(model instanceof Model)) throw new ConfigError(`${op}: expected an ns.Model, got ${String(model)}.`);
    if (options === null || typeof options !== 'object') throw new ConfigError(`${op}: options must be an object.`);
    for (const k of Object.keys(options)) if (!KNOWN.includes(k)) throw new ConfigError(`${op}: unknown option '${k}' (known: ${KNOWN.join(', ')}).`);
    const D = model.uNdims;
    const hard = options.difficultModel === true;
    if (options.k !== undefined && options.k !== 0) throw new ConfigError(`${op}: phantom points (k = ${String(options.k)}) are not implemented yet; use k = 0.`);
    this.model = model;
    this.numLivePoints = options.numLivePoints === undefined ? (hard ? 100 : 30) * D : posInt(op, 'numLivePoints', options.numLivePoints);
    if (this.numLivePoints < 2) throw new ConfigError(`${op}: numLivePoints must be at least 2, got ${this.numLivePoints}.`);
    const s = options.s ?? (hard ? 10 : 5);
    if (!(typeof s === 'number' && s > 0)) throw new ConfigError(`${op}: s must be a positive number, got ${String(s)}.`);
    this.numSlices = Math.max(1, Math.round(s * D));
    const f = options.shellFraction ?? 0.5;
    if (!(typeof f === 'number' && f > 0 && f < 1)) throw new ConfigError(`${op}: shellFraction must be in (0, 1), got ${String(f)}.`);
    this.shellSize = Math.max(1, Math.floor(f * this.numLivePoints));
    this.maxSamples = options.maxSamples === undefined ? 100 * this.numLivePoints : posInt(op, 'maxSamples', options.maxSamples);
    if (this.maxSamples < this.numLivePoints) throw new ConfigError(`${op}: maxSamples (${this.maxSamples}) must be at least numLivePoints (${this.numLivePoints}).`);
    const e = options.initEfficiencyThreshold ?? 0.1;
    if (!(typeof e === 'number' && e >= 0 && e <= 1)) throw new ConfigError(`${op}: initEfficiencyThreshold must be in [0, 1], got ${String(e)}.`);
    this.initEfficiencyThreshold = e;
    this.midpointShrink = options.midpointShrink ?? !hard;
    this.readEvery = options.readEvery === undefined ? 4 : posInt(op, 'readEvery', options.readEvery);
    this.onDevice = !model.backend.readSync;
  }

  /** Device path: rounds between status read-backs. */
  readonly readEvery: number;
  /**
   * Whether shells run with the chains on the device (device-shell.ts): a model whose backend
   * reads asynchronously (WebGPU). Then init and update are initAsync and updateAsync, and run
   * uses them. On the CPU the host path is faster (measured; see device-slice.ts), but setting
   * this to true runs the device path there too (tests do, without a WebGPU adapter).
   */
  onDevice: boolean;
  /** Device path counters: likelihood calls and read-backs (evaluations are in the state). */
  readonly deviceCounters: DeviceCounters = { numEval: 0, calls: 0, reads: 0 };

  /** The host words of a key on any backend, and a CPU key tensor with them. */
  private async hostKey(op: string, key: Tensor): Promise<[Int32Array, Tensor]> {
    const k = checkKey(op, key);
    const words = Int32Array.from(k.concrete()._backend!.readSync ? k.dataSync() : await k.data());
    // kept: the caller uses it after an await, outside whatever tidy scope this started in
    return [words, keep(withBackend('cpu', () => tensor(words, { shape: [2], dtype: 'int32' })))];
  }

  /** init on any backend: on the device path the c points are drawn and evaluated there. */
  async initAsync(key: Tensor): Promise<NestedSamplerState> {
    const [words, k] = await this.hostKey('ns.NestedSampler.init', key);
    try {
      if (!this.onDevice) return this.init(k);
      return this.init(k, await deviceInit(this.model, words, this.numLivePoints, this.deviceCounters));
    } finally {
      k.dispose();
    }
  }

  /** update on any backend: on the device path the shell's chains run there (read back every readEvery rounds). */
  async updateAsync(state: NestedSamplerState, key: Tensor): Promise<[NestedSamplerState, ShellAux]> {
    const [words, k] = await this.hostKey('ns.NestedSampler.update', key);
    try {
      if (!this.onDevice) return this.update(state, k);
      const o = { numLivePoints: this.numLivePoints, shellSize: this.shellSize, numSlices: this.numSlices, midpointShrink: this.midpointShrink, readEvery: this.readEvery };
      return this.update(state, k, await deviceShell(this.model, state, words, o, this.deviceCounters));
    } finally {
      k.dispose();
    }
  }

  /** c points uniform in the cube, sorted by log L (`points`: drawn and evaluated already, by initAsync). */
  init(key: Tensor, points?: { u: Float64Array; logL: Float64Array }): NestedSamplerState {
    if (this.onDevice && !points) throw new BackendError(`ns.NestedSampler.init: the model lives on '${this.model.backend.name}', which reads asynchronously; use await sampler.initAsync(key) (or run).`);
    const rng = new HostRng(Int32Array.from(checkKey('ns.NestedSampler.init', key).dataSync()));
    const c = this.numLivePoints;
    const D = this.model.uNdims;
    const counter = { numEval: 0 };
    const u = points ? points.u : rng.open(c * D);
    const l = points ? points.logL : evaluateRows(this.model, u, c, counter);
    if (points) counter.numEval = c;
    // a −∞ likelihood is a valid (zero) value: such points stay and die first
    const order = Array.from({ length: c }, (_, i) => i).sort((a, b) => l[a]! - l[b]! || a - b);
    const liveU: number[] = [];
    for (const i of order) for (let d = 0; d < D; d++) liveU.push(u[i * D + d]!);
    return {
      shell: 0,
      liveU,
      liveL: order.map((i) => l[i]!),
      liveCost: order.map(() => 1),
      deadU: [],
      deadL: [],
      deadN: [],
      moments: freshMoments(),
      numEval: counter.numEval,
      uniformPhase: true,
      logLStar: -Infinity,
    };
  }

  /** One shell: discard the lowest m live points, replace them above the new contour. Pure in `state`. (`fresh`: the replacements, made on the device by updateAsync.) */
  update(state: NestedSamplerState, key: Tensor, fresh?: FreshPoints): [NestedSamplerState, ShellAux] {
    if (this.onDevice && !fresh) throw new BackendError(`ns.NestedSampler.update: the model lives on '${this.model.backend.name}', which reads asynchronously; use await sampler.updateAsync(state, key) (or run).`);
    const rng = new HostRng(Int32Array.from(checkKey('ns.NestedSampler.update', key).dataSync()));
    const c = this.numLivePoints;
    const D = this.model.uNdims;
    const m = this.shellSize;
    const moments = { ...state.moments };
    const deadU = state.deadU.slice();
    const deadL = state.deadL.slice();
    const deadN = state.deadN.slice();
    for (let i = 0; i < m; i++) {
      deadU.push(...state.liveU.slice(i * D, (i + 1) * D));
      deadL.push(state.liveL[i]!);
      deadN.push(c - i);
      momentStep(moments, state.liveL[i]!, c - i);
    }
    const lStar = state.liveL[m - 1]!;
    // seeds: survivors strictly above the contour, or on it when the whole top is a plateau
    let seedIdx: number[] = [];
    for (let i = m; i < c; i++) if (state.liveL[i]! > lStar) seedIdx.push(i);
    if (seedIdx.length === 0) seedIdx = Array.from({ length: c - m }, (_, i) => m + i);
    const counter = { numEval: 0 };
    let uniformPhase = state.uniformPhase;
    const newU = new Float64Array(m * D);
    const newL = new Float64Array(m);
    const newCost = new Float64Array(m);
    let todo = Array.from({ length: m }, (_, i) => i);
    if (fresh) {
      newU.set(fresh.u);
      newL.set(fresh.logL);
      newCost.set(fresh.cost);
      counter.numEval = fresh.numEval;
      todo = [];
    }
    if (uniformPhase && !fresh) {
      const r = uniformReplace(this.model, rng, m, lStar, counter);
      const left: number[] = [];
      for (let i = 0; i < m; i++) {
        if (r.filled[i]) {
          newU.set(r.u.subarray(i * D, (i + 1) * D), i * D);
          newL[i] = r.logL[i]!;
          newCost[i] = r.cost[i]!;
        } else {
          left.push(i);
          newCost[i] = r.cost[i]!;
        }
      }
      todo = left;
    }
    if (todo.length > 0) {
      const seedU = new Float64Array(seedIdx.length * D);
      const seedL = new Float64Array(seedIdx.length);
      seedIdx.forEach((s, j) => {
        for (let d = 0; d < D; d++) seedU[j * D + d] = state.liveU[s * D + d]!;
        seedL[j] = state.liveL[s]!;
      });
      const r = sliceReplace(this.model, rng, seedU, seedL, todo.length, lStar, { numSlices: this.numSlices, midpointShrink: this.midpointShrink }, counter);
      todo.forEach((slot, j) => {
        newU.set(r.u.subarray(j * D, (j + 1) * D), slot * D);
        newL[slot] = r.logL[j]!;
        newCost[slot] += r.cost[j]!;
      });
    }
    // merge survivors and new points, sorted by log L (ties: survivors first)
    const pool: { l: number; u: number[]; cost: number }[] = [];
    for (let i = m; i < c; i++) pool.push({ l: state.liveL[i]!, u: state.liveU.slice(i * D, (i + 1) * D), cost: state.liveCost[i]! });
    for (let i = 0; i < m; i++) pool.push({ l: newL[i]!, u: Array.from(newU.subarray(i * D, (i + 1) * D)), cost: newCost[i]! });
    pool.sort((a, b) => a.l - b.l);
    const liveU: number[] = [];
    for (const p of pool) liveU.push(...p.u);
    const liveCost = pool.map((p) => p.cost);
    if (uniformPhase) {
      const eff = c / liveCost.reduce((a, b) => a + b, 0);
      if (eff < this.initEfficiencyThreshold) uniformPhase = false;
    }
    const next: NestedSamplerState = {
      shell: state.shell + 1,
      liveU,
      liveL: pool.map((p) => p.l),
      liveCost,
      deadU,
      deadL,
      deadN,
      moments,
      numEval: state.numEval + counter.numEval,
      uniformPhase,
      logLStar: lStar,
    };
    const logZLive = logZWithLive(moments, next.liveL);
    return [next, { logLStar: lStar, numEval: next.numEval, logZ: moments.logZ, dlogZ: logZLive - moments.logZ }];
  }

  /** The termination bitmask of a state (0: carry on). */
  terminationMask(state: NestedSamplerState, cond: TerminationCond): number {
    const c = this.numLivePoints;
    let mask = 0;
    const B = TERMINATION_BITS;
    const maxSamples = Math.min(this.maxSamples, cond.maxSamples ?? Infinity);
    if (state.deadL.length + this.shellSize + c > maxSamples) mask |= B.maxSamples;
    const lo = state.liveL[0]!;
    const hi = state.liveL[c - 1]!;
    if (lo === hi) mask |= B.plateau;
    if (cond.dlogZ !== undefined && state.moments.logZ > -Infinity) {
      const d = logZWithLive(state.moments, state.liveL) - state.moments.logZ;
      if (d < cond.dlogZ) mask |= B.dlogZ;
    }
    // the ESS the results would report (dead and live): the dead points alone reach a target long before the bulk
    if (cond.ess !== undefined && summary(withLive(state.moments, state.liveL)).ESS >= cond.ess) mask |= B.ess;
    if (cond.maxNumLikelihoodEvaluations !== undefined && state.numEval >= cond.maxNumLikelihoodEvaluations) mask |= B.maxNumLikelihoodEvaluations;
    if (cond.logLContour !== undefined && state.logLStar >= cond.logLContour) mask |= B.logLContour;
    if (hi === -Infinity) mask |= B.noSeedPoints;
    return mask;
  }

  /** Runs shells until a termination condition holds; returns the results (live points added as dead). A NumericalError carries `.results`: those of the last finished shell. */
  async run(key: Tensor, options: NestedSamplerRunOptions = {}): Promise<NestedSamplerResults> {
    const op = 'ns.NestedSampler.run';
    checkKey(op, key);
    if (options === null || typeof options !== 'object') throw new ConfigError(`${op}: options must be an object.`);
    for (const k of Object.keys(options)) if (!RUN_KNOWN.includes(k)) throw new ConfigError(`${op}: unknown option '${k}' (known: ${RUN_KNOWN.join(', ')}).`);
    const cond = checkTermination(op, options.terminationCond ?? { dlogZ: Math.log1p(1e-3) });
    const initKey = options.resume === undefined ? foldIn(key, 0x7fffffff) : null;
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
    return withBackend('cpu', () => buildResults(this.model, state, mask, this.numLivePoints));
  }
}
