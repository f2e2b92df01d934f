/**
 * The shared run loop (bt.loop.run) on a toy state: why it stops, the non-finite check, patience
 * and the kept best state, checkpoints and resume, memory, progress output.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';

type S = { x: bt.Tensor; n: number };
/** A random walk x_{t+1} = x_t + 0.1·ξ_t (ξ from the step's key), with aux = x². */
const walk = (s: S, k: bt.Tensor | undefined): [S, bt.Tensor] => {
  const x = s.x.add(bt.random.normal(k!, s.x.shape).mul(0.1));
  return [{ x, n: s.n + 1 }, x.square().sum()];
};
const x0 = () => ({ x: bt.tensor([1, -1]), n: 0 });
const key = bt.random.key(3);
const quiet = { progress: false } as const;

test('completed: steps taken, step t keyed foldIn(key, t) from start, the caller\'s state untouched', async () => {
  const s0 = x0();
  const r = await bt.loop.run(s0, { name: 'walk', steps: 5, key, start: 10, step: walk, ...quiet });
  assert.is(r.reason, 'completed');
  assert.is(r.steps, 5);
  assert.is(r.step, 15);
  assert.is(r.best, null);
  // by hand: the same keys
  let x = s0.x;
  for (let t = 10; t < 15; t++) x = x.add(bt.random.normal(bt.random.foldIn(key, t), [2]).mul(0.1));
  assert.equal(Array.from(r.state.x.dataSync()), Array.from(x.dataSync()));
  assert.not.ok(s0.x.isDisposed, 'the initial state is the caller\'s');
});

test('aborted (the signal, between steps) vs terminated (onStep) vs earlyStopped (patience) are told apart', async () => {
  const ac = new AbortController();
  const a = await bt.loop.run(x0(), { name: 'walk', steps: 1000, key, step: walk, signal: ac.signal, onStep: (_s, _a, t) => void (t === 7 && ac.abort()), ...quiet });
  assert.is(a.reason, 'aborted');
  assert.is(a.steps, 7);
  const f = await bt.loop.run(x0(), { name: 'walk', steps: 1000, key, step: walk, onStep: (_s, _a, t) => (t === 4 ? false : undefined), ...quiet });
  assert.is(f.reason, 'terminated: onStep returned false');
  assert.is(f.steps, 4);
  const s = await bt.loop.run(x0(), { name: 'walk', steps: 1000, key, step: walk, onStep: (st) => (st.n === 9 ? 'converged' : undefined), ...quiet });
  assert.is(s.reason, 'terminated: converged');
  assert.is(s.steps, 9);
  // a monitor that rises from step 3 on: best at step 2 (t counts from 0), stop after patience 4 more
  const vals = [5, 4, 3, 3.5, 6, 4, 3.2, 1, 0];
  const e = await bt.loop.run(x0(), {
    name: 'walk', steps: 1000, key, step: walk, ...quiet,
    earlyStopping: { monitor: (_aux, st) => vals[st.n - 1]!, patience: 4, minDelta: 0.1 },
  });
  assert.is(e.reason, 'earlyStopped');
  assert.is(e.steps, 7, '3 (step 2) then 3.5, 6, 4, 3.2: none below 3 − 0.1');
  assert.equal(e.best, { value: 3, step: 2 });
});

test('keepBest: the state after the best step is returned alive, the rest freed; mode max', async () => {
  const before = bt.memory().numTensors;
  const s0 = x0();
  const r = await bt.loop.run(s0, {
    name: 'walk', steps: 60, key, step: walk, ...quiet,
    earlyStopping: { monitor: (aux) => aux, patience: Infinity, keepBest: true, mode: 'max' },
  });
  assert.is(r.reason, 'completed');
  const b = r.best!;
  assert.ok(b.state, 'kept');
  // the kept state is the one after step b.step, and its monitor is b.value
  assert.is(b.state!.n, b.step + 1);
  assert.is(bt.tidy(() => b.state!.x.square().sum().item()), b.value);
  // replay: the best by hand
  const best = bt.tidy(() => {
    let x = s0.x;
    let m = -Infinity;
    for (let t = 0; t < 60; t++) {
      x = x.add(bt.random.normal(bt.random.foldIn(key, t), [2]).mul(0.1));
      m = Math.max(m, x.square().sum().item());
    }
    return m;
  });
  assert.is(b.value, best);
  bt.dispose(b.state === r.state ? [r.state, s0] : [r.state, b.state, s0]);
  assert.is(bt.memory().numTensors, before, 'nothing of the run is left');
});

test('memory stays flat over 3000 steps (with early stopping, keepBest and values)', async () => {
  let early = -1;
  let late = -1;
  const r = await bt.loop.run(x0(), {
    name: 'walk', steps: 3000, key, step: walk, ...quiet,
    earlyStopping: { monitor: (aux) => aux, patience: Infinity, keepBest: true },
    values: (st) => ({ x0: st.x.sum() }),
    onProgress: () => undefined,
    progressEvery: 7,
    onStep: (_s, _a, t) => {
      if (t === 100) early = bt.memory().numTensors;
      if (t === 3000) late = bt.memory().numTensors;
    },
  });
  assert.ok(early > 0);
  // the kept best state may have moved to a step after 100 (one state either way)
  assert.ok(Math.abs(late - early) <= 2, `live tensors ${early} at step 100, ${late} at step 3000`);
  bt.dispose([r.state, r.best?.state]);
});

test('non-finite check names the step; the last good state rides on the error', async () => {
  const before = bt.memory().numTensors;
  const bad = (s: S, k: bt.Tensor | undefined): [S, bt.Tensor] => {
    const [n, a] = walk(s, k);
    return [s.n === 12 ? { x: n.x.mul(NaN), n: n.n } : n, a];
  };
  try {
    await bt.loop.run(x0(), { name: 'walk', steps: 50, key, step: bad, check: { value: (st) => st.x, what: 'x' }, ...quiet });
    assert.unreachable('no throw');
  } catch (e) {
    assert.instance(e, bt.NumericalError);
    assert.match((e as Error).message, /walk: x is not finite at step 12/);
    const last = (e as { state: S }).state;
    assert.is(last.n, 12);
    assert.ok(last.x.dataSync().every(Number.isFinite));
    last.x.dispose();
  }
  assert.ok(bt.memory().numTensors - before <= 2, `${bt.memory().numTensors - before} tensors left (the two of x0())`);
});

test('checkpoint + resume through JSON text equals the uninterrupted run bit for bit (with early-stopping counters and best state)', async () => {
  const es = { monitor: (aux: bt.Tensor) => aux, patience: 25, keepBest: true };
  const full = await bt.loop.run(x0(), { name: 'walk', steps: 200, key, step: walk, earlyStopping: es, ...quiet });
  const saved: string[] = [];
  const ac = new AbortController();
  const part = await bt.loop.run(x0(), {
    name: 'walk', steps: 200, key, step: walk, earlyStopping: es, signal: ac.signal, ...quiet,
    checkpoint: { every: 5, save: (c) => void saved.push(JSON.stringify(c)) },
    onStep: (_s, _a, t) => void (t === 12 && ac.abort()),
  });
  assert.is(part.reason, 'aborted');
  const last = JSON.parse(saved.at(-1)!);
  assert.is(last.done, 10);
  assert.ok(full.reason === 'earlyStopped' && full.steps > 25, `the full run stops early after the checkpoint (${full.reason} at ${full.steps})`);
  assert.is(last.format, 'bayestape.loop');
  // resume without the key: the checkpoint's is used
  const rest = await bt.loop.run(null, { name: 'walk', steps: 200, step: walk, earlyStopping: es, resume: saved.at(-1)!, ...quiet });
  assert.is(rest.reason, full.reason);
  assert.is(rest.steps, full.steps);
  assert.equal(rest.best?.step, full.best?.step);
  assert.is(rest.best?.value, full.best?.value);
  assert.equal(Array.from(rest.state.x.dataSync()), Array.from(full.state.x.dataSync()));
  assert.equal(Array.from(rest.best!.state!.x.dataSync()), Array.from(full.best!.state!.x.dataSync()));
  // a wrong key, name or steps is refused
  for (const [opts, re] of [
    [{ key: bt.random.key(4) }, /key differs/],
    [{ name: 'other' }, /checkpoint is of 'walk'/],
    [{ steps: 5 }, /taken 10 steps, more than steps = 5/],
  ] as const) {
    try {
      await bt.loop.run(null, { name: 'walk', steps: 200, step: walk, resume: saved.at(-1)!, ...quiet, ...opts });
      assert.unreachable('no throw');
    } catch (e) {
      assert.instance(e, bt.ConfigError);
      assert.match((e as Error).message, re);
    }
  }
});

test('a checkpoint saved at the early stop resumes as stopped: no step more, same state', async () => {
  const es = { monitor: (aux: bt.Tensor) => aux, patience: 4 };
  const saved: string[] = [];
  const full = await bt.loop.run(x0(), { name: 'walk', steps: 400, key, step: walk, earlyStopping: es, ...quiet, checkpoint: { every: 1, save: (c) => void saved.push(JSON.stringify(c)) } });
  assert.is(full.reason, 'earlyStopped');
  const last = JSON.parse(saved.at(-1)!);
  assert.is(last.done, full.steps, 'the last checkpoint is the stopping step');
  let calls = 0;
  const rest = await bt.loop.run<S, bt.Tensor>(null, { name: 'walk', steps: 400, step: (s, k) => (calls++, walk(s, k)), earlyStopping: es, resume: saved.at(-1)!, ...quiet });
  assert.is(calls, 0, 'patience was spent: the resumed run takes no step');
  assert.is(rest.reason, 'earlyStopped');
  assert.is(rest.steps, full.steps);
  assert.equal(rest.best?.step, full.best?.step);
  assert.equal(Array.from(rest.state.x.dataSync()), Array.from(full.state.x.dataSync()));
  bt.dispose([full.state, rest.state]);
});

test('a checkpoint with a corrupt tree is refused without leaving tensors behind', async () => {
  const saved: string[] = [];
  const r = await bt.loop.run(x0(), { name: 'walk', steps: 3, key, step: walk, ...quiet, checkpoint: { every: 3, save: (c) => void saved.push(JSON.stringify(c)) } });
  bt.dispose(r.state);
  const cp = JSON.parse(saved[0]!);
  const before = bt.memory().numTensors;
  for (const bad of [{ ...cp, key: { broken: true } }, { ...cp, best: 42 }]) {
    const e = await bt.loop.run(null, { name: 'walk', steps: 3, step: walk, resume: bad, ...quiet }).catch((err: Error) => err);
    assert.instance(e, Error, 'refused');
    assert.is(bt.memory().numTensors, before, `no tensor of the state read before the bad ${'broken' in (bad.key ?? {}) ? 'key' : 'best'} is left`);
  }
});

test('progress without a terminal: plain lines (custom writer), the closing line, and silence for progress: false', async () => {
  const lines: string[] = [];
  await bt.loop.run(x0(), {
    name: 'walk', steps: 30, key, step: walk, values: (_s, aux) => ({ r2: aux }),
    progress: { mode: 'lines', intervalMs: 0, delayMs: 0, write: (l) => void lines.push(l) },
  });
  assert.is(lines.length, 30);
  assert.match(lines[0]!, /^walk: step 1\/30 \(3%\) [\d.]+ (steps\/s|s\/step) ETA [\d.hms?]+ r2 [-\d.e]+$/);
  assert.match(lines[29]!, /^walk: step 30\/30 \(100%\)/);
  const spaced: string[] = [];
  await bt.loop.run(x0(), { name: 'walk', steps: 30, key, step: walk, progress: { intervalMs: 60_000, delayMs: 0, write: (l) => void spaced.push(l) } });
  assert.equal(spaced.length, 2, `one line at the start and a closing one: ${JSON.stringify(spaced)}`);
  const none: string[] = [];
  await bt.loop.run(x0(), { name: 'walk', steps: 30, key, step: walk, progress: { delayMs: 60_000, write: (l) => void none.push(l) } });
  assert.is(none.length, 0, 'a run shorter than delayMs prints nothing');
  const progress: number[] = [];
  await bt.loop.run(x0(), { name: 'walk', steps: 10, key, step: walk, onProgress: (p) => void progress.push(p.done), progressEvery: 4, ...quiet });
  assert.equal(progress, [4, 8, 10]);
});

test('the loop yields to the event loop (a timer runs during a long synchronous run)', async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const t0 = performance.now();
  const slow = (s: S, k: bt.Tensor | undefined): [S, bt.Tensor] => {
    const end = performance.now() + 2;
    while (performance.now() < end);
    return walk(s, k);
  };
  await bt.loop.run(x0(), { name: 'walk', steps: 100, key, step: slow, ...quiet });
  clearInterval(timer);
  assert.ok(ticks >= 3, `${ticks} timer ticks in ${(performance.now() - t0).toFixed(0)} ms`);
});

test('bad options → ConfigError', async () => {
  for (const [opts, re] of [
    [{ steps: -1 }, /steps must be a non-negative integer/],
    [{ stepz: 1 }, /unknown loop option 'stepz'/],
    [{ earlyStopping: { monitor: () => 1, patience: 0 } }, /patience must be an integer ≥ 1/],
    [{ earlyStopping: { monitor: () => 1, patience: 2, mode: 'up' } }, /mode must be 'min' or 'max'/],
    [{ checkpoint: { every: 0, save: () => undefined } }, /checkpoint.every must be a positive integer/],
    [{ progress: { colour: 1 } }, /unknown progress option 'colour'/],
    [{ resume: { format: 'x' } }, /resume has format "x"/],
    [{ resume: { format: 'bayestape.loop', version: 9 } }, /checkpoint version 9/],
  ] as const) {
    try {
      await bt.loop.run(x0(), { name: 'walk', steps: 3, key, step: walk, ...quiet, ...(opts as object) } as never);
      assert.unreachable(`no throw for ${JSON.stringify(opts)}`);
    } catch (e) {
      assert.instance(e, bt.ConfigError, String(e));
      assert.match((e as Error).message, re);
    }
  }
});

// Regressions found by a second reader: values the probe and the monitor make are freed; a NaN
// between sparse checks is still caught on the last step and before an early stop.
const noisyWalk = (s: { x: bt.Tensor }, k: bt.Tensor | undefined): [{ x: bt.Tensor }, { loss: bt.Tensor }] => {
  const x = bt.add(s.x, bt.random.normal(k!, [3]));
  return [{ x }, { loss: bt.sum(bt.mul(x, x)) }];
};

test('check.value and earlyStopping.monitor results are freed every step', async () => {
  const init = { x: bt.zeros([3]) };
  const key = bt.random.key(0);
  for (const extra of [
    { check: { value: (_s: unknown, a: { loss: bt.Tensor }) => bt.add(a.loss, 0) } },
    { earlyStopping: { monitor: (a: { loss: bt.Tensor }) => bt.neg(a.loss), patience: 1000, mode: 'max' as const } },
  ]) {
    const m0 = bt.memory().numTensors;
    const r = await bt.loop.run(init, { name: 'leak', steps: 100, key, step: noisyWalk, progress: false, ...extra } as never);
    bt.dispose((r as { state: unknown }).state as never);
    assert.is(bt.memory().numTensors - m0, 0, `tensors left after 100 steps with ${Object.keys(extra)[0]}`);
  }
  bt.dispose([init.x, key]);
});

/** Resolves with the error a promise rejects with (fails the test if it resolves). */
async function rejection(p: Promise<unknown>, what: string): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  assert.unreachable(`${what}: expected a rejection`);
}

test('a NaN between sparse checks ends in a NumericalError, not completed or earlyStopped', async () => {
  const init = { x: bt.zeros([3]) };
  const nanFrom = (t0: number) => (s: { x: bt.Tensor }, _k: unknown, t: number): [{ x: bt.Tensor }, { l: bt.Tensor }] => {
    const x = t >= t0 ? bt.mul(s.x, NaN) : bt.add(s.x, 1);
    return [{ x }, { l: bt.sum(x) }];
  };
  const e1 = await rejection(
    bt.loop.run(init, { name: 'last', steps: 15, step: nanFrom(12), progress: false, check: { value: (s: { x: bt.Tensor }) => s.x, every: 10 } } as never),
    'NaN from step 12, checks every 10, 15 steps',
  );
  assert.ok(e1 instanceof bt.NumericalError, `NaN from step 12: ${String(e1)}`);
  const e2 = await rejection(
    bt.loop.run(init, {
      name: 'early', steps: 40, step: nanFrom(3), progress: false,
      check: { value: (s: { x: bt.Tensor }) => s.x, every: 10 },
      earlyStopping: { monitor: (a: { l: bt.Tensor }) => a.l, patience: 2, mode: 'max' }, // improving until the NaN
    } as never),
    'NaN from step 3 with patience 2 and checks every 10',
  );
  assert.ok(e2 instanceof bt.NumericalError, `NaN from step 3 before an early stop: ${String(e2)}`);
  init.x.dispose();
});

test.run();
