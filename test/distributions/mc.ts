/**
 * Monte Carlo and closeness helpers for the distribution and flow tests (not a test file).
 *
 * The backend-aware helpers (`assertMcB`, `close`) keep the CPU (float64) checks exactly as they
 * were (`assertMc`, helpers.assertClose) and give the WebGPU (float32) bodies tolerances derived
 * from float32 rounding (see ../backend-harness.ts: `ULPS`, `eps`, `adRtol`; long accumulations:
 * `sumTol`, `dotTol`).
 */
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose as assertCloseF64 } from '../helpers.js';
import { read, ULPS, type BackendCase } from '../backend-harness.js';

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

/**
 * `assertMc` on any backend. CPU: exactly `assertMc` (k·SE + 1e-12). WebGPU: the same k·SE (the
 * mean and SE are taken on the host in float64 from the float32 samples read back) plus the
 * float32 rounding of the samples and of `expected`: each sample is a short op chain accurate to
 * ULPS·eps relative to the magnitude of the terms it was computed from (`mag`, per sample or one
 * number; |v| by default, pass a larger one where a sample is a difference of larger terms), so
 * the mean moves by at most ULPS·eps·mean(mag); `expected` (a float32 value, or a host value of
 * float32-rounded parameters) by ULPS·eps·|expected|.
 */
export async function assertMcB(B: BackendCase, v: bt.Tensor | ArrayLike<number>, expected: number, what: string, opts: { k?: number; mag?: ArrayLike<number> | number } = {}): Promise<void> {
  const k = opts.k ?? 5;
  if (B.name === 'cpu') {
    assertMc(v, expected, what, k);
    return;
  }
  const data = v instanceof bt.Tensor ? await read(v) : Array.from(v);
  const [m, se] = meanSe(data);
  let mag: number;
  if (typeof opts.mag === 'number') mag = opts.mag;
  else {
    const mv = opts.mag ?? data;
    let s = 0;
    for (let i = 0; i < mv.length; i++) s += Math.abs(mv[i]!);
    mag = s / mv.length;
  }
  const rounding = ULPS * B.eps * (mag + Math.abs(expected));
  assert.ok(Number.isFinite(m), `${what}: MC mean ${m}`);
  if (process.env.BT_SUITE_VERBOSE) console.log(`[${B.name}] ${what}: |m − expected| / tol ${(Math.abs(m - expected) / (k * se + rounding)).toFixed(3)} (rounding ${(rounding / (k * se + rounding)).toExponential(1)} of tol)`);
  assert.ok(Math.abs(m - expected) <= k * se + rounding, `${what}: MC mean ${m} vs ${expected} (±${k}·${se} + float32 rounding ${rounding.toExponential(2)})`);
}

/** column j of an [n, d] tensor, as an [n] tensor on x's backend (slicing is exact) */
export function colT(x: bt.Tensor, j: number): bt.Tensor {
  const n = x.shape[0]!;
  return bt.reshape(bt.slice(x, [0, j], [n, 1]), [n]);
}

export const LOG_2PI = Math.log(2 * Math.PI);

const flat = async (x: bt.Tensor | number[] | number): Promise<number[]> => (typeof x === 'number' ? [x] : Array.isArray(x) ? x : await read(x));

/**
 * Closeness on any backend. CPU: exactly helpers.assertClose(got, want, cpuRtol, cpuAtol, what)
 * (its default atol 1e-12 when cpuAtol is undefined). WebGPU: |got − want| ≤ adRtol·(|want| +
 * scale), adRtol = ULPS float32 ulps: the two sides are short float32 op chains (or host values
 * of float32-rounded inputs), each accurate to ULPS·eps relative to the terms they combine;
 * `gpu.scale` is the size of those terms (default max|want|, for the cancellation in a difference
 * of larger terms); `gpu.rtol` replaces adRtol where a longer computation is bounded (e.g. a long
 * sum: `sumTol`); `gpu.atol` adds a separately derived absolute bound. Infinite entries must be
 * equal, NaN matches NaN.
 */
export async function close(B: BackendCase, got: bt.Tensor | number[] | number, want: bt.Tensor | number[] | number, cpuRtol: number, cpuAtol: number | undefined, what: string, gpu: { rtol?: number; scale?: number; atol?: number } = {}): Promise<void> {
  if (B.name === 'cpu') {
    assertCloseF64(got, want, cpuRtol, cpuAtol ?? 1e-12, what);
    return;
  }
  if (got instanceof bt.Tensor) assert.is(got.backend, B.name, `${what}: ran on ${B.name}`);
  if (got instanceof bt.Tensor && want instanceof bt.Tensor) assert.equal([...got.shape], [...want.shape], `${what}: shape`);
  const g = await flat(got);
  const w = await flat(want);
  assert.is(g.length, w.length, `${what}: length ${g.length} vs ${w.length}`);
  const s = gpu.scale ?? w.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 0);
  let worst = 0;
  for (let i = 0; i < g.length; i++) {
    const a = g[i]!;
    const b = w[i]!;
    if (!Number.isFinite(b) || !Number.isFinite(a)) {
      assert.ok(a === b || (Number.isNaN(a) && Number.isNaN(b)), `${what} entry ${i}: got ${a}, expected ${b}`);
      continue;
    }
    const tol = (gpu.rtol ?? B.adRtol) * (Math.abs(b) + s) + (gpu.atol ?? 0);
    worst = Math.max(worst, a === b ? 0 : Math.abs(a - b) / tol);
    assert.ok(Math.abs(a - b) <= tol, `${what} entry ${i}/${g.length}: got ${a}, expected ${b} (|err| ${Math.abs(a - b).toExponential(2)} > float32 tol ${tol.toExponential(2)})`);
  }
  if (process.env.BT_SUITE_VERBOSE) console.log(`[${B.name}] ${what}: worst err/tol ${worst.toFixed(3)}`);
}

/**
 * Relative float32 error bound of a length-n sum on the WebGPU reduce kernel (an [n] mean or
 * sum): 128 threads each add ⌈n/128⌉ terms serially, then a 7-level tree (n ≤ 64: one thread, n
 * terms), so γ_k with k = ⌈n/128⌉ + 7 additions per path (Higham's bound, taken as k·eps, twice
 * k·u); the bound is relative to Σ|terms|. Two reductions of the same terms in different orders
 * (a gradient's sum vs a mean) differ by at most twice this, plus ULPS·eps for the short
 * elementwise chains around them.
 */
export function sumTol(B: BackendCase, n: number): number {
  const k = n <= 64 ? n : Math.ceil(n / 128) + 7;
  return k * B.eps;
}


/**
 * Relative float32 error bound of a serial accumulation of n terms (WebGPU's small-output matmul
 * is a plain fma loop over K, e.g. a [d, n]·[n, d] gradient contraction over n samples): γ_n
 * (Higham), taken as n·eps (twice n·u), relative to Σ|terms|.
 */
export function dotTol(B: BackendCase, n: number): number {
  return n * B.eps;
}
