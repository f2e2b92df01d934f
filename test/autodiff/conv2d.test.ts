/** conv2d (interim, composed of pad/slice/matmul): values vs a naive loop over shapes, strides and paddings; grads vs central differences; vmap. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { rng } from '../helpers.js';

function naive(x: number[], xs: number[], w: number[], ws: number[], s: [number, number], padding: 'SAME' | 'VALID') {
  const [N, H, W, C] = xs as [number, number, number, number];
  const [kh, kw, , O] = ws as [number, number, number, number];
  const pads = [[H, kh, s[0]], [W, kw, s[1]]].map(([n, k, st]) => {
    if (padding === 'VALID') return [0, Math.floor((n! - k!) / st!) + 1];
    const out = Math.ceil(n! / st!);
    return [Math.floor(Math.max((out - 1) * st! + k! - n!, 0) / 2), out];
  });
  const [[lh, Ho], [lw, Wo]] = pads as [[number, number], [number, number]];
  const out = new Array(N * Ho * Wo * O).fill(0);
  for (let b = 0; b < N; b++) for (let oh = 0; oh < Ho; oh++) for (let ow = 0; ow < Wo; ow++) for (let o = 0; o < O; o++) {
    let acc = 0;
    for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
      const ih = oh * s[0] + i - lh, iw = ow * s[1] + j - lw;
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
      for (let c = 0; c < C; c++) acc += x[((b * H + ih) * W + iw) * C + c]! * w[((i * kw + j) * C + c) * O + o]!;
    }
    out[((b * Ho + oh) * Wo + ow) * O + o] = acc;
  }
  return { out, shape: [N, Ho, Wo, O] };
}

const r = rng(7);
const rand = (n: number) => Array.from({ length: n }, () => 2 * r() - 1);
const cases: [number[], number[], [number, number], 'SAME' | 'VALID'][] = [
  [[2, 7, 6, 3], [3, 2, 3, 4], [1, 1], 'SAME'],
  [[2, 7, 6, 3], [3, 2, 3, 4], [2, 2], 'SAME'],
  [[1, 8, 9, 2], [3, 3, 2, 2], [2, 3], 'VALID'],
  [[3, 5, 5, 1], [1, 4, 1, 5], [2, 1], 'VALID'],
  [[1, 4, 4, 2], [5, 5, 2, 1], [3, 3], 'SAME'],
];

test('values equal a naive loop (strides 1–3, SAME and VALID, non-square kernels)', () => {
  for (const [xs, ws, s, padding] of cases) {
    const xv = rand(xs.reduce((a, b) => a * b)), wv = rand(ws.reduce((a, b) => a * b));
    const y = bt.conv2d(bt.tensor(xv, { shape: xs }), bt.tensor(wv, { shape: ws }), { strides: s, padding });
    const ref = naive(xv, xs, wv, ws, s, padding);
    assert.equal(y.shape, ref.shape, `${xs} ${ws} ${s} ${padding}`);
    const got = y.dataSync();
    ref.out.forEach((v, i) => assert.ok(Math.abs(v - got[i]!) < 1e-12, `${xs} ${ws} ${s} ${padding} [${i}]: ${got[i]} vs ${v}`));
  }
});

test('gradients wrt x and w equal central differences; vmap over x', () => {
  const [xs, ws, s, padding] = cases[1]!;
  const xv = rand(xs.reduce((a, b) => a * b)), wv = rand(ws.reduce((a, b) => a * b));
  const probe = bt.tensor(rand(2 * 4 * 3 * 4), { shape: [2, 4, 3, 4] });
  const f = (x: bt.Tensor, w: bt.Tensor) => bt.sum(bt.mul(bt.tanh(bt.conv2d(x, w, { strides: s, padding })), probe));
  const [gx, gw] = bt.grad(f, { argnums: [0, 1] })(bt.tensor(xv, { shape: xs }), bt.tensor(wv, { shape: ws })) as unknown as bt.Tensor[];
  const h = 1e-6;
  for (const [which, v, shp, g] of [[0, xv, xs, gx], [1, wv, ws, gw]] as const) {
    const gd = g!.dataSync();
    for (let i = 0; i < v.length; i += 3) {
      const p = [...v], q = [...v];
      p[i] += h; q[i] -= h;
      const at = (arr: number[]) => (which === 0 ? f(bt.tensor(arr, { shape: shp }), bt.tensor(wv, { shape: ws })) : f(bt.tensor(xv, { shape: xs }), bt.tensor(arr, { shape: shp }))).item();
      const fd = (at(p) - at(q)) / (2 * h);
      assert.ok(Math.abs(fd - gd[i]!) < 1e-6 * (1 + Math.abs(fd)), `arg ${which} [${i}]: ${gd[i]} vs ${fd}`);
    }
  }
  const xb = bt.tensor(rand(3 * xs.reduce((a, b) => a * b)), { shape: [3, ...xs] });
  const w = bt.tensor(wv, { shape: ws });
  const vm = bt.vmap((x: bt.Tensor) => bt.conv2d(x, w, { strides: s, padding }))(xb) as bt.Tensor;
  const loop = bt.stack([0, 1, 2].map((b) => bt.conv2d(bt.slice(xb, [b], [1]).reshape(xs), w, { strides: s, padding })));
  const a = vm.dataSync(), b = loop.dataSync();
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 1e-12));
});

test.run();
