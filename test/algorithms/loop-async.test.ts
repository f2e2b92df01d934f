/**
 * The run loop with an asynchronous step (a step that awaits device reads, as the nested sampler
 * does on WebGPU): same trajectory as the synchronous step with the same keys, memory flat, the
 * step's key alive across its awaits, errors and the state before them handed over as usual.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';

type S = { x: bt.Tensor; n: number };
const walk = (s: S, k: bt.Tensor | undefined): [S, bt.Tensor] => {
  const x = s.x.add(bt.random.normal(k!, s.x.shape).mul(0.1));
  return [{ x, n: s.n + 1 }, x.square().sum()];
};
/** The same walk, split around awaits: the key is used after the first await, the read in between. */
const walkAsync = async (s: S, k: bt.Tensor | undefined): Promise<[S, bt.Tensor]> => {
  await Promise.resolve();
  const xi = bt.tidy(() => bt.random.normal(k!, s.x.shape).mul(0.1));
  const host = await xi.data(); // an async read, as on WebGPU
  assert.is(host.length, 2);
  await new Promise((r) => setTimeout(r, 0));
  const [next, aux] = bt.tidy(() => {
    const x = s.x.add(xi);
    return [{ x, n: s.n + 1 }, x.square().sum()] as [S, bt.Tensor];
  });
  xi.dispose();
  return [next, aux];
};
const x0 = () => ({ x: bt.tensor([1, -1]), n: 0 });
const key = bt.random.key(5);
const quiet = { progress: false } as const;

test('an async step gives the sync step\'s trajectory, with onStep, progress values and memory flat', async () => {
  const s0 = x0();
  const sync = await bt.loop.run(s0, { name: 'walk', steps: 20, key, step: walk, ...quiet });
  const before = bt.memory().numTensors;
  const seen: number[] = [];
  const reports: number[] = [];
  const r = await bt.loop.run(s0, {
    name: 'walk', steps: 20, key, step: walkAsync, ...quiet,
    onStep: (s) => void seen.push(s.n),
    onProgress: (p) => void reports.push(p.values.aux!),
    progressEvery: 5,
    values: (_s, a) => ({ aux: a }),
  });
  assert.is(r.reason, 'completed');
  assert.is(r.steps, 20);
  assert.equal(seen, Array.from({ length: 20 }, (_, i) => i + 1));
  assert.equal(Array.from(r.state.x.dataSync()), Array.from(sync.state.x.dataSync()));
  assert.is(reports.length, 4);
  // only the final state is left over (its x), besides what was there before
  assert.is(bt.memory().numTensors - before, 1);
  r.state.x.dispose();
  sync.state.x.dispose();
});

test('an async step that throws after an await: the error carries the state before it; the key is freed', async () => {
  const before = bt.memory().numTensors;
  const bad = async (s: S, k: bt.Tensor | undefined): Promise<[S, bt.Tensor]> => {
    if (s.n === 3) {
      await Promise.resolve();
      throw new bt.NumericalError('bad point');
    }
    return walkAsync(s, k);
  };
  const s0 = x0();
  const mid = bt.memory().numTensors;
  try {
    await bt.loop.run(s0, { name: 'walk', steps: 10, key, step: bad, ...quiet });
    assert.unreachable('should throw');
  } catch (e) {
    assert.instance(e, bt.NumericalError);
    const st = (e as { state: S }).state;
    assert.is(st.n, 3);
    assert.not.ok(st.x.isDisposed);
    st.x.dispose();
  }
  assert.is(bt.memory().numTensors, mid, 'nothing but the handed-over state was left (now freed)');
  s0.x.dispose();
  assert.is(bt.memory().numTensors, before);
});

test('checkpoint and resume with an async step continue the uninterrupted run', async () => {
  const saved: bt.loop.Checkpoint[] = [];
  const full = await bt.loop.run(x0(), { name: 'walk', steps: 8, key, step: walkAsync, ...quiet });
  await bt.loop.run(x0(), { name: 'walk', steps: 8, key, step: walkAsync, ...quiet, checkpoint: { every: 4, save: (c) => void saved.push(c) }, onStep: (_s, _a, t) => (t === 4 ? false : undefined) });
  const resumed = await bt.loop.run(null, { name: 'walk', steps: 8, key, step: walkAsync, ...quiet, resume: saved[0]! });
  assert.is(resumed.steps, 8);
  assert.equal(Array.from(resumed.state.x.dataSync()), Array.from(full.state.x.dataSync()));
});

test.run();
