/**
 * conv2d's rules: jvp and vjp against central differences (bt.conv2d and the general
 * dilated/grouped form, whose transposes use every parameter), second order (grad of grad,
 * reverse over forward) against differences of the AD gradient, and vmap over x, w and both
 * against a loop.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { convGeneralDilated, type ConvGeneralOptions } from '../../src/autodiff/ops/conv.js';
import { assertClose, checkDirectional } from '../helpers.js';
import { uniform } from './conv2d-ref.js';

type Conv = (x: bt.Tensor, w: bt.Tensor) => bt.Tensor;
const configs: [string, number[], number[], Conv][] = [
  ['SAME stride 1', [2, 7, 6, 3], [3, 2, 3, 4], (x, w) => bt.conv2d(x, w, { padding: 'SAME' })],
  ['SAME stride 2', [2, 7, 6, 3], [3, 2, 3, 4], (x, w) => bt.conv2d(x, w, { strides: [2, 2], padding: 'SAME' })],
  ['VALID stride 2 (uncovered tail)', [1, 8, 9, 2], [3, 3, 2, 3], (x, w) => bt.conv2d(x, w, { strides: [2, 3], padding: 'VALID' })],
];
const gen = (o: ConvGeneralOptions): Conv => (x, w) => convGeneralDilated(x, w, o);
const generalConfigs: [string, number[], number[], Conv][] = [
  ['lhs+rhs dilation, groups 2', [1, 6, 5, 4], [3, 2, 2, 4], gen({ strides: [2, 2], padding: [[1, 2], [1, 1]], lhsDilation: [2, 1], rhsDilation: [1, 2], featureGroupCount: 2 })],
  ['negative padding, groups 3', [2, 7, 7, 6], [2, 3, 2, 6], gen({ strides: [1, 2], padding: [[-1, 2], [1, -2]], featureGroupCount: 3 })],
];

test('jvp and vjp in x and in w equal central differences (tanh of the conv, so the cotangent varies)', () => {
  [...configs, ...generalConfigs].forEach(([name, xs, ws, conv], k) => {
    const x = uniform(xs, 100 + k).t, w = uniform(ws, 200 + k).t;
    checkDirectional((z) => bt.tanh(conv(z, w)), x, 300 + k, 1e-6, `${name} d/dx`);
    checkDirectional((z) => bt.tanh(conv(x, z)), w, 400 + k, 1e-6, `${name} d/dw`);
  });
});

test('second order: grad of grad (∂/∂w ⟨∇ₓf, v⟩) and reverse over forward equal differences of the AD gradient', () => {
  for (const [name, xs, ws, conv] of [configs[1]!, generalConfigs[0]!]) {
    const x = uniform(xs, 500).t, w = uniform(ws, 501).t;
    const v = uniform(xs, 502).t, u = uniform(ws, 503).t;
    const f = (a: bt.Tensor, b: bt.Tensor) => bt.sum(bt.tanh(conv(a, b)));
    const gxDotV = (b: bt.Tensor) => bt.sum(bt.mul(bt.grad((a: bt.Tensor) => f(a, b))(x) as bt.Tensor, v));
    const h = 1e-5;
    const hvp = bt.sum(bt.mul(bt.grad(gxDotV)(w) as bt.Tensor, u)).item();
    const fd = (gxDotV(w.add(u.mul(h))).item() - gxDotV(w.sub(u.mul(h))).item()) / (2 * h);
    assert.ok(Math.abs(hvp - fd) <= 1e-6 * Math.max(1, Math.abs(fd)), `${name} grad of grad: ${hvp} vs ${fd}`);
    // IMNN's pattern: the weight gradient of a loss built from a forward-mode derivative in x
    const jvpLoss = (b: bt.Tensor) => bt.sum(bt.square(bt.jvp((a: bt.Tensor) => bt.tanh(conv(a, b)), [x], [v])[1] as bt.Tensor));
    const rof = bt.sum(bt.mul(bt.grad(jvpLoss)(w) as bt.Tensor, u)).item();
    const fd2 = (jvpLoss(w.add(u.mul(h))).item() - jvpLoss(w.sub(u.mul(h))).item()) / (2 * h);
    assert.ok(Math.abs(rof - fd2) <= 1e-6 * Math.max(1, Math.abs(fd2)), `${name} reverse over forward: ${rof} vs ${fd2}`);
  }
});

test('third order in w (the rules are convolutions all the way down): jvp of the hvp equals differences', () => {
  const [, xs, ws, conv] = configs[1]!;
  const x = uniform(xs, 600).t, w = uniform(ws, 601).t, u = uniform(ws, 602).t;
  const f = (b: bt.Tensor) => bt.sum(bt.sin(conv(x, bt.mul(b, b))));
  const hv = (b: bt.Tensor) => bt.hvp(f, b, u);
  const h = 1e-5;
  const third = bt.jvp(hv, [w], [u])[1] as bt.Tensor;
  const fd = hv(w.add(u.mul(h))).sub(hv(w.sub(u.mul(h)))).div(2 * h);
  assertClose(third, fd, 1e-5, 1e-6, 'third order');
});

test('vmap over x, over w, and over both (feature groups) equals a loop, also under grad', () => {
  const B = 3;
  for (const [name, xs, ws, conv] of [configs[1]!, generalConfigs[0]!, generalConfigs[1]!]) {
    const xb = uniform([B, ...xs], 700).t, wb = uniform([B, ...ws], 701).t;
    const x0 = uniform(xs, 702).t, w0 = uniform(ws, 703).t;
    const at = (t: bt.Tensor, b: number) => bt.slice(t, [b], [1]).reshape(t.shape.slice(1));
    const loop = (f: (b: number) => bt.Tensor) => bt.stack([...Array(B).keys()].map(f));
    const cases: [string, bt.Tensor, bt.Tensor][] = [
      ['x', bt.vmap(conv, { inAxes: [0, null] })(xb, w0) as bt.Tensor, loop((b) => conv(at(xb, b), w0))],
      ['w', bt.vmap(conv, { inAxes: [null, 0] })(x0, wb) as bt.Tensor, loop((b) => conv(x0, at(wb, b)))],
      ['both', bt.vmap(conv)(xb, wb) as bt.Tensor, loop((b) => conv(at(xb, b), at(wb, b)))],
    ];
    for (const [which, got, want] of cases) assertClose(got, want, 1e-13, 1e-13, `${name}: vmap over ${which}`);
    // per-example weight gradients: vmap of grad batches the transposed convolutions too
    const g = (a: bt.Tensor, b: bt.Tensor) => bt.grad((c: bt.Tensor) => bt.sum(bt.tanh(conv(a, c))))(b) as bt.Tensor;
    assertClose(bt.vmap(g)(xb, wb) as bt.Tensor, loop((b) => g(at(xb, b), at(wb, b))), 1e-12, 1e-13, `${name}: vmap of grad`);
  }
});

test.run();
