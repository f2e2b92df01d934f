/**
 * The IMNN `jit` option: update traced once and replayed gives the eager numbers bit for bit on the
 * CPU (SimulatorIMNN through the simulator and jacfwd, GradientIMNN and NumericalGradientIMNN with
 * validation sets), keeps bt.memory() flat over many calls, and falls back to eager with one
 * warning when the model reads a value on the host (jit: true makes that a TracerError).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { assertSameTree } from '../../helpers.js';

const sim = (k: bt.Tensor, θ: bt.Tensor) => bt.random.normal(k, [6]).mul(θ.slice([1], [1]).sqrt()).add(θ.slice([0], [1]));
const common = () => ({
  nS: 40, nD: 20, nParams: 2, nSummaries: 2, inputShape: [6], θFid: [0, 1],
  model: bt.nn.mlp({ sizes: [6, 16, 2], activation: 'leakyRelu' }), optimiser: bt.optim.adam({ learningRate: 1e-2 }), keyOrState: bt.random.key(0),
});
const z = bt.random.normal(bt.random.key(2), [40, 6]);
const zv = bt.random.normal(bt.random.key(3), [40, 6]);
const der = (x: bt.Tensor) => bt.stack([bt.onesLike(x), x.mul(0.5)], -1).slice([0], [20]);
const num = (x: bt.Tensor, δ: number) => {
  const at = (t0: number, t1: number) => x.slice([0], [20]).mul(Math.sqrt(t1)).add(t0);
  return bt.stack([bt.stack([at(-δ / 2, 1), at(0, 1 - δ / 2)], 1), bt.stack([at(δ / 2, 1), at(0, 1 + δ / 2)], 1)], 1);
};
const makers: [string, (jit?: boolean) => bt.imnn.IMNNBase][] = [
  ['SimulatorIMNN', (jit) => new bt.imnn.SimulatorIMNN({ ...common(), simulator: sim, ...(jit === undefined ? {} : { jit }) })],
  ['GradientIMNN', (jit) => new bt.imnn.GradientIMNN({ ...common(), fiducial: z, derivative: der(z), validationFiducial: zv, validationDerivative: der(zv), ...(jit === undefined ? {} : { jit }) })],
  ['NumericalGradientIMNN', (jit) => new bt.imnn.NumericalGradientIMNN({ ...common(), fiducial: z, derivative: num(z, 0.1), δθ: [0.1, 0.1], validationFiducial: zv, validationDerivative: num(zv, 0.1), ...(jit === undefined ? {} : { jit }) })],
];

for (const [name, make] of makers) {
  test(`${name}: jitted fit = eager fit bit for bit (history, weights, optimiser state); one trace`, async () => {
    const [a, b] = [make(), make(false)];
    for (const m of [a, b]) await m.fit(10, 0.1, { rng: bt.random.key(7), minIterations: 0, patience: 100, maxIterations: 6 });
    assert.equal(a.jitInfo().jitted, true);
    assert.is(a.jitInfo().retraces, name === "SimulatorIMNN" ? 1 : 2, "one trace of the gradient (and one of the validation statistics)");
    assert.equal(b.jitInfo().jitted, false);
    assert.equal(a.history, b.history);
    assertSameTree(a.state, b.state, `${name} state`);
    assertSameTree(a.w, b.w, `${name} weights`);
    a.dispose();
    b.dispose();
  });
}

test('a jitted update run 300 times keeps bt.memory() flat', () => {
  const m = makers[0]![1]();
  const α = bt.imnn.getα(10, 0.1);
  let s = m.state;
  let key = bt.random.key(9);
  const step = () => {
    const [next, k2] = bt.tidy(() => [m.update(s, key, 10, α)[0], bt.random.foldIn(key, 1)] as const);
    if (s !== m.state) bt.dispose(s as never);
    key.dispose();
    [s, key] = [next, k2];
  };
  step();
  const before = bt.memory();
  for (let i = 0; i < 300; i++) step();
  const after = bt.memory();
  assert.is(after.numTensors, before.numTensors);
  assert.is(after.numBytes, before.numBytes);
  assert.is(m.jitInfo().retraces, 1);
});

test('a model that reads its output on the host: one warning, then eager with the same numbers; jit: true throws the TracerError', async () => {
  const net = bt.nn.mlp({ sizes: [6, 16, 2], activation: 'leakyRelu' });
  const hostModel = { init: net.init, apply: (w: bt.nn.MlpParams, d: bt.Tensor) => { const y = net.apply(w, d); return y.mul(y.sum().item() > Infinity ? -1 : 1); } };
  // with validation sets: the validation statistics (the same model) must not warn a second time
  const mk = (jit?: boolean) => new bt.imnn.GradientIMNN({ ...common(), model: hostModel, fiducial: z, derivative: der(z), validationFiducial: zv, validationDerivative: der(zv), ...(jit === undefined ? {} : { jit }) });
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...a: unknown[]) => void warnings.push(a.join(' '));
  try {
    const [a, b] = [mk(), mk(false)];
    for (const m of [a, b]) await m.fit(10, 0.1, { rng: bt.random.key(7), minIterations: 0, patience: 100, maxIterations: 3 });
    assert.is(warnings.length, 1, `one warning, got ${warnings.length}`);
    assert.match(warnings[0]!, /GradientIMNN\.update/);
    assert.match(warnings[0]!, /jit: false/);
    assert.equal(a.jitInfo().jitted, false);
    assert.is(a.jitInfo().retraces, 1, 'the validation statistics were not traced after the fallback');
    assert.equal(a.history, b.history);
  } finally {
    console.warn = warn;
  }
  const strict = mk(true);
  const err = await strict.fit(10, 0.1, { rng: bt.random.key(7), minIterations: 0, maxIterations: 2 }).then(() => null, (e: unknown) => e);
  assert.ok(err instanceof bt.TracerError, `a TracerError, got ${String(err)}`);
  assert.throws(() => mk('yes' as unknown as boolean), (e: unknown) => e instanceof bt.ConfigError && /jit/.test((e as Error).message));
});

test('the Aggregated classes run update eagerly (their passes move chunks between backends)', () => {
  const m = new bt.imnn.AggregatedGradientIMNN({ ...common(), fiducial: z, derivative: der(z), devices: ['cpu'], nPerDevice: 10 });
  const [s, aux] = m.update(m.state, undefined, 10, bt.imnn.getα(10, 0.1));
  assert.equal(m.jitInfo(), { jitted: false, retraces: 0, cache: null });
  assert.ok(Number.isFinite(aux.detF.item()));
  bt.dispose(s as never);
});

test.run();
