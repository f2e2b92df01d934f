/**
 * jit on WebGPU: the program is compiled (src/jit/webgpu) into the kernels eager WebGPU runs, with
 * its elementwise chains fused as lazy fusion fuses them, so here (one small case, lavapipe is
 * slow) the results equal eager WebGPU exactly; test/webgpu/jit.test.ts has the op sweep.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { findWebgpu } from '../backend-harness.js';

const gpu = await findWebgpu('jit/webgpu');

test('jit on webgpu equals eager webgpu, value and gradient', async () => {
  if (typeof gpu === 'string') {
    if (process.env.CI === 'true') assert.unreachable(`no webgpu adapter: ${gpu}`);
    console.log(`[note] jit/webgpu SKIPPED: ${gpu}`);
    return;
  }
  await bt.withBackend('webgpu', async () => {
    const x = bt.tensor([[0.3, -1.2, 2.5], [0.7, 0.05, -0.4]], { dtype: 'float32' });
    const f = (x: bt.Tensor) => bt.sum(bt.softplus(bt.matmul(x, x.transpose())).mul(bt.exp(x.sum().mul(0.1))));
    const jf = bt.jit(bt.valueAndGrad(f));
    const [v1, g1] = jf(x);
    assert.is(g1.backend, 'webgpu');
    const [v2, g2] = bt.valueAndGrad(f)(x);
    assert.equal(Array.from(await v1.data()), Array.from(await v2.data()));
    assert.equal(Array.from(await g1.data()), Array.from(await g2.data()));
    jf(x);
    assert.is(jf.retraces, 1);
  });
});

test.run();
