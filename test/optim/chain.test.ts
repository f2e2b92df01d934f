/**
 * chain order, applyUpdates, and flat memory over a long tidy loop.
 *
 * Every body runs on each backend (see ../backend-harness.ts): `name [cpu]` in float64 with the
 * checks and tolerances of ../helpers.ts as before, and `name [webgpu]` in float32 (the backend's
 * default float dtype), read with `await t.data()`. float32 values are compared with their closed
 * forms within B.adRtol (64 ulps, the harness's allowance for a short op chain) relative; sums of
 * small integers are exact in float32 and compared exactly. The long loop runs 10,000 steps on
 * the CPU as before and 1,000 on WebGPU (a step there costs ~2-3 ms on lavapipe, more while its
 * fused kernels are first compiled), with the schedule's decay spread over the steps run.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose } from '../helpers.js';
import { assertCloseArr, backendsUnderTest, read, registerAll, type BackendCase } from '../backend-harness.js';
import { halfSquaredNorm, nestedParams, type Params } from './common.js';

const backends = await backendsUnderTest('optim/chain');

const flat = async (t: unknown) => (await Promise.all(bt.tree.leaves(t).map((l) => read(l as bt.Tensor)))).flat();

/** CPU: helpers.assertClose(got, want, cpuRtol) as before; WebGPU: within B.adRtol relative. */
function close(B: BackendCase, got: number[], want: number[], cpuRtol: number, what: string): void {
  if (B.name === 'cpu') assertClose(got, want, cpuRtol, undefined, what);
  else assertCloseArr(got, want, B.adRtol, 0, what);
}

registerAll(backends, 'chain applies left to right: clip∘scale differs from scale∘clip', async (B) => {
  const g = { x: bt.tensor([3, 4]) };
  const scaleThenClip = bt.optim.chain(bt.optim.scale(10), bt.optim.clipByGlobalNorm(1));
  const clipThenScale = bt.optim.chain(bt.optim.clipByGlobalNorm(1), bt.optim.scale(10));
  close(B, await flat(scaleThenClip.update(g, scaleThenClip.init(g))[0]), [0.6, 0.8], 1e-15, 'scale then clip');
  close(B, await flat(clipThenScale.update(g, clipThenScale.init(g))[0]), [6, 8], 1e-15, 'clip then scale');
});

registerAll(backends, 'chain state is the array of the states, in order', (B) => {
  const opt = bt.optim.chain(bt.optim.clipByGlobalNorm(1), bt.optim.scaleByAdam(), bt.optim.scaleByLearningRate(bt.optim.constantSchedule(0.1)));
  const s = opt.init(nestedParams()) as unknown[];
  assert.is(s.length, 3);
  assert.equal(s[0], {});
  assert.is((s[1] as { count: number }).count, 0);
  assert.ok(bt.tree.leaves((s[1] as { mu: unknown }).mu).every((l) => (l as bt.Tensor).dtype === B.dtype && (l as bt.Tensor).backend === B.name), 'Adam moments on the backend, in its dtype');
  assert.equal(s[2], { count: 0 });
  assert.throws(() => opt.update(nestedParams(), s.slice(1)), (e: Error) => e instanceof bt.ConfigError && /3 entries/.test(e.message));
  assert.throws(() => bt.optim.chain({} as never), (e: Error) => e instanceof bt.ConfigError && /argument 0/.test(e.message));
});

registerAll(backends, 'applyUpdates adds leafwise and refuses broadcasting', async () => {
  const p = nestedParams();
  const u = bt.tree.map((l: bt.Tensor) => bt.onesLike(l), p) as Params;
  assertClose(await flat(bt.optim.applyUpdates(p, u)), [2, -1, 1.5], 0, 0);
  const broadcasting = { a: bt.tensor([1]), b: u.b };
  assert.throws(() => bt.optim.applyUpdates(p, broadcasting), (e: Error) => e instanceof bt.ShapeError && /leaf 'a' has shape \[2\] in params but \[1\] in updates/.test(e.message));
  assert.throws(() => bt.optim.applyUpdates(p, { a: 1, b: u.b }), (e: Error) => e instanceof bt.ConfigError && /not a Tensor/.test(e.message));
});

registerAll(backends, '10,000 steps (1,000 on WebGPU) of clip + adamw + schedule inside bt.tidy keep numTensors flat', async (B) => {
  const steps = B.name === 'cpu' ? 10_000 : 1_000;
  const opt = bt.optim.chain(
    bt.optim.clipByGlobalNorm(1),
    bt.optim.adamw({ learningRate: bt.optim.warmupCosineDecaySchedule({ initValue: 0, peakValue: 0.05, warmupSteps: 100, decaySteps: steps }), weightDecay: 1e-3 }),
  );
  let params = nestedParams();
  let state = opt.init(params);
  let baseline = -1;
  for (let i = 0; i < steps; i++) {
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
  const final = await flat(params);
  assert.ok(final.every((v) => Math.abs(v) < 0.05), String(final));
  assert.ok(bt.tree.leaves(params).every((l) => (l as bt.Tensor).dtype === B.dtype && (l as bt.Tensor).backend === B.name));
  assert.is(bt.memory().numTensors, baseline, 'reading the result creates no tensors');
});

test.run();
