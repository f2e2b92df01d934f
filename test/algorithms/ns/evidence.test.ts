/**
 * Known evidences (jaxns' test problems, port notes §3): each run's log Z within 3·logZUncert of
 * the exact value over fixed seeds, and on `basic` the reported uncertainty against the spread
 * over 20 seeds. The 8-D correlated Gaussian runs twice here (≈ 6 s each); more seeds live in
 * examples/ns/validate.ts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { basic, basic2, plateau, correlatedGaussian } from '../../../examples/ns/problems.js';
import { jaxnsCriterion, within3Sigma } from './criterion.js';

const within = within3Sigma;

test('basic (x ~ U(0,1), log L = −x²): log Z = −0.29193 within 3σ over 3 seeds, and jaxns\' sampleEvidence criterion', async () => {
  const ns = new bt.ns.NestedSampler(basic());
  assert.is(ns.numLivePoints, 30);
  assert.is(ns.numSlices, 5);
  for (const seed of [0, 1, 2]) {
    const r = await ns.run(bt.random.key(seed));
    within(r, -0.29193, `basic seed ${seed}`);
    jaxnsCriterion(r, -0.29193, `basic seed ${seed}`, bt.random.key(40 + seed));
    assert.equal(r.terminationReasons, ['dlogZ']);
    assert.is(r.USamples.shape[0], r.totalNumSamples);
    assert.equal(r.samples.x!.shape, [r.totalNumSamples]);
    // posterior weights are normalised
    assert.ok(Math.abs(bt.logsumexp(r.logDpMean).item() as number) < 1e-9);
  }
});

test('basic2 (L = 1 − x²): log Z = log(2/3) within 3σ over 3 seeds, and jaxns\' sampleEvidence criterion', async () => {
  const ns = new bt.ns.NestedSampler(basic2());
  for (const seed of [0, 1, 2]) {
    const r = await ns.run(bt.random.key(seed));
    within(r, Math.log(2 / 3), `basic2 seed ${seed}`);
    jaxnsCriterion(r, Math.log(2 / 3), `basic2 seed ${seed}`, bt.random.key(50 + seed));
  }
});

test('plateau (L = 1): stops on the plateau after the first c points, log Z = 0 within 3σ, jaxns\' criterion', async () => {
  const r = await new bt.ns.NestedSampler(plateau()).run(bt.random.key(0));
  assert.ok(r.terminationReasons.includes('plateau'));
  assert.is(r.totalNumLikelihoodEvaluations, 30);
  within(r, 0, 'plateau');
  jaxnsCriterion(r, 0, 'plateau', bt.random.key(1));
});

test('calibration on basic: 20 seeds, mean error within 3 standard errors, spread / reported in [0.6, 1.6]', async () => {
  const model = basic();
  const errs: number[] = [];
  const unc: number[] = [];
  for (let s = 0; s < 20; s++) {
    const r = await new bt.ns.NestedSampler(model).run(bt.random.key(100 + s));
    errs.push(r.logZMean - -0.29193);
    unc.push(r.logZUncert);
  }
  const mean = errs.reduce((a, b) => a + b) / errs.length;
  const sd = Math.sqrt(errs.reduce((a, b) => a + (b - mean) ** 2, 0) / (errs.length - 1));
  const rep = unc.reduce((a, b) => a + b) / unc.length;
  assert.ok(Math.abs(mean) < (3 * sd) / Math.sqrt(errs.length), `mean error ${mean}, spread ${sd}`);
  assert.ok(sd / rep > 0.6 && sd / rep < 1.6, `spread ${sd} vs reported ${rep}`);
});

test('8-D correlated Gaussian (prior N(15, I), Σ_ij = 0.99): log Z = −109.2649 within 3σ (jaxns defaults, two seeds)', async () => {
  const { model, exact } = correlatedGaussian(8);
  assert.ok(Math.abs(exact - -109.2649) < 1e-4, `exact ${exact}`);
  const ns = new bt.ns.NestedSampler(model);
  assert.is(ns.numLivePoints, 240);
  assert.is(ns.numSlices, 40);
  // over 12 seeds the error is +0.06 ± 0.15 (spread 0.51, reported 0.37): seed 0's +1.06 is the tail of that spread, not a bias
  for (const seed of [1, 0]) {
    const r = await ns.run(bt.random.key(seed));
    within(r, exact, `8-D Gaussian seed ${seed}`);
    jaxnsCriterion(r, exact, `8-D Gaussian seed ${seed}`, bt.random.key(7 + seed));
    if (seed === 0) posteriorMean(r);
  }
});

function posteriorMean(r: bt.ns.NestedSamplerResults): void {
  // posterior draws: along 1, Σ has eigenvalue λ = 0.01 + 8·0.99, so the posterior mean is 15·λ/(1 + λ) per coordinate
  const x = bt.ns.resample(bt.random.key(1), r, 2000).x!;
  const m = bt.mean(x).item() as number;
  const lam = 0.01 + 8 * 0.99;
  assert.ok(Math.abs(m - (15 * lam) / (1 + lam)) < 0.1, `posterior mean ${m}`);
}

test.run();
