/**
 * VI's `jit` option: the jitted epoch estimate gives the eager numbers bit for bit on CPU (pathwise
 * reverse and forward mode, the score estimator with a baseline, a simulator loss, through
 * build().update and the VI class), traces once for a fixed shape, falls back to eager with one
 * warning when the loss reads the host (jit: true throws), and keeps memory flat (VI.step frees
 * the epoch's key).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { assertSameTree } from '../../helpers.js';

const S = bt.simulators;


const SIGMA = [[1, 0.3], [0.3, 0.5]];
function gaussianProblem() {
  const y = bt.keep(S.mvnToy(SIGMA, 20)(bt.tensor([1, -0.5]), bt.random.key(7)));
  const sigma = bt.keep(bt.tensor(SIGMA));
  const loss = (theta: bt.Tensor, data: bt.Tensor) => S.gaussianNll(data, theta, { covariance: sigma });
  const prior = new bt.distributions.MultivariateNormal({ loc: bt.tensor([0, 0]), covariance: bt.tensor([[4, 0], [0, 4]]) });
  const q0 = () => new bt.distributions.MultivariateNormal({ loc: bt.zeros([2]), covariance: bt.eye(2) });
  return { y, loss, prior, q0 };
}

/** `epochs` updates of build(options) from init; every state and aux kept for comparison. */
function epochsOf(options: bt.vi.BuildOptions<any>, data: unknown, epochs: number) {
  const t = bt.vi.build(options);
  const key = bt.random.key(3);
  let s = t.init();
  const out: unknown[] = [];
  for (let e = 0; e < epochs; e++) {
    const [next, aux] = t.update(s, data, bt.random.foldIn(key, e));
    out.push([next.params, next.optState, next.best, aux]);
    s = next;
  }
  return { out, t };
}

const variants: [string, Record<string, unknown>][] = [
  ['pathwise, reverse', {}],
  ['pathwise, forward (chunk 1)', { diffMode: 'forward', jacobianChunkSize: 1 }],
  ['score, mean baseline', { gradientEstimationMethod: 'score', baseline: 'mean' }],
  ['no sticking the landing, w = 0.5, clipping', { stickingTheLanding: false, w: 0.5, gradientClippingNorm: 1 }],
];

for (const [name, extra] of variants) {
  test(`build().update (${name}): jitted = eager bit for bit over 5 epochs; one trace`, () => {
    const { y, loss, prior, q0 } = gaussianProblem();
    const base = { loss, prior, nSamplesPerEpoch: 5, nSamplesRegularisation: 50, optimizer: bt.optim.adam({ learningRate: 0.05 }), ...extra };
    const a = epochsOf({ ...base, posteriorEstimator: q0() }, y, 5);
    const b = epochsOf({ ...base, posteriorEstimator: q0(), jit: false }, y, 5);
    a.out.forEach((s, e) => assertSameTree(s, b.out[e], `${name} epoch ${e}`));
    assert.is(a.t.jitInfo().jitted, true);
    assert.is(a.t.jitInfo().retraces, 1);
    assert.is(b.t.jitInfo().retraces, 0);
    a.t.dispose();
  });
}

test('a simulator loss (random walk, T = 20): the VI class with jit = without, bit for bit; lossHistory equal', async () => {
  const rw = S.randomWalk(20);
  const data = bt.keep(S.simulate(rw, bt.tensor([Math.log(1 / 3)]), bt.random.key(1))[0]!);
  const loss = (theta: bt.Tensor, d: bt.Tensor, key: bt.Tensor) => S.mse(S.simulate(rw, theta, key, { gradientHorizon: 0 })[0]!, d);
  const mk = (jit?: boolean) =>
    new bt.vi.VI({
      loss, prior: new bt.distributions.MultivariateNormal({ loc: bt.tensor([0]), covariance: bt.eye(1) }),
      posteriorEstimator: new bt.distributions.MultivariateNormal({ loc: bt.tensor([-0.5]), covariance: bt.eye(1).mul(0.1) }),
      nSamplesPerEpoch: 3, nSamplesRegularisation: 20, progress: false, ...(jit === undefined ? {} : { jit }),
    });
  const on = mk();
  const off = mk(false);
  for (let e = 0; e < 3; e++) await on.step(data);
  await on.run(data, 3, Infinity);
  for (let e = 0; e < 3; e++) await off.step(data);
  await off.run(data, 3, Infinity);
  assert.equal(on.lossHistory, off.lossHistory);
  assertSameTree(on.state, off.state, 'final state');
  assert.is(on.jitInfo().retraces, 1);
  on.dispose();
  off.dispose();
});

test('Brock–Hommes with the MMD loss (T = 10, 11 parameters; reverse and forward, chunk 3): jitted = eager bit for bit over 2 epochs', () => {
  const bh = S.brockHommes(10);
  const truth = [Math.log(120), 0, 0.9, 0.9, 1.01, 0, 0.2, -0.2, 0, Math.log(0.04), 0];
  const data = bt.keep(S.simulate(bh, bt.tensor(truth), bt.random.key(2))[0]!);
  const mmd = S.mmdLoss(data, { bandwidth: S.medianHeuristic(data) });
  const loss = (th: bt.Tensor, _y: bt.Tensor, k: bt.Tensor) => mmd(S.simulate(bh, th, k, { gradientHorizon: 0 })[0]!);
  const loc = bt.tensor(truth.map((v) => v + 0.05));
  for (const extra of [{}, { diffMode: 'forward' as const, jacobianChunkSize: 3 }]) {
    const base = { loss, prior: new bt.distributions.MultivariateNormal({ loc, covariance: bt.eye(11) }), nSamplesPerEpoch: 4, nSamplesRegularisation: 50, w: 0.01, ...extra };
    const q = () => new bt.distributions.MultivariateNormal({ loc, covariance: bt.eye(11).mul(0.01) });
    const a = epochsOf({ ...base, posteriorEstimator: q() }, data, 2);
    const b = epochsOf({ ...base, posteriorEstimator: q(), jit: false }, data, 2);
    a.out.forEach((s, e) => assertSameTree(s, b.out[e], `Brock–Hommes ${JSON.stringify(extra)} epoch ${e}`));
    assert.is(a.t.jitInfo().jitted, true);
    a.t.dispose();
  }
});

test('a loss that reads the host: one warning, then eager with the same numbers; jit: true throws the TracerError', () => {
  const { y, prior, q0 } = gaussianProblem();
  const loss = (theta: bt.Tensor, data: bt.Tensor) => {
    const scale = theta.sum().item() > 100 ? 2 : 1; // a host read
    return data.sub(theta).square().sum().mul(scale);
  };
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...a: unknown[]) => void warnings.push(a.join(' '));
  try {
    const base = { loss, prior, nSamplesPerEpoch: 3, nSamplesRegularisation: 20, sampleEvaluation: undefined };
    delete (base as Record<string, unknown>).sampleEvaluation;
    const a = epochsOf({ ...base, posteriorEstimator: q0() }, y, 3);
    const b = epochsOf({ ...base, posteriorEstimator: q0(), jit: false }, y, 3);
    a.out.forEach((s, e) => assertSameTree(s, b.out[e], `fallback epoch ${e}`));
    assert.is(warnings.length, 1, `one warning, got ${warnings.length}`);
    assert.match(warnings[0]!, /vi\.update/);
    assert.match(warnings[0]!, /jit: false/);
    assert.is(a.t.jitInfo().jitted, false);
    const strict = bt.vi.build({ ...base, posteriorEstimator: q0(), jit: true });
    assert.throws(() => strict.update(strict.init(), y, bt.random.key(1)), (e: unknown) => e instanceof bt.TracerError);
    assert.is(warnings.length, 1);
  } finally {
    console.warn = warn;
  }
});

test('jit option checked: a non-boolean is a ConfigError naming jit', () => {
  const { loss, prior, q0 } = gaussianProblem();
  assert.throws(() => bt.vi.build({ loss, prior, posteriorEstimator: q0(), jit: 1 as unknown as boolean }), (e: unknown) => e instanceof bt.ConfigError && /jit/.test((e as Error).message));
});

for (const jit of [undefined, false]) {
  test(`memory: VI.step keeps bt.memory() flat over 60 epochs (jit ${jit ?? 'default'}); dispose() frees it all`, async () => {
    const { y, loss, prior, q0 } = gaussianProblem();
    const q = q0();
    const m0 = bt.memory().numTensors;
    const vi = new bt.vi.VI({ loss, prior, posteriorEstimator: q, nSamplesPerEpoch: 3, nSamplesRegularisation: 20, progress: false, ...(jit === undefined ? {} : { jit }) });
    // VI leaves its initial parameters (the estimator's params(): loc is q's own, the raw factor new) to the caller
    const p0 = vi.state.params as { loc: bt.Tensor; scaleTril: bt.Tensor };
    for (let e = 0; e < 3; e++) await vi.step(y);
    const before = bt.memory().numTensors;
    for (let e = 0; e < 60; e++) await vi.step(y);
    assert.is(bt.memory().numTensors, before, 'flat');
    await vi.run(y, 20, Infinity);
    assert.is(bt.memory().numTensors, before, 'flat after run');
    vi.dispose();
    p0.scaleTril.dispose();
    assert.is(bt.memory().numTensors, m0, 'after dispose: only the user\'s tensors are left');
  });
}

test.run();
