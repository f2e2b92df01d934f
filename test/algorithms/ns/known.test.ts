/**
 * Known evidences of jaxns' docs examples (port notes §3) on multimodal 2-D problems, at jaxns'
 * defaults (c = 30·D) unless the example asks for difficultModel: within 3·logZUncert at fixed
 * keys, and jaxns' own sampleEvidence criterion.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { dualMoon, eggBox, gaussianShells } from '../../../examples/ns/problems.js';
import { jaxnsCriterion, within3Sigma } from './criterion.js';

test('Gaussian shells (two rings, U(−6, 6)²): log Z = −1.7456 within 3σ over 2 seeds, jaxns\' criterion', async () => {
  const { model, exact } = gaussianShells();
  const ns = new bt.ns.NestedSampler(model);
  for (const seed of [0, 1]) {
    const r = await ns.run(bt.random.key(seed));
    within3Sigma(r, exact, `shells seed ${seed}`);
    jaxnsCriterion(r, exact, `shells seed ${seed}`, bt.random.key(60 + seed));
    // both shells are found: posterior mass on each side of θ₂ = 0
    const th = bt.ns.resample(bt.random.key(seed), r, 1000).theta!;
    const up = (Array.from(bt.slice(th, [0, 1], [1000, 1]).dataSync()) as number[]).filter((v) => v > 0).length;
    assert.ok(up > 300 && up < 700, `shells seed ${seed}: ${up} of 1000 draws in the upper shell`);
  }
});

test('egg box (difficultModel, U(0, 10π)²): log Z = 235.856 within 3σ over 2 seeds, jaxns\' criterion', async () => {
  const { model, exact } = eggBox();
  const ns = new bt.ns.NestedSampler(model, { difficultModel: true });
  assert.is(ns.numLivePoints, 200);
  assert.is(ns.numSlices, 20);
  assert.not.ok(ns.midpointShrink);
  for (const seed of [0, 1]) {
    const r = await ns.run(bt.random.key(seed));
    within3Sigma(r, exact, `egg box seed ${seed}`);
    jaxnsCriterion(r, exact, `egg box seed ${seed}`, bt.random.key(70 + seed));
  }
});

test('dual moon (U(−4, 4)²): log Z = −5.1049 within 3σ over 2 seeds, jaxns\' criterion', async () => {
  const { model, exact } = dualMoon();
  const ns = new bt.ns.NestedSampler(model);
  for (const seed of [0, 1]) {
    const r = await ns.run(bt.random.key(seed));
    within3Sigma(r, exact, `dual moon seed ${seed}`);
    jaxnsCriterion(r, exact, `dual moon seed ${seed}`, bt.random.key(80 + seed));
  }
});

test.run();
