/**
 * categoricalLogits: log-softmax at the label, batched, with its gradient.
 *
 * Every body runs on each backend (see ../backend-harness.ts): `name [cpu]` in float64 with the
 * checks and tolerances of ../helpers.ts as before, and `name [webgpu]` in float32, read with
 * `await t.data()`. float32 tolerance: B.adRtol (64 ulps, the harness's allowance for a short op
 * chain) relative to the terms log-softmax rounds, |ℓ_y − max ℓ| + log Σ exp(ℓ − max ℓ).
 */
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import * as bt from '../../src/index.js';
import { assertClose } from '../helpers.js';
import { assertCloseArr, backendsUnderTest, ints, read, registerAll, type BackendCase } from '../backend-harness.js';

const backends = await backendsUnderTest('logpdf/categorical');

/** float32: got within B.adRtol·scale of want (scale default |want|). */
async function gpuClose(B: BackendCase, got: bt.Tensor, want: number[], what: string, scale?: number[]): Promise<void> {
  assert.is(got.backend, B.name, `${what}: ran on ${B.name}`);
  assert.is(got.dtype, B.dtype, `${what}: dtype`);
  const s = scale ?? want.map(Math.abs);
  assertCloseArr(await read(got), want, 0, 0, what, s.map((v) => B.adRtol * v));
}

/** The magnitude of the terms of logits[y] − logsumexp(logits) as computed (shifted by the max). */
function lsmScale(row: number[], y: number): number {
  const m = Math.max(...row);
  return Math.abs(row[y]! - m) + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
}

registerAll(backends, 'logits[y] − logsumexp(logits)', async (B) => {
  // logsumexp(1, 2, 3) = 3.4076059644443806
  const logits = bt.tensor([[1, 2, 3], [1, 2, 3]]);
  const lp = bt.logpdf.categoricalLogits(ints([2, 0]), logits);
  // leading batch axes
  const lp3 = bt.logpdf.categoricalLogits(bt.zeros([2, 3], 'int32'), bt.zeros([2, 3, 4]));
  assert.equal(lp3.shape, [2, 3]);
  if (B.name === 'cpu') {
    assertClose(lp, [-0.4076059644443806, -2.4076059644443806], 1e-15);
    assertClose(lp3, new Array(6).fill(-Math.log(4)), 1e-15);
    return;
  }
  await gpuClose(B, lp, [-0.4076059644443806, -2.4076059644443806], 'categoricalLogits', [lsmScale([1, 2, 3], 2), lsmScale([1, 2, 3], 0)]);
  await gpuClose(B, lp3, new Array(6).fill(-Math.log(4)), 'batched over [2, 3]');
});

registerAll(backends, 'gradient is onehot(y) − softmax(logits)', async (B) => {
  const g = bt.grad((l: bt.Tensor) => bt.sum(bt.logpdf.categoricalLogits(ints([1]), l)))(bt.tensor([[0, 0]]));
  if (B.name === 'cpu') assertClose(g, [-0.5, 0.5], 1e-15);
  // onehot − softmax: the terms are 1 and ½
  else await gpuClose(B, g, [-0.5, 0.5], 'gradient', [0.5, 1.5]);
  // a batch of rows with distinct logits, against the host softmax
  const rows = [[0.5, -1, 2, 0], [3, 3, -2, 1]];
  const ys = [2, 0];
  const gb = bt.grad((l: bt.Tensor) => bt.sum(bt.logpdf.categoricalLogits(ints(ys), l)))(bt.tensor(rows));
  const want = rows.flatMap((r, i) => {
    const m = Math.max(...r);
    const z = r.reduce((s, v) => s + Math.exp(v - m), 0);
    return r.map((v, k) => (k === ys[i] ? 1 : 0) - Math.exp(v - m) / z);
  });
  if (B.name === 'cpu') assertClose(gb, want, 1e-14, 1e-16);
  else await gpuClose(B, gb, want, 'batched gradient', want.map((w, k) => Math.abs(w) + (k % 4 === ys[Math.floor(k / 4)] ? 1 : 0)));
});

registerAll(backends, 'labels must be int32 with the leading shape of logits', () => {
  assert.throws(() => bt.logpdf.categoricalLogits(bt.tensor([1]), bt.zeros([1, 3])), (e: Error) => e instanceof bt.DTypeError && /int32/.test(e.message));
  assert.throws(() => bt.logpdf.categoricalLogits(bt.zeros([2], 'int32'), bt.zeros([3, 3])), (e: Error) => e instanceof bt.ShapeError && /\[2\].*\[3, 3\]/.test(e.message));
});

registerAll(backends, 'a label outside [0, K) is a ShapeError (at the call on CPU, at the next read on WebGPU), not a neighbouring row', async () => {
  // row 0 with label K = 3 would read row 1's first logit if the gather ran over the flattened logits
  for (const bad of [[3, 0], [0, 5], [-4, 0]]) {
    let err: unknown = null;
    try {
      const lp = bt.logpdf.categoricalLogits(ints(bad), bt.tensor([[0, 1, 2], [10, 11, 12]]));
      await lp.data();
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof bt.ShapeError, `labels ${JSON.stringify(bad)} for K = 3: expected a ShapeError, got ${err === null ? 'no error' : String(err)}`);
  }
});

test.run();
