/**
 * IMNN.dispose frees what the instance owns (weights, optimiser state, best weights, statistics):
 * after construct + fit + getEstimate + dispose, bt.memory() counts the tensors of before plus
 * only those the test itself made and still holds. (It also caught SimulatorIMNN's constructor
 * leaving its probe simulation's key and intermediates behind: 6 tensors an instance.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';

const sim = (k: bt.Tensor, θ: bt.Tensor) => bt.random.normal(k, [4]).mul(θ.slice([1], [1]).sqrt()).add(θ.slice([0], [1]));

test('SimulatorIMNN.dispose after a fit leaves no tensor of its own', async () => {
  const θFid = bt.tensor([0, 1]);
  const key = bt.random.key(0);
  const before = bt.memory().numTensors;
  const m = new bt.imnn.SimulatorIMNN({
    nS: 20, nD: 20, nParams: 2, nSummaries: 2, inputShape: [4], θFid, simulator: sim,
    model: bt.nn.mlp({ sizes: [4, 8, 2], activation: 'leakyRelu' }), optimiser: bt.optim.adam({ learningRate: 1e-2 }), keyOrState: key,
  });
  const rng = bt.random.key(1);
  await m.fit(10, 0.1, { rng, maxIterations: 5, minIterations: 0, patience: 2 });
  const d0 = bt.zeros([4]);
  const est = m.getEstimate(d0);
  assert.ok(bt.memory().numTensors > before + 2, 'the instance holds tensors before dispose');
  m.dispose();
  bt.dispose([est, d0]);
  assert.is(bt.memory().numTensors, before + 1, 'only the rng key is left (θFid and the init key were counted before)');
  assert.ok(m.F === undefined);
});

test("GradientIMNN.dispose keeps the caller's data sets", async () => {
  const z = bt.random.normal(bt.random.key(2), [20, 4]);
  const der = bt.stack([bt.onesLike(z), z.mul(0.5)], -1);
  const key = bt.random.key(0);
  const before = bt.memory().numTensors;
  const g = new bt.imnn.GradientIMNN({
    nS: 20, nD: 20, nParams: 2, nSummaries: 2, inputShape: [4], θFid: [0, 1], fiducial: z, derivative: der, validationFiducial: z, validationDerivative: der,
    model: bt.nn.mlp({ sizes: [4, 8, 2], activation: 'leakyRelu' }), optimiser: bt.optim.adam({ learningRate: 1e-2 }), keyOrState: key,
  });
  await g.fit(10, 0.1, { maxIterations: 5, minIterations: 0, patience: 2 });
  g.dispose();
  assert.ok(!z.isDisposed && !der.isDisposed);
  // θFid given as numbers became the instance's tensor, freed too
  assert.is(bt.memory().numTensors, before);
});

test('NumericalGradientIMNN and its Aggregated twin: dispose frees δθ and θFid given as numbers, the chunked views and the cached chunks', async () => {
  const z = bt.random.normal(bt.random.key(2), [20, 4]);
  const δ = 0.1;
  const at = (t0: number, t1: number) => z.slice([0], [10]).mul(Math.sqrt(t1)).add(t0);
  const der = bt.stack([bt.stack([at(-δ / 2, 1), at(0, 1 - δ / 2)], 1), bt.stack([at(δ / 2, 1), at(0, 1 + δ / 2)], 1)], 1);
  const base = {
    nS: 20, nD: 10, nParams: 2, nSummaries: 2, inputShape: [4], θFid: [0, 1], δθ: [δ, δ], fiducial: z, derivative: der,
    model: bt.nn.mlp({ sizes: [4, 8, 2], activation: 'leakyRelu' }), optimiser: bt.optim.adam({ learningRate: 1e-2 }),
  };
  for (const make of [
    (key: bt.Tensor) => new bt.imnn.NumericalGradientIMNN({ ...base, keyOrState: key }),
    (key: bt.Tensor) => new bt.imnn.AggregatedNumericalGradientIMNN({ ...base, keyOrState: key, devices: ['cpu'], nPerDevice: 5 }),
    (key: bt.Tensor) => new bt.imnn.AggregatedNumericalGradientIMNN({ ...base, keyOrState: key, devices: ['cpu'], nPerDevice: 5, cache: true, prefetch: 1 }),
  ]) {
    const key = bt.random.key(0);
    const before = bt.memory().numTensors;
    const m = make(key);
    await m.fit(10, 0.1, { maxIterations: 3, minIterations: 0, patience: 2 });
    m.dispose();
    assert.ok(!z.isDisposed && !der.isDisposed, "the caller's data sets stay");
    assert.is(bt.memory().numTensors, before, `${m.constructor.name}: nothing of its own left`);
    key.dispose();
  }
});

test.run();
