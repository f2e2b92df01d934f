/**
 * Brock–Hommes (1998) asset-pricing model with H = 4 trader types, as blackbirds implements it
 * (Dyer et al. 2022, arXiv 2202.00625, eqs. 39–40). θ = (log β, g1..g4, b1..b4, log σ, log r);
 * R = 1 + r; each g_h is soft-clamped into [1e-3, 1] (softMaximum(softMinimum(g, 1, 2), 1e-3, 2)).
 * From three zero initial states,
 *
 *   x_t = [Σ_h softmax_h(β (x_{t−1} − R x_{t−2}) (g_h x_{t−3} + b_h − R x_{t−2})) (g_h x_{t−1} + b_h) + σ ε_t] / R,
 *
 * ε_t ~ N(0, 1), all T drawn once from the key. State [1, 1]; observes x as [T + 3].
 */
import type { Tensor } from '../../tensor.js';
import { zeros } from '../../autodiff/ops/creation.js';
import { normal } from '../../random.js';
import { add, concat, div, exp, mul, reshape, slice, softmax, sub, sum } from '../ops.js';
import { softMaximum, softMinimum } from '../helpers.js';
import type { Model } from '../simulate.js';

/** The names of θ's 11 entries for `brockHommes`, in order. */
export const BROCK_HOMMES_PARAMS = ['logBeta', 'g1', 'g2', 'g3', 'g4', 'b1', 'b2', 'b3', 'b4', 'logSigma', 'logR'] as const;

/** What `brockHommes` prepares once per simulation from θ: the constrained parameters and all T noise terms. */
export interface BhPrep {
  beta: Tensor; // [1, 1]
  g: Tensor; // [1, 4]
  b: Tensor; // [1, 4]
  R: Tensor; // [1, 1]
  /** σ ε_t for every step, [T, 1] */
  noise: Tensor;
}

/** The Brock–Hommes asset-pricing model (H = 4 trader types) over nTimesteps steps; θ as in BROCK_HOMMES_PARAMS. */
export function brockHommes(nTimesteps = 100): Model<BhPrep> {
  return {
    nTimesteps,
    memory: 3,
    prepare: (theta, key) => {
      const th = reshape(theta, [1, 11]);
      const eps = normal(key, [nTimesteps, 1], { dtype: theta.dtype === 'float32' ? 'float32' : 'float64' });
      return {
        beta: exp(slice(th, [0, 0], [1, 1])),
        g: softMaximum(softMinimum(slice(th, [0, 1], [1, 4]), 1, 2), 1e-3, 2),
        b: slice(th, [0, 5], [1, 4]),
        R: add(exp(slice(th, [0, 10], [1, 1])), 1),
        noise: mul(eps, exp(slice(th, [0, 9], [1, 1]))),
      };
    },
    initialize: (p) => zeros([3, 1], p.beta.dtype),
    step: (p, history, _key, t) => {
      const n = history.length;
      const [x3, x2, x1] = [history[n - 3]!, history[n - 2]!, history[n - 1]!]; // each [1, 1]
      const Rx2 = mul(p.R, x2);
      const exponent = mul(mul(p.beta, sub(x1, Rx2)), sub(add(mul(p.g, x3), p.b), Rx2)); // [1, 4]
      const w = softmax(exponent, { axis: -1 });
      const m = sum(mul(w, add(mul(p.g, x1), p.b)), { axis: -1, keepdims: true }); // [1, 1]
      return div(add(m, slice(p.noise, [t], [1])), p.R);
    },
    observe: (x) => [reshape(x, [x.shape[0]!])],
  };
}

/**
 * blackbirds' notebook 03 setup: infer (g2, g3, b2, b3); the rest fixed at β = 120,
 * g1 = b1 = b4 = 0, g4 = 1.01, σ = 0.04, log r = 0. Maps the 4 free values to the full 11.
 */
export function brockHommesNotebook03(free: Tensor): Tensor {
  const f = reshape(free, [4]);
  const z = zeros([1], free.dtype);
  const c = (v: number) => add(z, v);
  const parts = [c(Math.log(120)), c(0), slice(f, [0], [1]), slice(f, [1], [1]), c(1.01), c(0), slice(f, [2], [1]), slice(f, [3], [1]), c(0), c(Math.log(0.04)), c(0)];
  return concat(parts, 0);
}
