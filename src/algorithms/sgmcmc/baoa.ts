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
 */
import type { Tensor } from '../../tensor.js';
import { add, mul } from '../../autodiff/ops/elementwise.js';
import type { PyTree } from '../../autodiff/tree.js';
import { map as treeMap } from '../../autodiff/tree.js';
import {
  buildPreamble, evalSchedule, gradLogPosterior, momentumSpec, makeSampler, MOMENTUM_NUMBERS, normalLike,
  type BaseState, type KernelSpec, type LogPosterior, type Sampler, type Schedule,
} from './common.js';

export interface BAOAOptions {
  lr: Schedule;
  alpha?: number;
  sigma?: number;
  temperature?: Schedule;
  momenta?: PyTree | number;
  checkFinite?: boolean;
}

export interface BAOAState<P = PyTree> extends BaseState<P> {
  params: P;
  momenta: P;
  logPosterior: Tensor;
  step: number;
}

const KNOWN = ['lr', 'alpha', 'sigma', 'temperature', 'momenta', 'checkFinite'] as const;

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
    return { lr: e, temperature: T, decay: Math.exp(-gamma * e), noise: zeta * sigma };
  };
  const spec: KernelSpec = {
    ...momentumSpec(op, options),
    hyper,
    kernel(ts, batch, key, h, step, ctx) {
      const [value, grads, aux, probe] = gradLogPosterior(`${op}.update`, logPosterior as LogPosterior, ts.params, batch, step, ctx);
      const e = h.lr!;
      const half = (e / 2) * prec;
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
