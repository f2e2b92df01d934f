/** The fit loop (patience after minIterations, maxDetF across calls, NumericalError mid-fit) and bad input before any iteration. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { assertClose } from '../../helpers.js';

const nS = 30;
const A = [[1, 0.5], [0.3, -1], [2, 1]];
const fid = bt.random.normal(bt.random.key(1), [nS, 3]);
const der = bt.broadcastTo(bt.tensor(A), [nS, 3, 2]);
// w.s·0: the gradient is exactly 0 (Adam would turn a rounding-level gradient into a full step)
const shift: bt.nn.Module<{ s: bt.Tensor }> = { init: () => ({ s: bt.zeros([]) }), apply: (w, d) => d.add(w.s.mul(0)) };
const base = () => ({ nS, nD: nS, nParams: 2, nSummaries: 3, inputShape: [3], θFid: [0, 0], model: shift, optimiser: bt.optim.adam({ learningRate: 1e-2 }), keyOrState: bt.random.key(0) });

test('fit: patience counts only after minIterations; maxDetF and best weights persist across calls; statistics set after', async () => {
  // the network does not change C or ∂μ/∂θ: det F is the same every iteration, so only the first is a new maximum
  const m = new bt.imnn.GradientIMNN({ ...base(), fiducial: fid, derivative: der });
  await m.fit(10, 0.1, { minIterations: 5, patience: 3, maxIterations: 100 });
  assert.is(m.history.detF.length, 9, 'iterations 0..8: patience counted at 6, 7, 8');
  const first = m.history.maxDetF;
  assert.ok(Number.isFinite(first) && first > 0);
  assert.ok(m.F && m.invF, 'statistics set');
  await m.fit(10, 0.1, { minIterations: 5, patience: 3, maxIterations: 100 });
  assert.is(m.history.detF.length, 18, 'second call: no new maximum from the start');
  assert.is(m.history.maxDetF, first);
  await m.fit(10, 0.1, { minIterations: 0, patience: 100, maxIterations: 4 });
  assert.is(m.history.detF.length, 22, 'maxIterations');
  const svg = m.plot({ expectedDetF: first, colour: '#c00' });
  assert.ok(svg.startsWith('<svg') && svg.includes('polyline') && svg.includes('#c00') && svg.includes('stroke-dasharray="6 4"'));
});

test('fit without validation keeps the weights whose det F was the maximum (no off-by-one): F at .w has det = maxDetF', async () => {
  const m = new bt.imnn.GradientIMNN({ ...base(), model: bt.nn.mlp({ sizes: [3, 8, 3], activation: 'leakyRelu' }), fiducial: fid, derivative: der });
  await m.fit(10, 0.1, { minIterations: 0, patience: 100, maxIterations: 25 });
  const best = m.history.detF.indexOf(m.history.maxDetF);
  // the det F of iteration t is that of the weights before its update: imnn kept the ones after
  assert.ok(best >= 0);
  assertClose(bt.linalg.det(m.F!).item(), m.history.maxDetF, 1e-10);
  await m.fit(10, 0.1, { minIterations: 0, patience: 100, maxIterations: 5, best: false });
  assertClose(m.w === m.state.w ? 1 : 0, 1, 0);
});

test('fit: an AbortSignal stops between iterations; onProgress reports; a state resumes the weights', async () => {
  const m = new bt.imnn.GradientIMNN({ ...base(), model: bt.nn.mlp({ sizes: [3, 8, 3], activation: 'leakyRelu' }), fiducial: fid, derivative: der });
  const ac = new AbortController();
  const seen: number[] = [];
  await m.fit(10, 0.1, { minIterations: 0, patience: 100, maxIterations: 50, signal: ac.signal, onProgress: (p) => (seen.push(p.done), p.done >= 6 && ac.abort()) });
  assert.ok(m.history.detF.length >= 6 && m.history.detF.length < 50, `${m.history.detF.length} iterations`);
  assert.ok(seen.length > 0 && seen.every((d) => d > 0));
  const r = new bt.imnn.GradientIMNN({ ...base(), model: bt.nn.mlp({ sizes: [3, 8, 3], activation: 'leakyRelu' }), fiducial: fid, derivative: der, keyOrState: m.state });
  assertClose(r.getSummaries(r.w)[0], m.getSummaries(m.state.w)[0], 0, 0, 'same outputs from the saved state');
});

test('fit: a singular C mid-fit is a NumericalError naming the iteration; the best weights so far are kept', async () => {
  let updates = 0;
  let broken = false;
  const adam = bt.optim.adam({ learningRate: 1e-2 });
  const optimiser: bt.optim.GradientTransformation<any> = { init: (p) => adam.init(p), update: (g, s: any, p) => (++updates >= 5 && (broken = true), adam.update(g, s, p)) };
  const model: bt.nn.Module<{ s: bt.Tensor }> = { init: () => ({ s: bt.zeros([]) }), apply: (w, d) => (broken ? d.mul(0) : d.add(w.s)) };
  // jit: false: the model switches on a host flag, which a traced update would have fixed at its first call
  const m = new bt.imnn.GradientIMNN({ ...base(), model, optimiser, fiducial: fid, derivative: der, jit: false });
  let err: unknown;
  try {
    await m.fit(10, 0.1, { minIterations: 0, patience: 50, maxIterations: 20 });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof bt.NumericalError, String(err));
  assert.match((err as Error).message, /iteration 5/);
  assert.match((err as Error).message, /singular/);
  assert.is(m.history.detF.length, 6);
  broken = false;
  assert.ok(Number.isFinite(m.history.maxDetF));
  assert.ok(Number.isFinite(m.model.apply(m.w, fid).sum().item()), 'the kept weights are alive');
});

test('bad input before any iteration: ConfigError/ShapeError naming the argument', () => {
  const sim = (k: bt.Tensor, θ: bt.Tensor) => bt.random.normal(k, [3]).add(θ.sum());
  const cases: [string, () => unknown, RegExp, typeof bt.ConfigError | typeof bt.ShapeError][] = [
    ['nD > nS', () => new bt.imnn.GradientIMNN({ ...base(), nD: nS + 1, fiducial: fid, derivative: der }), /nD = 31 must be ≤ nS = 30/, bt.ConfigError],
    ['nS not integer', () => new bt.imnn.GradientIMNN({ ...base(), nS: 2.5 as number, fiducial: fid, derivative: der }), /nS must be a positive integer/, bt.ConfigError],
    ['inputShape', () => new bt.imnn.GradientIMNN({ ...base(), inputShape: 3 as never, fiducial: fid, derivative: der }), /inputShape/, bt.ConfigError],
    ['θFid shape', () => new bt.imnn.GradientIMNN({ ...base(), θFid: [0, 0, 0], fiducial: fid, derivative: der }), /θFid has shape \[3\], expected \[2\]/, bt.ShapeError],
    ['θFid missing', () => new bt.imnn.GradientIMNN({ ...base(), θFid: undefined, fiducial: fid, derivative: der }), /θFid/, bt.ConfigError],
    ['model', () => new bt.imnn.GradientIMNN({ ...base(), model: (() => 1) as never, fiducial: fid, derivative: der }), /model must be a bt.nn module/, bt.ConfigError],
    ['optimiser', () => new bt.imnn.GradientIMNN({ ...base(), optimiser: {} as never, fiducial: fid, derivative: der }), /optimiser/, bt.ConfigError],
    ['keyOrState', () => new bt.imnn.GradientIMNN({ ...base(), keyOrState: 1 as never, fiducial: fid, derivative: der }), /keyOrState/, bt.ConfigError],
    ['fiducial type', () => new bt.imnn.GradientIMNN({ ...base(), fiducial: [[1]] as never, derivative: der }), /fiducial must be a Tensor/, bt.ConfigError],
    ['fiducial shape', () => new bt.imnn.GradientIMNN({ ...base(), fiducial: fid.slice([0], [10]), derivative: der }), /fiducial has shape \[10, 3\], expected \[30, 3\]/, bt.ShapeError],
    ['derivative shape', () => new bt.imnn.GradientIMNN({ ...base(), fiducial: fid, derivative: der.transpose([0, 2, 1]) }), /derivative has shape \[30, 2, 3\], expected \[30, 3, 2\]/, bt.ShapeError],
    ['validation pair', () => new bt.imnn.GradientIMNN({ ...base(), fiducial: fid, derivative: der, validationFiducial: fid }), /validationDerivative/, bt.ConfigError],
    ['model output', () => new bt.imnn.GradientIMNN({ ...base(), nSummaries: 2, fiducial: fid, derivative: der }), /expected \[1, 2\]/, bt.ShapeError],
    ['unknown arg', () => new bt.imnn.GradientIMNN({ ...base(), fiducial: fid, derivative: der, δ: 1 } as never), /unknown argument 'δ'/, bt.ConfigError],
    ['δθ ≤ 0', () => new bt.imnn.NumericalGradientIMNN({ ...base(), fiducial: fid, derivative: bt.zeros([nS, 2, 2, 3]), δθ: [0.1, 0] }), /δθ must be finite and > 0/, bt.ConfigError],
    ['δθ shape', () => new bt.imnn.NumericalGradientIMNN({ ...base(), fiducial: fid, derivative: bt.zeros([nS, 2, 2, 3]), δθ: [0.1] }), /δθ has shape \[1\], expected \[2\]/, bt.ShapeError],
    ['numerical derivative shape', () => new bt.imnn.NumericalGradientIMNN({ ...base(), fiducial: fid, derivative: der, δθ: [0.1, 0.1] }), /derivative has shape \[30, 3, 2\], expected \[30, 2, 2, 3\]/, bt.ShapeError],
    ['simulator arity', () => new bt.imnn.SimulatorIMNN({ ...base(), simulator: ((k: bt.Tensor) => k) as never }), /simulator must be a function \(key, θ\)/, bt.ConfigError],
    ['simulator output', () => new bt.imnn.SimulatorIMNN({ ...base(), inputShape: [4], simulator: sim }), /simulator\(key, θFid\) must return a Tensor of shape inputShape \[4\]/, bt.ConfigError],
  ];
  for (const [name, f, re, E] of cases) {
    let err: unknown;
    try {
      f();
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof E, `${name}: ${String(err)}`);
    assert.match((err as Error).message, re, name);
  }
});

test('bad fit options and a missing rng are ConfigErrors before any iteration', async () => {
  const m = new bt.imnn.GradientIMNN({ ...base(), fiducial: fid, derivative: der });
  const s = new bt.imnn.SimulatorIMNN({ ...base(), simulator: (k: bt.Tensor, θ: bt.Tensor) => bt.random.normal(k, [3]).add(θ.sum()) });
  const bad: [() => Promise<unknown>, RegExp][] = [
    [() => m.fit(10, -0.1), /ε must be/],
    [() => m.fit(10, 0.1, { patience: 0 }), /patience/],
    [() => m.fit(10, 0.1, { minIterations: 1.5 }), /minIterations/],
    [() => m.fit(10, 0.1, { foo: 1 } as never), /unknown option 'foo'/],
    [() => m.fit(10, 0.1, { rng: 3 as never }), /rng must be a PRNG key/],
    [() => s.fit(10, 0.1), /rng is required/],
  ];
  for (const [f, re] of bad) {
    let err: unknown;
    try {
      await f();
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof bt.ConfigError, String(err));
    assert.match((err as Error).message, re);
  }
  assert.is(m.history.detF.length, 0);
});

test.run();
