/**
 * Agent-based SIR on a graph (blackbirds' SIR). θ = log10(initial infected fraction, β, γ), each
 * soft-clamped to ≤ 0 (softMinimum(θ, 0, 2)) before 10^θ. State [1, 3, n]: infected, susceptible,
 * recovered indicators per agent. Each step:
 *   m_i = Σ_{j ~ i} infected_j · susceptible_i (messages along the edges), clipped to [0, 5];
 *   P(infection) = 1 − (1 − β)^{m_i};  P(recovery) = γ · infected_i  (both clipped to [1e-10, 1]);
 *   both drawn by straight-through Gumbel-softmax Bernoulli (τ = 0.1).
 * Observes [total infected, total recovered] per step, each [T + 1].
 */
import type { Tensor } from '../../tensor.js';
import { tensor, ones, zeros } from '../../autodiff/ops/creation.js';
import { foldIn } from '../../random.js';
import { add, clip, mul, perBackend, pow, reshape, scatterAdd, slice, stack, sub, sum, take } from '../ops.js';
import { bernoulliStraightThrough, softMinimum } from '../helpers.js';
import type { Model } from '../simulate.js';
import type { Graph } from './graph.js';

/** Agent-based SIR epidemic on a graph; θ = log10(initial infected fraction, β, γ). */
export function sir(graph: Graph, nTimesteps: number, opts: { tau?: number } = {}): Model<Tensor> {
  const tau = opts.tau ?? 0.1;
  const n = graph.nNodes;
  const src = perBackend(() => tensor(graph.src, { dtype: 'int32' }));
  const dst = perBackend(() => tensor(graph.dst, { dtype: 'int32' }));
  return {
    nTimesteps,
    memory: 1,
    prepare: (theta) => pow(10, softMinimum(reshape(theta, [3]), 0, 2)),
    initialize: (r, key) => {
      const p0 = slice(r, [0], [1]);
      const inf = bernoulliStraightThrough(key, mul(ones([n], r.dtype), p0), tau);
      return reshape(stack([inf, sub(1, inf), zeros([n], r.dtype)], 0), [1, 3, n]);
    },
    step: (r: Tensor, history, key) => {
      const beta = slice(r, [1], [1]);
      const gamma = slice(r, [2], [1]);
      const last = reshape(history[history.length - 1]!, [3, n]);
      const infected = reshape(slice(last, [0], [1]), [n]);
      const susceptible = reshape(slice(last, [1], [1]), [n]);
      const recovered = reshape(slice(last, [2], [1]), [n]);
      const msgs = mul(take(infected, src('int32')), take(susceptible, dst('int32')));
      const nInf = clip(scatterAdd(zeros([n], r.dtype), dst('int32'), msgs), 0, 5);
      const pInf = clip(sub(1, pow(sub(1, beta), nInf)), 1e-10, 1);
      const newInf = bernoulliStraightThrough(foldIn(key, 0), pInf, tau);
      const pRec = clip(mul(gamma, infected), 1e-10, 1);
      const newRec = bernoulliStraightThrough(foldIn(key, 1), pRec, tau);
      const i2 = sub(add(infected, newInf), newRec);
      const s2 = sub(susceptible, newInf);
      const r2 = add(recovered, newRec);
      return reshape(stack([i2, s2, r2], 0), [1, 3, n]);
    },
    observe: (x) => {
      const t = x.shape[0]!;
      return [sum(reshape(slice(x, [0, 0], [t, 1]), [t, n]), { axis: 1 }), sum(reshape(slice(x, [0, 2], [t, 1]), [t, n]), { axis: 1 })];
    },
  };
}
