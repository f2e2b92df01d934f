/**
 * Jacobians (jacfwd / jacrev, chunked), Hessians and Hessian-vector products.
 *
 * Every body runs on each backend (see ../backend-harness.ts): `name [cpu]` in float64 with the
 * tolerances and float64 finite differences of ../helpers.ts exactly as before, and
 * `name [webgpu]` in float32 with the harness's derived tolerances: AD vs AD (two exact formulas,
 * only rounding differs) within B.adRtol relative to the entries' scale, AD vs finite differences
 * taken on the host in float64 from backend evaluations (numericJacobian / assertJacobianVsFD).
 */
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import * as bt from '../../src/index.js';
import {
  adClose, backendsUnderTest, registerAll, assertCloseArr, assertJacobianVsFD, numericJacobian, randnB, read, scalar, T, toDtype, ULPS, type BackendCase,
} from '../backend-harness.js';
import { assertClose as assertCloseF64, numericGrad as numericGradF64, numericJacobian as numericJacobianF64 } from '../helpers.js';

const backends = await backendsUnderTest('jacobian');

const maxAbs = (v: number[]) => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);


type FD = bt.Tensor | Awaited<ReturnType<typeof numericJacobian>>;

/**
 * Central-difference Jacobian of f at x: `helpers.numericJacobian` (float64, h 1e-6) on CPU as
 * before, the harness's host FD of backend evaluations on WebGPU. `fdScale` shrinks the WebGPU
 * step to B.fdStep·fdScale where the default step is shown to be too coarse (h² truncation or a
 * kink within h, reproduced by float64 at the same step); the harness derives the FD rounding
 * noise from the step actually used. The CPU step is unchanged.
 */
async function numeric(B: BackendCase, f: (x: bt.Tensor) => bt.Tensor, x: bt.Tensor, fdScale = 1): Promise<FD> {
  return B.name === 'cpu' ? numericJacobianF64(f, x) : await numericJacobian({ ...B, fdStep: B.fdStep * fdScale }, f, x);
}

/** AD Jacobian vs FD: on CPU `helpers.assertClose(jac, num, cpuRtol, cpuAtol)` as before; on WebGPU the harness's derived tolerance. */
async function fdCheck(B: BackendCase, jac: bt.Tensor, fd: FD, cpuRtol: number, cpuAtol: number, what: string): Promise<void> {
  if (fd instanceof bt.Tensor) assertCloseF64(jac, fd, cpuRtol, cpuAtol, what);
  else await assertJacobianVsFD(B, jac, fd, what);
}

async function fdClose(B: BackendCase, jac: bt.Tensor, f: (x: bt.Tensor) => bt.Tensor, x: bt.Tensor, cpuRtol: number, cpuAtol: number, what: string, fdScale = 1): Promise<void> {
  await fdCheck(B, jac, await numeric(B, f, x, fdScale), cpuRtol, cpuAtol, what);
}

/** The fixtures of the first tests, made on the backend under test. */
function fixtures(B: BackendCase) {
  const W = randnB(B, [3, 4], 11);
  const C = randnB(B, [4, 2, 2], 12);
  /** f: [2,3] -> [4,2,2] from matmul, tanh, an axis sum, slicing and broadcasting (non-square). */
  const f = (x: bt.Tensor): bt.Tensor => {
    const a = bt.tanh(bt.matmul(x, W)); // [2,4]
    const b = bt.slice(a, [0, 1], [2, 2]); // [2,2]
    const c = bt.sum(a, { axis: 0 }); // [4]
    const e = bt.exp(bt.slice(x, [0, 1], [2, 2])); // [2,2]
    return bt.add(bt.mul(bt.expandDims(b, 0), bt.reshape(c, [4, 1, 1])), bt.mul(e, C)); // [4,2,2]
  };
  return { W, f, x0: randnB(B, [2, 3], 13, 0.7) };
}

registerAll(backends, 'jacfwd == jacrev == numericJacobian on a non-square [2,3] -> [4,2,2] function, for chunk sizes 1, 3, undefined', async (B) => {
  const { f, x0 } = fixtures(B);
  const num = await numeric(B, f, x0);
  assert.equal(num instanceof bt.Tensor ? [...num.shape] : num.shape, [4, 2, 2, 2, 3]);
  for (const chunkSize of [1, 3, undefined]) {
    const opts = chunkSize === undefined ? undefined : { chunkSize };
    const jf = bt.jacfwd(f, opts)(x0);
    const jr = bt.jacrev(f, opts)(x0);
    assert.equal([...jf.shape], [4, 2, 2, 2, 3], `jacfwd shape (chunk ${chunkSize})`);
    assert.equal([...jr.shape], [4, 2, 2, 2, 3], `jacrev shape (chunk ${chunkSize})`);
    await adClose(B, jf, jr, 1e-10, 1e-13, `jacfwd vs jacrev (chunk ${chunkSize})`);
    await fdCheck(B, jr, num, 1e-6, 1e-9, `jacrev vs numeric (chunk ${chunkSize})`);
    await fdCheck(B, jf, num, 1e-6, 1e-9, `jacfwd vs numeric (chunk ${chunkSize})`);
  }
});

registerAll(backends, 'jacobian of a function with more inputs than outputs: [3,4] -> [2] (wide), chunk 1/3/all', async (B) => {
  const g = (x: bt.Tensor) => bt.sum(bt.sin(x).mul(bt.reshape(bt.arange(12).astype(B.dtype), [3, 4])), { axis: 1 }).slice([0], [2]).mul(bt.sum(x.square()));
  const x = randnB(B, [3, 4], 21);
  const num = await numeric(B, g, x);
  for (const chunkSize of [1, 3, undefined]) {
    const opts = chunkSize === undefined ? undefined : { chunkSize };
    const jf = bt.jacfwd(g, opts)(x);
    const jr = bt.jacrev(g, opts)(x);
    assert.equal([...jr.shape], [2, 3, 4]);
    await adClose(B, jf, jr, 1e-10, 1e-13, `wide jacfwd vs jacrev (chunk ${chunkSize})`);
    await fdCheck(B, jr, num, 1e-6, 1e-9, `wide jacrev vs numeric (chunk ${chunkSize})`);
  }
});

registerAll(backends, 'scalar input -> vector output: jacobian shape is out.shape', async (B) => {
  const coef = bt.tensor([1, 2, 3]);
  const g = (t: bt.Tensor) => bt.sin(bt.mul(coef, t)); // [] -> [3]
  const t = bt.tensor(0.4);
  const t0 = toDtype(B, 0.4); // t as the backend holds it
  const want = [1, 2, 3].map((c) => c * Math.cos(c * t0));
  for (const chunkSize of [1, 3, undefined]) {
    const opts = chunkSize === undefined ? undefined : { chunkSize };
    const jf = bt.jacfwd(g, opts)(t);
    const jr = bt.jacrev(g, opts)(t);
    assert.equal([...jf.shape], [3]);
    assert.equal([...jr.shape], [3]);
    await adClose(B, jf, want, 1e-12, 1e-14, 'jacfwd scalar input');
    await adClose(B, jr, want, 1e-12, 1e-14, 'jacrev scalar input');
  }
});

registerAll(backends, 'vector input -> scalar output: jacobian equals grad, shape in.shape', async (B) => {
  const g = (x: bt.Tensor) => bt.sum(bt.tanh(x).square());
  const x = randnB(B, [2, 3], 31);
  const gr = bt.grad(g)(x);
  for (const chunkSize of [1, 3, undefined]) {
    const opts = chunkSize === undefined ? undefined : { chunkSize };
    const jf = bt.jacfwd(g, opts)(x);
    const jr = bt.jacrev(g, opts)(x);
    assert.equal([...jf.shape], [2, 3]);
    assert.equal([...jr.shape], [2, 3]);
    await adClose(B, jf, gr, 1e-12, 1e-14, 'jacfwd scalar out');
    await adClose(B, jr, gr, 1e-12, 1e-14, 'jacrev scalar out');
  }
});

registerAll(backends, 'scalar -> scalar: jacobian is a scalar derivative', async (B) => {
  const g = (t: bt.Tensor) => bt.exp(t).mul(bt.sin(t));
  const t = bt.tensor(0.3);
  const t0 = toDtype(B, 0.3); // t as the backend holds it
  const want = Math.exp(t0) * (Math.sin(t0) + Math.cos(t0));
  const jf = bt.jacfwd(g)(t);
  const jr = bt.jacrev(g)(t);
  assert.equal([...jf.shape], []);
  assert.equal([...jr.shape], []);
  await adClose(B, await scalar(jf), want, 1e-12, 1e-12, 'jacfwd scalar -> scalar');
  await adClose(B, await scalar(jr), want, 1e-12, 1e-12, 'jacrev scalar -> scalar');
});

registerAll(backends, 'argnums picks the differentiated argument; other arguments are constants', async (B) => {
  const g = (a: bt.Tensor, x: bt.Tensor) => bt.tanh(bt.matmul(a, x)); // a [4,3], x [3,2] -> [4,2]
  const a = randnB(B, [4, 3], 41);
  const x = randnB(B, [3, 2], 42);
  const numX = await numeric(B, (xx) => g(a, xx), x);
  const numA = await numeric(B, (aa) => g(aa, x), a);
  for (const chunkSize of [1, 3, undefined]) {
    const jrx = bt.jacrev(g, { argnums: 1, chunkSize })(a, x);
    const jfx = bt.jacfwd(g, { argnums: 1, chunkSize })(a, x);
    assert.equal([...jrx.shape], [4, 2, 3, 2]);
    await adClose(B, jrx, jfx, 1e-10, 1e-13, 'argnums 1 fwd vs rev');
    await fdCheck(B, jrx, numX, 1e-6, 1e-9, 'argnums 1 vs numeric');
    const jra = bt.jacrev(g, { argnums: 0, chunkSize })(a, x);
    const jfa = bt.jacfwd(g, { chunkSize })(a, x);
    assert.equal([...jra.shape], [4, 2, 4, 3]);
    await adClose(B, jra, jfa, 1e-10, 1e-13, 'argnums 0 fwd vs rev');
    await fdCheck(B, jra, numA, 1e-6, 1e-9, 'argnums 0 vs numeric');
  }
});

registerAll(backends, 'bad jacobian options are ConfigErrors', (B) => {
  const { f } = fixtures(B);
  assert.throws(() => bt.jacrev(f, { chunkSize: 0 }), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => bt.jacfwd(f, { chunk: 2 } as never), (e: unknown) => e instanceof bt.ConfigError);
});

/** A non-quadratic scalar function of a vector. */
function h(x: bt.Tensor): bt.Tensor {
  const s = bt.sum(x);
  return bt.sum(bt.exp(x.mul(0.5)).mul(bt.sin(x))).add(s.mul(s).mul(s).div(6)).add(bt.logsumexp(x.mul(x)));
}

registerAll(backends, 'hessian is symmetric and matches the numeric Jacobian of the analytic gradient', async (B) => {
  const x = randnB(B, [6], 51, 0.5);
  const H = bt.hessian(h)(x);
  assert.equal([...H.shape], [6, 6]);
  await adClose(B, H, H.T, 1e-12, 1e-13, 'symmetry');
  await fdClose(B, H, bt.grad(h), x, 1e-6, 1e-9, 'hessian vs numeric');
  for (const chunkSize of [1, 4]) await adClose(B, bt.hessian(h, { chunkSize })(x), H, 1e-12, 1e-13, `hessian chunk ${chunkSize}`);
});

registerAll(backends, 'hessian of a matrix argument has shape in.shape ++ in.shape', async (B) => {
  const { W } = fixtures(B);
  const g = (x: bt.Tensor) => bt.sum(bt.tanh(bt.matmul(x, W)).square());
  const x = randnB(B, [2, 3], 52);
  const H = bt.hessian(g)(x);
  assert.equal([...H.shape], [2, 3, 2, 3]);
  // tanh(x·W)² curves enough that at the default WebGPU step the FD's h² truncation is 0.5% on
  // entry 33 (float64 at that step: the same), so WebGPU takes a 3× smaller step (0.05%).
  await fdClose(B, H, bt.grad(g), x, 1e-6, 1e-9, 'matrix hessian vs numeric', 1 / 3);
  await adClose(B, bt.reshape(H, [6, 6]), bt.reshape(H, [6, 6]).T, 1e-12, 1e-13, 'matrix hessian symmetry');
});

registerAll(backends, 'hvp(f, x, v) == hessian(f)(x) · v', async (B) => {
  const x = randnB(B, [6], 61, 0.5);
  const H = bt.hessian(h)(x);
  const Hv = await read(H);
  for (const seed of [62, 63, 64]) {
    const v = randnB(B, [6], seed);
    const hv = bt.hvp(h, x, v);
    assert.equal([...hv.shape], [6]);
    if (B.name === 'cpu') {
      assertCloseF64(hv, bt.matmul(H, v.reshape([6, 1])).reshape([6]), 1e-10, 1e-12, `hvp seed ${seed}`);
    } else {
      // H·v on the host in float64 from the backend's H; rounding relative to Σ|H_ij v_j| per row
      const vv = await read(v);
      const want = Array.from({ length: 6 }, (_, i) => vv.reduce((s, vj, j) => s + Hv[i * 6 + j]! * vj, 0));
      const absRow = Array.from({ length: 6 }, (_, i) => vv.reduce((s, vj, j) => s + Math.abs(Hv[i * 6 + j]! * vj), 0));
      assertCloseArr(await read(hv), want, B.adRtol, 0, `hvp seed ${seed}`, absRow.map((a) => B.adRtol * a));
    }
  }
});

registerAll(backends, 'hvp on n = 2000 (a 4e6-entry Hessian is never built) matches a directional difference of grad', async (B) => {
  const n = 2000;
  const g = (x: bt.Tensor) => {
    const s = bt.sum(x.mul(x)).div(n);
    return bt.sum(bt.log1p(bt.exp(x.mul(x).neg())).add(bt.sin(x).mul(x))).add(s.mul(s).mul(s));
  };
  const x = randnB(B, [n], 71);
  const v = randnB(B, [n], 72);
  if (B.name === 'cpu') {
    const hv = bt.hvp(g, x, v);
    assert.equal([...hv.shape], [n]);
    const eps = 1e-5;
    const gp = bt.grad(g)(x.add(v.mul(eps)));
    const gm = bt.grad(g)(x.sub(v.mul(eps)));
    const fd = gp.sub(gm).div(2 * eps);
    const maxFd = bt.max(bt.abs(fd)).item();
    // relative to each entry, with an absolute floor well under the entries' scale
    assertCloseF64(hv, fd, 1e-6, 1e-8 * maxFd, 'hvp vs FD of grad');
    // and one projected number vs a second-order difference of f itself
    const vhv = bt.sum(hv.mul(v)).item();
    const e2 = 1e-4;
    const f0 = g(x).item();
    const fp = g(x.add(v.mul(e2))).item();
    const fm = g(x.sub(v.mul(e2))).item();
    const fd2 = (fp - 2 * f0 + fm) / (e2 * e2);
    assert.ok(Math.abs(vhv - fd2) <= 1e-4 * Math.abs(fd2), `vᵀHv ${vhv} vs second difference ${fd2}`);
    return;
  }
  // float32: the central difference of grad along v is taken on the host, as the harness does:
  // inputs x ± h·v rounded to float32, hvp contracted with the step actually taken, FD rounding
  // noise ULPS·eps·(|g₊|+|g₋|)/(2h) per entry. v's entries reach 3.5, so at the harness's step an
  // entry moves by 0.12 and the h² truncation reaches 14% (float64 at that step: the same); a 10×
  // smaller step brings it under 0.1%. (The second difference of f itself stays CPU-only: it
  // cancels all but ~2 float32 digits of a 2000-term sum, ~1% at the best step, no teeth.)
  const xs = await read(x);
  const vs = await read(v);
  const hStep = (B.fdStep / 10) * Math.max(1, maxAbs(xs));
  const xp = xs.map((xi, i) => toDtype(B, xi + hStep * vs[i]!));
  const xm = xs.map((xi, i) => toDtype(B, xi - hStep * vs[i]!));
  const dir = xp.map((p, i) => (p - xm[i]!) / (2 * hStep));
  const hv = bt.hvp(g, x, T(B, dir, [n]));
  assert.equal([...hv.shape], [n]);
  const gp = await read(bt.grad(g)(T(B, xp, [n])));
  const gm = await read(bt.grad(g)(T(B, xm, [n])));
  const fd = gp.map((p, i) => (p - gm[i]!) / (2 * hStep));
  const noise = gp.map((p, i) => (ULPS * B.eps * (Math.abs(p) + Math.abs(gm[i]!))) / (2 * hStep));
  assertCloseArr(await read(hv), fd, B.rtol, B.atol * Math.max(1, maxAbs(fd)), 'hvp vs FD of grad', noise);
});

registerAll(backends, 'hvp agrees with grad-of-directional-derivative (reverse-over-forward)', async (B) => {
  const x = randnB(B, [5], 81, 0.5);
  const v = randnB(B, [5], 82);
  const rof = bt.grad((xx: bt.Tensor) => bt.jvp(h, [xx], [v])[1] as bt.Tensor)(x);
  await adClose(B, bt.hvp(h, x, v), rof, 1e-10, 1e-12, 'hvp fwd-over-rev vs rev-over-fwd');
});

registerAll(backends, 'gradient check of the hvp value itself against numericGrad of ⟨grad f, v⟩', async (B) => {
  const x = randnB(B, [4], 91, 0.5);
  const v = randnB(B, [4], 92);
  const s = (xx: bt.Tensor) => bt.sum(bt.grad(h)(xx).mul(v));
  if (B.name === 'cpu') assertCloseF64(bt.hvp(h, x, v), numericGradF64(s, x), 1e-6, 1e-9, 'hvp vs numeric');
  else await assertJacobianVsFD(B, bt.hvp(h, x, v), await numericJacobian(B, s, x), 'hvp vs numeric');
});

/**
 * Every op's jvp rule under vmap (jacfwd), its vjp rule under vmap (jacrev), and both nested
 * (hessian = jacfwd∘jacrev), against central differences. A batching rule that mishandles an
 * unbatched operand (e.g. the indices of take's transpose, scatterAdd) fails here.
 */
function sweep(B: BackendCase) {
  const X = randnB(B, [3, 4], 101, 0.8);
  const O = randnB(B, [3, 4], 102);
  const IDX = bt.tensor([2, 0, 2], { dtype: 'int32' });
  const OPS: Record<string, (z: bt.Tensor) => bt.Tensor> = {
    exp: bt.exp, log: (z) => bt.log(z.square().add(0.5)), sin: bt.sin, tanh: bt.tanh, sigmoid: bt.sigmoid, softplus: bt.softplus, logSigmoid: bt.logSigmoid,
    erf: bt.erf, erfinv: (z) => bt.erfinv(bt.tanh(z).mul(0.9)), sqrt: (z) => bt.sqrt(z.square().add(1)), rsqrt: (z) => bt.rsqrt(z.square().add(1)), log1p: (z) => bt.log1p(z.square()), expm1: bt.expm1,
    reciprocal: (z) => bt.reciprocal(z.square().add(1)), abs: bt.abs, pow: (z) => bt.pow(z.square().add(1), O), div: (z) => bt.div(O, z.square().add(1)),
    maximum: (z) => bt.maximum(z, O), minimum: (z) => bt.minimum(z, O), atan2: (z) => bt.atan2(z, O), where: (z) => bt.where(bt.greater(O, 0), z.square(), z.mul(3)), clip: (z) => bt.clip(z, -0.5, 0.5),
    sumAxis: (z) => bt.sum(z, { axis: 0 }), sumKeep: (z) => bt.sum(z, { axis: 1, keepdims: true }), mean: (z) => bt.mean(z, { axis: [0, 1] }), max: (z) => bt.max(z, { axis: 1 }), min: (z) => bt.min(z, { axis: 0 }),
    variance: (z) => bt.variance(z, { axis: 1 }), logsumexp: (z) => bt.logsumexp(z, { axis: 0 }), softmax: (z) => bt.softmax(z, { axis: 1 }), logSoftmax: (z) => bt.logSoftmax(z),
    cumsum: (z) => bt.cumsum(z, { axis: 1 }), cumsumReverse: (z) => bt.cumsum(z, { axis: 0, reverse: true }), logcumsumexp: (z) => bt.logcumsumexp(z, { axis: 1 }),
    reshape: (z) => bt.reshape(z, [2, 6]).mul(O.reshape([2, 6])), transpose: (z) => bt.transpose(z).mul(O.T), broadcastTo: (z) => bt.broadcastTo(z.reshape([3, 1, 4]), [3, 2, 4]),
    squeeze: (z) => bt.squeeze(z.reshape([3, 1, 4]), 1), slice: (z) => bt.slice(z, [1, 1], [2, 2]), pad: (z) => bt.pad(z, [1, 0], [0, 2]), concat: (z) => bt.concat([z, z.square()], 1),
    stack: (z) => bt.stack([z, z.sin()], 1), moveAxis: (z) => bt.moveAxis(z.reshape([3, 2, 2]), 0, 2), take0: (z) => bt.take(z, IDX, 0), take1: (z) => bt.take(z, IDX, 1),
    scatterAdd: (z) => bt.scatterAdd(z, IDX, z.mul(2), 0), scatterAddUpdates: (z) => bt.scatterAdd(O, IDX, z, 0),
    takeAlongAxis: (z) => bt.takeAlongAxis(z, bt.tensor([[0, 3], [1, 1], [2, 0]], { dtype: 'int32' }), 1), sort: (z) => bt.sort(z, { axis: 1 }), sortDesc: (z) => bt.sort(z, { axis: 0, descending: true }),
    diagonal: (z) => bt.diagonal(z), diagonalK: (z) => bt.diagonal(z, 1), diag: (z) => bt.diag(z.slice([0, 0], [1, 4]).reshape([4])), triu: (z) => bt.triu(z), tril: (z) => bt.tril(z, -1),
    matmul: (z) => bt.matmul(z, O.T), matmulBatched: (z) => bt.matmul(z.reshape([3, 2, 2]), z.reshape([3, 2, 2])), matvec: (z) => bt.matmul(z, bt.tensor([1, 2, 3, 4])),
    outer: (z) => bt.outer(z.slice([0, 0], [1, 4]).reshape([4]), bt.tensor([1, 2])), mT: (z) => z.reshape([2, 3, 2]).mT,
  };
  return { X, IDX, OPS };
}

registerAll(backends, 'op sweep: jacfwd == jacrev == numericJacobian, and hessian == numeric Jacobian of grad, for every differentiable op', async (B) => {
  const { X, OPS } = sweep(B);
  // X[1][0] is 0.509, 0.009 from clip's kink at 0.5: the default WebGPU step (h = 0.0104)
  // straddles it (float64 at that step gives the same wrong FD), so clip's FD on
  // WebGPU takes a 4× smaller step. Every other op uses the harness's step.
  const fdScale: Record<string, number> = { clip: 1 / 4 };
  for (const [name, op] of Object.entries(OPS)) {
    const jf = bt.jacfwd(op)(X);
    const jr = bt.jacrev(op)(X);
    await adClose(B, jf, jr, 1e-10, 1e-12, `${name}: jacfwd vs jacrev`);
    await adClose(B, bt.jacrev(op, { chunkSize: 5 })(X), jr, 1e-12, 1e-14, `${name}: jacrev chunk 5`);
    await adClose(B, bt.jacfwd(op, { chunkSize: 5 })(X), jf, 1e-12, 1e-14, `${name}: jacfwd chunk 5`);
    await fdClose(B, jr, op, X, 1e-6, 1e-8, `${name}: vs numeric`, fdScale[name]);
    const s = (z: bt.Tensor) => bt.sum(bt.sin(op(z)));
    await fdClose(B, bt.hessian(s)(X), bt.grad(s), X, 1e-6, 1e-8, `${name}: hessian vs numeric`, fdScale[name]);
  }
});

registerAll(backends, 'regression: jacrev / vmap(grad) through take and diagonal (scatterAdd batching with unbatched indices)', async (B) => {
  const { X, IDX } = sweep(B);
  // jacrev vmaps the pullback of take, whose transpose is a scatterAdd with unbatched indices
  const J = bt.jacrev((z: bt.Tensor) => bt.take(z, IDX, 0))(X);
  assert.equal([...J.shape], [3, 4, 3, 4]);
  // 0/1 entries: exact on every backend
  const Jf = bt.jacfwd((z: bt.Tensor) => bt.take(z, IDX, 0))(X);
  if (B.name === 'cpu') assertCloseF64(J, Jf, 0, 0, 'jacrev(take)');
  else assertCloseArr(await read(J), await read(Jf), 0, 0, 'jacrev(take)');
  const M = randnB(B, [4, 3, 3], 103);
  const per = bt.vmap(bt.grad((z: bt.Tensor) => bt.sum(bt.diagonal(z).square())))(M);
  // 2·z on the diagonal, 0 elsewhere: exact in float32 too (a doubling and a mask)
  if (B.name === 'cpu') assertCloseF64(per, M.mul(bt.eye(3)).mul(2), 1e-15, 0, 'vmap(grad(diagonal))');
  else assertCloseArr(await read(per), await read(M.mul(bt.eye(3)).mul(2)), 0, 0, 'vmap(grad(diagonal))');
});

test.run();
