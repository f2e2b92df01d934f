/**
 * vmap(f)(xs) equals stacking f(x_i) for a representative set of ops: elementwise with unbatched
 * broadcasting operands, reductions with axes, scans, matmul with an unbatched operand, gathers
 * with batched indices, shape ops, linear algebra of a batch, random draws from a batch of keys;
 * inAxes null / 1, outAxes 1, pytree arguments and outputs, nested vmap, vmap of grad.
 *
 * Every body runs on each backend (see ../backend-harness.ts): `name [cpu]` in float64 with the
 * tolerances of before (rtol 1e-12), and `name [webgpu]` in float32, where the batched and the
 * per-example computations may round differently (other kernel shapes, reduction trees, tiles):
 * rtol B.adRtol (64 ulps) with an absolute floor of B.adRtol·max|want|; int32 results are exact.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { backendsUnderTest, registerAll, assertCloseArr, randnB, read, type BackendCase } from '../backend-harness.js';
import { assertClose as assertCloseF64 } from '../helpers.js';

const backends = await backendsUnderTest('vmap');

const RTOL = 1e-12;
const N = 3; // the batch size

/** A random symmetric positive-definite matrix M Mᵀ/n + I on the backend under test. */
function randSpd(B: BackendCase, n: number, seed = 0): bt.Tensor {
  const m = randnB(B, [n, n], seed);
  return bt.matmul(m, m.mT).div(n).add(bt.eye(n, n, B.dtype));
}

/**
 * got vs want: on CPU `helpers.assertClose(got, want, cpuRtol, cpuAtol)` as before; on WebGPU
 * exact for int32 and where the CPU check is exact (cpuRtol = cpuAtol = 0: pure data movement),
 * else rtol B.adRtol with an absolute floor of B.adRtol·max|want|.
 */
async function close(B: BackendCase, got: bt.Tensor, want: bt.Tensor, cpuRtol: number, cpuAtol: number, what: string): Promise<void> {
  if (B.name === 'cpu') {
    assertCloseF64(got, want, cpuRtol, cpuAtol, what);
    return;
  }
  assert.equal([...got.shape], [...want.shape], `${what}: shape`);
  const w = await read(want);
  const exact = got.dtype === 'int32' || want.dtype === 'int32' || (cpuRtol === 0 && cpuAtol === 0);
  assertCloseArr(await read(got), w, exact ? 0 : B.adRtol, exact ? 0 : B.adRtol * w.reduce((m, v) => Math.max(m, Math.abs(v)), 0), what);
}

/** x indexed at position b of axis (the axis removed). */
function at(x: bt.Tensor, axis: number, b: number): bt.Tensor {
  return bt.squeeze(bt.slice(x, x.shape.map((_, i) => (i === axis ? b : 0)), x.shape.map((d, i) => (i === axis ? 1 : d))), axis);
}

/** The reference: run f once per example (arguments with a null axis are passed whole) and stack along outAxis. */
function perExample(f: (...a: bt.Tensor[]) => bt.Tensor, args: bt.Tensor[], inAxes: (number | null)[], outAxis = 0): bt.Tensor {
  const i0 = inAxes.findIndex((a) => a !== null);
  const size = args[i0]!.shape[inAxes[i0]! < 0 ? inAxes[i0]! + args[i0]!.ndim : inAxes[i0]!]!;
  const outs: bt.Tensor[] = [];
  for (let b = 0; b < size; b++) outs.push(f(...args.map((a, i) => (inAxes[i] === null ? a : at(a, inAxes[i]! < 0 ? inAxes[i]! + a.ndim : inAxes[i]!, b)))));
  return bt.stack(outs, outAxis);
}

async function check(B: BackendCase, name: string, f: (...a: bt.Tensor[]) => bt.Tensor, args: bt.Tensor[], inAxes: (number | null)[] = args.map(() => 0), outAxis = 0): Promise<void> {
  const got = bt.vmap(f, { inAxes, outAxes: outAxis })(...args) as bt.Tensor;
  const want = perExample(f, args, inAxes, outAxis);
  assert.equal([...got.shape], [...want.shape], `${name}: shape`);
  assert.is(got.dtype, want.dtype, `${name}: dtype`);
  assert.is(got.backend, B.name, `${name}: backend`);
  await close(B, got, want, RTOL, 1e-14, name);
}

const idx = (v: number[], shape?: number[]) => bt.tensor(Int32Array.from(v), { shape: shape ?? [v.length], dtype: 'int32' });

registerAll(backends, 'elementwise: unary, binary with batched and unbatched (broadcasting) operands, where, comparisons, clip', async (B) => {
  const x = randnB(B, [N, 2, 3], 1);
  const y = randnB(B, [N, 3], 2);
  const c = randnB(B, [2, 3], 3);
  const r = randnB(B, [3], 4);
  await check(B, 'exp', bt.exp, [x]);
  await check(B, 'tanh∘sin', (a) => bt.tanh(bt.sin(a)), [x]);
  await check(B, 'softplus', bt.softplus, [x]);
  await check(B, 'add batched+batched (broadcast ranks)', bt.add, [x, y]);
  await check(B, 'mul batched × unbatched of higher rank', bt.mul, [y, c], [0, null]);
  await check(B, 'sub unbatched − batched', bt.sub, [c, y], [null, 0]);
  await check(B, 'div by an unbatched vector', bt.div, [x, bt.exp(r)], [0, null]);
  await check(B, 'pow', (a, b) => bt.pow(bt.exp(a), b), [x, r], [0, null]);
  await check(B, 'maximum', bt.maximum, [x, c], [0, null]);
  await check(B, 'atan2', bt.atan2, [y, x]);
  await check(B, 'scalar constant', (a) => bt.mul(a, 2).add(1), [x]);
  await check(B, 'where(batched cond, unbatched, batched)', (a, b) => bt.where(bt.greater(a, 0), c, b), [y, x], [0, 0]);
  await check(B, 'where(unbatched cond, batched, scalar)', (a) => bt.where(bt.greater(c, 0), a, 0), [x]);
  await check(B, 'less (int32 output)', bt.less, [x, c], [0, null]);
  await check(B, 'clip', (a) => bt.clip(a, -0.5, 0.5), [x]);
  // a float64 round trip exists on CPU only; WebGPU casts through int32 instead
  if (B.name === 'cpu') await check(B, 'cast', (a) => bt.cast(bt.cast(a, 'float32'), 'float64'), [x]);
  else await check(B, 'cast', (a) => bt.cast(bt.cast(a.mul(3), 'int32'), 'float32'), [x]);
});

registerAll(backends, 'reductions and scans with axes (positive, negative, lists, keepdims) inside vmap', async (B) => {
  const x = randnB(B, [N, 2, 3, 4], 5);
  await check(B, 'sum all', (a) => bt.sum(a), [x]);
  await check(B, 'sum axis 1', (a) => bt.sum(a, { axis: 1 }), [x]);
  await check(B, 'sum axis -1 keepdims', (a) => bt.sum(a, { axis: -1, keepdims: true }), [x]);
  await check(B, 'mean axes [0, 2]', (a) => bt.mean(a, { axis: [0, 2] }), [x]);
  await check(B, 'max axis 0', (a) => bt.max(a, { axis: 0 }), [x]);
  await check(B, 'min axis -2 keepdims', (a) => bt.min(a, { axis: -2, keepdims: true }), [x]);
  await check(B, 'logsumexp axis 2', (a) => bt.logsumexp(a, { axis: 2 }), [x]);
  await check(B, 'variance axes [1, 2]', (a) => bt.variance(a, { axis: [1, 2] }), [x]);
  await check(B, 'argmax axis 1', (a) => bt.argmax(a, { axis: 1 }), [x]);
  await check(B, 'argmin flat', (a) => bt.argmin(a), [x]);
  await check(B, 'cumsum axis 0', (a) => bt.cumsum(a, { axis: 0 }), [x]);
  await check(B, 'cumsum reverse axis -1', (a) => bt.cumsum(a, { axis: -1, reverse: true }), [x]);
  await check(B, 'logcumsumexp axis 1', (a) => bt.logcumsumexp(a, { axis: 1 }), [x]);
  await check(B, 'softmax', (a) => bt.softmax(a, { axis: 1 }), [x]);
  await check(B, 'logSoftmax', (a) => bt.logSoftmax(a), [x]);
});

registerAll(backends, 'matmul: batched × unbatched (both sides), batched × batched, 1-D operands, mT, outer', async (B) => {
  const a = randnB(B, [N, 2, 3], 6);
  const w = randnB(B, [3, 4], 7);
  const v = randnB(B, [N, 3], 8);
  const m = randnB(B, [4, 2], 9);
  await check(B, 'x_i @ W', bt.matmul, [a, w], [0, null]);
  await check(B, 'M @ x_i', bt.matmul, [m, a], [null, 0]);
  await check(B, 'x_i @ y_i', (p, q) => bt.matmul(p, q.mT), [a, randnB(B, [N, 4, 3], 10)]);
  await check(B, 'vector_i @ W', bt.matmul, [v, w], [0, null]);
  await check(B, 'A_i @ vector_i', bt.matmul, [a, v]);
  await check(B, 'vector_i · vector', bt.matmul, [v, randnB(B, [3], 11)], [0, null]);
  await check(B, 'x_iᵀ @ x_i', (p) => bt.matmul(p.mT, p), [a]);
  await check(B, 'unbatched batch dims broadcast', bt.matmul, [randnB(B, [N, 3, 4], 12), randnB(B, [2, 4, 2], 13)], [0, null]);
  await check(B, 'outer', bt.outer, [v, randnB(B, [4], 14)], [0, null]);
});

registerAll(backends, 'take / takeAlongAxis / scatterAdd / sort with batched and unbatched indices (repeats, negatives)', async (B) => {
  const x = randnB(B, [N, 4, 3], 15);
  const ib = idx([0, 3, 3, 1, 2, 2, 0, 1, 3], [N, 3]);
  const ibNeg = idx([-1, 0, -4, 2, -2, -2, 3, -3, 0], [N, 3]);
  const iu = idx([2, -1, 0, 2]);
  await check(B, 'take batched x, unbatched idx, axis 0', (p) => bt.take(p, iu, 0), [x]);
  await check(B, 'take batched x, unbatched idx, axis 1', (p) => bt.take(p, idx([2, 0, 2, -1]), 1), [x]);
  await check(B, 'take batched x, batched idx, axis 0', (p, i) => bt.take(p, i, 0), [x, ib]);
  await check(B, 'take batched x, batched idx, axis 1', (p, i) => bt.take(p, i, 1), [x, idx([0, 2, 1, 1, -1, 0, 2, 2, 2], [N, 3])]);
  await check(B, 'take unbatched x, batched idx', (i) => bt.take(x.slice([0], [1]).squeeze(0), i, 0), [ib]);
  await check(B, 'take batched x, batched negative idx, axis 0', (p, i) => bt.take(p, i, 0), [x, ibNeg]);
  await check(B, 'take unbatched x, batched negative idx, axis 0', (i) => bt.take(randnB(B, [4, 2], 16), i, 0), [ibNeg]);
  await check(B, 'takeAlongAxis batched', (p, i) => bt.takeAlongAxis(p, i, 0), [x, idx([0, 1, 3, 3, -1, 2, 1, 1, 1, 0, 0, 0, 2, 3, -4, 1, 0, 2], [N, 2, 3])]);
  const u = randnB(B, [N, 4, 3], 17);
  await check(B, 'scatterAdd batched, unbatched idx', (p, q) => bt.scatterAdd(p, iu, q, 0), [x, u]);
  await check(B, 'scatterAdd batched idx', (p, i, q) => bt.scatterAdd(p, i, q.slice([0], [3]), 0), [x, ib, u]);
  await check(B, 'scatterAdd unbatched operand, batched updates', (q) => bt.scatterAdd(bt.zeros([4, 3]), iu, q, 0), [u]);
  await check(B, 'sort axis 0', (p) => bt.sort(p, { axis: 0 }), [x]);
  await check(B, 'sort descending axis -1', (p) => bt.sort(p, { descending: true }), [x]);
  await check(B, 'argsort', (p) => bt.argsort(p, { axis: 0 }), [x]);
});

registerAll(backends, 'shape ops: concat (with unbatched operands), stack, slice, pad, reshape, transpose, moveAxis, broadcastTo, squeeze, diag/diagonal/triu', async (B) => {
  const x = randnB(B, [N, 2, 3], 18);
  const c = randnB(B, [2, 3], 19);
  await check(B, 'concat axis 0 with an unbatched operand', (p) => bt.concat([p, c, p], 0), [x]);
  await check(B, 'concat axis -1', (p, q) => bt.concat([p, q], -1), [x, randnB(B, [N, 2, 1], 20)]);
  await check(B, 'stack axis 1', (p) => bt.stack([p, c], 1), [x]);
  await check(B, 'slice', (p) => bt.slice(p, [1, 1], [1, 2]), [x]);
  await check(B, 'slice negative start', (p) => bt.slice(p, [-1, -2]), [x]);
  await check(B, 'pad', (p) => bt.pad(p, [1, 0], [0, 2]), [x]);
  await check(B, 'reshape', (p) => bt.reshape(p, [3, 2]), [x]);
  await check(B, 'reshape -1', (p) => bt.reshape(p, [-1]), [x]);
  await check(B, 'transpose', (p) => bt.transpose(p), [x]);
  await check(B, 'transpose 3-D perm', (p) => bt.transpose(p, [2, 0, 1]), [randnB(B, [N, 2, 3, 4], 21)]);
  await check(B, 'moveAxis', (p) => bt.moveAxis(p, 0, -1), [randnB(B, [N, 2, 3, 4], 22)]);
  await check(B, 'broadcastTo', (p) => bt.broadcastTo(p, [4, 2, 3]), [x]);
  await check(B, 'broadcastTo from unit dims', (p) => bt.broadcastTo(p, [2, 3]), [randnB(B, [N, 1, 3], 23)]);
  await check(B, 'expandDims/squeeze', (p) => bt.squeeze(bt.expandDims(p, 1), 1), [x]);
  await check(B, 'diagonal', (p) => bt.diagonal(p, 1), [randnB(B, [N, 3, 3], 24)]);
  await check(B, 'diag', (p) => bt.diag(p), [randnB(B, [N, 3], 25)]);
  await check(B, 'triu/tril', (p) => bt.triu(p, -1).add(bt.tril(p, 1)), [randnB(B, [N, 3, 4], 26)]);
});

registerAll(backends, 'linear algebra of a batch: cholesky, solve, triangularSolve, slogdet, with batched or unbatched right-hand sides', async (B) => {
  const spd = bt.stack([randSpd(B, 3, 1), randSpd(B, 3, 2), randSpd(B, 3, 3)]);
  const rhs = randnB(B, [N, 3, 2], 27);
  const rhsU = randnB(B, [3, 2], 28);
  await check(B, 'cholesky', (a) => bt.linalg.cholesky(a), [spd]);
  await check(B, 'solve batched a, batched b', (a, b) => bt.linalg.solve(a, b), [spd, rhs]);
  await check(B, 'solve batched a, unbatched b', (a, b) => bt.linalg.solve(a, b), [spd, rhsU], [0, null]);
  await check(B, 'solve unbatched a, batched vector b', (a, b) => bt.linalg.solve(a, b), [randSpd(B, 3, 4), randnB(B, [N, 3], 29)], [null, 0]);
  await check(B, 'triangularSolve of the Cholesky factor', (a, b) => bt.linalg.triangularSolve(bt.linalg.cholesky(a), b), [spd, rhs]);
  await check(B, 'choleskySolve', (a, b) => bt.linalg.choleskySolve(bt.linalg.cholesky(a), b), [spd, rhs]);
  await check(B, 'logdet', (a) => bt.linalg.slogdet(a)[1], [spd]);
  await check(B, 'inv', (a) => bt.linalg.inv(a), [spd]);
});

registerAll(backends, 'random.normal / uniform / split with a batch of keys equal the per-key draws', async (B) => {
  const keys = bt.random.split(bt.random.key(0), 4);
  assert.equal([...keys.shape], [4, 2]);
  await check(B, 'normal', (k) => bt.random.normal(k, [3, 2]), [keys]);
  await check(B, 'normal scalar', (k) => bt.random.normal(k), [keys]);
  await check(B, 'uniform', (k) => bt.random.uniform(k, [5], { minval: -2, maxval: 3 }), [keys]);
  await check(B, 'split then normal', (k) => bt.random.normal(bt.random.split(k, 2).slice([1], [1]).squeeze(0), [2]), [keys]);
  await check(B, 'normal float32', (k) => bt.random.normal(k, [3], { dtype: 'float32' }), [keys]);
  await check(B, 'bits', (k) => bt.random.bits(k, [2]), [keys]);
  // draws from different keys differ
  const d = bt.vmap((k: bt.Tensor) => bt.random.normal(k, [3]))(keys) as bt.Tensor;
  const rows = (await d.array()) as number[][];
  assert.ok(rows[0]![0] !== rows[1]![0], 'keys give different draws');
});

registerAll(backends, 'inAxes: null and 1 (and negative); outAxes: 1', async (B) => {
  const x = randnB(B, [2, N, 3], 30);
  const w = randnB(B, [3, 4], 31);
  await check(B, 'inAxes 1', (p) => bt.tanh(p).sum({ axis: 0 }), [x], [1]);
  await check(B, 'inAxes -2', (p) => bt.exp(p), [x], [-2]);
  await check(B, 'inAxes [1, null]', (p, q) => bt.matmul(p, q), [x, w], [1, null]);
  await check(B, 'outAxes 1', (p) => bt.matmul(p, w), [x], [1], 1);
  await check(B, 'inAxes [null, 0] outAxes 1', (q, p) => bt.mul(q, p), [w, randnB(B, [N, 3, 4], 32)], [null, 0], 1);
  await check(B, 'outAxes 2', (p) => bt.outer(p, bt.ones([2])), [randnB(B, [N, 3], 33)], [0], 2);
  // a single (non-array) inAxes applies to every argument
  const a = randnB(B, [2, N], 34);
  const b = randnB(B, [3, N], 35);
  const got = bt.vmap((p: bt.Tensor, q: bt.Tensor) => bt.outer(p, q), { inAxes: 1 })(a, b) as bt.Tensor;
  await close(B, got, perExample((p, q) => bt.outer(p, q), [a, b], [1, 1]), RTOL, 0, 'inAxes: 1 for all');
  // an output that does not depend on the mapped argument is broadcast along the batch
  const k = bt.vmap((_p: bt.Tensor) => w, { outAxes: 1 })(randnB(B, [N], 36)) as bt.Tensor;
  assert.equal([...k.shape], [3, N, 4]);
  await close(B, k, perExample(() => w, [randnB(B, [N], 36)], [0], 1), 0, 0, 'unbatched output');
});

registerAll(backends, 'pytree arguments and outputs', async (B) => {
  const x = randnB(B, [N, 3], 37);
  const y = randnB(B, [N, 2], 38);
  const f = (p: { a: bt.Tensor; b: bt.Tensor }) => [bt.sum(p.a), bt.outer(p.a, p.b)];
  const [s, o] = bt.vmap(f)({ a: x, b: y }) as bt.Tensor[];
  await close(B, s!, perExample((p) => bt.sum(p), [x], [0]), RTOL, 0, 'pytree out 0');
  await close(B, o!, perExample((p, q) => bt.outer(p, q), [x, y], [0, 0]), RTOL, 0, 'pytree out 1');
});

registerAll(backends, 'nested vmap equals the doubly indexed loop (and matches over inAxes choices)', async (B) => {
  const x = randnB(B, [N, 4, 3], 39);
  const w = randnB(B, [3, 2], 40);
  const inner = (r: bt.Tensor) => bt.tanh(bt.matmul(r, w)).sum();
  const nested = bt.vmap(bt.vmap(inner)) as (t: bt.Tensor) => bt.Tensor;
  const got = nested(x);
  const want = bt.stack(Array.from({ length: N }, (_, i) => bt.stack(Array.from({ length: 4 }, (_, j) => inner(at(at(x, 0, i), 0, j))))));
  assert.equal([...got.shape], [N, 4]);
  await close(B, got, want, RTOL, 0, 'vmap(vmap(f))');
  // outer over axis 1, inner over axis 0: out[j, i] = f(x[i, j])
  const swapped = bt.vmap(bt.vmap(inner), { inAxes: 1 }) as (t: bt.Tensor) => bt.Tensor;
  await close(B, swapped(x), bt.transpose(want, [1, 0]), RTOL, 0, 'vmap(vmap(f), inAxes 1)');
  // pairwise: vmap over rows of a, inner vmap over rows of b (unbatched for the outer)
  const a = randnB(B, [N, 3], 41);
  const b = randnB(B, [5, 3], 42);
  const dist = (p: bt.Tensor, q: bt.Tensor) => bt.sum(bt.square(bt.sub(p, q)));
  const pair = bt.vmap((p: bt.Tensor) => bt.vmap((q: bt.Tensor) => dist(p, q))(b)) as (t: bt.Tensor) => bt.Tensor;
  const wantPair = bt.stack(Array.from({ length: N }, (_, i) => bt.stack(Array.from({ length: 5 }, (_, j) => dist(at(a, 0, i), at(b, 0, j))))));
  await close(B, pair(a), wantPair, RTOL, 0, 'pairwise nested vmap');
  // triple nesting with a batched take inside
  const ids = idx([0, 2, 1, 1, 2, 0], [2, 3]);
  const trip = bt.vmap(bt.vmap(bt.vmap((p: bt.Tensor, i: bt.Tensor) => bt.take(p, i)), { inAxes: [null, 0] }), { inAxes: [0, null] }) as (p: bt.Tensor, i: bt.Tensor) => bt.Tensor;
  const xx = randnB(B, [N, 3, 3], 43);
  const t3 = trip(xx, ids);
  assert.equal([...t3.shape], [N, 2, 3]);
  const wantT = bt.stack(Array.from({ length: N }, (_, i) => bt.stack(Array.from({ length: 2 }, (_, j) => bt.stack(Array.from({ length: 3 }, (_, k) => bt.take(at(at(xx, 0, i), 0, k), at(at(ids, 0, j), 0, k))))))));
  await close(B, t3, wantT, 0, 0, 'triple nested vmap with take');
});

registerAll(backends, 'vmap of grad (per-example gradients), grad of vmap, and jvp inside vmap', async (B) => {
  const x = randnB(B, [N, 4], 44);
  const w = randnB(B, [4, 2], 45);
  const loss = (p: bt.Tensor) => bt.logsumexp(bt.matmul(p, w)).add(bt.sum(bt.sort(p).mul(bt.arange(4).astype(B.dtype))));
  await check(B, 'vmap(grad)', (p) => bt.grad(loss)(p), [x]);
  await check(B, 'vmap(jvp)', (p) => bt.jvp(loss, [p], [bt.onesLike(p)])[1] as bt.Tensor, [x]);
  const gv = bt.grad((p: bt.Tensor) => bt.sum((bt.vmap(loss) as (t: bt.Tensor) => bt.Tensor)(p)))(x);
  await close(B, gv, perExample((p) => bt.grad(loss)(p), [x], [0]), RTOL, 1e-14, 'grad(sum ∘ vmap)');
  const hw = (p: bt.Tensor) => bt.grad((q: bt.Tensor) => bt.sum(bt.vmap((r: bt.Tensor) => bt.tanh(bt.matmul(r, q)).sum())(p) as bt.Tensor))(w);
  const want = bt.grad((q: bt.Tensor) => bt.sum(bt.tanh(bt.matmul(x, q))))(w);
  await close(B, hw(x), want, RTOL, 1e-14, 'grad w.r.t. an unbatched weight through vmap');
});

test.run();
