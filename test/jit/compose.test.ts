/**
 * jit composed with every transform, both ways, against the un-jitted result (bitwise on CPU);
 * the cache bound, retrace counting, static arguments and flat memory over many calls.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';

const same = (a: bt.Tensor, b: bt.Tensor, what: string) => {
  assert.equal(a.shape, b.shape, `${what}: shape`);
  const x = a.dataSync();
  const y = b.dataSync();
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) assert.unreachable(`${what}: element ${i}: ${x[i]} vs ${y[i]}`);
};
const f = (x: bt.Tensor) => bt.sum(bt.softplus(x.mul(x).sub(0.3)).mul(bt.sin(x)));
const g = (x: bt.Tensor) => bt.tanh(x).mul(bt.exp(x.mul(0.5)));
const X = bt.tensor([0.3, -1.2, 2.5, 0.7]);
const V = bt.tensor([1, 0.5, -0.25, 2]);
const B = bt.tensor([[0.3, -1.2, 2.5, 0.7], [0.1, 0.2, -0.3, 0.4], [1, 2, 3, -4]]);

test('transforms of jit: grad, valueAndGrad, jvp, vmap, jacfwd, jacrev, hvp', () => {
  same(bt.grad(bt.jit(f))(X), bt.grad(f)(X), 'grad(jit)');
  const [v1, g1] = bt.valueAndGrad(bt.jit(f))(X);
  const [v2, g2] = bt.valueAndGrad(f)(X);
  same(v1, v2, 'valueAndGrad value');
  same(g1, g2, 'valueAndGrad grad');
  const [p1, t1] = bt.jvp(bt.jit(g), [X], [V]);
  const [p2, t2] = bt.jvp(g, [X], [V]);
  same(p1 as bt.Tensor, p2 as bt.Tensor, 'jvp primal');
  same(t1 as bt.Tensor, t2 as bt.Tensor, 'jvp tangent');
  same(bt.vmap(bt.jit(f))(B), bt.vmap(f)(B), 'vmap(jit)');
  same(bt.jacfwd(bt.jit(g))(X), bt.jacfwd(g)(X), 'jacfwd(jit)');
  same(bt.jacrev(bt.jit(g))(X), bt.jacrev(g)(X), 'jacrev(jit)');
  same(bt.hvp(bt.jit(f), X, V), bt.hvp(f, X, V), 'hvp(jit)');
});

test('jit of transforms: grad, valueAndGrad, jvp, vmap, jacfwd/jacrev with chunks, hvp, grad of grad', () => {
  same(bt.jit(bt.grad(f))(X), bt.grad(f)(X), 'jit(grad)');
  const vg = bt.jit((x: bt.Tensor) => bt.valueAndGrad(f)(x));
  const [v1, g1] = vg(X);
  const [v2, g2] = bt.valueAndGrad(f)(X);
  same(v1, v2, 'jit(valueAndGrad) value');
  same(g1, g2, 'jit(valueAndGrad) grad');
  const jj = bt.jit((x: bt.Tensor, v: bt.Tensor) => bt.jvp(g, [x], [v]));
  const [p1, t1] = jj(X, V);
  const [p2, t2] = bt.jvp(g, [X], [V]);
  same(p1 as bt.Tensor, p2 as bt.Tensor, 'jit(jvp) primal');
  same(t1 as bt.Tensor, t2 as bt.Tensor, 'jit(jvp) tangent');
  same(bt.jit(bt.vmap(f))(B), bt.vmap(f)(B), 'jit(vmap)');
  same(bt.jit(bt.vmap(bt.grad(f)))(B), bt.vmap(bt.grad(f))(B), 'jit(vmap(grad))');
  same(bt.jit(bt.jacfwd(g, { chunkSize: 3 }))(X), bt.jacfwd(g, { chunkSize: 3 })(X), 'jit(jacfwd chunked)');
  same(bt.jit(bt.jacrev(g, { chunkSize: 3 }))(X), bt.jacrev(g, { chunkSize: 3 })(X), 'jit(jacrev chunked)');
  same(bt.jit((x: bt.Tensor, v: bt.Tensor) => bt.hvp(f, x, v))(X, V), bt.hvp(f, X, V), 'jit(hvp)');
  same(bt.jit(bt.grad((x: bt.Tensor) => bt.sum(bt.grad(f)(x))))(X), bt.grad((x: bt.Tensor) => bt.sum(bt.grad(f)(x)))(X), 'jit(grad(grad))');
});

test('retraces once per signature; static args retrace per value; LRU bound holds', () => {
  const h = bt.jit((x: bt.Tensor, k: number) => x.mul(k).exp(), { staticArgnums: [1], cacheSize: 3 });
  h(X, 2);
  h(X, 2);
  h(X.add(1), 2);
  assert.is(h.retraces, 1);
  same(h(X, 3), X.mul(3).exp(), 'static value 3');
  assert.is(h.retraces, 2);
  for (let n = 1; n <= 6; n++) h(bt.ones([n]), 2);
  const info = h.cacheInfo();
  assert.is(info.size, 3);
  assert.is(info.maxSize, 3);
  assert.is(h.retraces, 8);
  h(bt.ones([6]), 2);
  assert.is(h.retraces, 8, 'most recent entry still cached');
  h(bt.ones([1]), 2);
  assert.is(h.retraces, 9, 'evicted entry retraces');
  h(bt.tensor([1, 2, 3, 4], { dtype: 'float32' }), 2);
  assert.is(h.retraces, 10, 'a new dtype retraces');
});

test('inside tidy, and memory flat over 10k calls', () => {
  const w = bt.tensor([[0.5, -0.2], [0.1, 0.3], [0.7, 0.9], [-1, 0.4]]);
  const step = bt.jit((x: bt.Tensor) => bt.valueAndGrad((y: bt.Tensor) => bt.sum(bt.tanh(bt.matmul(y, w))))(x));
  bt.dispose(step(X.reshape([1, 4])));
  const before = bt.memory();
  const x = X.reshape([1, 4]);
  for (let i = 0; i < 10000; i++) bt.dispose(step(x));
  const r = bt.tidy(() => step(x)[1].sum());
  bt.dispose(r);
  bt.dispose(x);
  assert.equal(bt.memory(), before);
});

test.run();
