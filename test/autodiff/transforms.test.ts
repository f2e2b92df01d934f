/** Composition of transforms: higher derivatives, perturbation confusion, pytrees, nesting. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose, numericGrad, randn } from '../helpers.js';

const s = (v: number) => bt.tensor(v);

test('grad, grad∘grad and grad∘grad∘grad of sin(x)·exp(x) match closed forms', () => {
  const f = (x: bt.Tensor) => bt.sin(x).mul(bt.exp(x));
  const d1 = bt.grad(f);
  const d2 = bt.grad(d1);
  const d3 = bt.grad(d2);
  for (const x of [-1.3, 0, 0.4, 2.1]) {
    const e = Math.exp(x);
    assertClose(d1(s(x)).item(), e * (Math.sin(x) + Math.cos(x)), 1e-10, 1e-14, `f' at ${x}`);
    assertClose(d2(s(x)).item(), 2 * e * Math.cos(x), 1e-10, 1e-14, `f'' at ${x}`);
    assertClose(d3(s(x)).item(), 2 * e * (Math.cos(x) - Math.sin(x)), 1e-10, 1e-14, `f''' at ${x}`);
  }
});

test('higher derivatives of tanh and of x^3 / log via pow, every mode mix', () => {
  const t = (x: number) => Math.tanh(x);
  for (const x of [-0.8, 0.3, 1.5]) {
    const th = t(x);
    const want1 = 1 - th * th;
    const want2 = -2 * th * (1 - th * th);
    const want3 = (-2 + 6 * th * th) * (1 - th * th);
    const d = bt.grad(bt.tanh);
    assertClose(d(s(x)).item(), want1, 1e-10, 1e-14, 'tanh\'');
    assertClose(bt.grad(d)(s(x)).item(), want2, 1e-10, 1e-14, 'tanh\'\'');
    assertClose(bt.grad(bt.grad(d))(s(x)).item(), want3, 1e-10, 1e-14, 'tanh\'\'\' (rev³)');
    // forward over reverse over reverse, and forward³
    const fwd = (g: (z: bt.Tensor) => bt.Tensor) => (z: bt.Tensor) => bt.jvp(g, [z], [s(1)])[1] as bt.Tensor;
    assertClose(fwd(bt.grad(d))(s(x)).item(), want3, 1e-10, 1e-14, 'tanh\'\'\' (fwd∘rev∘rev)');
    assertClose(fwd(fwd(fwd(bt.tanh)))(s(x)).item(), want3, 1e-10, 1e-14, 'tanh\'\'\' (fwd³)');
    assertClose(bt.grad(fwd(d))(s(x)).item(), want3, 1e-10, 1e-14, 'tanh\'\'\' (rev∘fwd∘rev)');
  }
  const cube = (x: bt.Tensor) => x.mul(x).mul(x);
  assertClose(bt.grad(bt.grad(bt.grad(cube)))(s(0.7)).item(), 6, 1e-12);
  assertClose(bt.grad(bt.grad(bt.log))(s(2)).item(), -0.25, 1e-12);
});

test('perturbation confusion: d/dx [x · d/dy (x + y)] = 1 (reverse, at several x)', () => {
  for (const x0 of [-2, 0, 0.5, 3]) {
    const outer = (x: bt.Tensor) => x.mul(bt.grad((y: bt.Tensor) => x.add(y))(s(1)));
    assertClose(bt.grad(outer)(s(x0)).item(), 1, 1e-12, 1e-14, `rev at x=${x0}`);
    // the inner derivative point depending on x as well
    const outer2 = (x: bt.Tensor) => x.mul(bt.grad((y: bt.Tensor) => x.add(y))(x));
    assertClose(bt.grad(outer2)(s(x0)).item(), 1, 1e-12, 1e-14, `rev (y at x) x=${x0}`);
  }
});

test('perturbation confusion: the jvp-of-jvp version, and mixed jvp/grad', () => {
  for (const x0 of [-2, 0, 0.5, 3]) {
    const inner = (x: bt.Tensor) => bt.jvp((y: bt.Tensor) => x.add(y), [s(1)], [s(1)])[1] as bt.Tensor;
    const outer = (x: bt.Tensor) => x.mul(inner(x));
    assertClose((bt.jvp(outer, [s(x0)], [s(1)])[1] as bt.Tensor).item(), 1, 1e-12, 1e-14, `fwd/fwd x=${x0}`);
    assertClose(bt.grad(outer)(s(x0)).item(), 1, 1e-12, 1e-14, `rev/fwd x=${x0}`);
    const outerR = (x: bt.Tensor) => x.mul(bt.grad((y: bt.Tensor) => x.add(y))(s(1)));
    assertClose((bt.jvp(outerR, [s(x0)], [s(1)])[1] as bt.Tensor).item(), 1, 1e-12, 1e-14, `fwd/rev x=${x0}`);
    // a nonlinear variant: d/dx [x · d/dy (x·y)]|y=2 = d/dx x² = 2x
    const nl = (x: bt.Tensor) => x.mul(bt.jvp((y: bt.Tensor) => x.mul(y), [s(2)], [s(1)])[1] as bt.Tensor);
    assertClose((bt.jvp(nl, [s(x0)], [s(1)])[1] as bt.Tensor).item(), 2 * x0, 1e-12, 1e-14, `nonlinear fwd/fwd x=${x0}`);
    assertClose(bt.grad(nl)(s(x0)).item(), 2 * x0, 1e-12, 1e-14, `nonlinear rev/fwd x=${x0}`);
  }
});

test('valueAndGrad with an argnums list and hasAux', () => {
  const a = randn([3], 1);
  const b = randn([3], 2);
  const c = randn([3], 3);
  const f = (x: bt.Tensor, y: bt.Tensor, z: bt.Tensor) => {
    const v = bt.sum(x.mul(y).mul(bt.sin(z)));
    return [v, { twice: v.mul(2), tag: 'aux' }];
  };
  const [[value, aux], grads] = bt.valueAndGrad(f, { argnums: [0, 2], hasAux: true })(a, b, c);
  const want = bt.sum(a.mul(b).mul(bt.sin(c))).item();
  assertClose(value.item(), want, 1e-12);
  assertClose(aux.twice.item(), 2 * want, 1e-12);
  assert.is(aux.tag, 'aux');
  assert.ok(Array.isArray(grads) && grads.length === 2, 'argnums list gives an array of gradients');
  assertClose(grads[0], b.mul(bt.sin(c)), 1e-12, 1e-14, 'd/dx');
  assertClose(grads[1], a.mul(b).mul(bt.cos(c)), 1e-12, 1e-14, 'd/dz');
  // single argnum gives the bare gradient; argnums [1] gives a one-element array
  const g1 = bt.grad((x: bt.Tensor, y: bt.Tensor) => bt.sum(x.mul(y)), { argnums: 1 })(a, b);
  assertClose(g1, a, 1e-14);
  const gl = bt.grad((x: bt.Tensor, y: bt.Tensor) => bt.sum(x.mul(y)), { argnums: [1] })(a, b);
  assert.ok(Array.isArray(gl) && gl.length === 1);
  assertClose(gl[0], a, 1e-14);
  assert.throws(() => bt.grad((x: bt.Tensor) => x.sum(), { argnums: 2 })(a), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => bt.grad((x: bt.Tensor) => x)(a), (e: unknown) => e instanceof bt.ShapeError);
});

test('hasAux: aux tensors come back as plain values, usable in later ops (also under an outer grad)', () => {
  const a = randn([3], 5);
  const [[v, aux], g] = bt.valueAndGrad((x: bt.Tensor) => {
    const y = x.square();
    return [bt.sum(y), { y, list: [y.mul(2)] }];
  }, { hasAux: true })(a);
  // using aux in a new op must not raise "a traced value escaped its transform"
  assertClose(aux.y.add(1), a.square().add(1), 1e-15, 0, 'aux.y usable');
  assertClose(aux.list[0].sub(v), a.square().mul(2).sub(bt.sum(a.square())), 1e-14, 0, 'aux.list usable');
  assertClose(g, a.mul(2), 1e-15);
  // nested: outer derivative flows through the aux of an inner valueAndGrad
  // inner: y = x·w, value = w²Σx², aux = y, g = 2w²x; outer: Σaux + Σg = wΣa + 2w²Σa, d/dw = Σa(1 + 4w)
  const outer = bt.grad((w: bt.Tensor) => {
    const [[, ax], gg] = bt.valueAndGrad((x: bt.Tensor) => {
      const y = x.mul(w);
      return [bt.sum(y.square()), y];
    }, { hasAux: true })(a);
    return bt.sum(ax).add(bt.sum(gg));
  });
  assertClose(outer(s(2)).item(), bt.sum(a).item() * 9, 1e-12, 1e-14, 'nested aux');
});

function loss(p: { w: bt.Tensor[]; b: bt.Tensor }, x: bt.Tensor): bt.Tensor {
  const h1 = bt.tanh(bt.matmul(x, p.w[0]!).add(p.b));
  return bt.sum(bt.matmul(h1, p.w[1]!).square());
}

test('grad over pytree params ({w: [..], b} objects and arrays) matches finite differences per leaf', () => {
  const x = randn([5, 3], 10);
  const p = { w: [randn([3, 4], 11), randn([4, 2], 12)], b: randn([4], 13) };
  const g = bt.grad(loss)(p, x) as { w: bt.Tensor[]; b: bt.Tensor };
  assert.equal(Object.keys(g).sort(), ['b', 'w']);
  assert.ok(Array.isArray(g.w) && g.w.length === 2);
  assertClose(g.w[0]!, numericGrad((w0) => loss({ ...p, w: [w0, p.w[1]!] }, x), p.w[0]!), 1e-6, 1e-9, 'w0');
  assertClose(g.w[1]!, numericGrad((w1) => loss({ ...p, w: [p.w[0]!, w1] }, x), p.w[1]!), 1e-6, 1e-9, 'w1');
  assertClose(g.b, numericGrad((b) => loss({ ...p, b }, x), p.b), 1e-6, 1e-9, 'b');
});

test('grad over pytree params does not depend on the order keys were inserted', () => {
  const x = randn([5, 3], 20);
  const w = [randn([3, 4], 21), randn([4, 2], 22)];
  const b = randn([4], 23);
  const p1 = { w, b };
  const p2 = { b, w };
  const g1 = bt.grad(loss)(p1, x);
  const g2 = bt.grad(loss)(p2, x);
  assertClose(g1.b, g2.b, 0, 0);
  assertClose(g1.w[0], g2.w[0], 0, 0);
  assertClose(g1.w[1], g2.w[1], 0, 0);
  // a nested object with many keys in scrambled order
  const q1 = { z: s(1), a: { y: s(2), c: s(3) }, m: s(4) };
  const q2 = { m: s(4), a: { c: s(3), y: s(2) }, z: s(1) };
  const fq = (q: typeof q1) => q.z.mul(q.a.y).add(q.a.c.square()).add(q.m.mul(q.z));
  const gq1 = bt.grad(fq)(q1);
  const gq2 = bt.grad(fq)(q2);
  for (const g of [gq1, gq2]) {
    assertClose(g.z.item(), 2 + 4, 1e-14);
    assertClose(g.a.y.item(), 1, 1e-14);
    assertClose(g.a.c.item(), 6, 1e-14);
    assertClose(g.m.item(), 1, 1e-14);
  }
});

test('vjp with a pytree of outputs; the pullback can be called twice', () => {
  const x = randn([3], 30);
  const y = randn([3], 31);
  const f = (a: bt.Tensor, b: bt.Tensor) => ({ p: a.mul(b), q: [bt.sin(a), bt.sum(b.square())] });
  const [out, pb] = bt.vjp(f, x, y);
  assertClose(out.p, x.mul(y), 1e-14);
  assertClose(out.q[0], bt.sin(x), 1e-14);
  assertClose(out.q[1], bt.sum(y.square()), 1e-14);
  for (const seed of [40, 41]) {
    const cp = randn([3], seed);
    const cq0 = randn([3], seed + 10);
    const cq1 = bt.tensor(seed === 40 ? 0.5 : -2);
    const [gx, gy] = pb({ p: cp, q: [cq0, cq1] }) as bt.Tensor[];
    assertClose(gx!, cp.mul(y).add(cq0.mul(bt.cos(x))), 1e-12, 1e-14, `gx call ${seed}`);
    assertClose(gy!, cp.mul(x).add(y.mul(2).mul(cq1)), 1e-12, 1e-14, `gy call ${seed}`);
  }
  // a mismatched cotangent structure is a ShapeError
  assert.throws(() => pb({ p: x, q: [x] }), (e: unknown) => e instanceof bt.ShapeError);
});

test('jvp with pytree primals and tangents', () => {
  const p = { w: randn([2, 3], 50), b: randn([2], 51) };
  const tp = { b: randn([2], 53), w: randn([2, 3], 52) };
  const x = randn([3], 54);
  const f = (q: { w: bt.Tensor; b: bt.Tensor }, xx: bt.Tensor) => ({ out: bt.tanh(bt.matmul(q.w, xx.reshape([3, 1])).reshape([2]).add(q.b)) });
  const tx = randn([3], 55);
  const [y, ty] = bt.jvp(f, [p, x], [tp, tx]);
  const pre = bt.matmul(p.w, x.reshape([3, 1])).reshape([2]).add(p.b);
  assertClose(y.out, bt.tanh(pre), 1e-14);
  const dpre = bt.matmul(tp.w, x.reshape([3, 1])).reshape([2]).add(bt.matmul(p.w, tx.reshape([3, 1])).reshape([2])).add(tp.b);
  const sech2 = bt.tanh(pre).square().neg().add(1);
  assertClose(ty.out, dpre.mul(sech2), 1e-12, 1e-14, 'pytree jvp');
  assert.throws(() => bt.jvp(f, [p, x], [{ w: tp.w }, tx]), (e: unknown) => e instanceof bt.ShapeError);
});

test('reverse-over-forward: grad of a loss built from jacfwd (the IMNN pattern) vs finite differences', () => {
  const x0 = randn([3], 60);
  // elementwise: J = diag(w · sech²(w x0))
  const L1 = (w: bt.Tensor) => bt.sum(bt.jacfwd((x: bt.Tensor) => bt.tanh(w.mul(x)))(x0).square());
  const w = randn([3], 61);
  const g1 = bt.grad(L1)(w);
  assertClose(g1, numericGrad(L1, w), 1e-6, 1e-9, 'elementwise jacfwd loss');
  // closed form: L = Σ (w sech²(w x))², dL/dw = 2 J (sech² + w·d/dw sech²) with d/dw sech²(wx) = −2 x tanh sech²
  const wa = w.dataSync();
  const xa = x0.dataSync();
  const want = Array.from(wa, (wi, i) => {
    const t = Math.tanh(wi * xa[i]!);
    const s2 = 1 - t * t;
    const j = wi * s2;
    return 2 * j * (s2 + wi * (-2 * xa[i]! * t * s2));
  });
  assertClose(g1, want, 1e-10, 1e-14, 'closed form');
  // dense: f(x) = tanh(W x + b) with W [2,3]; L = Σ J² + Σ J (jacfwd and jacrev inside, chunked)
  const xm = randn([3], 62);
  const Wm = randn([2, 3], 63);
  const mk = (jac: typeof bt.jacfwd, chunkSize?: number) => (Wp: bt.Tensor) => {
    const J = jac((x: bt.Tensor) => bt.tanh(bt.matmul(Wp, x.reshape([3, 1])).reshape([2]).add(0.3)), { chunkSize })(xm);
    return bt.sum(J.square()).add(bt.sum(bt.sin(J)));
  };
  const num = numericGrad(mk(bt.jacfwd), Wm);
  for (const chunkSize of [1, 2, undefined]) {
    assertClose(bt.grad(mk(bt.jacfwd, chunkSize))(Wm), num, 1e-6, 1e-9, `grad of jacfwd loss (chunk ${chunkSize})`);
    assertClose(bt.grad(mk(bt.jacrev, chunkSize))(Wm), num, 1e-6, 1e-9, `grad of jacrev loss (chunk ${chunkSize})`);
  }
  // grad of a jvp-built loss
  const v = randn([3], 64);
  const Lj = (Wp: bt.Tensor) => bt.sum((bt.jvp((x: bt.Tensor) => bt.tanh(bt.matmul(Wp, x.reshape([3, 1]))), [xm], [v])[1] as bt.Tensor).square());
  assertClose(bt.grad(Lj)(Wm), numericGrad(Lj, Wm), 1e-6, 1e-9, 'grad of jvp loss');
});

test('forward-over-reverse hvp matches the closed-form Hessian product', () => {
  // f = Σx⁴/4 + (Σx)³/6: H = diag(3x²) + (Σx) 11ᵀ
  const f = (x: bt.Tensor) => bt.sum(x.square().square()).div(4).add(bt.sum(x).square().mul(bt.sum(x)).div(6));
  const x = randn([5], 70);
  const v = randn([5], 71);
  const hv = bt.jvp(bt.grad(f), [x], [v])[1] as bt.Tensor;
  const sx = bt.sum(x).item();
  const sv = bt.sum(v).item();
  const xa = x.dataSync();
  const va = v.dataSync();
  const want = Array.from(xa, (xi, i) => 3 * xi * xi * va[i]! + sx * sv);
  assertClose(hv, want, 1e-10, 1e-14, 'fwd-over-rev');
  assertClose(bt.hvp(f, x, v), want, 1e-10, 1e-14, 'bt.hvp');
  // reverse-over-reverse: grad of ⟨grad f, v⟩
  assertClose(bt.grad((z: bt.Tensor) => bt.sum(bt.grad(f)(z).mul(v)))(x), want, 1e-10, 1e-14, 'rev-over-rev');
});

test('stopGradient blocks gradients in reverse and forward mode, and under grad∘grad', () => {
  const x = randn([4], 80);
  const f = (z: bt.Tensor) => bt.sum(z.mul(bt.stopGradient(z)));
  assertClose(bt.grad(f)(x), x, 1e-14, 0, 'grad of x·sg(x) = x');
  const t = randn([4], 81);
  assertClose(bt.jvp(f, [x], [t])[1] as bt.Tensor, bt.sum(x.mul(t)), 1e-12, 1e-14, 'jvp of x·sg(x)');
  assertClose(bt.grad((z: bt.Tensor) => bt.sum(bt.stopGradient(z.square())))(x), bt.zeros([4]), 0, 0, 'fully stopped');
  assertClose(bt.grad((z: bt.Tensor) => bt.sum(z.square().stopGradient().mul(z)))(x), x.square(), 1e-14, 0, 'method form');
  // second derivative of x·sg(x)² is 0 (the stopped factor is constant)
  const g2 = bt.grad(bt.grad((z: bt.Tensor) => z.mul(bt.stopGradient(z.square()))));
  assertClose(g2(s(1.5)).item(), 0, 0, 1e-14, 'grad∘grad');
});

test('int32 inputs are not differentiated (zero int32 gradients), float arguments still are', () => {
  const x = randn([5], 90);
  const idx = bt.tensor([4, 0, 2], { dtype: 'int32' });
  const f = (xx: bt.Tensor, ii: bt.Tensor) => bt.sum(bt.take(xx, ii).mul(ii.astype('float64')));
  const [gx, gi] = bt.grad(f, { argnums: [0, 1] })(x, idx) as bt.Tensor[];
  assertClose(gx!, [0, 0, 2, 0, 4], 0, 1e-14, 'float argument');
  assert.is(gi!.dtype, 'int32');
  assert.equal(Array.from(gi!.dataSync()), [0, 0, 0]);
  // jvp: int32 primals (with int32 zero tangents) contribute no tangent
  const [y, ty] = bt.jvp(f, [x, idx], [bt.ones([5]), bt.zeros([3], 'int32')]);
  assertClose(y as bt.Tensor, bt.sum(bt.take(x, idx).mul(idx.astype('float64'))), 1e-14);
  assertClose(ty as bt.Tensor, 4 + 0 + 2, 1e-14);
  // grad of a function of an int32 argument alone: gradient zeros, no error
  const gOnly = bt.grad((ii: bt.Tensor) => bt.sum(ii.astype('float64').square()))(idx);
  assert.equal(Array.from(gOnly.dataSync()), [0, 0, 0]);
});

test('nested vmap of grad gives per-example gradients', () => {
  const X = randn([4, 3], 95);
  const w = randn([3], 96);
  const per = bt.vmap((x: bt.Tensor) => bt.grad((ww: bt.Tensor) => bt.tanh(bt.sum(ww.mul(x))))(w))(X);
  assert.equal([...per.shape], [4, 3]);
  for (let i = 0; i < 4; i++) {
    const xi = X.slice([i], [1]).reshape([3]);
    const want = bt.grad((ww: bt.Tensor) => bt.tanh(bt.sum(ww.mul(xi))))(w);
    assertClose(per.slice([i], [1]).reshape([3]), want, 1e-12, 1e-14, `example ${i}`);
  }
});

test('jvp: the tangent of a broadcasting add/sub with one constant operand has the output shape', () => {
  const x = bt.ones([2, 3]);
  for (const op of [bt.add, bt.sub]) {
    const [, t] = bt.jvp((m: bt.Tensor) => op(x, m).transpose(), [bt.zeros([3])], [bt.ones([3])]);
    assert.equal(t.shape, [3, 2]);
    const [, t2] = bt.jvp((m: bt.Tensor) => op(m, x), [bt.zeros([3])], [bt.ones([3])]);
    assert.equal(t2.shape, [2, 3]);
  }
});

test.run();
