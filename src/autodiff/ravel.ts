import type { Tensor } from '../tensor.js';
import { ShapeError } from '../errors.js';
import { tensorLeaves, unflatten, type PyTree } from './tree.js';
import { concat, reshape, slice } from './ops/shape.js';
import { zeros } from './ops/creation.js';
import { assertSameDType } from '../dtype.js';
import { fmtShape } from '../shape.js';

/**
 * ravel(tree) -> [flat, unravel]: all leaves concatenated into one vector (they must share a
 * dtype), and the inverse map. Differentiable both ways, so a pytree can be handed to code that
 * wants one vector (jacobians, Newton–CG, Laplace approximations).
 */
export function ravel(tree: PyTree): [Tensor, (flat: Tensor) => PyTree] {
  const [ls, def] = tensorLeaves('tree.ravel', tree);
  const shapes = ls.map((l) => l.shape);
  const sizes = ls.map((l) => l.size);
  const total = sizes.reduce((a, b) => a + b, 0);
  const dtype = ls.length ? assertSameDType('tree.ravel', ls.map((l) => l.dtype)) : 'float64';
  const flat = ls.length ? concat(ls.map((l) => reshape(l, [l.size])), 0) : zeros([0], dtype);
  const unravel = (v: Tensor): PyTree => {
    if (v.ndim !== 1 || v.size !== total) throw new ShapeError(`tree.ravel's unravel: expected a vector of ${total} entries, got ${fmtShape(v.shape)}.`);
    let off = 0;
    const parts = shapes.map((s, i) => {
      const piece = reshape(slice(v, [off], [sizes[i]!]), s);
      off += sizes[i]!;
      return piece;
    });
    return unflatten(def, parts);
  };
  return [flat, unravel];
}
