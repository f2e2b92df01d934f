/**
 * BAOA (Leimkuhler & Matthews 2015, p. 271; conjugate to BAOAB with one gradient per step),
 * posteriors' `sgmcmc.baoa`. With ε = lr(step), T = temperature(step), γ = α σ⁻² and
 * ζ = √(T (1 − e^{−2γε})):
 *
 *   B: m ← m + ε ∇θ log p(θ_t, batch)
 *   A: θ ← θ + (ε/2) σ⁻² m
 *   O: m ← e^{−γε} m + ζ σ ξ,   ξ ~ N(0, I)
 *   A: θ ← θ + (ε/2) σ⁻² m
 *
 * No β (BAOA has no gradient-noise correction). State: { params, momenta, logPosterior, step }.
 *
 * @module
 */
import type { Tensor } from '../../tensor.js';
import { add, mul } from '../../autodiff/ops/elementwise.js';
import type { PyTree } from '../../autodiff/tree.js';
import { map as treeMap } from '../../autodiff/tree.js';
import {
  buildPreamble, evalSchedule, gradLogPosterior, momentumSpec, makeSampler, MOMENTUM_NUMBERS, normalLike,
  type BaseState, type KernelSpec, type LogPosterior, type Sampler, type Schedule,
} from './common.js';

/** Options of `baoa.build`: only `lr` is required. */
export interface BAOAOptions {
  /** Learning rate ε (required): a number or a function of the step. */
  lr: Schedule;
  /** Friction α (default 0.01): γ = α σ⁻² sets the O step's damping e^{−γε}. */
  alpha?: number;
  /** Standard deviation σ of the momenta's target (default 1). */
  sigma?: number;
  /** Temperature T (default 1): a number or a function of the step. */
  temperature?: Schedule;
  /** Initial momenta: a tree like params, or a number filling every leaf; default N(0, 1) draws. */
  momenta?: PyTree | number;
  /** Read the log posterior each step and stop with a NumericalError if it or a gradient is not finite (default true; CPU only). */
  checkFinite?: boolean;
  /**
   * Trace the step (log-posterior gradient and transition) once per input signature and replay it
   * (default). If the log posterior cannot be traced (it reads a value on the host or branches on
   * data), update warns once and runs eagerly; true makes that an error, false never traces.
   */
  jit?: boolean;
}

export interface BAOAState<P = PyTree> extends BaseState<P> {
  params: P;
  momenta: P;
  logPosterior: Tensor;
  step: number;
}

const KNOWN = ['lr', 'alpha', 'sigma', 'temperature', 'momenta', 'checkFinite', 'jit'] as const;

/** A BAOA sampler `{ init, update }` for `logPosterior`; init needs a key unless `momenta` is given (the default momenta are N(0, 1) draws). */
export function build<P = PyTree, A = any>(logPosterior: LogPosterior<P, any, A>, options: BAOAOptions = {} as BAOAOptions): Sampler<BAOAState<P>, A> {
  const op = 'baoa';
  const { lr, temperature, numbers } = buildPreamble(op, logPosterior, options, KNOWN, { alpha: MOMENTUM_NUMBERS.alpha, sigma: MOMENTUM_NUMBERS.sigma });
  const { alpha, sigma } = numbers;
  const prec = sigma ** -2;
  const gamma = alpha * prec;
  const hyper = (step: number, where = `${op}.update`) => {
    const e = evalSchedule(where, 'lr', lr, step);
    const T = evalSchedule(where, 'temperature', temperature, step);
    const zeta = Math.sqrt(T * (1 - Math.exp(-2 * gamma * e)));
    // half = (ε/2)·σ⁻² made here, so jitted and eager round the same value
    return { lr: e, temperature: T, decay: Math.exp(-gamma * e), noise: zeta * sigma, half: (e / 2) * prec };
  };
  const spec: KernelSpec = {
    ...momentumSpec(op, options),
    hyper,
    kernel(ts, batch, key, h, step, ctx) {
      const [value, grads, aux, probe] = gradLogPosterior(`${op}.update`, logPosterior as LogPosterior, ts.params, batch, step, ctx);
      const e = h.lr!;
      const half = h.half!;
      const xi = key ? normalLike(ts.params, key, ctx.chains) : null;
      const m1 = treeMap((m: Tensor, g: Tensor) => add(m, mul(g, e)), ts.momenta, grads);
      const p1 = treeMap((p: Tensor, m: Tensor) => add(p, mul(m, half)), ts.params, m1);
      const m2 = xi ? treeMap((m: Tensor, x: Tensor) => add(mul(m, h.decay!), mul(x, h.noise!)), m1, xi) : treeMap((m: Tensor) => mul(m, h.decay!), m1);
      const params = treeMap((p: Tensor, m: Tensor) => add(p, mul(m, half)), p1, m2);
      return [{ params, momenta: m2, logPosterior: value }, aux, probe];
    },
  };
  return makeSampler<BAOAState<P>>(spec, { ...options, alpha, sigma, temperature }, logPosterior as LogPosterior) as Sampler<BAOAState<P>, A>;
}
