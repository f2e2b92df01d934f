/**
 * The matmul bias epilogue (src/jit/cpu/epilogue.ts): a matmul whose product only feeds
 * add(product, bias) with a bias along its rows runs as one `matmul+add` step. Against eager,
 * bitwise: float32 and float64, odd shapes (the Wasm tiles' padding), tiny products (the JS
 * path), transposed operands, batch dims, scalar and [1, n] biases, bias first or second, a
 * tanh and a reduction after it; and the cases it must leave alone.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { bind1 } from '../../src/autodiff/core.js';
import { matmulPrim } from '../../src/autodiff/ops/matmul.js';

const same = (a: bt.Tensor, b: bt.Tensor, what: string) => {
  assert.equal(a.shape, b.shape, `${what}: shape`);
  const x = a.dataSync();
  const y = b.dataSync();
  for (let i = 0; i < x.length; i++) {
    if (!Object.is(x[i], y[i])) assert.unreachable(`${what}: element ${i} differs: ${x[i]} vs ${y[i]}`);
  }
};
const vals = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(1.3 * i + seed) * 1.7);
const t = (shape: number[], seed: number, dtype: 'float32' | 'float64') => bt.tensor(vals(shape.reduce((a, b) => a * b, 1), seed), { dtype }).reshape(shape);
const mm = (a: bt.Tensor, b: bt.Tensor, transA: boolean, transB: boolean) => bind1(matmulPrim, [a, b], { transA, transB });

test('matmul + bias (+ tanh, + a reduction) is one step, equal to eager: shapes, dtypes, transposes, bias forms', () => {
  const shapes: [number, number, number][] = [[1, 1, 1], [3, 5, 7], [2, 3, 2], [33, 17, 129], [256, 32, 128], [5, 64, 3]];
  for (const dtype of ['float32', 'float64'] as const) {
    for (const [m, k, n] of shapes) {
      for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        const A = t(ta ? [k, m] : [m, k], m + k, dtype);
        const B = t(tb ? [n, k] : [k, n], n + 2 * k, dtype);
        const biases: [string, bt.Tensor][] = [['[n]', t([n], 3, dtype)], ['[1,n]', t([1, n], 4, dtype)], ['scalar', bt.tensor(0.37, { dtype })]];
        for (const [bname, bias] of biases) {
          const what = `${dtype} [${m},${k},${n}] tA=${ta} tB=${tb} bias ${bname}`;
          const f = (a: bt.Tensor, b: bt.Tensor, c: bt.Tensor) => {
            const z = mm(a, b, ta, tb).add(c);
            return [bt.tanh(z), bt.sum(z.mul(z), { axis: 0 })];
          };
          const jf = bt.jit(f);
          const got = jf(A, B, bias) as bt.Tensor[];
          const want = f(A, B, bias) as bt.Tensor[];
          same(got[0]!, want[0]!, `${what}: tanh`);
          same(got[1]!, want[1]!, `${what}: sum`);
          assert.is(jf.compiled()!.steps[0], 'matmul+add', what);
          // bias first
          const g = (a: bt.Tensor, b: bt.Tensor, c: bt.Tensor) => bt.add(c, mm(a, b, ta, tb)).mul(2);
          const jg = bt.jit(g);
          same(jg(A, B, bias) as bt.Tensor, g(A, B, bias), `${what}: bias + product`);
          assert.is(jg.compiled()!.steps[0], 'matmul+add', `${what}: bias first`);
        }
      }
    }
  }
});

test('batched products with a bias row, and a bias computed in the program', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    const A = t([3, 9, 6], 1, dtype);
    const B = t([6, 11], 2, dtype);
    const c = t([11], 3, dtype);
    const f = (a: bt.Tensor, b: bt.Tensor, c: bt.Tensor) => bt.matmul(a, b).add(c.exp()).neg();
    const jf = bt.jit(f);
    same(jf(A, B, c) as bt.Tensor, f(A, B, c), `${dtype} batched`);
    assert.equal(jf.compiled()!.steps, ['loop[11]: exp', 'matmul+add', 'loop[3,9,11]: neg'], `${dtype} batched steps`);
  }
});

test('left alone: a bias along columns, a product read twice or returned, a sum that is only reduced', () => {
  const A = t([4, 5], 1, 'float64');
  const B = t([5, 6], 2, 'float64');
  const col = t([4, 1], 3, 'float64');
  const row = t([6], 4, 'float64');
  const cases: [string, (a: bt.Tensor, b: bt.Tensor) => bt.Tensor | bt.Tensor[]][] = [
    ['column bias', (a, b) => bt.matmul(a, b).add(col)],
    ['product read twice', (a, b) => { const p = bt.matmul(a, b); return p.add(row).mul(p); }],
    ['product returned', (a, b) => { const p = bt.matmul(a, b); return [p, p.add(row)]; }],
    ['sum only reduced', (a, b) => bt.sum(bt.matmul(a, b).add(row))],
  ];
  for (const [what, f] of cases) {
    const jf = bt.jit(f);
    const got = [jf(A, B)].flat() as bt.Tensor[];
    const want = [f(A, B)].flat() as bt.Tensor[];
    got.forEach((g, i) => same(g, want[i]!, what));
    assert.not.ok(jf.compiled()!.steps.includes('matmul+add'), `${what}: ${jf.compiled()!.steps.join(' | ')}`);
  }
});

test.run();
