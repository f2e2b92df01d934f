/**
 * The CPU compiler's fused loops and buffer plan against eager dispatch, bitwise: float32 and
 * int32 chains (rounding per op), broadcasting, reductions over every axis set (the kernel's
 * accumulation order), values that leave the loop, outputs that must not alias the arena, the
 * call's fast path, and memory over 100,000 calls and under a changing-shape cache.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { UNARY_OPS, BINARY_OPS } from '../../src/autodiff/builtins.js';

const same = (a: bt.Tensor, b: bt.Tensor, what: string) => {
  assert.equal(a.shape, b.shape, `${what}: shape`);
  assert.is(a.dtype, b.dtype, `${what}: dtype`);
  const x = a.dataSync();
  const y = b.dataSync();
  for (let i = 0; i < x.length; i++) {
    if (!Object.is(x[i], y[i])) assert.unreachable(`${what}: element ${i} differs: ${x[i]} vs ${y[i]}`);
  }
};
const vals = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(1.7 * i + seed) * 2.3);

test('float32 chains of every unary and binary op round per op as eager does', () => {
  const X = bt.tensor(vals(6, 1), { dtype: 'float32' }).reshape([2, 3]);
  const Y = bt.tensor(vals(3, 2), { dtype: 'float32' });
  const P = bt.tensor(vals(6, 3).map((v) => Math.abs(v) / 2.4 + 0.01), { dtype: 'float32' }).reshape([2, 3]);
  for (const name of UNARY_OPS) {
    const op = (bt as any)[name] as (x: bt.Tensor) => bt.Tensor;
    const input = name === 'erfinv' ? P.mul(1.8).sub(0.9) : name === 'log' || name === 'sqrt' || name === 'rsqrt' ? P : X;
    // three ops in one loop: the two around op check it is rounded to float32 in between
    const f = (x: bt.Tensor) => {
      const y = op(x.mul(1.37));
      return y.dtype === 'int32' ? y.add(1) : y.add(0.1).mul(x);
    };
    same(bt.jit(f)(input), f(input), `float32 ${name}`);
  }
  for (const name of BINARY_OPS) {
    const op = (bt as any)[name] as (x: bt.Tensor, y: bt.Tensor) => bt.Tensor;
    const f = (x: bt.Tensor, y: bt.Tensor) => op(name === 'pow' ? x.abs() : x.mul(0.3), y.add(0.25));
    same(bt.jit(f)(X, Y), f(X, Y), `float32 ${name}`);
  }
});

test('int32 chains: wrapping multiply, truncating divide, comparisons, casts', () => {
  const A = bt.tensor([7, -9, 2147483647, -2147483648, 5, 0], { dtype: 'int32' }).reshape([2, 3]);
  const B = bt.tensor([3, -2, 65536], { dtype: 'int32' });
  const fs: [string, (a: bt.Tensor, b: bt.Tensor) => bt.Tensor][] = [
    ['mul add', (a, b) => a.mul(b).add(a)],
    ['div sub', (a, b) => bt.div(a, b).sub(b)],
    ['neg abs max', (a, b) => bt.maximum(bt.abs(a.neg()), b)],
    ['compare where', (a, b) => bt.where(bt.greater(a, b), a, b.mul(2))],
    ['cast round trip', (a, b) => bt.cast(bt.cast(a, 'float64').mul(1.5).add(bt.cast(b, 'float64')), 'int32')],
    ['cast to float32', (a, b) => bt.cast(a.add(b), 'float32').mul(0.1)],
  ];
  for (const [name, f] of fs) same(bt.jit(f)(A, B), f(A, B), name);
});

test('broadcasting across ranks, scalars and size-1 axes inside one loop', () => {
  const a = bt.tensor(vals(24, 4)).reshape([2, 1, 3, 4]);
  const b = bt.tensor(vals(20, 5)).reshape([5, 1, 4]);
  const c = bt.tensor(vals(3, 6)).reshape([3, 1]);
  // (sin, not tanh: tanh runs as a step of its own where its Wasm routine does, see the tanh test)
  const f = (x: bt.Tensor, y: bt.Tensor, z: bt.Tensor) => x.mul(y).add(z).sin().sub(x).mul(2.5).add(bt.tensor(0.5));
  const jf = bt.jit(f);
  same(jf(a, b, c), f(a, b, c), 'rank-4 broadcast');
  assert.equal(jf.compiled()!.steps, ['loop[2,5,3,4]: mul add sin sub mul add'], 'one loop');
  const g = (x: bt.Tensor) => bt.broadcastTo(x, [3, 2, 4]).mul(x.exp());
  const v = bt.tensor(vals(4, 7)).reshape([1, 4]);
  same(bt.jit(g)(v), g(v), 'broadcastTo inside a loop');
});

test('tanh over 256+ elements runs as its own step (the Wasm routines) between loops, equal to eager, float32 and float64', () => {
  // MLP-like: bias add, tanh, then a use of the activation and a reduction; odd sizes (pairs, chunks)
  for (const [m, n] of [[7, 5], [33, 129], [3, 4097]] as const) {
    const x = bt.tensor(vals(m * n, 11).map((v) => v * 2.1), { dtype: 'float32' }).reshape([m, n]);
    const b = bt.tensor(vals(n, 12), { dtype: 'float32' });
    const f = (x: bt.Tensor, b: bt.Tensor) => {
      const t = x.add(b).tanh();
      return [t, bt.sum(t.mul(t).neg().add(1).mul(x), { axis: 0 })];
    };
    const jf = bt.jit(f);
    const [t1, s1] = jf(x, b) as bt.Tensor[];
    const [t0, s0] = f(x, b) as bt.Tensor[];
    same(t1!, t0!, `tanh [${m},${n}]`);
    same(s1!, s0!, `sum [${m},${n}]`);
    // small arrays keep tanh inlined (exprs.ts TANH_STEP_MIN)
    const split = [`loop[${m},${n}]: add`, 'tanh', `loop[${m},${n}]: mul neg add mul → reduceSum`];
    const fused = [`loop[${m},${n}]: add tanh mul neg add mul → reduceSum`];
    assert.equal(jf.compiled()!.steps, m * n >= 256 ? split : fused);
    const x64 = bt.cast(x, 'float64');
    const b64 = bt.cast(b, 'float64');
    const jf64 = bt.jit(f);
    same((jf64(x64, b64) as bt.Tensor[])[1]!, (f(x64, b64) as bt.Tensor[])[1]!, `float64 sum [${m},${n}]`);
    same((jf64(x64, b64) as bt.Tensor[])[0]!, (f(x64, b64) as bt.Tensor[])[0]!, `float64 tanh [${m},${n}]`);
    assert.equal(jf64.compiled()!.steps, m * n >= 256 ? split : fused);
  }
});

test('reductions fed by loops: every axis set, keepdims, float32, int32, NaN, -0, empty and rank 0', () => {
  const X = bt.tensor(vals(60, 8)).reshape([3, 4, 5]);
  const axesSets: (number | number[] | undefined)[] = [0, 1, 2, [0, 1], [0, 2], [1, 2], [0, 1, 2], undefined, []];
  for (const axis of axesSets) {
    for (const keepdims of [false, true]) {
      for (const red of ['sum', 'max', 'min'] as const) {
        const f = (x: bt.Tensor) => (bt as any)[red](x.mul(x).sub(0.7), { axis, keepdims }) as bt.Tensor;
        const jf = bt.jit(f);
        const what = `${red} axis=${JSON.stringify(axis)} keepdims=${keepdims}`;
        same(jf(X), f(X), what);
        // sum over no axes is x itself (no reduction is traced)
        if (red !== 'sum' || axis === undefined || typeof axis === 'number' || axis.length > 0) {
          assert.ok(jf.compiled()!.steps.some((s) => s.includes('→ reduce')), `${what}: fused`);
        }
        const x32 = bt.cast(X, 'float32');
        same(jf(x32), f(x32), `${what} float32`);
      }
    }
  }
  const I = bt.tensor([1, -5, 2147483647, 7, 3, -2], { dtype: 'int32' }).reshape([2, 3]);
  const fi = (x: bt.Tensor) => bt.sum(x.mul(3), { axis: 1 });
  same(bt.jit(fi)(I), fi(I), 'int32 sum');
  const N = bt.tensor([1, NaN, 3, -0, -0, -0, Infinity, -Infinity, 2]).reshape([3, 3]);
  for (const red of ['sum', 'max', 'min'] as const) {
    const f = (x: bt.Tensor) => (bt as any)[red](x.mul(1), { axis: 1 }) as bt.Tensor;
    same(bt.jit(f)(N), f(N), `${red} with NaN, -0, ±Infinity`);
  }
  const E = bt.zeros([0, 3]);
  for (const red of ['sum', 'max', 'min'] as const) {
    const f = (x: bt.Tensor) => (bt as any)[red](x.exp(), { axis: 0 }) as bt.Tensor;
    same(bt.jit(f)(E), f(E), `${red} of an empty tensor`);
  }
  const S = bt.tensor(-0);
  for (const red of ['max', 'min'] as const) {
    const f = (x: bt.Tensor) => (bt as any)[red](x.mul(1)) as bt.Tensor;
    same(bt.jit(f)(S), f(S), `rank-0 ${red} keeps -0 as the kernel does`);
  }
});

test('values that leave a loop, a matmul between loops, repeated and view outputs', () => {
  const W = bt.tensor(vals(12, 9)).reshape([4, 3]);
  const f = (x: bt.Tensor) => {
    const h = x.mul(2).sin();
    const s = bt.sum(h.mul(h), { axis: 1, keepdims: true });
    const m = bt.matmul(h.div(s), W);
    return { h, s, m: m.exp(), again: m.exp().reshape([-1]), hv: h.reshape([4, 2]), x };
  };
  const x = bt.tensor(vals(8, 10)).reshape([2, 4]);
  const jf = bt.jit(f);
  const r = jf(x);
  const e = f(x);
  for (const k of ['h', 's', 'm', 'again', 'hv', 'x'] as const) same(r[k], e[k], k);
  assert.equal(jf.compiled()!.steps, ['loop[2,4]: mul sin mul → reduceSum', 'loop[2,4]: div', 'matmul', 'loop[2,3]: exp exp']);
});

test('shape ops, lone reductions and indexing write into reused buffers: every call equals eager', () => {
  const idx = bt.tensor([2, 0, 2], { dtype: 'int32' });
  const f = (x: bt.Tensor, y: bt.Tensor) => {
    const t = bt.transpose(x); // [4,3]
    const p = bt.pad(t, [1, 0], [0, 2]); // [5,5]
    const c = bt.concat([bt.slice(p, [0, 1], [3, 3]), bt.take(y, idx, 0)], 0); // [6,3]
    const s = bt.scatterAdd(c, idx, bt.slice(c, [0, 0], [3, 3]), 0);
    const q = bt.cumsum(s, { axis: 0, reverse: true });
    return [q, bt.sum(x, { axis: 0 }), bt.max(y), bt.argmax(q, { axis: 1 }), bt.broadcastTo(bt.min(x, { axis: 1, keepdims: true }), [3, 2])];
  };
  const jf = bt.jit(f);
  for (let i = 0; i < 3; i++) {
    const x = bt.tensor(vals(12, 30 + i)).reshape([3, 4]);
    const y = bt.tensor(vals(9, 40 + i)).reshape([3, 3]);
    const r = jf(x, y);
    const e = f(x, y);
    r.forEach((t, k) => same(t, e[k]!, `call ${i} output ${k}`));
  }
});

test('a user primitive between fused loops runs its own kernel; one that returns its input is copied', () => {
  const cube = bt.definePrimitive({
    name: 'jitFuseTestCube',
    impl: { cpu: ([x]) => x!.data.map((v) => v * v * v) },
    nondiff: true,
  });
  const echo = bt.definePrimitive({ name: 'jitFuseTestEcho', impl: { cpu: ([x]) => x!.data }, nondiff: true });
  const f = (x: bt.Tensor) => {
    const c = (cube([x.add(1)]) as unknown as bt.Tensor[])[0]!;
    const e = (echo([c.mul(2)]) as unknown as bt.Tensor[])[0]!;
    return [bt.sum(c.sub(e), { axis: 0 }), e];
  };
  const jf = bt.jit(f);
  for (let i = 0; i < 3; i++) {
    const x = bt.tensor(vals(6, 50 + i)).reshape([3, 2]);
    const [a, b] = jf(x);
    const [c, d] = f(x);
    same(a!, c!, `call ${i} sum`);
    same(b!, d!, `call ${i} echo output`);
  }
  assert.ok(jf.compiled()!.steps.includes('jitFuseTestCube'));
});

test('the arena is reused across calls, and returned tensors never alias it', () => {
  const f = (x: bt.Tensor, y: bt.Tensor) => {
    const a = bt.matmul(x.tanh(), y.exp());
    const b = bt.matmul(a.sigmoid(), y);
    return bt.sum(b.mul(a), { axis: 0 });
  };
  const jf = bt.jit(f);
  const kept: [bt.Tensor, bt.Tensor][] = [];
  for (let i = 0; i < 4; i++) {
    const x = bt.tensor(vals(9, i)).reshape([3, 3]);
    const y = bt.tensor(vals(9, 20 + i)).reshape([3, 3]);
    kept.push([jf(x, y), f(x, y)]);
  }
  kept.forEach(([a, b], i) => same(a, b, `call ${i}, read after later calls`));
  assert.ok(jf.compiled()!.arenaBytes > 0 && jf.compiled()!.arenaBytes <= 3 * 9 * 8, 'intermediates share slots');
  assert.is(jf.retraces, 1);
});

test('fast path: a mutated static object, a changed pytree, alternating shapes and the LRU order, a disposed input', () => {
  const cfg = { scale: 2 };
  const jf = bt.jit((p: { a: bt.Tensor; b?: bt.Tensor }, c: { scale: number }) => (p.b ? p.a.mul(p.b) : p.a).mul(c.scale), { staticArgnums: [1] });
  const x = bt.tensor([1, 2, 3]);
  same(jf({ a: x }, cfg), x.mul(2), 'first');
  cfg.scale = 5;
  same(jf({ a: x }, cfg), x.mul(5), 'a mutated static object retraces');
  same(jf({ a: x, b: x }, cfg), x.mul(x).mul(5), 'another key set retraces');
  same(jf({ a: x }, cfg), x.mul(5), 'back to the first structure');
  assert.is(jf.retraces, 3);
  // alternating shapes stay on the fast path; the LRU order still follows the calls
  const h = bt.jit((t: bt.Tensor) => t.mul(3), { cacheSize: 2 });
  const [A, B, C] = [bt.ones([1]), bt.ones([2]), bt.ones([3])];
  for (let i = 0; i < 3; i++) {
    same(h(A), A.mul(3), 'A');
    same(h(B), B.mul(3), 'B');
  }
  same(h(A), A.mul(3), 'A again');
  assert.is(h.retraces, 2);
  assert.is(h.cacheInfo().hits, 5);
  h(C); // evicts B, the least recently used
  h(A);
  assert.is(h.retraces, 3, 'A was used after B: still cached');
  h(B);
  assert.is(h.retraces, 4, 'B was evicted');
  const d = bt.tensor([1, 2, 3]);
  d.dispose();
  assert.throws(() => jf({ a: d }, cfg), (e: unknown) => e instanceof bt.ConfigError && /disposed/.test((e as Error).message));
});

test('memory: a jitted step run 100,000 times stays flat; a cache under changing shapes stays bounded and frees its arenas', () => {
  const w = bt.tensor([[0.5, -0.2], [0.1, 0.3], [0.7, 0.9], [-1, 0.4]]);
  const step = bt.jit((p: { x: bt.Tensor; v: bt.Tensor }) => {
    const g = bt.grad((y: bt.Tensor) => bt.sum(bt.tanh(bt.matmul(y, w))))(p.x);
    const v = p.v.mul(0.9).add(g);
    return { x: p.x.sub(v.mul(0.01)), v };
  });
  let state = { x: bt.tensor([[0.3, -1.2, 2.5, 0.7]]), v: bt.zeros([1, 4]) };
  const next = (s: typeof state) => {
    const n = step(s);
    bt.dispose(s);
    return n;
  };
  state = next(state);
  const before = bt.memory();
  for (let i = 0; i < 100000; i++) state = next(state);
  assert.equal(bt.memory(), before);
  assert.is(step.retraces, 1);
  bt.dispose(state);

  const base = bt.memory();
  const h = bt.jit((x: bt.Tensor) => bt.sum(x.mul(x).exp(), { axis: 0 }).mul(bt.ones([1])), { cacheSize: 4 });
  for (let n = 1; n <= 40; n++) {
    const x = bt.ones([n, 2]);
    bt.dispose(h(x));
    x.dispose();
    assert.ok(h.cacheInfo().size <= 4);
  }
  assert.is(h.retraces, 40);
  h.clearCache();
  assert.equal(bt.memory(), base, 'clearCache frees every program: consts and arenas');
});

test.run();
