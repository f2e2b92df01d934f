/**
 * bt.linalg's per-matrix failure mode (`onFailure: 'nan'`) for cholesky, solve and inv, on every
 * backend: a failing matrix comes out all NaN, the other matrices of the batch bitwise as the
 * same kernel gives them alone (one workgroup per matrix on WebGPU, the same loop on CPU), no
 * error is raised (at the call or at a later read), derivatives of the failed matrices are NaN
 * and the others' equal the throwing mode's.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { backendsUnderTest, randnB, read, registerAll, type BackendCase } from '../backend-harness.js';

const backends = await backendsUnderTest('linalg-failure');
const la = bt.linalg;

/** A = B Bᵀ/n + I: SPD for every B. */
function spdOf(b: bt.Tensor): bt.Tensor {
  const n = b.shape[b.ndim - 1]!;
  return bt.matmul(b, b.mT).div(n).add(bt.eye(n));
}

/** Values of matrix `t` of a batch [k, n, m] read back. */
async function matrixAt(x: bt.Tensor, t: number): Promise<number[]> {
  const v = await read(x);
  const size = x.shape[x.ndim - 1]! * x.shape[x.ndim - 2]!;
  return v.slice(t * size, (t + 1) * size);
}

async function assertAllNaN(x: bt.Tensor, t: number, what: string): Promise<void> {
  const v = await matrixAt(x, t);
  assert.ok(v.length > 0 && v.every(Number.isNaN), `${what}: matrix ${t} should be all NaN, got ${v.slice(0, 6).join(', ')}…`);
}

async function assertSame(got: bt.Tensor, t: number, want: bt.Tensor, what: string): Promise<void> {
  const g = await matrixAt(got, t);
  const w = await read(want);
  assert.equal(g, w, `${what}: matrix ${t} differs from the matrix factored alone`);
}

/** Indefinite (eigenvalues 3, −1, 1), symmetric so the symmetrisation does not change it. */
const indefinite = (B: BackendCase) => bt.tensor([[1, 2, 0], [2, 1, 0], [0, 0, 1]], { dtype: B.dtype });

registerAll(backends, "cholesky onFailure 'nan': failed matrices all NaN, the others exact, nothing thrown", async (B) => {
  const g0 = spdOf(randnB(B, [3, 3], 11));
  const g2 = spdOf(randnB(B, [3, 3], 12));
  const nanEntry = bt.tensor([[NaN, 0, 0], [0, 1, 0], [0, 0, 1]], { dtype: B.dtype });
  const late = bt.tensor([[4, 0, 0], [0, 1, 0], [0, 0, -1e-3]], { dtype: B.dtype }); // fails at the last pivot
  const batch = bt.stack([g0, indefinite(B), g2, nanEntry, late]);
  const L = la.cholesky(batch, { onFailure: 'nan' });
  assert.equal([...L.shape], [5, 3, 3]);
  await assertSame(L, 0, la.cholesky(g0), 'good #0');
  await assertSame(L, 2, la.cholesky(g2), 'good #2');
  await assertAllNaN(L, 1, 'indefinite');
  await assertAllNaN(L, 3, 'NaN entry');
  await assertAllNaN(L, 4, 'fails at the last pivot');
  // the failure mask, as an algorithm reads it
  const mask = await read(bt.isNan(bt.diagonal(L).slice([0, 0], [5, 1]).reshape([5])));
  assert.equal(mask, [0, 1, 0, 1, 1]);
  // a later read on the same backend raises nothing (no deferred status was left pending)
  await read(bt.add(L, 0));
  // unsymmetrised path too
  await assertAllNaN(la.cholesky(bt.stack([g0, indefinite(B)]), { symmetrizeInput: false, onFailure: 'nan' }), 1, 'unsymmetrised');
  // 'throw' is the default and can be named
  if (B.name === 'cpu') assert.throws(() => la.cholesky(batch, { onFailure: 'throw' }), (e: unknown) => e instanceof bt.NumericalError);
});

registerAll(backends, "solve / inv onFailure 'nan': singular matrices all NaN, the others exact", async (B) => {
  const sing = bt.tensor([[1, 2], [2, 4]], { dtype: B.dtype }); // u₂₂ = 0 exactly in float32 too
  const a0 = spdOf(randnB(B, [2, 2], 21));
  const a2 = spdOf(randnB(B, [2, 2], 22));
  const A = bt.stack([a0, sing, a2]);
  const rhs = randnB(B, [3, 2, 4], 23);
  const X = la.solve(A, rhs, { onFailure: 'nan' });
  await assertSame(X, 0, la.solve(a0, rhs.slice([0, 0, 0], [1, 2, 4]).reshape([2, 4])), 'solve #0');
  await assertSame(X, 2, la.solve(a2, rhs.slice([2, 0, 0], [1, 2, 4]).reshape([2, 4])), 'solve #2');
  await assertAllNaN(X, 1, 'solve singular');
  const I = la.inv(A, { onFailure: 'nan' });
  await assertSame(I, 0, la.inv(a0), 'inv #0');
  await assertSame(I, 2, la.inv(a2), 'inv #2');
  await assertAllNaN(I, 1, 'inv singular');
  await assertAllNaN(la.inv(bt.zeros([1, 3, 3], B.dtype), { onFailure: 'nan' }), 0, 'inv of zeros');
  // a vector right-hand side keeps its shape
  const xv = la.solve(sing, bt.ones([2], B.dtype), { onFailure: 'nan' });
  assert.equal([...xv.shape], [2]);
  assert.ok((await read(xv)).every(Number.isNaN), 'vector rhs: NaN');
  await read(bt.add(X, 0));
});

registerAll(backends, "onFailure 'nan' derivatives: NaN for the failed matrix, the throwing mode's for the others", async (B) => {
  const b0 = randnB(B, [3, 3], 31);
  const b2 = randnB(B, [3, 3], 32);
  const ct = randnB(B, [3, 3, 3], 33);
  const bad = indefinite(B);
  // reverse mode: the cotangent of the whole batch
  const [, pb] = bt.vjp((a: bt.Tensor) => la.cholesky(a, { onFailure: 'nan' }), bt.stack([spdOf(b0), bad, spdOf(b2)]));
  const g = pb(ct)[0] as bt.Tensor;
  const good = bt.stack([spdOf(b0), spdOf(b2)]);
  const [, pbGood] = bt.vjp((a: bt.Tensor) => la.cholesky(a), good);
  const ctGood = bt.stack([ct.slice([0, 0, 0], [1, 3, 3]).reshape([3, 3]), ct.slice([2, 0, 0], [1, 3, 3]).reshape([3, 3])]);
  const gGood = pbGood(ctGood)[0] as bt.Tensor;
  assert.equal(await matrixAt(g, 0), await matrixAt(gGood, 0), 'vjp #0 as in throwing mode');
  assert.equal(await matrixAt(g, 2), await matrixAt(gGood, 1), 'vjp #2 as in throwing mode');
  await assertAllNaN(g, 1, 'vjp of the failed matrix');
  // forward mode
  const tan = randnB(B, [3, 3, 3], 34);
  const [, jt] = bt.jvp((a: bt.Tensor) => la.cholesky(a, { onFailure: 'nan' }), [bt.stack([spdOf(b0), bad, spdOf(b2)])], [tan]);
  const tanGood = bt.stack([tan.slice([0, 0, 0], [1, 3, 3]).reshape([3, 3]), tan.slice([2, 0, 0], [1, 3, 3]).reshape([3, 3])]);
  const [, jtGood] = bt.jvp((a: bt.Tensor) => la.cholesky(a), [good], [tanGood]);
  assert.equal(await matrixAt(jt as bt.Tensor, 2), await matrixAt(jtGood as bt.Tensor, 1), 'jvp #2 as in throwing mode');
  await assertAllNaN(jt as bt.Tensor, 1, 'jvp of the failed matrix');
  // solve: the backward solve with Aᵀ runs in 'nan' mode too (no throw in the backward pass)
  const sing = bt.tensor([[1, 2], [2, 4]], { dtype: B.dtype });
  const a0 = spdOf(randnB(B, [2, 2], 35));
  const r = randnB(B, [2, 2, 1], 36);
  const [, pbs] = bt.vjp((a: bt.Tensor) => la.solve(a, r, { onFailure: 'nan' }), bt.stack([a0, sing]));
  const gs = pbs(bt.onesLike(r))[0] as bt.Tensor;
  const [, pbs0] = bt.vjp((a: bt.Tensor) => la.solve(a, r.slice([0, 0, 0], [1, 2, 1]).reshape([2, 1])), a0);
  assert.equal(await matrixAt(gs, 0), await read(pbs0(bt.ones([2, 1], B.dtype))[0] as bt.Tensor), 'solve vjp #0');
  await assertAllNaN(gs, 1, 'solve vjp of the singular matrix');
});

registerAll(backends, "onFailure 'nan' under vmap matches the batched op", async (B) => {
  const A = bt.stack([spdOf(randnB(B, [3, 3], 41)), indefinite(B)]);
  const v = bt.vmap((a: bt.Tensor) => la.cholesky(a, { onFailure: 'nan' }))(A);
  assert.equal(await read(v), await read(la.cholesky(A, { onFailure: 'nan' })));
});

test('onFailure: a bad value or an unknown option is a ConfigError naming it', () => {
  const a = bt.eye(2);
  const isConfig = (what: RegExp) => (e: unknown) => e instanceof bt.ConfigError && what.test((e as Error).message);
  assert.throws(() => la.cholesky(a, { onFailure: 'zero' as 'nan' }), isConfig(/cholesky: onFailure must be 'throw' or 'nan'/));
  assert.throws(() => la.solve(a, a, { onFailure: 'mask' as 'nan' }), isConfig(/solve: onFailure/));
  assert.throws(() => la.inv(a, { onFailur: 'nan' } as never), isConfig(/inv: unknown option 'onFailur'/));
});

test.run();
