/**
 * sgd (optax.sgd = trace then −lr scaling): plain, momentum, nesterov, schedules; trace on its own.
 *
 * Every body runs on each backend (see ../backend-harness.ts): `name [cpu]` in float64 with the
 * checks and tolerances of ../helpers.ts as before, and `name [webgpu]` in float32 (parameters
 * and state in the backend's default float dtype), read with `await t.data()`. The float32
 * trajectories are compared with the host float64 recursion of ./common.ts within B.adRtol times
 * the rounding budget accumulated over the steps (see hostRun).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose } from '../helpers.js';
import { assertCloseArr, backendsUnderTest, registerAll } from '../backend-harness.js';
import { assertTrajectory, hostRun, nestedParams, run, values } from './common.js';

const backends = await backendsUnderTest('optim/sgd');

// θ₀ = (1, −2, 0.5), g = θ, lr 0.1, μ 0.9. By hand for θ₀ = 1 (the rest scale linearly):
//   m ← g + μm: 1, 0.9 + 0.9 = 1.8, 0.72 + 1.62 = 2.34;  θ ← θ − lr·m: 0.9, 0.72, 0.486
//   nesterov uses g + μ·m(new): θ₁ = 1 − 0.1·(1 + 0.9) = 0.81, ...
const MOMENTUM_3 = [[0.9, -1.8, 0.45], [0.72, -1.44, 0.36], [0.486, -0.972, 0.243]];
const NESTEROV_3 = [
  [0.81, -1.62, 0.405],
  [0.5751000000000001, -1.1502000000000001, 0.28755000000000003],
  [0.32732100000000003, -0.6546420000000001, 0.16366050000000001],
];

registerAll(backends, 'sgd without momentum: θ ← θ − lr·g, state holds no tensors', async (B) => {
  const got = await run(bt.optim.sgd({ learningRate: 0.1 }), 2);
  if (B.name === 'cpu') {
    assertClose(got[0]!, [0.9, -1.8, 0.45], 1e-15);
    assertClose(got[1]!, [0.81, -1.62, 0.405], 1e-15);
  } else assertTrajectory(B, got, hostRun({ kind: 'sgd', lr: () => 0.1 }, 2), 'sgd(0.1)');
  const s = bt.optim.sgd({ learningRate: 0.1 }).init(nestedParams());
  assert.equal(s, [{}, {}]);
});

registerAll(backends, 'sgd with momentum: m ← g + μm; update = −lr·m', async (B) => {
  const got = await run(bt.optim.sgd({ learningRate: 0.1, momentum: 0.9 }), 3);
  const ref = hostRun({ kind: 'sgd', lr: () => 0.1, momentum: 0.9 }, 3);
  ref.theta.forEach((r, i) => assertClose(r, MOMENTUM_3[i]!, 1e-14, 0, `host recursion step ${i + 1}`));
  if (B.name === 'cpu') got.forEach((r, i) => assertClose(r, MOMENTUM_3[i]!, 1e-14, 0, `step ${i + 1}`));
  else assertTrajectory(B, got, ref, 'momentum 0.9');
});

registerAll(backends, 'sgd nesterov: update = −lr·(g + μm)', async (B) => {
  const got = await run(bt.optim.sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true }), 3);
  const ref = hostRun({ kind: 'sgd', lr: () => 0.1, momentum: 0.9, nesterov: true }, 3);
  ref.theta.forEach((r, i) => assertClose(r, NESTEROV_3[i]!, 1e-14, 0, `host recursion step ${i + 1}`));
  if (B.name === 'cpu') got.forEach((r, i) => assertClose(r, NESTEROV_3[i]!, 1e-14, 0, `step ${i + 1}`));
  else assertTrajectory(B, got, ref, 'nesterov 0.9');
});

registerAll(backends, 'sgd over 60 steps (momentum, nesterov, schedules) follows the host float64 recursion', async (B) => {
  const cos = bt.optim.warmupCosineDecaySchedule({ initValue: 0, peakValue: 0.2, warmupSteps: 10, decaySteps: 50, endValue: 0.01 });
  const exp = bt.optim.exponentialDecay({ initValue: 0.1, transitionSteps: 10, decayRate: 0.5, staircase: true });
  const cases: [string, bt.optim.GradientTransformation<any>, Parameters<typeof hostRun>[0]][] = [
    ['sgd(0.05)', bt.optim.sgd({ learningRate: 0.05 }), { kind: 'sgd', lr: () => 0.05 }],
    ['momentum 0.9, warmup-cosine', bt.optim.sgd({ learningRate: cos, momentum: 0.9 }), { kind: 'sgd', lr: cos, momentum: 0.9 }],
    ['nesterov 0.5, staircase exponential decay', bt.optim.sgd({ learningRate: exp, momentum: 0.5, nesterov: true }), { kind: 'sgd', lr: exp, momentum: 0.5, nesterov: true }],
  ];
  for (const [what, opt, spec] of cases) assertTrajectory(B, await run(opt, 60), hostRun(spec, 60), what);
});

registerAll(backends, 'sgd momentum state: [{ trace: m }, {}], m the accumulated gradient', async (B) => {
  const opt = bt.optim.sgd({ learningRate: 0.1, momentum: 0.9 });
  const p = nestedParams();
  let s = opt.init(p);
  [, s] = opt.update(p, s, p);
  [, s] = opt.update(p, s, p);
  // m = g + 0.9 g with the same g twice
  const m = await values((s[0] as { trace: never }).trace);
  if (B.name === 'cpu') assertClose(m, [1.9, -3.8, 0.95], 1e-15);
  // g + 0.9·g: two roundings relative to the result
  else assertCloseArr(m, [1.9, -3.8, 0.95], B.adRtol, 0, 'trace');
});

registerAll(backends, 'sgd with a schedule: lr(step) at steps 0, 1, ... and the count in the state', async (B) => {
  const opt = bt.optim.sgd({ learningRate: bt.optim.linearSchedule({ initValue: 0.2, endValue: 0, transitionSteps: 2 }) });
  const got = await run(opt, 3);
  // lr 0.2, 0.1, 0: θ = 0.8, 0.72, 0.72 (for θ₀ = 1)
  const first = [got[0]![0]!, got[1]![0]!, got[2]![0]!];
  if (B.name === 'cpu') assertClose(first, [0.8, 0.72, 0.72], 1e-15);
  else {
    // θ − lr·θ per step, the rounding budget of the host recursion
    const ref = hostRun({ kind: 'sgd', lr: (k) => [0.2, 0.1, 0][k]! }, 3);
    assertTrajectory(B, got, ref, 'linear schedule');
    assert.is(got[2]![0], got[1]![0], 'lr 0 leaves θ exactly unchanged');
  }
  const s = opt.init(nestedParams());
  assert.equal(s, [{}, { count: 0 }]);
});

registerAll(backends, 'trace on its own and as the first link of sgd agree', async () => {
  const tr = bt.optim.trace({ decay: 0.5 });
  const p = nestedParams();
  const [u] = tr.update(p, tr.init(p));
  assertClose(await values(u as never), await values(p), 0, 0);
});

registerAll(backends, 'sgd: a negative learning rate (constant or scheduled) and bad momentum are ConfigErrors', async () => {
  assert.throws(() => bt.optim.sgd({ learningRate: -1 }), (e: Error) => e instanceof bt.ConfigError && /learningRate must be >= 0, got -1/.test(e.message));
  assert.throws(() => bt.optim.sgd({ learningRate: 0.1, momentum: -0.5 }), (e: Error) => e instanceof bt.ConfigError && /momentum .* -0\.5/.test(e.message));
  assert.throws(() => bt.optim.sgd({ learningRate: 0.1, nesterov: 1 as never }), (e: Error) => e instanceof bt.ConfigError && /nesterov/.test(e.message));
  assert.throws(() => bt.optim.sgd({ learningRate: 0.1, momentun: 0.9 } as never), (e: Error) => e instanceof bt.ConfigError && /unknown option 'momentun'/.test(e.message));
  const opt = bt.optim.sgd({ learningRate: (s: number) => 0.1 - s });
  let err: unknown = null;
  try {
    await run(opt, 2);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof bt.ConfigError && /returned -0\.9 at step 1/.test(err.message), String(err));
});

registerAll(backends, 'sgd: grads that do not match the state are ShapeErrors naming the leaf', (B) => {
  const opt = bt.optim.sgd({ learningRate: 0.1, momentum: 0.9 });
  const p = nestedParams();
  const s = opt.init(p);
  assert.throws(() => opt.update({ a: p.a }, s, p), (e: Error) => e instanceof bt.ShapeError && /different structures/.test(e.message));
  const wrong = { a: bt.tensor([1, 2, 3]), b: p.b };
  assert.throws(() => opt.update(wrong, s, p), (e: Error) => e instanceof bt.ShapeError && /leaf 'a'/.test(e.message));
  // a leaf of another dtype than the state's (float32 vs float64 on CPU; int32 vs float32 on WebGPU, which has no float64)
  const other = { a: p.a.astype(B.name === 'cpu' ? 'float32' : 'int32'), b: p.b };
  assert.throws(() => opt.update(other, s, p), (e: Error) => e instanceof bt.DTypeError);
});

test.run();
