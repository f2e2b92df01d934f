/**
 * A sample collector: burn-in, thinning, the kept samples as a stacked pytree, and running
 * moments (Welford) of the flattened parameters. Values are copied to the host as they are
 * collected, so the device holds nothing for the collector and states can be disposed at once.
 */
import type { Tensor } from '../../tensor.js';
import { Tensor as TensorClass } from '../../tensor.js';
import { ConfigError, ShapeError } from '../../errors.js';
import { flatten, unflatten, describeDef, defsEqual, type PyTree, type TreeDef } from '../../autodiff/tree.js';
import { tensor } from '../../autodiff/ops/creation.js';
import type { FloatDType } from '../../dtype.js';
import { checkKnown } from './common.js';
import { summary, type SummaryRow } from '../../diagnostics/summary.js';

/** Options of `collect`: burn-in, thinning, what to keep and from which part of the state. */
export interface CollectOptions {
  /** Steps to discard: a state is kept only if state.step ≥ burnIn (default 0). */
  burnIn?: number;
  /** Keep every thin-th state after burn-in (default 1). */
  thin?: number;
  /** Keep the samples themselves (default true); false keeps only the running moments. */
  keepSamples?: boolean;
  /** 'full' (default up to 512 parameters), 'diag' (default above), or 'none'. */
  covariance?: 'full' | 'diag' | 'none';
  /** Leaves have a leading chain axis (states of sgmcmc.parallel): each chain's draw counts as a sample, and per-chain moments are kept too. */
  chains?: boolean;
  /** What to collect from a state (default state => state.params). */
  select?: (state: any) => PyTree;
}

/** Any sampler state (single or parallel chains): a step count plus tensors. */
export interface CollectableState {
  step: number;
  [field: string]: unknown;
}

/** Keeps sampler states' draws on the host, with running moments and diagnostics (`summary()`). */
export interface Collector {
  /** Offers a state; returns whether it was kept. Needs a backend that reads synchronously (CPU); use pushAsync otherwise. */
  push(state: CollectableState): boolean;
  /** Offers a state on any backend (reads asynchronously); returns whether it was kept. */
  pushAsync(state: CollectableState): Promise<boolean>;
  /** Kept draws (per chain: kept steps × chains). */
  readonly count: number;
  /** Kept steps. */
  readonly steps: number;
  /** Dimension of the flattened parameters (per chain). */
  readonly dim: number;
  /** The kept samples as a pytree like params with a leading sample axis ([S, ...] or [S, C, ...] for chains). */
  samples(): PyTree;
  /** The kept samples flattened: a host array S × D (or S × C × D), row-major. */
  samplesFlat(): Float64Array;
  /** Running mean of the flattened params as a pytree like params (pooled over chains). */
  mean(): PyTree;
  /** Running mean as a host vector of length D (pooled over chains). */
  meanFlat(): Float64Array;
  /** Sample covariance (n − 1 denominator) of the flattened params: [D, D] for 'full', [D] for 'diag' (pooled over chains). */
  cov(): Tensor;
  /** The covariance as a host array (row-major [D, D] for 'full', [D] for 'diag'). */
  covFlat(): Float64Array;
  /** Per-chain running means, [C, D] on the host (chains: true only). */
  chainMeansFlat(): Float64Array;
  /** The kept draws in the diagnostics layout [chains, steps, D] on the host (one chain without chains: true). */
  draws(): { data: Float64Array; shape: [number, number, number] };
  /** Names of the D flattened parameters, from the tree's keys and the leaves' indices (e.g. 'w[3]', 'b[0]'). */
  names(): string[];
  /** bt.diagnostics.summary of the kept draws: mean, sd, MCSE, bulk/tail ESS and rank-normalised split-R̂ per flattened parameter. */
  summary(): SummaryRow[];
  /** Forgets everything. */
  reset(): void;
}

/** Path names of a tree's leaves: object keys joined by '.', array positions as [i]. */
function leafPaths(def: TreeDef, prefix = ''): string[] {
  if (def.kind === 'leaf') return [prefix];
  if (def.kind === 'array') return def.children.flatMap((c, i) => leafPaths(c, `${prefix}[${i}]`));
  return def.children.flatMap((c, i) => leafPaths(c, prefix ? `${prefix}.${def.keys[i]}` : def.keys[i]!));
}

/** Row-major multi-indices of a shape as 'i,j' strings. */
function indexNames(shape: number[]): string[] {
  const size = shape.reduce((p, x) => p * x, 1);
  return Array.from({ length: size }, (_, j) => {
    const idx: number[] = [];
    for (let k = shape.length - 1, r = j; k >= 0; k--) {
      idx.unshift(r % shape[k]!);
      r = Math.floor(r / shape[k]!);
    }
    return idx.join(',');
  });
}

/** A collector: offer it states with push/pushAsync (or pass it to run); read samples, moments and summary(). */
export function collect(options: CollectOptions = {}): Collector {
  checkKnown('sgmcmc.collect', options, ['burnIn', 'thin', 'keepSamples', 'covariance', 'chains', 'select']);
  const burnIn = options.burnIn ?? 0;
  const thin = options.thin ?? 1;
  if (!Number.isInteger(burnIn) || burnIn < 0) throw new ConfigError(`sgmcmc.collect: burnIn must be a non-negative integer, got ${burnIn}.`);
  if (!Number.isInteger(thin) || thin < 1) throw new ConfigError(`sgmcmc.collect: thin must be a positive integer, got ${thin}.`);
  if (options.covariance !== undefined && !['full', 'diag', 'none'].includes(options.covariance)) {
    throw new ConfigError(`sgmcmc.collect: covariance must be 'full', 'diag' or 'none', got '${String(options.covariance)}'.`);
  }
  const keepSamples = options.keepSamples ?? true;
  const chains = options.chains ?? false;
  const select = options.select ?? ((s: { params: PyTree }) => s.params);

  let def: TreeDef | null = null;
  let shapes: number[][] = [];
  let dtype: FloatDType = 'float64';
  let C = 1;
  let D = 0;
  let covMode: 'full' | 'diag' | 'none' = 'full';
  let n = 0;
  let kept = 0;
  let mean = new Float64Array(0);
  let m2 = new Float64Array(0);
  let chainMean = new Float64Array(0);
  let store = new Float64Array(0);
  let delta = new Float64Array(0);

  const setup = (ls: Tensor[], d: TreeDef) => {
    def = d;
    dtype = ls[0]!.dtype as FloatDType;
    if (chains) {
      C = ls[0]!.shape[0] ?? 0;
      ls.forEach((l, i) => {
        if (l.shape[0] !== C) throw new ShapeError(`sgmcmc.collect: with chains: true every leaf needs the same leading chain axis; leaf ${i} has shape [${l.shape.join(', ')}], leaf 0 has ${C} chains.`);
      });
      shapes = ls.map((l) => l.shape.slice(1));
    } else shapes = ls.map((l) => [...l.shape]);
    D = shapes.reduce((s, sh) => s + sh.reduce((p, x) => p * x, 1), 0);
    covMode = options.covariance ?? (D <= 512 ? 'full' : 'diag');
    mean = new Float64Array(D);
    m2 = new Float64Array(covMode === 'full' ? D * D : covMode === 'diag' ? D : 0);
    chainMean = new Float64Array(chains ? C * D : 0);
    delta = new Float64Array(D);
    store = new Float64Array(keepSamples ? 1024 * C * D : 0);
  };

  const wanted = (state: CollectableState) => {
    if (state === null || typeof state !== 'object' || typeof state.step !== 'number') throw new ConfigError('sgmcmc.collect: push(state) needs a sampler state (with a numeric step).');
    return state.step >= burnIn && (state.step - burnIn) % thin === 0;
  };

  const leavesOf = (state: unknown): [Tensor[], TreeDef] => {
    const [ls, d] = flatten(select(state as { params: PyTree }));
    ls.forEach((l, i) => {
      if (!(l instanceof TensorClass)) throw new ConfigError(`sgmcmc.collect: leaf ${i} of the selected tree is not a Tensor.`);
    });
    if (def === null) setup(ls as Tensor[], d);
    else if (!defsEqual(def, d)) throw new ShapeError(`sgmcmc.collect: the state's params changed structure: ${describeDef(def)} vs ${describeDef(d)}.`);
    return [ls as Tensor[], d];
  };

  const ingest = (vals: ArrayLike<number>[]) => {
    // vals[i] is leaf i's data: [C, ...] (chains) or [...]
    const row = new Float64Array(C * D);
    let off = 0;
    vals.forEach((v, i) => {
      const sz = shapes[i]!.reduce((p, x) => p * x, 1);
      if (v.length !== C * sz) throw new ShapeError(`sgmcmc.collect: leaf ${i} has ${v.length} entries, expected ${C * sz}.`);
      for (let c = 0; c < C; c++) for (let j = 0; j < sz; j++) row[c * D + off + j] = v[c * sz + j]!;
      off += sz;
    });
    if (keepSamples) {
      if ((kept + 1) * C * D > store.length) {
        const bigger = new Float64Array(Math.max(store.length * 2, (kept + 1) * C * D));
        bigger.set(store);
        store = bigger;
      }
      store.set(row, kept * C * D);
    }
    kept++;
    for (let c = 0; c < C; c++) {
      n++;
      const base = c * D;
      for (let j = 0; j < D; j++) {
        const d0 = row[base + j]! - mean[j]!;
        delta[j] = d0;
        mean[j]! += d0 / n;
      }
      if (covMode === 'full') {
        for (let a = 0; a < D; a++) {
          const da = delta[a]!;
          const rowOff = a * D;
          for (let b = 0; b < D; b++) m2[rowOff + b]! += da * (row[base + b]! - mean[b]!);
        }
      } else if (covMode === 'diag') {
        for (let a = 0; a < D; a++) m2[a]! += delta[a]! * (row[base + a]! - mean[a]!);
      }
      if (chains) for (let j = 0; j < D; j++) chainMean[base + j]! += (row[base + j]! - chainMean[base + j]!) / kept;
    }
  };

  const toTree = (flat: Float64Array, lead: number[]): PyTree => {
    if (def === null) throw new ConfigError('sgmcmc.collect: nothing has been collected yet.');
    const leadSize = lead.reduce((p, x) => p * x, 1);
    let off = 0;
    const out = shapes.map((sh) => {
      const sz = sh.reduce((p, x) => p * x, 1);
      const data = new Float64Array(leadSize * sz);
      for (let r = 0; r < leadSize; r++) for (let j = 0; j < sz; j++) data[r * sz + j] = flat[r * D + off + j]!;
      off += sz;
      const t = tensor(dtype === 'float32' ? Float32Array.from(data) : data, { shape: [...lead, ...sh], dtype });
      return t;
    });
    return unflatten(def, out);
  };

  return {
    push(state) {
      if (!wanted(state)) return false;
      const [ls] = leavesOf(state);
      ingest(ls.map((l) => l.dataSync()));
      return true;
    },
    async pushAsync(state) {
      if (!wanted(state)) return false;
      const [ls] = leavesOf(state);
      ingest(await Promise.all(ls.map((l) => l.data())));
      return true;
    },
    get count() {
      return n;
    },
    get steps() {
      return kept;
    },
    get dim() {
      return D;
    },
    samples() {
      if (!keepSamples) throw new ConfigError('sgmcmc.collect: samples were not kept (keepSamples: false).');
      return toTree(store.subarray(0, kept * C * D), chains ? [kept, C] : [kept]);
    },
    samplesFlat() {
      if (!keepSamples) throw new ConfigError('sgmcmc.collect: samples were not kept (keepSamples: false).');
      return store.slice(0, kept * C * D);
    },
    mean() {
      return toTree(mean, []);
    },
    meanFlat() {
      return mean.slice();
    },
    cov() {
      const c = this.covFlat();
      return tensor(c, { shape: covMode === 'full' ? [D, D] : [D], dtype: 'float64' });
    },
    covFlat() {
      if (covMode === 'none') throw new ConfigError("sgmcmc.collect: covariance: 'none' keeps no covariance.");
      if (n < 2) throw new ConfigError(`sgmcmc.collect: a covariance needs at least 2 samples, have ${n}.`);
      return m2.map((v) => v / (n - 1));
    },
    chainMeansFlat() {
      if (!chains) throw new ConfigError('sgmcmc.collect: chainMeansFlat() needs chains: true.');
      return chainMean.slice();
    },
    draws() {
      if (!keepSamples) throw new ConfigError('sgmcmc.collect: draws() needs the samples (keepSamples: true).');
      // stored [steps, chains, D] → [chains, steps, D]
      const data = new Float64Array(kept * C * D);
      for (let s = 0; s < kept; s++) for (let c = 0; c < C; c++) data.set(store.subarray((s * C + c) * D, (s * C + c + 1) * D), (c * kept + s) * D);
      return { data, shape: [C, kept, D] };
    },
    names() {
      if (def === null) throw new ConfigError('sgmcmc.collect: nothing has been collected yet.');
      const paths = leafPaths(def);
      return shapes.flatMap((sh, i) => {
        const p = paths[i] || 'x';
        return sh.length === 0 ? [p] : indexNames(sh).map((ix) => `${p}[${ix}]`);
      });
    },
    summary() {
      if (kept < 4) throw new ConfigError(`sgmcmc.collect: summary() needs at least 4 kept steps per chain, have ${kept} (lower burnIn or thin, or run longer).`);
      return summary(this.draws(), { names: this.names() });
    },
    reset() {
      def = null;
      n = 0;
      kept = 0;
    },
  };
}
