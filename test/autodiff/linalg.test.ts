/** bt.linalg: values by reconstruction, derivatives by directional finite differences, batching, errors. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose, checkDirectional, numericJacobian, randn, randSpd } from '../helpers.js';

const la = bt.linalg;
const SIZES = [1, 2, 5, 16, 64];

/** A = B Bᵀ/n + I: SPD and symmetric for every B, so FD perturbations of B stay valid. */
function spdOf(b: bt.Tensor): bt.Tensor {
  const n = b.shape[b.ndim - 1]!;
  return bt.matmul(b, b.mT).div(n).add(bt.eye(n));
}

/** A well-conditioned triangular matrix from B: tri(B)/√n + 2I. */
function triOf(b: bt.Tensor, lower: boolean): bt.Tensor {
  const n = b.shape[b.ndim - 1]!;
  return (lower ? bt.tril(b) : bt.triu(b)).div(Math.sqrt(n)).add(bt.eye(n).mul(2));
}

/** A well-conditioned general (non-symmetric) matrix: B/√n + 3I. */
function genOf(b: bt.Tensor): bt.Tensor {
  const n = b.shape[b.ndim - 1]!;
  return b.div(Math.sqrt(n)).add(bt.eye(n).mul(3));
}

/** Relative Frobenius closeness for reconstructions of size-n problems. */
function assertRecon(got: bt.Tensor, want: bt.Tensor, what: string, rtol = 1e-10): void {
  assert.equal([...got.shape], [...want.shape], `${what} shape`);
  const err = Math.sqrt(bt.sum(got.sub(want).square()).item());
  const scale = Math.sqrt(bt.sum(want.square()).item());
  assert.ok(err <= rtol * Math.max(scale, 1), `${what}: ‖got − want‖ = ${err}, ‖want‖ = ${scale}`);
}

test('cholesky: L is lower triangular with positive diagonal and L Lᵀ = A', () => {
  for (const n of SIZES) {
    const a = randSpd(n, n);
    const l = la.cholesky(a);
    assertClose(bt.triu(l, 1), bt.zeros([n, n]), 0, 0, `upper part n=${n}`);
    assert.ok(Array.from(bt.diagonal(l).dataSync()).every((d) => d > 0), `positive diagonal n=${n}`);
    assertRecon(bt.matmul(l, l.mT), a, `L Lᵀ n=${n}`);
  }
  assertClose(la.cholesky(bt.tensor([[4]])), [2], 1e-15);
  assertClose(la.cholesky(bt.tensor([[4, 2], [2, 5]])), [2, 0, 1, 2], 1e-15);
});

test('cholesky gradients (reverse and forward) on SPD matrices parametrised through B, n = 1, 2, 5, 16, 64', () => {
  for (const n of SIZES) {
    const b = randn([n, n], 100 + n);
    checkDirectional((bb) => la.cholesky(spdOf(bb)), b, n, 1e-6, `cholesky n=${n}`);
    checkDirectional((bb) => la.cholesky(spdOf(bb), { symmetrizeInput: false }), b, n + 1, 1e-6, `cholesky unsymmetrised n=${n}`);
  }
});

test('cholesky second derivatives: grad∘grad through a Cholesky-based loss matches FD of grad', () => {
  const n = 4;
  const b = randn([n, n], 7);
  const f = (bb: bt.Tensor) => bt.sum(la.cholesky(spdOf(bb)).square().mul(bt.arange(n * n).astype('float64').reshape([n, n])));
  checkDirectional((bb) => bt.grad(f)(bb), b, 9, 1e-6, 'grad of cholesky loss');
});

const TRI_CASES = [
  { lower: true, transposeA: false, unitDiagonal: false },
  { lower: false, transposeA: false, unitDiagonal: false },
  { lower: true, transposeA: true, unitDiagonal: false },
  { lower: false, transposeA: true, unitDiagonal: false },
  { lower: true, transposeA: false, unitDiagonal: true },
  { lower: false, transposeA: true, unitDiagonal: true },
];

/** op(A) as the solve reads it: the triangle (unit diagonal substituted) and optionally transposed. */
function effective(a: bt.Tensor, o: (typeof TRI_CASES)[number]): bt.Tensor {
  const n = a.shape[a.ndim - 1]!;
  let t = o.lower ? bt.tril(a, o.unitDiagonal ? -1 : 0) : bt.triu(a, o.unitDiagonal ? 1 : 0);
  if (o.unitDiagonal) t = t.add(bt.eye(n));
  return o.transposeA ? t.mT : t;
}

test('triangularSolve values: op(A) X = B for lower/upper, transposeA, unitDiagonal', () => {
  for (const n of SIZES) {
    for (const o of TRI_CASES) {
      // pass the full random matrix plus the triangle: the solve must read only its triangle
      const a = triOf(randn([n, n], 200 + n), o.lower).add(o.lower ? bt.triu(randn([n, n], 300 + n), 1) : bt.tril(randn([n, n], 300 + n), -1));
      const rhs = randn([n, 3], 400 + n);
      const x = la.triangularSolve(a, rhs, o);
      assertRecon(bt.matmul(effective(a, o), x), rhs, `n=${n} ${JSON.stringify(o)}`);
      // vector right-hand side
      const xv = la.triangularSolve(a, rhs.slice([0, 0], [n, 1]).reshape([n]), o);
      assert.equal([...xv.shape], [n]);
      assertClose(xv, x.slice([0, 0], [n, 1]).reshape([n]), 1e-12, 1e-14, `vector rhs n=${n}`);
    }
  }
});

test('triangularSolve gradients w.r.t. A and B (reverse and forward), all option combinations, n = 1, 2, 5, 16, 64', () => {
  for (const n of SIZES) {
    for (const [k, o] of TRI_CASES.entries()) {
      const m = 2;
      const xb = randn([n, n + m], 500 + 10 * n + k);
      // one input carries both A (first n columns) and the right-hand side (last m columns)
      const f = (z: bt.Tensor) => la.triangularSolve(triOf(z.slice([0, 0], [n, n]), o.lower), z.slice([0, n], [n, m]), o);
      checkDirectional(f, xb, 600 + n + k, 1e-6, `triangularSolve n=${n} ${JSON.stringify(o)}`);
    }
  }
});

test('solve and inv: values by reconstruction and gradients, n = 1, 2, 5, 16, 64', () => {
  for (const n of SIZES) {
    const a = genOf(randn([n, n], 700 + n));
    const rhs = randn([n, 2], 710 + n);
    const x = la.solve(a, rhs);
    assertRecon(bt.matmul(a, x), rhs, `solve n=${n}`);
    const xv = la.solve(a, rhs.slice([0, 0], [n, 1]).reshape([n]));
    assert.equal([...xv.shape], [n]);
    assertRecon(bt.matmul(a, xv.reshape([n, 1])), rhs.slice([0, 0], [n, 1]), `solve vector n=${n}`);
    const ai = la.inv(a);
    assertRecon(bt.matmul(a, ai), bt.eye(n), `A A⁻¹ n=${n}`);
    assertRecon(bt.matmul(ai, a), bt.eye(n), `A⁻¹ A n=${n}`);
    const z = randn([n, n + 2], 720 + n);
    checkDirectional((zz) => la.solve(genOf(zz.slice([0, 0], [n, n])), zz.slice([0, n], [n, 2])), z, 730 + n, 1e-6, `solve n=${n}`);
    checkDirectional((bb) => la.inv(genOf(bb)), randn([n, n], 740 + n), 750 + n, 1e-6, `inv n=${n}`);
  }
});

test('slogdet and det: values and gradients (general and SPD matrices), n = 1, 2, 5, 16, 64', () => {
  // closed forms on small matrices
  const [s2, l2] = la.slogdet(bt.tensor([[1, 2], [3, 4]]));
  assertClose(s2.item(), -1, 0);
  assertClose(l2.item(), Math.log(2), 1e-14);
  assertClose(la.det(bt.tensor([[2, 1, 0], [1, 3, 1], [0, 1, 4]])).item(), 18, 1e-13);
  for (const n of SIZES) {
    const a = genOf(randn([n, n], 800 + n));
    const b = genOf(randn([n, n], 810 + n));
    const [sa, la_] = la.slogdet(a);
    const [sb, lb] = la.slogdet(b);
    const [sab, lab] = la.slogdet(bt.matmul(a, b));
    assert.equal([...la_.shape], []);
    assertClose(sab.item(), sa.item() * sb.item(), 0, 0, `sign multiplicative n=${n}`);
    assertClose(lab.item(), la_.item() + lb.item(), 1e-10, 1e-12, `log|det| additive n=${n}`);
    // a negated row flips the sign
    const flip = bt.eye(n).sub(bt.tensor(Array.from({ length: n * n }, (_, i) => (i === 0 ? 2 : 0)), { shape: [n, n] }));
    const [sf, lf] = la.slogdet(bt.matmul(flip, a));
    assertClose(sf.item(), -sa.item(), 0, 0, `sign flip n=${n}`);
    assertClose(lf.item(), la_.item(), 1e-10, 1e-12, `sign flip log n=${n}`);
    // SPD: slogdet agrees with logdetCholesky
    const spd = randSpd(n, 820 + n);
    const [ss, ls] = la.slogdet(spd);
    assertClose(ss.item(), 1, 0);
    assertClose(ls.item(), la.logdetCholesky(la.cholesky(spd)).item(), 1e-10, 1e-12, `SPD logdet n=${n}`);
    // gradients
    checkDirectional((bb) => la.slogdet(genOf(bb))[1], randn([n, n], 830 + n), 840 + n, 1e-6, `slogdet n=${n}`);
    checkDirectional((bb) => la.slogdet(spdOf(bb))[1], randn([n, n], 850 + n), 860 + n, 1e-6, `slogdet SPD n=${n}`);
    if (n <= 16) checkDirectional((bb) => la.det(genOf(bb).div(3)), randn([n, n], 870 + n), 880 + n, 1e-6, `det n=${n}`);
  }
});

test('choleskySolve and logdetCholesky: values and gradients, n = 1, 2, 5, 16, 64', () => {
  for (const n of SIZES) {
    const a = randSpd(n, 900 + n);
    const l = la.cholesky(a);
    const rhs = randn([n, 3], 910 + n);
    assertRecon(bt.matmul(a, la.choleskySolve(l, rhs)), rhs, `choleskySolve n=${n}`);
    assertClose(la.logdetCholesky(l).item(), la.slogdet(a)[1].item(), 1e-10, 1e-12, `logdetCholesky n=${n}`);
    const z = randn([n, n + 3], 920 + n);
    const f = (zz: bt.Tensor) => la.choleskySolve(la.cholesky(spdOf(zz.slice([0, 0], [n, n]))), zz.slice([0, n], [n, 3]));
    checkDirectional(f, z, 930 + n, 1e-6, `choleskySolve n=${n}`);
    checkDirectional((bb) => la.logdetCholesky(la.cholesky(spdOf(bb))), randn([n, n], 940 + n), 950 + n, 1e-6, `logdetCholesky n=${n}`);
    // a Gaussian log-density (the typical use): −½ yᵀA⁻¹y − ½ log|A|
    const y = randn([n, 1], 960 + n);
    const logp = (bb: bt.Tensor) => {
      const lf = la.cholesky(spdOf(bb));
      return bt.sum(y.mul(la.choleskySolve(lf, y))).mul(-0.5).sub(la.logdetCholesky(lf).mul(0.5));
    };
    checkDirectional(logp, randn([n, n], 970 + n), 980 + n, 1e-6, `gaussian logp n=${n}`);
  }
});

test('batched inputs [3, n, n] with broadcast right-hand sides: values match per-matrix results', () => {
  for (const n of [1, 2, 5, 16]) {
    const B = randn([3, n, n], 1000 + n);
    const A = spdOf(B);
    const L = la.cholesky(A);
    assert.equal([...L.shape], [3, n, n]);
    const rhsShared = randn([n, 2], 1010 + n); // broadcast over the batch
    const rhs1 = randn([1, n, 2], 1020 + n); // explicit size-1 batch
    const Xs = la.solve(A, rhsShared);
    const Xc = la.choleskySolve(L, rhs1);
    const Xt = la.triangularSolve(L, rhsShared, { lower: true });
    assert.equal([...Xs.shape], [3, n, 2]);
    assert.equal([...Xc.shape], [3, n, 2]);
    const [sg, ld] = la.slogdet(A);
    assert.equal([...ld.shape], [3]);
    const ldc = la.logdetCholesky(L);
    assert.equal([...ldc.shape], [3]);
    for (let i = 0; i < 3; i++) {
      const Ai = A.slice([i], [1]).reshape([n, n]);
      const Li = la.cholesky(Ai);
      assertClose(L.slice([i], [1]).reshape([n, n]), Li, 1e-12, 1e-14, `batched cholesky #${i} n=${n}`);
      assertClose(Xs.slice([i], [1]).reshape([n, 2]), la.solve(Ai, rhsShared), 1e-12, 1e-14, `batched solve #${i}`);
      assertClose(Xc.slice([i], [1]).reshape([n, 2]), la.choleskySolve(Li, rhs1.reshape([n, 2])), 1e-12, 1e-14, `batched choleskySolve #${i}`);
      assertClose(Xt.slice([i], [1]).reshape([n, 2]), la.triangularSolve(Li, rhsShared), 1e-12, 1e-14, `batched triangularSolve #${i}`);
      assertClose(ld.slice([i], [1]).reshape([]), la.slogdet(Ai)[1], 1e-12, 1e-14, `batched slogdet #${i}`);
      assertClose(sg.slice([i], [1]).reshape([]), 1, 0, 0, `batched sign #${i}`);
      assertClose(ldc.slice([i], [1]).reshape([]), la.logdetCholesky(Li), 1e-12, 1e-14, `batched logdetCholesky #${i}`);
    }
    // a batched right-hand side against one matrix
    const rb = randn([3, n, 2], 1030 + n);
    const Xb = la.solve(A.slice([0], [1]).reshape([n, n]), rb);
    assert.equal([...Xb.shape], [3, n, 2]);
    assertRecon(bt.matmul(A.slice([0], [1]).reshape([n, n]), Xb), rb, `one matrix, batched rhs n=${n}`);
  }
});

test('batched gradients [3, n, n] with broadcast right-hand sides (reverse and forward)', () => {
  for (const n of [1, 2, 5, 16]) {
    const B = randn([3, n, n], 1100 + n);
    const rhs = randn([n, 2], 1110 + n);
    checkDirectional((bb) => la.cholesky(spdOf(bb)), B, 1120 + n, 1e-6, `batched cholesky n=${n}`);
    checkDirectional((bb) => la.choleskySolve(la.cholesky(spdOf(bb)), rhs), B, 1130 + n, 1e-6, `batched choleskySolve n=${n}`);
    checkDirectional((bb) => la.solve(genOf(bb), rhs), B, 1140 + n, 1e-6, `batched solve n=${n}`);
    checkDirectional((bb) => la.triangularSolve(triOf(bb, true), rhs, { transposeA: true }), B, 1150 + n, 1e-6, `batched trsm n=${n}`);
    checkDirectional((bb) => la.slogdet(genOf(bb))[1], B, 1160 + n, 1e-6, `batched slogdet n=${n}`);
    checkDirectional((bb) => la.logdetCholesky(la.cholesky(spdOf(bb))), B, 1170 + n, 1e-6, `batched logdetCholesky n=${n}`);
    // gradient w.r.t. the broadcast right-hand side (its cotangent is summed over the batch)
    const A = spdOf(B);
    checkDirectional((r) => la.solve(A, r), rhs, 1180 + n, 1e-6, `batched solve, rhs n=${n}`);
    checkDirectional((r) => la.triangularSolve(la.cholesky(A), r), rhs, 1190 + n, 1e-6, `batched trsm, rhs n=${n}`);
    // and w.r.t. a single matrix against a batched right-hand side
    const rb = randn([3, n, 2], 1200 + n);
    checkDirectional((bb) => la.solve(genOf(bb), rb), randn([n, n], 1210 + n), 1220 + n, 1e-6, `one matrix, batched rhs n=${n}`);
  }
});

test('linalg under vmap matches the batched ops', () => {
  const n = 4;
  const A = spdOf(randn([3, n, n], 1300));
  const r = randn([3, n, 2], 1301);
  assertClose(bt.vmap((a: bt.Tensor) => la.cholesky(a))(A), la.cholesky(A), 1e-13, 1e-14, 'vmap cholesky');
  assertClose(bt.vmap((a: bt.Tensor, b: bt.Tensor) => la.solve(a, b))(A, r), la.solve(A, r), 1e-13, 1e-14, 'vmap solve');
  assertClose(bt.vmap((a: bt.Tensor) => la.slogdet(a)[1])(A), la.slogdet(A)[1], 1e-13, 1e-14, 'vmap slogdet');
  assertClose(bt.vmap((b: bt.Tensor) => la.solve(A.slice([0], [1]).reshape([n, n]), b))(r), la.solve(A.slice([0], [1]).reshape([n, n]), r), 1e-13, 1e-14, 'vmap rhs only');
});

test('non-SPD cholesky throws NumericalError naming the batch index', () => {
  const good = randSpd(3, 1);
  const bad = bt.tensor([[1, 2, 0], [2, 1, 0], [0, 0, 1]]);
  const batch = bt.stack([good, bad, good]);
  let err: unknown;
  try {
    la.cholesky(batch);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof bt.NumericalError, `expected NumericalError, got ${String(err)}`);
  assert.match((err as Error).message, /#1/);
  assert.match((err as Error).message, /positive definite/);
  assert.throws(() => la.cholesky(bad), (e: unknown) => e instanceof bt.NumericalError && /not positive definite/.test((e as Error).message));
  assert.throws(() => la.cholesky(bt.tensor([[-1]])), (e: unknown) => e instanceof bt.NumericalError);
  // a NaN entry is not silently accepted either
  assert.throws(() => la.cholesky(bt.tensor([[NaN, 0], [0, 1]])), (e: unknown) => e instanceof bt.NumericalError);
});

test('singular solve throws NumericalError (and names the batch index); shape errors are ShapeErrors', () => {
  const sing = bt.tensor([[1, 2], [2, 4]]);
  assert.throws(() => la.solve(sing, bt.tensor([1, 1])), (e: unknown) => e instanceof bt.NumericalError && /singular/.test((e as Error).message));
  assert.throws(() => la.inv(bt.zeros([3, 3])), (e: unknown) => e instanceof bt.NumericalError);
  const batch = bt.stack([bt.eye(2), bt.eye(2), sing]);
  assert.throws(() => la.solve(batch, bt.ones([2, 1])), (e: unknown) => e instanceof bt.NumericalError && /#2/.test((e as Error).message));
  assert.throws(() => la.cholesky(bt.ones([2, 3])), (e: unknown) => e instanceof bt.ShapeError);
  assert.throws(() => la.solve(bt.eye(3), bt.ones([2, 1])), (e: unknown) => e instanceof bt.ShapeError);
});

test('linalg Jacobians (jacfwd == jacrev, batching the derivative rules) and Hessians (Laplace-style) vs numerics', () => {
  const n = 3;
  const b = randn([n, n], 1400);
  const r = randn([n, 2], 1401);
  const fns: Record<string, (z: bt.Tensor) => bt.Tensor> = {
    cholesky: (z) => la.cholesky(spdOf(z)),
    solve: (z) => la.solve(genOf(z), r),
    inv: (z) => la.inv(genOf(z)),
    triangularSolve: (z) => la.triangularSolve(triOf(z, true), r, { transposeA: true }),
    triangularSolveUpperUnit: (z) => la.triangularSolve(triOf(z, false), r, { lower: false, unitDiagonal: true }),
    slogdet: (z) => la.slogdet(genOf(z))[1],
    choleskySolve: (z) => la.choleskySolve(la.cholesky(spdOf(z)), r),
    logdetCholesky: (z) => la.logdetCholesky(la.cholesky(spdOf(z))),
  };
  for (const [name, f] of Object.entries(fns)) {
    const jf = bt.jacfwd(f)(b);
    const jr = bt.jacrev(f, { chunkSize: 2 })(b);
    assertClose(jf, jr, 1e-10, 1e-12, `${name}: jacfwd vs jacrev`);
    assertClose(jr, numericJacobian(f, b), 1e-6, 1e-8, `${name}: vs numeric`);
    const s = (z: bt.Tensor) => bt.sum(bt.sin(f(z)));
    const H = bt.hessian(s)(b);
    assertClose(H, numericJacobian(bt.grad(s), b), 1e-6, 1e-8, `${name}: hessian vs numeric`);
  }
  // a Gaussian log-density's Hessian in B (what a Laplace approximation needs)
  const y = randn([n, 1], 1402);
  const logp = (z: bt.Tensor) => {
    const l = la.cholesky(spdOf(z));
    return bt.sum(y.mul(la.choleskySolve(l, y))).mul(-0.5).sub(la.logdetCholesky(l).mul(0.5));
  };
  const H = bt.reshape(bt.hessian(logp)(b), [n * n, n * n]);
  assertClose(H, H.T, 1e-10, 1e-12, 'logp hessian symmetric');
  assertClose(H, bt.reshape(numericJacobian(bt.grad(logp), b), [n * n, n * n]), 1e-6, 1e-8, 'logp hessian vs numeric');
});

test('per-example linalg gradients under vmap match one-at-a-time gradients', () => {
  const B = randn([4, 3, 3], 1500);
  const f = (z: bt.Tensor) => la.logdetCholesky(la.cholesky(spdOf(z))).add(bt.sum(la.solve(genOf(z), bt.ones([3, 1]))));
  const per = bt.vmap(bt.grad(f))(B);
  for (let i = 0; i < 4; i++) assertClose(per.slice([i], [1]).reshape([3, 3]), bt.grad(f)(B.slice([i], [1]).reshape([3, 3])), 1e-12, 1e-14, `example ${i}`);
});

test.run();
