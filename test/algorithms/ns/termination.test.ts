/**
 * Termination: jaxns' criteria and bit values, and/or combination, each criterion checked on the
 * results it stopped, and the phantom (k > 0) bookkeeping that parameterEstimation switches on.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { correlatedGaussian } from '../../../examples/ns/problems.js';
import { evaluateTermination, type TerminationRegister } from '../../../src/algorithms/nested-sampling/termination.js';
import { buildResults } from '../../../src/algorithms/nested-sampling/results.js';

const { NestedSampler, TERMINATION_BITS: B } = bt.ns;

const reg = (o: Partial<TerminationRegister> = {}): TerminationRegister => ({
  numSamplesAfterNextShell: 100,
  logZDead: -1,
  logZWithLive: -0.95,
  logZUncert: 0.3,
  ESS: 50,
  numLikelihoodEvaluations: 1000,
  logLContour: -3,
  efficiency: 0.2,
  relativeSpread: 0.5,
  absoluteSpread: 2,
  logXL: -5,
  peakLogXL: -2,
  ...o,
});

test('bit values and names are jaxns\'', () => {
  assert.equal(Object.values(B), [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048]);
  assert.equal(bt.ns.terminationNames(4 | 2048), ['dlogZ', 'peakXLFrac']);
});

test('criteria: each bit set exactly when its criterion holds; a plain object ORs them', () => {
  const r = reg();
  assert.is(evaluateTermination({ dlogZ: 0.1 }, r), B.dlogZ);
  assert.is(evaluateTermination({ dlogZ: 0.01 }, r), 0);
  assert.is(evaluateTermination({ maxSamples: 99 }, r), B.maxSamples);
  assert.is(evaluateTermination({ maxSamples: 100 }, r), 0, 'stops before exceeding, not at');
  assert.is(evaluateTermination({ evidenceUncert: 0.3 }, r), B.evidenceUncert);
  assert.is(evaluateTermination({ ess: 50 }, r), B.ess);
  assert.is(evaluateTermination({ maxNumLikelihoodEvaluations: 1001 }, r), 0);
  assert.is(evaluateTermination({ logLContour: -3 }, r), B.logLContour);
  assert.is(evaluateTermination({ efficiencyThreshold: 0.25 }, r), B.efficiencyThreshold);
  assert.is(evaluateTermination({ rtol: 0.6, atol: 1 }, r), B.rtol);
  assert.is(evaluateTermination({ peakXLFrac: 0.1 }, r), B.peakXLFrac, 'log XL −5 < −2 + log 0.1');
  assert.is(evaluateTermination({ peakXLFrac: 0.01 }, r), 0);
  assert.is(evaluateTermination({ dlogZ: 0.1, ess: 10, atol: 1 }, r), B.dlogZ | B.ess);
  assert.is(evaluateTermination({ dlogZ: 0.1 }, reg({ logZDead: -Infinity })), 0, 'no dead points: no dlogZ stop');
  assert.is(evaluateTermination({ peakXLFrac: 0.5 }, reg({ logXL: NaN })), 0, 'no contour yet');
});

test('and / or: an and holds only when all parts do (then with all their bits); or when any does; nesting', () => {
  const r = reg();
  const { and, or } = bt.ns;
  assert.is(evaluateTermination(and({ dlogZ: 0.1 }, { ess: 100 }), r), 0);
  assert.is(evaluateTermination(and({ dlogZ: 0.1 }, { ess: 10 }), r), B.dlogZ | B.ess);
  assert.is(evaluateTermination({ and: [{ dlogZ: 0.1 }, { ess: 10, atol: 1 }] }, r), B.dlogZ | B.ess);
  assert.is(evaluateTermination(or({ dlogZ: 0.01 }, { ess: 10 }), r), B.ess);
  assert.is(evaluateTermination(or(and({ dlogZ: 0.1 }, { ess: 100 }), { logLContour: 0 }), r), 0);
  assert.is(evaluateTermination(or(and({ dlogZ: 0.1 }, { ess: 100 }), { logLContour: -4 }), r), B.logLContour);
});

test('bad conditions: ConfigError naming the part', async () => {
  const ns = new NestedSampler(correlatedGaussian(2).model);
  const key = bt.random.key(0);
  const bad = async (cond: unknown, re: RegExp) => {
    try {
      await ns.run(key, { terminationCond: cond as never });
    } catch (e) {
      assert.instance(e, bt.ConfigError);
      assert.match((e as Error).message, re);
      return;
    }
    assert.unreachable(`expected a ConfigError for ${JSON.stringify(cond)}`);
  };
  await bad({ and: [] }, /terminationCond\.and must be a non-empty array/);
  await bad(bt.ns.and({ dlogZ: 0.1 }, { esss: 3 } as never), /unknown termination condition 'esss' in terminationCond\.and\[1\]/);
  await bad({ and: [{ dlogZ: 0.1 }], ess: 3 }, /mixes 'and' with other keys/);
  await bad({ peakXLFrac: 1.5 }, /peakXLFrac must be in \(0, 1\)/);
  await bad({ atol: -1 }, /atol must be a positive number/);
  await bad([{ dlogZ: 1 }], /must be an object of criteria/);
});

test('runs: each criterion stops where the results say it holds', async () => {
  const model = correlatedGaussian(2).model;
  const ns = new NestedSampler(model);
  const c = ns.numLivePoints;
  const key = bt.random.key(11);
  const top = (r: bt.ns.NestedSamplerResults) => {
    const l = Array.from(r.logLSamples.dataSync());
    // k = 0: the last c samples are the final live points, the one before them the last contour
    return { live: l.slice(-c), contour: l[l.length - c - 1]! };
  };
  const ref = await ns.run(key);
  assert.equal(ref.terminationReasons, ['dlogZ']);
  const u = await ns.run(key, { terminationCond: { evidenceUncert: 0.7 } });
  assert.equal(u.terminationReasons, ['evidenceUncert']);
  assert.ok(u.logZUncert <= 0.7 && u.totalNumSamples > c && u.totalNumSamples < ref.totalNumSamples, `uncert ${u.logZUncert}`);
  const a = await ns.run(key, { terminationCond: { atol: 1 } });
  const ta = top(a);
  assert.equal(a.terminationReasons, ['atol']);
  assert.ok(ta.live[c - 1]! - ta.live[0]! < 1);
  const rt = await ns.run(key, { terminationCond: { rtol: 0.2 } });
  const tr = top(rt);
  assert.equal(rt.terminationReasons, ['rtol']);
  assert.ok((2 * (tr.live[c - 1]! - tr.live[0]!)) / Math.abs(tr.live[c - 1]! + tr.live[0]!) < 0.2);
  const e = await ns.run(key, { terminationCond: { efficiencyThreshold: 0.06 } });
  assert.equal(e.terminationReasons, ['efficiencyThreshold']);
  assert.ok(e.totalNumLikelihoodEvaluations < ref.totalNumLikelihoodEvaluations);
  const p = await ns.run(key, { terminationCond: { peakXLFrac: 0.1 } });
  assert.equal(p.terminationReasons, ['peakXLFrac']);
  assert.ok(p.totalNumSamples < ref.totalNumSamples);
  const both = await ns.run(key, { terminationCond: bt.ns.and({ maxNumLikelihoodEvaluations: 3000 }, { logLContour: -40 }) });
  assert.equal(both.terminationReasons, ['maxNumLikelihoodEvaluations', 'logLContour']);
  assert.ok(both.totalNumLikelihoodEvaluations >= 3000 && top(both).contour >= -40);
  const either = await ns.run(key, { terminationCond: bt.ns.or({ maxNumLikelihoodEvaluations: 3000 }, { logLContour: -40 }) });
  assert.ok(either.totalNumSamples < both.totalNumSamples || either.totalNumSamples === both.totalNumSamples);
  assert.ok(either.terminationReasons.length >= 1);
});

test('phantoms: c = numLivePoints/(k+1), counts above c, the running counts are the tree\'s, log Z within 3σ', async () => {
  const { model, exact } = correlatedGaussian(2);
  const ns = new NestedSampler(model, { numLivePoints: 180, k: 2 });
  assert.is(ns.numLivePoints, 60);
  assert.is(ns.maxSamples % (ns.shellSize * 3), 0);
  assert.ok(ns.maxSamples >= 100 * 60 * 3);
  let s = ns.init(bt.random.key(3));
  for (let i = 0; i < 15; i++) s = ns.update(s, bt.random.key(200 + i))[0];
  assert.ok(!s.uniformPhase, 'slice sampling (and phantoms) reached');
  const r = buildResults(ns.model, s, 0, ns.k);
  const n = Array.from(r.numLivePointsPerSample.dataSync());
  assert.equal(n.slice(0, s.settledN.length), s.settledN, 'incremental counts = count_crossed_edges');
  assert.ok(Math.max(...n) > 60, 'phantoms cross the contours too');
  assert.is(r.totalNumSamples, s.logL.length);
  const zero = s.cost.filter((v) => v === 0).length;
  assert.ok(zero > 0 && zero % 2 === 0, `${zero} zero-cost phantoms, k = 2 per chain`);
  const run = await ns.run(bt.random.key(4));
  assert.ok(Math.abs(run.logZMean - exact) <= 3 * run.logZUncert, `log Z ${run.logZMean} ± ${run.logZUncert}, exact ${exact}`);
});

test('parameterEstimation: k = min(D, s·D − 1) and the peakXLFrac stop', async () => {
  const { model, exact } = correlatedGaussian(2);
  const ns = new NestedSampler(model, { parameterEstimation: true });
  assert.is(ns.k, 2);
  assert.is(ns.numLivePoints, 60);
  assert.equal(ns.defaultTerminationCond, { peakXLFrac: 0.1 });
  const r = await ns.run(bt.random.key(5));
  assert.ok(r.terminationReasons.includes('peakXLFrac'), r.terminationReasons.join());
  assert.ok(Math.abs(r.logZMean - exact) <= 3 * r.logZUncert, `log Z ${r.logZMean} ± ${r.logZUncert}, exact ${exact}`);
  assert.is(new NestedSampler(correlatedGaussian(1).model, { parameterEstimation: true, s: 1 }).k, 0, 's·D − 1 = 0');
});

test.run();
