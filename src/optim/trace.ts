import { add, mul } from '../autodiff/ops/elementwise.js';
import { zerosLike } from '../autodiff/ops/creation.js';
import type { PyTree } from '../autodiff/tree.js';
import type { GradientTransformation } from './types.js';
import { stateField, tensorTree, zipMap } from './treeutil.js';
import { unflatten } from '../autodiff/tree.js';
import { checkBoolean, checkNumber, requireOptions } from '../validate.js';

/** Options of `trace`: the momentum and whether to use Nesterov's form. */
export interface TraceOptions {
  /** the momentum μ */
  decay: number;
  nesterov?: boolean;
}

/**
 * Momentum accumulator (optax.trace), no dampening:
 *   m ← g + μ·m;  output m, or g + μ·m (with the new m) when nesterov.
 * State { trace: m }, zeros at init.
 */
export function trace(opts: TraceOptions): GradientTransformation<{ trace: PyTree }> {
  const op = 'trace';
  requireOptions(op, opts, ['decay', 'nesterov']);
  const mu = checkNumber(op, 'decay', opts?.decay, { min: 0 });
  const nesterov = checkBoolean(op, 'nesterov', opts.nesterov ?? false);
  return {
    init: (params) => {
      const [ls, def] = tensorTree(op, 'params', params);
      return { trace: unflatten(def, ls.map(zerosLike)) };
    },
    update: (updates, state) => {
      const m = zipMap(op, ['updates', 'state.trace'], [updates, stateField(op, state, 'trace')], (g, t) => add(g, mul(t, mu)));
      const out = nesterov ? zipMap(op, ['updates', 'new trace'], [updates, m], (g, t) => add(g, mul(t, mu))) : m;
      // without nesterov the output and the new state share tensors; that is fine: neither is
      // the *old* state, which is what callers dispose
      return [out, { trace: m }];
    },
  };
}
