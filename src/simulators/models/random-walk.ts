/**
 * Random walk (blackbirds' RandomWalk): X_0 = 0, X_t = X_{t−1} + (2η_t − 1), η_t ~ Bernoulli(p),
 * p = sigmoid(θ) (θ is the logit, shape [1]); η by straight-through Gumbel-softmax (τ = 0.1) on
 * log[p, 1 − p]. The Gumbel noise of all T steps is drawn once from the key. Observes X as [T + 1, 1].
 */
import type { Tensor } from '../../tensor.js';
import { zeros } from '../../autodiff/ops/creation.js';
import { gumbel } from '../../random.js';
import { add, cast, div, equal, log, max, reshape, sigmoid, slice, softmax, stack, stopGradient, sub } from '../ops.js';
import type { Model } from '../simulate.js';

/** What `randomWalk` prepares once per simulation from θ: the step logits and all T Gumbel noise draws. */
export interface RwPrep {
  logits: Tensor;
  noise: Tensor;
}

/** The random walk of blackbirds: ±1 steps with P(+1) = sigmoid(θ), observed as [T + 1, 1]. */
export function randomWalk(nTimesteps: number, opts: { tau?: number } = {}): Model<RwPrep> {
  const tau = opts.tau ?? 0.1;
  return {
    nTimesteps,
    memory: 1,
    prepare: (theta, key) => {
      const p = sigmoid(reshape(theta, [1]));
      const logits = log(reshape(stack([p, sub(1, p)], 0), [1, 2]));
      return { logits, noise: gumbel(key, [nTimesteps, 2], { dtype: theta.dtype === 'float32' ? 'float32' : 'float64' }) };
    },
    initialize: (pr) => zeros([1, 1], pr.logits.dtype),
    step: (pr, history, _key, t) => {
      // straight-through Gumbel-softmax with this step's pre-drawn noise
      const y = softmax(div(add(pr.logits, slice(pr.noise, [t], [1])), tau), { axis: -1 });
      const hard = cast(equal(y, max(y, { axis: -1, keepdims: true })), y.dtype);
      const s = add(sub(hard, stopGradient(y)), y); // [1, 2]
      const up = sub(slice(s, [0, 0], [1, 1]), slice(s, [0, 1], [1, 1]));
      return add(history[history.length - 1]!, up);
    },
    observe: (x) => [x],
  };
}
