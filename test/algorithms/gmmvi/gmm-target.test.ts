/**
 * The GMM target: normalised (a 2-D grid sum of its density is 1), exact samples with the
 * mixture's mean within Monte Carlo error, the recipe of gmmvi's make_target (means in
 * (−50, 50), Σ = AᵀA + I), and the detected-modes count at the 6√d threshold.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { assertClose } from '../../helpers.js';

const g = bt.gmmvi;

test('normalised: ∑ p(x) Δ² over a grid = 1 (d = 2)', () => {
  const t = g.gmmTarget(bt.tensor([0.25, 0.75]), bt.tensor([[-2, 0], [2, 1]]), bt.tensor([[[1, 0.3], [0.3, 0.5]], [[0.6, 0], [0, 2]]]));
  const h = 0.05;
  const pts: number[][] = [];
  for (let a = -12; a <= 12; a += h) for (let b = -12; b <= 12; b += h) pts.push([a, b]);
  const p = Array.from(bt.exp(t.logDensity(bt.tensor(pts))).dataSync());
  const total = p.reduce((s, v) => s + v, 0) * h * h;
  assert.ok(Math.abs(total - 1) < 1e-4, `∑ p Δ² = ${total}`);
});

test('makeGmmTarget: gmmvi recipe; exact samples; detected modes', async () => {
  const d = 5;
  const t = g.makeGmmTarget(d, bt.random.key(1));
  const mu = t.gmm.means.toArray() as number[][];
  assert.is(mu.length, 10);
  assert.ok(mu.flat().every((v) => v > -50 && v < 50));
  assertClose(g.weights(t.gmm), new Array<number>(10).fill(0.1), 1e-12, 0, 'equal weights');
  // Σ − I = AᵀA is positive semidefinite: every eigenvalue of Σ ≥ 1 ⇔ Cholesky of Σ − 0.999 I succeeds
  bt.linalg.cholesky(bt.sub(g.covs(t.gmm), bt.eye(d).mul(0.999)));
  const n = 20000;
  const x = t.sample(n, bt.random.key(2));
  const mean = bt.mean(x, { axis: 0 });
  const want = bt.mean(t.gmm.means, { axis: 0 });
  // per coordinate: Var = mean of (Σ_jj + μ_j²) − (mean μ_j)², 4 standard errors
  const varj = bt.sub(bt.mean(bt.add(bt.diagonal(g.covs(t.gmm)), bt.square(t.gmm.means)), { axis: 0 }), bt.square(want));
  const got = Array.from(mean.dataSync()), w = Array.from(want.dataSync()), v = Array.from(varj.dataSync());
  got.forEach((gj, j) => assert.ok(Math.abs(gj - w[j]!) <= 4 * Math.sqrt(v[j]! / n), `mean[${j}] ${gj} vs ${w[j]}`));
  assert.is(await t.detectedModes(t.gmm.means), 10);
  assert.is(await t.detectedModes(bt.add(t.gmm.means.slice([0, 0], [3, d]), 6 * Math.sqrt(d) / Math.sqrt(d) * 0.99)), 3, 'within 6√d');
  assert.is(await t.detectedModes(bt.zeros([1, d]).add(1000)), 0);
});

test.run();
