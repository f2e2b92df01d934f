/**
 * The background density of database samples: log q_bg(x) = log Σ_j w_j N(x; μ_j, Σ_j) over DB
 * Gaussians (§1.3 of the notes), memory-light; and for windows of the database, remembered between
 * calls.
 *
 * Every iteration asks for a window's background twice (the reused window, then the window with the
 * fresh samples), and consecutive windows overlap almost entirely: the same rows under mostly the
 * same Gaussians. With the component-based selector a window of 200·K samples spans many
 * iterations' Gaussians (≈200 at K = 20 on breast cancer), so recomputing every N(x_n; μ_j, Σ_j)
 * cost about 40% of an iteration. Each database state therefore remembers its last window's table
 * of component log densities (a host array: nothing for the caller to free), and a later window
 * computes only the pairs the table lacks: new rows under every Gaussian, old rows under new
 * Gaussians. A table entry is the number a full evaluation computes (a component log density does
 * not depend on which other rows or Gaussians share the call), and the sum over the Gaussians is
 * the same reduction either way, so the result is the same bit for bit. A window too large for a
 * table (TABLE_BUDGET) is evaluated directly, a block of rows at a time, and keeps none.
 *
 * A table is valid for its state and for every state that only appends to it (rows and Gaussian
 * indices are kept): `inheritWindowTable` passes it on. Halving renumbers both and a replaced
 * database has other rows, so those states start without one. Tables are kept by state identity (a
 * WeakMap), never in the state: a saved and restored state starts afresh, and a state made any
 * other way never reuses a table that might not be its own.
 */
import type { Tensor } from '../../tensor.js';
import { ConfigError, ShapeError } from '../../errors.js';
import { tidy } from '../../memory.js';
import { add, div, log } from '../../autodiff/ops/elementwise.js';
import { logsumexp, sum } from '../../autodiff/ops/reduce.js';
import { concat, expandDims, slice } from '../../autodiff/ops/shape.js';
import { take } from '../../autodiff/ops/indexing.js';
import { tensor, zeros } from '../../autodiff/ops/creation.js';
import { fmtShape } from '../../shape.js';
import type { TypedArray } from '../../dtype.js';
import { componentLogDensities, type GmmState } from './gmm.js';
import type { SampleDbState } from './sample-db.js';

/** Residual numbers (J · rows · d) per block of the memory-light evaluation. */
const BLOCK_BUDGET = 1 << 21;

/**
 * Past this many component log densities (256 MB in float64) a window keeps no table: PlanarRobot4's
 * 300 components reuse 60000 samples drawn by ≈900 Gaussians (54M). Breast cancer at K ≈ 45 needs
 * ≈9M: below the budget a window costs its new pairs, above it every pair, a cliff in the run's speed.
 */
let TABLE_BUDGET = 1 << 25;

/** @internal Sets the table budget (tests reach the path without a table with small problems); returns the old one. */
export function setTableBudget(n: number): number {
  const old = TABLE_BUDGET;
  TABLE_BUDGET = n;
  return old;
}

/**
 * log Σ_j exp(logW_j + c_jn) for component log densities c [J, N]: one logsumexp over all J, which
 * treats each column alone (a reduction over axis 0 accumulates each column in j order), so a
 * block of columns gives the same numbers as the whole table.
 */
const weightedLogSum = (logW: Tensor, table: Tensor): Tensor => logsumexp(add(table, expandDims(logW, -1)), { axis: 0 });

/**
 * log Σ_j w_j N(x; μ_j, L_j L_jᵀ) [N] for weights [J] (need not sum to 1; zero weights drop out),
 * evaluated a block of samples at a time under all J components, so memory stays
 * O(J · rows · d) with rows · J · d near 2M (gmmvi's `evaluate_background` goes one component at a
 * time). `opts.blockSize` sets the samples per block.
 */
export function evaluateBackground(weights: Tensor, means: Tensor, chols: Tensor, invChols: Tensor, samples: Tensor, opts?: { blockSize?: number }): Tensor {
  const op = 'gmmvi.SampleDB.evaluateBackground';
  if (means.ndim !== 2) throw new ShapeError(`${op}: means must be [J, d], got ${fmtShape(means.shape)}.`);
  const [j, d] = means.shape as [number, number];
  const diagonal = chols.ndim === 2;
  if (weights.ndim !== 1 || weights.shape[0] !== j) throw new ShapeError(`${op}: weights must be [${j}], got ${fmtShape(weights.shape)}.`);
  if (samples.ndim !== 2 || samples.shape[1] !== d) throw new ShapeError(`${op}: samples must be [N, ${d}], got ${fmtShape(samples.shape)}.`);
  if (j === 0) throw new ShapeError(`${op}: need at least one component.`);
  if (opts?.blockSize !== undefined && (!Number.isInteger(opts.blockSize) || opts.blockSize < 1)) throw new ConfigError(`${op}: blockSize must be a positive integer, got ${String(opts.blockSize)}.`);
  const n = samples.shape[0]!;
  const rows = opts?.blockSize ?? Math.max(1, Math.floor(BLOCK_BUDGET / (j * d)));
  return tidy(() => {
    const logW = log(weights);
    const gaussians: GmmState = { logWeights: logW, means, chols, invChols, diagonal };
    if (n <= rows) return weightedLogSum(logW, componentLogDensities(gaussians, samples));
    const parts: Tensor[] = [];
    for (let start = 0; start < n; start += rows) {
      const b = Math.min(rows, n - start);
      parts.push(weightedLogSum(logW, componentLogDensities(gaussians, slice(samples, [start, 0], [b, d]))));
    }
    return concat(parts, 0);
  });
}

/** A window's component log densities: rows [rowStart, rowEnd) of the database under its Gaussians. */
interface WindowTable {
  rowStart: number;
  rowEnd: number;
  /** DB Gaussian index → row of `values` */
  rowOf: Map<number, number>;
  /** [Gaussians, rowEnd − rowStart], row-major */
  values: TypedArray;
}

const tables = new WeakMap<SampleDbState, WindowTable>();
let pairsComputed = 0;

/** @internal (sample, Gaussian) pairs the window backgrounds have evaluated so far (tests check the reuse with it). */
export function windowPairsComputed(): number {
  return pairsComputed;
}

/** `next` holds the rows and Gaussians of `prev` at the same indices, and maybe more after them: it may use prev's table. */
export function inheritWindowTable(prev: SampleDbState, next: SampleDbState): void {
  const t = tables.get(prev);
  if (t && next !== prev) tables.set(next, t);
}

/**
 * log q_bg of the database rows [start, M) (`samples`, already sliced) under the DB Gaussians `used`
 * (in the window's first-occurrence order) with weights `counts / Σ counts`: evaluateBackground's
 * numbers, computing only what the state's remembered table lacks; the state then remembers this
 * window's table.
 */
export async function windowBackground(s: SampleDbState, start: number, samples: Tensor, used: readonly number[], counts: readonly number[]): Promise<Tensor> {
  const m = s.samples.shape[0]!;
  const w = m - start;
  const dt = s.samples.dtype;
  if (used.length * w > TABLE_BUDGET) {
    tables.delete(s);
    const idx = tensor(Int32Array.from(used), { dtype: 'int32' });
    const logPdfs = tidy(() => {
      const c = tensor(counts, { dtype: dt });
      return evaluateBackground(div(c, sum(c)), take(s.means, idx, 0), take(s.chols, idx, 0), take(s.invChols, idx, 0), samples);
    });
    idx.dispose();
    return logPdfs;
  }
  const prev = tables.get(s);
  const usable = prev !== undefined && prev.rowStart <= start && start < prev.rowEnd && prev.rowEnd <= m;
  const rowsKnown = usable ? prev.rowEnd - start : 0; // the window's first rowsKnown rows are in the table
  const known: number[] = []; // positions in `used` of Gaussians the table has
  const unknown: number[] = [];
  used.forEach((g, p) => (usable && prev.rowOf.has(g) ? known : unknown).push(p));
  const part = (positions: number[]): GmmState => {
    const idx = tensor(Int32Array.from(positions, (p) => used[p]!), { dtype: 'int32' });
    // componentLogDensities reads no weights; zeros stand in, shaped as a block's would be
    return { logWeights: zeros([positions.length], dt), means: take(s.means, idx, 0), chols: take(s.chols, idx, 0), invChols: take(s.invChols, idx, 0), diagonal: s.diagonalCovariances };
  };
  // the missing pairs: known Gaussians over the rows after the table, unknown ones over every row
  const freshKnown = known.length > 0 && rowsKnown < w ? tidy(() => componentLogDensities(part(known), slice(samples, [rowsKnown, 0], [w - rowsKnown, s.dim]))) : null;
  const freshUnknown = unknown.length > 0 ? tidy(() => componentLogDensities(part(unknown), samples)) : null;
  pairsComputed += (freshKnown ? known.length * (w - rowsKnown) : 0) + (freshUnknown ? unknown.length * w : 0);
  const fk = freshKnown && (await freshKnown.data());
  const fu = freshUnknown && (await freshUnknown.data());
  freshKnown?.dispose();
  freshUnknown?.dispose();
  const values = (dt === 'float32' ? new Float32Array(used.length * w) : new Float64Array(used.length * w)) as TypedArray;
  const rowOf = new Map<number, number>();
  const prevWidth = usable ? prev.rowEnd - prev.rowStart : 0;
  const fromPrev = start - (usable ? prev.rowStart : 0);
  known.forEach((p, i) => {
    const r = prev!.rowOf.get(used[p]!)!;
    values.set(prev!.values.subarray(r * prevWidth + fromPrev, r * prevWidth + fromPrev + rowsKnown), p * w);
    if (fk) values.set(fk.subarray(i * (w - rowsKnown), (i + 1) * (w - rowsKnown)), p * w + rowsKnown);
  });
  unknown.forEach((p, i) => values.set(fu!.subarray(i * w, (i + 1) * w), p * w));
  used.forEach((g, p) => rowOf.set(g, p));
  tables.set(s, { rowStart: start, rowEnd: m, rowOf, values });
  return tidy(() => {
    const table = tensor(values, { shape: [used.length, w], dtype: dt });
    const c = tensor(counts, { dtype: dt });
    const logW = log(div(c, sum(c)));
    return weightedLogSum(logW, table);
  });
}

