/**
 * Acceptance 5: the Aggregated IMNN classes give the in-memory classes' gradients (and fit
 * histories) to float64 rounding, on one device and on two distinct CPU backends (so chunks
 * really move), with prefetch and cache; their working memory during an update is bounded by
 * the chunk size, not nS (live bytes metered on a CPU backend); indivisible chunks and other bad
 * arguments are ConfigErrors naming them (acceptance 9).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { CpuBackend } from '../../../src/backends/cpu/index.js';
import { assertClose, throwsType } from '../../helpers.js';

// a second CPU backend: values on it are other tensors, so every chunk is copied there and back
bt.registerBackend('cpu2', new CpuBackend());
// a CPU backend that records the most bytes its live buffers ever held
const meter = { inner: new CpuBackend(), peak: 0 };
const note = () => void (meter.peak = Math.max(meter.peak, meter.inner.memory().numBytes));
bt.registerBackend('meter', new Proxy(meter.inner, {
  get(t, k) {
    if (k === 'name') return 'meter';
    const v = (t as unknown as Record<string | symbol, unknown>)[k];
    if (typeof v !== 'function') return v;
    if (k === 'run' || k === 'upload') return (...a: unknown[]) => { const r = (v as (...x: unknown[]) => unknown).apply(t, a); note(); return r; };
    return (v as (...x: unknown[]) => unknown).bind(t);
  },
}) as bt.Backend);

const α = bt.imnn.getα(10, 0.1);
const model = bt.nn.mlp({ sizes: [10, 16, 16, 2], activation: 'leakyRelu' });
const nS = 40;
const nD = 20;
const fid = bt.random.normal(bt.random.key(1), [nS, 10]);
const der = bt.stack([bt.ones([nD, 10]), fid.slice([0], [nD]).mul(0.5)], -1); // [nD, 10, 2]
const nder = bt.random.normal(bt.random.key(2), [nD, 2, 2, 10]);
const sim = (k: bt.Tensor, θ: bt.Tensor) => bt.random.normal(k, [10]).mul(θ.slice([1], [1]).sqrt()).add(θ.slice([0], [1]));
const common = () => ({ nS, nD, nParams: 2, nSummaries: 2, inputShape: [10], θFid: [0, 1], model, optimiser: bt.optim.sgd({ learningRate: 1e-2 }), keyOrState: bt.random.key(3) });

/** dΛ/dw of the in-memory class: reverse mode through its whole forward computation. */
const inMemoryGradient = (m: bt.imnn.IMNNBase, key?: bt.Tensor) => bt.valueAndGrad((w: unknown) => bt.imnn.imnnLoss(...m.getSummaries(w, key), 10, α)[0])(m.w)[1];
/** The same through the aggregated class's public two passes: getSummaries, the host cotangents, getGradient. */
const twoPass = (a: { getSummaries: (w: any, k?: bt.Tensor) => [bt.Tensor, bt.Tensor]; getGradient: (c: [bt.Tensor, bt.Tensor], w: any, k?: bt.Tensor) => unknown; w: unknown }, key?: bt.Tensor) => {
  const [x, dx] = a.getSummaries(a.w, key);
  const cts = bt.valueAndGrad((xv: bt.Tensor, dv: bt.Tensor) => bt.imnn.imnnLoss(xv, dv, 10, α)[0], { argnums: [0, 1] })(x, dx)[1] as [bt.Tensor, bt.Tensor];
  return a.getGradient(cts, a.w, key);
};
/** Leaves equal to float64 rounding: |a − b| ≤ 1e-12 · (largest |gradient entry| of the tree). */
function sameTree(a: unknown, b: unknown, what: string): void {
  const la = bt.tree.leaves(a) as bt.Tensor[];
  const lb = bt.tree.leaves(b) as bt.Tensor[];
  assert.is(la.length, lb.length);
  const scale = Math.max(...la.map((t) => t.abs().max().item()));
  assert.ok(scale > 1e-3, `${what}: a gradient that is not trivially zero (${scale})`);
  la.forEach((t, i) => assertClose(lb[i]!, t, 0, 1e-12 * scale, `${what}, leaf ${i}`));
}

for (const devices of [['cpu'], ['cpu', 'cpu2']]) {
  test(`AggregatedSimulatorIMNN (devices ${devices}) = SimulatorIMNN: summaries, dΛ/dw, an update`, () => {
    const key = bt.random.key(9);
    const m = new bt.imnn.SimulatorIMNN({ ...common(), simulator: sim });
    const a = new bt.imnn.AggregatedSimulatorIMNN({ ...common(), simulator: sim, devices, nPerDevice: 10 / devices.length });
    assert.equal([a.nRemaining, a.nIterations, a.nRemainingIterations], [20, 2, 2]);
    assert.equal(a.batchShape, [2, devices.length, 10 / devices.length]);
    assert.equal(a.remainingBatchShape, [2, devices.length, 10 / devices.length]);
    const [x1, d1] = m.getSummaries(m.w, key);
    const [x2, d2] = a.getSummaries(a.w, key);
    assertClose(x2, x1, 0, 1e-13);
    assertClose(d2, d1, 0, 1e-13);
    sameTree(inMemoryGradient(m, key), twoPass(a, key), 'dΛ/dw');
    const [s1, aux1] = m.update(m.state, key, 10, α);
    const [s2, aux2] = a.update(a.state, key, 10, α);
    assertClose(aux2.detF, aux1.detF, 1e-12);
    // plain gradient descent (Adam would blow a rounding-level gradient up to a full step)
    bt.tree.leaves(s1.w).forEach((t, i) => assertClose(bt.tree.leaves(s2.w)[i] as bt.Tensor, t as bt.Tensor, 0, 1e-12));
  });

  test(`AggregatedGradientIMNN (devices ${devices}, prefetch 1, cache) = GradientIMNN, validation included`, () => {
    const sets = { fiducial: fid, derivative: der, validationFiducial: fid.mul(2), validationDerivative: der };
    const m = new bt.imnn.GradientIMNN({ ...common(), ...sets });
    for (const extra of [{}, { prefetch: 1, cache: true }, { prefetch: 3 }]) {
      const a = new bt.imnn.AggregatedGradientIMNN({ ...common(), ...sets, devices, nPerDevice: 5, ...extra });
      assert.is(a.nIterations, 4 / devices.length);
      sameTree(inMemoryGradient(m), twoPass(a), `dΛ/dw ${JSON.stringify(extra)}`);
      sameTree(inMemoryGradient(m), twoPass(a), `dΛ/dw again (cached chunks) ${JSON.stringify(extra)}`);
      const [, aux1] = m.update(m.state, undefined, 10, α);
      const [, aux2] = a.update(a.state, undefined, 10, α);
      assertClose(aux2.val_detF!, aux1.val_detF!, 1e-12, 0, 'validation at the updated weights');
      a.aggregation.clearCache();
    }
  });

  test(`AggregatedNumericalGradientIMNN (devices ${devices}) = NumericalGradientIMNN; cotangents of x± [nD, 2, nParams, nSummaries]`, () => {
    const m = new bt.imnn.NumericalGradientIMNN({ ...common(), fiducial: fid, derivative: nder, δθ: [0.1, 0.2] });
    const a = new bt.imnn.AggregatedNumericalGradientIMNN({ ...common(), fiducial: fid, derivative: nder, δθ: [0.1, 0.2], devices, nPerDevice: 10 / devices.length });
    assert.is(a.fiducialIterations, 4);
    assert.is(a.derivativeIterations, 8);
    const g = inMemoryGradient(m);
    // the cotangents of the perturbed outputs: ±(dΛ/d(∂x/∂θ))/δθ on the ∓ halves
    const [x, dx] = a.getSummaries(a.w);
    const [gx, gdx] = bt.valueAndGrad((xv: bt.Tensor, dv: bt.Tensor) => bt.imnn.imnnLoss(xv, dv, 10, α)[0], { argnums: [0, 1] })(x, dx)[1] as [bt.Tensor, bt.Tensor];
    const up = gdx.transpose([0, 2, 1]).div(bt.tensor([0.1, 0.2]).reshape([2, 1])); // [nD, nParams, nSummaries]
    sameTree(g, a.getGradient([gx, bt.stack([up.neg(), up], 1)], a.w), 'dΛ/dw');
    throwsType(() => a.getGradient([gx, gdx], a.w), bt.ShapeError, /dΛ\/d\(derivatives\) \[20, 2, 2, 2\]/);
    throwsType(() => a.getSummary(fid, a.w, a.θFid, { derivative: true } as never), bt.ConfigError, /derivative must be false/);
  });
}

test('getSummary on one input or a chunk; fit histories equal the in-memory fit', async () => {
  const slow = { optimiser: bt.optim.sgd({ learningRate: 1e-4 }) };
  const a = new bt.imnn.AggregatedGradientIMNN({ ...common(), ...slow, fiducial: fid, derivative: der, devices: ['cpu'], nPerDevice: 10 });
  const one = a.getSummary([fid.slice([3], [1]).reshape([10]), der.slice([3], [1]).reshape([10, 2])], a.w, a.θFid, { derivative: true }) as [bt.Tensor, bt.Tensor];
  const [x, dx] = a.getSummaries(a.w);
  assertClose(one[0], x.slice([3], [1]).reshape([2]), 0, 1e-14);
  assertClose(one[1], dx.slice([3], [1]).reshape([2, 2]), 0, 1e-14);
  const m = new bt.imnn.GradientIMNN({ ...common(), ...slow, fiducial: fid, derivative: der });
  const opts = { minIterations: 0, patience: 100, maxIterations: 6 };
  await m.fit(10, 0.1, opts);
  await a.fit(10, 0.1, opts);
  assertClose(a.history.detF, m.history.detF, 1e-11);
  assertClose(a.F!, m.F!, 1e-11);
  assertClose(a.getEstimate(fid.slice([0], [3])), m.getEstimate(fid.slice([0], [3])), 1e-10, 1e-12);
});

test('memory: the working bytes of an update grow with the chunk, not with nS (metered CPU backend; Gradient and Simulator)', () => {
  const net = bt.nn.mlp({ sizes: [10, 64, 64, 2], activation: 'leakyRelu' });
  const working = (n: number, nPerDevice?: number, simulator = false) => {
    const d = bt.withBackend('meter', () => bt.random.normal(bt.random.key(5), [n, 10]));
    const dd = bt.withBackend('meter', () => bt.random.normal(bt.random.key(6), [n, 10, 2]));
    // jit: false: a jitted update keeps its program's constants between calls (freed by dispose), which this count would see
    const o = bt.withBackend('meter', () => ({ ...common(), model: net, nS: n, nD: n, fiducial: d, derivative: dd, jit: false }));
    const { fiducial: _f, derivative: _d, ...os } = { ...o, simulator: sim };
    const m = simulator
      ? nPerDevice === undefined
        ? bt.withBackend('meter', () => new bt.imnn.SimulatorIMNN(os))
        : new bt.imnn.AggregatedSimulatorIMNN({ ...os, host: 'meter', devices: ['meter'], nPerDevice })
      : nPerDevice === undefined
        ? bt.withBackend('meter', () => new bt.imnn.GradientIMNN(o))
        : new bt.imnn.AggregatedGradientIMNN({ ...o, host: 'meter', devices: ['meter'], nPerDevice });
    const key = bt.withBackend('meter', () => bt.random.key(4));
    const before = meter.inner.memory().numBytes;
    const tensors = bt.memory().numTensors;
    meter.peak = before;
    const total = bt.memory().numBytes;
    bt.tidy(() => void bt.withBackend('meter', () => m.update(m.state, simulator ? key : undefined, 10, α)));
    const peak = meter.peak - before;
    assert.is(bt.memory().numTensors, tensors, 'an update inside tidy leaves no tensor behind');
    assert.is(bt.memory().numBytes, total);
    bt.dispose([d, dd, key]);
    return peak;
  };
  const full = working(400);
  const big = working(400, 20);
  const small = working(100, 20);
  // what the host holds per simulation: x, ∂x/∂θ, their cotangents and copies (6 float64 each, a few times)
  const perSimHost = 6 * 8;
  assert.ok(big < full / 5, `aggregated ${big} B vs in memory ${full} B`);
  assert.ok(big - small < 300 * perSimHost * 12, `300 more simulations cost ${big - small} B on top of the chunk's ${small} B (in memory: ${full} B for 400)`);
  console.log(`  working bytes of one GradientIMNN update, nS = 400: in memory ${full}, chunks of 20: ${big} (nS = 100: ${small})`);
  const [sFull, sBig, sSmall] = [working(400, undefined, true), working(400, 20, true), working(100, 20, true)];
  assert.ok(sBig < sFull / 5, `simulator: aggregated ${sBig} B vs in memory ${sFull} B`);
  assert.ok(sBig - sSmall < 300 * perSimHost * 12, `simulator: 300 more simulations cost ${sBig - sSmall} B on top of ${sSmall} B`);
  console.log(`  working bytes of one SimulatorIMNN update, nS = 400: in memory ${sFull}, chunks of 20: ${sBig} (nS = 100: ${sSmall})`);
});

test('bad aggregation arguments are ConfigErrors naming them, before any iteration', () => {
  const g = (o: object) => () => new bt.imnn.AggregatedGradientIMNN({ ...common(), fiducial: fid, derivative: der, devices: ['cpu'], nPerDevice: 10, ...o });
  throwsType(g({ nPerDevice: 3 }), bt.ConfigError, /nS = 40 does not divide into chunks of devices.length · nPerDevice = 1 · 3 = 3/);
  throwsType(g({ nPerDevice: 8 }), bt.ConfigError, /nD = 20 does not divide/);
  throwsType(g({ devices: ['cpu', 'cpu2', 'cpu'], nPerDevice: 4 }), bt.ConfigError, /nS = 40 does not divide into chunks of devices.length · nPerDevice = 3 · 4 = 12/);
  throwsType(() => new bt.imnn.AggregatedSimulatorIMNN({ ...common(), nD: 30, simulator: sim, devices: ['cpu'], nPerDevice: 20 }), bt.ConfigError, /nD = 30 does not divide/);
  throwsType(g({ nPerDevice: 0 }), bt.ConfigError, /nPerDevice must be a positive integer/);
  throwsType(g({ devices: 'cpu' }), bt.ConfigError, /devices must be a non-empty array/);
  throwsType(g({ devices: [] }), bt.ConfigError, /devices must be a non-empty array/);
  throwsType(g({ devices: ['nope'] }), bt.BackendError, /nope/);
  throwsType(g({ host: 3 }), bt.ConfigError, /host must be a backend name/);
  throwsType(g({ prefetch: -1 }), bt.ConfigError, /prefetch must be a non-negative integer/);
  throwsType(g({ cache: 'yes' }), bt.ConfigError, /cache must be a boolean/);
  throwsType(() => new bt.imnn.AggregatedSimulatorIMNN({ ...common(), simulator: sim, devices: ['cpu'], nPerDevice: 10, cache: true } as never), bt.ConfigError, /unknown argument 'cache'/);
  throwsType(() => bt.imnn.IMNN({ ...common(), fiducial: fid, derivative: der, cache: true } as never), bt.ConfigError, /prefetch and cache belong to the Aggregated classes/);
  const a = new bt.imnn.AggregatedSimulatorIMNN({ ...common(), simulator: sim, devices: ['cpu'], nPerDevice: 10 });
  throwsType(() => a.getGradient([bt.zeros([nS, 2]), bt.zeros([nS, 2, 2])], a.w, bt.random.key(0)), bt.ShapeError, /\[20, 2, 2\]/);
  throwsType(() => a.getGradient([bt.zeros([nS, 2]), bt.zeros([nD, 2, 2])], a.w), bt.ConfigError, /key is required/);
});

test.run();
