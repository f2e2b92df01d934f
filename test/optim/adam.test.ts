/**
 * Adam / AdamW: optax's recursion with bias correction, step by step, over a nested pytree.
 *
 * Every body runs on each backend (see ../backend-harness.ts): `name [cpu]` in float64 with the
 * checks and tolerances of ../helpers.ts as before, and `name [webgpu]` in float32 (parameters
 * and state in the backend's default float dtype), read with `await t.data()`. The float32
 * trajectories are compared with the host float64 recursion of ./common.ts within B.adRtol times
 * the rounding budget accumulated over the steps (see hostRun); closed forms of one step within
 * B.adRtol·(|θ| + |u|).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose } from '../helpers.js';
import { assertCloseArr, backendsUnderTest, read, registerAll, type BackendCase } from '../backend-harness.js';
import { assertTrajectory, hostRun, nestedParams, run, THETA0, values } from './common.js';

const backends = await backendsUnderTest('optim/adam');

// θ after each of 3 steps of adam(lr 0.1) on ½‖θ‖² from θ₀ = (1, −2, 0.5), computed by hand from
//   μ ← .9μ + .1g, ν ← .999ν + .001g², θ ← θ − .1·(μ/(1−.9ᵗ)) / (√(ν/(1−.999ᵗ)) + 1e−8).
// Step 1 is exact on paper: μ̂ = g, ν̂ = g², so θ₁ = θ₀ − 0.1·g/(|g| + 1e−8) = 0.900000001 for θ₀ = 1.
const ADAM_3 = [
  [0.900000001, -1.9000000005, 0.40000000199999997],
  [0.8004122297123382, -1.8001664866210927, 0.3011874237306403],
  [0.701586274504415, -1.7006233928121137, 0.20487125573945103],
];

/** One step's closed form on WebGPU: within B.adRtol·(|θ₀| + |θ₁ − θ₀|) per coordinate. */
function oneStep(B: BackendCase, got: number[], want: number[], what: string): void {
  assertCloseArr(got, want, 0, 0, what, want.map((w, i) => B.adRtol * (Math.abs(THETA0[i]!) + Math.abs(w - THETA0[i]!))));
}

registerAll(backends, 'adam: three steps on a quadratic match the hand-computed optax recursion', async (B) => {
  const got = await run(bt.optim.adam({ learningRate: 0.1 }), 3);
  const ref = hostRun({ kind: 'adam', lr: () => 0.1 }, 3);
  // the host reference is the hand-computed recursion
  ref.theta.forEach((row, i) => assertClose(row, ADAM_3[i]!, 1e-13, 0, `host recursion step ${i + 1}`));
  if (B.name === 'cpu') got.forEach((row, i) => assertClose(row, ADAM_3[i]!, 1e-13, 0, `step ${i + 1}`));
  else assertTrajectory(B, got, ref, 'adam(0.1)');
});

registerAll(backends, 'adam: state is { count, mu, nu } with the moments after one step, and JSON-serialisable', async (B) => {
  const opt = bt.optim.adam({ learningRate: 0.1 });
  const p = nestedParams();
  const s0 = opt.init(p) as [bt.optim.AdamState, object];
  assert.is(s0[0].count, 0);
  const [, s1] = opt.update(p, s0, p) as [unknown, [bt.optim.AdamState, object]];
  assert.is(s1[0].count, 1);
  const mu = await values(s1[0].mu as never);
  const nu = await values(s1[0].nu as never);
  if (B.name === 'cpu') {
    assertClose(mu, [0.1, -0.2, 0.05], 1e-15);
    assertClose(nu, [0.001, 0.004, 0.00025], 1e-13);
  } else {
    // μ = 0.9·0 + 0.1·g and ν = 0.999·0 + 0.001·g²: a few roundings relative to the result
    assertCloseArr(mu, [0.1, -0.2, 0.05], B.adRtol, 0, 'mu');
    assertCloseArr(nu, [0.001, 0.004, 0.00025], B.adRtol, 0, 'nu');
    assert.ok(bt.tree.leaves(s1).every((l) => !(l instanceof bt.Tensor) || (l.dtype === B.dtype && l.backend === B.name)), 'state leaves on the backend, in its dtype');
  }
  // Tensors and numbers only: a host copy round-trips through JSON
  const leaves = bt.tree.leaves(s1);
  const arrays = await Promise.all(leaves.map((l) => (l instanceof bt.Tensor ? l.array() : l)));
  let i = 0;
  const host = bt.tree.map(() => arrays[i++], s1);
  assert.equal(JSON.parse(JSON.stringify(host)), host);
});

registerAll(backends, 'adam: epsRoot enters under the square root', async (B) => {
  // step 1 with epsRoot e: update = g/(√(g² + e) + eps)
  const got = (await run(bt.optim.adam({ learningRate: 1, eps: 0, epsRoot: 3 }), 1))[0]!;
  const want = [1 - 1 / 2, -2 + 2 / Math.sqrt(7), 0.5 - 0.5 / Math.sqrt(3.25)];
  if (B.name === 'cpu') assertClose(got, want, 1e-14);
  else oneStep(B, got, want, 'epsRoot 3');
});

registerAll(backends, 'adam: a learning-rate schedule is evaluated at the step count (0 first)', async () => {
  const lrs: number[] = [];
  const sched = (s: number) => (lrs.push(s), 0.1 / (s + 1));
  await run(bt.optim.adam({ learningRate: sched }), 3);
  assert.equal(lrs, [0, 1, 2]);
});

registerAll(backends, 'adamw: decoupled weight decay, scaled by the learning rate, with a mask', async (B) => {
  const wd = 0.5;
  const lr = 0.1;
  // step 1: adam direction is g/(|g|+eps) ≈ sign(g); decay adds wd·θ on masked leaves only
  const mask = { a: true, b: { c: [false] } };
  const got = (await run(bt.optim.adamw({ learningRate: lr, weightDecay: wd, mask }), 1))[0]!;
  const dir = (g: number) => g / (Math.abs(g) + 1e-8);
  const want = [1 - lr * (dir(1) + wd * 1), -2 - lr * (dir(-2) + wd * -2), 0.5 - lr * dir(0.5)];
  if (B.name === 'cpu') assertClose(got, want, 1e-14);
  else oneStep(B, got, want, 'adamw with a mask');
  // a mask function gives the same result (the same operations: exactly)
  const got2 = (await run(bt.optim.adamw({ learningRate: lr, weightDecay: wd, mask: () => mask }), 1))[0]!;
  assertClose(got2, got, 0, 0);
  // no mask: every leaf decays
  const got3 = (await run(bt.optim.adamw({ learningRate: lr, weightDecay: wd }), 1))[0]!;
  const want3 = 0.5 - lr * (dir(0.5) + wd * 0.5);
  if (B.name === 'cpu') assertClose(got3[2]!, want3, 1e-14);
  else oneStep(B, [got3[2]!], [want3], 'adamw without a mask (leaf b.c[0])');
});

registerAll(backends, 'adam and adamw over 40 steps (schedules, masks, clipping) follow the host float64 recursion', async (B) => {
  const lin = bt.optim.linearSchedule({ initValue: 0.02, endValue: 0.005, transitionSteps: 30 });
  const cases: [string, bt.optim.GradientTransformation<any>, Parameters<typeof hostRun>[0]][] = [
    ['adam(0.01)', bt.optim.adam({ learningRate: 0.01 }), { kind: 'adam', lr: () => 0.01 }],
    ['adam, b1 0.5, b2 0.9, epsRoot 1e-3, linear schedule', bt.optim.adam({ learningRate: lin, b1: 0.5, b2: 0.9, epsRoot: 1e-3 }), { kind: 'adam', lr: lin, b1: 0.5, b2: 0.9, epsRoot: 1e-3 }],
    ['adamw(0.01, wd 0.1, mask)', bt.optim.adamw({ learningRate: 0.01, weightDecay: 0.1, mask: { a: true, b: { c: [false] } } }), { kind: 'adam', lr: () => 0.01, weightDecay: 0.1, decayMask: [true, true, false] }],
    ['clip(1) then adam(0.01)', bt.optim.chain(bt.optim.clipByGlobalNorm(1), bt.optim.adam({ learningRate: 0.01 })), { kind: 'adam', lr: () => 0.01, clip: 1 }],
  ];
  for (const [what, opt, spec] of cases) assertTrajectory(B, await run(opt, 40), hostRun(spec, 40), what);
});

registerAll(backends, 'adamw: update without params is a ConfigError; a mask of the wrong structure a ShapeError', () => {
  const opt = bt.optim.adamw({ learningRate: 0.1 });
  const p = nestedParams();
  assert.throws(() => opt.update(p, opt.init(p)), (e: Error) => e instanceof bt.ConfigError && /needs params/.test(e.message));
  const bad = bt.optim.adamw({ learningRate: 0.1, mask: { a: true } });
  assert.throws(() => bad.update(p, bad.init(p), p), (e: Error) => e instanceof bt.ShapeError && /mask/.test(e.message));
  const notBool = bt.optim.adamw({ learningRate: 0.1, mask: { a: 1, b: { c: [true] } } });
  assert.throws(() => notBool.update(p, notBool.init(p), p), (e: Error) => e instanceof bt.ConfigError && /b\.c\[0\]|a/.test(e.message));
});

registerAll(backends, 'adam: bad options name the value', () => {
  const bad: [object, RegExp][] = [
    [{ learningRate: -0.1 }, /learningRate must be >= 0, got -0\.1/],
    [{ learningRate: 0.1, b1: 1 }, /b1 must be < 1, got 1/],
    [{ learningRate: 0.1, b2: -0.5 }, /b2 must be >= 0, got -0\.5/],
    [{ learningRate: 0.1, eps: NaN }, /eps must be a finite number/],
    [{ learningRate: 0.1, beta1: 0.9 }, /unknown option 'beta1'/],
    [{ lr: 0.1 }, /unknown option 'lr'/],
  ];
  for (const [opts, re] of bad) {
    assert.throws(() => bt.optim.adam(opts as never), (e: Error) => e instanceof bt.ConfigError && re.test(e.message), JSON.stringify(opts));
  }
  assert.throws(() => bt.optim.adam(undefined as never), (e: Error) => e instanceof bt.ConfigError);
}, 'option validation on the host: creates no tensor, so there is nothing backend-specific to run');

test.run();
