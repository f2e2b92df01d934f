/**
 * The sampler's mechanics: init/update are pure functions of state and key, the live-point
 * counts inside a shell, each termination condition, and run on the shared loop (progress, abort,
 * checkpoint and resume to the same result).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { basic, correlatedGaussian } from '../../../examples/ns/problems.js';

const { NestedSampler } = bt.ns;

test('init and update: deterministic in the key, the input state untouched, counts c…c−m+1 per shell', () => {
  const ns = new NestedSampler(basic(), { numLivePoints: 20 });
  const s0 = ns.init(bt.random.key(1));
  const s0b = ns.init(bt.random.key(1));
  assert.equal(s0.liveL, s0b.liveL);
  assert.is(s0.numEval, 20);
  assert.equal([...s0.liveL].sort((a, b) => a - b), s0.liveL, 'live points sorted by log L');
  const [s1, aux] = ns.update(s0, bt.random.key(2));
  const [s1b] = ns.update(s0, bt.random.key(2));
  assert.equal(s1.liveL, s1b.liveL);
  assert.is(s0.deadL.length, 0, 'the input state is not mutated');
  assert.equal(s1.deadN, [20, 19, 18, 17, 16, 15, 14, 13, 12, 11]);
  assert.equal(s1.deadL, s0.liveL.slice(0, 10));
  assert.is(aux.logLStar, s0.liveL[9]);
  assert.ok(s1.liveL.every((l) => l >= aux.logLStar), 'every live point is above the contour');
  assert.ok(s1.numEval > s0.numEval);
});

test('termination conditions: maxSamples, maxNumLikelihoodEvaluations, ess, logLContour (reasons named)', async () => {
  const { model } = correlatedGaussian(2);
  const ns = new NestedSampler(model);
  const key = bt.random.key(3);
  const a = await ns.run(key, { terminationCond: { maxSamples: 300 } });
  assert.equal(a.terminationReasons, ['maxSamples']);
  assert.ok(a.totalNumSamples <= 300, `${a.totalNumSamples} samples`);
  const b = await ns.run(key, { terminationCond: { maxNumLikelihoodEvaluations: 2000 } });
  assert.ok(b.terminationReasons.includes('maxNumLikelihoodEvaluations'));
  assert.ok(b.totalNumLikelihoodEvaluations >= 2000 && b.totalNumLikelihoodEvaluations < 8000, String(b.totalNumLikelihoodEvaluations));
  const c = await ns.run(key, { terminationCond: { ess: 50 } });
  assert.ok(c.terminationReasons.includes('ess') && c.ESS >= 50);
  const d = await ns.run(key, { terminationCond: { logLContour: -60 } });
  assert.ok(d.terminationReasons.includes('logLContour'));
  assert.is(d.terminationReason & bt.ns.TERMINATION_BITS.logLContour, bt.ns.TERMINATION_BITS.logLContour);
  // the default sampler caps samples at 100·c
  const small = new NestedSampler(model, { maxSamples: 200 });
  assert.ok((await small.run(key)).totalNumSamples <= 200);
});

test('run: onProgress, abort keeps the results so far (reason 0), checkpoint and resume give the uninterrupted result', async () => {
  const { model } = correlatedGaussian(2);
  const ns = new NestedSampler(model);
  const key = bt.random.key(4);
  let calls = 0;
  const full = await ns.run(key, { onProgress: () => void calls++ });
  assert.ok(calls > 0);
  const ac = new AbortController();
  let saved = '';
  const part = await ns.run(key, {
    signal: ac.signal,
    checkpoint: {
      every: 3,
      save: (cp) => {
        saved = JSON.stringify(cp);
        ac.abort();
      },
    },
  });
  assert.is(part.terminationReason, 0);
  assert.ok(part.totalNumSamples < full.totalNumSamples);
  const resumed = await ns.run(key, { resume: JSON.parse(saved) });
  assert.is(resumed.logZMean, full.logZMean);
  assert.is(resumed.totalNumLikelihoodEvaluations, full.totalNumLikelihoodEvaluations);
  assert.equal(resumed.terminationReasons, full.terminationReasons);
});

test.run();
