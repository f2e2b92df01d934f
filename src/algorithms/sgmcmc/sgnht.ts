/**
 * SGNHT (Ding et al. 2014), posteriors' `sgmcmc.sgnht`: SGHMC whose friction is a thermostat ξ.
 * With ε = lr(step), T = temperature(step), d = the number of parameters:
 *
 *   θ_{t+1} = θ_t + ε σ⁻² m_t
 *   m_{t+1} = m_t + ε ∇θ log p(θ_t, batch) − ε σ⁻² ξ_t m_t + √(T ε (2α − T ε β)) η,   η ~ N(0, I)
 *   ξ_{t+1} = ξ_t + ε (σ⁻² mean(m_t²) − T)          (mean over all d entries, the old momenta)
 *
 * targeting ∝ exp((log p(θ) − mᵀm/(2σ²) − d(ξ − α)²/2) / T). State: { params, momenta, xi, logPosterior, step }.
 *
 * @module
 */
import type { Tensor } from '../../tensor.js';
import type { SGHMCOptions } from './sghmc.js';
import { add, mul, square, sub } from '../../autodiff/ops/elementwise.js';
import { full } from '../../autodiff/ops/creation.js';
import type { PyTree } from '../../autodiff/tree.js';
import { flatten, map as treeMap } from '../../autodiff/tree.js';
import {
  buildPreamble, checkNumberOption, gradLogPosterior, initMomenta, langevinHyper, makeSampler, momentumSpec, MOMENTUM_NUMBERS,
  normalLike, paramLeaves, chainSum, perChain, type BaseState, type KernelSpec, type LogPosterior, type Sampler,
} from './common.js';

/** SGHMC's options (α is the thermostat's target friction) plus the initial thermostat. */
export interface SGNHTOptions extends SGHMCOptions {
  /** Initial thermostat ξ (default alpha; unlike posteriors' `xi or alpha`, an explicit 0 is kept). */
  xi?: number;
}

export interface SGNHTState<P = PyTree> extends BaseState<P> {
  params: P;
  momenta: P;
  /** The thermostat ξ, a scalar tensor. */
  xi: Tensor;
  logPosterior: Tensor;
  step: number;
}

const KNOWN = ['lr', 'alpha', 'beta', 'sigma', 'temperature', 'momenta', 'xi', 'checkFinite', 'jit'] as const;

/** An SGNHT sampler `{ init, update }` for `logPosterior`; init needs a key unless `momenta` is given (the default momenta are N(0, 1) draws). */
export function build<P = PyTree, A = any>(logPosterior: LogPosterior<P, any, A>, options: SGNHTOptions = {} as SGNHTOptions): Sampler<SGNHTState<P>, A> {
  const op = 'sgnht';
  const { lr, temperature, numbers } = buildPreamble(op, logPosterior, options, KNOWN, MOMENTUM_NUMBERS);
  const { alpha, beta, sigma } = numbers;
  const xi0 = checkNumberOption(`${op}.build`, 'xi', options.xi ?? alpha, { min: -Infinity });
  const prec = sigma ** -2;
  const langevin = langevinHyper(op, lr, temperature, beta, 2 * alpha, '2·alpha');
  // e·σ⁻² made on the host, so jitted and eager round the same value
  const hyper = (step: number, where?: string) => {
    const h = langevin(step, where);
    return { ...h, lrPrec: h.lr! * prec };
  };
  const spec: KernelSpec = {
    ...momentumSpec(op, options),
    initTensors: (params, key, ctx) => ({
      momenta: initMomenta(op, params, options.momenta, key, ctx.chains),
      xi: full(ctx.chains ? [ctx.chains] : [], xi0, paramLeaves(op, params)[0]!.dtype),
    }),
    hyper,
    kernel(ts, batch, key, h, step, ctx) {
      const [value, grads, aux, probe] = gradLogPosterior(`${op}.update`, logPosterior as LogPosterior, ts.params, batch, step, ctx);
      const e = h.lr!;
      const xiOld = ts.xi as Tensor;
      const noise = key ? normalLike(ts.params, key, ctx.chains) : null;
      const params = treeMap((p: Tensor, m: Tensor) => add(p, mul(m, h.lrPrec!)), ts.params, ts.momenta);
      const momenta = treeMap(
        (m: Tensor, g: Tensor, x?: Tensor) => {
          let out = sub(add(m, mul(g, e)), mul(mul(m, perChain(xiOld, m, ctx.chains)), h.lrPrec!));
          if (x) out = add(out, mul(x, h.noise!));
          return out;
        },
        ts.momenta,
        grads,
        ...(noise ? [noise] : []),
      );
      const ml = flatten(ts.momenta)[0] as Tensor[];
      let ss: Tensor | null = null;
      let d = 0;
      for (const m of ml) {
        const s = chainSum(square(m), ctx.chains);
        ss = ss ? add(ss, s) : s;
        d += ctx.chains ? m.size / ctx.chains : m.size;
      }
      const xi = add(xiOld, mul(sub(mul(ss!, prec / d), h.temperature!), e));
      return [{ params, momenta, xi, logPosterior: value }, aux, probe];
    },
  };
  return makeSampler<SGNHTState<P>>(spec, { ...options, alpha, beta, sigma, temperature, xi: xi0 }, logPosterior as LogPosterior) as Sampler<SGNHTState<P>, A>;
}
