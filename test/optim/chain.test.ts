/** chain order, applyUpdates, and flat memory over a long tidy loop. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose } from '../helpers.js';
import { halfSquaredNorm, nestedParams, type Params } from './common.js';

const flat = (t: unknown) => bt.tree.leaves(t).flatMap((l) => [...(l as bt.Tensor).dataSync()]);

test('chain applies left to right: clip∘scale differs from scale∘clip', () => {
  const g = { x: bt.tensor([3, 4]) };
  const scaleThenClip = bt.optim.chain(bt.optim.scale(10), bt.optim.clipByGlobalNorm(1));
  const clipThenScale = bt.optim.chain(bt.optim.clipByGlobalNorm(1), bt.optim.scale(10));
  assertClose(flat(scaleThenClip.update(g, scaleThenClip.init(g))[0]), [0.6, 0.8], 1e-15);
  assertClose(flat(clipThenScale.update(g, clipThenScale.init(g))[0]), [6, 8], 1e-15);
});

test('chain state is the array of the states, in order', () => {
  const opt = bt.optim.chain(bt.optim.clipByGlobalNorm(1), bt.optim.scaleByAdam(), bt.optim.scaleByLearningRate(bt.optim.constantSchedule(0.1)));
  const s = opt.init(nestedParams()) as unknown[];
  assert.is(s.length, 3);
  assert.equal(s[0], {});
  assert.is((s[1] as { count: number }).count, 0);
  assert.equal(s[2], { count: 0 });
  assert.throws(() => opt.update(nestedParams(), s.slice(1)), (e: Error) => e instanceof bt.ConfigError && /3 entries/.test(e.message));
  assert.throws(() => bt.optim.chain({} as never), (e: Error) => e instanceof bt.ConfigError && /argument 0/.test(e.message));
});

test('applyUpdates adds leafwise and refuses broadcasting', () => {
  const p = nestedParams();
  const u = bt.tree.map((l: bt.Tensor) => bt.onesLike(l), p) as Params;
  assertClose(flat(bt.optim.applyUpdates(p, u)), [2, -1, 1.5], 0, 0);
  const broadcasting = { a: bt.tensor([1]), b: u.b };
  assert.throws(() => bt.optim.applyUpdates(p, broadcasting), (e: Error) => e instanceof bt.ShapeError && /leaf 'a' has shape \[2\] in params but \[1\] in updates/.test(e.message));
  assert.throws(() => bt.optim.applyUpdates(p, { a: 1, b: u.b }), (e: Error) => e instanceof bt.ConfigError && /not a Tensor/.test(e.message));
});

test('10,000 steps of clip + adamw + schedule inside bt.tidy keep numTensors flat', () => {
  const opt = bt.optim.chain(
    bt.optim.clipByGlobalNorm(1),
    bt.optim.adamw({ learningRate: bt.optim.warmupCosineDecaySchedule({ initValue: 0, peakValue: 0.05, warmupSteps: 100, decaySteps: 10_000 }), weightDecay: 1e-3 }),
  );
  let params = nestedParams();
  let state = opt.init(params);
  let baseline = -1;
  for (let i = 0; i < 10_000; i++) {
    const next = bt.tidy(() => {
      const g = bt.grad(halfSquaredNorm)(params);
      const [u, s] = opt.update(g, state, params);
      return [bt.optim.applyUpdates(params, u), s] as const;
    });
    bt.dispose([params, state]);
    [params, state] = next;
    if (i === 10) baseline = bt.memory().numTensors;
  }
  assert.is(bt.memory().numTensors, baseline);
  // and it optimised: the minimum of ½‖θ‖² is 0
  assert.ok(flat(params).every((v) => Math.abs(v) < 0.05), String(flat(params)));
});

test.run();
