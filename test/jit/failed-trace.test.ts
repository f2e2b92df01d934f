/**
 * A trace that fails (a host read inside f) leaves nothing behind: the constants it had captured
 * (tensors f closes over) are freed with it, so a caller that falls back to eager does not leak.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';

test('a failed trace frees the constants it captured', () => {
  const c = bt.keep(bt.tensor([1, 2, 3]));
  const f = bt.jit((x: bt.Tensor) => {
    const y = x.mul(c).add(bt.tensor([0.5, 0.5, 0.5])); // two constants: c and a tensor made inside f
    return y.sum().item() > 0 ? y : y.neg(); // a host read: the trace fails here
  });
  const x = bt.tensor([1, 1, 1]);
  const m0 = bt.memory().numTensors;
  for (let i = 0; i < 3; i++) assert.throws(() => f(x), (e: unknown) => e instanceof bt.TracerError);
  assert.is(bt.memory().numTensors, m0);
  assert.is(f.retraces, 3);
});

test.run();
