import { add, div, mul, sqrt, square } from '../autodiff/ops/elementwise.js';
import { zerosLike } from '../autodiff/ops/creation.js';
import { unflatten, type PyTree } from '../autodiff/tree.js';
import type { GradientTransformation } from './types.js';
import { stateField, stepCount, tensorTree, zipMap } from './treeutil.js';
import { checkKeys, checkNumber } from '../validate.js';

/** Adam's moment options (optax names and defaults): b1 = 0.9, b2 = 0.999, eps = 1e-8, epsRoot = 0. */
export interface ScaleByAdamOptions {
  b1?: number;
  b2?: number;
  eps?: number;
  epsRoot?: number;
}

/** Adam's state: the step count and the first and second moments (pytrees like params). */
export interface AdamState {
  count: number;
  mu: PyTree;
  nu: PyTree;
}

/** Validates Adam's moment options (shared by adam and adamw). */
export function adamOptions(op: string, opts: ScaleByAdamOptions | undefined): Required<ScaleByAdamOptions> {
  return {
    b1: checkNumber(op, 'b1', opts?.b1 ?? 0.9, { min: 0, below: 1 }),
    b2: checkNumber(op, 'b2', opts?.b2 ?? 0.999, { min: 0, below: 1 }),
    eps: checkNumber(op, 'eps', opts?.eps ?? 1e-8, { min: 0 }),
    epsRoot: checkNumber(op, 'epsRoot', opts?.epsRoot ?? 0, { min: 0 }),
  };
}

/**
 * Adam's rescaling (optax.scale_by_adam), with t = count + 1:
 *   μ ← b1 μ + (1 − b1) g;   ν ← b2 ν + (1 − b2) g²
 *   update = μ̂ / (√(ν̂ + epsRoot) + eps),  μ̂ = μ/(1 − b1ᵗ),  ν̂ = ν/(1 − b2ᵗ).
 * The bias corrections are host numbers, so the step costs no device reads.
 */
export function scaleByAdam(opts?: ScaleByAdamOptions): GradientTransformation<AdamState> {
  const op = 'scaleByAdam';
  checkKeys(op, opts, ['b1', 'b2', 'eps', 'epsRoot']);
  const { b1, b2, eps, epsRoot } = adamOptions(op, opts);
  return {
    init: (params) => {
      const [ls, def] = tensorTree(op, 'params', params);
      return { count: 0, mu: unflatten(def, ls.map(zerosLike)), nu: unflatten(def, ls.map(zerosLike)) };
    },
    update: (updates, state) => {
      const t = stepCount(op, state) + 1;
      const mu = zipMap(op, ['updates', 'state.mu'], [updates, stateField(op, state, 'mu')], (g, m) => add(mul(m, b1), mul(g, 1 - b1)));
      const nu = zipMap(op, ['updates', 'state.nu'], [updates, stateField(op, state, 'nu')], (g, v) => add(mul(v, b2), mul(square(g), 1 - b2)));
      const c1 = 1 - b1 ** t;
      const c2 = 1 - b2 ** t;
      const out = zipMap(op, ['mu', 'nu'], [mu, nu], (m, v) => div(div(m, c1), add(sqrt(add(div(v, c2), epsRoot)), eps)));
      return [out, { count: t, mu, nu }];
    },
  };
}
