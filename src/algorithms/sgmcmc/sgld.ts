/**
 * SGLD (Welling & Teh 2011), posteriors' `sgmcmc.sgld`. With ε = lr(step), T = temperature(step):
 *
 *   θ_{t+1} = θ_t + ε ∇θ log p(θ_t, batch) + √(T ε (2 − T ε β)) ξ,   ξ ~ N(0, I)
 *
 * targeting p(θ)^{1/T}. State: { params, logPosterior, step }.
 *
 * @module
 */
import type { Tensor } from '../../tensor.js';
import { add, mul } from '../../autodiff/ops/elementwise.js';
import type { PyTree } from '../../autodiff/tree.js';
import { map as treeMap } from '../../autodiff/tree.js';
import {
  buildPreamble, gradLogPosterior, langevinHyper, makeSampler, normalLike,
  type BaseState, type KernelSpec, type LogPosterior, type Sampler, type Schedule,
} from './common.js';

/** Options of `sgld.build`: only `lr` is required. */
export interface SGLDOptions {
  /** Learning rate ε (required): a number or a function of the step. */
  lr: Schedule;
  /** Gradient-noise estimate β (default 0). */
  beta?: number;
  /** Temperature T (default 1): a number or a function of the step. */
  temperature?: Schedule;
  /** Read the log posterior each step and stop with a NumericalError if it or a gradient is not finite (default true; CPU only). */
  checkFinite?: boolean;
  /**
   * Trace the step (log-posterior gradient and transition) once per input signature and replay it
   * (default). If the log posterior cannot be traced (it reads a value on the host or branches on
   * data), update warns once and runs eagerly; true makes that an error, false never traces.
   */
  jit?: boolean;
}

export interface SGLDState<P = PyTree> extends BaseState<P> {
  params: P;
  logPosterior: Tensor;
  step: number;
}

const KNOWN = ['lr', 'beta', 'temperature', 'checkFinite', 'jit'] as const;

/** An SGLD sampler `{ init, update }` for `logPosterior` (init needs no key). */
export function build<P = PyTree, A = any>(logPosterior: LogPosterior<P, any, A>, options: SGLDOptions = {} as SGLDOptions): Sampler<SGLDState<P>, A> {
  const op = 'sgld';
  const { lr, temperature, numbers } = buildPreamble(op, logPosterior, options, KNOWN, { beta: { default: 0 } });
  const { beta } = numbers;
  const hyper = langevinHyper(op, lr, temperature, beta, 2, '2');
  const spec: KernelSpec = {
    name: op,
    initNeedsKey: false,
    mirrors: [],
    checkFinite: options.checkFinite ?? true,
    initTensors: () => ({}),
    hyper,
    needsNoise: (h) => h.noise! > 0,
    kernel(ts, batch, key, h, step, ctx) {
      const [value, grads, aux, probe] = gradLogPosterior(`${op}.update`, logPosterior as LogPosterior, ts.params, batch, step, ctx);
      const xi = key ? normalLike(ts.params, key, ctx.chains) : null;
      const params = treeMap(
        (p: Tensor, g: Tensor, x?: Tensor) => {
          const out = add(p, mul(g, h.lr!));
          return x ? add(out, mul(x, h.noise!)) : out;
        },
        ts.params,
        grads,
        ...(xi ? [xi] : []),
      );
      return [{ params, logPosterior: value }, aux, probe];
    },
  };
  return makeSampler<SGLDState<P>>(spec, { ...options, beta, temperature }, logPosterior as LogPosterior) as Sampler<SGLDState<P>, A>;
}
