/**
 * Quantile functions of the nested-sampling priors: values against scipy's ppf, icdf(cdf(x)) = x
 * with scipy's cdf, and derivatives in u and in every parameter against finite differences
 * (including the median u = ½, where Laplace's branches meet and Student-t's composite form would
 * be ∞·0). Same bodies on CPU float64 and WebGPU float32.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { backendsUnderTest, checkDirectional, read, registerAll, T, toDtype, type BackendCase } from '../backend-harness.js';
import { CDFS, QUANTILES } from './quantiles.refs.js';

const backends = await backendsUnderTest('distributions/quantiles');
const D = bt.distributions;

type Q = (u: bt.Tensor, ...p: bt.Tensor[]) => bt.Tensor;
const FNS: Record<string, Q> = {
  uniform: D.uniformQuantile,
  normal: D.normalQuantile,
  logNormal: D.logNormalQuantile,
  exponential: D.exponentialQuantile,
  laplace: D.laplaceQuantile,
  cauchy: D.cauchyQuantile,
  gamma: D.gammaQuantile,
  gammaSmall: D.gammaQuantile,
  beta: D.betaQuantile,
  betaSmall: D.betaQuantile,
  studentT: D.studentTQuantile as Q,
  studentT1: D.studentTQuantile as Q,
};

/**
 * Tolerance of a quantile value: the function's own rounding (float64: 1e-13 relative, the
 * incomplete-function inverses' accuracy; float32: 64 ulps) plus the propagated rounding of u
 * itself, |dq/du|·eps·u = eps·u/pdf(q) (tails are ill-conditioned in u).
 */
function tol(B: BackendCase, q: number, u: number, pdf: number): number {
  const own = B.dtype === 'float64' ? 1e-13 : 64 * B.eps;
  return own * Math.max(1, Math.abs(q)) + (4 * B.eps * u) / pdf;
}

const sc = (B: BackendCase, v: number) => T(B, [toDtype(B, v)], [1]);

registerAll(backends, 'quantiles against scipy ppf (u from 0.001 to 0.999)', async (B) => {
  for (const [name, params, u, q, pdf] of QUANTILES) {
    const got = (await read(FNS[name]!(sc(B, u), ...params.map((p) => sc(B, p)))))[0]!;
    const t = tol(B, q, u, pdf);
    assert.ok(Math.abs(got - q) <= t, `${name}(${params}) at u = ${u}: ${got} vs scipy ${q} (|err| ${Math.abs(got - q).toExponential(2)} > ${t.toExponential(2)})`);
  }
});

registerAll(backends, 'icdf(cdf(x)) = x with scipy cdf', async (B) => {
  for (const [name, params, x, u, pdf] of CDFS) {
    const got = (await read(FNS[name]!(sc(B, u), ...params.map((p) => sc(B, p)))))[0]!;
    const t = tol(B, x, u, pdf);
    assert.ok(Math.abs(got - x) <= t, `${name}(${params}): icdf(cdf(${x})) = ${got} (|err| ${Math.abs(got - x).toExponential(2)} > ${t.toExponential(2)})`);
  }
});

registerAll(backends, 'derivatives in u and every parameter (at u = 0.3, ½, 0.8) against finite differences', async (B) => {
  // float32's FD step (1e-2) would straddle u = ½, where Laplace's second derivative jumps: 0.45 there (the median's slope is checked exactly below)
  const U = B.dtype === 'float64' ? [0.3, 0.5, 0.8] : [0.3, 0.45, 0.7]; // (and 0.7: less curvature, O(h²) truncation below float32's tolerance)
  const seen = new Set<string>();
  let seed = 1;
  for (const [name, params] of QUANTILES) {
    if (seen.has(name)) continue;
    seen.add(name);
    const f = FNS[name]!;
    const n = U.length;
    const P = params.map((p) => T(B, new Array(n).fill(p), [n]));
    // in u: one tensor of the three levels
    await checkDirectional(B, (u) => f(u, ...P), T(B, U, [n]), seed++, `${name} d/du`);
    // shape parameters below 1 on float32: the FD step (1e-2 times a unit random direction) is a
    // few per cent of the parameter, and the O(h²) truncation exceeds the tolerance; those
    // derivatives are checked against mpmath in test/autodiff/special-functions.test.ts instead
    if (B.dtype === 'float32' && (name === 'betaSmall' || name === 'gammaSmall')) continue;
    for (let j = 0; j < params.length; j++) {
      await checkDirectional(B, (p) => f(T(B, U, [n]), ...P.map((q, k) => (k === j ? p : q))), P[j]!, seed++, `${name} d/dparam${j}`);
    }
  }
});

registerAll(backends, 'Student-t and Laplace at the median: finite slope 1/pdf(loc)', async (B) => {
  const u = T(B, [0.5], [1]);
  const gT = await read(bt.grad((z: bt.Tensor) => bt.sum(D.studentTQuantile(z, T(B, [3], [1]), T(B, [1], [1]), T(B, [2], [1]))))(u));
  // t₃ density at 0: Γ(2)/(√(3π) Γ(3/2)) = 2/(π√3); quantile slope scale/pdf
  const want = 2 / (2 / (Math.PI * Math.sqrt(3)));
  assert.ok(Math.abs(gT[0]! - want) <= 1e3 * B.eps * want, `studentT slope at the median ${gT[0]} vs ${want}`);
  const gL = await read(bt.grad((z: bt.Tensor) => bt.sum(D.laplaceQuantile(z, T(B, [0], [1]), T(B, [0.5], [1]))))(u));
  assert.ok(Math.abs(gL[0]! - 1) <= 16 * B.eps, `laplace slope at the median ${gL[0]} vs 1`);
  const dnu = await read(bt.grad((nu: bt.Tensor) => bt.sum(D.studentTQuantile(u, nu)))(T(B, [3], [1])));
  assert.is(dnu[0], 0, 'd median / d df = 0');
});

test.run();
