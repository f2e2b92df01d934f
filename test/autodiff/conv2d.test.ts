/** conv2d primitive: values vs a naive loop (bt.conv2d and the general dilated/grouped form), float32, jit, errors. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { convGeneralDilated } from '../../src/autodiff/ops/conv.js';
import { assertClose, throwsType } from '../helpers.js';
import { naiveConv, tfPadding, uniform } from './conv2d-ref.js';

type Case = [number[], number[], [number, number], 'SAME' | 'VALID'];
// odd sizes, strides 1–3, non-square filters, Cin and Cout > 1
const cases: Case[] = [
  [[2, 7, 6, 3], [3, 2, 3, 4], [1, 1], 'SAME'],
  [[2, 7, 6, 3], [3, 2, 3, 4], [2, 2], 'SAME'],
  [[2, 7, 5, 3], [3, 3, 3, 2], [1, 1], 'VALID'],
  [[1, 9, 9, 2], [3, 3, 2, 5], [2, 2], 'VALID'],
  [[1, 8, 9, 2], [3, 3, 2, 2], [2, 3], 'VALID'],
  [[3, 5, 5, 1], [1, 4, 1, 5], [2, 1], 'VALID'],
  [[1, 4, 4, 2], [5, 5, 2, 1], [3, 3], 'SAME'],
  [[2, 5, 7, 4], [1, 1, 4, 3], [1, 1], 'VALID'], // the 1×1 fast path (a plain matmul)
];

test('bt.conv2d equals a naive loop (float64; strides 1–3, SAME and VALID, Cin/Cout > 1)', () => {
  cases.forEach(([xs, ws, s, padding], k) => {
    const x = uniform(xs, 10 + k), w = uniform(ws, 20 + k);
    const y = bt.conv2d(x.t, w.t, { strides: s, padding });
    const ref = naiveConv(x.v, xs, w.v, ws, { strides: s, padding: tfPadding(xs[1]!, xs[2]!, ws[0]!, ws[1]!, s, padding) });
    assert.equal(y.shape, ref.shape, `case ${k}`);
    assertClose(y, ref.out, 1e-13, 1e-13, `case ${k}`);
  });
});

test('the general form (lhs/rhs dilation, explicit and negative padding, feature groups) equals the naive loop', () => {
  const general: [number[], number[], Parameters<typeof naiveConv>[4]][] = [
    [[2, 5, 6, 3], [3, 2, 3, 4], { strides: [1, 2], padding: [[2, 1], [0, 3]], lhsDilation: [2, 3] }],
    [[1, 9, 8, 2], [3, 3, 2, 3], { strides: [2, 1], padding: [[1, 1], [2, 0]], rhsDilation: [2, 3] }],
    [[2, 7, 7, 6], [2, 3, 2, 6], { strides: [1, 1], padding: [[-1, 2], [1, -2]], groups: 3 }],
    [[1, 6, 5, 4], [3, 2, 2, 4], { strides: [2, 2], padding: [[1, 2], [1, 1]], lhsDilation: [2, 1], rhsDilation: [1, 2], groups: 2 }],
  ];
  general.forEach(([xs, ws, o], k) => {
    const x = uniform(xs, 30 + k), w = uniform(ws, 40 + k);
    const y = convGeneralDilated(x.t, w.t, { strides: o.strides, padding: o.padding, lhsDilation: o.lhsDilation, rhsDilation: o.rhsDilation, featureGroupCount: o.groups });
    const ref = naiveConv(x.v, xs, w.v, ws, o);
    assert.equal(y.shape, ref.shape, `general ${k}`);
    assertClose(y, ref.out, 1e-13, 1e-13, `general ${k}`);
  });
});

test('memory stays bounded: a batch bigger than one patch chunk gives the same values as per-example calls', () => {
  // 40·16·16 rows × 27 taps > the 2^18-element patch budget: several chunks
  const x = uniform([40, 16, 16, 3], 50), w = uniform([3, 3, 3, 8], 51);
  const y = bt.conv2d(x.t, w.t, { padding: 'SAME' });
  const ref = naiveConv(x.v, [40, 16, 16, 3], w.v, [3, 3, 3, 8], { strides: [1, 1], padding: [[1, 1], [1, 1]] });
  assertClose(y, ref.out, 1e-13, 1e-13, 'chunked');
});

test('a weight gradient whose patch row exceeds the chunk budget (summed over tap chunks) equals the direct sum', () => {
  // the ∂w convolution has K = Ho·Wo·N = 12·12·256 = 36864 columns per row, beyond the budget
  const [N, H, C, O] = [256, 24, 2, 3];
  const x = uniform([N, H, H, C], 80), w = uniform([3, 3, C, O], 81), probe = uniform([N, 12, 12, O], 82);
  const gw = bt.grad((b: bt.Tensor) => bt.sum(bt.mul(bt.conv2d(x.t, b, { strides: [2, 2], padding: 'SAME' }), probe.t)))(w.t) as bt.Tensor;
  // SAME, stride 2, k 3 on 24: out 12, total padding 1 → lo 0
  const ref = new Array<number>(9 * C * O).fill(0);
  for (let n = 0; n < N; n++) for (let a = 0; a < 12; a++) for (let b = 0; b < 12; b++) for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
    const ih = 2 * a + i, iw = 2 * b + j;
    if (ih >= H || iw >= H) continue;
    for (let c = 0; c < C; c++) for (let o = 0; o < O; o++) ref[((i * 3 + j) * C + c) * O + o] += x.v[((n * H + ih) * H + iw) * C + c]! * probe.v[((n * 12 + a) * 12 + b) * O + o]!;
  }
  assertClose(gw, ref, 1e-12, 1e-12, 'dw');
});

test('float32 on the CPU agrees with the float64 result to float32 precision', () => {
  const [xs, ws, s, padding] = cases[1]!;
  const x = uniform(xs, 60), w = uniform(ws, 61);
  const y64 = bt.conv2d(x.t, w.t, { strides: s, padding });
  const y32 = bt.conv2d(x.t.astype('float32'), w.t.astype('float32'), { strides: s, padding });
  assert.is(y32.dtype, 'float32');
  assertClose(y32, y64, 1e-5, 1e-6, 'float32');
});

test('under bt.jit: one traced conv2d equation, the eager values, and its gradient', () => {
  const [xs, ws, s, padding] = cases[1]!;
  const x = uniform(xs, 70), w = uniform(ws, 71);
  const f = (a: bt.Tensor, b: bt.Tensor) => bt.sum(bt.tanh(bt.conv2d(a, b, { strides: s, padding })));
  const jf = bt.jit(f);
  assert.is(jf(x.t, w.t).item(), f(x.t, w.t).item());
  const g = bt.jit(bt.grad(f, { argnums: [0, 1] }) as (a: bt.Tensor, b: bt.Tensor) => bt.Tensor[]);
  const [gx, gw] = g(x.t, w.t);
  const [ex, ew] = bt.grad(f, { argnums: [0, 1] })(x.t, w.t) as unknown as bt.Tensor[];
  assert.equal(gx!.toArray(), ex!.toArray());
  assert.equal(gw!.toArray(), ew!.toArray());
});

test('bad input: typed errors naming the problem', () => {
  const x = bt.zeros([1, 5, 5, 2]);
  throwsType(() => bt.conv2d(x, bt.zeros([3, 3, 3, 1])), bt.ShapeError, /equal Cin/, 'Cin mismatch');
  throwsType(() => bt.conv2d(x, bt.zeros([7, 3, 2, 1])), bt.ShapeError, /does not fit/, 'filter too big');
  throwsType(() => bt.conv2d(x, bt.zeros([3, 3, 2, 1]), { strides: [0, 1] }), bt.ConfigError, /strides/, 'strides');
  throwsType(() => bt.conv2d(x, bt.zeros([3, 3, 2, 1]), { padding: 'FULL' as 'SAME' }), bt.ConfigError, /padding/, 'padding');
  throwsType(() => bt.conv2d(x, bt.zeros([3, 3, 2, 1], 'float32')), bt.DTypeError, /conv2d/, 'dtypes');
  throwsType(() => convGeneralDilated(x, bt.zeros([3, 3, 1, 3]), { featureGroupCount: 2 }), bt.ShapeError, /feature groups/, 'groups');
  throwsType(() => convGeneralDilated(x, bt.zeros([3, 3, 2, 1]), { lhsDilation: [0, 1] }), bt.ConfigError, /lhsDilation/, 'dilation');
  throwsType(() => convGeneralDilated(x, bt.zeros([3, 3, 2, 1]), { padding: [[1, 1]] as never }), bt.ConfigError, /padding/, 'explicit padding');
});

test.run();
