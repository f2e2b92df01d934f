/**
 * The sampler's mechanics: init/update are pure functions of state and key, the live-point
 * counts inside a shell, each termination condition, and run on the shared loop (progress, abort,
 * checkpoint and resume to the same result).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { basic, correlatedGaussian } from '../../../examples/ns/problems.js';
import { buildResults } from '../../../src/algorithms/nested-sampling/results.js';

const buildResultsOf = (ns: bt.ns.NestedSampler, s: bt.ns.NestedSamplerState) => buildResults(ns.model, s, 0, ns.k);

const { NestedSampler } = bt.ns;

const liveL = (s: bt.ns.NestedSamplerState) => s.live.map((i) => s.logL[i]!);

test('init and update: deterministic in the key, the input state untouched, counts c…c−m+1 per shell', () => {
  const ns = new NestedSampler(basic(), { numLivePoints: 20 });
  const s0 = ns.init(bt.random.key(1));
  const s0b = ns.init(bt.random.key(1));
  assert.equal(liveL(s0), liveL(s0b));
  assert.is(s0.numEval, 20);
  assert.equal([...liveL(s0)].sort((a, b) => a - b), liveL(s0), 'live points sorted by log L');
  assert.ok(s0.sender.every((p) => p === -1), 'the first c points hang from the root');
  const [s1, aux] = ns.update(s0, bt.random.key(2));
  const [s1b] = ns.update(s0, bt.random.key(2));
  assert.equal(liveL(s1), liveL(s1b));
  assert.is(s0.settled.length, 0, 'the input state is not mutated');
  assert.is(s0.logL.length, 20, 'the input state is not mutated');
  assert.equal(s1.settledN, [20, 19, 18, 17, 16, 15, 14, 13, 12, 11]);
  assert.equal(s1.settled, s0.live.slice(0, 10));
  assert.is(aux.logLStar, liveL(s0)[9]);
  assert.ok(liveL(s1).every((l) => l > aux.logLStar), 'every live point is above the contour');
  // the 10 new samples are sent by the contour's node
  assert.equal(s1.sender.slice(20), new Array(10).fill(s0.live[9]));
  assert.ok(s1.numEval > s0.numEval);
});

test('sender tree: crossed-edge counts equal the closed form c, c−1, …, c−m+1 per shell and N…1 at the end (k = 0)', async () => {
  const { countCrossedEdges } = bt.ns;
  // a hand-made tree: root → 0, 1, 2 (c = 3); node 1 (L = 2) sends 3, 4
  const t = countCrossedEdges([-1, -1, -1, 1, 1], [1, 2, 5, 3, 4]);
  assert.equal(Array.from(t.order), [0, 1, 3, 4, 2]);
  assert.equal(Array.from(t.numLive), [3, 2, 3, 2, 1]);
  const ns = new NestedSampler(correlatedGaussian(2).model, { numLivePoints: 40 });
  let s = ns.init(bt.random.key(5));
  for (let i = 0; i < 12; i++) s = ns.update(s, bt.random.key(100 + i))[0];
  const closed: number[] = [];
  for (let sh = 0; sh < 12; sh++) for (let i = 0; i < 20; i++) closed.push(40 - i);
  assert.equal(s.settledN, closed, 'the incremental counts are the closed form');
  const r = buildResultsOf(ns, s);
  const n = Array.from(r.numLivePointsPerSample.dataSync());
  assert.equal(n, closed.concat(Array.from({ length: 40 }, (_, i) => 40 - i)), 'the tree counts are the closed form');
  // and the results' moments are the sampler's running ones continued over the live points
  const logL = Array.from(r.logLSamples.dataSync());
  assert.equal(logL.slice(0, 240), s.settled.map((i) => s.logL[i]));
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
