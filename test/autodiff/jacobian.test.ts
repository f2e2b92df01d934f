/** Jacobians (jacfwd / jacrev, chunked), Hessians and Hessian-vector products. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose, numericGrad, numericJacobian, randn } from '../helpers.js';

const W = randn([3, 4], 11);
const C = randn([4, 2, 2], 12);

/** f: [2,3] -> [4,2,2] from matmul, tanh, an axis sum, slicing and broadcasting (non-square). */
function f(x: bt.Tensor): bt.Tensor {
  const a = bt.tanh(bt.matmul(x, W)); // [2,4]
  const b = bt.slice(a, [0, 1], [2, 2]); // [2,2]
  const c = bt.sum(a, { axis: 0 }); // [4]
  const e = bt.exp(bt.slice(x, [0, 1], [2, 2])); // [2,2]
  return bt.add(bt.mul(bt.expandDims(b, 0), bt.reshape(c, [4, 1, 1])), bt.mul(e, C)); // [4,2,2]
}

const x0 = randn([2, 3], 13).mul(0.7);

test('jacfwd == jacrev == numericJacobian on a non-square [2,3] -> [4,2,2] function, for chunk sizes 1, 3, undefined', () => {
  const num = numericJacobian(f, x0);
  assert.equal([...num.shape], [4, 2, 2, 2, 3]);
  for (const chunkSize of [1, 3, undefined]) {
    const opts = chunkSize === undefined ? undefined : { chunkSize };
    const jf = bt.jacfwd(f, opts)(x0);
    const jr = bt.jacrev(f, opts)(x0);
    assert.equal([...jf.shape], [4, 2, 2, 2, 3], `jacfwd shape (chunk ${chunkSize})`);
    assert.equal([...jr.shape], [4, 2, 2, 2, 3], `jacrev shape (chunk ${chunkSize})`);
    assertClose(jf, jr, 1e-10, 1e-13, `jacfwd vs jacrev (chunk ${chunkSize})`);
    assertClose(jr, num, 1e-6, 1e-9, `jacrev vs numeric (chunk ${chunkSize})`);
    assertClose(jf, num, 1e-6, 1e-9, `jacfwd vs numeric (chunk ${chunkSize})`);
  }
});

test('jacobian of a function with more inputs than outputs: [3,4] -> [2] (wide), chunk 1/3/all', () => {
  const g = (x: bt.Tensor) => bt.sum(bt.sin(x).mul(bt.reshape(bt.arange(12).astype('float64'), [3, 4])), { axis: 1 }).slice([0], [2]).mul(bt.sum(x.square()));
  const x = randn([3, 4], 21);
  const num = numericJacobian(g, x);
  for (const chunkSize of [1, 3, undefined]) {
    const opts = chunkSize === undefined ? undefined : { chunkSize };
    const jf = bt.jacfwd(g, opts)(x);
    const jr = bt.jacrev(g, opts)(x);
    assert.equal([...jr.shape], [2, 3, 4]);
    assertClose(jf, jr, 1e-10, 1e-13, `wide jacfwd vs jacrev (chunk ${chunkSize})`);
    assertClose(jr, num, 1e-6, 1e-9, `wide jacrev vs numeric (chunk ${chunkSize})`);
  }
});

test('scalar input -> vector output: jacobian shape is out.shape', () => {
  const coef = bt.tensor([1, 2, 3]);
  const g = (t: bt.Tensor) => bt.sin(bt.mul(coef, t)); // [] -> [3]
  const t = bt.tensor(0.4);
  const want = bt.tensor([1, 2, 3].map((c) => c * Math.cos(c * 0.4)));
  for (const chunkSize of [1, 3, undefined]) {
    const opts = chunkSize === undefined ? undefined : { chunkSize };
    const jf = bt.jacfwd(g, opts)(t);
    const jr = bt.jacrev(g, opts)(t);
    assert.equal([...jf.shape], [3]);
    assert.equal([...jr.shape], [3]);
    assertClose(jf, want, 1e-12, 1e-14, 'jacfwd scalar input');
    assertClose(jr, want, 1e-12, 1e-14, 'jacrev scalar input');
  }
});

test('vector input -> scalar output: jacobian equals grad, shape in.shape', () => {
  const g = (x: bt.Tensor) => bt.sum(bt.tanh(x).square());
  const x = randn([2, 3], 31);
  const gr = bt.grad(g)(x);
  for (const chunkSize of [1, 3, undefined]) {
    const opts = chunkSize === undefined ? undefined : { chunkSize };
    const jf = bt.jacfwd(g, opts)(x);
    const jr = bt.jacrev(g, opts)(x);
    assert.equal([...jf.shape], [2, 3]);
    assert.equal([...jr.shape], [2, 3]);
    assertClose(jf, gr, 1e-12, 1e-14, 'jacfwd scalar out');
    assertClose(jr, gr, 1e-12, 1e-14, 'jacrev scalar out');
  }
});

test('scalar -> scalar: jacobian is a scalar derivative', () => {
  const g = (t: bt.Tensor) => bt.exp(t).mul(bt.sin(t));
  const t = bt.tensor(0.3);
  const want = Math.exp(0.3) * (Math.sin(0.3) + Math.cos(0.3));
  const jf = bt.jacfwd(g)(t);
  const jr = bt.jacrev(g)(t);
  assert.equal([...jf.shape], []);
  assert.equal([...jr.shape], []);
  assertClose(jf.item(), want, 1e-12);
  assertClose(jr.item(), want, 1e-12);
});

test('argnums picks the differentiated argument; other arguments are constants', () => {
  const g = (a: bt.Tensor, x: bt.Tensor) => bt.tanh(bt.matmul(a, x)); // a [4,3], x [3,2] -> [4,2]
  const a = randn([4, 3], 41);
  const x = randn([3, 2], 42);
  const numX = numericJacobian((xx) => g(a, xx), x);
  const numA = numericJacobian((aa) => g(aa, x), a);
  for (const chunkSize of [1, 3, undefined]) {
    const jrx = bt.jacrev(g, { argnums: 1, chunkSize })(a, x);
    const jfx = bt.jacfwd(g, { argnums: 1, chunkSize })(a, x);
    assert.equal([...jrx.shape], [4, 2, 3, 2]);
    assertClose(jrx, jfx, 1e-10, 1e-13, 'argnums 1 fwd vs rev');
    assertClose(jrx, numX, 1e-6, 1e-9, 'argnums 1 vs numeric');
    const jra = bt.jacrev(g, { argnums: 0, chunkSize })(a, x);
    const jfa = bt.jacfwd(g, { chunkSize })(a, x);
    assert.equal([...jra.shape], [4, 2, 4, 3]);
    assertClose(jra, jfa, 1e-10, 1e-13, 'argnums 0 fwd vs rev');
    assertClose(jra, numA, 1e-6, 1e-9, 'argnums 0 vs numeric');
  }
});

test('bad jacobian options are ConfigErrors', () => {
  assert.throws(() => bt.jacrev(f, { chunkSize: 0 }), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => bt.jacfwd(f, { chunk: 2 } as never), (e: unknown) => e instanceof bt.ConfigError);
});

/** A non-quadratic scalar function of a vector. */
function h(x: bt.Tensor): bt.Tensor {
  const s = bt.sum(x);
  return bt.sum(bt.exp(x.mul(0.5)).mul(bt.sin(x))).add(s.mul(s).mul(s).div(6)).add(bt.logsumexp(x.mul(x)));
}

test('hessian is symmetric and matches the numeric Jacobian of the analytic gradient', () => {
  const x = randn([6], 51).mul(0.5);
  const H = bt.hessian(h)(x);
  assert.equal([...H.shape], [6, 6]);
  assertClose(H, H.T, 1e-12, 1e-13, 'symmetry');
  const num = numericJacobian(bt.grad(h), x);
  assertClose(H, num, 1e-6, 1e-9, 'hessian vs numeric');
  for (const chunkSize of [1, 4]) assertClose(bt.hessian(h, { chunkSize })(x), H, 1e-12, 1e-13, `hessian chunk ${chunkSize}`);
});

test('hessian of a matrix argument has shape in.shape ++ in.shape', () => {
  const g = (x: bt.Tensor) => bt.sum(bt.tanh(bt.matmul(x, W)).square());
  const x = randn([2, 3], 52);
  const H = bt.hessian(g)(x);
  assert.equal([...H.shape], [2, 3, 2, 3]);
  const num = numericJacobian(bt.grad(g), x);
  assertClose(H, num, 1e-6, 1e-9, 'matrix hessian vs numeric');
  assertClose(bt.reshape(H, [6, 6]), bt.reshape(H, [6, 6]).T, 1e-12, 1e-13, 'matrix hessian symmetry');
});

test('hvp(f, x, v) == hessian(f)(x) · v', () => {
  const x = randn([6], 61).mul(0.5);
  const H = bt.hessian(h)(x);
  for (const seed of [62, 63, 64]) {
    const v = randn([6], seed);
    const hv = bt.hvp(h, x, v);
    assert.equal([...hv.shape], [6]);
    assertClose(hv, bt.matmul(H, v.reshape([6, 1])).reshape([6]), 1e-10, 1e-12, `hvp seed ${seed}`);
  }
});

test('hvp on n = 2000 (a 4e6-entry Hessian is never built) matches a directional difference of grad', () => {
  const n = 2000;
  const g = (x: bt.Tensor) => {
    const s = bt.sum(x.mul(x)).div(n);
    return bt.sum(bt.log1p(bt.exp(x.mul(x).neg())).add(bt.sin(x).mul(x))).add(s.mul(s).mul(s));
  };
  const x = randn([n], 71);
  const v = randn([n], 72);
  const hv = bt.hvp(g, x, v);
  assert.equal([...hv.shape], [n]);
  const eps = 1e-5;
  const gp = bt.grad(g)(x.add(v.mul(eps)));
  const gm = bt.grad(g)(x.sub(v.mul(eps)));
  const fd = gp.sub(gm).div(2 * eps);
  const maxAbs = bt.max(bt.abs(fd)).item();
  // relative to each entry, with an absolute floor well under the entries' scale
  assertClose(hv, fd, 1e-6, 1e-8 * maxAbs, 'hvp vs FD of grad');
  // and one projected number vs a second-order difference of f itself
  const vhv = bt.sum(hv.mul(v)).item();
  const e2 = 1e-4;
  const f0 = g(x).item();
  const fp = g(x.add(v.mul(e2))).item();
  const fm = g(x.sub(v.mul(e2))).item();
  const fd2 = (fp - 2 * f0 + fm) / (e2 * e2);
  assert.ok(Math.abs(vhv - fd2) <= 1e-4 * Math.abs(fd2), `vᵀHv ${vhv} vs second difference ${fd2}`);
});

test('hvp agrees with grad-of-directional-derivative (reverse-over-forward)', () => {
  const x = randn([5], 81).mul(0.5);
  const v = randn([5], 82);
  const rof = bt.grad((xx: bt.Tensor) => bt.jvp(h, [xx], [v])[1] as bt.Tensor)(x);
  assertClose(bt.hvp(h, x, v), rof, 1e-10, 1e-12, 'hvp fwd-over-rev vs rev-over-fwd');
});

test('gradient check of the hvp value itself against numericGrad of ⟨grad f, v⟩', () => {
  const x = randn([4], 91).mul(0.5);
  const v = randn([4], 92);
  const num = numericGrad((xx) => bt.sum(bt.grad(h)(xx).mul(v)), x);
  assertClose(bt.hvp(h, x, v), num, 1e-6, 1e-9, 'hvp vs numeric');
});

/**
 * Every op's jvp rule under vmap (jacfwd), its vjp rule under vmap (jacrev), and both nested
 * (hessian = jacfwd∘jacrev), against central differences. A batching rule that mishandles an
 * unbatched operand (e.g. the indices of take's transpose, scatterAdd) fails here.
 */
const X = randn([3, 4], 101).mul(0.8);
const O = randn([3, 4], 102);
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

test('op sweep: jacfwd == jacrev == numericJacobian, and hessian == numeric Jacobian of grad, for every differentiable op', () => {
  for (const [name, op] of Object.entries(OPS)) {
    const jf = bt.jacfwd(op)(X);
    const jr = bt.jacrev(op)(X);
    assertClose(jf, jr, 1e-10, 1e-12, `${name}: jacfwd vs jacrev`);
    assertClose(bt.jacrev(op, { chunkSize: 5 })(X), jr, 1e-12, 1e-14, `${name}: jacrev chunk 5`);
    assertClose(bt.jacfwd(op, { chunkSize: 5 })(X), jf, 1e-12, 1e-14, `${name}: jacfwd chunk 5`);
    assertClose(jr, numericJacobian(op, X), 1e-6, 1e-8, `${name}: vs numeric`);
    const s = (z: bt.Tensor) => bt.sum(bt.sin(op(z)));
    assertClose(bt.hessian(s)(X), numericJacobian(bt.grad(s), X), 1e-6, 1e-8, `${name}: hessian vs numeric`);
  }
});

test('regression: jacrev / vmap(grad) through take and diagonal (scatterAdd batching with unbatched indices)', () => {
  // jacrev vmaps the pullback of take, whose transpose is a scatterAdd with unbatched indices
  const J = bt.jacrev((z: bt.Tensor) => bt.take(z, IDX, 0))(X);
  assert.equal([...J.shape], [3, 4, 3, 4]);
  assertClose(J, bt.jacfwd((z: bt.Tensor) => bt.take(z, IDX, 0))(X), 0, 0, 'jacrev(take)');
  const B = randn([4, 3, 3], 103);
  const per = bt.vmap(bt.grad((z: bt.Tensor) => bt.sum(bt.diagonal(z).square())))(B);
  assertClose(per, B.mul(bt.eye(3)).mul(2), 1e-15, 0, 'vmap(grad(diagonal))');
});

test.run();
