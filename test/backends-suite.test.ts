/**
 * The engine's acceptance bodies, written once and run on every backend: CPU (float64) and
 * WebGPU (float32, float32-derived tolerances; see backend-harness.ts). Each body is registered as
 * `name [cpu]` and `name [webgpu]`. Reads are async (`await t.data()`) so the same body runs on a
 * backend without dataSync. Without a WebGPU adapter: a failure under CI=true, otherwise a
 * [note] ... SKIPPED line and CPU bodies only.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../src/index.js';
import {
  backendsUnderTest, type BackendCase, registerAll, read, scalar, T, randnB, ints, assertClose, assertCloseArr,
  numericJacobian, assertJacobianVsFD, checkDirectional,
} from './backend-harness.js';

const FILE = 'backends-suite';
const backends = await backendsUnderTest(FILE);

// ------------------------------------------------------------------ FD gradient checks, op mix

/** x: [3,4] -> tensor; constants are made on the backend under test. */
function opMix(B: BackendCase): Record<string, (x: bt.Tensor) => bt.Tensor> {
  const row = randnB(B, [4], 1);
  const col = randnB(B, [3, 1], 2);
  const W = randnB(B, [4, 5], 3, 0.5);
  const O = randnB(B, [3, 4], 4);
  const idx = ints([2, 0, 2]);
  return {
    'elementwise sin·exp': (x) => bt.sin(x).mul(bt.exp(x.mul(0.5))),
    'elementwise tanh/sigmoid/log': (x) => bt.tanh(x).add(bt.sigmoid(x).mul(bt.log(x.square().add(1)))),
    'elementwise div/sqrt': (x) => bt.div(O, bt.sqrt(x.square().add(1))),
    'broadcast [3,4]·[4] + [3,1]': (x) => x.mul(row).add(col.mul(x)),
    'broadcast to [2,3,4]': (x) => bt.broadcastTo(x.reshape([1, 3, 4]), [2, 3, 4]).mul(bt.stack([O, O.neg()], 0)),
    'sum axis 0': (x) => bt.sum(x.square(), { axis: 0 }),
    'mean keepdims': (x) => bt.mean(bt.sin(x), { axis: 1, keepdims: true }),
    'max axis 1': (x) => bt.max(x, { axis: 1 }),
    'logsumexp axis 1': (x) => bt.logsumexp(x, { axis: 1 }),
    'logsumexp all': (x) => bt.logsumexp(x.mul(2)),
    'softmax / logSoftmax': (x) => bt.softmax(x, { axis: 1 }).add(bt.logSoftmax(x, { axis: 0 })),
    'matmul [3,4]x[4,5]': (x) => bt.matmul(x, W),
    'matmul batched [3,2,2]x[3,2,2]': (x) => bt.matmul(x.reshape([3, 2, 2]), bt.tanh(x).reshape([3, 2, 2]).mT),
    'matmul broadcast batch [2,3,4]x[4,5]': (x) => bt.matmul(bt.stack([x, x.square()], 0), W),
    'take axis 0 / axis 1': (x) => bt.concat([bt.take(x, idx, 0), bt.take(x, idx, 1)], 1),
    'scatterAdd (operand and updates)': (x) => bt.scatterAdd(x, idx, x.mul(x), 0),
    'concat / slice': (x) => bt.concat([bt.slice(x, [0, 1], [2, 2]), bt.slice(x, [1, 0], [2, 2]).exp()], 1),
    'pad / stack / transpose': (x) => bt.pad(bt.stack([x.T, x.T.sin()], 2), [0, 1, 0], [1, 0, 0]),
  };
}

registerAll(backends, 'FD gradient checks (reverse and forward, directional) over an op mix', async (B) => {
  const x = randnB(B, [3, 4], 10, 0.8);
  let seed = 20;
  for (const [name, f] of Object.entries(opMix(B))) await checkDirectional(B, f, x, seed++, name);
});

registerAll(backends, 'the FD check has teeth: a 1% error in a reverse or forward rule is rejected', async (B) => {
  const g = (x: bt.Tensor) => bt.sin(x).mul(bt.exp(x.mul(0.5)));
  const wrongVjp = bt.customVjp(g, (x: bt.Tensor) => [g(x), x] as [bt.Tensor, unknown], (x: bt.Tensor, ct: bt.Tensor) => [
    bt.grad((z: bt.Tensor) => bt.sum(g(z).mul(ct)))(x).mul(1.01),
  ]);
  const wrongJvp = bt.customJvp(g, ([x]: [bt.Tensor], [t]: [bt.Tensor]) => [g(x), (bt.jvp(g, [x], [t])[1] as bt.Tensor).mul(1.01)] as [bt.Tensor, bt.Tensor]);
  const x = randnB(B, [3, 4], 90, 0.8);
  await checkDirectional(B, g, x, 91, 'correct rule'); // the same direction passes with the true rules
  let rejected = false;
  try {
    await checkDirectional(B, wrongVjp, x, 91, 'wrong vjp');
  } catch (e) {
    rejected = /wrong vjp reverse/.test((e as Error).message);
  }
  assert.ok(rejected, 'a 1% wrong reverse rule must fail the reverse check');
  rejected = false;
  try {
    await checkDirectional(B, wrongJvp, x, 91, 'wrong jvp');
  } catch (e) {
    rejected = /wrong jvp (reverse|forward)/.test((e as Error).message);
  }
  assert.ok(rejected, 'a 1% wrong forward rule must fail the check');
});

// ------------------------------------------------------------------ Jacobians

registerAll(backends, 'jacfwd == jacrev == host FD on a non-square [2,3] -> [4,2,2] function, chunk 1, 3, undefined', async (B) => {
  const W = randnB(B, [3, 4], 11);
  const C = randnB(B, [4, 2, 2], 12);
  const f = (x: bt.Tensor): bt.Tensor => {
    const a = bt.tanh(bt.matmul(x, W)); // [2,4]
    const b = bt.slice(a, [0, 1], [2, 2]); // [2,2]
    const c = bt.sum(a, { axis: 0 }); // [4]
    const e = bt.exp(bt.slice(x, [0, 1], [2, 2])); // [2,2]
    return bt.add(bt.mul(bt.expandDims(b, 0), bt.reshape(c, [4, 1, 1])), bt.mul(e, C)); // [4,2,2]
  };
  const x0 = randnB(B, [2, 3], 13, 0.7);
  const fd = await numericJacobian(B, f, x0);
  assert.equal(fd.shape, [4, 2, 2, 2, 3]);
  for (const chunkSize of [1, 3, undefined]) {
    const opts = chunkSize === undefined ? undefined : { chunkSize };
    const jf = bt.jacfwd(f, opts)(x0);
    const jr = bt.jacrev(f, opts)(x0);
    assert.equal([...jf.shape], [4, 2, 2, 2, 3], `jacfwd shape (chunk ${chunkSize})`);
    assert.equal([...jr.shape], [4, 2, 2, 2, 3], `jacrev shape (chunk ${chunkSize})`);
    await assertClose(jf, jr, B.adRtol, B.adRtol, `jacfwd vs jacrev (chunk ${chunkSize})`);
    await assertJacobianVsFD(B, jr, fd, `jacrev vs FD (chunk ${chunkSize})`);
    await assertJacobianVsFD(B, jf, fd, `jacfwd vs FD (chunk ${chunkSize})`);
  }
});

// ------------------------------------------------------------------ Hessian / hvp

/** A non-quadratic scalar function of a vector (exp, sin, cube of a sum, logsumexp). */
function hfun(x: bt.Tensor): bt.Tensor {
  const s = bt.sum(x);
  return bt.sum(bt.exp(x.mul(0.5)).mul(bt.sin(x))).add(s.mul(s).mul(s).div(6)).add(bt.logsumexp(x.mul(x)));
}

registerAll(backends, 'hessian is symmetric, matches host FD of grad, and hvp == hessian·v', async (B) => {
  const n = 6;
  const x = randnB(B, [n], 51, 0.5);
  const H = bt.hessian(hfun)(x);
  assert.equal([...H.shape], [n, n]);
  const Hv = await read(H);
  const HT = await read(H.T);
  const maxH = Math.max(...Hv.map(Math.abs));
  assertCloseArr(Hv, HT, B.adRtol, B.adRtol * maxH, 'symmetry');
  await assertJacobianVsFD(B, H, await numericJacobian(B, bt.grad(hfun), x), 'hessian vs FD of grad');
  for (const chunkSize of [1, 4]) await assertClose(bt.hessian(hfun, { chunkSize })(x), H, B.adRtol, B.adRtol * maxH, `hessian chunk ${chunkSize}`);
  for (const seed of [62, 63, 64]) {
    const v = randnB(B, [n], seed);
    const vv = await read(v);
    const hv = bt.hvp(hfun, x, v);
    assert.equal([...hv.shape], [n]);
    // H·v on the host in float64 from the backend's H
    const want = Array.from({ length: n }, (_, i) => vv.reduce((s, vj, j) => s + Hv[i * n + j]! * vj, 0));
    const absRow = Array.from({ length: n }, (_, i) => vv.reduce((s, vj, j) => s + Math.abs(Hv[i * n + j]! * vj), 0));
    assertCloseArr(await read(hv), want, B.adRtol, 0, `hvp seed ${seed}`, absRow.map((a) => B.adRtol * a));
  }
});

// ------------------------------------------------------------------ higher order, perturbation confusion

registerAll(backends, 'grad∘grad∘grad of sin(x)·exp(x) match closed forms', async (B) => {
  const f = (x: bt.Tensor) => bt.sin(x).mul(bt.exp(x));
  const d1 = bt.grad(f);
  const d2 = bt.grad(d1);
  const d3 = bt.grad(d2);
  for (const x of [-1.3, 0, 0.4, 2.1]) {
    const xt = T(B, [x], []);
    const xr = (await read(xt))[0]!;
    const e = Math.exp(xr);
    const tol = B.adRtol * e * 4; // terms are of size e^x; allow rounding relative to them
    await assertClose(await scalar(d1(xt)), e * (Math.sin(xr) + Math.cos(xr)), 0, tol, `f' at ${x}`);
    await assertClose(await scalar(d2(xt)), 2 * e * Math.cos(xr), 0, tol, `f'' at ${x}`);
    await assertClose(await scalar(d3(xt)), 2 * e * (Math.cos(xr) - Math.sin(xr)), 0, tol, `f''' at ${x}`);
  }
});

registerAll(backends, 'perturbation confusion: d/dx [x · d/dy (x + y)] = 1 and nonlinear variants (rev/rev, fwd/fwd, mixed)', async (B) => {
  const s = (v: number) => T(B, [v], []);
  for (const x0 of [-2, 0, 0.5, 3]) {
    const outer = (x: bt.Tensor) => x.mul(bt.grad((y: bt.Tensor) => x.add(y))(s(1)));
    await assertClose(await scalar(bt.grad(outer)(s(x0))), 1, 0, B.adRtol, `rev/rev x=${x0}`);
    const outer2 = (x: bt.Tensor) => x.mul(bt.grad((y: bt.Tensor) => x.add(y))(x));
    await assertClose(await scalar(bt.grad(outer2)(s(x0))), 1, 0, B.adRtol, `rev/rev (y at x) x=${x0}`);
    const inner = (x: bt.Tensor) => bt.jvp((y: bt.Tensor) => x.add(y), [s(1)], [s(1)])[1] as bt.Tensor;
    const outerF = (x: bt.Tensor) => x.mul(inner(x));
    await assertClose(await scalar(bt.jvp(outerF, [s(x0)], [s(1)])[1] as bt.Tensor), 1, 0, B.adRtol, `fwd/fwd x=${x0}`);
    await assertClose(await scalar(bt.grad(outerF)(s(x0))), 1, 0, B.adRtol, `rev/fwd x=${x0}`);
    await assertClose(await scalar(bt.jvp(outer, [s(x0)], [s(1)])[1] as bt.Tensor), 1, 0, B.adRtol, `fwd/rev x=${x0}`);
    const nl = (x: bt.Tensor) => x.mul(bt.jvp((y: bt.Tensor) => x.mul(y), [s(2)], [s(1)])[1] as bt.Tensor);
    await assertClose(await scalar(bt.jvp(nl, [s(x0)], [s(1)])[1] as bt.Tensor), 2 * x0, B.adRtol, B.adRtol, `nonlinear fwd/fwd x=${x0}`);
    await assertClose(await scalar(bt.grad(nl)(s(x0))), 2 * x0, B.adRtol, B.adRtol, `nonlinear rev/fwd x=${x0}`);
  }
});

// ------------------------------------------------------------------ linalg gradients

const la = bt.linalg;
const LA_SIZES = [2, 5, 16];

/** A = B Bᵀ/n + I: SPD for every B, so FD perturbations of B stay valid. */
function spdOf(b: bt.Tensor): bt.Tensor {
  const n = b.shape[b.ndim - 1]!;
  return bt.matmul(b, b.mT).div(n).add(bt.eye(n, n, b.dtype));
}
function triOf(b: bt.Tensor, lower: boolean): bt.Tensor {
  const n = b.shape[b.ndim - 1]!;
  return (lower ? bt.tril(b) : bt.triu(b)).div(Math.sqrt(n)).add(bt.eye(n, n, b.dtype).mul(2));
}
function genOf(b: bt.Tensor): bt.Tensor {
  const n = b.shape[b.ndim - 1]!;
  return b.div(Math.sqrt(n)).add(bt.eye(n, n, b.dtype).mul(3));
}

registerAll(backends, 'linalg: cholesky gradients on random SPD matrices, n = 2, 5, 16', async (B) => {
  for (const n of LA_SIZES) {
    const b = randnB(B, [n, n], 100 + n);
    const l = la.cholesky(spdOf(b));
    const a = await read(spdOf(b));
    const ll = await read(bt.matmul(l, l.mT));
    assertCloseArr(ll, a, 0, ULPS_RECON(B, n), `L Lᵀ = A n=${n}`);
    await checkDirectional(B, (bb) => la.cholesky(spdOf(bb)), b, 110 + n, `cholesky n=${n}`);
  }
});

registerAll(backends, 'linalg: triangularSolve gradients w.r.t. A and B (lower/upper, transposeA), n = 2, 5, 16', async (B) => {
  const cases = [
    { lower: true, transposeA: false },
    { lower: false, transposeA: false },
    { lower: true, transposeA: true },
  ];
  for (const n of LA_SIZES) {
    for (const [k, o] of cases.entries()) {
      const m = 2;
      const z = randnB(B, [n, n + m], 500 + 10 * n + k);
      const f = (zz: bt.Tensor) => la.triangularSolve(triOf(zz.slice([0, 0], [n, n]), o.lower), zz.slice([0, n], [n, m]), o);
      await checkDirectional(B, f, z, 600 + n + k, `triangularSolve n=${n} ${JSON.stringify(o)}`);
    }
  }
});

registerAll(backends, 'linalg: slogdet gradients (SPD and general matrices), n = 2, 5, 16', async (B) => {
  for (const n of LA_SIZES) {
    const spd = spdOf(randnB(B, [n, n], 820 + n));
    const [ss, ls] = la.slogdet(spd);
    await assertClose(await scalar(ss), 1, 0, 0, `SPD sign n=${n}`);
    await assertClose(await scalar(ls), await scalar(la.logdetCholesky(la.cholesky(spd))), 0, ULPS_RECON(B, n), `SPD logdet vs cholesky n=${n}`);
    await checkDirectional(B, (bb) => la.slogdet(spdOf(bb))[1], randnB(B, [n, n], 850 + n), 860 + n, `slogdet SPD n=${n}`);
    await checkDirectional(B, (bb) => la.slogdet(genOf(bb))[1], randnB(B, [n, n], 830 + n), 840 + n, `slogdet general n=${n}`);
  }
});

registerAll(backends, 'linalg: solve gradients w.r.t. A and b (SPD and general A), n = 2, 5, 16', async (B) => {
  for (const n of LA_SIZES) {
    const z = randnB(B, [n, n + 2], 720 + n);
    await checkDirectional(B, (zz) => la.solve(spdOf(zz.slice([0, 0], [n, n])), zz.slice([0, n], [n, 2])), z, 730 + n, `solve SPD n=${n}`);
    await checkDirectional(B, (zz) => la.solve(genOf(zz.slice([0, 0], [n, n])), zz.slice([0, n], [n, 2])), z, 760 + n, `solve general n=${n}`);
    const a = spdOf(randnB(B, [n, n], 770 + n));
    const rhs = randnB(B, [n, 2], 780 + n);
    const x = la.solve(a, rhs);
    assertCloseArr(await read(bt.matmul(a, x)), await read(rhs), 0, ULPS_RECON(B, n), `A·solve(A, b) = b n=${n}`);
  }
});

/** Absolute tolerance for an O(1)-scaled n×n reconstruction: n·ULPS·eps (rounding grows ~n). */
function ULPS_RECON(B: BackendCase, n: number): number {
  return Math.max(1e-12, n * 64 * B.eps);
}

// ------------------------------------------------------------------ custom rules

registerAll(backends, 'customVjp: grad and jacrev use bwd (clipped-gradient identity); jvp uses f', async (B) => {
  let calls = 0;
  const clipGrad = bt.customVjp(
    (x: bt.Tensor) => x,
    (x: bt.Tensor) => [x, null] as [bt.Tensor, unknown],
    (_res: unknown, ct: bt.Tensor) => {
      calls++;
      return [bt.clip(ct, -1, 1)];
    },
  );
  const C = T(B, [3, -0.5, 0.2, -2], [4]);
  const x = randnB(B, [4], 1);
  await assertClose(bt.sum(clipGrad(x).mul(C)), bt.sum(x.mul(C)), B.adRtol, 0, 'primal is f');
  assert.is(calls, 0, 'no bwd outside reverse mode');
  await assertClose(bt.grad((z: bt.Tensor) => bt.sum(clipGrad(z).mul(C)))(x), T(B, [1, -0.5, 0.2, -1], [4]), 0, 0, 'clipped gradient');
  assert.ok(calls >= 1, 'bwd called under grad');
  const want = await read(bt.diag(T(B, [1, -0.5, 0.2, -1], [4])));
  for (const chunkSize of [1, 3, undefined]) {
    await assertClose(bt.jacrev((z: bt.Tensor) => clipGrad(z).mul(C), { chunkSize })(x), want, 0, 0, `jacrev chunk ${chunkSize}`);
  }
  calls = 0;
  const t = randnB(B, [4], 4);
  await assertClose(bt.jvp((z: bt.Tensor) => clipGrad(z).mul(C), [x], [t])[1] as bt.Tensor, t.mul(C), 0, 0, 'jvp: unclipped tangent');
  assert.is(calls, 0, 'bwd not used by forward mode');
});

registerAll(backends, 'customJvp: jvp / jacfwd use the rule, grad / jacrev its transpose; FD agrees for a correct rule', async (B) => {
  let calls = 0;
  const softplusC = bt.customJvp(
    (x: bt.Tensor) => bt.log1p(bt.exp(x)),
    ([x]: [bt.Tensor], [t]: [bt.Tensor]) => {
      calls++;
      return [bt.log1p(bt.exp(x)), t.mul(bt.sigmoid(x))] as [bt.Tensor, bt.Tensor];
    },
  );
  /** A rule that deliberately differs from f's derivative (2×), to see which one a transform used. */
  const marked = bt.customJvp(
    (x: bt.Tensor) => bt.sin(x),
    ([x]: [bt.Tensor], [t]: [bt.Tensor]) => [bt.sin(x), t.mul(bt.cos(x)).mul(2)] as [bt.Tensor, bt.Tensor],
  );
  const x = randnB(B, [4], 30);
  const t = randnB(B, [4], 31);
  const [y, ty] = bt.jvp(softplusC, [x], [t]);
  assert.ok(calls >= 1, 'rule called under jvp');
  await assertClose(y, bt.softplus(x), B.adRtol, B.adRtol, 'primal');
  await assertClose(ty, t.mul(bt.sigmoid(x)), B.adRtol, B.adRtol, 'tangent');
  await assertClose(bt.jvp(marked, [x], [t])[1] as bt.Tensor, t.mul(bt.cos(x)).mul(2), B.adRtol, B.adRtol, 'marked rule under jvp');
  const twoCos = bt.diag(bt.cos(x).mul(2));
  await assertClose(bt.jacfwd(marked)(x), twoCos, B.adRtol, B.adRtol, 'marked rule under jacfwd');
  await assertClose(bt.jacrev(marked)(x), twoCos, B.adRtol, B.adRtol, 'marked rule transposed under jacrev');
  await assertClose(bt.grad((z: bt.Tensor) => bt.sum(marked(z)))(x), bt.cos(x).mul(2), B.adRtol, B.adRtol, 'marked rule under grad');
  await checkDirectional(B, (z) => softplusC(z.mul(z)).mul(z), randnB(B, [3, 2], 33), 34, 'customJvp softplus (correct rule) vs FD');
});

// ------------------------------------------------------------------ vmap

registerAll(backends, 'vmap: equals a loop over the batch; vmap(grad) per-example gradients; inAxes null / 1', async (B) => {
  const W = randnB(B, [4, 3], 40);
  const f = (x: bt.Tensor) => bt.logsumexp(bt.tanh(bt.matmul(x, W)).mul(x.slice([0], [3]))); // [4] -> []
  const X = randnB(B, [5, 4], 41);
  const per = bt.vmap(f)(X);
  const pg = bt.vmap(bt.grad(f))(X);
  assert.equal([...per.shape], [5]);
  assert.equal([...pg.shape], [5, 4]);
  const loopV: number[] = [];
  const loopG: number[] = [];
  for (let i = 0; i < 5; i++) {
    const xi = X.slice([i, 0], [1, 4]).reshape([4]);
    loopV.push(await scalar(f(xi)));
    loopG.push(...(await read(bt.grad(f)(xi))));
  }
  await assertClose(per, loopV, B.adRtol, B.adRtol, 'vmap(f) vs loop');
  await assertClose(pg, loopG, B.adRtol, B.adRtol, 'vmap(grad f) vs loop');
  // inAxes: a mapped argument along axis 1 and an unmapped one
  const g = (a: bt.Tensor, w: bt.Tensor) => bt.matmul(w, a); // w [3,4], a [4] -> [3]
  const A = randnB(B, [4, 6], 42);
  const Wm = randnB(B, [3, 4], 43);
  const out = bt.vmap(g, { inAxes: [1, null] })(A, Wm);
  assert.equal([...out.shape], [6, 3]);
  await assertClose(out, bt.matmul(Wm, A).T, B.adRtol, B.adRtol, 'vmap inAxes [1, null]');
  // and a directional FD check of the whole batched function
  await checkDirectional(B, (xx) => bt.vmap(f)(xx), X, 44, 'vmap(f) vs FD');
});

test.run();
