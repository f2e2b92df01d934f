/**
 * conv2d on WebGPU vs the CPU (both float32): the forward for strides/padding and the general
 * dilated/grouped form, the gradients (the transposed convolutions, with negative padding and
 * input dilation), and vmap over x and w (feature groups), through the kernel's three variants
 * (vec4 channels, scalar, workgroup-split sums). Small shapes: lavapipe is slow.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { convGeneralDilated } from '../../src/autodiff/ops/conv.js';
import { webgpuOrSkip } from './setup.js';
import { rng } from '../helpers.js';

const gpu = await webgpuOrSkip('conv2d');

function rand32(shape: number[], seed: number): bt.Tensor {
  const r = rng(seed);
  return bt.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 2 * r() - 1), { shape, dtype: 'float32' });
}

/** Runs make on the CPU and on WebGPU (it creates its float32 inputs itself) and compares within float32 rounding of sums of ≤ 100 terms. */
async function parity(what: string, make: () => bt.Tensor[], rtol = 1e-5, atol = 1e-5): Promise<void> {
  const want = bt.withBackend('cpu', () => bt.tidy(() => make()));
  const got = bt.withBackend('webgpu', () => bt.tidy(() => make()));
  try {
    for (let k = 0; k < want.length; k++) {
      assert.is(got[k]!.backend, 'webgpu');
      assert.equal(got[k]!.shape, want[k]!.shape, `${what} ${k}: shape`);
      const g = await got[k]!.data(), w = await want[k]!.data();
      for (let i = 0; i < w.length; i++) {
        if (!(Math.abs(g[i]! - w[i]!) <= atol + rtol * Math.abs(w[i]!))) assert.unreachable(`${what} output ${k} [${i}]: webgpu ${g[i]}, cpu ${w[i]}`);
      }
    }
  } finally {
    bt.dispose([got, want]);
  }
}

if (gpu) {
  const convs: [string, number[], number[], (x: bt.Tensor, w: bt.Tensor) => bt.Tensor][] = [
    ['SAME stride 2', [2, 7, 6, 3], [3, 2, 3, 4], (x, w) => bt.conv2d(x, w, { strides: [2, 2], padding: 'SAME' })],
    ['VALID stride 1', [1, 9, 8, 2], [3, 3, 2, 5], (x, w) => bt.conv2d(x, w, { padding: 'VALID' })],
    // its weight gradient sums 12·12·16 terms into each of 72 outputs: the split kernel striding over taps
    // 8 outputs of 360 terms each, over 9 taps: the split kernel striding over channels
    ['few outputs, many channels', [1, 4, 4, 40], [3, 3, 40, 2], (x, w) => bt.conv2d(x, w, { padding: 'VALID' })],
    ['batch 16 (long weight-gradient sums)', [16, 12, 12, 2], [3, 3, 2, 4], (x, w) => bt.conv2d(x, w, { padding: 'SAME' })],
    ['dilated, grouped, negative padding', [1, 6, 5, 4], [3, 2, 2, 4], (x, w) =>
      convGeneralDilated(x, w, { strides: [2, 1], padding: [[1, 2], [-1, 1]], lhsDilation: [2, 1], rhsDilation: [1, 2], featureGroupCount: 2 })],
  ];

  test('forward and gradients in x and w equal the CPU', async () => {
    for (const [name, xs, ws, conv] of convs) {
      await parity(name, () => {
        const x = rand32(xs, 1), w = rand32(ws, 2);
        const [gx, gw] = bt.grad((a: bt.Tensor, b: bt.Tensor) => bt.sum(bt.tanh(conv(a, b))), { argnums: [0, 1] })(x, w) as unknown as bt.Tensor[];
        return [conv(x, w), gx!, gw!];
      });
    }
  });

  test('vmap over x, over w and over both equals the CPU', async () => {
    const [, xs, ws, conv] = convs[0]!;
    await parity('vmap', () => {
      const xb = rand32([2, ...xs], 3), wb = rand32([2, ...ws], 4);
      const x0 = rand32(xs, 5), w0 = rand32(ws, 6);
      return [bt.vmap(conv, { inAxes: [0, null] })(xb, w0) as bt.Tensor, bt.vmap(conv, { inAxes: [null, 0] })(x0, wb) as bt.Tensor, bt.vmap(conv)(xb, wb) as bt.Tensor];
    });
  });

  test.run();
}
