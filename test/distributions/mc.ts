/** Monte Carlo helpers for the distribution tests (not a test file). */
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';

export function meanSe(v: ArrayLike<number>): [number, number] {
  const n = v.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += v[i]!;
  m /= n;
  let s = 0;
  for (let i = 0; i < n; i++) s += (v[i]! - m) ** 2;
  return [m, Math.sqrt(s / (n - 1) / n)];
}

/** mean of v within k standard errors of `expected` */
export function assertMc(v: bt.Tensor | ArrayLike<number>, expected: number, what: string, k = 5): void {
  const data = v instanceof bt.Tensor ? v.dataSync() : v;
  const [m, se] = meanSe(data);
  assert.ok(Math.abs(m - expected) <= k * se + 1e-12, `${what}: MC mean ${m} vs ${expected} (±${k}·${se})`);
}

/** column j of an [n, d] tensor */
export function col(x: bt.Tensor, j: number): Float64Array {
  const d = x.shape[1]!;
  const a = x.dataSync();
  const n = x.shape[0]!;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = a[i * d + j]!;
  return out;
}

export const LOG_2PI = Math.log(2 * Math.PI);
