/** Helpers for the flow tests (not a test file). */
import * as bt from '../../src/index.js';

/** params with every leaf moved by scale·N(0, 1) (so zero-initialised layers are no longer the identity) */
export function perturb(params: bt.tree.PyTree, seed: number, scale = 0.3): bt.tree.PyTree {
  const leaves = bt.tree.leaves(params) as bt.Tensor[];
  const keys = bt.random.split(bt.random.key(seed), Math.max(1, leaves.length));
  let i = 0;
  return bt.tree.map((l: bt.Tensor) => {
    const k = bt.reshape(bt.slice(keys, [i++, 0], [1, 2]), [2]);
    return l.add(bt.random.normal(k, l.shape, { dtype: l.dtype as 'float64' }).mul(scale));
  }, params);
}
