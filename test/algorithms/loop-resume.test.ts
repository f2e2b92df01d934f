/**
 * Acceptance: SG-MCMC and VI run through the one loop; a checkpointed run, interrupted and
 * resumed from the JSON text of its checkpoint, equals the uninterrupted run bit for bit on the
 * CPU; abort and early stop are told apart.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { findWebgpu } from '../backend-harness.js';

const bits = (t: bt.Tensor) => Array.from(new Uint8Array(t.dataSync().buffer.slice(0)));
const flatBits = (tree: unknown) => (bt.tree.leaves(tree).filter((l) => l instanceof bt.Tensor) as bt.Tensor[]).map(bits);

// ---------------------------------------------------------------- SG-MCMC
const X = bt.tidy(() => bt.keep(bt.random.normal(bt.random.key(11), [40, 2])));
const y = bt.tidy(() => bt.keep(bt.cast(bt.greater(X.matmul(bt.tensor([[1], [-2]])).reshape([40]), 0), 'float64')));
/** Logistic regression on a minibatch (scaled to the full data) with a N(0, 1) prior. */
const logPost = (p: { w: bt.Tensor }, b: { x: bt.Tensor; y: bt.Tensor }): [bt.Tensor, never[]] => {
  const z = b.x.matmul(p.w.reshape([2, 1])).reshape([b.x.shape[0]!]);
  const ll = b.y.mul(z).sub(bt.softplus(z)).sum().mul(40 / b.x.shape[0]!);
  return [ll.sub(p.w.square().sum().mul(0.5)), []];
};

test('sgmcmc.run: checkpoint every 25, abort at 60, resume from JSON text (fresh minibatch iterator) = uninterrupted, bit for bit', async () => {
  const sampler = bt.sgmcmc.sghmc.build(logPost, { lr: 1e-3, alpha: 0.1 });
  const key = bt.random.key(5);
  const init = sampler.init({ w: bt.zeros([2]) }, bt.random.key(6));
  const batches = () => bt.sgmcmc.minibatches({ x: X, y }, { batchSize: 8, key: bt.random.key(7) });
  const opts = { steps: 150, key, progress: false } as const;
  const full = await bt.sgmcmc.run(sampler, init, { ...opts, batches: batches() });
  assert.is(full.reason, 'completed');
  const saved: string[] = [];
  const ac = new AbortController();
  const part = await bt.sgmcmc.run(sampler, init, {
    ...opts, batches: batches(), signal: ac.signal,
    checkpoint: { every: 25, save: (c) => void saved.push(JSON.stringify(c)) },
    onStep: (_s, _a, t) => void (t === 60 && ac.abort()),
  });
  assert.is(part.reason, 'aborted');
  assert.ok(part.aborted);
  assert.is(part.steps, 60);
  assert.is(saved.length, 2);
  assert.is(JSON.parse(saved[1]!).step, 50);
  bt.dispose(part.state);
  const rest = await bt.sgmcmc.run(sampler, init, { ...opts, batches: batches(), resume: saved[1]! });
  assert.is(rest.reason, 'completed');
  assert.is(rest.steps, 150);
  assert.is(rest.state.step, 150);
  assert.equal(flatBits(rest.state), flatBits(full.state), 'resumed = uninterrupted, every leaf (params, momenta, log posterior)');
  // resuming with no state at all works too
  const again = await bt.sgmcmc.run(sampler, null, { ...opts, batches: batches(), resume: JSON.parse(saved[0]!) });
  assert.equal(flatBits(again.state), flatBits(full.state));
  bt.dispose([full.state, rest.state, again.state]);
});

test('sgmcmc.run: onStep false is "terminated", the NaN check names the step, progress lines when asked', async () => {
  const sampler = bt.sgmcmc.sgld.build((p: bt.Tensor) => [p.square().sum().mul(-0.5), []], { lr: 0.01 });
  const st = sampler.init(bt.tensor([1, 2]));
  const r = await bt.sgmcmc.run(sampler, st, { steps: 100, key: bt.random.key(1), progress: false, onStep: (_s, _a, t) => t < 9 });
  assert.is(r.reason, 'terminated: onStep returned false');
  assert.not.ok(r.aborted);
  assert.is(r.steps, 9);
  const lines: string[] = [];
  await bt.sgmcmc.run(sampler, st, { steps: 3, key: bt.random.key(1), progress: { intervalMs: 0, delayMs: 0, write: (l) => void lines.push(l) } });
  assert.is(lines.length, 3);
  assert.match(lines[2]!, /^sgmcmc\.run \(sgld\): step 3\/3 \(100%\) .* logPosterior -[\d.]+$/);
});

// ---------------------------------------------------------------- VI
const SIGMA = [[1, 0.3], [0.3, 0.5]];
const yv = bt.keep(bt.simulators.mvnToy(SIGMA, 20)(bt.tensor([1, -0.5]), bt.random.key(7)));
const sigma = bt.keep(bt.tensor(SIGMA));
const problem = () => bt.vi.build({
  loss: (theta: bt.Tensor, data: bt.Tensor) => bt.simulators.gaussianNll(data, theta, { covariance: sigma }),
  prior: new bt.distributions.MultivariateNormal({ loc: bt.zeros([2]), covariance: bt.eye(2).mul(4) }),
  posteriorEstimator: new bt.distributions.MultivariateNormal({ loc: bt.zeros([2]), covariance: bt.eye(2) }),
  nSamplesPerEpoch: 4, nSamplesRegularisation: 200, optimizer: bt.optim.adam({ learningRate: 0.05 }),
});

test('vi.fit: checkpoint every 7, abort at 20, resume from JSON text = uninterrupted, bit for bit (params, optimiser, best, counters)', async () => {
  const t = problem();
  const key = bt.random.key(99);
  const s0 = t.init();
  const opts = { epochs: 60, key, patience: 15, progress: false } as const;
  const full = await bt.vi.fit(t, s0, yv, opts);
  const saved: string[] = [];
  const ac = new AbortController();
  const part = await bt.vi.fit(t, s0, yv, {
    ...opts, signal: ac.signal, checkpoint: { every: 7, save: (c) => void saved.push(JSON.stringify(c)) },
    onEpoch: (e) => void (e === 19 && ac.abort()),
  });
  assert.is(part.reason, 'aborted');
  assert.is(part.epochs, 20);
  assert.equal(part.history.total, full.history.total.slice(0, 20), 'the same epochs before the abort');
  bt.dispose(part.state);
  const rest = await bt.vi.fit(t, s0, yv, { ...opts, resume: saved.at(-1)! });
  assert.is(rest.reason, full.reason);
  assert.is(rest.epochs, full.epochs);
  assert.is(rest.state.epoch, full.state.epoch);
  assert.is(rest.bestLoss, full.bestLoss);
  assert.is(rest.bestEpoch, full.bestEpoch);
  assert.equal(rest.history.total, full.history.total.slice(14), 'epochs 14.. again');
  assert.equal(flatBits(rest.state), flatBits(full.state), 'every leaf of the state, best and optimiser included');
  // the state's best is the parameters at the best epoch's start: the loss there is the best total
  assert.is(rest.state.best.loss.item(), full.bestLoss);
  bt.dispose([full.state, rest.state]);
});

test('vi.fit with minDelta: bestLoss is state.best.loss (the parameters kept), minDelta only paces patience', async () => {
  const t = problem();
  const r = await bt.vi.fit(t, t.init(), yv, { epochs: 30, key: bt.random.key(2), patience: 5, minDelta: 1e6, progress: false });
  assert.is(r.reason, 'earlyStopped', 'no epoch beats the first by 1e6: patience runs out after 5 more');
  assert.is(r.epochs, 6);
  const lowest = Math.min(...r.history.total);
  assert.is(r.bestLoss, lowest);
  assert.is(r.bestLoss, r.state.best.loss.item());
  assert.is(r.bestEpoch, r.history.total.indexOf(lowest));
  bt.dispose(r.state);
});

test('vi.fit and VI.run tell abort from early stop; VI.run carries on from where it stopped', async () => {
  const t = problem();
  const key = bt.random.key(1);
  const s0 = t.init();
  const early = await bt.vi.fit(t, s0, yv, { epochs: 500, key, patience: 3, progress: false });
  assert.is(early.reason, 'earlyStopped');
  assert.ok(early.epochs < 500 && early.epochs - 1 - early.bestEpoch === 3, `stopped ${early.epochs - 1 - early.bestEpoch} epochs after the best`);
  bt.dispose(early.state);
  const vi = new bt.vi.VI({
    loss: (theta: bt.Tensor, data: bt.Tensor) => bt.simulators.gaussianNll(data, theta, { covariance: sigma }),
    prior: new bt.distributions.MultivariateNormal({ loc: bt.zeros([2]), covariance: bt.eye(2).mul(4) }),
    posteriorEstimator: new bt.distributions.MultivariateNormal({ loc: bt.zeros([2]), covariance: bt.eye(2) }),
    nSamplesPerEpoch: 4, nSamplesRegularisation: 200, key,
  });
  const ac = new AbortController();
  ac.abort();
  const a = await vi.run(yv, 10, Infinity, { signal: ac.signal });
  assert.is(a.reason, 'aborted');
  assert.ok(a.stoppedEarly);
  assert.is(a.epochs, 0);
  const r1 = await vi.run(yv, 5, Infinity);
  assert.is(r1.reason, 'completed');
  const r2 = await vi.run(yv, 5, 2);
  assert.ok(r2.reason === 'completed' || r2.reason === 'earlyStopped');
  assert.is(vi.state.epoch, 5 + r2.epochs);
  assert.is(vi.lossHistory.total.length, vi.state.epoch);
  const f = await bt.vi.fit(t, null, yv, { epochs: 1, key, progress: false }).catch((e: Error) => e);
  assert.instance(f, bt.ConfigError, 'fit needs a state (or resume)');
  vi.dispose();
});

const gpu = await findWebgpu('loop-resume');
if (typeof gpu !== 'string') {
  test('[webgpu] sgmcmc.run: the device-side tracker names the first non-finite step exactly (read every 10 steps); checkpoints read asynchronously and resume', async () => {
    bt.setBackend('webgpu'); // for the whole async body (withBackend restores at the first await)
    try {
      const s = bt.sgmcmc.sgld.build((p: bt.Tensor, b: number) => [b >= 23 ? p.sum().mul(NaN) : p.square().sum().mul(-0.5), []], { lr: 0.01 });
      const st = s.init(bt.tensor([1, 2]));
      try {
        await bt.sgmcmc.run(s, st, { steps: 100, key: bt.random.key(1), batches: (t) => t, checkEvery: 10, progress: false });
        assert.unreachable('no throw');
      } catch (e) {
        assert.instance(e, bt.NumericalError, String(e));
        assert.match((e as Error).message, /log posterior is not finite at step 23 \(checked every 10 steps/);
        bt.dispose((e as { state?: unknown }).state);
      }
      const ok = bt.sgmcmc.sgld.build((p: bt.Tensor) => [p.square().sum().mul(-0.5), []], { lr: 0.01 });
      const key = bt.random.key(2);
      const full = await bt.sgmcmc.run(ok, st, { steps: 40, key, progress: false });
      const saved: bt.loop.Checkpoint[] = [];
      const ac = new AbortController();
      await bt.sgmcmc.run(ok, st, { steps: 40, key, progress: false, signal: ac.signal, checkpoint: { every: 15, save: (c) => void saved.push(c) }, onStep: (_s, _a, t) => void (t === 20 && ac.abort()) })
        .then((r) => bt.dispose(r.state));
      const rest = await bt.sgmcmc.run(ok, st, { steps: 40, key, progress: false, resume: JSON.stringify(saved[0]) });
      assert.is(rest.state.params.backend, 'webgpu');
      assert.equal(Array.from(await rest.state.params.data()), Array.from(await full.state.params.data()), 'the same kernels on the same device: the same bits');
      bt.dispose([full.state, rest.state, st]);
    } finally {
      bt.setBackend('cpu');
    }
  });
} else console.log(`[note] loop-resume: WebGPU checks SKIPPED: ${gpu}`);

test.run();
