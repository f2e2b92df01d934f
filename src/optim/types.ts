import type { PyTree } from '../autodiff/tree.js';

/** A schedule maps the step count (0 for the first update) to a value, on the host. */
export type Schedule = (step: number) => number;

/** A learning rate (or other hyperparameter) given as a constant or as a schedule of the step. */
export type ScalarOrSchedule = number | Schedule;

/**
 * optax's GradientTransformation. `init(params)` builds the state; `update(updates, state, params)`
 * maps incoming updates (usually gradients) to outgoing updates and the next state.
 *
 * States are plain pytrees of Tensors and JS numbers (step counts live on the host, where the
 * schedules and bias corrections need them), so they serialise with the rest of an algorithm's
 * state. `update` never returns a Tensor of the state it was given: after an update the caller
 * may `bt.dispose(oldState)` safely.
 */
export interface GradientTransformation<S = PyTree> {
  /** The initial state for these parameters. */
  init(params: PyTree): S;
  /** Transforms the updates (gradients) with the state; returns the new updates and state. */
  update(updates: PyTree, state: S, params?: PyTree): [PyTree, S];
}
