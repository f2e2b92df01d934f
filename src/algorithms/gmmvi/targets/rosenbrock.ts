/**
 * The 2-D Rosenbrock target of gmmvi's example for non-tape targets (§9 of the notes):
 * log p̃(x, y) = −((a − x)² + b(y − x²)²), a = 1, b = 100, with its own gradient
 * (`useLogDensityAndGrad`): ∂/∂x = 2(a − x) + 4bx(y − x²), ∂/∂y = −2b(y − x²).
 */
import type { Tensor } from '../../../tensor.js';
import { add, mul, square, sub } from '../../../autodiff/ops/elementwise.js';
import { slice, stack } from '../../../autodiff/ops/shape.js';
import type { LNPDF } from '../target.js';

/** The Rosenbrock LNPDF: its gradient is always its own. */
export interface RosenbrockTarget extends LNPDF {
  /** [log p̃ [N], its hand-written gradient [N, 2]] */
  logDensityAndGrad(x: Tensor): [Tensor, Tensor];
}

/** A 2-D Rosenbrock LNPDF with a hand-written gradient (batched ops, no tape). */
export function rosenbrockTarget(opts: { a?: number; b?: number } = {}): RosenbrockTarget {
  const a = opts.a ?? 1;
  const b = opts.b ?? 100;
  const cols = (x: Tensor) => [slice(x, [0, 0], [x.shape[0]!, 1]).reshape([x.shape[0]!]), slice(x, [0, 1], [x.shape[0]!, 1]).reshape([x.shape[0]!])] as const;
  const logDensity = (x: Tensor) => {
    const [u, v] = cols(x);
    return mul(add(square(sub(a, u)), mul(square(sub(v, square(u))), b)), -1);
  };
  return {
    numDimensions: 2,
    useLogDensityAndGrad: true,
    logDensity,
    logDensityAndGrad(x: Tensor): [Tensor, Tensor] {
      const [u, v] = cols(x);
      const r = sub(v, square(u));
      const gx = add(mul(sub(a, u), 2), mul(mul(u, r), 4 * b));
      const gy = mul(r, -2 * b);
      return [logDensity(x), stack([gx, gy], 1)];
    },
  };
}
