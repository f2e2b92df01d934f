/**
 * SGHMC (Chen et al. 2014, with α, β scaled as in Ma et al. 2015), posteriors' `sgmcmc.sghmc`.
 * With ε = lr(step), T = temperature(step), g = ∇θ log p(θ_t, batch) (the gradient at the old θ):
 *
 *   θ_{t+1} = θ_t + ε σ⁻² m_t
 *   m_{t+1} = m_t + ε g − ε σ⁻² α m_t + √(T ε (2α − T ε β)) ξ,   ξ ~ N(0, I)
 *
 * targeting p_T(θ, m) ∝ exp((log p(θ) − mᵀm / (2σ²)) / T). At T = 0 the noise vanishes and, with
 * σ = (η/(1−τ))^{-1/2}, α = (1−μ)/η, ε = 1−τ, the recursion is heavy-ball SGD with momentum μ,
 * dampening τ and learning rate η, in explicit-Euler order (the parameter step uses the momentum
 * from before this step's gradient).
 *
 * @module
 */
import type { Tensor } from '../../tensor.js';
import { add, mul, sub } from '../../autodiff/ops/elementwise.js';
import type { PyTree } from '../../autodiff/tree.js';
import { map as treeMap } from '../../autodiff/tree.js';
import {
  buildPreamble, gradLogPosterior, momentumSpec, langevinHyper, makeSampler, MOMENTUM_NUMBERS, normalLike, type BaseState, type LogPosterior, type Sampler, type Schedule, type KernelSpec,
} from './common.js';

/** Options of `sghmc.build`: only `lr` is required. */
export interface SGHMCOptions {
  /** Learning rate ε (required): a number or a function of the step. */
  lr: Schedule;
  /** Friction α (default 0.01). */
  alpha?: number;
  /** Gradient-noise estimate β (default 0). */
  beta?: number;
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

export interface SGHMCState<P = PyTree> extends BaseState<P> {
  params: P;
  momenta: P;
  logPosterior: Tensor;
  step: number;
}

const KNOWN = ['lr', 'alpha', 'beta', 'sigma', 'temperature', 'momenta', 'checkFinite', 'jit'] as const;

/** An SGHMC sampler `{ init, update }` for `logPosterior`; init needs a key unless `momenta` is given (the default momenta are N(0, 1) draws). */
export function build<P = PyTree, A = any>(logPosterior: LogPosterior<P, any, A>, options: SGHMCOptions = {} as SGHMCOptions): Sampler<SGHMCState<P>, A> {
  const op = 'sghmc';
  const { lr, temperature, numbers } = buildPreamble(op, logPosterior, options, KNOWN, MOMENTUM_NUMBERS);
  const { alpha, beta, sigma } = numbers;
  const prec = sigma ** -2;
  const langevin = langevinHyper(op, lr, temperature, beta, 2 * alpha, '2·alpha');
  // the products of host numbers the kernel uses, made here so jitted and eager round the same values
  const hyper = (step: number, where?: string) => {
    const h = langevin(step, where);
    return { ...h, lrPrec: h.lr! * prec, friction: h.lr! * prec * alpha };
  };
  const spec: KernelSpec = {
    ...momentumSpec(op, options),
    hyper,
    kernel(ts, batch, key, h, step, ctx) {
      const [value, grads, aux, probe] = gradLogPosterior(`${op}.update`, logPosterior as LogPosterior, ts.params, batch, step, ctx);
      const e = h.lr!;
      const xi = key ? normalLike(ts.params, key, ctx.chains) : null;
      const params = treeMap((p: Tensor, m: Tensor) => add(p, mul(m, h.lrPrec!)), ts.params, ts.momenta);
      const momenta = treeMap(
        (m: Tensor, g: Tensor, x?: Tensor) => {
          let out = sub(add(m, mul(g, e)), mul(m, h.friction!));
          if (x) out = add(out, mul(x, h.noise!));
          return out;
        },
        ts.momenta,
        grads,
        ...(xi ? [xi] : []),
      );
      return [{ params, momenta, logPosterior: value }, aux, probe];
    },
  };
  return makeSampler<SGHMCState<P>>(spec, { ...options, alpha, beta, sigma, temperature }, logPosterior as LogPosterior) as Sampler<SGHMCState<P>, A>;
}
