/**
 * Evidence maximisation: the M-step objective and its gradient, the E-step against the sampler's
 * own run, a zero-size parameter, resume from JSON, bad input.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { logEvidence, mStepData } from '../../../src/algorithms/evidence-maximisation/objective.js';

const { Prior, Model, NestedSampler } = bt.ns;

// jaxns' test_basic: x ~ U(0, 1), y = x + Φ⁻¹(quickUnit(θ)) (a parametrised Normal(x, 1)), σ ~ Exp(1), L = N(0 | y, σ)
const basicModel = (zeroSize = false) =>
  new Model({
    priorModel: function* () {
      const x = yield new Prior({ dist: 'Uniform', low: 0, high: 1 }, 'x');
      const y = yield new Prior({ dist: 'Normal', loc: x, scale: 1 }, 'y').parametrised();
      const z = zeroSize ? yield new Prior(0, 'z').parametrised() : bt.tensor(0, { dtype: 'float64' });
      const sigma = yield new Prior({ dist: 'Exponential', rate: 1 }, 'sigma');
      return [y, sigma, z];
    },
    logLikelihood: (y: bt.Tensor, s: bt.Tensor, z: bt.Tensor) =>
      bt.add(bt.sub(bt.sub(bt.mul(-0.5, bt.square(bt.div(y, s))), bt.log(s)), 0.5 * Math.log(2 * Math.PI)), z),
  });
const th = (v: number) => ({ y_param: bt.tensor(v, { dtype: 'float64' }) });
const nsOptions = { maxSamples: 20000, numLivePoints: 60 };

test('the E-step equals the sampler run at model(params) with the same key', async () => {
  const model = basicModel();
  const em = new bt.em.EvidenceMaximisation({ model, nsOptions });
  const a = await em.eStep(bt.random.key(4), th(-0.3));
  const b = await new NestedSampler(model(th(-0.3)), nsOptions).run(bt.random.key(4));
  assert.is(a.logZMean, b.logZMean);
  assert.is(a.logZUncert, b.logZUncert);
  assert.is(a.ESS, b.ESS);
  assert.is(a.terminationReason, b.terminationReason);
  assert.is(a.totalNumLikelihoodEvaluations, b.totalNumLikelihoodEvaluations);
  assert.equal(Array.from(a.parametrisedSamples.y!.dataSync()), Array.from(b.parametrisedSamples.y!.dataSync()));
});

test('eStep hands onProgress and signal to the sampler run: progress reported; an abort returns the results so far', async () => {
  let calls = 0;
  let abortAt = Infinity;
  const ctl = new AbortController();
  const model = new Model({
    priorModel: function* () {
      const x = yield new Prior({ dist: 'Uniform', low: 0, high: 1 }, 'x');
      const y = yield new Prior({ dist: 'Normal', loc: x, scale: 1 }, 'y').parametrised();
      return [y];
    },
    // a few shells into the run the signal fires (the sampler checks it between shells)
    logLikelihood: (y: bt.Tensor) => {
      if (++calls === abortAt) ctl.abort();
      return bt.mul(-0.5, bt.square(y));
    },
  });
  // jit: false: the likelihood's side effect (counting calls) must run on every call, not only when traced
  const em = new bt.em.EvidenceMaximisation({ model, nsOptions: { maxSamples: 4000, numLivePoints: 30, jit: false } });
  const seen: number[] = [];
  const full = await em.eStep(bt.random.key(4), th(-0.3), { onProgress: (p) => seen.push(p.step) });
  assert.ok(seen.length >= 1 && seen[seen.length - 1]! > 1, `progress steps ${seen}`);
  abortAt = calls + 20;
  const cut = await em.eStep(bt.random.key(4), th(-0.3), { signal: ctl.signal });
  assert.ok(ctl.signal.aborted);
  assert.is(cut.terminationReason, 0, 'cut short: no termination condition holds');
  assert.ok(cut.totalNumLikelihoodEvaluations < full.totalNumLikelihoodEvaluations, `${cut.totalNumLikelihoodEvaluations} vs ${full.totalNumLikelihoodEvaluations}`);
  assert.ok(full.terminationReason !== 0);
});

test('train aborted inside an E-step answers with the last finished E-step and its params, and leaks no tensors', async () => {
  let armed = false;
  let calls = 0;
  const ctl = new AbortController();
  const model = new Model({
    priorModel: function* () {
      const x = yield new Prior({ dist: 'Uniform', low: 0, high: 1 }, 'x');
      const y = yield new Prior({ dist: 'Normal', loc: x, scale: 1 }, 'y').parametrised();
      return [y];
    },
    // once step 0 has finished, abort a few likelihood calls into step 1's E-step
    logLikelihood: (y: bt.Tensor) => {
      if (armed && ++calls === 5) ctl.abort();
      return bt.mul(-0.5, bt.square(y));
    },
  });
  // jit: false: the abort is triggered by counting likelihood calls, which a jitted likelihood only makes when traced
  const em = new bt.em.EvidenceMaximisation({ model, nsOptions: { maxSamples: 4000, numLivePoints: 30, jit: false }, logZFtol: 0, logZAtol: 0 });
  const before = bt.memory().numTensors;
  const r = await em.train(3, undefined, { signal: ctl.signal, onProgress: () => (armed = true) });
  assert.is(r.reason, 'aborted');
  assert.ok(calls >= 5, `likelihood calls after arming: ${calls}`);
  assert.is(r.history.length, 1, 'only step 0 finished');
  assert.is(r.results.logZMean, r.history[0]!.logZ);
  assert.ok(r.results.terminationReason !== 0, 'a finished E-step');
  assert.is(r.params.y_param!.item(), 0, 'the params that produced it (step 0 started at θ = 0)');
  bt.dispose([r.params, r.results]);
  assert.is(bt.memory().numTensors, before, 'tensors after the aborted train');
});

test('the M-step objective: log Ẑ at the E-step θ is its log Z; its gradient matches finite differences', async () => {
  const model = basicModel();
  const em = new bt.em.EvidenceMaximisation({ model, nsOptions });
  const r = await em.eStep(bt.random.key(1), th(0));
  const data = mStepData('test', r);
  const f = (t: bt.Tensor) => logEvidence(model, { y_param: t }, data);
  // Σ_i ΔX_i L_i = Σ dp_i Z = Z
  assert.ok(Math.abs((f(bt.tensor(0, { dtype: 'float64' })).item() as number) - r.logZMean) < 1e-10);
  for (const t0 of [0, -0.3, 0.5]) {
    const g = bt.grad(f)(bt.tensor(t0, { dtype: 'float64' })).item() as number;
    // the objective is sharply curved near a sample with y ≈ 0 and small σ: a small central step
    // (truncation ∝ h², rounding ≈ 1e-16·|f|/h, both below 1e-6 here)
    const h = 1e-7;
    const v = (t: number) => f(bt.tensor(t, { dtype: 'float64' })).item() as number;
    const fd = (v(t0 + h) - v(t0 - h)) / (2 * h);
    assert.ok(Math.abs(g - fd) < 1e-6 * Math.max(1, Math.abs(fd)), `θ = ${t0}: ${g} vs ${fd}`);
  }
});

test('L = 0 samples get weight −∞, not NaN: the objective stays finite', async () => {
  const model = new Model({
    priorModel: function* () {
      const x = yield new Prior({ dist: 'Uniform', low: 0, high: 1 }, 'x');
      const m = yield new Prior({ dist: 'Normal', loc: 0, scale: 1 }, 'm').parametrised();
      return [x, m];
    },
    // zero likelihood on x < 0.3
    logLikelihood: (x: bt.Tensor, m: bt.Tensor) => bt.where(bt.less(x, 0.3), -Infinity, bt.mul(-0.5, bt.square(bt.sub(x, m)))),
  });
  const em = new bt.em.EvidenceMaximisation({ model, nsOptions: { maxSamples: 3000 } });
  const r = await em.eStep(bt.random.key(0), model.params);
  assert.ok(Array.from(r.logLSamples.dataSync()).some((v) => v === -Infinity), 'some zero-likelihood samples');
  const m = em.mStep(bt.random.key(1), model.params, r);
  assert.ok(Number.isFinite(m.logZ) && Number.isFinite(m.params.m_param!.item() as number), `logZ ${m.logZ}`);
  // the optimum pulls m towards the mass of x on (0.3, 1): θ > 0
  assert.ok((m.params.m_param!.item() as number) > 0);
  assert.ok(m.logZ >= r.logZMean - 1e-9, 'the M-step does not lower log Ẑ');
});

test('a zero-size parameter runs (jaxns test_basic_zero_size_param)', async () => {
  const model = basicModel(true);
  assert.ok(Object.values(model.params).some((p) => p.size === 0));
  const em = new bt.em.EvidenceMaximisation({ model, nsOptions });
  const { results, params } = await em.train(2);
  assert.equal(Object.keys(params).sort(), ['y_param', 'z_param']);
  assert.equal(params.z_param!.shape, [0]);
  assert.ok(Number.isFinite(results.logZMean));
});

test('train resumed from a JSON checkpoint matches an uninterrupted run', async () => {
  const model = basicModel();
  const mk = () => new bt.em.EvidenceMaximisation({ model, nsOptions, logZFtol: 0, logZAtol: 0, key: bt.random.key(9) });
  const full = await mk().train(3);
  const saved: string[] = [];
  const ctl = new AbortController();
  const aborted = await mk().train(3, undefined, {
    checkpoint: { every: 1, save: (c) => { saved.push(JSON.stringify(c)); if (saved.length === 1) ctl.abort(); } },
    signal: ctl.signal,
  });
  assert.is(saved.length, 1);
  // aborted after step 0's M-step: the answer is step 0's E-step and the params that produced it
  assert.is(aborted.reason, 'aborted');
  assert.is(aborted.params.y_param!.item(), 0);
  assert.is(aborted.results.logZMean, full.history[0]!.logZ);
  const resumed = await mk().train(3, undefined, { resume: saved[0]! });
  assert.is(resumed.params.y_param!.item(), full.params.y_param!.item());
  assert.is(resumed.results.logZMean, full.results.logZMean);
  assert.equal(resumed.history.map((h) => h.logZ), full.history.map((h) => h.logZ));
  assert.is(full.history.length, 3);
  // the M-steps moved θ
  assert.is.not(full.params.y_param!.item(), 0);
});

test('bad input: ConfigError before sampling', async () => {
  const model = basicModel();
  const E = bt.em.EvidenceMaximisation;
  const cfg = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof bt.ConfigError && re.test((e as Error).message), String(re));
  cfg(() => new E({ model, nsOptions: {} }), /maxSamples/);
  cfg(() => new E({ model } as never), /maxSamples/);
  cfg(() => new E({ model, nsOptions, lr: 1 } as never), /unknown option 'lr'/);
  cfg(() => new E({ model, nsOptions, solver: 'bfgs' } as never), /unknown solver 'bfgs'/);
  cfg(() => new E({ model, nsOptions: { maxSamples: 1000, foo: 1 } as never }), /unknown option 'foo'/);
  cfg(() => new E({ model, nsOptions, gtol: -1 }), /gtol/);
  cfg(() => new E({ model, nsOptions, momentum: 1 }), /momentum/);
  cfg(() => new E({ model, nsOptions, minESSFraction: 2 }), /minESSFraction/);
  cfg(() => new E({ model: {} as never, nsOptions }), /ns.Model/);
  const em = new E({ model, nsOptions });
  cfg(() => em.mStep(bt.random.key(0), model.params, {} as never), /nested-sampling results/);
  // async: the error rejects the Promise (before any sampling)
  let err: unknown = null;
  await em.eStep(bt.random.key(0), { q_param: bt.tensor(0, { dtype: 'float64' }) }).catch((e: unknown) => (err = e));
  assert.ok(err instanceof bt.ConfigError, String(err));
  err = null;
  await em.eStep(bt.random.key(0), model.params, { lr: 1 } as never).catch((e: unknown) => (err = e));
  assert.ok(err instanceof bt.ConfigError && /unknown option 'lr'/.test((err as Error).message), String(err));
});

test('a NumericalError in a later E-step propagates from train and leaks no tensors', async () => {
  let poison = false;
  const model = new Model({
    priorModel: function* () {
      const x = yield new Prior({ dist: 'Uniform', low: 0, high: 1 }, 'x');
      const y = yield new Prior({ dist: 'Normal', loc: x, scale: 1 }, 'y').parametrised();
      return [y];
    },
    // NaN once the first step has run: the second E-step fails
    logLikelihood: (y: bt.Tensor) => bt.add(bt.mul(-0.5, bt.square(y)), poison ? NaN : 0),
  });
  const em = new bt.em.EvidenceMaximisation({ model, nsOptions: { maxSamples: 2000, numLivePoints: 20 }, solver: 'sgd', maxNumEpochs: 1 });
  const before = bt.memory().numTensors;
  let err: unknown = null;
  await em.train(3, undefined, { onProgress: () => (poison = true) }).catch((e: unknown) => (err = e));
  assert.ok(err instanceof bt.NumericalError, `expected a NumericalError, got ${String(err)}`);
  assert.is(bt.memory().numTensors, before, 'tensors after the failed train');
});

test.run();
