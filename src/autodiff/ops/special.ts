import type { Tensor } from '../../tensor.js';
import { bind1 } from '../core.js';
import type { Primitive } from '../primitive.js';

/** stopGradient: the identity whose derivative is zero (shares storage; no kernel runs). */
const stopGradientPrim: Primitive = {
  name: 'stopGradient',
  view: true,
  nondiff: true,
  shape: (inputs) => [inputs[0]!],
  batch: ([x]) => [bind1(stopGradientPrim, [x!], {})],
};

export const specialPrims = { stopGradient: stopGradientPrim };

/** `x` as a constant to every transform: its derivative is zero. */
export function stopGradient(x: Tensor): Tensor {
  return bind1(stopGradientPrim, [x], {});
}
