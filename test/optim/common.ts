/** Shared fixtures for the optimiser tests: a nested parameter tree and ½‖θ‖² (whose gradient is θ). */
import * as bt from '../../src/index.js';

export type Params = { a: bt.Tensor; b: { c: bt.Tensor[] } };

/** θ = (1, −2, 0.5) spread over a nested pytree: a = [1, −2], b.c[0] = [[0.5]]. */
export function nestedParams(): Params {
  return { a: bt.tensor([1, -2]), b: { c: [bt.tensor([[0.5]])] } };
}

export const halfSquaredNorm = (p: Params): bt.Tensor => bt.add(bt.sum(bt.square(p.a)), bt.sum(bt.square(p.b.c[0]!))).mul(0.5);

/** Leaves in flatten order (a then b.c[0]) as one plain array. */
export function values(p: Params): number[] {
  return [...p.a.dataSync(), ...p.b.c[0]!.dataSync()];
}

/** Runs `steps` updates of opt on ½‖θ‖² and returns θ after each step. */
export function run(opt: bt.optim.GradientTransformation<any>, steps: number, params = nestedParams()): number[][] {
  let state = opt.init(params);
  const out: number[][] = [];
  for (let i = 0; i < steps; i++) {
    const g = bt.grad(halfSquaredNorm)(params);
    const [u, s] = opt.update(g, state, params);
    params = bt.optim.applyUpdates(params, u);
    state = s;
    out.push(values(params));
  }
  return out;
}
