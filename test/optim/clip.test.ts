/** clipByGlobalNorm: one norm over every leaf; unchanged below the threshold. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose } from '../helpers.js';

// g = (3, 4) in one leaf and (12) nested in another: ‖g‖ = 13
const grads = () => ({ w: bt.tensor([3, 4]), deep: { list: [bt.tensor([[12]])] } });
const flat = (t: unknown) => bt.tree.leaves(t).flatMap((l) => [...(l as bt.Tensor).dataSync()]);

test('globalNorm is the 2-norm of all leaves together', () => {
  assertClose(bt.optim.globalNorm(grads()), 13, 1e-15);
});

test('above maxNorm every leaf is scaled by maxNorm/‖g‖', () => {
  const c = bt.optim.clipByGlobalNorm(6.5);
  const [u, s] = c.update(grads(), c.init(grads()));
  assertClose(flat(u), [6, 1.5, 2], 1e-15); // sorted keys: deep before w
  assert.equal(s, {});
  assertClose(bt.optim.globalNorm(u), 6.5, 1e-15);
});

test('below maxNorm the updates are unchanged', () => {
  const c = bt.optim.clipByGlobalNorm(100);
  assertClose(flat(c.update(grads(), {})[0]), [12, 3, 4], 0, 0);
});

test('zero gradients stay zero (no 0/0)', () => {
  const c = bt.optim.clipByGlobalNorm(1);
  assertClose(flat(c.update({ a: bt.zeros([3]) }, {})[0]), [0, 0, 0], 0, 0);
});

test('maxNorm must be positive', () => {
  for (const m of [0, -1, NaN]) {
    assert.throws(() => bt.optim.clipByGlobalNorm(m), (e: Error) => e instanceof bt.ConfigError && /maxNorm/.test(e.message), String(m));
  }
});

test.run();
