/** bt.tree: flatten/unflatten, sorted keys, map, structure errors, ravel/unravel and its derivatives. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose, checkDirectional, numericGrad, randn } from '../helpers.js';

const t = bt.tree;

test('flatten / unflatten round trip for nested objects, arrays and non-tensor leaves', () => {
  const a = bt.tensor([1, 2]);
  const b = bt.tensor(3);
  const c = bt.tensor([[4]]);
  const tree = { z: [a, { q: b, p: 'label' }], a: c, m: [], n: {}, k: null, j: 7 };
  const [leaves, def] = t.flatten(tree);
  // sorted keys: a, j, k, m, n, z
  assert.equal(leaves.length, 6);
  assert.is(leaves[0], c);
  assert.is(leaves[1], 7);
  assert.is(leaves[2], null);
  assert.is(leaves[3], a);
  assert.is(leaves[4], 'label'); // z[1].p before z[1].q
  assert.is(leaves[5], b);
  const back = t.unflatten(def, leaves) as typeof tree;
  assert.equal(Object.keys(back).sort(), Object.keys(tree).sort());
  assert.is(back.a, c);
  assert.is(back.z[0], a);
  assert.is((back.z[1] as { q: bt.Tensor }).q, b);
  assert.is((back.z[1] as { p: string }).p, 'label');
  assert.equal(back.m, []);
  assert.equal(back.n, {});
  assert.is(back.k, null);
  assert.is(back.j, 7);
  assert.equal(t.leaves(tree), leaves);
  // a bare tensor is a single leaf; unflatten with replaced leaves builds a new tree
  const [l1, d1] = t.flatten(a);
  assert.equal(l1, [a]);
  assert.is(t.unflatten(d1, [b]), b);
  const replaced = t.unflatten(def, leaves.map((_, i) => i)) as Record<string, unknown>;
  assert.equal(replaced, { a: 0, j: 1, k: 2, m: [], n: {}, z: [3, { p: 4, q: 5 }] });
});

test('objects built in different key orders flatten identically', () => {
  const x = bt.tensor(1);
  const y = bt.tensor(2);
  const w = bt.tensor(3);
  const t1 = { w: [x, y], b: w, meta: { beta: x, alpha: y } };
  const t2: Record<string, unknown> = {};
  t2.meta = { alpha: y, beta: x };
  t2.b = w;
  t2.w = [x, y];
  const [l1, d1] = t.flatten(t1);
  const [l2, d2] = t.flatten(t2);
  assert.equal(d1, d2);
  assert.equal(l1.length, l2.length);
  l1.forEach((l, i) => assert.is(l, l2[i]));
  // array order is significant (not sorted)
  const [la] = t.flatten([y, x]);
  assert.is(la[0], y);
  // keys sort by string order, so "10" < "9" and uppercase before lowercase
  const [lk] = t.flatten({ b: 2, B: 1, 10: 'ten', 9: 'nine' });
  assert.equal(lk, ['ten', 'nine', 1, 2]);
});

test('map over one tree and over several trees', () => {
  const p = { w: [bt.tensor([1, 2]), bt.tensor(3)], b: bt.tensor([4]) };
  const q = { b: bt.tensor([10]), w: [bt.tensor([20, 30]), bt.tensor(40)] };
  const r = { w: [bt.tensor([1, 1]), bt.tensor(1)], b: bt.tensor([1]) };
  const doubled = t.map((l: bt.Tensor) => l.mul(2), p) as typeof p;
  assertClose(doubled.w[0]!, [2, 4], 0);
  assertClose(doubled.w[1]!, 6, 0);
  assertClose(doubled.b, [8], 0);
  const sum3 = t.map((a: bt.Tensor, b: bt.Tensor, c: bt.Tensor) => a.add(b).sub(c), p, q, r) as typeof p;
  assertClose(sum3.w[0]!, [20, 31], 0);
  assertClose(sum3.w[1]!, 42, 0);
  assertClose(sum3.b, [13], 0);
  // non-tensor leaves are passed to fn too
  assert.equal(t.map((v: number) => v + 1, { a: 1, b: [2, 3] }), { a: 2, b: [3, 4] });
  // an SGD step written with map
  const g = bt.grad((pp: typeof p) => bt.sum(pp.w[0]!.square()).add(pp.w[1]!.mul(pp.b.sum())))(p);
  const stepped = t.map((v: bt.Tensor, gv: bt.Tensor) => v.sub(gv.mul(0.1)), p, g) as typeof p;
  assertClose(stepped.w[0]!, [1 - 0.2, 2 - 0.4], 1e-15);
  assertClose(stepped.w[1]!, 3 - 0.4, 1e-15);
  assertClose(stepped.b, [4 - 0.3], 1e-15);
});

test('structure mismatch is a ShapeError with a readable message', () => {
  const a = bt.tensor(1);
  const cases: [unknown, unknown, RegExp[]][] = [
    [{ w: a, b: a }, { w: a, c: a }, [/b/, /c/]],
    [[a, a], [a, a, a], [/\[\*, \*\]/, /\[\*, \*, \*\]/]],
    [{ w: [a, a] }, { w: a }, [/w/]],
    [[a], { 0: a }, [/\[/, /\{/]],
  ];
  for (const [x, y, patterns] of cases) {
    let err: unknown;
    try {
      t.map((u: unknown) => u, x, y);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof bt.ShapeError, `expected ShapeError for ${JSON.stringify(Object.keys(x as object))}, got ${String(err)}`);
    const msg = (err as Error).message;
    assert.match(msg, /tree\.map/);
    assert.match(msg, /different structures/);
    for (const re of patterns) assert.match(msg, re);
  }
  // unflatten with the wrong number of leaves
  const [, def] = t.flatten({ a, b: [a, a] });
  assert.throws(() => t.unflatten(def, [a, a]), (e: unknown) => e instanceof bt.ShapeError && /3 leaves/.test((e as Error).message));
  // the same check guards transforms: a jvp tangent tree of another shape
  assert.throws(
    () => bt.jvp((p: { a: bt.Tensor }) => p.a, [{ a }], [{ b: a }]),
    (e: unknown) => e instanceof bt.ShapeError && /\{a: \*\}/.test((e as Error).message) && /\{b: \*\}/.test((e as Error).message),
  );
});

test('ravel / unravel round trip (order = sorted flatten order)', () => {
  const p = { w: randn([2, 3], 1), b: randn([3], 2), layers: [randn([4], 3), randn([], 4)] };
  const [flat, unravel] = t.ravel(p);
  assert.equal([...flat.shape], [6 + 3 + 4 + 1]);
  // b, layers[0], layers[1], w
  const want = [...p.b.dataSync(), ...p.layers[0]!.dataSync(), ...p.layers[1]!.dataSync(), ...p.w.dataSync()];
  assertClose(flat, want, 0);
  const back = unravel(flat) as typeof p;
  assert.equal([...back.w.shape], [2, 3]);
  assert.equal([...back.layers[1]!.shape], []);
  assertClose(back.w, p.w, 0);
  assertClose(back.b, p.b, 0);
  assertClose(back.layers[0]!, p.layers[0]!, 0);
  assertClose(back.layers[1]!, p.layers[1]!, 0);
  // unravel of another vector gives the same structure
  const other = unravel(bt.arange(14).astype('float64')) as typeof p;
  assertClose(other.b, [0, 1, 2], 0);
  assertClose(other.w, [8, 9, 10, 11, 12, 13], 0);
  assert.throws(() => unravel(bt.zeros([13])), (e: unknown) => e instanceof bt.ShapeError);
  // an empty tree ravels to an empty vector
  const [empty, unEmpty] = t.ravel({});
  assert.equal([...empty.shape], [0]);
  assert.equal(unEmpty(empty), {});
  // mixed dtypes are refused
  assert.throws(() => t.ravel([bt.ones([2]), bt.ones([2], 'float32')]), (e: unknown) => e instanceof bt.DTypeError);
});

function loss(p: { w: bt.Tensor; b: bt.Tensor }): bt.Tensor {
  const x = bt.tensor([[1, -1, 0.5], [0.2, 0.3, -2]]);
  return bt.sum(bt.tanh(bt.matmul(x, p.w).add(p.b)).square());
}

test('differentiability through ravel and unravel', () => {
  const p = { w: randn([3, 2], 10), b: randn([2], 11) };
  const [flat, unravel] = t.ravel(p);
  // grad of a function of the flat vector through unravel == ravel of the pytree gradient
  const gFlat = bt.grad((v: bt.Tensor) => loss(unravel(v) as typeof p))(flat);
  const gTree = bt.grad(loss)(p);
  assertClose(gFlat, t.ravel(gTree)[0], 1e-14, 0, 'grad through unravel');
  assertClose(gFlat, numericGrad((v) => loss(unravel(v) as typeof p), flat), 1e-6, 1e-9, 'vs numeric');
  // grad through ravel: d/dp Σ ravel(p)² = 2p, structure preserved
  const g2 = bt.grad((pp: typeof p) => bt.sum(t.ravel(pp)[0].square()))(p) as typeof p;
  assertClose(g2.w, p.w.mul(2), 1e-15);
  assertClose(g2.b, p.b.mul(2), 1e-15);
  // forward and reverse through the round trip
  checkDirectional((v) => t.ravel(t.map((l: bt.Tensor) => bt.sin(l), unravel(v)))[0], flat, 12, 1e-6, 'ravel∘map∘unravel');
  // a Hessian of a pytree loss via ravel
  const H = bt.hessian((v: bt.Tensor) => loss(unravel(v) as typeof p))(flat);
  assert.equal([...H.shape], [8, 8]);
  assertClose(H, H.T, 1e-12, 1e-14, 'symmetric');
  assertClose(bt.hvp((v: bt.Tensor) => loss(unravel(v) as typeof p), flat, bt.ones([8])), bt.sum(H, { axis: 1 }), 1e-10, 1e-13, 'hvp vs H·1');
});

test.run();
