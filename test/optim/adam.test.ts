/** Adam / AdamW: optax's recursion with bias correction, step by step, over a nested pytree. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose } from '../helpers.js';
import { nestedParams, run, values } from './common.js';

// θ after each of 3 steps of adam(lr 0.1) on ½‖θ‖² from θ₀ = (1, −2, 0.5), computed by hand from
//   μ ← .9μ + .1g, ν ← .999ν + .001g², θ ← θ − .1·(μ/(1−.9ᵗ)) / (√(ν/(1−.999ᵗ)) + 1e−8).
// Step 1 is exact on paper: μ̂ = g, ν̂ = g², so θ₁ = θ₀ − 0.1·g/(|g| + 1e−8) = 0.900000001 for θ₀ = 1.
const ADAM_3 = [
  [0.900000001, -1.9000000005, 0.40000000199999997],
  [0.8004122297123382, -1.8001664866210927, 0.3011874237306403],
  [0.701586274504415, -1.7006233928121137, 0.20487125573945103],
];

test('adam: three steps on a quadratic match the hand-computed optax recursion', () => {
  const got = run(bt.optim.adam({ learningRate: 0.1 }), 3);
  got.forEach((row, i) => assertClose(row, ADAM_3[i]!, 1e-13, 0, `step ${i + 1}`));
});

test('adam: state is { count, mu, nu } with the moments after one step, and JSON-serialisable', () => {
  const opt = bt.optim.adam({ learningRate: 0.1 });
  const p = nestedParams();
  const s0 = opt.init(p) as [bt.optim.AdamState, object];
  assert.is(s0[0].count, 0);
  const [, s1] = opt.update(p, s0, p) as [unknown, [bt.optim.AdamState, object]];
  assert.is(s1[0].count, 1);
  assertClose(values(s1[0].mu as never), [0.1, -0.2, 0.05], 1e-15);
  assertClose(values(s1[0].nu as never), [0.001, 0.004, 0.00025], 1e-13);
  // Tensors and numbers only: a host copy round-trips through JSON
  const host = bt.tree.map((l: unknown) => (l instanceof bt.Tensor ? l.toArray() : l), s1);
  assert.equal(JSON.parse(JSON.stringify(host)), host);
});

test('adam: epsRoot enters under the square root', () => {
  // step 1 with epsRoot e: update = g/(√(g² + e) + eps)
  const got = run(bt.optim.adam({ learningRate: 1, eps: 0, epsRoot: 3 }), 1)[0]!;
  assertClose(got, [1 - 1 / 2, -2 + 2 / Math.sqrt(7), 0.5 - 0.5 / Math.sqrt(3.25)], 1e-14);
});

test('adam: a learning-rate schedule is evaluated at the step count (0 first)', () => {
  const lrs: number[] = [];
  const sched = (s: number) => (lrs.push(s), 0.1 / (s + 1));
  run(bt.optim.adam({ learningRate: sched }), 3);
  assert.equal(lrs, [0, 1, 2]);
});

test('adamw: decoupled weight decay, scaled by the learning rate, with a mask', () => {
  const wd = 0.5;
  const lr = 0.1;
  // step 1: adam direction is g/(|g|+eps) ≈ sign(g); decay adds wd·θ on masked leaves only
  const mask = { a: true, b: { c: [false] } };
  const got = run(bt.optim.adamw({ learningRate: lr, weightDecay: wd, mask }), 1)[0]!;
  const dir = (g: number) => g / (Math.abs(g) + 1e-8);
  assertClose(got, [1 - lr * (dir(1) + wd * 1), -2 - lr * (dir(-2) + wd * -2), 0.5 - lr * dir(0.5)], 1e-14);
  // a mask function gives the same result
  const got2 = run(bt.optim.adamw({ learningRate: lr, weightDecay: wd, mask: () => mask }), 1)[0]!;
  assertClose(got2, got, 0, 0);
  // no mask: every leaf decays
  const got3 = run(bt.optim.adamw({ learningRate: lr, weightDecay: wd }), 1)[0]!;
  assertClose(got3[2]!, 0.5 - lr * (dir(0.5) + wd * 0.5), 1e-14);
});

test('adamw: update without params is a ConfigError; a mask of the wrong structure a ShapeError', () => {
  const opt = bt.optim.adamw({ learningRate: 0.1 });
  const p = nestedParams();
  assert.throws(() => opt.update(p, opt.init(p)), (e: Error) => e instanceof bt.ConfigError && /needs params/.test(e.message));
  const bad = bt.optim.adamw({ learningRate: 0.1, mask: { a: true } });
  assert.throws(() => bad.update(p, bad.init(p), p), (e: Error) => e instanceof bt.ShapeError && /mask/.test(e.message));
  const notBool = bt.optim.adamw({ learningRate: 0.1, mask: { a: 1, b: { c: [true] } } });
  assert.throws(() => notBool.update(p, notBool.init(p), p), (e: Error) => e instanceof bt.ConfigError && /b\.c\[0\]|a/.test(e.message));
});

test('adam: bad options name the value', () => {
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
});

test.run();
