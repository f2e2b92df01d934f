/** Reading and checking draws of one scalar quantity laid out chains × draws (ArviZ's [chain, draw]). */
import { Tensor } from '../tensor.js';
import { ConfigError, NumericalError, ShapeError } from '../errors.js';

/**
 * Draws of one scalar: an array of chains (each an array of draws, all the same length), one
 * chain as a flat array, or a Tensor [chains, draws] / [draws] on a backend that reads synchronously.
 */
export type ChainDraws = Tensor | readonly ArrayLike<number>[] | ArrayLike<number>;

/** Split-chain estimators need two draws in each half of every chain. */
export const MIN_DRAWS = 4;

const isArrayOfChains = (x: unknown): x is readonly ArrayLike<number>[] => Array.isArray(x) && x.length > 0 && typeof x[0] !== 'number';

/** The draws as host chains of equal length, finite, at least MIN_DRAWS each; `op` names the caller in errors. */
export function toChains(op: string, x: ChainDraws): Float64Array[] {
  let chains: Float64Array[];
  if (Array.isArray(x) && x.length === 0) throw new ShapeError(`${op}: no draws were given (an empty array).`);
  if (x instanceof Tensor) {
    if (x.shape.length !== 1 && x.shape.length !== 2) {
      throw new ShapeError(`${op}: a Tensor of draws must be [chains, draws] or [draws], got shape [${x.shape.join(', ')}]; use diagnostics.summary for [chains, draws, ...params].`);
    }
    const data = Float64Array.from(x.dataSync());
    const [c, n] = x.shape.length === 2 ? [x.shape[0]!, x.shape[1]!] : [1, x.shape[0]!];
    chains = Array.from({ length: c }, (_, i) => data.subarray(i * n, (i + 1) * n));
  } else if (isArrayOfChains(x)) {
    chains = x.map((ch, i) => {
      if (ch === null || typeof ch !== 'object' || typeof (ch as ArrayLike<number>).length !== 'number') throw new ConfigError(`${op}: chain ${i} is not an array of numbers.`);
      return Float64Array.from(ch);
    });
  } else if (x !== null && typeof x === 'object' && typeof (x as ArrayLike<number>).length === 'number') {
    chains = [Float64Array.from(x as ArrayLike<number>)];
  } else throw new ConfigError(`${op}: draws must be an array of chains (number[][]), one chain (number[]) or a Tensor [chains, draws].`);
  if (chains.length === 0) throw new ShapeError(`${op}: no chains were given.`);
  const n = chains[0]!.length;
  chains.forEach((ch, i) => {
    if (ch.length !== n) throw new ShapeError(`${op}: chains must have equal length; chain 0 has ${n} draws, chain ${i} has ${ch.length}. Trim them to a common length.`);
  });
  if (n < MIN_DRAWS) throw new ShapeError(`${op}: each chain needs at least ${MIN_DRAWS} draws (two in each half of a split chain), got ${n}.`);
  chains.forEach((ch, i) => {
    const j = ch.findIndex((v) => !Number.isFinite(v));
    if (j >= 0) throw new NumericalError(`${op}: chain ${i}, draw ${j} is ${ch[j]}; diagnostics need finite draws (check the sampler's log posterior and step size).`);
  });
  return chains;
}

/** Each chain cut into its first and last ⌊n/2⌋ draws (the middle draw of an odd chain is dropped, as in ArviZ). */
export function splitChains(chains: Float64Array[]): Float64Array[] {
  const half = Math.floor(chains[0]!.length / 2);
  return chains.flatMap((ch) => [ch.subarray(0, half), ch.subarray(ch.length - half)]);
}

/** All draws in one array. */
export function pooled(chains: Float64Array[]): Float64Array {
  const out = new Float64Array(chains.reduce((s, c) => s + c.length, 0));
  let off = 0;
  for (const c of chains) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** Mean and sample variance (n − 1) of an array. */
export function meanVar(x: ArrayLike<number>): [number, number] {
  const n = x.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += x[i]!;
  m /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (x[i]! - m) ** 2;
  return [m, n > 1 ? v / (n - 1) : NaN];
}

/** The q-quantile with linear interpolation between order statistics (NumPy's default, type 7), of sorted data. */
export function quantileSorted(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (pos - lo) * (sorted[hi]! - sorted[lo]!);
}
