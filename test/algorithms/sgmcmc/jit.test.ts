/**
 * The samplers' `jit` option: the jitted update gives the eager numbers bit for bit on CPU (every
 * sampler, one chain and parallel chains, float64 and float32, with a schedule), traces once for a
 * fixed shape, falls back to eager with one warning when the log posterior reads the host (or
 * throws with jit: true), keeps memory flat, and frees its programs on dispose().
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { assertSameTree } from '../../helpers.js';


// A small logistic regression: params { w: [3], b: [] }, batch { x: [8, 3], y: [8] }.
function problem(dtype: 'float64' | 'float32') {
  const k = bt.random.key(5);
  const x = bt.keep(bt.random.normal(bt.random.foldIn(k, 1), [8, 3], { dtype }));
  const y = bt.keep(bt.cast(bt.random.bernoulli(bt.random.foldIn(k, 2), 0.4, [8]), dtype));
  const logPosterior = (p: { w: bt.Tensor; b: bt.Tensor }, batch: { x: bt.Tensor; y: bt.Tensor }): [bt.Tensor, { logits: bt.Tensor }] => {
    const logits = bt.matmul(batch.x, p.w).add(p.b);
    const ll = batch.y.mul(logits).sub(bt.softplus(logits)).sum();
    const prior = p.w.square().sum().add(p.b.square()).mul(-0.5);
    return [ll.add(prior), { logits }];
  };
  const params = { w: bt.keep(bt.tensor([0.1, -0.2, 0.3], { dtype })), b: bt.keep(bt.tensor(0.05, { dtype })) };
  return { batch: { x, y }, logPosterior, params };
}

type Build = (lp: any, o: any) => bt.sgmcmc.Sampler<any>;
const samplers: [string, Build, Record<string, unknown>][] = [
  ['sgld', bt.sgmcmc.sgld.build as Build, { lr: (t: number) => 1e-2 / (1 + t) }],
  ['sghmc', bt.sgmcmc.sghmc.build as Build, { lr: 1e-2, alpha: 0.1, beta: 0.01 }],
  ['sgnht', bt.sgmcmc.sgnht.build as Build, { lr: 1e-2, temperature: (t: number) => 1 / (1 + t) }],
  ['baoa', bt.sgmcmc.baoa.build as Build, { lr: 1e-2, alpha: 0.5 }],
];

/** `steps` updates from init; returns every state's tensors as host arrays (the caller compares). */
function chain(s: { init(p: unknown, k?: bt.Tensor): any; update(st: any, b: unknown, k?: bt.Tensor): [any, any] }, params: unknown, batch: unknown, steps: number) {
  const key = bt.random.key(11);
  let state = s.init(params, bt.random.foldIn(key, 999));
  const out: unknown[] = [];
  for (let t = 0; t < steps; t++) {
    const k = bt.random.foldIn(key, t);
    const [next, aux] = s.update(state, batch, k);
    out.push([next, aux]);
    state = next;
  }
  return out;
}

for (const dtype of ['float64', 'float32'] as const) {
  for (const [name, build, opts] of samplers) {
    test(`${name} (${dtype}): jitted update = eager update bit for bit over 6 steps; one trace`, () => {
      const { batch, logPosterior, params } = problem(dtype);
      const on = build(logPosterior, opts);
      const off = build(logPosterior, { ...opts, jit: false });
      const a = chain(on, params, batch, 6);
      const b = chain(off, params, batch, 6);
      a.forEach((s, t) => assertSameTree(s, b[t], `${name} step ${t}`));
      assert.is(on.jitInfo().jitted, true);
      assert.is(on.jitInfo().retraces, 1, 'one trace for a fixed shape, whatever the schedule');
      assert.is(off.jitInfo().jitted, false);
      assert.is(off.jitInfo().retraces, 0);
      on.dispose();
    });
  }
}

test('parallel chains (vmapped and batched log posterior, batch per chain): jitted = eager bit for bit', () => {
  const { batch, logPosterior, params } = problem('float64');
  for (const [name, build, opts] of samplers) {
    const on = bt.sgmcmc.parallel(build(logPosterior, opts), { chains: 3 });
    const off = bt.sgmcmc.parallel(build(logPosterior, { ...opts, jit: false }), { chains: 3 });
    const p3 = bt.sgmcmc.replicate(params, 3);
    const a = chain(on, p3, batch, 4);
    const b = chain(off, p3, batch, 4);
    a.forEach((s, t) => assertSameTree(s, b[t], `parallel ${name} step ${t}`));
    assert.is(on.jitInfo().retraces, 1);
    on.dispose();
  }
  const batched = (p: { w: bt.Tensor; b: bt.Tensor }, bb: { x: bt.Tensor; y: bt.Tensor }): [bt.Tensor, never[]] => {
    const logits = bt.matmul(bb.x, p.w.expandDims(-1)).squeeze(-1).add(p.b.expandDims(-1)); // [C, 8]
    return [bb.y.mul(logits).sub(bt.softplus(logits)).sum({ axis: -1 }), []];
  };
  const perChain = { x: bt.stack([batch.x, batch.x.mul(0.5), batch.x.neg()], 0), y: bt.stack([batch.y, batch.y, batch.y], 0) };
  const on = bt.sgmcmc.parallel(bt.sgmcmc.sghmc.build(batched, { lr: 1e-2 }), { chains: 3, batchedLogPosterior: true, batchPerChain: true });
  const off = bt.sgmcmc.parallel(bt.sgmcmc.sghmc.build(batched, { lr: 1e-2, jit: false }), { chains: 3, batchedLogPosterior: true, batchPerChain: true });
  const p3 = bt.sgmcmc.replicate(params, 3);
  const a = chain(on, p3, perChain, 4);
  const b = chain(off, p3, perChain, 4);
  a.forEach((s, t) => assertSameTree(s, b[t], `batched parallel step ${t}`));
});

test('a batch with non-tensor leaves (null, numbers) and temperature 0 (no key): jitted = eager; a new number retraces', () => {
  const target = bt.keep(bt.tensor([1, -2]));
  const lp = (p: bt.Tensor, batch: { scale: number; tag: null }): [bt.Tensor, never[]] => [p.sub(target).square().sum().mul(-batch.scale), []];
  const on = bt.sgmcmc.sghmc.build(lp, { lr: 0.05, temperature: 0, momenta: 0 });
  const off = bt.sgmcmc.sghmc.build(lp, { lr: 0.05, temperature: 0, momenta: 0, jit: false });
  const p0 = bt.tensor([0, 0]);
  let s1 = on.init(p0);
  let s2 = off.init(p0);
  for (let t = 0; t < 5; t++) {
    const batch = { scale: t < 3 ? 0.5 : 2, tag: null };
    [s1] = on.update(s1, batch);
    [s2] = off.update(s2, batch);
    assertSameTree(s1, s2, `step ${t}`);
  }
  assert.is(on.jitInfo().retraces, 2, 'two batch.scale values: two traces');
});

test('a log posterior that reads the host: one warning, then eager (same numbers); jit: true throws the TracerError', () => {
  const lp = (p: bt.Tensor): [bt.Tensor, never[]] => {
    const v = p.sum().item(); // a host read: cannot be traced
    return [p.square().sum().mul(v > 0 ? -1 : -0.5), []];
  };
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...a: unknown[]) => void warnings.push(a.join(' '));
  try {
    const on = bt.sgmcmc.sgld.build(lp, { lr: 0.01 });
    const off = bt.sgmcmc.sgld.build(lp, { lr: 0.01, jit: false });
    const a = chain(on, bt.tensor([0.3, -0.1]), null, 4);
    const b = chain(off, bt.tensor([0.3, -0.1]), null, 4);
    a.forEach((s, t) => assertSameTree(s, b[t], `fallback step ${t}`));
    assert.is(warnings.length, 1, `one warning, got ${warnings.length}`);
    assert.match(warnings[0]!, /sgld\.update/);
    assert.match(warnings[0]!, /read on the host/);
    assert.match(warnings[0]!, /jit: false/);
    assert.is(on.jitInfo().jitted, false);
    const strict = bt.sgmcmc.sgld.build(lp, { lr: 0.01, jit: true });
    const s0 = strict.init(bt.tensor([0.3, -0.1]));
    assert.throws(() => strict.update(s0, null, bt.random.key(1)), (e: unknown) => e instanceof bt.TracerError);
    assert.is(warnings.length, 1, 'jit: true does not warn');
    assert.is(off.jitInfo().jitted, false);
  } finally {
    console.warn = warn;
  }
});

test('minibatches: dispose() frees the epoch permutation it holds; the batches after it are unchanged', () => {
  const data = { x: bt.keep(bt.arange(20).reshape([10, 2])) };
  const key = bt.random.key(4);
  const a = bt.sgmcmc.minibatches(data, { batchSize: 3, key });
  const b = bt.sgmcmc.minibatches(data, { batchSize: 3, key });
  const m0 = bt.memory().numTensors;
  for (let i = 0; i < 5; i++) {
    const [x, y] = bt.tidy(() => [Array.from((a.next().value as { x: bt.Tensor }).x.dataSync()), Array.from((b.next().value as { x: bt.Tensor }).x.dataSync())]);
    assert.equal(x, y, `batch ${i}`);
    if (i === 1) a.dispose(); // mid-epoch
  }
  a.dispose();
  b.dispose();
  assert.is(bt.memory().numTensors, m0, 'both permutations freed (none held before the first batch)');
});

test('jit option checked: a non-boolean is a ConfigError naming jit', () => {
  assert.throws(() => bt.sgmcmc.sgld.build((p: bt.Tensor) => [p.sum(), []], { lr: 0.1, jit: 'yes' as unknown as boolean }), (e: unknown) => e instanceof bt.ConfigError && /jit/.test((e as Error).message));
});

test('memory: bt.memory() flat over 300 jitted steps (update and sgmcmc.run); dispose() frees the programs', async () => {
  const { batch, logPosterior, params } = problem('float64');
  const s = bt.sgmcmc.sghmc.build(logPosterior, { lr: 1e-3 });
  const key = bt.random.key(3);
  let state = s.init(params, key);
  const step = (t: number) => {
    const k = bt.random.foldIn(key, t);
    const [next, aux] = s.update(state, batch, k);
    bt.dispose([aux, k]);
    if (t > 0) bt.dispose([state.momenta, state.logPosterior, state.params]);
    state = next;
  };
  for (let t = 0; t < 3; t++) step(t);
  const before = bt.memory().numTensors;
  for (let t = 3; t < 300; t++) step(t);
  assert.is(bt.memory().numTensors, before, 'update: flat');
  const r0 = await bt.sgmcmc.run(s, state, { steps: 5, key, batch, progress: false });
  bt.dispose(r0.state);
  const mid = bt.memory().numTensors;
  const r = await bt.sgmcmc.run(s, state, { steps: 300, key, batch, progress: false });
  bt.dispose(r.state);
  assert.is(bt.memory().numTensors, mid, 'run: flat');
  assert.is(s.jitInfo().retraces, 1);
  s.dispose();
  assert.ok(bt.memory().numTensors < mid, 'dispose() frees the programs and scalars');
});

test.run();
