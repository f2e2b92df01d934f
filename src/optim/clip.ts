import { add, div, less, mul, sqrt, square, where } from '../autodiff/ops/elementwise.js';
import { sum } from '../autodiff/ops/reduce.js';
import { zeros } from '../autodiff/ops/creation.js';
import type { PyTree } from '../autodiff/tree.js';
import type { Tensor } from '../tensor.js';
import type { GradientTransformation } from './types.js';
import { tensorTree, zipMap } from './treeutil.js';
import { checkNumber } from '../validate.js';

/** ‖tree‖₂ over all leaves together, as a scalar Tensor (stays on the device: no host read). */
export function globalNorm(tree: PyTree): Tensor {
  const [ls] = tensorTree('globalNorm', 'tree', tree);
  if (ls.length === 0) return zeros([]);
  return sqrt(ls.map((l) => sum(square(l))).reduce((a, b) => add(a, b)));
}

/**
 * If the global norm ‖g‖ exceeds maxNorm, rescales every leaf by maxNorm/‖g‖; otherwise leaves
 * the updates unchanged (optax.clip_by_global_norm, including its select-rather-than-min form).
 * State {}.
 */
export function clipByGlobalNorm(maxNorm: number): GradientTransformation<Record<string, never>> {
  const op = 'clipByGlobalNorm';
  const max = checkNumber(op, 'maxNorm', maxNorm, { above: 0 });
  return {
    init: () => ({}),
    update: (updates) => {
      const norm = globalNorm(updates);
      const keep = less(norm, max);
      return [zipMap(op, ['updates'], [updates], (g) => where(keep, g, mul(div(g, norm), max))), {}];
    },
  };
}
