/**
 * vmap(f)(xs) equals stacking f(x_i) for a representative set of ops: elementwise with unbatched
 * broadcasting operands, reductions with axes, scans, matmul with an unbatched operand, gathers
 * with batched indices, shape ops, linear algebra of a batch, random draws from a batch of keys;
 * inAxes null / 1, outAxes 1, pytree arguments and outputs, nested vmap, vmap of grad.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose, randn, randSpd } from '../helpers.js';

const RTOL = 1e-12;
const B = 3;

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

function check(name: string, f: (...a: bt.Tensor[]) => bt.Tensor, args: bt.Tensor[], inAxes: (number | null)[] = args.map(() => 0), outAxis = 0): void {
  const got = bt.vmap(f, { inAxes, outAxes: outAxis })(...args) as bt.Tensor;
  const want = perExample(f, args, inAxes, outAxis);
  assert.equal([...got.shape], [...want.shape], `${name}: shape`);
  assert.is(got.dtype, want.dtype, `${name}: dtype`);
  assertClose(got, want, RTOL, 1e-14, name);
}

const idx = (v: number[], shape?: number[]) => bt.tensor(Int32Array.from(v), { shape: shape ?? [v.length], dtype: 'int32' });

test('elementwise: unary, binary with batched and unbatched (broadcasting) operands, where, comparisons, clip', () => {
  const x = randn([B, 2, 3], 1);
  const y = randn([B, 3], 2);
  const c = randn([2, 3], 3);
  const r = randn([3], 4);
  check('exp', bt.exp, [x]);
  check('tanh∘sin', (a) => bt.tanh(bt.sin(a)), [x]);
  check('softplus', bt.softplus, [x]);
  check('add batched+batched (broadcast ranks)', bt.add, [x, y]);
  check('mul batched × unbatched of higher rank', bt.mul, [y, c], [0, null]);
  check('sub unbatched − batched', bt.sub, [c, y], [null, 0]);
  check('div by an unbatched vector', bt.div, [x, bt.exp(r)], [0, null]);
  check('pow', (a, b) => bt.pow(bt.exp(a), b), [x, r], [0, null]);
  check('maximum', bt.maximum, [x, c], [0, null]);
  check('atan2', bt.atan2, [y, x]);
  check('scalar constant', (a) => bt.mul(a, 2).add(1), [x]);
  check('where(batched cond, unbatched, batched)', (a, b) => bt.where(bt.greater(a, 0), c, b), [y, x], [0, 0]);
  check('where(unbatched cond, batched, scalar)', (a) => bt.where(bt.greater(c, 0), a, 0), [x]);
  check('less (int32 output)', bt.less, [x, c], [0, null]);
  check('clip', (a) => bt.clip(a, -0.5, 0.5), [x]);
  check('cast', (a) => bt.cast(bt.cast(a, 'float32'), 'float64'), [x]);
});

test('reductions and scans with axes (positive, negative, lists, keepdims) inside vmap', () => {
  const x = randn([B, 2, 3, 4], 5);
  check('sum all', (a) => bt.sum(a), [x]);
  check('sum axis 1', (a) => bt.sum(a, { axis: 1 }), [x]);
  check('sum axis -1 keepdims', (a) => bt.sum(a, { axis: -1, keepdims: true }), [x]);
  check('mean axes [0, 2]', (a) => bt.mean(a, { axis: [0, 2] }), [x]);
  check('max axis 0', (a) => bt.max(a, { axis: 0 }), [x]);
  check('min axis -2 keepdims', (a) => bt.min(a, { axis: -2, keepdims: true }), [x]);
  check('logsumexp axis 2', (a) => bt.logsumexp(a, { axis: 2 }), [x]);
  check('variance axes [1, 2]', (a) => bt.variance(a, { axis: [1, 2] }), [x]);
  check('argmax axis 1', (a) => bt.argmax(a, { axis: 1 }), [x]);
  check('argmin flat', (a) => bt.argmin(a), [x]);
  check('cumsum axis 0', (a) => bt.cumsum(a, { axis: 0 }), [x]);
  check('cumsum reverse axis -1', (a) => bt.cumsum(a, { axis: -1, reverse: true }), [x]);
  check('logcumsumexp axis 1', (a) => bt.logcumsumexp(a, { axis: 1 }), [x]);
  check('softmax', (a) => bt.softmax(a, { axis: 1 }), [x]);
  check('logSoftmax', (a) => bt.logSoftmax(a), [x]);
});

test('matmul: batched × unbatched (both sides), batched × batched, 1-D operands, mT, outer', () => {
  const a = randn([B, 2, 3], 6);
  const w = randn([3, 4], 7);
  const v = randn([B, 3], 8);
  const m = randn([4, 2], 9);
  check('x_i @ W', bt.matmul, [a, w], [0, null]);
  check('M @ x_i', bt.matmul, [m, a], [null, 0]);
  check('x_i @ y_i', (p, q) => bt.matmul(p, q.mT), [a, randn([B, 4, 3], 10)]);
  check('vector_i @ W', bt.matmul, [v, w], [0, null]);
  check('A_i @ vector_i', bt.matmul, [a, v]);
  check('vector_i · vector', bt.matmul, [v, randn([3], 11)], [0, null]);
  check('x_iᵀ @ x_i', (p) => bt.matmul(p.mT, p), [a]);
  check('unbatched batch dims broadcast', bt.matmul, [randn([B, 3, 4], 12), randn([2, 4, 2], 13)], [0, null]);
  check('outer', bt.outer, [v, randn([4], 14)], [0, null]);
});

test('take / takeAlongAxis / scatterAdd / sort with batched and unbatched indices (repeats, negatives)', () => {
  const x = randn([B, 4, 3], 15);
  const ib = idx([0, 3, 3, 1, 2, 2, 0, 1, 3], [B, 3]);
  const ibNeg = idx([-1, 0, -4, 2, -2, -2, 3, -3, 0], [B, 3]);
  const iu = idx([2, -1, 0, 2]);
  check('take batched x, unbatched idx, axis 0', (p) => bt.take(p, iu, 0), [x]);
  check('take batched x, unbatched idx, axis 1', (p) => bt.take(p, idx([2, 0, 2, -1]), 1), [x]);
  check('take batched x, batched idx, axis 0', (p, i) => bt.take(p, i, 0), [x, ib]);
  check('take batched x, batched idx, axis 1', (p, i) => bt.take(p, i, 1), [x, idx([0, 2, 1, 1, -1, 0, 2, 2, 2], [B, 3])]);
  check('take unbatched x, batched idx', (i) => bt.take(x.slice([0], [1]).squeeze(0), i, 0), [ib]);
  check('take batched x, batched negative idx, axis 0', (p, i) => bt.take(p, i, 0), [x, ibNeg]);
  check('take unbatched x, batched negative idx, axis 0', (i) => bt.take(randn([4, 2], 16), i, 0), [ibNeg]);
  check('takeAlongAxis batched', (p, i) => bt.takeAlongAxis(p, i, 0), [x, idx([0, 1, 3, 3, -1, 2, 1, 1, 1, 0, 0, 0, 2, 3, -4, 1, 0, 2], [B, 2, 3])]);
  const u = randn([B, 4, 3], 17);
  check('scatterAdd batched, unbatched idx', (p, q) => bt.scatterAdd(p, iu, q, 0), [x, u]);
  check('scatterAdd batched idx', (p, i, q) => bt.scatterAdd(p, i, q.slice([0], [3]), 0), [x, ib, u]);
  check('scatterAdd unbatched operand, batched updates', (q) => bt.scatterAdd(bt.zeros([4, 3]), iu, q, 0), [u]);
  check('sort axis 0', (p) => bt.sort(p, { axis: 0 }), [x]);
  check('sort descending axis -1', (p) => bt.sort(p, { descending: true }), [x]);
  check('argsort', (p) => bt.argsort(p, { axis: 0 }), [x]);
});

test('shape ops: concat (with unbatched operands), stack, slice, pad, reshape, transpose, moveAxis, broadcastTo, squeeze, diag/diagonal/triu', () => {
  const x = randn([B, 2, 3], 18);
  const c = randn([2, 3], 19);
  check('concat axis 0 with an unbatched operand', (p) => bt.concat([p, c, p], 0), [x]);
  check('concat axis -1', (p, q) => bt.concat([p, q], -1), [x, randn([B, 2, 1], 20)]);
  check('stack axis 1', (p) => bt.stack([p, c], 1), [x]);
  check('slice', (p) => bt.slice(p, [1, 1], [1, 2]), [x]);
  check('slice negative start', (p) => bt.slice(p, [-1, -2]), [x]);
  check('pad', (p) => bt.pad(p, [1, 0], [0, 2]), [x]);
  check('reshape', (p) => bt.reshape(p, [3, 2]), [x]);
  check('reshape -1', (p) => bt.reshape(p, [-1]), [x]);
  check('transpose', (p) => bt.transpose(p), [x]);
  check('transpose 3-D perm', (p) => bt.transpose(p, [2, 0, 1]), [randn([B, 2, 3, 4], 21)]);
  check('moveAxis', (p) => bt.moveAxis(p, 0, -1), [randn([B, 2, 3, 4], 22)]);
  check('broadcastTo', (p) => bt.broadcastTo(p, [4, 2, 3]), [x]);
  check('broadcastTo from unit dims', (p) => bt.broadcastTo(p, [2, 3]), [randn([B, 1, 3], 23)]);
  check('expandDims/squeeze', (p) => bt.squeeze(bt.expandDims(p, 1), 1), [x]);
  check('diagonal', (p) => bt.diagonal(p, 1), [randn([B, 3, 3], 24)]);
  check('diag', (p) => bt.diag(p), [randn([B, 3], 25)]);
  check('triu/tril', (p) => bt.triu(p, -1).add(bt.tril(p, 1)), [randn([B, 3, 4], 26)]);
});

test('linear algebra of a batch: cholesky, solve, triangularSolve, slogdet, with batched or unbatched right-hand sides', () => {
  const spd = bt.stack([randSpd(3, 1), randSpd(3, 2), randSpd(3, 3)]);
  const rhs = randn([B, 3, 2], 27);
  const rhsU = randn([3, 2], 28);
  check('cholesky', (a) => bt.linalg.cholesky(a), [spd]);
  check('solve batched a, batched b', (a, b) => bt.linalg.solve(a, b), [spd, rhs]);
  check('solve batched a, unbatched b', (a, b) => bt.linalg.solve(a, b), [spd, rhsU], [0, null]);
  check('solve unbatched a, batched vector b', (a, b) => bt.linalg.solve(a, b), [randSpd(3, 4), randn([B, 3], 29)], [null, 0]);
  check('triangularSolve of the Cholesky factor', (a, b) => bt.linalg.triangularSolve(bt.linalg.cholesky(a), b), [spd, rhs]);
  check('choleskySolve', (a, b) => bt.linalg.choleskySolve(bt.linalg.cholesky(a), b), [spd, rhs]);
  check('logdet', (a) => bt.linalg.slogdet(a)[1], [spd]);
  check('inv', (a) => bt.linalg.inv(a), [spd]);
});

test('random.normal / uniform / split with a batch of keys equal the per-key draws', () => {
  const keys = bt.random.split(bt.random.key(0), 4);
  assert.equal([...keys.shape], [4, 2]);
  check('normal', (k) => bt.random.normal(k, [3, 2]), [keys]);
  check('normal scalar', (k) => bt.random.normal(k), [keys]);
  check('uniform', (k) => bt.random.uniform(k, [5], { minval: -2, maxval: 3 }), [keys]);
  check('split then normal', (k) => bt.random.normal(bt.random.split(k, 2).slice([1], [1]).squeeze(0), [2]), [keys]);
  check('normal float32', (k) => bt.random.normal(k, [3], { dtype: 'float32' }), [keys]);
  check('bits', (k) => bt.random.bits(k, [2]), [keys]);
  // draws from different keys differ
  const d = bt.vmap((k: bt.Tensor) => bt.random.normal(k, [3]))(keys) as bt.Tensor;
  const rows = d.toArray() as number[][];
  assert.ok(rows[0]![0] !== rows[1]![0], 'keys give different draws');
});

test('inAxes: null and 1 (and negative); outAxes: 1', () => {
  const x = randn([2, B, 3], 30);
  const w = randn([3, 4], 31);
  check('inAxes 1', (p) => bt.tanh(p).sum({ axis: 0 }), [x], [1]);
  check('inAxes -2', (p) => bt.exp(p), [x], [-2]);
  check('inAxes [1, null]', (p, q) => bt.matmul(p, q), [x, w], [1, null]);
  check('outAxes 1', (p) => bt.matmul(p, w), [x], [1], 1);
  check('inAxes [null, 0] outAxes 1', (q, p) => bt.mul(q, p), [w, randn([B, 3, 4], 32)], [null, 0], 1);
  check('outAxes 2', (p) => bt.outer(p, bt.ones([2])), [randn([B, 3], 33)], [0], 2);
  // a single (non-array) inAxes applies to every argument
  const a = randn([2, B], 34);
  const b = randn([3, B], 35);
  const got = bt.vmap((p: bt.Tensor, q: bt.Tensor) => bt.outer(p, q), { inAxes: 1 })(a, b) as bt.Tensor;
  assertClose(got, perExample((p, q) => bt.outer(p, q), [a, b], [1, 1]), RTOL, 0, 'inAxes: 1 for all');
  // an output that does not depend on the mapped argument is broadcast along the batch
  const k = bt.vmap((_p: bt.Tensor) => w, { outAxes: 1 })(randn([B], 36)) as bt.Tensor;
  assert.equal([...k.shape], [3, B, 4]);
  assertClose(k, perExample(() => w, [randn([B], 36)], [0], 1), 0, 0, 'unbatched output');
});

test('pytree arguments and outputs', () => {
  const x = randn([B, 3], 37);
  const y = randn([B, 2], 38);
  const f = (p: { a: bt.Tensor; b: bt.Tensor }) => [bt.sum(p.a), bt.outer(p.a, p.b)];
  const [s, o] = bt.vmap(f)({ a: x, b: y }) as bt.Tensor[];
  assertClose(s!, perExample((p) => bt.sum(p), [x], [0]), RTOL, 0, 'pytree out 0');
  assertClose(o!, perExample((p, q) => bt.outer(p, q), [x, y], [0, 0]), RTOL, 0, 'pytree out 1');
});

test('nested vmap equals the doubly indexed loop (and matches over inAxes choices)', () => {
  const x = randn([B, 4, 3], 39);
  const w = randn([3, 2], 40);
  const inner = (r: bt.Tensor) => bt.tanh(bt.matmul(r, w)).sum();
  const nested = bt.vmap(bt.vmap(inner)) as (t: bt.Tensor) => bt.Tensor;
  const got = nested(x);
  const want = bt.stack(Array.from({ length: B }, (_, i) => bt.stack(Array.from({ length: 4 }, (_, j) => inner(at(at(x, 0, i), 0, j))))));
  assert.equal([...got.shape], [B, 4]);
  assertClose(got, want, RTOL, 0, 'vmap(vmap(f))');
  // outer over axis 1, inner over axis 0: out[j, i] = f(x[i, j])
  const swapped = bt.vmap(bt.vmap(inner), { inAxes: 1 }) as (t: bt.Tensor) => bt.Tensor;
  assertClose(swapped(x), bt.transpose(want, [1, 0]), RTOL, 0, 'vmap(vmap(f), inAxes 1)');
  // pairwise: vmap over rows of a, inner vmap over rows of b (unbatched for the outer)
  const a = randn([B, 3], 41);
  const b = randn([5, 3], 42);
  const dist = (p: bt.Tensor, q: bt.Tensor) => bt.sum(bt.square(bt.sub(p, q)));
  const pair = bt.vmap((p: bt.Tensor) => bt.vmap((q: bt.Tensor) => dist(p, q))(b)) as (t: bt.Tensor) => bt.Tensor;
  const wantPair = bt.stack(Array.from({ length: B }, (_, i) => bt.stack(Array.from({ length: 5 }, (_, j) => dist(at(a, 0, i), at(b, 0, j))))));
  assertClose(pair(a), wantPair, RTOL, 0, 'pairwise nested vmap');
  // triple nesting with a batched take inside
  const ids = idx([0, 2, 1, 1, 2, 0], [2, 3]);
  const trip = bt.vmap(bt.vmap(bt.vmap((p: bt.Tensor, i: bt.Tensor) => bt.take(p, i)), { inAxes: [null, 0] }), { inAxes: [0, null] }) as (p: bt.Tensor, i: bt.Tensor) => bt.Tensor;
  const xx = randn([B, 3, 3], 43);
  const t3 = trip(xx, ids);
  assert.equal([...t3.shape], [B, 2, 3]);
  const wantT = bt.stack(Array.from({ length: B }, (_, i) => bt.stack(Array.from({ length: 2 }, (_, j) => bt.stack(Array.from({ length: 3 }, (_, k) => bt.take(at(at(xx, 0, i), 0, k), at(at(ids, 0, j), 0, k))))))));
  assertClose(t3, wantT, 0, 0, 'triple nested vmap with take');
});

test('vmap of grad (per-example gradients), grad of vmap, and jvp inside vmap', () => {
  const x = randn([B, 4], 44);
  const w = randn([4, 2], 45);
  const loss = (p: bt.Tensor) => bt.logsumexp(bt.matmul(p, w)).add(bt.sum(bt.sort(p).mul(bt.arange(4).astype('float64'))));
  check('vmap(grad)', (p) => bt.grad(loss)(p), [x]);
  check('vmap(jvp)', (p) => bt.jvp(loss, [p], [bt.onesLike(p)])[1] as bt.Tensor, [x]);
  const gv = bt.grad((p: bt.Tensor) => bt.sum((bt.vmap(loss) as (t: bt.Tensor) => bt.Tensor)(p)))(x);
  assertClose(gv, perExample((p) => bt.grad(loss)(p), [x], [0]), RTOL, 1e-14, 'grad(sum ∘ vmap)');
  const hw = (p: bt.Tensor) => bt.grad((q: bt.Tensor) => bt.sum(bt.vmap((r: bt.Tensor) => bt.tanh(bt.matmul(r, q)).sum())(p) as bt.Tensor))(w);
  const want = bt.grad((q: bt.Tensor) => bt.sum(bt.tanh(bt.matmul(x, q))))(w);
  assertClose(hw(x), want, RTOL, 1e-14, 'grad w.r.t. an unbatched weight through vmap');
});

test.run();
