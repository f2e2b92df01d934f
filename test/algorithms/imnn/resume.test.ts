/**
 * IMNN fit on the shared loop: a fit interrupted (AbortSignal) after a checkpoint and resumed
 * from the checkpoint's JSON text on a fresh instance equals the uninterrupted fit bit for bit on
 * the CPU — history, maxDetF, patience counters, best and final weights, optimiser state, F — for
 * GradientIMNN with validation and for AggregatedSimulatorIMNN (keys per iteration); a state saved
 * with bt.tree.toJSON resumes the weights (keyOrState); a checkpoint of another fit is refused.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';

const bits = (t: bt.Tensor) => Array.from(new Uint8Array(t.dataSync().slice().buffer));
const treeBits = (tree: unknown) => (bt.tree.leaves(tree).filter((l) => l instanceof bt.Tensor) as bt.Tensor[]).map(bits);

const nS = 20;
const nD = 10;
const fid = bt.random.normal(bt.random.key(1), [nS, 6]);
const der = bt.stack([bt.ones([nD, 6]), fid.slice([0], [nD]).mul(0.5)], -1);
const vfid = bt.random.normal(bt.random.key(2), [nS, 6]);
const vder = bt.stack([bt.ones([nD, 6]), vfid.slice([0], [nD]).mul(0.5)], -1);
const sim = (k: bt.Tensor, θ: bt.Tensor) => bt.random.normal(k, [6]).mul(θ.slice([1], [1]).sqrt()).add(θ.slice([0], [1]));
const model = bt.nn.mlp({ sizes: [6, 12, 2], activation: 'leakyRelu' });
/** Adam, with a hook that fires on its n-th update (to abort a fit mid-way). */
function optimiser(onUpdate: (n: number) => void = () => {}): bt.optim.GradientTransformation<any> {
  const adam = bt.optim.adam({ learningRate: 1e-2 });
  let n = 0;
  return { init: (p) => adam.init(p), update: (g, s, p) => (onUpdate(++n), adam.update(g, s, p)) };
}
const common = (seed: number, opt = optimiser()) => ({ nS, nD, nParams: 2, nSummaries: 2, inputShape: [6], θFid: [0, 1], model, optimiser: opt, keyOrState: bt.random.key(seed) });

/** Runs `make(...)`'s fit whole, and again aborted at update `abortAt` with checkpoints every `every`, then resumes a fresh instance from the checkpoint `from` (JSON text). */
async function interruptAndResume(make: (seed: number, opt?: bt.optim.GradientTransformation<any>) => bt.imnn.IMNNBase, fitOpts: bt.imnn.FitOptions, every: number, abortAt: number, from: number) {
  const full = make(3);
  await full.fit(10, 0.1, fitOpts);
  const ac = new AbortController();
  const saved: string[] = [];
  const part = make(3, optimiser((n) => void (n === abortAt && ac.abort())));
  await part.fit(10, 0.1, { ...fitOpts, signal: ac.signal, checkpoint: { every, save: (c) => void saved.push(JSON.stringify(c)) } });
  assert.is(part.history.detF.length, abortAt, 'stopped by the signal after the update that aborted');
  assert.equal(part.history.detF, full.history.detF.slice(0, abortAt));
  assert.is(JSON.parse(saved[from]!).done, (from + 1) * every);
  // a fresh instance, even with another key: the state, counters and history are the checkpoint's
  const resumed = make(77);
  await resumed.fit(10, 0.1, { ...fitOpts, resume: saved[from]! });
  return { full, resumed, saved };
}

function assertSameFit(a: bt.imnn.IMNNBase, b: bt.imnn.IMNNBase): void {
  assert.equal(a.history, b.history, 'history (validation included) and maxDetF');
  assert.equal(treeBits(a.w), treeBits(b.w), 'the weights kept (best)');
  assert.equal(treeBits(a.state), treeBits(b.state), 'final weights and optimiser state');
  assert.equal(bits(a.F!), bits(b.F!), 'F at the end');
}

test('GradientIMNN with validation: abort at 13, resume from the checkpoint at 10 = the uninterrupted fit (patience stop included)', async () => {
  const make = (seed: number, opt?: bt.optim.GradientTransformation<any>) => new bt.imnn.GradientIMNN({ ...common(seed, opt), fiducial: fid, derivative: der, validationFiducial: vfid, validationDerivative: vder });
  const opts = { minIterations: 2, patience: 14, maxIterations: 40 };
  const { full, resumed } = await interruptAndResume(make, opts, 5, 13, 1);
  // the validation det F peaks early (overfitting): patience, counted after minIterations, ends it after the resume
  assert.ok(full.history.detF.length > 13 && full.history.detF.length < 40, `${full.history.detF.length} iterations`);
  assertSameFit(resumed, full);
});

test('AggregatedSimulatorIMNN (fresh simulations each iteration from foldIn(rng, t)): resume from a JSON checkpoint = uninterrupted', async () => {
  const make = (seed: number, opt?: bt.optim.GradientTransformation<any>) => new bt.imnn.AggregatedSimulatorIMNN({ ...common(seed, opt), simulator: sim, devices: ['cpu'], nPerDevice: 5 });
  const opts = { rng: bt.random.key(8), minIterations: 0, patience: 100, maxIterations: 12, best: false };
  const { full, resumed, saved } = await interruptAndResume(make, opts, 4, 7, 0);
  assert.is(full.history.detF.length, 12);
  assertSameFit(resumed, full);
  // another rng than the checkpoint's would not continue the saved run
  const other = make(3);
  await other.fit(10, 0.1, { ...opts, rng: bt.random.key(9), resume: saved[0]! }).then(
    () => assert.unreachable('resumed with another rng'),
    (e: Error) => assert.ok(e instanceof bt.ConfigError && /key differs/.test(e.message), e.message),
  );
});

test('keyOrState: a state saved as JSON (bt.tree.toJSON) gives the same network and carries on like the original', async () => {
  const m = new bt.imnn.GradientIMNN({ ...common(3), fiducial: fid, derivative: der });
  await m.fit(10, 0.1, { minIterations: 0, patience: 100, maxIterations: 5, best: false });
  const text = JSON.stringify(await bt.tree.toJSON(m.state));
  const r = new bt.imnn.GradientIMNN({ ...common(4), fiducial: fid, derivative: der, keyOrState: bt.tree.fromJSON(JSON.parse(text)) });
  assert.equal(treeBits(r.state), treeBits(m.state));
  await m.fit(10, 0.1, { minIterations: 0, patience: 100, maxIterations: 3, best: false });
  await r.fit(10, 0.1, { minIterations: 0, patience: 100, maxIterations: 3, best: false });
  assert.equal(treeBits(r.state), treeBits(m.state), 'the same three further updates');
});

test('resume refuses another fit\'s checkpoint, other settings, and a plain loop checkpoint', async () => {
  const saved: string[] = [];
  const g = new bt.imnn.GradientIMNN({ ...common(3), fiducial: fid, derivative: der });
  await g.fit(10, 0.1, { minIterations: 0, patience: 100, maxIterations: 4, checkpoint: { every: 2, save: (c) => void saved.push(JSON.stringify(c)) } });
  const fresh = () => new bt.imnn.GradientIMNN({ ...common(3), fiducial: fid, derivative: der });
  const fails = async (f: () => Promise<unknown>, re: RegExp) => {
    const e = await f().then(() => null, (x: Error) => x);
    assert.ok(e instanceof bt.ConfigError && re.test(e.message), String(e));
  };
  await fails(() => fresh().fit(20, 0.1, { minIterations: 0, patience: 100, maxIterations: 4, resume: saved[0]! }), /saved by a fit with λ = 10, not λ = 20/);
  await fails(() => fresh().fit(10, 0.1, { minIterations: 0, patience: 7, maxIterations: 4, resume: saved[0]! }), /patience = 100, not patience = 7/);
  const n = new bt.imnn.NumericalGradientIMNN({ ...common(3), fiducial: fid, derivative: bt.zeros([nD, 2, 2, 6]), δθ: [0.1, 0.1] });
  await fails(() => n.fit(10, 0.1, { minIterations: 0, patience: 100, maxIterations: 4, resume: saved[0]! }), /the checkpoint is of 'imnn.GradientIMNN.fit'/);
  const { imnn: _drop, ...loopOnly } = JSON.parse(saved[0]!);
  await fails(() => fresh().fit(10, 0.1, { minIterations: 0, patience: 100, maxIterations: 4, resume: loopOnly }), /'imnn' part/);
  await fails(() => fresh().fit(10, 0.1, { resume: '{nope' }), /not JSON/);
});

test.run();
