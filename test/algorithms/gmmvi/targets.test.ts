/**
 * gmmvi's targets: hand-computed log densities at fixed points, gradients (tape or hand-written)
 * against central finite differences, the STM sampler against the Student-t CDF, and the recipes'
 * shapes and ranges.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { assertClose } from '../../helpers.js';
import { loadBreastCancerRaw } from '../../../examples/data/loader.js';

const g = bt.gmmvi;

/** central differences of a batched log density at the rows of x */
function fdGrad(f: (x: bt.Tensor) => bt.Tensor, x: number[][], h = 1e-5): number[][] {
  return x.map((row) => row.map((_, j) => {
    const p = row.slice(), m = row.slice();
    p[j]! += h;
    m[j]! -= h;
    const v = Array.from(f(bt.tensor([p, m])).dataSync());
    return (v[0]! - v[1]!) / (2 * h);
  }));
}

async function checkGrad(t: bt.gmmvi.LNPDF, x: number[][], rtol: number, what: string): Promise<void> {
  const { targetGrads } = await g.evaluateTarget(t, bt.tensor(x));
  assertClose(targetGrads, fdGrad((s) => t.logDensity(s), x).flat(), rtol, 1e-6, what);
}

test('Rosenbrock: known values; own gradient = finite differences', async () => {
  const t = g.rosenbrockTarget();
  assert.is(t.useLogDensityAndGrad, true);
  assertClose(t.logDensity(bt.tensor([[1, 1], [0, 0], [2, 3]])), [0, -1, -(1 + 100)], 1e-14, 1e-14, 'log p');
  await checkGrad(t, [[0.3, -0.7], [-1.2, 1.5], [1, 1]], 1e-7, 'grad');
});

test('PlanarRobot: θ = 0 puts the arm at (10, 0); known value; gradient', async () => {
  const t1 = g.planarRobotTarget(1);
  const t4 = g.planarRobotTarget(4);
  assert.is(t1.numDimensions, 10);
  assertClose(t1.endEffector(bt.zeros([1, 10])), [10, 0], 1e-14, 1e-14, 'ee');
  const prior0 = -5 * Math.log(2 * Math.PI) - 9 * Math.log(0.2);
  const lik = (d2: number) => -Math.log(2 * Math.PI) - 2 * Math.log(0.01) - d2 / (2 * 1e-4);
  assertClose(t1.logDensity(bt.zeros([1, 10])), [prior0 + lik(9)], 1e-12, 0, 'one goal');
  // quarter turn at the first joint: the arm points to (0, 10); nearest of four goals (0, 7)
  const th = [Math.PI / 2, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  const want4 = prior0 - 0.5 * (Math.PI / 2) ** 2 + lik(9);
  assertClose(t4.logDensity(bt.tensor([th])), [want4], 1e-10, 0, 'four goals');
  assertClose(t1.logDensity(bt.tensor([th])), [prior0 - 0.5 * (Math.PI / 2) ** 2 + lik(49 + 100)], 1e-10, 0, 'one goal, far');
  const x = [[0.1, 0.2, -0.1, 0.05, 0.3, -0.2, 0.1, 0, 0.1, -0.05], [1.4, 0.1, 0.1, 0.05, -0.1, 0, 0.2, 0.1, 0, 0]];
  await checkGrad(t4, x, 1e-5, 'grad');
});

test('STM: univariate Student-t(ν = 2) values; mixture by logsumexp; gradient', async () => {
  // t₂(x) = Γ(3/2) / (Γ(1) √(2π)) (1 + x²/2)^(−3/2) = (1 + x²/2)^(−3/2) / (2√2)
  const t2 = (x: number, s = 1) => Math.pow(1 + (x / s) ** 2 / 2, -1.5) / (2 * Math.SQRT2) / s;
  const one = g.studentTMixtureTarget(bt.tensor([[0]]), bt.tensor([[[4]]]));
  assertClose(one.logDensity(bt.tensor([[0], [1], [-3]])), [0, 1, -3].map((x) => Math.log(t2(x, 0.5))), 1e-12, 0, 'one component, scale 1/2');
  const two = g.studentTMixtureTarget(bt.tensor([[-1], [2]]), bt.tensor([[[1]], [[0.25]]]));
  assertClose(two.logDensity(bt.tensor([[0.5], [3]])), [0.5, 3].map((x) => Math.log(0.5 * t2(x + 1) + 0.5 * t2(x - 2, 2))), 1e-12, 0, 'two components');
  const t = g.makeStmTarget(3, bt.random.key(4), { numComponents: 4 });
  await checkGrad(t, [[1, -2, 0.5], [10, 3, -4]], 1e-5, 'grad');
});

test('STM: sampler matches the Student-t CDF; recipe ranges; detected modes', async () => {
  // ν = 2, scale s: P(|x| < s) = 1/√3
  const one = g.studentTMixtureTarget(bt.tensor([[1]]), bt.tensor([[[4]]]));
  const n = 20000;
  const x = Array.from(one.sample(n, bt.random.key(5)).dataSync());
  const p = x.filter((v) => Math.abs(v - 1) < 0.5).length / n;
  const want = 1 / Math.sqrt(3);
  assert.ok(Math.abs(p - want) < 4 * Math.sqrt(want * (1 - want) / n), `P(|x − μ| < s) = ${p}, want ${want}`);
  const stm = g.makeStmTarget(20, bt.random.key(6));
  const mu = stm.means.toArray() as number[][];
  assert.is(mu.length, 10);
  assert.ok(mu.flat().every((v) => v > -20 && v < 20));
  assert.is(await stm.detectedModes(stm.means), 10);
  assert.is(await stm.detectedModes(bt.add(stm.means, 100)), 0);
  const s300 = g.makeStmTarget(30, bt.random.key(7), { numComponents: 20, meanRange: 25 });
  assert.equal(s300.means.shape, [20, 30]);
});

test('logistic regression: hand-computed value on 3 rows; breastCancer at θ = 0; gradient', async () => {
  const feats = [[1, 5], [2, 4], [3, 9]];
  const y = [1, 0, 1];
  const t = g.logisticRegressionTarget(feats, y);
  assert.is(t.numDimensions, 3);
  const sd = [Math.sqrt(2 / 3), Math.sqrt(((5 - 6) ** 2 + (4 - 6) ** 2 + (9 - 6) ** 2) / 3)];
  const th = [0.3, -0.2, 0.1];
  const lsig = (z: number) => -Math.log1p(Math.exp(-z));
  let want = -1.5 * Math.log(2 * Math.PI * 100) - th.reduce((s, v) => s + v * v, 0) / 200;
  feats.forEach((r, i) => {
    const z = (r[0]! / sd[0]!) * th[0]! + (r[1]! / sd[1]!) * th[1]! + th[2]!;
    want += y[i]! * lsig(-z) + (1 - y[i]!) * lsig(z);
  });
  assertClose(t.logDensity(bt.tensor([th])), [want], 1e-12, 0, 'log p');
  await checkGrad(t, [th, [-1, 2, 0.5]], 1e-6, 'grad');
  const { x, y: yy } = loadBreastCancerRaw();
  const bc = g.logisticRegressionTarget(x, yy);
  assert.is(bc.numDimensions, 31);
  assertClose(bc.logDensity(bt.zeros([1, 31])), [-15.5 * Math.log(2 * Math.PI * 100) + 569 * Math.log(0.5)], 1e-12, 0, 'θ = 0');
});

test('logistic regression minibatch: N·mean over a batch; unbiased for the full density', () => {
  const feats = [[1, 5], [2, 4], [3, 9], [0.5, 7]];
  const y = [1, 0, 1, 0];
  const full = g.logisticRegressionTarget(feats, y);
  const mb = g.logisticRegressionTarget(feats, y, { minibatchSize: 2, key: bt.random.key(8) });
  const th = bt.tensor(new Array(4000).fill([0.5, -0.4, 0.2]));
  const v = Array.from(mb.logDensity(th).dataSync());
  const m = v.reduce((s, a) => s + a, 0) / v.length;
  const sdv = Math.sqrt(v.reduce((s, a) => s + (a - m) ** 2, 0) / (v.length - 1));
  const exact = full.logDensity(bt.tensor([[0.5, -0.4, 0.2]])).dataSync()[0]!;
  assert.ok(sdv > 0, 'batches differ per sample');
  assert.ok(Math.abs(m - exact) < 4 * sdv / Math.sqrt(v.length), `mean ${m} vs ${exact}`);
  assertClose(mb.fullBatchLogDensity(bt.tensor([[0.5, -0.4, 0.2]])), [exact], 1e-14, 0, 'full batch');
});

test('DiagGMM recipe; 2-D helpers normalised with their modes', async () => {
  const t = g.makeDiagGmmTarget(4, bt.random.key(9));
  const c = g.covs(t.gmm).toArray() as number[][][];
  c.forEach((m) => m.forEach((r, i) => r.forEach((v, j) => assert.ok(i === j ? v > 0 && v <= 10.001 : v === 0))));
  for (const h of [g.starTarget(), g.threeComponentTarget({ scale: 2 })]) {
    const step = 0.04;
    const pts: number[][] = [];
    for (let a = -12; a <= 12; a += step) for (let b = -12; b <= 12; b += step) pts.push([a, b]);
    const tot = Array.from(bt.exp(h.logDensity(bt.tensor(pts))).dataSync()).reduce((s, v) => s + v, 0) * step * step;
    assert.ok(Math.abs(tot - 1) < 2e-3, `∑ p Δ² = ${tot}`);
    assert.is(await h.detectedModes(h.gmm.means), h.gmm.means.shape[0]);
  }
});

test.run();
