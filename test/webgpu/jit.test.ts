/**
 * The WebGPU jit compiler (src/jit/webgpu): a traced program replayed as one command buffer per
 * call equals eager WebGPU within float32 rounding (a fused kernel may group ops differently from
 * eager lazy fusion, and the shader compiler may contract a·b + c into an fma), on an op sweep and
 * an MLP's value and gradient; repeated calls reuse the program's buffers and submit once each;
 * programs it cannot take are interpreted and say why. Small shapes: lavapipe is slow.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { UNARY_OPS, BINARY_OPS } from '../../src/autodiff/builtins.js';
import { webgpuJitStats } from '../../src/jit/webgpu/compile.js';
import { jitCompilers } from '../../src/jit/run.js';
import { webgpuOrSkip } from './setup.js';
import { rng } from '../helpers.js';

const gpu = await webgpuOrSkip('jit');
const EPS32 = 2 ** -23;

if (gpu) {
  bt.setBackend('webgpu');
  const values = (n: number, seed: number, lo = -2, hi = 2) => {
    const r = rng(seed);
    return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
  };
  const X = bt.keep(bt.tensor(values(6, 1), { shape: [2, 3] }));
  const Y = bt.keep(bt.tensor(values(3, 2), { shape: [3] }));
  const P = bt.keep(bt.tensor(values(6, 3, 0.05, 0.95), { shape: [2, 3] }));

  /**
   * Equal within float32 rounding: `ulps` ulps of each element, or of the largest element of the
   * output (an element that is the difference of rounded terms carries their rounding).
   */
  async function near(got: bt.Tensor, want: bt.Tensor, what: string, ulps = 8): Promise<void> {
    assert.equal(got.shape, want.shape, `${what}: shape`);
    assert.is(got.dtype, want.dtype, `${what}: dtype`);
    const a = Array.from(await got.data(), Number);
    const b = Array.from(await want.data(), Number);
    const scale = Math.max(...b.filter(Number.isFinite).map(Math.abs), 0);
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!;
      const y = b[i]!;
      if (Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y))) continue;
      const tol = ulps * EPS32 * Math.max(Math.abs(y), scale);
      if (!(Math.abs(x - y) <= tol)) assert.unreachable(`${what}: element ${i}: jit ${x} vs eager ${y} (tolerance ${tol})`);
    }
  }
  async function assertRejects(fn: () => Promise<unknown>, type: new (...a: any[]) => Error, pattern: RegExp): Promise<void> {
    try {
      await fn();
    } catch (e) {
      assert.instance(e, type);
      assert.match((e as Error).message, pattern);
      return;
    }
    assert.unreachable(`expected a ${type.name}`);
  }
  const compiledSteps = (j: { compiled(): { steps: readonly string[] } | null }) => j.compiled()!.steps;
  const assertCompiled = (j: { compiled(): { steps: readonly string[] } | null }, what: string) => {
    const s = compiledSteps(j);
    assert.ok(!s.some((l) => l.startsWith('interpreted')), `${what}: compiled, got ${s.join(' | ')}`);
  };

  test('every unary and binary elementwise op (broadcasting): jit equals eager within float32 rounding, compiled', async () => {
    for (const name of UNARY_OPS) {
      const op = (bt as any)[name] as (x: bt.Tensor) => bt.Tensor;
      const input = name === 'erfinv' ? P.mul(1.8).sub(0.9) : name === 'log' || name === 'sqrt' || name === 'rsqrt' ? P : X;
      const f = (x: bt.Tensor) => op(op === bt.isFinite || op === bt.isNan ? x : x.mul(1.5));
      const jf = bt.jit(f);
      await near(jf(input), f(input), name);
      assertCompiled(jf, name);
    }
    for (const name of BINARY_OPS) {
      const op = (bt as any)[name] as (x: bt.Tensor, y: bt.Tensor) => bt.Tensor;
      const f = (x: bt.Tensor, y: bt.Tensor) => op(name === 'pow' ? x.abs() : x, y.add(0.25));
      const jf = bt.jit(f);
      await near(jf(X, Y), f(X, Y), name);
      assertCompiled(jf, name);
    }
  });

  test('reduce, shape, matmul, where, cast chains: jit equals eager within float32 rounding, compiled', async () => {
    const fs: [string, (x: bt.Tensor) => bt.Tensor][] = [
      ['sum', (x) => bt.sum(x.exp(), { axis: 1 })],
      ['max/min', (x) => bt.max(x, { axis: 0 }).add(bt.min(x))],
      ['logsumexp', (x) => bt.logsumexp(x, { axis: -1 })],
      ['cumsum', (x) => bt.cumsum(x, { axis: 1 })],
      ['transpose+matmul', (x) => bt.matmul(x, bt.transpose(x)).tanh()],
      ['reshape+slice+concat', (x) => bt.concat([bt.slice(bt.reshape(x, [3, 2]), [1, 0], [2, 2]), x.reshape([3, 2]).sin()], 0)],
      ['pad+broadcastTo', (x) => bt.broadcastTo(bt.pad(x.square(), [0, 1], [1, 0]), [2, 3, 4]).add(1)],
      ['where+cast', (x) => bt.where(bt.greater(x, 0), x, bt.cast(bt.less(x, -1), 'float32'))],
      ['reshape of a fused value read by a fused consumer', (x) => x.exp().reshape([3, 2]).mul(bt.tensor([1, 2], { dtype: 'float32' }))],
    ];
    for (const [name, f] of fs) {
      const jf = bt.jit(f);
      await near(jf(X), f(X), name);
      assertCompiled(jf, name);
    }
  });

  test('value and gradient of a small MLP: jit equals eager within float32 rounding, compiled, one submit per call', async () => {
    const r = rng(7);
    const init = (shape: number[]) => bt.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (r() - 0.5) * 0.8), { shape });
    const params = bt.keep({ w1: init([4, 16]), b1: init([16]), w2: init([16, 16]), b2: init([16]), w3: init([16, 2]), b3: init([2]) });
    const xb = bt.keep(init([8, 4]));
    const yb = bt.keep(init([8, 2]));
    const loss = (p: typeof params, x: bt.Tensor, y: bt.Tensor) => {
      const h1 = bt.tanh(bt.matmul(x, p.w1).add(p.b1));
      const h2 = bt.tanh(bt.matmul(h1, p.w2).add(p.b2));
      return bt.mean(bt.square(bt.matmul(h2, p.w3).add(p.b3).sub(y)));
    };
    const vg = bt.valueAndGrad(loss);
    const jvg = bt.jit(vg);
    const [v1, g1] = jvg(params, xb, yb);
    const [v2, g2] = vg(params, xb, yb);
    assertCompiled(jvg, 'mlp');
    await near(v1, v2, 'loss');
    for (const k of Object.keys(params) as (keyof typeof params)[]) await near(g1[k], g2[k], `grad ${k}`);
    bt.dispose([v1, g1, v2, g2]);
    await gpu.sync();
    const s0 = gpu.stats.submits;
    const c0 = webgpuJitStats.calls;
    for (let i = 0; i < 5; i++) bt.dispose(jvg(params, xb, yb));
    assert.is(webgpuJitStats.calls - c0, 5, 'the compiled program ran');
    assert.is(gpu.stats.submits - s0, 5, 'one command buffer per call');
    assert.is(jvg.retraces, 1);
  });

  test('jit of vmap, jacfwd and hvp-style nesting: compiled, equal to the un-jitted transforms within float32 rounding', async () => {
    const g = (v: bt.Tensor) => bt.sum(bt.tanh(v.mul(Y)).square());
    const cases: [string, (x: bt.Tensor) => bt.Tensor][] = [
      ['vmap(grad)', (x) => bt.vmap(bt.grad(g))(x)],
      ['jacfwd', (x) => bt.jacfwd((v: bt.Tensor) => bt.tanh(v.mul(Y)).mul(v))(x.slice([0, 0], [1, 3]).reshape([3]))],
      ['grad of grad·v', (x) => bt.grad((v: bt.Tensor) => bt.sum(bt.grad(g)(v).mul(Y)))(x.slice([1, 0], [1, 3]).reshape([3]))],
    ];
    for (const [name, f] of cases) {
      const jf = bt.jit(f);
      await near(jf(X), f(X), name);
      assertCompiled(jf, name);
    }
  });

  test('1000 calls reuse the program buffers: bt.memory(), pool buffers, bind groups and pipelines stay flat', async () => {
    const w = bt.keep(bt.tensor(values(8, 11), { shape: [8] }));
    // an 8-D diagonal Gaussian log-density of a batch of points, a typical small jitted likelihood
    const f = bt.jit((x: bt.Tensor) => bt.sum(bt.square(x.sub(w)).mul(-0.5), { axis: -1 }).sub(8 * 0.9189385332046727));
    const x = bt.keep(bt.tensor(values(80, 12), { shape: [10, 8] }));
    bt.dispose(f(x));
    await gpu.sync();
    const m0 = bt.memory();
    const g0 = gpu.memory();
    const arena = f.compiled()!.arenaBytes;
    assert.ok(arena > 0, 'the program owns its buffers');
    for (let i = 0; i < 1000; i++) {
      bt.dispose(f(x));
      if (i % 100 === 99) await gpu.sync();
    }
    await gpu.sync();
    const m1 = bt.memory();
    const g1 = gpu.memory();
    // tensors: exactly as many; bytes and buffers: no more (the finalizer may reclaim garbage
    // from the earlier tests meanwhile, so fewer is possible)
    assert.is(m1.numTensors, m0.numTensors, 'bt.memory().numTensors after 1000 calls');
    assert.ok(m1.numBytes <= m0.numBytes && m1.numBuffers <= m0.numBuffers, `bt.memory() grew: ${JSON.stringify(m0)} → ${JSON.stringify(m1)}`);
    assert.is(g1.buffersCreated, g0.buffersCreated, 'no new pool buffers');
    assert.is(g1.bindGroups, g0.bindGroups, 'no new cached bind groups');
    assert.is(g1.pipelines, g0.pipelines, 'no new pipelines');
    assert.is(f.compiled()!.arenaBytes, arena, 'the arena did not grow');
    assert.is(f.retraces, 1);
    const y = f(x);
    await near(y, bt.sum(bt.square(x.sub(w)).mul(-0.5), { axis: -1 }).sub(8 * 0.9189385332046727), 'value after 1000 calls');
  });

  test('inputs still being computed, outputs that are inputs, constants or repeated', async () => {
    const c = bt.keep(bt.tensor([1, 2, 3], { dtype: 'float32' }));
    const f = bt.jit((x: bt.Tensor, y: bt.Tensor) => {
      const s = x.mul(y).add(c);
      return [s, x, c, s, s.sum()];
    });
    const pending = Y.mul(3).exp(); // a lazy fused result, not computed when jit reads it
    const got = f(pending, Y);
    const want = [pending.mul(Y).add(c), pending, c, pending.mul(Y).add(c), pending.mul(Y).add(c).sum()];
    for (let i = 0; i < want.length; i++) await near(got[i]!, want[i]!, `output ${i}`);
    assertCompiled(f, 'outputs');
    bt.dispose(got);
    // the outputs own their storage: disposing one leaves its duplicate and the input alive
    await near(f(pending, Y)[3]!, want[3]!, 'after dispose of the first call');
    await near(pending, want[1]!, 'input alive');
  });

  test('deferred checks replay: take out of range and cholesky of a non-positive-definite matrix throw at the next read, as eager does', async () => {
    const idx = bt.keep(bt.tensor([1, 0, 1], { dtype: 'int32' }));
    const bad = bt.keep(bt.tensor([1, 0, 5], { dtype: 'int32' }));
    const tk = bt.jit((x: bt.Tensor, i: bt.Tensor) => bt.take(x.exp(), i, 0));
    await near(tk(X, idx), bt.take(X.exp(), idx, 0), 'take in range');
    assertCompiled(tk, 'take');
    const r = tk(X, bad);
    await assertRejects(() => r.data(), bt.ShapeError, /take/);
    await near(tk(X, idx), bt.take(X.exp(), idx, 0), 'take in range again: the status word was cleared');
    const ch = bt.jit((a: bt.Tensor) => bt.linalg.cholesky(bt.matmul(a, a.transpose()).add(bt.eye(2))));
    await near(ch(X), bt.linalg.cholesky(bt.matmul(X, X.transpose()).add(bt.eye(2))), 'cholesky');
    assertCompiled(ch, 'cholesky');
    const nd = bt.jit((a: bt.Tensor) => bt.linalg.cholesky(bt.matmul(a, a.transpose()).neg()));
    const c = nd(X);
    await assertRejects(() => c.data(), bt.NumericalError, /not positive definite/);
    // the program evicted (its status words destroyed) before its failed call's read-back maps
    const once = bt.jit((x: bt.Tensor, i: bt.Tensor) => bt.take(x.exp(), i, 0), { cacheSize: 1 });
    const failed = once(X, bad);
    bt.dispose(once(Y, idx)); // a new shape: traced, and the X program evicted
    await assertRejects(() => failed.data(), bt.ShapeError, /take/);
  });

  test('a closed-over value still being computed is a constant of the program', async () => {
    const pend = Y.mul(2).exp(); // lazy when traced
    const f = bt.jit((x: bt.Tensor) => x.mul(pend).sum());
    await near(f(X), X.mul(Y.mul(2).exp()).sum(), 'lazy const');
    assertCompiled(f, 'lazy const');
  });

  test("submit: 'shared': the program's commands join the backend's command stream (no submit per call), same values, checks still thrown", async () => {
    const w = bt.keep(bt.tensor(values(8, 21), { shape: [8] }));
    const x = bt.keep(bt.tensor(values(16, 22), { shape: [2, 8] }));
    const idx = bt.keep(bt.tensor([1, 0, 1], { dtype: 'int32' }));
    const f = bt.jit((x: bt.Tensor) => bt.sum(bt.square(x.sub(w)).mul(-0.5), { axis: -1 }));
    const tk = bt.jit((x: bt.Tensor, i: bt.Tensor) => bt.take(x.exp(), i, 0));
    // the option is read when a program is traced: at the first call
    jitCompilers.webgpuSubmit = 'shared';
    try {
      bt.dispose([f(x), tk(X, idx)]);
    } finally {
      jitCompilers.webgpuSubmit = 'own';
    }
    const want = bt.keep(bt.sum(bt.square(x.sub(w)).mul(-0.5), { axis: -1 }));
    await gpu.sync();
    const s0 = gpu.stats.submits;
    // eager ops before and after, in the same turn: a lazy input, an eager consumer of the output
    let y = x.mul(1);
    const outs: bt.Tensor[] = [];
    for (let i = 0; i < 4; i++) {
      const r = f(y);
      outs.push(r.add(0));
      r.dispose();
      y = y.mul(1);
    }
    assert.is(gpu.stats.submits - s0, 0, 'nothing submitted within the turn');
    for (const o of outs) await near(o, want, 'shared, interleaved with eager ops');
    assertCompiled(f, 'shared');
    const bad = tk(X, bt.tensor([0, 7, 1], { dtype: 'int32' }));
    await assertRejects(() => bad.data(), bt.ShapeError, /take/);
    await near(tk(X, idx), bt.take(X.exp(), idx, 0), 'take after the failed check');
    assertCompiled(tk, 'shared take');
    // a program evicted from the cache while its last call's commands are still unsubmitted
    const small = bt.jit((x: bt.Tensor) => x.exp().sum(), { cacheSize: 1 });
    jitCompilers.webgpuSubmit = 'shared';
    let first: bt.Tensor;
    try {
      first = small(X);
      bt.dispose(small(Y)); // a new shape: traced, and the X program evicted (its buffers destroyed)
    } finally {
      jitCompilers.webgpuSubmit = 'own';
    }
    await near(first, X.exp().sum(), 'output of an evicted program');
    await gpu.sync(); // no device error reported
  });

  test('a program the compiler cannot take (a zero-size value) is interpreted and says why', async () => {
    const f = bt.jit((x: bt.Tensor) => bt.concat([bt.slice(x, [0, 0], [0, 3]), x.exp()], 0));
    await near(f(X), X.exp(), 'zero-size slice');
    const s = compiledSteps(f);
    assert.is(s.length, 1);
    assert.match(s[0]!, /^interpreted op by op .*zero-size/);
  });

  test.run();
}
