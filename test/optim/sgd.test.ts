/** sgd (optax.sgd = trace then −lr scaling): plain, momentum, nesterov, schedules; trace on its own. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose } from '../helpers.js';
import { nestedParams, run, values } from './common.js';

// θ₀ = (1, −2, 0.5), g = θ, lr 0.1, μ 0.9. By hand for θ₀ = 1 (the rest scale linearly):
//   m ← g + μm: 1, 0.9 + 0.9 = 1.8, 0.72 + 1.62 = 2.34;  θ ← θ − lr·m: 0.9, 0.72, 0.486
//   nesterov uses g + μ·m(new): θ₁ = 1 − 0.1·(1 + 0.9) = 0.81, ...
const MOMENTUM_3 = [[0.9, -1.8, 0.45], [0.72, -1.44, 0.36], [0.486, -0.972, 0.243]];
const NESTEROV_3 = [
  [0.81, -1.62, 0.405],
  [0.5751000000000001, -1.1502000000000001, 0.28755000000000003],
  [0.32732100000000003, -0.6546420000000001, 0.16366050000000001],
];

test('sgd without momentum: θ ← θ − lr·g, state holds no tensors', () => {
  const got = run(bt.optim.sgd({ learningRate: 0.1 }), 2);
  assertClose(got[0]!, [0.9, -1.8, 0.45], 1e-15);
  assertClose(got[1]!, [0.81, -1.62, 0.405], 1e-15);
  const s = bt.optim.sgd({ learningRate: 0.1 }).init(nestedParams());
  assert.equal(s, [{}, {}]);
});

test('sgd with momentum: m ← g + μm; update = −lr·m', () => {
  run(bt.optim.sgd({ learningRate: 0.1, momentum: 0.9 }), 3).forEach((r, i) => assertClose(r, MOMENTUM_3[i]!, 1e-14, 0, `step ${i + 1}`));
});

test('sgd nesterov: update = −lr·(g + μm)', () => {
  run(bt.optim.sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true }), 3).forEach((r, i) => assertClose(r, NESTEROV_3[i]!, 1e-14, 0, `step ${i + 1}`));
});

test('sgd momentum state: [{ trace: m }, {}], m the accumulated gradient', () => {
  const opt = bt.optim.sgd({ learningRate: 0.1, momentum: 0.9 });
  const p = nestedParams();
  let s = opt.init(p);
  [, s] = opt.update(p, s, p);
  [, s] = opt.update(p, s, p);
  // m = g + 0.9 g with the same g twice
  assertClose(values((s[0] as { trace: never }).trace), [1.9, -3.8, 0.95], 1e-15);
});

test('sgd with a schedule: lr(step) at steps 0, 1, ... and the count in the state', () => {
  const opt = bt.optim.sgd({ learningRate: bt.optim.linearSchedule({ initValue: 0.2, endValue: 0, transitionSteps: 2 }) });
  const got = run(opt, 3);
  // lr 0.2, 0.1, 0: θ = 0.8, 0.72, 0.72 (for θ₀ = 1)
  assertClose([got[0]![0]!, got[1]![0]!, got[2]![0]!], [0.8, 0.72, 0.72], 1e-15);
  const s = opt.init(nestedParams());
  assert.equal(s, [{}, { count: 0 }]);
});

test('trace on its own and as the first link of sgd agree', () => {
  const tr = bt.optim.trace({ decay: 0.5 });
  const p = nestedParams();
  const [u] = tr.update(p, tr.init(p));
  assertClose(values(u as never), values(p), 0, 0);
});

test('sgd: a negative learning rate (constant or scheduled) and bad momentum are ConfigErrors', () => {
  assert.throws(() => bt.optim.sgd({ learningRate: -1 }), (e: Error) => e instanceof bt.ConfigError && /learningRate must be >= 0, got -1/.test(e.message));
  assert.throws(() => bt.optim.sgd({ learningRate: 0.1, momentum: -0.5 }), (e: Error) => e instanceof bt.ConfigError && /momentum .* -0\.5/.test(e.message));
  assert.throws(() => bt.optim.sgd({ learningRate: 0.1, nesterov: 1 as never }), (e: Error) => e instanceof bt.ConfigError && /nesterov/.test(e.message));
  assert.throws(() => bt.optim.sgd({ learningRate: 0.1, momentun: 0.9 } as never), (e: Error) => e instanceof bt.ConfigError && /unknown option 'momentun'/.test(e.message));
  const opt = bt.optim.sgd({ learningRate: (s: number) => 0.1 - s });
  assert.throws(() => run(opt, 2), (e: Error) => e instanceof bt.ConfigError && /returned -0\.9 at step 1/.test(e.message));
});

test('sgd: grads that do not match the state are ShapeErrors naming the leaf', () => {
  const opt = bt.optim.sgd({ learningRate: 0.1, momentum: 0.9 });
  const p = nestedParams();
  const s = opt.init(p);
  assert.throws(() => opt.update({ a: p.a }, s, p), (e: Error) => e instanceof bt.ShapeError && /different structures/.test(e.message));
  const wrong = { a: bt.tensor([1, 2, 3]), b: p.b };
  assert.throws(() => opt.update(wrong, s, p), (e: Error) => e instanceof bt.ShapeError && /leaf 'a'/.test(e.message));
  const f32 = { a: p.a.astype('float32'), b: p.b };
  assert.throws(() => opt.update(f32, s, p), (e: Error) => e instanceof bt.DTypeError);
});

test.run();
