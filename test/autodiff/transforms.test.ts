/**
 * Composition of transforms: higher derivatives, perturbation confusion, pytrees, nesting.
 *
 * Every body runs on each backend (see ../backend-harness.ts): `name [cpu]` in float64 with the
 * tolerances and float64 finite differences of ../helpers.ts exactly as before, and
 * `name [webgpu]` in float32: AD vs AD or closed forms to the harness's adRtol (64 ulps, relative,
 * and absolute relative to the size of the terms a value is made of), exact where the computation
 * is exact, and the harness's float32 finite differences. Closed forms are evaluated at the
 * inputs as the backend holds them.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import {
  assertJacobianVsFD, backendsUnderTest, numericJacobian as numericJacobianB, randnB, read, registerAll, scalar, T, toDtype, WEBGPU,
  type BackendCase, AD32, close, EXACT, type Tol,
} from '../backend-harness.js';
import { assertClose as assertClose64, numericGrad } from '../helpers.js';

const backends = await backendsUnderTest('transforms');

const ADR = WEBGPU.adRtol;

/** An AD gradient of f at x vs central differences: helpers.ts (1e-6, 1e-9) on CPU, the harness's float32 FD on WebGPU. */
async function vsFD(B: BackendCase, got: bt.Tensor, f: (x: bt.Tensor) => bt.Tensor, x: bt.Tensor, what: string): Promise<void> {
  assert.is(x.backend, B.name, `${what}: input on ${B.name}`);
  if (B.name === 'cpu') return assertClose64(got, numericGrad(f, x), 1e-6, 1e-9, what);
  await assertJacobianVsFD(B, got, await numericJacobianB(B, f, x), what);
}

const randn = (B: BackendCase, shape: number[], seed: number) => randnB(B, shape, seed);

registerAll(backends, 'grad, grad∘grad and grad∘grad∘grad of sin(x)·exp(x) match closed forms', async (B) => {
  const s = (v: number) => T(B, [v], []);
  const f = (x: bt.Tensor) => bt.sin(x).mul(bt.exp(x));
  const d1 = bt.grad(f);
  const d2 = bt.grad(d1);
  const d3 = bt.grad(d2);
  const cpu: Tol = [1e-10, 1e-14];
  for (const x0 of [-1.3, 0, 0.4, 2.1]) {
    const x = toDtype(B, x0);
    const e = Math.exp(x);
    // float32: the terms are of size eˣ (as in backends-suite)
    const gpu: Tol = [0, 4 * ADR * e];
    await close(B, await scalar(d1(s(x0))), e * (Math.sin(x) + Math.cos(x)), `f' at ${x0}`, cpu, gpu);
    await close(B, await scalar(d2(s(x0))), 2 * e * Math.cos(x), `f'' at ${x0}`, cpu, gpu);
    await close(B, await scalar(d3(s(x0))), 2 * e * (Math.cos(x) - Math.sin(x)), `f''' at ${x0}`, cpu, gpu);
  }
});

registerAll(backends, 'higher derivatives of tanh and of x^3 / log via pow, every mode mix', async (B) => {
  const s = (v: number) => T(B, [v], []);
  const t = (x: number) => Math.tanh(x);
  const cpu: Tol = [1e-10, 1e-14];
  // float32: tanh⁽ᵏ⁾ is a sum of products of tanh and 1 − tanh², terms of size ≤ 8
  const gpu: Tol = [ADR, 8 * ADR];
  for (const x0 of [-0.8, 0.3, 1.5]) {
    const th = t(toDtype(B, x0));
    const want1 = 1 - th * th;
    const want2 = -2 * th * (1 - th * th);
    const want3 = (-2 + 6 * th * th) * (1 - th * th);
    const d = bt.grad(bt.tanh);
    await close(B, await scalar(d(s(x0))), want1, 'tanh\'', cpu, gpu);
    await close(B, await scalar(bt.grad(d)(s(x0))), want2, 'tanh\'\'', cpu, gpu);
    await close(B, await scalar(bt.grad(bt.grad(d))(s(x0))), want3, 'tanh\'\'\' (rev³)', cpu, gpu);
    // forward over reverse over reverse, and forward³
    const fwd = (g: (z: bt.Tensor) => bt.Tensor) => (z: bt.Tensor) => bt.jvp(g, [z], [s(1)])[1] as bt.Tensor;
    await close(B, await scalar(fwd(bt.grad(d))(s(x0))), want3, 'tanh\'\'\' (fwd∘rev∘rev)', cpu, gpu);
    await close(B, await scalar(fwd(fwd(fwd(bt.tanh)))(s(x0))), want3, 'tanh\'\'\' (fwd³)', cpu, gpu);
    await close(B, await scalar(bt.grad(fwd(d))(s(x0))), want3, 'tanh\'\'\' (rev∘fwd∘rev)', cpu, gpu);
  }
  const cube = (x: bt.Tensor) => x.mul(x).mul(x);
  await close(B, await scalar(bt.grad(bt.grad(bt.grad(cube)))(s(0.7))), 6, 'd³ x³', [1e-12, 1e-12], [ADR, 0]);
  await close(B, await scalar(bt.grad(bt.grad(bt.log))(s(2))), -0.25, 'd² log', [1e-12, 1e-12], [ADR, 0]);
});

registerAll(backends, 'perturbation confusion: d/dx [x · d/dy (x + y)] = 1 (reverse, at several x)', async (B) => {
  const s = (v: number) => T(B, [v], []);
  const cpu: Tol = [1e-12, 1e-14];
  for (const x0 of [-2, 0, 0.5, 3]) {
    const outer = (x: bt.Tensor) => x.mul(bt.grad((y: bt.Tensor) => x.add(y))(s(1)));
    await close(B, await scalar(bt.grad(outer)(s(x0))), 1, `rev at x=${x0}`, cpu, AD32);
    // the inner derivative point depending on x as well
    const outer2 = (x: bt.Tensor) => x.mul(bt.grad((y: bt.Tensor) => x.add(y))(x));
    await close(B, await scalar(bt.grad(outer2)(s(x0))), 1, `rev (y at x) x=${x0}`, cpu, AD32);
  }
});

registerAll(backends, 'perturbation confusion: the jvp-of-jvp version, and mixed jvp/grad', async (B) => {
  const s = (v: number) => T(B, [v], []);
  const cpu: Tol = [1e-12, 1e-14];
  for (const x0 of [-2, 0, 0.5, 3]) {
    const inner = (x: bt.Tensor) => bt.jvp((y: bt.Tensor) => x.add(y), [s(1)], [s(1)])[1] as bt.Tensor;
    const outer = (x: bt.Tensor) => x.mul(inner(x));
    await close(B, await scalar(bt.jvp(outer, [s(x0)], [s(1)])[1] as bt.Tensor), 1, `fwd/fwd x=${x0}`, cpu, AD32);
    await close(B, await scalar(bt.grad(outer)(s(x0))), 1, `rev/fwd x=${x0}`, cpu, AD32);
    const outerR = (x: bt.Tensor) => x.mul(bt.grad((y: bt.Tensor) => x.add(y))(s(1)));
    await close(B, await scalar(bt.jvp(outerR, [s(x0)], [s(1)])[1] as bt.Tensor), 1, `fwd/rev x=${x0}`, cpu, AD32);
    // a nonlinear variant: d/dx [x · d/dy (x·y)]|y=2 = d/dx x² = 2x
    const nl = (x: bt.Tensor) => x.mul(bt.jvp((y: bt.Tensor) => x.mul(y), [s(2)], [s(1)])[1] as bt.Tensor);
    await close(B, await scalar(bt.jvp(nl, [s(x0)], [s(1)])[1] as bt.Tensor), 2 * x0, `nonlinear fwd/fwd x=${x0}`, cpu, AD32);
    await close(B, await scalar(bt.grad(nl)(s(x0))), 2 * x0, `nonlinear rev/fwd x=${x0}`, cpu, AD32);
  }
});

registerAll(backends, 'valueAndGrad with an argnums list and hasAux', async (B) => {
  const a = randn(B, [3], 1);
  const b = randn(B, [3], 2);
  const c = randn(B, [3], 3);
  const f = (x: bt.Tensor, y: bt.Tensor, z: bt.Tensor) => {
    const v = bt.sum(x.mul(y).mul(bt.sin(z)));
    return [v, { twice: v.mul(2), tag: 'aux' }];
  };
  const [[value, aux], grads] = bt.valueAndGrad(f, { argnums: [0, 2], hasAux: true })(a, b, c);
  const want = await scalar(bt.sum(a.mul(b).mul(bt.sin(c))));
  await close(B, await scalar(value), want, 'value', [1e-12, 1e-12], AD32);
  await close(B, await scalar(aux.twice), 2 * want, 'aux', [1e-12, 1e-12], AD32);
  assert.is(aux.tag, 'aux');
  assert.ok(Array.isArray(grads) && grads.length === 2, 'argnums list gives an array of gradients');
  await close(B, grads[0], b.mul(bt.sin(c)), 'd/dx', [1e-12, 1e-14], AD32);
  await close(B, grads[1], a.mul(b).mul(bt.cos(c)), 'd/dz', [1e-12, 1e-14], AD32);
  // single argnum gives the bare gradient; argnums [1] gives a one-element array
  const g1 = bt.grad((x: bt.Tensor, y: bt.Tensor) => bt.sum(x.mul(y)), { argnums: 1 })(a, b);
  await close(B, g1, a, 'argnums 1', [1e-14, 1e-12], EXACT);
  const gl = bt.grad((x: bt.Tensor, y: bt.Tensor) => bt.sum(x.mul(y)), { argnums: [1] })(a, b);
  assert.ok(Array.isArray(gl) && gl.length === 1);
  await close(B, gl[0], a, 'argnums [1]', [1e-14, 1e-12], EXACT);
  assert.throws(() => bt.grad((x: bt.Tensor) => x.sum(), { argnums: 2 })(a), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => bt.grad((x: bt.Tensor) => x)(a), (e: unknown) => e instanceof bt.ShapeError);
});

registerAll(backends, 'hasAux: aux tensors come back as plain values, usable in later ops (also under an outer grad)', async (B) => {
  const a = randn(B, [3], 5);
  const [[v, aux], g] = bt.valueAndGrad((x: bt.Tensor) => {
    const y = x.square();
    return [bt.sum(y), { y, list: [y.mul(2)] }];
  }, { hasAux: true })(a);
  // using aux in a new op must not raise "a traced value escaped its transform"
  await close(B, aux.y.add(1), a.square().add(1), 'aux.y usable', [1e-15, 0], EXACT);
  await close(B, aux.list[0].sub(v), a.square().mul(2).sub(bt.sum(a.square())), 'aux.list usable', [1e-14, 0], AD32);
  await close(B, g, a.mul(2), 'gradient', [1e-15, 1e-12], EXACT);
  // nested: outer derivative flows through the aux of an inner valueAndGrad
  // inner: y = x·w, value = w²Σx², aux = y, g = 2w²x; outer: Σaux + Σg = wΣa + 2w²Σa, d/dw = Σa(1 + 4w)
  const outer = bt.grad((w: bt.Tensor) => {
    const [[, ax], gg] = bt.valueAndGrad((x: bt.Tensor) => {
      const y = x.mul(w);
      return [bt.sum(y.square()), y];
    }, { hasAux: true })(a);
    return bt.sum(ax).add(bt.sum(gg));
  });
  const av = await read(a);
  // float32: 9 Σa from terms of size 9 |a|
  await close(B, await scalar(outer(T(B, [2], []))), 9 * av.reduce((p, q) => p + q, 0), 'nested aux', [1e-12, 1e-14], [ADR, 0], [9 * av.reduce((p, q) => p + Math.abs(q), 0)]);
});

function loss(p: { w: bt.Tensor[]; b: bt.Tensor }, x: bt.Tensor): bt.Tensor {
  const h1 = bt.tanh(bt.matmul(x, p.w[0]!).add(p.b));
  return bt.sum(bt.matmul(h1, p.w[1]!).square());
}

registerAll(backends, 'grad over pytree params ({w: [..], b} objects and arrays) matches finite differences per leaf', async (B) => {
  const x = randn(B, [5, 3], 10);
  const p = { w: [randn(B, [3, 4], 11), randn(B, [4, 2], 12)], b: randn(B, [4], 13) };
  const g = bt.grad(loss)(p, x) as { w: bt.Tensor[]; b: bt.Tensor };
  assert.equal(Object.keys(g).sort(), ['b', 'w']);
  assert.ok(Array.isArray(g.w) && g.w.length === 2);
  await vsFD(B, g.w[0]!, (w0) => loss({ ...p, w: [w0, p.w[1]!] }, x), p.w[0]!, 'w0');
  await vsFD(B, g.w[1]!, (w1) => loss({ ...p, w: [p.w[0]!, w1] }, x), p.w[1]!, 'w1');
  await vsFD(B, g.b, (b) => loss({ ...p, b }, x), p.b, 'b');
});

registerAll(backends, 'grad over pytree params does not depend on the order keys were inserted', async (B) => {
  const s = (v: number) => T(B, [v], []);
  const x = randn(B, [5, 3], 20);
  const w = [randn(B, [3, 4], 21), randn(B, [4, 2], 22)];
  const b = randn(B, [4], 23);
  const p1 = { w, b };
  const p2 = { b, w };
  const g1 = bt.grad(loss)(p1, x);
  const g2 = bt.grad(loss)(p2, x);
  await close(B, g1.b, g2.b, 'b', EXACT, EXACT);
  await close(B, g1.w[0], g2.w[0], 'w0', EXACT, EXACT);
  await close(B, g1.w[1], g2.w[1], 'w1', EXACT, EXACT);
  // a nested object with many keys in scrambled order
  const q1 = { z: s(1), a: { y: s(2), c: s(3) }, m: s(4) };
  const q2 = { m: s(4), a: { c: s(3), y: s(2) }, z: s(1) };
  const fq = (q: typeof q1) => q.z.mul(q.a.y).add(q.a.c.square()).add(q.m.mul(q.z));
  const gq1 = bt.grad(fq)(q1);
  const gq2 = bt.grad(fq)(q2);
  // small integers: exact in float32 too
  const tol: Tol = [1e-14, 1e-12];
  for (const g of [gq1, gq2]) {
    await close(B, await scalar(g.z), 2 + 4, 'z', tol, EXACT);
    await close(B, await scalar(g.a.y), 1, 'a.y', tol, EXACT);
    await close(B, await scalar(g.a.c), 6, 'a.c', tol, EXACT);
    await close(B, await scalar(g.m), 1, 'm', tol, EXACT);
  }
});

registerAll(backends, 'vjp with a pytree of outputs; the pullback can be called twice', async (B) => {
  const x = randn(B, [3], 30);
  const y = randn(B, [3], 31);
  const f = (a: bt.Tensor, b: bt.Tensor) => ({ p: a.mul(b), q: [bt.sin(a), bt.sum(b.square())] });
  const [out, pb] = bt.vjp(f, x, y);
  const tol: Tol = [1e-14, 1e-12];
  await close(B, out.p, x.mul(y), 'p', tol, EXACT);
  await close(B, out.q[0], bt.sin(x), 'q[0]', tol, EXACT);
  await close(B, out.q[1], bt.sum(y.square()), 'q[1]', tol, EXACT);
  for (const seed of [40, 41]) {
    const cp = randn(B, [3], seed);
    const cq0 = randn(B, [3], seed + 10);
    const cq1 = T(B, [seed === 40 ? 0.5 : -2], []);
    const [gx, gy] = pb({ p: cp, q: [cq0, cq1] }) as bt.Tensor[];
    await close(B, gx!, cp.mul(y).add(cq0.mul(bt.cos(x))), `gx call ${seed}`, [1e-12, 1e-14], AD32);
    await close(B, gy!, cp.mul(x).add(y.mul(2).mul(cq1)), `gy call ${seed}`, [1e-12, 1e-14], AD32);
  }
  // a mismatched cotangent structure is a ShapeError
  assert.throws(() => pb({ p: x, q: [x] }), (e: unknown) => e instanceof bt.ShapeError);
});

registerAll(backends, 'jvp with pytree primals and tangents', async (B) => {
  const p = { w: randn(B, [2, 3], 50), b: randn(B, [2], 51) };
  const tp = { b: randn(B, [2], 53), w: randn(B, [2, 3], 52) };
  const x = randn(B, [3], 54);
  const f = (q: { w: bt.Tensor; b: bt.Tensor }, xx: bt.Tensor) => ({ out: bt.tanh(bt.matmul(q.w, xx.reshape([3, 1])).reshape([2]).add(q.b)) });
  const tx = randn(B, [3], 55);
  const [y, ty] = bt.jvp(f, [p, x], [tp, tx]);
  const pre = bt.matmul(p.w, x.reshape([3, 1])).reshape([2]).add(p.b);
  await close(B, y.out, bt.tanh(pre), 'primal', [1e-14, 1e-12], AD32);
  const dpre = bt.matmul(tp.w, x.reshape([3, 1])).reshape([2]).add(bt.matmul(p.w, tx.reshape([3, 1])).reshape([2])).add(tp.b);
  const sech2 = bt.tanh(pre).square().neg().add(1);
  await close(B, ty.out, dpre.mul(sech2), 'pytree jvp', [1e-12, 1e-14], AD32);
  assert.throws(() => bt.jvp(f, [p, x], [{ w: tp.w }, tx]), (e: unknown) => e instanceof bt.ShapeError);
});

registerAll(backends, 'reverse-over-forward: grad of a loss built from jacfwd (the IMNN pattern) vs finite differences', async (B) => {
  const x0 = randn(B, [3], 60);
  // elementwise: J = diag(w · sech²(w x0))
  const L1 = (w: bt.Tensor) => bt.sum(bt.jacfwd((x: bt.Tensor) => bt.tanh(w.mul(x)))(x0).square());
  const w = randn(B, [3], 61);
  const g1 = bt.grad(L1)(w);
  await vsFD(B, g1, L1, w, 'elementwise jacfwd loss');
  // closed form: L = Σ (w sech²(w x))², dL/dw = 2 J (sech² + w·d/dw sech²) with d/dw sech²(wx) = −2 x tanh sech²
  const wa = await read(w);
  const xa = await read(x0);
  const terms = wa.map((wi, i) => {
    const t = Math.tanh(wi * xa[i]!);
    const s2 = 1 - t * t;
    const j = wi * s2;
    return [2 * j * s2, 2 * j * wi * (-2 * xa[i]! * t * s2)] as const;
  });
  const want = terms.map(([p, q]) => p + q);
  // float32: rounding relative to the two terms (they may cancel), each a product of a few rounded factors
  await close(B, g1, want, 'closed form', [1e-10, 1e-14], AD32, terms.map(([p, q]) => Math.abs(p) + Math.abs(q)));
  // dense: f(x) = tanh(W x + b) with W [2,3]; L = Σ J² + Σ J (jacfwd and jacrev inside, chunked)
  const xm = randn(B, [3], 62);
  const Wm = randn(B, [2, 3], 63);
  const mk = (jac: typeof bt.jacfwd, chunkSize?: number) => (Wp: bt.Tensor) => {
    const J = jac((x: bt.Tensor) => bt.tanh(bt.matmul(Wp, x.reshape([3, 1])).reshape([2]).add(0.3)), { chunkSize })(xm);
    return bt.sum(J.square()).add(bt.sum(bt.sin(J)));
  };
  for (const chunkSize of [1, 2, undefined]) {
    await vsFD(B, bt.grad(mk(bt.jacfwd, chunkSize))(Wm), mk(bt.jacfwd), Wm, `grad of jacfwd loss (chunk ${chunkSize})`);
    await vsFD(B, bt.grad(mk(bt.jacrev, chunkSize))(Wm), mk(bt.jacfwd), Wm, `grad of jacrev loss (chunk ${chunkSize})`);
  }
  // grad of a jvp-built loss
  const v = randn(B, [3], 64);
  const Lj = (Wp: bt.Tensor) => bt.sum((bt.jvp((x: bt.Tensor) => bt.tanh(bt.matmul(Wp, x.reshape([3, 1]))), [xm], [v])[1] as bt.Tensor).square());
  await vsFD(B, bt.grad(Lj)(Wm), Lj, Wm, 'grad of jvp loss');
});

registerAll(backends, 'forward-over-reverse hvp matches the closed-form Hessian product', async (B) => {
  // f = Σx⁴/4 + (Σx)³/6: H = diag(3x²) + (Σx) 11ᵀ
  const f = (x: bt.Tensor) => bt.sum(x.square().square()).div(4).add(bt.sum(x).square().mul(bt.sum(x)).div(6));
  const x = randn(B, [5], 70);
  const v = randn(B, [5], 71);
  const hv = bt.jvp(bt.grad(f), [x], [v])[1] as bt.Tensor;
  const xa = await read(x);
  const va = await read(v);
  const sum = (a: number[]) => a.reduce((p, q) => p + q, 0);
  const sx = sum(xa);
  const sv = sum(va);
  const want = xa.map((xi, i) => 3 * xi * xi * va[i]! + sx * sv);
  // float32: rounding relative to the terms 3x²|v| and Σ|x|·Σ|v| (the sums may cancel)
  const mag = xa.map((xi, i) => 3 * xi * xi * Math.abs(va[i]!) + sum(xa.map(Math.abs)) * sum(va.map(Math.abs)));
  const cpu: Tol = [1e-10, 1e-14];
  await close(B, hv, want, 'fwd-over-rev', cpu, AD32, mag);
  await close(B, bt.hvp(f, x, v), want, 'bt.hvp', cpu, AD32, mag);
  // reverse-over-reverse: grad of ⟨grad f, v⟩
  await close(B, bt.grad((z: bt.Tensor) => bt.sum(bt.grad(f)(z).mul(v)))(x), want, 'rev-over-rev', cpu, AD32, mag);
});

registerAll(backends, 'stopGradient blocks gradients in reverse and forward mode, and under grad∘grad', async (B) => {
  const x = randn(B, [4], 80);
  const f = (z: bt.Tensor) => bt.sum(z.mul(bt.stopGradient(z)));
  await close(B, bt.grad(f)(x), x, 'grad of x·sg(x) = x', [1e-14, 0], EXACT);
  const t = randn(B, [4], 81);
  await close(B, bt.jvp(f, [x], [t])[1] as bt.Tensor, bt.sum(x.mul(t)), 'jvp of x·sg(x)', [1e-12, 1e-14], AD32);
  await close(B, bt.grad((z: bt.Tensor) => bt.sum(bt.stopGradient(z.square())))(x), bt.zeros([4], B.dtype), 'fully stopped', EXACT, EXACT);
  await close(B, bt.grad((z: bt.Tensor) => bt.sum(z.square().stopGradient().mul(z)))(x), x.square(), 'method form', [1e-14, 0], EXACT);
  // second derivative of x·sg(x)² is 0 (the stopped factor is constant)
  const g2 = bt.grad(bt.grad((z: bt.Tensor) => z.mul(bt.stopGradient(z.square()))));
  await close(B, await scalar(g2(T(B, [1.5], []))), 0, 'grad∘grad', [0, 1e-14], EXACT);
});

registerAll(backends, 'int32 inputs are not differentiated (zero int32 gradients), float arguments still are', async (B) => {
  const x = randn(B, [5], 90);
  const idx = bt.tensor([4, 0, 2], { dtype: 'int32' });
  const f = (xx: bt.Tensor, ii: bt.Tensor) => bt.sum(bt.take(xx, ii).mul(ii.astype(B.dtype)));
  const [gx, gi] = bt.grad(f, { argnums: [0, 1] })(x, idx) as bt.Tensor[];
  await close(B, gx!, [0, 0, 2, 0, 4], 'float argument', [0, 1e-14], EXACT);
  assert.is(gi!.dtype, 'int32');
  assert.equal(await read(gi!), [0, 0, 0]);
  // jvp: int32 primals (with int32 zero tangents) contribute no tangent
  const [y, ty] = bt.jvp(f, [x, idx], [bt.ones([5], B.dtype), bt.zeros([3], 'int32')]);
  await close(B, y as bt.Tensor, bt.sum(bt.take(x, idx).mul(idx.astype(B.dtype))), 'primal', [1e-14, 1e-12], EXACT);
  await close(B, ty as bt.Tensor, 4 + 0 + 2, 'tangent', [1e-14, 1e-12], EXACT);
  // grad of a function of an int32 argument alone: gradient zeros, no error
  const gOnly = bt.grad((ii: bt.Tensor) => bt.sum(ii.astype(B.dtype).square()))(idx);
  assert.equal(await read(gOnly), [0, 0, 0]);
});

registerAll(backends, 'nested vmap of grad gives per-example gradients', async (B) => {
  const X = randn(B, [4, 3], 95);
  const w = randn(B, [3], 96);
  const per = bt.vmap((x: bt.Tensor) => bt.grad((ww: bt.Tensor) => bt.tanh(bt.sum(ww.mul(x))))(w))(X);
  assert.equal([...per.shape], [4, 3]);
  for (let i = 0; i < 4; i++) {
    const xi = X.slice([i], [1]).reshape([3]);
    const want = bt.grad((ww: bt.Tensor) => bt.tanh(bt.sum(ww.mul(xi))))(w);
    await close(B, per.slice([i], [1]).reshape([3]), want, `example ${i}`, [1e-12, 1e-14], AD32);
  }
});

registerAll(backends, 'jvp: the tangent of a broadcasting add/sub with one constant operand has the output shape', async (B) => {
  const x = bt.ones([2, 3], B.dtype);
  for (const op of [bt.add, bt.sub]) {
    const [, t] = bt.jvp((m: bt.Tensor) => op(x, m).transpose(), [bt.zeros([3], B.dtype)], [bt.ones([3], B.dtype)]);
    assert.equal(t.shape, [3, 2]);
    await close(B, t, new Array(6).fill(op === bt.add ? 1 : -1), 'tangent values', EXACT, EXACT);
    const [, t2] = bt.jvp((m: bt.Tensor) => op(m, x), [bt.zeros([3], B.dtype)], [bt.ones([3], B.dtype)]);
    assert.equal(t2.shape, [2, 3]);
    await close(B, t2, new Array(6).fill(1), 'tangent values (first operand)', EXACT, EXACT);
  }
});

test.run();
