/**
 * clipByGlobalNorm: one norm over every leaf; unchanged below the threshold.
 *
 * Every body runs on each backend (see ../backend-harness.ts): `name [cpu]` in float64 with the
 * checks and tolerances of ../helpers.ts as before, and `name [webgpu]` in float32 (the backend's
 * default float dtype), read with `await t.data()`. ‖(3, 4, 12)‖ = 13 and every partial sum of
 * squares is a small integer, exact in float32; the clipped leaves g·maxNorm/‖g‖ are compared
 * within B.adRtol (64 ulps, the harness's allowance for a short op chain) relative; the
 * pass-through branch (a select, no arithmetic) exactly.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose } from '../helpers.js';
import { assertCloseArr, backendsUnderTest, read, registerAll, scalar, type BackendCase } from '../backend-harness.js';

const backends = await backendsUnderTest('optim/clip');

// g = (3, 4) in one leaf and (12) nested in another: ‖g‖ = 13
const grads = () => ({ w: bt.tensor([3, 4]), deep: { list: [bt.tensor([[12]])] } });
const flat = async (t: unknown) => (await Promise.all(bt.tree.leaves(t).map((l) => read(l as bt.Tensor)))).flat();

/** CPU: helpers.assertClose(got, want, cpuRtol) as before; WebGPU: within B.adRtol relative. */
function close(B: BackendCase, got: number[], want: number[], cpuRtol: number, what: string): void {
  if (B.name === 'cpu') assertClose(got, want, cpuRtol, undefined, what);
  else assertCloseArr(got, want, B.adRtol, 0, what);
}

registerAll(backends, 'globalNorm is the 2-norm of all leaves together', async (B) => {
  const n = bt.optim.globalNorm(grads());
  assert.equal([...n.shape], []);
  assert.is(n.dtype, B.dtype);
  if (B.name === 'cpu') assertClose(n, 13, 1e-15);
  // √169 is exact, and so are the integer sums of squares before it
  else assert.is(await scalar(n), 13);
});

registerAll(backends, 'above maxNorm every leaf is scaled by maxNorm/‖g‖', async (B) => {
  const c = bt.optim.clipByGlobalNorm(6.5);
  const [u, s] = c.update(grads(), c.init(grads()));
  close(B, await flat(u), [6, 1.5, 2], 1e-15, 'clipped leaves'); // sorted keys: deep before w
  assert.equal(s, {});
  close(B, [await scalar(bt.optim.globalNorm(u))], [6.5], 1e-15, 'norm after clipping');
  // a larger tree (the norm's reduction over several workgroups' worth of elements)
  const big = { x: bt.tensor(Array.from({ length: 1000 }, (_, i) => ((i % 7) - 3) * 0.25)), y: bt.tensor([[2, -1], [0.5, 3]]) };
  const hv = [...Array.from({ length: 1000 }, (_, i) => ((i % 7) - 3) * 0.25), 2, -1, 0.5, 3];
  const norm = Math.sqrt(hv.reduce((t, v) => t + v * v, 0));
  const [ub] = bt.optim.clipByGlobalNorm(1).update(big, {});
  const want = hv.map((v) => v / norm); // leaves in sorted-key order: x then y
  close(B, await flat(ub), want, 1e-13, '1004-element tree clipped to norm 1');
});

registerAll(backends, 'below maxNorm the updates are unchanged', async () => {
  const c = bt.optim.clipByGlobalNorm(100);
  assertClose(await flat(c.update(grads(), {})[0]), [12, 3, 4], 0, 0);
});

registerAll(backends, 'zero gradients stay zero (no 0/0)', async () => {
  const c = bt.optim.clipByGlobalNorm(1);
  assertClose(await flat(c.update({ a: bt.zeros([3]) }, {})[0]), [0, 0, 0], 0, 0);
});

registerAll(backends, 'maxNorm must be positive', () => {
  for (const m of [0, -1, NaN]) {
    assert.throws(() => bt.optim.clipByGlobalNorm(m), (e: Error) => e instanceof bt.ConfigError && /maxNorm/.test(e.message), String(m));
  }
}, 'option validation on the host: creates no tensor, so there is nothing backend-specific to run');

test.run();
