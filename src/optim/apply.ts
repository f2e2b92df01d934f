import { add } from '../autodiff/ops/elementwise.js';
import type { PyTree } from '../autodiff/tree.js';
import { zipMap } from './treeutil.js';

/** params + updates leafwise (optax.apply_updates); structures, shapes and dtypes must match. */
export function applyUpdates<T extends PyTree>(params: T, updates: PyTree): T {
  return zipMap('applyUpdates', ['params', 'updates'], [params, updates], add) as T;
}
