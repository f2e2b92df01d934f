/**
 * The WebGPU backend's host side, over a null device (bench/null-gpu.ts: every call returns at
 * once, values are meaningless, calls are counted), so it runs without any GPU: once warm, a
 * training step creates no buffers, bind groups or pipelines; a word that changes every step (a
 * foldIn counter) is uploaded, not cached as a new metadata buffer; caches and pools stay flat
 * over 10,000 steps; and a tensor dropped without dispose() still goes back to the pool.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as bt from '../../src/index.js';
import { nullWebGPUBackend } from '../../bench/null-gpu.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const CREATES = ['createBuffer', 'createBindGroup', 'createShaderModule', 'createComputePipeline', 'createBindGroupLayout'];

/** A backend over a null device, registered under `name`, and its call counts. */
function nullBackend(name: string) {
  const { backend, calls } = nullWebGPUBackend();
  bt.registerBackend(name, backend);
  const creates = () => CREATES.reduce((s, k) => s + (calls[k] ?? 0), 0);
  return { backend, calls, creates };
}

/** An MLP value+grad step with an Adam-like update and a foldIn(key, t) draw, as a training loop has. */
function trainingLoop(name: string) {
  return bt.withBackend(name, () => {
    const key = bt.keep(bt.random.key(0));
    const X = bt.keep(bt.random.normal(bt.random.key(1), [64, 8], { dtype: 'float32' }));
    let params = bt.keep([bt.random.normal(bt.random.key(2), [8, 16], { dtype: 'float32' }), bt.zeros([16], 'float32'), bt.random.normal(bt.random.key(3), [16, 1], { dtype: 'float32' })]);
    const loss = (ps: bt.Tensor[], x: bt.Tensor) => bt.mean(bt.square(bt.matmul(bt.tanh(bt.add(bt.matmul(x, ps[0]!), ps[1]!)), ps[2]!)));
    const vg = bt.valueAndGrad(loss);
    let t = 0;
    return async () => {
      const [value, next] = bt.withBackend(name, () =>
        bt.tidy(() => {
          const noise = bt.random.normal(bt.random.foldIn(key, t), [64, 8], { dtype: 'float32' });
          const [v, g] = vg(params, bt.add(X, bt.mul(noise, 0.01)));
          return [v, params.map((p, i) => bt.sub(p, bt.mul(g[i]!, 1e-3)))] as const;
        }),
      );
      bt.dispose(params);
      params = next;
      t++;
      await value.data();
      value.dispose();
    };
  });
}

test('once warm, a training step creates no buffers, bind groups or pipelines; caches stay flat over 10,000 steps', async () => {
  const { backend, calls, creates } = nullBackend('null-steady');
  const step = trainingLoop('null-steady');
  for (let i = 0; i < 50; i++) await step();
  const c0 = creates();
  const m0 = backend.memory();
  const writes0 = calls.writeBuffer ?? 0;
  const d0 = backend.stats.dispatches;
  for (let i = 0; i < 10_000; i++) await step();
  const m1 = backend.memory();
  assert.is(creates() - c0, 0, `GPU objects created over 10,000 warm steps: ${JSON.stringify(calls)}`);
  assert.is(m1.metaBytes, m0.metaBytes, 'metadata cache flat: the foldIn counter is not cached per step');
  assert.is(m1.bindGroups, m0.bindGroups, 'bind group cache flat');
  assert.is(m1.numBytes, m0.numBytes, 'live bytes flat');
  assert.is(m1.pooledBytes, m0.pooledBytes, 'pooled bytes flat');
  assert.is(m1.pipelines, m0.pipelines, 'pipelines flat');
  // the counter rides in an uploaded word each step (one queue write), besides nothing else new
  const writes = ((calls.writeBuffer ?? 0) - writes0) / 10_000;
  assert.ok(writes >= 1 && writes <= 2, `queue writes per step: ${writes}`);
  assert.is(calls.dispatchWorkgroups, backend.stats.dispatches, 'every counted dispatch reached the device');
  assert.ok(backend.stats.dispatches - d0 > 10_000, 'the steps dispatched work');
  backend.dispose();
});

test('metadata seen once is uploaded for its dispatch; metadata that recurs across submits is cached', async () => {
  const { backend, calls } = nullBackend('null-meta');
  const key = bt.withBackend('null-meta', () => bt.keep(bt.random.key(0)));
  const draw = async (t: number) => {
    const k = bt.withBackend('null-meta', () => bt.random.foldIn(key, t));
    await k.data();
    k.dispose();
  };
  for (let t = 0; t < 5; t++) await draw(7); // the same words in 5 submits: cached
  const meta0 = backend.memory().metaBytes;
  assert.ok(meta0 > 0, 'recurring metadata is cached');
  const buffers0 = calls.createBuffer ?? 0;
  for (let t = 100; t < 400; t++) await draw(t); // a new counter every submit: never cached
  assert.is(backend.memory().metaBytes, meta0, 'no metadata buffer per counter value');
  assert.is((calls.createBuffer ?? 0) - buffers0, 0, 'no buffer created per counter value');
  backend.dispose();
});

test('a tensor dropped without dispose() goes back to the pool once garbage-collected', async () => {
  const { backend } = nullBackend('null-gc');
  const turn = () => new Promise((r) => setTimeout(r, 0));
  const live0 = backend.memory().numBytes;
  (() => {
    // results created outside any tidy scope and never disposed
    for (let i = 0; i < 20; i++) bt.withBackend('null-gc', () => bt.add(bt.zeros([1000], 'float32'), 1));
  })();
  assert.ok(backend.memory().numBytes > live0, 'the dropped tensors hold buffers');
  for (let i = 0; i < 20 && backend.memory().numBytes > live0; i++) {
    await turn(); // handles join the safety net after two turns
    gc();
    await turn(); // finalization callbacks run after the collection
  }
  assert.is(backend.memory().numBytes, live0, 'every dropped buffer was reclaimed');
  backend.dispose();
});

test.run();
