/**
 * gmmvi's planar robot (§9 of the notes): a 10-link arm of unit links whose joint angles θ put the
 * end effector at (Σᵢ cos Σ_{j≤i} θⱼ, Σᵢ sin Σ_{j≤i} θⱼ). Prior N(0, diag(1, 0.2², …)); likelihood
 * log N(ee; goal, 0.01² I) for one goal (7, 0), or the max over four goals (±7, 0), (0, ±7). Both
 * factors are normalised, as in gmmvi, so −ELBO values compare with the paper's.
 */
import type { Tensor } from '../../../tensor.js';
import { ConfigError } from '../../../errors.js';
import { add, cos, mul, neg, sin, square, sub } from '../../../autodiff/ops/elementwise.js';
import { cumsum, max, sum } from '../../../autodiff/ops/reduce.js';
import { stack } from '../../../autodiff/ops/shape.js';
import { tensor } from '../../../autodiff/ops/creation.js';
import type { LNPDF } from '../target.js';

/** The planar-robot LNPDF, with the end-effector map (for the modes-per-goal metric and plots). */
export interface PlanarRobotTarget extends LNPDF {
  /** the goal positions [[x, y], …] */
  goals: number[][];
  /** end-effector positions [N, 2] of joint angles [N, d] */
  endEffector(theta: Tensor): Tensor;
}

/** A planar robot with `numLinks` unit links and 1 or 4 goals (gmmvi's PlanarRobot1 / PlanarRobot4). */
export function planarRobotTarget(numGoals: 1 | 4, opts: { numLinks?: number; priorStd?: number; likelihoodStd?: number } = {}): PlanarRobotTarget {
  const d = opts.numLinks ?? 10;
  const ps = opts.priorStd ?? 0.2;
  const ls = opts.likelihoodStd ?? 0.01;
  if (!Number.isInteger(d) || d < 1) throw new ConfigError(`gmmvi.planarRobotTarget: numLinks must be a positive integer, got ${String(d)}.`);
  if (numGoals !== 1 && numGoals !== 4) throw new ConfigError(`gmmvi.planarRobotTarget: numGoals must be 1 or 4, got ${String(numGoals)}.`);
  const r = 0.7 * d;
  const goals = numGoals === 1 ? [[r, 0]] : [[r, 0], [-r, 0], [0, r], [0, -r]];
  const stds = Array.from({ length: d }, (_, i) => (i === 0 ? 1 : ps));
  const priorConst = -0.5 * d * Math.log(2 * Math.PI) - stds.reduce((s, v) => s + Math.log(v), 0);
  const likConst = -Math.log(2 * Math.PI) - 2 * Math.log(ls);
  const endEffector = (theta: Tensor): Tensor => {
    const c = cumsum(theta, { axis: 1 });
    return stack([sum(cos(c), { axis: 1 }), sum(sin(c), { axis: 1 })], 1);
  };
  return {
    numDimensions: d,
    goals,
    endEffector,
    logDensity(theta: Tensor): Tensor {
      const dt = theta.dtype as 'float64' | 'float32';
      const prior = add(mul(sum(square(mul(theta, tensor(stds.map((s) => 1 / s), { dtype: dt }))), { axis: 1 }), -0.5), priorConst);
      const ee = endEffector(theta);
      // [N, G]: log N(ee; goal_g, ls² I) for every goal, then the max over goals
      const diffs = goals.map((g) => sum(square(sub(ee, tensor(g, { dtype: dt }))), { axis: 1 }));
      const lik = add(mul(max(neg(stack(diffs, 1)), { axis: 1 }), 0.5 / (ls * ls)), likConst);
      return add(prior, lik);
    },
  };
}
