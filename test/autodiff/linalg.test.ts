/**
 * bt.linalg: values by reconstruction, derivatives by directional finite differences, batching, errors.
 *
 * Every body runs on each backend (see ../backend-harness.ts): `name [cpu]` in float64 with the
 * checks and tolerances of ../helpers.ts exactly as before, and `name [webgpu]` in float32:
 *  - values are checked by their componentwise backward error, computed on the host in float64
 *    from the float32 values read back: the classical bounds (Higham, Accuracy and Stability of
 *    Numerical Algorithms, 2nd ed.: Thm 8.5 substitution, Thm 9.4 LU, Thm 10.3 Cholesky) hold
 *    whatever the conditioning, so the tolerance needs no cond factor (see `gam`);
 *  - values that are a function of the input (log-determinants) carry the first-order effect of
 *    that backward error, tr(M⁻¹ΔM) ≤ γ·Σ|M⁻¹|ᵀ∘|ΔM|, i.e. eps·cond, computed per matrix;
 *  - results the same kernels produce from the same data (batched vs one matrix, vmap vs the
 *    batched op) are compared exactly (one workgroup per matrix: the same arithmetic);
 *  - derivatives: the harness's float32 directional / Jacobian checks against host float64
 *    central differences of backend evaluations, AD vs AD within B.adRtol;
 *  - failures (not positive definite, singular) are NumericalErrors raised at the next read
 *    (GPU kernels cannot throw), naming the op and the batch index as on the CPU.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import {
  adClose, backendsUnderTest, registerAll, assertClose, assertCloseArr, assertJacobianVsFD, checkDirectional, numericJacobian, randnB, read, type BackendCase,
} from '../backend-harness.js';
import {
  assertClose as assertCloseF64, checkDirectional as checkDirectionalF64, numericJacobian as numericJacobianF64,
} from '../helpers.js';
import { hostLu } from '../host-lu.js';

const backends = await backendsUnderTest('linalg');

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

/** Relative Frobenius closeness for reconstructions of size-n problems (CPU, float64, as before). */
function assertRecon(got: bt.Tensor, want: bt.Tensor, what: string, rtol = 1e-10): void {
  assert.equal([...got.shape], [...want.shape], `${what} shape`);
  const err = Math.sqrt(bt.sum(got.sub(want).square()).item());
  const scale = Math.sqrt(bt.sum(want.square()).item());
  assert.ok(err <= rtol * Math.max(scale, 1), `${what}: ‖got − want‖ = ${err}, ‖want‖ = ${scale}`);
}

/**
 * The WebGPU central-difference step for this file: the harness's, 4× smaller. Measured with
 * float64 evaluations at the harness's step (so no rounding), the O(h²) truncation error alone
 * exceeds the check's tolerance in 12 of the 109 directional checks here (two are the
 * near-singular cases of `triStepScale`; the others up to 6.4×: choleskySolve n=16,
 * logdetCholesky n=64, cholesky unsymmetrised n=16, ...; inverses and square roots curve more
 * than the elementwise ops the step was sized for) and in the triangularSolve Hessian; at 1/4
 * (with `triStepScale`) it stays ≤ 0.3 of the tolerance everywhere. The FD rounding noise the
 * harness adds grows by the same 4×, derived from the step actually used.
 */
const FD_SCALE = 1 / 4;

/**
 * Reverse + forward mode vs central differences: float64 (helpers.ts, rtol 1e-6, h 1e-6, as
 * before) on CPU, the harness's float32 check on WebGPU, its step scaled by `fdScale` (see
 * `triStepScale`; the harness derives the FD rounding noise from the step actually used).
 */
async function checkDir(B: BackendCase, f: (x: bt.Tensor) => bt.Tensor, x: bt.Tensor, seed: number, what: string, fdScale = 1): Promise<void> {
  if (B.name === 'cpu') checkDirectionalF64(f, x, seed, 1e-6, what);
  else await checkDirectional({ ...B, fdStep: B.fdStep * FD_SCALE * fdScale }, f, x, seed, what);
}

/**
 * WebGPU FD step scale for functions of triOf(·) matrices (1 on CPU, whose step is 1e-6): the
 * step is sized for diagonals near their nominal 2, but a few seeds draw a diagonal close to 0
 * (0.013 for triangularSolve n=1 lower/transposeA, 0.038 in batched trsm n=2, 0.45 in the n=3
 * Jacobians), i.e. a matrix near singular: there the step crosses or nears the pole and the
 * central difference is off by its truncation error (float64 at the same step gives the same
 * wrong FD to 4 digits, and AD agrees across backends: not rounding, not a kernel bug). Scaling
 * the step by d_min/2 keeps the relative perturbation of the smallest diagonal what it is for a
 * nominal one.
 */
async function triStepScale(B: BackendCase, tri: bt.Tensor): Promise<number> {
  if (B.name === 'cpu') return 1;
  const n = tri.shape[tri.ndim - 1]!;
  const v = await read(tri);
  let dMin = Infinity;
  for (let o = 0; o < v.length; o += n * n) for (let k = 0; k < n; k++) dMin = Math.min(dMin, Math.abs(v[o + k * n + k]!));
  return Math.min(1, dMin / 2);
}

const maxAbs = (v: number[]) => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);


/**
 * The same kernels on the same data: on CPU `helpers.assertClose(got, want, cpuRtol, cpuAtol)` as
 * before; on WebGPU exactly equal (the batched linalg kernels run one workgroup per matrix with
 * the same arithmetic whatever the batch, so a slice of a batched result is bitwise the result
 * for that matrix alone; any difference is an indexing/broadcast bug, not rounding).
 */
async function sameClose(B: BackendCase, got: bt.Tensor, want: bt.Tensor | number, cpuRtol: number, cpuAtol: number, what: string): Promise<void> {
  if (B.name === 'cpu') assertCloseF64(got, want, cpuRtol, cpuAtol, what);
  else await assertClose(got, want, 0, 0, what);
}

// ---- host float64 linear algebra on values read back from WebGPU (for the float32 bounds) ----

/** a [n×k] · b [k×m], row-major. */
function hmm(a: number[], b: number[], n: number, k: number, m: number): number[] {
  const out = new Array<number>(n * m).fill(0);
  for (let i = 0; i < n; i++) for (let p = 0; p < k; p++) {
    const aip = a[i * k + p]!;
    if (aip !== 0) for (let j = 0; j < m; j++) out[i * m + j] += aip * b[p * m + j]!;
  }
  return out;
}
const habs = (a: number[]) => a.map(Math.abs);
function htr(a: number[], r: number, c: number): number[] {
  return Array.from({ length: r * c }, (_, e) => a[(e % r) * c + Math.floor(e / r)]!);
}
const heye = (n: number) => Array.from({ length: n * n }, (_, e) => (Math.floor(e / n) === e % n ? 1 : 0));

/**
 * γ_k of the standard model, for the float32 kernels: γ_k = k·u/(1 − k·u) with u = eps/2; we take
 * (k + 4)·eps, twice the standard bound plus 4 eps because WGSL's division (2.5 ulp) and
 * sqrt / inverseSqrt are not correctly rounded (each of those a few u instead of one).
 */
const gam = (B: BackendCase, k: number) => (k + 4) * B.eps;

/**
 * Componentwise residual: |rhs − M X| ≤ g·(W |X|) (+ extra) entrywise, M [n×n], X, rhs [n×m] on
 * the host: the backward-error statement (M + ΔM) X = rhs with |ΔM| ≤ g·W.
 */
function assertResidual(M: number[], X: number[], rhs: number[], W: number[], n: number, m: number, g: number, what: string): void {
  const MX = hmm(M, X, n, n, m);
  const bound = hmm(W, habs(X), n, n, m).map((v) => g * v);
  assertCloseArr(MX, rhs, 0, 0, `${what} (componentwise backward error, float32 bound)`, bound);
}

/**
 * First-order error of an LU-based log|det M| on float32: the backward error |ΔM| ≤ γ_{3n}Pᵀ|L||U|
 * moves it by tr(M⁻¹ΔM) ≤ γ_{3n}·Σ_ij |M⁻¹|_ji (Pᵀ|L||U|)_ij (≈ eps·n·cond(M)); then n logs (WGSL:
 * 3 ulp, or 2⁻²¹ = 4 eps absolute in [0.5, 2]) and their float32 sum (γ_n·Σ|log|u_ii||).
 */
function slogdetTol(B: BackendCase, M: number[], n: number): number {
  const { absLU, inv, logU } = hostLu(M, n);
  let tr = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) tr += Math.abs(inv[j * n + i]!) * absLU[i * n + j]!;
  const sumLog = logU.reduce((s, v) => s + Math.abs(v), 0);
  return gam(B, 3 * n) * tr + 4 * B.eps * n + (gam(B, n) + 3 * B.eps) * sumLog;
}

/**
 * The same for 2·Σ log L_ii from a float32 Cholesky factor L of A: |ΔA| ≤ γ_{n+1}|L||Lᵀ| (plus
 * one rounding of the symmetrisation (A + Aᵀ)/2: eps·|A|), moved by Σ|A⁻¹|ᵀ∘|ΔA|; n logs and
 * the float32 sum, doubled.
 */
function logdetCholTol(B: BackendCase, A: number[], L: number[], n: number): number {
  const { inv } = hostLu(A, n);
  const W = hmm(habs(L), habs(htr(L, n, n)), n, n, n);
  let tr = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) tr += Math.abs(inv[j * n + i]!) * (gam(B, n + 1) * W[i * n + j]! + B.eps * Math.abs(A[i * n + j]!));
  let sumLog = 0;
  for (let i = 0; i < n; i++) sumLog += Math.abs(Math.log(L[i * n + i]!));
  return tr + 2 * (4 * B.eps * n + (gam(B, n) + 3 * B.eps) * sumLog);
}

/** L Lᵀ = A: CPU `assertRecon` (1e-10) as before; WebGPU |sym(A) − L Lᵀ| ≤ γ_{n+1}|L||Lᵀ| + eps·|A| (Higham Thm 10.3, plus one rounding of (A + Aᵀ)/2). */
async function checkCholesky(B: BackendCase, a: bt.Tensor, l: bt.Tensor, n: number, what: string): Promise<void> {
  if (B.name === 'cpu') {
    assertRecon(bt.matmul(l, l.mT), a, what);
    return;
  }
  const A = await read(a);
  const L = await read(l);
  const As = A.map((v, e) => (v + A[(e % n) * n + Math.floor(e / n)]!) / 2);
  const Lt = htr(L, n, n);
  const bound = hmm(habs(L), habs(Lt), n, n, n).map((v, e) => gam(B, n + 1) * v + B.eps * Math.abs(As[e]!));
  assertCloseArr(hmm(L, Lt, n, n, n), As, 0, 0, `${what} (componentwise backward error, float32 bound)`, bound);
}

/** A X = rhs from an LU solve: CPU `assertRecon` (1e-10) as before; WebGPU |rhs − A X| ≤ γ_{3n}Pᵀ|L||U||X| (Higham Thm 9.4). */
async function checkSolve(B: BackendCase, a: bt.Tensor, x: bt.Tensor, rhs: bt.Tensor, what: string): Promise<void> {
  if (B.name === 'cpu') {
    assertRecon(bt.matmul(a, x.ndim === 1 ? x.reshape([-1, 1]) : x), rhs.ndim === 1 ? rhs.reshape([-1, 1]) : rhs, what);
    return;
  }
  const n = a.shape[0]!;
  const m = x.ndim === 1 ? 1 : x.shape[1]!;
  const A = await read(a);
  assertResidual(A, await read(x), await read(rhs), hostLu(A, n).absLU, n, m, gam(B, 3 * n), what);
}

// ---------------------------------------------------------------------------------------------

registerAll(backends, 'cholesky: L is lower triangular with positive diagonal and L Lᵀ = A', async (B) => {
  for (const n of SIZES) {
    const a = spdOf(randnB(B, [n, n], n)); // helpers.randSpd(n, n) on CPU
    const l = la.cholesky(a);
    await assertClose(bt.triu(l, 1), bt.zeros([n, n]), 0, 0, `upper part n=${n}`);
    assert.ok((await read(bt.diagonal(l))).every((d) => d > 0), `positive diagonal n=${n}`);
    await checkCholesky(B, a, l, n, `L Lᵀ n=${n}`);
  }
  // closed forms (exact in float32 up to WGSL's sqrt / division rounding)
  await adClose(B, la.cholesky(bt.tensor([[4]])), [2], 1e-15, 1e-12, 'cholesky [[4]]');
  await adClose(B, la.cholesky(bt.tensor([[4, 2], [2, 5]])), [2, 0, 1, 2], 1e-15, 1e-12, 'cholesky 2×2');
});

registerAll(backends, 'cholesky gradients (reverse and forward) on SPD matrices parametrised through B, n = 1, 2, 5, 16, 64', async (B) => {
  for (const n of SIZES) {
    const b = randnB(B, [n, n], 100 + n);
    await checkDir(B, (bb) => la.cholesky(spdOf(bb)), b, n, `cholesky n=${n}`);
    await checkDir(B, (bb) => la.cholesky(spdOf(bb), { symmetrizeInput: false }), b, n + 1, `cholesky unsymmetrised n=${n}`);
  }
});

registerAll(backends, 'cholesky second derivatives: grad∘grad through a Cholesky-based loss matches FD of grad', async (B) => {
  const n = 4;
  const b = randnB(B, [n, n], 7);
  const f = (bb: bt.Tensor) => bt.sum(la.cholesky(spdOf(bb)).square().mul(bt.arange(n * n).astype(B.dtype).reshape([n, n])));
  await checkDir(B, (bb) => bt.grad(f)(bb), b, 9, 'grad of cholesky loss');
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

registerAll(backends, 'triangularSolve values: op(A) X = B for lower/upper, transposeA, unitDiagonal', async (B) => {
  for (const n of SIZES) {
    for (const o of TRI_CASES) {
      // pass the full random matrix plus the triangle: the solve must read only its triangle
      const a = triOf(randnB(B, [n, n], 200 + n), o.lower).add(o.lower ? bt.triu(randnB(B, [n, n], 300 + n), 1) : bt.tril(randnB(B, [n, n], 300 + n), -1));
      const rhs = randnB(B, [n, 3], 400 + n);
      const x = la.triangularSolve(a, rhs, o);
      // vector right-hand side
      const rv = rhs.slice([0, 0], [n, 1]).reshape([n]);
      const xv = la.triangularSolve(a, rv, o);
      assert.equal([...xv.shape], [n]);
      const what = `n=${n} ${JSON.stringify(o)}`;
      if (B.name === 'cpu') {
        assertRecon(bt.matmul(effective(a, o), x), rhs, what);
        assertCloseF64(xv, x.slice([0, 0], [n, 1]).reshape([n]), 1e-12, 1e-14, `vector rhs n=${n}`);
      } else {
        // substitution: (op(A) + ΔA) X = B with |ΔA| ≤ γ_n|op(A)| (Higham Thm 8.5), op(A) taken on the host
        const T = await read(effective(a, o)); // data movement and a +1 on the diagonal: exact
        const g = gam(B, n);
        assertResidual(T, await read(x), await read(rhs), habs(T), n, 3, g, what);
        assertResidual(T, await read(xv), await read(rv), habs(T), n, 1, g, `vector rhs ${what}`);
      }
    }
  }
});

registerAll(backends, 'triangularSolve gradients w.r.t. A and B (reverse and forward), all option combinations, n = 1, 2, 5, 16, 64', async (B) => {
  for (const n of SIZES) {
    for (const [k, o] of TRI_CASES.entries()) {
      const m = 2;
      const xb = randnB(B, [n, n + m], 500 + 10 * n + k);
      // one input carries both A (first n columns) and the right-hand side (last m columns)
      const f = (z: bt.Tensor) => la.triangularSolve(triOf(z.slice([0, 0], [n, n]), o.lower), z.slice([0, n], [n, m]), o);
      const scale = o.unitDiagonal ? 1 : await triStepScale(B, triOf(xb.slice([0, 0], [n, n]), o.lower));
      await checkDir(B, f, xb, 600 + n + k, `triangularSolve n=${n} ${JSON.stringify(o)}`, scale);
    }
  }
});

registerAll(backends, 'solve and inv: values by reconstruction and gradients, n = 1, 2, 5, 16, 64', async (B) => {
  for (const n of SIZES) {
    const a = genOf(randnB(B, [n, n], 700 + n));
    const rhs = randnB(B, [n, 2], 710 + n);
    const x = la.solve(a, rhs);
    await checkSolve(B, a, x, rhs, `solve n=${n}`);
    const rv = rhs.slice([0, 0], [n, 1]).reshape([n]);
    const xv = la.solve(a, rv);
    assert.equal([...xv.shape], [n]);
    await checkSolve(B, a, xv, rv, `solve vector n=${n}`);
    const ai = la.inv(a);
    if (B.name === 'cpu') {
      assertRecon(bt.matmul(a, ai), bt.eye(n), `A A⁻¹ n=${n}`);
      assertRecon(bt.matmul(ai, a), bt.eye(n), `A⁻¹ A n=${n}`);
    } else {
      // inv solves A X = I: |A X − I| ≤ G := γ_{3n}Pᵀ|L||U||X| (Thm 9.4 per column); and, since
      // X A − I = X (A X − I) X⁻¹ with X⁻¹ = A + O(G), |X A − I| ≤ |X| G |A| to first order
      const A = await read(a);
      const X = await read(ai);
      const I = heye(n);
      const { absLU } = hostLu(A, n);
      assertResidual(A, X, I, absLU, n, n, gam(B, 3 * n), `A A⁻¹ n=${n}`);
      const G = hmm(absLU, habs(X), n, n, n).map((v) => gam(B, 3 * n) * v);
      assertCloseArr(hmm(X, A, n, n, n), I, 0, 0, `A⁻¹ A n=${n} (first-order float32 bound)`, hmm(hmm(habs(X), G, n, n, n), habs(A), n, n, n));
    }
    const z = randnB(B, [n, n + 2], 720 + n);
    await checkDir(B, (zz) => la.solve(genOf(zz.slice([0, 0], [n, n])), zz.slice([0, n], [n, 2])), z, 730 + n, `solve n=${n}`);
    await checkDir(B, (bb) => la.inv(genOf(bb)), randnB(B, [n, n], 740 + n), 750 + n, `inv n=${n}`);
  }
});

registerAll(backends, 'slogdet and det: values and gradients (general and SPD matrices), n = 1, 2, 5, 16, 64', async (B) => {
  const cpu = B.name === 'cpu';
  /** log|det| values: CPU `helpers.assertClose(got, want, 1e-10, 1e-12)` as before; WebGPU |got − want| ≤ tol (derived per matrix). */
  const logClose = async (got: bt.Tensor, want: bt.Tensor | number, tol: () => Promise<number>, what: string) => {
    if (cpu) assertCloseF64(got, want, 1e-10, 1e-12, what);
    else assertCloseArr(await read(got), typeof want === 'number' ? [want] : await read(want), 0, await tol(), what);
  };
  // closed forms on small matrices
  const [s2, l2] = la.slogdet(bt.tensor([[1, 2], [3, 4]]));
  await adClose(B, s2, -1, 0, 1e-12, 'sign [[1, 2], [3, 4]]');
  await adClose(B, l2, Math.log(2), 1e-14, 1e-12, 'log|det| [[1, 2], [3, 4]]');
  await adClose(B, la.det(bt.tensor([[2, 1, 0], [1, 3, 1], [0, 1, 4]])), 18, 1e-13, 1e-12, 'det 3×3');
  for (const n of SIZES) {
    const a = genOf(randnB(B, [n, n], 800 + n));
    const b = genOf(randnB(B, [n, n], 810 + n));
    const ab = bt.matmul(a, b);
    const [sa, la_] = la.slogdet(a);
    const [sb, lb] = la.slogdet(b);
    const [sab, lab] = la.slogdet(ab);
    assert.equal([...la_.shape], []);
    await sameClose(B, sab, (await read(sa))[0]! * (await read(sb))[0]!, 0, 0, `sign multiplicative n=${n}`);
    await logClose(lab, la_.add(lb), async () => {
      // each slogdet's own error, plus the float32 matmul A·B (|ΔC| ≤ γ_n|A||B|) carried through log|det C|
      const [A, Bm, C] = [await read(a), await read(b), await read(ab)];
      const Ci = hostLu(C, n).inv;
      const W = hmm(habs(A), habs(Bm), n, n, n);
      let mm = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) mm += Math.abs(Ci[j * n + i]!) * W[i * n + j]!;
      return slogdetTol(B, C, n) + slogdetTol(B, A, n) + slogdetTol(B, Bm, n) + gam(B, n) * mm;
    }, `log|det| additive n=${n}`);
    // a negated row flips the sign
    const flip = bt.eye(n).sub(bt.tensor(Array.from({ length: n * n }, (_, i) => (i === 0 ? 2 : 0)), { shape: [n, n] }));
    const fa = bt.matmul(flip, a); // a ±1/0 matrix times A: exact in float32
    const [sf, lf] = la.slogdet(fa);
    await sameClose(B, sf, -(await read(sa))[0]!, 0, 0, `sign flip n=${n}`);
    await logClose(lf, la_, async () => slogdetTol(B, await read(fa), n) + slogdetTol(B, await read(a), n), `sign flip log n=${n}`);
    // SPD: slogdet agrees with logdetCholesky
    const spd = spdOf(randnB(B, [n, n], 820 + n)); // helpers.randSpd(n, 820 + n) on CPU
    const [ss, ls] = la.slogdet(spd);
    await sameClose(B, ss, 1, 0, 1e-12, `SPD sign n=${n}`);
    const lc = la.cholesky(spd);
    await logClose(ls, la.logdetCholesky(lc), async () => {
      const S = await read(spd);
      return slogdetTol(B, S, n) + logdetCholTol(B, S, await read(lc), n);
    }, `SPD logdet n=${n}`);
    // gradients
    await checkDir(B, (bb) => la.slogdet(genOf(bb))[1], randnB(B, [n, n], 830 + n), 840 + n, `slogdet n=${n}`);
    await checkDir(B, (bb) => la.slogdet(spdOf(bb))[1], randnB(B, [n, n], 850 + n), 860 + n, `slogdet SPD n=${n}`);
    if (n <= 16) await checkDir(B, (bb) => la.det(genOf(bb).div(3)), randnB(B, [n, n], 870 + n), 880 + n, `det n=${n}`);
  }
});

registerAll(backends, 'choleskySolve and logdetCholesky: values and gradients, n = 1, 2, 5, 16, 64', async (B) => {
  for (const n of SIZES) {
    const a = spdOf(randnB(B, [n, n], 900 + n)); // helpers.randSpd(n, 900 + n) on CPU
    const l = la.cholesky(a);
    const rhs = randnB(B, [n, 3], 910 + n);
    const x = la.choleskySolve(l, rhs);
    const ld = la.logdetCholesky(l);
    const [, ls] = la.slogdet(a);
    if (B.name === 'cpu') {
      assertRecon(bt.matmul(a, x), rhs, `choleskySolve n=${n}`);
      assertCloseF64(ld.item(), ls.item(), 1e-10, 1e-12, `logdetCholesky n=${n}`);
    } else {
      // L Lᵀ = A + ΔA₁ (|ΔA₁| ≤ γ_{n+1}|L||Lᵀ| + eps|A|), then two substitutions (L + ΔL₁)(Lᵀ + ΔL₂) X = B
      // with |ΔLᵢ| ≤ γ_n|L|: |B − A X| ≤ (γ_{n+1} + 2γ_n)|L||Lᵀ||X| + eps|A||X| to first order
      const A = await read(a);
      const L = await read(l);
      const W = hmm(habs(L), habs(htr(L, n, n)), n, n, n).map((v, e) => (gam(B, n + 1) + 2 * gam(B, n)) * v + B.eps * Math.abs(A[e]!));
      assertResidual(A, await read(x), await read(rhs), W, n, 3, 1, `choleskySolve n=${n}`);
      assertCloseArr(await read(ld), await read(ls), 0, logdetCholTol(B, A, L, n) + slogdetTol(B, A, n), `logdetCholesky n=${n}`);
    }
    const z = randnB(B, [n, n + 3], 920 + n);
    const f = (zz: bt.Tensor) => la.choleskySolve(la.cholesky(spdOf(zz.slice([0, 0], [n, n]))), zz.slice([0, n], [n, 3]));
    await checkDir(B, f, z, 930 + n, `choleskySolve n=${n}`);
    await checkDir(B, (bb) => la.logdetCholesky(la.cholesky(spdOf(bb))), randnB(B, [n, n], 940 + n), 950 + n, `logdetCholesky n=${n}`);
    // a Gaussian log-density (the typical use): −½ yᵀA⁻¹y − ½ log|A|
    const y = randnB(B, [n, 1], 960 + n);
    const logp = (bb: bt.Tensor) => {
      const lf = la.cholesky(spdOf(bb));
      return bt.sum(y.mul(la.choleskySolve(lf, y))).mul(-0.5).sub(la.logdetCholesky(lf).mul(0.5));
    };
    await checkDir(B, logp, randnB(B, [n, n], 970 + n), 980 + n, `gaussian logp n=${n}`);
  }
});

registerAll(backends, 'batched inputs [3, n, n] with broadcast right-hand sides: values match per-matrix results', async (B) => {
  for (const n of [1, 2, 5, 16]) {
    const Bm = randnB(B, [3, n, n], 1000 + n);
    const A = spdOf(Bm);
    const L = la.cholesky(A);
    assert.equal([...L.shape], [3, n, n]);
    const rhsShared = randnB(B, [n, 2], 1010 + n); // broadcast over the batch
    const rhs1 = randnB(B, [1, n, 2], 1020 + n); // explicit size-1 batch
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
      await sameClose(B, L.slice([i], [1]).reshape([n, n]), Li, 1e-12, 1e-14, `batched cholesky #${i} n=${n}`);
      await sameClose(B, Xs.slice([i], [1]).reshape([n, 2]), la.solve(Ai, rhsShared), 1e-12, 1e-14, `batched solve #${i}`);
      await sameClose(B, Xc.slice([i], [1]).reshape([n, 2]), la.choleskySolve(Li, rhs1.reshape([n, 2])), 1e-12, 1e-14, `batched choleskySolve #${i}`);
      await sameClose(B, Xt.slice([i], [1]).reshape([n, 2]), la.triangularSolve(Li, rhsShared), 1e-12, 1e-14, `batched triangularSolve #${i}`);
      await sameClose(B, ld.slice([i], [1]).reshape([]), la.slogdet(Ai)[1], 1e-12, 1e-14, `batched slogdet #${i}`);
      await sameClose(B, sg.slice([i], [1]).reshape([]), 1, 0, 0, `batched sign #${i}`);
      // logdetCholesky is 2·Σ log L_ii: the reduction over the last axis of [3, n] and over [n] may
      // sum in different orders on WebGPU, so there: |Δ| ≤ 2·2γ_n·Σ|log L_ii| (both float32 sums)
      const ldi = la.logdetCholesky(Li);
      if (B.name === 'cpu') assertCloseF64(ldc.slice([i], [1]).reshape([]), ldi, 1e-12, 1e-14, `batched logdetCholesky #${i}`);
      else {
        const Lh = await read(Li);
        const sumLog = Array.from({ length: n }, (_, k) => Math.abs(Math.log(Lh[k * n + k]!))).reduce((s, v) => s + v, 0);
        assertCloseArr([(await read(ldc))[i]!], await read(ldi), 0, 4 * gam(B, n) * sumLog, `batched logdetCholesky #${i}`);
      }
    }
    // a batched right-hand side against one matrix
    const rb = randnB(B, [3, n, 2], 1030 + n);
    const A0 = A.slice([0], [1]).reshape([n, n]);
    const Xb = la.solve(A0, rb);
    assert.equal([...Xb.shape], [3, n, 2]);
    if (B.name === 'cpu') assertRecon(bt.matmul(A0, Xb), rb, `one matrix, batched rhs n=${n}`);
    else {
      // each [n, 2] block by its backward error
      for (let i = 0; i < 3; i++) await checkSolve(B, A0, Xb.slice([i], [1]).reshape([n, 2]), rb.slice([i], [1]).reshape([n, 2]), `one matrix, batched rhs #${i} n=${n}`);
    }
  }
});

registerAll(backends, 'batched gradients [3, n, n] with broadcast right-hand sides (reverse and forward)', async (B) => {
  for (const n of [1, 2, 5, 16]) {
    const Bm = randnB(B, [3, n, n], 1100 + n);
    const rhs = randnB(B, [n, 2], 1110 + n);
    await checkDir(B, (bb) => la.cholesky(spdOf(bb)), Bm, 1120 + n, `batched cholesky n=${n}`);
    await checkDir(B, (bb) => la.choleskySolve(la.cholesky(spdOf(bb)), rhs), Bm, 1130 + n, `batched choleskySolve n=${n}`);
    await checkDir(B, (bb) => la.solve(genOf(bb), rhs), Bm, 1140 + n, `batched solve n=${n}`);
    await checkDir(B, (bb) => la.triangularSolve(triOf(bb, true), rhs, { transposeA: true }), Bm, 1150 + n, `batched trsm n=${n}`, await triStepScale(B, triOf(Bm, true)));
    await checkDir(B, (bb) => la.slogdet(genOf(bb))[1], Bm, 1160 + n, `batched slogdet n=${n}`);
    await checkDir(B, (bb) => la.logdetCholesky(la.cholesky(spdOf(bb))), Bm, 1170 + n, `batched logdetCholesky n=${n}`);
    // gradient w.r.t. the broadcast right-hand side (its cotangent is summed over the batch)
    const A = spdOf(Bm);
    await checkDir(B, (r) => la.solve(A, r), rhs, 1180 + n, `batched solve, rhs n=${n}`);
    await checkDir(B, (r) => la.triangularSolve(la.cholesky(A), r), rhs, 1190 + n, `batched trsm, rhs n=${n}`);
    // and w.r.t. a single matrix against a batched right-hand side
    const rb = randnB(B, [3, n, 2], 1200 + n);
    await checkDir(B, (bb) => la.solve(genOf(bb), rb), randnB(B, [n, n], 1210 + n), 1220 + n, `one matrix, batched rhs n=${n}`);
  }
});

registerAll(backends, 'linalg under vmap matches the batched ops', async (B) => {
  const n = 4;
  const A = spdOf(randnB(B, [3, n, n], 1300));
  const r = randnB(B, [3, n, 2], 1301);
  // vmap lowers to the batched primitive: the same kernel on the same data (exact on WebGPU)
  await sameClose(B, bt.vmap((a: bt.Tensor) => la.cholesky(a))(A), la.cholesky(A), 1e-13, 1e-14, 'vmap cholesky');
  await sameClose(B, bt.vmap((a: bt.Tensor, b: bt.Tensor) => la.solve(a, b))(A, r), la.solve(A, r), 1e-13, 1e-14, 'vmap solve');
  await sameClose(B, bt.vmap((a: bt.Tensor) => la.slogdet(a)[1])(A), la.slogdet(A)[1], 1e-13, 1e-14, 'vmap slogdet');
  await sameClose(B, bt.vmap((b: bt.Tensor) => la.solve(A.slice([0], [1]).reshape([n, n]), b))(r), la.solve(A.slice([0], [1]).reshape([n, n]), r), 1e-13, 1e-14, 'vmap rhs only');
});

const isNumerical = (what?: RegExp) => (e: unknown) => e instanceof bt.NumericalError && (!what || what.test((e as Error).message));

/**
 * A linalg failure: on CPU the call throws (as before); on WebGPU the call returns and the next
 * read raises (GPU kernels cannot throw). Every failing output is read here, so no deferred error
 * is left pending for a later read.
 */
async function expectNumericalError(B: BackendCase, make: () => bt.Tensor, what: RegExp | undefined, msg: string): Promise<void> {
  if (B.name === 'cpu') {
    assert.throws(() => make(), isNumerical(what), msg);
    return;
  }
  const t = make();
  await t.data().then(
    () => assert.unreachable(`${msg}: the read after the failing op must throw`),
    (e: unknown) => assert.ok(isNumerical(what)(e), `${msg}: expected NumericalError${what ? ` matching ${what}` : ''}, got ${String(e)}`),
  );
  // reported once: the next read succeeds
  await t.data();
  t.dispose();
}

registerAll(backends, 'non-SPD cholesky throws NumericalError naming the batch index', async (B) => {
  const good = spdOf(randnB(B, [3, 3], 1)); // helpers.randSpd(3, 1) on CPU
  const bad = bt.tensor([[1, 2, 0], [2, 1, 0], [0, 0, 1]]);
  const batch = bt.stack([good, bad, good]);
  if (B.name === 'cpu') {
    let err: unknown;
    try {
      la.cholesky(batch);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof bt.NumericalError, `expected NumericalError, got ${String(err)}`);
    assert.match((err as Error).message, /#1/);
    assert.match((err as Error).message, /positive definite/);
  } else {
    await expectNumericalError(B, () => la.cholesky(batch), /#1.*positive definite/, 'batch with a non-SPD matrix #1');
  }
  await expectNumericalError(B, () => la.cholesky(bad), /not positive definite/, 'non-SPD');
  await expectNumericalError(B, () => la.cholesky(bt.tensor([[-1]])), undefined, 'negative 1×1');
  // a NaN entry is not silently accepted either
  await expectNumericalError(B, () => la.cholesky(bt.tensor([[NaN, 0], [0, 1]])), undefined, 'NaN entry');
});

registerAll(backends, 'singular solve throws NumericalError (and names the batch index); shape errors are ShapeErrors', async (B) => {
  const sing = bt.tensor([[1, 2], [2, 4]]); // LU with partial pivoting: u₂₂ = 2 − ½·4 = 0 exactly in float32 too
  await expectNumericalError(B, () => la.solve(sing, bt.tensor([1, 1])), /singular/, 'singular solve');
  await expectNumericalError(B, () => la.inv(bt.zeros([3, 3])), undefined, 'inv of zeros');
  const batch = bt.stack([bt.eye(2), bt.eye(2), sing]);
  await expectNumericalError(B, () => la.solve(batch, bt.ones([2, 1])), /#2/, 'batch with a singular matrix #2');
  // shape errors are found on the host: thrown at the call on every backend
  assert.throws(() => la.cholesky(bt.ones([2, 3])), (e: unknown) => e instanceof bt.ShapeError);
  assert.throws(() => la.solve(bt.eye(3), bt.ones([2, 1])), (e: unknown) => e instanceof bt.ShapeError);
});

registerAll(backends, 'linalg Jacobians (jacfwd == jacrev, batching the derivative rules) and Hessians (Laplace-style) vs numerics', async (B) => {
  const n = 3;
  const b = randnB(B, [n, n], 1400);
  const r = randnB(B, [n, 2], 1401);
  /** AD vs central differences: `helpers` (float64, as before) on CPU, the harness's float32 check on WebGPU. */
  const fdClose = async (jac: bt.Tensor, f: (x: bt.Tensor) => bt.Tensor, what: string, fdScale = 1) => {
    if (B.name === 'cpu') assertCloseF64(jac, numericJacobianF64(f, b), 1e-6, 1e-8, what);
    else await assertJacobianVsFD(B, jac, await numericJacobian({ ...B, fdStep: B.fdStep * FD_SCALE * fdScale }, f, b), what);
  };
  // triangularSolve (non-unit, lower) reads triOf(b)'s diagonal, whose smallest entry is 0.45 (see triStepScale)
  const fdScale: Record<string, number> = { triangularSolve: await triStepScale(B, triOf(b, true)) };
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
    await adClose(B, jf, jr, 1e-10, 1e-12, `${name}: jacfwd vs jacrev`);
    await fdClose(jr, f, `${name}: vs numeric`, fdScale[name]);
    const s = (z: bt.Tensor) => bt.sum(bt.sin(f(z)));
    await fdClose(bt.hessian(s)(b), bt.grad(s), `${name}: hessian vs numeric`, fdScale[name]);
  }
  // a Gaussian log-density's Hessian in B (what a Laplace approximation needs)
  const y = randnB(B, [n, 1], 1402);
  const logp = (z: bt.Tensor) => {
    const l = la.cholesky(spdOf(z));
    return bt.sum(y.mul(la.choleskySolve(l, y))).mul(-0.5).sub(la.logdetCholesky(l).mul(0.5));
  };
  const H = bt.hessian(logp)(b);
  const H2 = bt.reshape(H, [n * n, n * n]);
  await adClose(B, H2, H2.T, 1e-10, 1e-12, 'logp hessian symmetric');
  if (B.name === 'cpu') assertCloseF64(H2, bt.reshape(numericJacobianF64(bt.grad(logp), b), [n * n, n * n]), 1e-6, 1e-8, 'logp hessian vs numeric');
  else await assertJacobianVsFD(B, H, await numericJacobian(B, bt.grad(logp), b), 'logp hessian vs numeric');
});

registerAll(backends, 'per-example linalg gradients under vmap match one-at-a-time gradients', async (B) => {
  const Bm = randnB(B, [4, 3, 3], 1500);
  const f = (z: bt.Tensor) => la.logdetCholesky(la.cholesky(spdOf(z))).add(bt.sum(la.solve(genOf(z), bt.ones([3, 1]))));
  const per = bt.vmap(bt.grad(f))(Bm);
  // two evaluation orders of the same rules (batched vs one matrix): only rounding differs
  for (let i = 0; i < 4; i++) await adClose(B, per.slice([i], [1]).reshape([3, 3]), bt.grad(f)(Bm.slice([i], [1]).reshape([3, 3])), 1e-12, 1e-14, `example ${i}`);
});

test.run();
