/** A per-parameter table of posterior summaries and convergence diagnostics (ArviZ's `az.summary`). */
import { Tensor } from '../tensor.js';
import { ConfigError, ShapeError } from '../errors.js';
import { meanVar, pooled, splitChains, toChains } from './draws.js';
import { essOfChains } from './ess.js';
import { essBulk, essTail } from './ess.js';
import { rhat } from './rhat.js';

/** Draws of several parameters: a Tensor or a host array laid out [chains, draws, ...params] (row-major). */
export type MultiDraws = Tensor | { data: ArrayLike<number>; shape: readonly number[] };

/** One parameter's row: posterior mean and sd, the MCSE of the mean, bulk and tail ESS and R̂. */
export interface SummaryRow {
  name: string;
  mean: number;
  sd: number;
  mcseMean: number;
  essBulk: number;
  essTail: number;
  rhat: number;
}

/** Options of `summary`: names for the flattened parameters (default x[i] or x[i,j]). */
export interface SummaryOptions {
  names?: readonly string[];
}

/** The draws of every flattened parameter as chains: [param][chain] → Float64Array of draws. */
export function perParameter(op: string, draws: MultiDraws): { chains: Float64Array[][]; paramShape: number[] } {
  let data: ArrayLike<number>;
  let shape: readonly number[];
  if (draws instanceof Tensor) {
    data = draws.dataSync();
    shape = draws.shape;
  } else if (draws !== null && typeof draws === 'object' && 'data' in draws && 'shape' in draws) {
    ({ data, shape } = draws);
  } else throw new ConfigError(`${op}: draws must be a Tensor or { data, shape } laid out [chains, draws, ...params].`);
  if (shape.length < 2) throw new ShapeError(`${op}: draws need shape [chains, draws, ...params], got [${shape.join(', ')}].`);
  const [C, N] = [shape[0]!, shape[1]!];
  const paramShape = shape.slice(2);
  const P = paramShape.reduce((p, d) => p * d, 1);
  if (data.length !== C * N * P) throw new ShapeError(`${op}: data has ${data.length} entries but shape [${shape.join(', ')}] needs ${C * N * P}.`);
  const chains = Array.from({ length: P }, (_, j) =>
    Array.from({ length: C }, (_, c) => {
      const out = new Float64Array(N);
      for (let i = 0; i < N; i++) out[i] = data[(c * N + i) * P + j]!;
      return out;
    }),
  );
  return { chains, paramShape };
}

function defaultName(j: number, shape: number[]): string {
  if (shape.length === 0) return 'x';
  const idx: number[] = [];
  for (let k = shape.length - 1, r = j; k >= 0; k--) {
    idx.unshift(r % shape[k]!);
    r = Math.floor(r / shape[k]!);
  }
  return `x[${idx.join(',')}]`;
}

/** Summarises each parameter of draws [chains, draws, ...params]: mean, sd, mcseMean, essBulk, essTail, rhat. */
export function summary(draws: MultiDraws, options: SummaryOptions = {}): SummaryRow[] {
  const { chains, paramShape } = perParameter('diagnostics.summary', draws);
  if (options.names !== undefined && options.names.length !== chains.length) {
    throw new ConfigError(`diagnostics.summary: ${options.names.length} names for ${chains.length} parameters.`);
  }
  return chains.map((raw, j) => summariseChains(raw, options.names?.[j] ?? defaultName(j, paramShape)));
}

/** One row from one parameter's chains. */
export function summariseChains(raw: readonly ArrayLike<number>[], name: string): SummaryRow {
  const ch = toChains(`diagnostics.summary (${name})`, raw);
  const [mean, variance] = meanVar(pooled(ch));
  return {
    name,
    mean,
    sd: Math.sqrt(variance),
    mcseMean: Math.sqrt(variance / essOfChains(splitChains(ch))),
    essBulk: essBulk(ch),
    essTail: essTail(ch),
    rhat: rhat(ch),
  };
}

/** The rows as a fixed-width text table (for printing). */
export function formatSummary(rows: readonly SummaryRow[], digits = 3): string {
  const head = ['', 'mean', 'sd', 'mcse_mean', 'ess_bulk', 'ess_tail', 'r_hat'];
  const body = rows.map((r) => [r.name, r.mean.toFixed(digits), r.sd.toFixed(digits), r.mcseMean.toFixed(digits), r.essBulk.toFixed(0), r.essTail.toFixed(0), r.rhat.toFixed(3)]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [fmt(head), ...body.map(fmt)].join('\n');
}
