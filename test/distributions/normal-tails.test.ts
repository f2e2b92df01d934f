/**
 * The Normal quantile in its tails: Φ⁻¹ = `ndtri` (Wichura's AS 241) against mpmath (60 digits, the
 * root of log Φ(x) = log min(u, 1 − u), so u = 1e-300 is exact), where √2·erf⁻¹(2u − 1) had lost
 * digits beyond ~8σ (u = 1e-15: −7.842 vs −7.941) and gave −∞ below u = 1.1e-16. Derivatives in u
 * and in loc/scale in the tails against finite differences. CPU float64; WebGPU float32 where on.
 */
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import * as bt from '../../src/index.js';
import { backendsUnderTest, checkDirectional, read, registerAll, T } from '../backend-harness.js';

const backends = await backendsUnderTest('distributions/normal-tails');

// [u (float64), Φ⁻¹(u)] from mpmath.findroot at 60 digits (see the header)
const REF: [number, number][] = [
  [1e-300, -37.0470962993612], [1e-100, -21.273453560965326], [1e-20, -9.262340089798407],
  [1.1e-16, -8.210646881627001], [1e-15, -7.941345326170997], [1e-10, -6.361340902404057],
  [1e-5, -4.264890793922825], [0.01, -2.326347874040841], [0.0749, -1.4402382675279637],
  [0.075, -1.439531470938456], [0.3, -0.5244005127080408], [0.5, 0], [0.6, 0.2533471031357997],
  [0.925, 1.4395314709384561], [0.99, 2.3263478740408408], [0.999999, 4.753424308817087],
  [0.9999999999, 6.361340889697422],
];

registerAll(backends, 'ndtri against mpmath over (1e-300, 1 − 1e-10), and its edges', async (B) => {
  // float32 cannot hold u below ~1e-38 (1e-45 subnormal) and rounds 1 − 1e-10 to 1
  const rows = B.dtype === 'float64' ? REF : REF.filter(([u]) => u >= 1e-30 && u <= 0.999999);
  const got = await read(bt.ndtri(T(B, rows.map(([u]) => u), [rows.length])));
  rows.forEach(([u, x], i) => {
    // own rounding (float64: 4 ulps; float32: 64 ulps) plus, on float32, u's rounding to float32
    // (½ ulp of u) propagated by dx/du = 1/φ(x); float64 refs are at the float64 u itself
    const phi = Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
    const tol = (B.dtype === 'float64' ? 4 : 64) * B.eps * Math.max(1, Math.abs(x)) + (B.dtype === 'float64' ? 0 : (B.eps * u) / phi);
    assert.ok(Math.abs(got[i]! - x) <= tol, `ndtri(${u}) = ${got[i]} vs ${x} (|err| ${Math.abs(got[i]! - x).toExponential(2)} > ${tol.toExponential(2)})`);
  });
  const edges = await read(bt.ndtri(T(B, [0, 1, -0.5, 1.5, NaN], [5])));
  assert.equal([edges[0], edges[1]], [-Infinity, Infinity]);
  assert.ok(edges.slice(2).every(Number.isNaN), `outside [0, 1]: ${edges.slice(2)}`);
});

registerAll(backends, 'normalQuantile = loc + scale·ndtri, finite and exact at u = 1e-20', async (B) => {
  if (B.dtype !== 'float64') return;
  const q = await read(bt.distributions.normalQuantile(T(B, [1e-20, 1 - 1e-10], [2]), T(B, [1, 1], [2]), T(B, [2, 2], [2])));
  assert.ok(Math.abs(q[0]! - (1 + 2 * -9.262340089798407)) < 1e-13, `${q[0]}`);
  assert.ok(Math.abs(q[1]! - (1 + 2 * 6.361340889697422)) < 1e-6, `${q[1]}`); // 1 − 1e-10 is u's own rounding: 1.1e-16/φ
});

registerAll(backends, 'derivatives of ndtri and normalQuantile (u, loc, scale) in the tails against finite differences', async (B) => {
  // the tails are steep (dx/du = 1/φ): float64's FD step (1e-6) allows u = 1e-3; float32's (1e-2)
  // needs u away from the edges for its O(h²) truncation to stay below the tolerance
  const U = B.dtype === 'float64' ? [1e-3, 0.02, 0.5, 0.97] : [0.2, 0.5, 0.8];
  const n = U.length;
  const u = T(B, U, [n]);
  const loc = T(B, new Array(n).fill(0.3), [n]);
  const scale = T(B, new Array(n).fill(1.7), [n]);
  await checkDirectional(B, (z) => bt.ndtri(z), u, 11, 'ndtri d/du');
  await checkDirectional(B, (z) => bt.distributions.normalQuantile(u, z, scale), loc, 12, 'normalQuantile d/dloc');
  await checkDirectional(B, (z) => bt.distributions.normalQuantile(u, loc, z), scale, 13, 'normalQuantile d/dscale');
  // exact slope at the median: 1/φ(0) = √(2π)
  const g = await read(bt.grad((z: bt.Tensor) => bt.sum(bt.ndtri(z)))(T(B, [0.5], [1])));
  assert.ok(Math.abs(g[0]! - Math.sqrt(2 * Math.PI)) <= 16 * B.eps * Math.sqrt(2 * Math.PI), `slope at ½: ${g[0]}`);
});

test.run();
