/**
 * jit(f)(x) against f(x), bitwise on the CPU backend, for every elementwise op the registry lists
 * and the reduce/shape/linalg ops, plus host-read and argument errors.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { UNARY_OPS, BINARY_OPS } from '../../src/autodiff/builtins.js';

const same = (a: bt.Tensor, b: bt.Tensor, what: string) => {
  assert.equal(a.shape, b.shape, `${what}: shape`);
  assert.is(a.dtype, b.dtype, `${what}: dtype`);
  const x = a.dataSync();
  const y = b.dataSync();
  for (let i = 0; i < x.length; i++) {
    if (!Object.is(x[i], y[i])) assert.unreachable(`${what}: element ${i} differs: ${x[i]} vs ${y[i]}`);
  }
};
const X = bt.tensor([[0.3, -1.2, 2.5], [0.7, 0.05, -0.4]]);
const Y = bt.tensor([0.9, -0.6, 1.7]);
const P = bt.tensor([[0.3, 0.2, 0.9], [0.7, 0.05, 0.4]]);

test('every unary elementwise op: jit equals eager bitwise', () => {
  for (const name of UNARY_OPS) {
    const op = (bt as any)[name] as (x: bt.Tensor) => bt.Tensor;
    const input = name === 'erfinv' ? P.mul(1.8).sub(0.9) : name === 'log' || name === 'sqrt' || name === 'rsqrt' ? P : X;
    const f = (x: bt.Tensor) => op(op === bt.isFinite || op === bt.isNan ? x : x.mul(1.5));
    same(bt.jit(f)(input), f(input), name);
  }
});

test('every binary elementwise op, broadcasting: jit equals eager bitwise', () => {
  for (const name of BINARY_OPS) {
    const op = (bt as any)[name] as (x: bt.Tensor, y: bt.Tensor) => bt.Tensor;
    const f = (x: bt.Tensor, y: bt.Tensor) => op(name === 'pow' ? x.abs() : x, y.add(0.25));
    same(bt.jit(f)(X, Y), f(X, Y), name);
  }
});

test('reduce, shape, matmul, where, cast, linalg chains: jit equals eager bitwise', () => {
  const fs: [string, (x: bt.Tensor) => bt.Tensor][] = [
    ['sum', (x) => bt.sum(x.exp(), { axis: 1 })],
    ['max/min', (x) => bt.max(x, { axis: 0 }).add(bt.min(x))],
    ['logsumexp', (x) => bt.logsumexp(x, { axis: -1 })],
    ['softplus', (x) => bt.softplus(x).mul(x)],
    ['cumsum', (x) => bt.cumsum(x, { axis: 1 })],
    ['transpose+matmul', (x) => bt.matmul(x, bt.transpose(x)).tanh()],
    ['reshape+slice+concat', (x) => bt.concat([bt.slice(bt.reshape(x, [3, 2]), [1, 0], [2, 2]), x.reshape([3, 2])], 0)],
    ['pad+broadcastTo', (x) => bt.broadcastTo(bt.pad(x, [0, 1], [1, 0]), [2, 3, 4])],
    ['where+cast', (x) => bt.where(bt.greater(x, 0), x, bt.cast(bt.less(x, -1), 'float64'))],
    ['take', (x) => bt.take(x, bt.tensor([1, 0, 1], { dtype: 'int32' }), 0)],
    ['cholesky solve', (x) => {
      const a = bt.matmul(x.transpose(), x).add(bt.eye(3));
      return bt.linalg.solve(a, bt.linalg.cholesky(a));
    }],
  ];
  for (const [name, f] of fs) same(bt.jit(f)(X), f(X), name);
});

test('pytrees in and out, closed-over constants, non-tensor output leaves', () => {
  const w = bt.tensor([[1, 2], [3, 4], [5, 6]]);
  const f = (p: { a: bt.Tensor; b: [bt.Tensor] }) => ({ y: bt.matmul(p.a, w).add(p.b[0]), n: 3, s: [p.a.sum()] });
  const jf = bt.jit(f);
  const inp = { a: X, b: [bt.tensor([0.5, -0.5])] as [bt.Tensor] };
  const r = jf(inp);
  const e = f(inp);
  same(r.y, e.y, 'y');
  same(r.s[0]!, e.s[0]!, 's');
  assert.is(r.n, 3);
  same(bt.jit((x: bt.Tensor) => x)(X), X, 'identity output');
  const made = bt.jit((x: bt.Tensor) => [x.add(1), bt.zeros([2])]);
  made(X);
  same(made(X)[1]!, bt.zeros([2]), 'an output made inside f is a const of the program');
});

test('a host read of a traced value is a TracerError that says what to do', () => {
  const f = bt.jit((x: bt.Tensor) => (x.sum().item() > 0 ? x : x.neg()));
  try {
    f(X);
    assert.unreachable('no error');
  } catch (e) {
    assert.instance(e, bt.TracerError);
    assert.match((e as Error).message, /staticArgnums/);
  }
  assert.throws(() => bt.jit((x: bt.Tensor) => x.dataSync())(X), (e: unknown) => e instanceof bt.TracerError);
});

test('a non-tensor, non-static argument and an unhashable static are ConfigErrors naming the argument', () => {
  const f = bt.jit((x: bt.Tensor, n: number) => x.mul(n));
  assert.throws(() => f(X, 2), (e: unknown) => e instanceof bt.ConfigError && /argument 1/.test((e as Error).message));
  const g = bt.jit((x: bt.Tensor, o: unknown) => x, { staticArgnums: [1] });
  assert.throws(() => g(X, { t: X }), (e: unknown) => e instanceof bt.ConfigError && /static argument 1/.test((e as Error).message));
  assert.throws(() => bt.jit((x: bt.Tensor) => x, { bogus: 1 } as any), (e: unknown) => e instanceof bt.ConfigError);
});

test.run();
