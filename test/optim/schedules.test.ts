/**
 * Schedules: optax's formulas at chosen steps, computed by hand.
 *
 * A schedule is a plain host function of the step count (float64 JS numbers, no tensor), so the
 * formula tests are registered for the CPU only (see ../backend-harness.ts: registerAll's cpuOnly
 * reason is printed). What a backend does with a schedule's value (scale every leaf by it, in the
 * leaves' dtype) is checked on every backend by the last test: float32 on WebGPU, within one
 * rounding of the value and one of the product (B.eps relative).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose } from '../helpers.js';
import { assertCloseArr, backendsUnderTest, read, registerAll } from '../backend-harness.js';

const backends = await backendsUnderTest('optim/schedules');
const HOST_ONLY = 'a schedule is a host function of the step: no tensor, nothing backend-specific to run';

const o = bt.optim;
const at = (s: bt.optim.Schedule, steps: number[]) => steps.map((k) => s(k));

registerAll(backends, 'constantSchedule', () => {
  assert.equal(at(o.constantSchedule(0.3), [0, 1, 1234]), [0.3, 0.3, 0.3]);
}, HOST_ONLY);

registerAll(backends, 'exponentialDecay: smooth, staircase, transitionBegin, endValue', () => {
  assertClose(at(o.exponentialDecay({ initValue: 1, transitionSteps: 10, decayRate: 0.5 }), [0, 5, 10, 20]), [1, Math.SQRT1_2, 0.5, 0.25], 1e-15);
  assertClose(at(o.exponentialDecay({ initValue: 1, transitionSteps: 10, decayRate: 0.5, staircase: true }), [0, 5, 9, 10, 25]), [1, 1, 1, 0.5, 0.25], 0, 0);
  assertClose(at(o.exponentialDecay({ initValue: 2, transitionSteps: 10, decayRate: 0.5, transitionBegin: 5 }), [0, 3, 5, 15]), [2, 2, 2, 1], 1e-15);
  assertClose(at(o.exponentialDecay({ initValue: 1, transitionSteps: 10, decayRate: 0.5, endValue: 0.3 }), [10, 20, 100]), [0.5, 0.3, 0.3], 1e-15);
  assertClose(at(o.exponentialDecay({ initValue: 1, transitionSteps: 10, decayRate: 2, endValue: 3 }), [10, 20]), [2, 3], 1e-15);
}, HOST_ONLY);

registerAll(backends, 'cosineDecaySchedule: init·((1−α)·½(1 + cos(πk/T)) + α), constant after T', () => {
  const s = o.cosineDecaySchedule({ initValue: 2, decaySteps: 100, alpha: 0.1 });
  assertClose(at(s, [0, 50, 100, 200]), [2, 2 * (0.9 * 0.5 + 0.1), 0.2, 0.2], 1e-15);
  const e = o.cosineDecaySchedule({ initValue: 1, decaySteps: 100, exponent: 2 });
  assertClose(e(50), 0.25, 1e-15);
}, HOST_ONLY);

registerAll(backends, 'linearSchedule and polynomialSchedule', () => {
  assertClose(at(o.linearSchedule({ initValue: 1, endValue: 0, transitionSteps: 4 }), [0, 1, 2, 3, 4, 9]), [1, 0.75, 0.5, 0.25, 0, 0], 1e-15);
  const p = o.polynomialSchedule({ initValue: 1, endValue: 0.1, power: 2, transitionSteps: 10, transitionBegin: 2 });
  // k = 7: 0.9·(1 − 5/10)² + 0.1 = 0.325
  assertClose(at(p, [0, 2, 7, 12, 50]), [1, 1, 0.325, 0.1, 0.1], 1e-15);
}, HOST_ONLY);

registerAll(backends, 'warmupCosineDecaySchedule: linear warmup to the peak, then cosine to endValue at decaySteps', () => {
  const s = o.warmupCosineDecaySchedule({ initValue: 0, peakValue: 1, warmupSteps: 10, decaySteps: 110, endValue: 0.1 });
  // step 60 is halfway through the 100-step cosine: 0.9·½ + 0.1 = 0.55
  assertClose(at(s, [0, 5, 10, 60, 110, 500]), [0, 0.5, 1, 0.55, 0.1, 0.1], 1e-15);
  const noWarm = o.warmupCosineDecaySchedule({ initValue: 0, peakValue: 1, warmupSteps: 0, decaySteps: 10 });
  assertClose(at(noWarm, [0, 10]), [1, 0], 1e-15);
}, HOST_ONLY);

registerAll(backends, 'joinSchedules counts each piece from its boundary', () => {
  const s = o.joinSchedules([o.constantSchedule(1), (k) => k, o.constantSchedule(-1)], [3, 5]);
  assert.equal(at(s, [0, 2, 3, 4, 5, 9]), [1, 1, 0, 1, -1, -1]);
}, HOST_ONLY);

registerAll(backends, 'bad schedule options are ConfigErrors naming the value', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => o.exponentialDecay({ initValue: 1, transitionSteps: 0, decayRate: 0.5 }), /transitionSteps must be > 0, got 0/],
    [() => o.exponentialDecay({ initValue: 1, transitionSteps: 10, decayRate: -1 }), /decayRate must be > 0, got -1/],
    [() => o.cosineDecaySchedule({ initValue: 1, decaySteps: -5 }), /decaySteps must be > 0, got -5/],
    [() => o.linearSchedule({ initValue: 1, endValue: 0, transitionSteps: 10, power: 2 } as never), /unknown option 'power'|power/],
    [() => o.warmupCosineDecaySchedule({ initValue: 0, peakValue: 1, warmupSteps: 10, decaySteps: 10 }), /decaySteps must be > 10, got 10/],
    [() => o.polynomialSchedule({ initValue: 1, endValue: 0, power: 1, transitionSteps: 5, begin: 2 } as never), /unknown option 'begin'/],
    [() => o.constantSchedule(Infinity), /finite/],
    [() => o.joinSchedules([o.constantSchedule(1)], [1]), /1 schedules need 0 boundaries/],
  ];
  for (const [f, re] of cases) assert.throws(f, (e: Error) => e instanceof bt.ConfigError && re.test(e.message), re.source);
}, HOST_ONLY);

registerAll(backends, 'scaleBySchedule and scaleByLearningRate scale every leaf by schedule(count), on the device', async (B) => {
  const sched = o.exponentialDecay({ initValue: 0.3, transitionSteps: 2, decayRate: 0.5 });
  const g = { a: bt.tensor([1, -2]), b: [bt.tensor([[0.5, 4]])] };
  const hv = [1, -2, 0.5, 4];
  const cases: [string, bt.optim.GradientTransformation<unknown>, number][] = [
    ['scaleBySchedule', o.scaleBySchedule(sched) as bt.optim.GradientTransformation<unknown>, 1],
    ['scaleByLearningRate', o.scaleByLearningRate(sched), -1],
    ['scaleByLearningRate flipSign: false', o.scaleByLearningRate(sched, { flipSign: false }), 1],
  ];
  for (const [what, tr, sign] of cases) {
    let s = tr.init(g);
    for (let k = 0; k < 4; k++) {
      const [u, s2] = tr.update(g, s);
      s = s2;
      assert.equal(s, { count: k + 1 }, `${what}: count`);
      const leaves = bt.tree.leaves(u) as bt.Tensor[];
      assert.ok(leaves.every((l) => l.dtype === B.dtype && l.backend === B.name), `${what}: leaves on the backend`);
      const got = (await Promise.all(leaves.map(read))).flat();
      // the schedule's value rounded to the dtype, times each leaf, rounded: 2 roundings of 2⁻²⁴ (or 2⁻⁵³)
      assertCloseArr(got, hv.map((v) => sign * sched(k) * v), B.eps, 0, `${what} at step ${k}`);
    }
  }
});

test.run();
