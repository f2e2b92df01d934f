/**
 * SampleDB (§1.3 of the notes): every target evaluation GMMVI made, with the Gaussian that drew
 * each sample, so that old samples can be reused by importance weighting against "the mixture that
 * effectively generated the window". Functional core (`SampleDbState`, functions returning new
 * states) under a thin mutable `SampleDB` class with gmmvi's method names.
 *
 * The paths that need the sample-to-Gaussian mapping on the host (halving, the background mixture
 * of a window) are async: they read int32 indices, and the window background also reads the
 * component log densities it adds to its state's table (background.ts); never the samples.
 */
import { Tensor } from '../../tensor.js';
import { ConfigError, DTypeError, ShapeError } from '../../errors.js';
import { tidy } from '../../memory.js';
import { add } from '../../autodiff/ops/elementwise.js';
import { concat, slice } from '../../autodiff/ops/shape.js';
import { take } from '../../autodiff/ops/indexing.js';
import { defaultFloat, tensor, zeros } from '../../autodiff/ops/creation.js';
import { permutation } from '../../random.js';
import { fmtShape } from '../../shape.js';
import type { FloatDType } from '../../dtype.js';
import { invertChols } from './gmm.js';
import { disposeReplaced } from './gmm-class.js';
import { evaluateBackground, inheritWindowTable, windowBackground } from './background.js';

export { evaluateBackground };

/** The database: samples with their target values and gradients, and the Gaussians that drew them. */
export interface SampleDbState {
  /** the dimension d */
  dim: number;
  /** whether the stored Gaussians have diagonal covariances (chols [G, d]) */
  diagonalCovariances: boolean;
  /** false: every `addSamples` replaces the database (gmmvi's `use_sample_database: False`) */
  keepSamples: boolean;
  /** halve the database before an add that would exceed this many samples (null: no limit) */
  maxSamples: number | null;
  /** x [M, d] */
  samples: Tensor;
  /** log p̃(x) [M] */
  targetLnpdfs: Tensor;
  /** ∇ log p̃(x) [M, d] */
  targetGrads: Tensor;
  /** index of the DB Gaussian that drew each sample [M] (int32) */
  mapping: Tensor;
  /** the DB's Gaussians: means [G, d] */
  means: Tensor;
  /** L [G, d, d] or σ [G, d] */
  chols: Tensor;
  /** L⁻¹ [G, d, d] or 1/σ [G, d] */
  invChols: Tensor;
  /** every sample ever added (target evaluations), including those halved away or replaced */
  numSamplesWritten: number;
}

/**
 * The newest window of the database and its background log density. A window over the whole
 * database shares the database's tensors (a full slice is the tensor itself): free a window with
 * `disposeReplaced(window, db.state)`, not `dispose`.
 */
export interface NewestSamples {
  /** log q_bg(x) [n]: the count-weighted mixture of the Gaussians that drew the window */
  logPdfs: Tensor;
  /** x [n, d] */
  samples: Tensor;
  /** DB Gaussian per sample [n] (int32, global DB indices) */
  mapping: Tensor;
  /** log p̃(x) [n] */
  targetLnpdfs: Tensor;
  /** ∇ log p̃(x) [n, d] */
  targetGrads: Tensor;
}

const OP = 'gmmvi.SampleDB';

/** An empty database. `dtype` defaults to the current backend's float. */
export function createSampleDb(dim: number, diagonalCovariances: boolean, keepSamples: boolean, maxSamples?: number | null, dtype?: FloatDType): SampleDbState {
  if (!Number.isInteger(dim) || dim < 1) throw new ConfigError(`${OP}: dim must be a positive integer, got ${String(dim)}.`);
  if (typeof diagonalCovariances !== 'boolean') throw new ConfigError(`${OP}: diagonalCovariances must be true or false, got ${String(diagonalCovariances)}.`);
  if (typeof keepSamples !== 'boolean') throw new ConfigError(`${OP}: keepSamples must be true or false, got ${String(keepSamples)}.`);
  if (maxSamples !== undefined && maxSamples !== null && (!Number.isInteger(maxSamples) || maxSamples < 1)) {
    throw new ConfigError(`${OP}: maxSamples must be a positive integer or null, got ${String(maxSamples)}.`);
  }
  const dt = (dtype ?? defaultFloat()) as FloatDType;
  if (dt !== 'float64' && dt !== 'float32') throw new DTypeError(`${OP}: dtype must be float64 or float32, got ${String(dt)}.`);
  const factor = diagonalCovariances ? [0, dim] : [0, dim, dim];
  return {
    dim, diagonalCovariances, keepSamples, maxSamples: maxSamples ?? null,
    samples: zeros([0, dim], dt), targetLnpdfs: zeros([0], dt), targetGrads: zeros([0, dim], dt),
    mapping: tensor(new Int32Array(0), { dtype: 'int32' }),
    means: zeros([0, dim], dt), chols: zeros(factor, dt), invChols: zeros(factor, dt),
    numSamplesWritten: 0,
  };
}

function section(config: Record<string, unknown>, name: string): unknown {
  if (!(name in config)) throw new ConfigError(`${OP}.buildFromConfig: config.${name} is missing.`);
  return config[name];
}

/**
 * gmmvi's `SampleDB.build_from_config`: diagonal from `model_initialization.use_diagonal_covs`,
 * keepSamples from `use_sample_database`, maxSamples from `max_database_size`.
 */
export function sampleDbFromConfig(config: Record<string, unknown>, numDimensions: number, dtype?: FloatDType): SampleDbState {
  if (config === null || typeof config !== 'object') throw new ConfigError(`${OP}.buildFromConfig: config must be an object.`);
  const init = section(config, 'model_initialization');
  if (init === null || typeof init !== 'object') throw new ConfigError(`${OP}.buildFromConfig: config.model_initialization must be an object.`);
  if (!('use_diagonal_covs' in init)) throw new ConfigError(`${OP}.buildFromConfig: config.model_initialization.use_diagonal_covs is missing.`);
  const max = section(config, 'max_database_size');
  return createSampleDb(numDimensions, (init as Record<string, unknown>).use_diagonal_covs as boolean, section(config, 'use_sample_database') as boolean, max === null ? null : Math.floor(max as number), dtype);
}

/** Rows of an int32 tensor on the host. */
async function readInts(t: Tensor): Promise<Int32Array> {
  return (await t.data()) as Int32Array;
}

const M = (s: SampleDbState) => s.samples.shape[0]!;
const G = (s: SampleDbState) => s.means.shape[0]!;
const ints = (v: ArrayLike<number>) => tensor(Int32Array.from(v as ArrayLike<number>), { dtype: 'int32' });

/** Distinct values of `mapping` in first-occurrence order, and each entry's position among them (tf.unique). */
function unique(mapping: Int32Array): { used: number[]; remapped: Int32Array; counts: number[] } {
  const pos = new Map<number, number>();
  const used: number[] = [];
  const counts: number[] = [];
  const remapped = new Int32Array(mapping.length);
  for (let i = 0; i < mapping.length; i++) {
    const g = mapping[i]!;
    let p = pos.get(g);
    if (p === undefined) {
      p = used.length;
      pos.set(g, p);
      used.push(g);
      counts.push(0);
    }
    counts[p]!++;
    remapped[i] = p;
  }
  return { used, remapped, counts };
}

/**
 * Keeps rows 0, n, 2n, … of the samples and their data, then drops the DB Gaussians no sample
 * refers to any more and renumbers the mapping (first-occurrence order, as tf.unique).
 */
export async function removeEveryNthSample(s: SampleDbState, n: number): Promise<SampleDbState> {
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${OP}.removeEveryNthSample: n must be a positive integer, got ${String(n)}.`);
  const m = M(s);
  const rows = ints(Array.from({ length: Math.ceil(m / n) }, (_, i) => i * n));
  const mapping = tidy(() => take(s.mapping, rows, 0));
  const { used, remapped } = unique(await readInts(mapping));
  mapping.dispose();
  const usedT = ints(used);
  const next = tidy(() => ({
    ...s,
    samples: take(s.samples, rows, 0),
    targetLnpdfs: take(s.targetLnpdfs, rows, 0),
    targetGrads: take(s.targetGrads, rows, 0),
    mapping: ints(remapped),
    means: take(s.means, usedT, 0),
    chols: take(s.chols, usedT, 0),
    invChols: take(s.invChols, usedT, 0),
  }));
  rows.dispose();
  usedT.dispose();
  return next;
}

function expectShape(name: string, t: unknown, shape: readonly number[], dtype: string): Tensor {
  if (!(t instanceof Tensor)) throw new ConfigError(`${OP}.addSamples: ${name} must be a Tensor ${fmtShape(shape)}.`);
  if (t.ndim !== shape.length || t.shape.some((v, i) => shape[i]! >= 0 && v !== shape[i])) {
    const want = `[${shape.map((v) => (v < 0 ? '·' : String(v))).join(', ')}]`;
    throw new ShapeError(`${OP}.addSamples: ${name} must be ${want} for a ${shape[shape.length - 1]}-dimensional database, got ${fmtShape(t.shape)}.`);
  }
  if (t.dtype !== dtype) throw new DTypeError(`${OP}.addSamples: ${name} is ${t.dtype}, expected ${dtype}.`);
  return t;
}

/**
 * Adds N samples drawn from the Gaussians (means [G′, d], chols [G′, d, d] or [G′, d]; mapping [N]
 * indexes them) with their target values [N] and gradients [N, d]. All G′ Gaussians are appended to
 * the DB's list (mapping offset by the old G). If `maxSamples` would be exceeded, the database is
 * first halved once (rows 0, 2, 4, …). With keepSamples false the database is replaced instead.
 * numSamplesWritten counts the N new samples either way.
 */
export async function addSamples(s: SampleDbState, samples: Tensor, means: Tensor, chols: Tensor, targetLnpdfs: Tensor, targetGrads: Tensor, mapping: Tensor): Promise<SampleDbState> {
  const d = s.dim;
  const dt = s.samples.dtype;
  expectShape('samples', samples, [-1, d], dt);
  const n = samples.shape[0]!;
  expectShape('means', means, [-1, d], dt);
  const g = means.shape[0]!;
  expectShape('chols', chols, s.diagonalCovariances ? [g, d] : [g, d, d], dt);
  expectShape('targetLnpdfs', targetLnpdfs, [n], dt);
  expectShape('targetGrads', targetGrads, [n, d], dt);
  expectShape('mapping', mapping, [n], 'int32');
  let cur = s;
  if (s.maxSamples !== null && M(s) + n > s.maxSamples) cur = await removeEveryNthSample(s, 2);
  const invChols = invertChols(chols, s.diagonalCovariances);
  const written = s.numSamplesWritten + n;
  if (!s.keepSamples) {
    // own copies: the caller's tensors (the model's means and chols, say) may be freed by their owner
    const own = tidy(() => ({ samples: add(samples, 0), targetLnpdfs: add(targetLnpdfs, 0), targetGrads: add(targetGrads, 0), mapping: add(mapping, 0), means: add(means, 0), chols: add(chols, 0) }));
    if (cur !== s) disposeReplaced(cur, s);
    return { ...cur, ...own, invChols, numSamplesWritten: written };
  }
  const next = tidy(() => ({
    ...cur,
    samples: concat([cur.samples, samples]),
    targetLnpdfs: concat([cur.targetLnpdfs, targetLnpdfs]),
    targetGrads: concat([cur.targetGrads, targetGrads]),
    mapping: concat([cur.mapping, add(mapping, G(cur))]),
    means: concat([cur.means, means]),
    chols: concat([cur.chols, chols]),
    invChols: concat([cur.invChols, invChols]),
    numSamplesWritten: written,
  }));
  invChols.dispose();
  if (cur !== s) disposeReplaced(cur, next); // halved: rows and Gaussians renumbered
  else inheritWindowTable(s, next); // appended: rows and Gaussians keep their indices
  return next;
}

/**
 * The newest min(n, M) samples with their data, and log q_bg(x) of the count-weighted mixture of
 * the DB Gaussians that drew them (weights c_j / Σc over the Gaussians with ≥ 1 sample in the
 * window). Empty database or n = 0: empty tensors.
 */
export async function getNewestSamples(s: SampleDbState, n: number): Promise<NewestSamples> {
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`${OP}.getNewestSamples: n must be a non-negative integer, got ${String(n)}.`);
  const m = M(s);
  const dt = s.samples.dtype;
  if (m === 0 || n === 0) {
    return { logPdfs: zeros([0], dt), samples: zeros([0, s.dim], dt), mapping: tensor(new Int32Array(0), { dtype: 'int32' }), targetLnpdfs: zeros([0], dt), targetGrads: zeros([0, s.dim], dt) };
  }
  const start = Math.max(0, m - n);
  const w = m - start;
  const win = tidy(() => ({
    samples: slice(s.samples, [start, 0], [w, s.dim]),
    mapping: slice(s.mapping, [start], [w]),
    targetLnpdfs: slice(s.targetLnpdfs, [start], [w]),
    targetGrads: slice(s.targetGrads, [start, 0], [w, s.dim]),
  }));
  const { used, counts } = unique(await readInts(win.mapping));
  // evaluateBackground over the Gaussians `used` with weights counts/Σcounts, from what the last window computed
  const logPdfs = await windowBackground(s, start, win.samples, used, counts);
  return { logPdfs, ...win };
}

/** min(n, M) samples drawn uniformly without replacement, with their target values (for the add heuristic). */
export function getRandomSample(s: SampleDbState, n: number, key: Tensor): { samples: Tensor; targetLnpdfs: Tensor } {
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`${OP}.getRandomSample: n must be a non-negative integer, got ${String(n)}.`);
  const m = M(s);
  const k = Math.min(n, m);
  return tidy(() => {
    const idx = slice(permutation(key, m), [0], [k]);
    return { samples: take(s.samples, idx, 0), targetLnpdfs: take(s.targetLnpdfs, idx, 0) };
  });
}

/** gmmvi's `SampleDB` as a mutable face over the functional core (`state` is replaced by each add). */
export class SampleDB {
  /** the current database */
  state: SampleDbState;

  /** An empty database for d-dimensional samples (`dtype`: the backend's default float unless given). */
  constructor(dim: number, diagonalCovariances: boolean, keepSamples: boolean, maxSamples?: number | null, dtype?: FloatDType) {
    this.state = createSampleDb(dim, diagonalCovariances, keepSamples, maxSamples, dtype);
  }

  /** gmmvi's `SampleDB.build_from_config(config, num_dimensions)`. */
  static buildFromConfig(config: Record<string, unknown>, numDimensions: number, dtype?: FloatDType): SampleDB {
    const s = sampleDbFromConfig(config, numDimensions, dtype);
    const db = new SampleDB(s.dim, s.diagonalCovariances, s.keepSamples, s.maxSamples, s.samples.dtype as FloatDType);
    db.state = s;
    return db;
  }

  /** every sample ever added (target evaluations) */
  get numSamplesWritten(): number {
    return this.state.numSamplesWritten;
  }
  /** samples currently stored */
  get numSamples(): number {
    return M(this.state);
  }
  /** Gaussians currently stored */
  get numGaussians(): number {
    return G(this.state);
  }

  /** Adds samples and the Gaussians that drew them (see the function `addSamples`). */
  async addSamples(samples: Tensor, means: Tensor, chols: Tensor, targetLnpdfs: Tensor, targetGrads: Tensor, mapping: Tensor): Promise<void> {
    const next = await addSamples(this.state, samples, means, chols, targetLnpdfs, targetGrads, mapping);
    disposeReplaced(this.state, next);
    this.state = next;
  }
  /** Keeps rows 0, n, 2n, … (and the Gaussians they use). */
  async removeEveryNthSample(n: number): Promise<void> {
    const next = await removeEveryNthSample(this.state, n);
    disposeReplaced(this.state, next);
    this.state = next;
  }
  /** The newest min(n, M) samples and their background log density. */
  getNewestSamples(n: number): Promise<NewestSamples> {
    return getNewestSamples(this.state, n);
  }
  /** min(n, M) uniformly chosen samples and their target values. */
  getRandomSample(n: number, key: Tensor): { samples: Tensor; targetLnpdfs: Tensor } {
    return getRandomSample(this.state, n, key);
  }
  /** log Σ_j w_j N(x; μ_j, Σ_j), memory-light (see the function `evaluateBackground`). */
  evaluateBackground(weights: Tensor, means: Tensor, chols: Tensor, invChols: Tensor, samples: Tensor, opts?: { blockSize?: number }): Tensor {
    return evaluateBackground(weights, means, chols, invChols, samples, opts);
  }
}
