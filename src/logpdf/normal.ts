import { Tensor } from '../tensor.js';
import { add, div, log, mul, square, sub } from '../autodiff/ops/elementwise.js';
import { sum } from '../autodiff/ops/reduce.js';
import { full } from '../autodiff/ops/creation.js';
import { assertSameStructure, flatten, type PyTree } from '../autodiff/tree.js';
import { ConfigError, ShapeError } from '../errors.js';
import { broadcastShapes, fmtShape, shapesEqual } from '../shape.js';
import { checkBoolean, checkKeys, describeValue } from '../validate.js';
import { leafPaths } from '../optim/treeutil.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** Whether a log density includes its normalising constant. */
export interface NormalizeOption {
  /** include −½log 2π − log σ per element; default true */
  normalize?: boolean;
}

function normalizeOpt(op: string, opts: NormalizeOption | undefined): boolean {
  checkKeys(op, opts, ['normalize']);
  return checkBoolean(op, 'normalize', opts?.normalize ?? true);
}

function checkParam(op: string, name: string, v: unknown): Tensor | number {
  if (v instanceof Tensor) return v;
  if (typeof v === 'number') {
    if (name === 'sd' && !(v > 0)) throw new ConfigError(`${op}: sd must be > 0, got ${v}.`);
    if (!Number.isFinite(v)) throw new ConfigError(`${op}: ${name} must be finite, got ${v}.`);
    return v;
  }
  throw new ConfigError(`${op}: ${name} must be a Tensor or a number, got ${describeValue(v)}.`);
}

/**
 * Elementwise log N(x | mean, sd²), broadcasting x, mean and sd together (scipy.stats.norm.logpdf).
 * normalize: false keeps only −½((x − mean)/sd)², the part that depends on x.
 * A Tensor sd is not checked for positivity (that would need a device read): sd ≤ 0 gives NaN.
 */
export function normal(x: Tensor, mean: Tensor | number, sd: Tensor | number, opts?: NormalizeOption): Tensor {
  const op = 'logpdf.normal';
  const norm = normalizeOpt(op, opts);
  if (!(x instanceof Tensor)) throw new ConfigError(`${op}: x must be a Tensor, got ${describeValue(x)}.`);
  const m = checkParam(op, 'mean', mean);
  const s = checkParam(op, 'sd', sd);
  const quad = mul(square(div(sub(x, m), s)), -0.5);
  if (!norm) return quad;
  const logSd = typeof s === 'number' ? Math.log(s) : log(s);
  return sub(sub(quad, logSd), HALF_LOG_2PI);
}

/** A scalar, or leaves matching x's structure (a Tensor when x is a Tensor). */
function paramLeaves(op: string, name: string, v: unknown, xDef: ReturnType<typeof flatten>[1], n: number): (Tensor | number)[] {
  if (typeof v === 'number') return new Array<Tensor | number>(n).fill(checkParam(op, name, v));
  const [ls, def] = flatten(v);
  assertSameStructure(op, xDef, def, `x and ${name}`);
  return ls.map((l, i) => {
    if (l instanceof Tensor || typeof l === 'number') return checkParam(op, name, l);
    throw new ConfigError(`${op}: ${name} leaf '${leafPaths(def)[i]}' must be a Tensor or a number, got ${describeValue(l)}.`);
  });
}

/**
 * Σ log N(xᵢ | meanᵢ, sdᵢ²) over every element of every leaf: the log density of a diagonal
 * Gaussian on a whole parameter pytree (posteriors' diag_normal_log_prob). mean and sd are
 * numbers (shared by all leaves) or pytrees like x whose leaves broadcast to x's leaves.
 * normalize: false drops −½log 2π − log σ per element, leaving Σ −½((x − mean)/sd)², as
 * posteriors does: with a fixed sd the dropped part is a constant, and priors in SG-MCMC
 * only need gradients.
 */
export function diagNormal(x: PyTree, mean: PyTree | number, sd: PyTree | number, opts?: NormalizeOption): Tensor {
  const op = 'logpdf.diagNormal';
  const norm = normalizeOpt(op, opts);
  const [xs, def] = flatten(x);
  const paths = leafPaths(def);
  xs.forEach((l, i) => {
    if (!(l instanceof Tensor)) throw new ConfigError(`${op}: x leaf '${paths[i]}' must be a Tensor, got ${describeValue(l)}.`);
  });
  const ms = paramLeaves(op, 'mean', mean, def, xs.length);
  const ss = paramLeaves(op, 'sd', sd, def, xs.length);
  let total: Tensor | null = null;
  let constant = 0; // host part of the normaliser
  (xs as Tensor[]).forEach((xl, i) => {
    const m = ms[i]!;
    const s = ss[i]!;
    for (const [name, p] of [['mean', m], ['sd', s]] as const) {
      if (p instanceof Tensor && !shapesEqual(broadcastShapes(op, xl.shape, p.shape), xl.shape)) {
        throw new ShapeError(`${op}: ${name} ${fmtShape(p.shape)} does not broadcast to x ${fmtShape(xl.shape)} at leaf '${paths[i]}' (it would enlarge the sum).`);
      }
    }
    let term = mul(sum(square(div(sub(xl, m), s))), -0.5);
    if (norm) {
      constant -= xl.size * HALF_LOG_2PI;
      // a broadcast sd repeats each entry xl.size / sd.size times
      if (typeof s === 'number') constant -= xl.size * Math.log(s);
      else term = sub(term, mul(sum(log(s)), xl.size / s.size));
    }
    total = total ? add(total, term) : term;
  });
  if (total === null) return full([], constant);
  return constant === 0 ? total : add(total, constant);
}
