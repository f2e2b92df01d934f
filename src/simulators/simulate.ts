/**
 * The time-stepping harness (blackbirds' `simulate_and_observe_model`), functional and keyed:
 *
 *   P = prepare(θ, key) once (parameter transforms, pre-drawn noise; default P = θ),
 *   states: x_0 = initialize(P, k_0) (one or more initial states), then for t = 0..T−1
 *   x_{t+1} = step(P, history, k_{t+1}, t), history = the last `memory` states (a list).
 *
 * `gradientHorizon` H truncates backpropagation through time: from step t > H on, every state
 * of the history except the last H is passed through stopGradient, so ∂x_{t+1}/∂θ only follows
 * the last H transitions (H = 0: only the direct dependence of each step on θ; undefined = the
 * full horizon). Keys: prepare gets foldIn(key, 2³¹ − 1), k_0 = foldIn(key, 0), k_{t+1} = foldIn(key, t + 1).
 */
import type { Tensor } from '../tensor.js';
import { ConfigError, ShapeError } from '../errors.js';
import { foldIn } from '../random.js';
import { concat, slice, stopGradient } from './ops.js';
import { checkKnown } from '../validate.js';

/** A simulator that `simulate` runs: initial states, a step from the recent history, and what is observed. */
export interface Model<P = any> {
  /** steps T to simulate after the initial state(s) */
  readonly nTimesteps: number;
  /** how many past states `step` needs (blackbirds' trim_time_series) */
  readonly memory: number;
  /** once per simulation: what initialize/step need from θ (default: θ itself) */
  prepare?(theta: Tensor, key: Tensor): P;
  /** the initial states, [h, ...stateShape] */
  initialize(p: P, key: Tensor): Tensor;
  /** the next state [1, ...stateShape] from the history: the last ≤ memory states, oldest first, each [1, ...stateShape] */
  step(p: P, history: readonly Tensor[], key: Tensor, t: number): Tensor;
  /** outputs of states [n, ...stateShape]: a list of tensors with leading axis n */
  observe(states: Tensor): Tensor[];
}

/** Options of `simulate`. */
export interface SimulateOptions {
  /** truncated backprop through time: the number of past transitions kept (default: all) */
  gradientHorizon?: number;
}

/** Runs the model and returns its observed outputs, each concatenated over time ([h + T, ...]). */
export function simulate(model: Model, theta: Tensor, key: Tensor, opts: SimulateOptions = {}): Tensor[] {
  checkKnown('simulators.simulate', opts, ['gradientHorizon']);
  const H = opts.gradientHorizon ?? Infinity;
  if (!(H >= 0) || (Number.isFinite(H) && !Number.isInteger(H))) throw new ConfigError(`simulators.simulate: gradientHorizon must be a non-negative integer or undefined, got ${H}.`);
  const p = model.prepare ? model.prepare(theta, foldIn(key, 0x7fffffff)) : theta;
  const x0 = model.initialize(p, foldIn(key, 0));
  const h0 = x0.shape[0]!;
  // the history as a list of single states [1, ...]
  let history: Tensor[] = h0 === 1 ? [x0] : Array.from({ length: h0 }, (_, i) => slice(x0, [i], [1]));
  const outputs: Tensor[][] = model.observe(x0).map((o) => [o]);
  for (let t = 0; t < model.nTimesteps; t++) {
    history = history.slice(Math.max(0, history.length - model.memory));
    if (t > H) history = history.map((s, i) => (i < history.length - H ? stopGradient(s) : s));
    const x = model.step(p, history, foldIn(key, t + 1), t);
    if (x.shape[0] !== 1) throw new ShapeError(`simulators.simulate: step must return one state [1, ...], got shape [${x.shape.join(', ')}].`);
    const obs = model.observe(x);
    obs.forEach((o, i) => outputs[i]!.push(o));
    history.push(x);
  }
  return outputs.map((os) => concat(os, 0));
}
