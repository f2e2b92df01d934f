/**
 * Special functions (lgamma, digamma, polygamma, incomplete gamma/beta and their inverses):
 * values against mpmath references (special-functions.refs.ts, 40-digit arithmetic), derivatives
 * in every argument (x and the shape parameters) against central differences, second order in x,
 * vmap, and the errors. The same bodies run on CPU float64 and WebGPU float32.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertCloseArr, backendsUnderTest, checkDirectional, read, registerAll, T, type BackendCase } from '../backend-harness.js';
import { BETAINC, DIGAMMA, GAMMAINC, LGAMMA, POLYGAMMA3, TRIGAMMA } from './special-functions.refs.js';

const backends = await backendsUnderTest('special-functions');

/**
 * Value tolerance: float64 — the complete functions to 4e-16·max(1, |y|) (relative, absolute
 * near zeros of no exact representation), the incomplete ones to 1e-13 relative (lgamma
 * differences in their prefactor lose ~log(a) digits for a ~ 100); float32 — 64 ulps relative
 * of an O(1) argument's condition, taken as 1e-5 relative + 1e-6 absolute.
 */
const tolC = (B: BackendCase): [number, number] => (B.dtype === 'float64' ? [4e-16, 4e-16] : [2e-5, 1e-6]);
const tolI = (B: BackendCase): [number, number] => (B.dtype === 'float64' ? [1e-13, 1e-300] : [2e-4, 1e-6]);

function col(rows: number[][], j: number): number[] {
  return rows.map((r) => r[j]!);
}

/** Rows whose inputs are representable in the dtype without changing the reference much (float32: skip extreme arguments). */
const fits = (B: BackendCase, xs: number[]) => B.dtype === 'float64' || xs.every((x) => Math.abs(x) < 1e4 && (x === 0 || Math.abs(x) > 1e-6));

registerAll(backends, 'lgamma, digamma, trigamma, polygamma(3) against mpmath', async (B) => {
  for (const [name, rows, f] of [
    ['lgamma', LGAMMA, bt.lgamma],
    ['digamma', DIGAMMA, bt.digamma],
    ['trigamma', TRIGAMMA, bt.trigamma],
    ['polygamma(3)', POLYGAMMA3, (x: bt.Tensor) => bt.polygamma(3, x)],
  ] as const) {
    const rs = (rows as [number, number][]).filter(([x]) => fits(B, [x]) && (B.dtype === 'float64' || Math.abs(x - Math.round(x)) > 1e-2 || x > 0));
    const x = T(B, rs.map((r) => r[0]), [rs.length]);
    const [rt, at] = tolC(B);
    // relative to max(1, |y|): absolute near a zero of the function (1, 2 for lgamma; x0 for digamma)
    const want = rs.map((r) => r[1]);
    const got = await read(f(x));
    // float32: the argument itself carries 2^-24 relative error; its effect |x f'(x)| 2^-24 is added
    assertCloseArr(got, want, 0, 0, name, want.map((w) => rt * Math.max(1, Math.abs(w)) + at));
  }
});

registerAll(backends, 'gammainc, gammaincc, betainc against mpmath', async (B) => {
  const [rt, at] = tolI(B);
  const g = GAMMAINC.filter((r) => fits(B, [r[0]!, r[1]!]) && (B.dtype === 'float64' || r[0]! >= 0.1));
  const a = T(B, col(g, 0), [g.length]);
  const x = T(B, col(g, 1), [g.length]);
  assertCloseArr(await read(bt.gammainc(a, x)), col(g, 2), rt, at, 'gammainc');
  assertCloseArr(await read(bt.gammaincc(a, x)), col(g, 3), rt, at, 'gammaincc');
  const bb = BETAINC.filter((r) => fits(B, r.slice(0, 3)));
  const I = await read(bt.betainc(T(B, col(bb, 0), [bb.length]), T(B, col(bb, 1), [bb.length]), T(B, col(bb, 2), [bb.length])));
  assertCloseArr(I, col(bb, 3), rt, at, 'betainc');
});

registerAll(backends, 'derivatives in the shape parameters against mpmath', async (B) => {
  const [rt, at] = tolI(B);
  const g = GAMMAINC.filter((r) => fits(B, [r[0]!, r[1]!]) && (B.dtype === 'float64' || r[0]! >= 0.1));
  const a = T(B, col(g, 0), [g.length]);
  const x = T(B, col(g, 1), [g.length]);
  const da = bt.grad((aa: bt.Tensor) => bt.sum(bt.gammainc(aa, x)))(a);
  assertCloseArr(await read(da), col(g, 4), B.dtype === 'float64' ? 1e-12 : 2e-3, at, 'dP/da');
  const bb = BETAINC.filter((r) => fits(B, r.slice(0, 3)));
  const [A, Bt, X] = [0, 1, 2].map((j) => T(B, col(bb, j), [bb.length]));
  const [gA, gB] = bt.grad((p: bt.Tensor, q: bt.Tensor) => bt.sum(bt.betainc(p, q, X!)), { argnums: [0, 1] } as never)(A!, Bt!) as unknown as bt.Tensor[];
  assertCloseArr(await read(gA!), col(bb, 4), B.dtype === 'float64' ? 1e-12 : 2e-3, at, 'dI/da');
  assertCloseArr(await read(gB!), col(bb, 5), B.dtype === 'float64' ? 1e-12 : 2e-3, at, 'dI/db');
  void rt;
});

registerAll(backends, 'inverses: gammaincinv(a, P(a, x)) = x and betaincinv(a, b, I) = x', async (B) => {
  const tol = B.dtype === 'float64' ? 1e-12 : 1e-3;
  const g = GAMMAINC.filter((r) => fits(B, [r[0]!, r[1]!]) && r[2]! > 1e-300 && (B.dtype === 'float64' || (r[0]! >= 0.1 && r[2]! > 1e-4 && r[2]! < 0.999)));
  const xg = await read(bt.gammaincinv(T(B, col(g, 0), [g.length]), T(B, col(g, 2), [g.length])));
  assertCloseArr(xg, col(g, 1), tol, 0, 'gammaincinv');
  const bb = BETAINC.filter((r) => fits(B, r.slice(0, 3)) && (B.dtype === 'float64' || (r[3]! > 1e-4 && r[3]! < 0.999)));
  const xb = await read(bt.betaincinv(T(B, col(bb, 0), [bb.length]), T(B, col(bb, 1), [bb.length]), T(B, col(bb, 3), [bb.length])));
  assertCloseArr(xb, col(bb, 2), tol, 0, 'betaincinv');
  // the ends
  const ends = await read(bt.gammaincinv(T(B, [2, 2], [2]), T(B, [0, 1], [2])));
  assert.equal(ends, [0, Infinity]);
});

/** Directional derivative checks (vjp and jvp vs a central difference) in each argument in turn. */
registerAll(backends, 'every argument: vjp and jvp against finite differences', async (B) => {
  const av = [0.7, 2.5, 6.0];
  const xv = [1.0, 2.0, 4.5]; // one magnitude: float32 FD steps are relative to the largest
  const pv = [0.2, 0.55, 0.9];
  const bv = [1.5, 0.8, 4.0];
  const uv = [0.3, 0.6, 0.95];
  const a = T(B, av, [3]);
  const x = T(B, xv, [3]);
  const p = T(B, pv, [3]);
  const b = T(B, bv, [3]);
  const u = T(B, uv, [3]);
  const cases: [string, (z: bt.Tensor) => bt.Tensor, bt.Tensor][] = [
    // (arguments of one magnitude: float32's FD step is relative to the largest, and ψ's higher derivatives blow up near 0)
    ['lgamma', bt.lgamma, T(B, [1.5, 2.0, 3.0], [3])],
    ['digamma', bt.digamma, T(B, [1.5, 2.0, 3.0], [3])],
    ['trigamma', bt.trigamma, T(B, [1.5, 2.0, 3.0], [3])],
    ['gammainc/a', (z) => bt.gammainc(z, x), a],
    ['gammainc/x', (z) => bt.gammainc(a, z), x],
    ['gammaincc/a', (z) => bt.gammaincc(z, x), a],
    ['gammaincc/x', (z) => bt.gammaincc(a, z), x],
    ['gammaincinv/a', (z) => bt.gammaincinv(z, p), a],
    ['gammaincinv/p', (z) => bt.gammaincinv(a, z), p],
    ['betainc/a', (z) => bt.betainc(z, b, u), a],
    ['betainc/b', (z) => bt.betainc(a, z, u), b],
    ['betainc/x', (z) => bt.betainc(a, b, z), u],
    ['betaincinv/a', (z) => bt.betaincinv(z, b, p), a],
    ['betaincinv/b', (z) => bt.betaincinv(a, z, p), b],
    ['betaincinv/p', (z) => bt.betaincinv(a, b, z), p],
  ];
  // near the poles float32's FD step (1e-2) is too coarse for the curvature there: float64 only
  if (B.dtype === 'float64') cases.push(['lgamma (small and negative x)', bt.lgamma, T(B, [0.2, -0.4, -1.7], [3])], ['digamma (negative x)', bt.digamma, T(B, [-0.4, -1.7, -2.2], [3])]);
  let seed = 1;
  for (const [name, f, at] of cases) await checkDirectional(B, f, at, seed++, name);
});

registerAll(backends, 'second order in x, in a (incomplete gamma) and mixed a–x, against finite differences of the first', async (B) => {
  const a = T(B, [0.7, 2.5], [2]);
  const u = T(B, [0.3, 0.8], [2]);
  const bb = T(B, [1.5, 3.0], [2]);
  await checkDirectional(B, (z) => bt.grad((w: bt.Tensor) => bt.sum(bt.gammainc(a, w)))(z), T(B, [1.2, 3.0], [2]), 31, 'd2P/dx2');
  // second order in a (∂²P/∂a², and the Gamma quantile's through the implicit function theorem)
  await checkDirectional(B, (z) => bt.grad((w: bt.Tensor) => bt.sum(bt.gammainc(w, T(B, [0.4, 3.0], [2]))))(z), a, 32, 'd2P/da2');
  await checkDirectional(B, (z) => bt.grad((w: bt.Tensor) => bt.sum(bt.gammaincinv(w, T(B, [0.3, 0.8], [2]))))(z), T(B, [1.5, 2.5], [2]), 36, 'd2 gammaincinv/da2');
  // second order of the incomplete beta in (a, b) and of its inverse
  await checkDirectional(B, (z) => bt.grad((w: bt.Tensor) => bt.sum(bt.betainc(w, bb, u)))(z), a, 37, 'd2I/da2');
  await checkDirectional(B, (z) => bt.grad((w: bt.Tensor) => bt.sum(bt.betainc(a, w, u)))(z), bb, 38, 'd2I/db2');
  await checkDirectional(B, (z) => bt.grad((w: bt.Tensor) => bt.sum(bt.betainc(w, z, u)))(a), bb, 39, 'd2I/dadb');
  await checkDirectional(B, (z) => bt.grad((w: bt.Tensor) => bt.sum(bt.betaincinv(w, bb, u)))(z), a, 40, 'd2 betaincinv/da2');
  // third order in a: a ConfigError naming the op
  let raised3: unknown;
  try {
    const d2 = (w: bt.Tensor) => bt.sum(bt.grad((v: bt.Tensor) => bt.sum(bt.gammainc(v, T(B, [0.4, 3.0], [2]))))(w));
    bt.grad((w: bt.Tensor) => bt.sum(bt.grad(d2)(w)))(a);
  } catch (e) {
    raised3 = e;
  }
  assert.instance(raised3, bt.ConfigError, 'third derivative in a: ConfigError');
  assert.match((raised3 as Error).message, /gammaincDaa/);
  // mixed: d/dx of dP/da is closed form
  await checkDirectional(B, (z) => bt.grad((w: bt.Tensor) => bt.sum(bt.gammainc(w, z)))(a), T(B, [0.4, 3.0], [2]), 33, 'd2P/dadx');
  await checkDirectional(B, (z) => bt.grad((w: bt.Tensor) => bt.sum(bt.betainc(w, bb, z)))(a), u, 34, 'd2I/dadx');
  await checkDirectional(B, (z) => bt.grad((w: bt.Tensor) => bt.sum(bt.lgamma(w)))(z), T(B, [1.3, 4.5], [2]), 35, 'd2 lgamma');
});

registerAll(backends, 'vmap over the shape parameters and broadcasting', async (B) => {
  const a = T(B, [0.5, 1.5, 3.0], [3]);
  const x = T(B, [0.2, 1.0, 2.0, 5.0], [4]);
  const direct = await read(bt.gammainc(bt.reshape(a, [3, 1]), x));
  const mapped = await read(bt.vmap((ai: bt.Tensor) => bt.gammainc(ai, x))(a));
  assertCloseArr(mapped, direct, 0, 0, 'vmap gammainc over a');
  const q = await read(bt.vmap((ai: bt.Tensor) => bt.betaincinv(ai, 2, 0.3))(a));
  assertCloseArr(q, await read(bt.betaincinv(a, 2, 0.3)), 0, 0, 'vmap betaincinv over a');
});

registerAll(backends, 'bad input: int32 is a DTypeError, invalid parameters give NaN (as scipy)', async (B) => {
  assert.throws(() => bt.lgamma(bt.tensor(Int32Array.of(1, 2), { dtype: 'int32' })), (e: unknown) => e instanceof bt.DTypeError);
  const v = await read(bt.gammainc(T(B, [-1, 2], [2]), T(B, [1, -1], [2])));
  assert.ok(v.every(Number.isNaN), `gammainc(-1, 1), gammainc(2, -1): ${v}`);
  assert.throws(() => bt.polygamma(1.5, T(B, [1], [1])), (e: unknown) => e instanceof bt.ConfigError);
});

test.run();
