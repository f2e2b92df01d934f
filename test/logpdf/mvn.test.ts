/**
 * multivariateNormal via the Cholesky factor: closed form, batching, agreement with diagNormal, gradients.
 *
 * Every body runs on each backend (see ../backend-harness.ts): `name [cpu]` in float64 with the
 * checks and tolerances of ../helpers.ts as before, and `name [webgpu]` in float32, read with
 * `await t.data()`:
 *  - values: the value is −½q − ½ log det Σ − (d/2) log 2π, each term rounded; the tolerance is
 *    B.adRtol (64 ulps) relative to |½q| + |½ log det| + |(d/2) log 2π|. The factors here are of
 *    SPD matrices B Bᵀ/d + I with d ≤ 5, cond(L) ≤ 3, so the triangular solve's forward error
 *    (≲ d·cond(L)·eps relative, Higham Thm 8.5) stays inside those 64 ulps;
 *  - two evaluations of the same density by different kernels (batched vs one point, a diagonal
 *    factor vs diagNormal) agree within the same budget;
 *  - derivatives: the harness's float32 directional check (reverse and forward mode against host
 *    float64 central differences of backend evaluations).
 */
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import * as bt from '../../src/index.js';
import { assertClose, checkDirectional as checkDirectionalF64, randn, randSpd } from '../helpers.js';
import { assertCloseArr, backendsUnderTest, checkDirectional, randnB, read, registerAll, T, type BackendCase } from '../backend-harness.js';

const backends = await backendsUnderTest('logpdf/mvn');

const LOG_2PI = Math.log(2 * Math.PI);

/** B Bᵀ/d + I on the backend (randSpd of ../helpers.ts on CPU: the same matrix, in float64). */
function spd(B: BackendCase, d: number, seed: number): bt.Tensor {
  if (B.name === 'cpu') return randSpd(d, seed);
  const b = randnB(B, [d, d], seed);
  return bt.matmul(b, b.mT).div(d).add(bt.eye(d));
}

const rn = (B: BackendCase, shape: number[], seed: number) => (B.name === 'cpu' ? randn(shape, seed) : randnB(B, shape, seed));

/**
 * Host float64 log N(x | mean, L Lᵀ) of the values the backend holds, with the magnitude of its
 * terms |½q| + |Σ log Lᵢᵢ| + |(d/2) log 2π| (the rounding scale of the float32 evaluation).
 */
function hostMvn(x: number[], mean: number[], L: number[], d: number): { value: number; scale: number } {
  const diff = x.map((v, i) => v - mean[i % mean.length]!);
  const z = new Array<number>(d).fill(0);
  for (let i = 0; i < d; i++) {
    let s = diff[i]!;
    for (let k = 0; k < i; k++) s -= L[i * d + k]! * z[k]!;
    z[i] = s / L[i * d + i]!;
  }
  const q = z.reduce((s, v) => s + v * v, 0);
  let logdet = 0;
  for (let i = 0; i < d; i++) logdet += Math.log(L[i * d + i]!);
  return { value: -0.5 * q - logdet - 0.5 * d * LOG_2PI, scale: 0.5 * q + Math.abs(logdet) + 0.5 * d * LOG_2PI };
}

/** float32: got within B.adRtol·scale of want. */
async function gpuClose(B: BackendCase, got: bt.Tensor, want: number[], scale: number[], what: string): Promise<void> {
  assert.is(got.backend, B.name, `${what}: ran on ${B.name}`);
  assert.is(got.dtype, B.dtype, `${what}: dtype`);
  assertCloseArr(await read(got), want, 0, 0, what, scale.map((v) => B.adRtol * v));
}

registerAll(backends, 'closed form in d = 2: Σ = [[2, ½], [½, 1]], x = (1, −1)', async (B) => {
  // Σ⁻¹ = [[1, −½], [−½, 2]]/1.75, so xᵀΣ⁻¹x = 4/1.75; log N = −½·4/1.75 − ½ log 1.75 − log 2π
  const L = bt.linalg.cholesky(bt.tensor([[2, 0.5], [0.5, 1]]));
  const a = bt.logpdf.multivariateNormal(bt.tensor([1, -1]), bt.tensor([0, 0]), L);
  const b = bt.logpdf.multivariateNormal(bt.tensor([2, 0]), bt.tensor([1, 1]), L);
  if (B.name === 'cpu') {
    assertClose(a, -3.2605421032341995, 1e-14);
    assertClose(b, -3.2605421032341995, 1e-14);
    return;
  }
  const scale = [0.5 * (4 / 1.75) + 0.5 * Math.log(1.75) + LOG_2PI];
  await gpuClose(B, a, [-3.2605421032341995], scale, 'x = (1, −1)');
  await gpuClose(B, b, [-3.2605421032341995], scale, 'x = (2, 0), mean = (1, 1)');
});

registerAll(backends, 'a diagonal factor agrees with diagNormal (sd = diag L)', async (B) => {
  const x = rn(B, [5], 1);
  const sd = [0.5, 1, 2, 3, 0.1];
  const L = bt.diag(bt.tensor(sd));
  const mvn = bt.logpdf.multivariateNormal(x, 0.3, L);
  const diagN = bt.logpdf.diagNormal(x, 0.3, bt.tensor(sd));
  if (B.name === 'cpu') {
    assertClose(mvn, diagN, 1e-13);
    return;
  }
  const h = hostMvn(await read(x), [0.3], (await read(L)), 5);
  await gpuClose(B, mvn, [h.value], [h.scale], 'multivariateNormal');
  await gpuClose(B, diagN, [h.value], [h.scale], 'diagNormal');
});

registerAll(backends, 'batched over leading axes of x, with one factor or a batch of factors', async (B) => {
  const d = 3;
  const L = bt.linalg.cholesky(spd(B, d, 2));
  const mean = rn(B, [d], 3);
  const x = rn(B, [4, 2, d], 4);
  const lp = bt.logpdf.multivariateNormal(x, mean, L);
  assert.equal(lp.shape, [4, 2]);
  const rows = bt.reshape(x, [8, d]);
  const eachT = Array.from({ length: 8 }, (_, i) => bt.logpdf.multivariateNormal(bt.reshape(bt.slice(rows, [i, 0], [1, d]), [d]), mean, L));
  // a batch of two factors for a batch of two points
  const L2 = bt.stack([L, bt.linalg.cholesky(spd(B, d, 9))]);
  const x2 = rn(B, [2, d], 5);
  const lp2 = bt.logpdf.multivariateNormal(x2, mean, L2);
  assert.equal(lp2.shape, [2]);
  const second = bt.logpdf.multivariateNormal(bt.reshape(bt.slice(x2, [1, 0], [1, d]), [d]), mean, bt.reshape(bt.slice(L2, [1, 0, 0], [1, d, d]), [d, d]));
  if (B.name === 'cpu') {
    assertClose(lp, eachT.map((t) => t.item()), 1e-13);
    assertClose(bt.slice(lp2, [1], [1]), [second.item()], 1e-13);
    return;
  }
  // every evaluation against the host density of the float32 values the backend holds
  const [xv, mv, Lv, L2v, x2v] = await Promise.all([read(x), read(mean), read(L), read(L2), read(x2)]);
  const hs = Array.from({ length: 8 }, (_, i) => hostMvn(xv.slice(i * d, (i + 1) * d), mv, Lv, d));
  await gpuClose(B, lp, hs.map((h) => h.value), hs.map((h) => h.scale), 'batched x, one factor');
  for (let i = 0; i < 8; i++) await gpuClose(B, eachT[i]!, [hs[i]!.value], [hs[i]!.scale], `point ${i} alone`);
  const h2 = [0, 1].map((i) => hostMvn(x2v.slice(i * d, (i + 1) * d), mv, L2v.slice(i * d * d, (i + 1) * d * d), d));
  await gpuClose(B, lp2, h2.map((h) => h.value), h2.map((h) => h.scale), 'a batch of factors');
  await gpuClose(B, second, [h2[1]!.value], [h2[1]!.scale], 'the second factor alone');
});

registerAll(backends, 'gradients in x, mean and the factor match finite differences', async (B) => {
  const d = 3;
  const L = bt.linalg.cholesky(spd(B, d, 6));
  const mean = rn(B, [d], 7);
  const x = rn(B, [2, d], 8);
  if (B.name === 'cpu') {
    checkDirectionalF64((v) => bt.logpdf.multivariateNormal(v, mean, L), x, 1, 1e-6, 'x');
    checkDirectionalF64((m) => bt.logpdf.multivariateNormal(x, m, L), mean, 2, 1e-6, 'mean');
    checkDirectionalF64((l) => bt.logpdf.multivariateNormal(x, mean, bt.tril(l)), L, 3, 1e-6, 'L');
    return;
  }
  await checkDirectional(B, (v) => bt.logpdf.multivariateNormal(v, mean, L), x, 1, 'x');
  await checkDirectional(B, (m) => bt.logpdf.multivariateNormal(x, m, L), mean, 2, 'mean');
  await checkDirectional(B, (l) => bt.logpdf.multivariateNormal(x, mean, bt.tril(l)), L, 3, 'L');
  // a batch of factors, and a broadcast mean [1, d] (the jvp of the broadcast operands)
  const L2 = bt.stack([L, bt.linalg.cholesky(spd(B, d, 10))]);
  await checkDirectional(B, (l) => bt.logpdf.multivariateNormal(x, mean, bt.tril(l)), L2, 4, 'a batch of factors');
  await checkDirectional(B, (m) => bt.logpdf.multivariateNormal(x, m, L2), T(B, await read(mean), [1, d]), 5, 'broadcast mean [1, d]');
});

registerAll(backends, 'bad shapes are ShapeErrors naming them', () => {
  const L = bt.eye(3);
  assert.throws(() => bt.logpdf.multivariateNormal(bt.ones([2]), 0, L), (e: Error) => e instanceof bt.ShapeError && /\[\.\.\., 3\].*\[2\]/.test(e.message));
  assert.throws(() => bt.logpdf.multivariateNormal(bt.ones([3]), 0, bt.ones([3, 2])), (e: Error) => e instanceof bt.ShapeError && /square/.test(e.message));
  assert.throws(() => bt.logpdf.multivariateNormal(bt.ones([3]), bt.ones([2]), L), (e: Error) => e instanceof bt.ShapeError && /mean/.test(e.message));
  assert.throws(() => bt.logpdf.multivariateNormal(bt.ones([3]), 0, [[1]] as never), (e: Error) => e instanceof bt.ConfigError);
});

test.run();
