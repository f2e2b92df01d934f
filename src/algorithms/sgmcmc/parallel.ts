/**
 * Parallel chains: C independent chains of one sampler stepped together, as one set of batched
 * kernels over a leading chain axis. The update is written batched directly (elementwise ops on
 * [C, ...] leaves, C keys drawn at once); only logPosterior is mapped over chains with bt.vmap,
 * inside one gradient of Σ_c log p(θ_c), unless it is batched itself (batchedLogPosterior). Every tensor of the state gains that axis
 * (params leaves [C, ...], logPosterior [C], SGNHT's xi [C]); step stays one number.
 * Chain c of parallel(sampler, C) started from key k draws exactly what the single-chain sampler
 * draws with key split(k, C)[c], at init and at every update.
 */
import type { Tensor } from '../../tensor.js';
import { Tensor as TensorClass } from '../../tensor.js';
import { ConfigError, ShapeError } from '../../errors.js';
import { tidy } from '../../memory.js';
import { flatten, unflatten, type PyTree } from '../../autodiff/tree.js';
import { full } from '../../autodiff/ops/creation.js';
import { broadcastTo, expandDims } from '../../autodiff/ops/shape.js';
import { split } from '../../random.js';
import { fmtShape } from '../../shape.js';
import { checkKnown, checkPositiveInt } from '../../validate.js';
import { checkProbe, checkState, KernelStep, paramLeaves, type BaseState, type ChainContext, type JitInfo, type Sampler } from './common.js';
import type { JitOption } from '../../jit/step.js';

/** Options of `parallel`: the number of chains and how batch and logPosterior treat the chain axis. */
export interface ParallelOptions {
  /** The number of chains C. */
  chains: number;
  /** The batch has a leading chain axis too (a different minibatch per chain); default false (all chains see the same batch). */
  batchPerChain?: boolean;
  /**
   * logPosterior already handles chains: it takes params with the leading chain axis and returns
   * [C] values (aux with a leading C axis too). Fastest; default false (it is vmapped).
   */
  batchedLogPosterior?: boolean;
}

/** A sampler over C chains: `init` / `update` as the single-chain sampler's, every state tensor with a leading chain axis. */
export interface ParallelSampler<S extends BaseState = BaseState, A = any> {
  readonly name: string;
  readonly chains: number;
  readonly sampler: Sampler<S, A>;
  /** params: every leaf stacked with a leading chain axis of size C (see replicate()). */
  init(params: PyTree, key?: Tensor): S;
  /** One step of every chain; the key is split into one per chain (chain c gets split(key, C)[c]), needed unless the noise is zero. */
  update(state: S, batch: unknown, key?: Tensor): [S, A];
  /** The jitted update's state (the sampler's `jit` option applies to the chains' step too). */
  jitInfo(): JitInfo;
  /** Frees the compiled update programs (update still works: it retraces). */
  dispose(): void;
}

/** Stacks C copies of params along a new leading axis (every chain starts at the same point). */
export function replicate(params: PyTree, chains: number): PyTree {
  checkPositiveInt('sgmcmc.replicate', 'chains', chains);
  const [ls, def] = flatten(params);
  return unflatten(def, ls.map((l) => broadcastTo(expandDims(l as Tensor, 0), [chains, ...(l as Tensor).shape])));
}

/** C chains of `sampler` stepped together as one batched kernel (chain c from key k draws what the single sampler draws with split(k, C)[c]). */
export function parallel<S extends BaseState, A>(sampler: Sampler<S, A>, options: ParallelOptions): ParallelSampler<S, A> {
  if (!sampler || typeof sampler !== 'object' || !('_spec' in sampler)) throw new ConfigError('sgmcmc.parallel: the first argument must be a sampler from sgmcmc.<name>.build().');
  checkKnown('sgmcmc.parallel', options ?? {}, ['chains', 'batchPerChain', 'batchedLogPosterior']);
  const C = options?.chains;
  checkPositiveInt('sgmcmc.parallel', 'chains', C);
  const spec = sampler._spec;
  const ctx: ChainContext = { chains: C, lp: options.batchedLogPosterior ? 'batched' : 'vmap', batchPerChain: options.batchPerChain ?? false };
  const op = `${spec.name} (parallel, ${C} chains)`;
  const kstep = new KernelStep(spec, ctx, `${op}.update`, sampler.options.jit as JitOption);
  const checkChainAxis = (what: string, tree: PyTree) => {
    const ls = paramLeaves(`${op}.${what}`, tree);
    ls.forEach((l, i) => {
      if (l.shape[0] !== C) {
        throw new ShapeError(`${op}.${what}: leaf ${i} of params has shape ${fmtShape(l.shape)}; parallel chains need a leading chain axis of size ${C} (use sgmcmc.replicate(params, ${C}) or stack per-chain draws).`);
      }
    });
    return ls;
  };
  return {
    name: spec.name,
    chains: C,
    sampler,
    init(params: PyTree, key?: Tensor): S {
      const ls = checkChainAxis('init', params);
      if (spec.initNeedsKey && !(key instanceof TensorClass)) {
        throw new ConfigError(`${op}.init: momenta default to N(0, 1) draws, so init needs a key (or pass momenta: 0 to build()).`);
      }
      const ts = tidy(() => spec.initTensors(params, key instanceof TensorClass ? split(key, C) : null, ctx));
      return { ...ts, params, logPosterior: full([C], NaN, ls[0]!.dtype), step: 0 } as unknown as S;
    },
    update(state: S, batch: unknown, key?: Tensor): [S, A] {
      const { step, ts } = checkState(spec, state);
      checkChainAxis('update', ts.params);
      const h = spec.hyper(step);
      const needKey = spec.needsNoise(h);
      if (needKey && !(key instanceof TensorClass)) throw new ConfigError(`${op}.update: this step draws noise, so update needs a key.`);
      const [next, aux] = tidy(() => {
        const [nts, a, probe] = kstep.run(ts, batch, needKey ? split(key!, C) : null, h, step);
        if (spec.checkFinite) checkProbe(`${op}.update`, probe, nts.logPosterior as Tensor, step, batch);
        return [nts, a as A] as const;
      });
      return [{ ...next, step: step + 1 } as unknown as S, aux];
    },
    jitInfo: () => kstep.info(),
    dispose: () => kstep.dispose(),
  };
}
