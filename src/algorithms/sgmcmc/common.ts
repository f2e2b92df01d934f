/**
 * Shared machinery of the SG-MCMC samplers (posteriors' `sgmcmc`, in TypeScript): option
 * checking, schedules, per-leaf keys, the log-posterior call with its gradient, the finiteness
 * check and the one `makeSampler` that turns a pure tensor kernel into `init` / `update`.
 *
 * A kernel is a pure function of the tensor part of a state (everything but `step`), a batch, a
 * key and the host numbers of this step (learning rate, temperature, ...). That is what lets
 * `parallel()` step C chains at once with bt.vmap over the chain axis.
 */
import type { Tensor } from '../../tensor.js';
import { Tensor as TensorClass } from '../../tensor.js';
import { ConfigError, NumericalError, ShapeError } from '../../errors.js';
import { tidy } from '../../memory.js';
import { valueAndGrad } from '../../autodiff/reverse.js';
import { vmap } from '../../autodiff/batching.js';
import { describeDef, flatten, assertSameStructure, unflatten, type PyTree } from '../../autodiff/tree.js';
import { full } from '../../autodiff/ops/creation.js';
import { add, mul } from '../../autodiff/ops/elementwise.js';
import { sum } from '../../autodiff/ops/reduce.js';
import { reshape, slice } from '../../autodiff/ops/shape.js';
import { normal, split, splitKeys } from '../../random.js';
import { fmtShape } from '../../shape.js';
import { checkKnown } from '../../validate.js';
import { jitStep, type JitOption, type JitStep } from '../../jit/step.js';
import type { JitCacheInfo } from '../../jit/jit.js';
import type { TensorLike } from '../../autodiff/ops/util.js';
import { keep } from '../../memory.js';

/** A constant or a function of the step count (posteriors' `Schedule`). */
export type Schedule = number | ((step: number) => number);

/** `logPosterior(params, batch) -> [scalar, aux]`; aux is a pytree of tensors (`[]` if unused). */
export type LogPosterior<P = PyTree, B = any, A = any> = (params: P, batch: B) => [Tensor, A];

/** Every state: the tensor pytree plus `step`, a plain number. */
export interface BaseState<P = PyTree> {
  params: P;
  logPosterior: Tensor;
  step: number;
}

/** What every `<name>.build()` returns: pure `init` / `update` functions over plain pytree states. */
export interface Sampler<S extends BaseState = BaseState, A = any> {
  /** `sghmc`, `sgld`, ... */
  readonly name: string;
  /** The options as given (schedules included), defaults filled in. */
  readonly options: Readonly<Record<string, unknown>>;
  /** The initial state. A key is needed when momenta are drawn (the default for momentum samplers). */
  init(params: PyTree, key?: Tensor): S;
  /**
   * One step from `state` (never mutated, never disposed) to a fresh state: every tensor of the new
   * state is new, everything else made in the step is freed. The key is needed unless the noise is
   * zero (temperature 0).
   */
  update(state: S, batch: unknown, key?: Tensor): [S, A];
  /** @internal the kernel behind init/update (used by parallel()). */
  readonly _spec: KernelSpec;
  /** Whether update is traced once and replayed (`jit` option), its trace count and cache. */
  jitInfo(): JitInfo;
  /** Frees the compiled update programs and the cached hyperparameter scalars (update still works: it retraces). */
  dispose(): void;
}

/** What a sampler reports about its jitted update. */
export interface JitInfo {
  /** false with jit: false, or after the step fell back to eager. */
  jitted: boolean;
  /** Times the update was traced (one per input signature: shapes, dtypes, structure). */
  retraces: number;
  cache: JitCacheInfo | null;
}

/**
 * How the state is laid out: one chain (chains = 0), or C chains stacked on a leading axis of
 * every leaf, the key then being C keys [C, 2]. `lp` says how logPosterior sees chains: 'vmap'
 * (it is written for one chain and mapped) or 'batched' (it takes [C, ...] params, returns [C]).
 */
export interface ChainContext {
  chains: number;
  lp: 'vmap' | 'batched';
  batchPerChain: boolean;
}

export const SINGLE: ChainContext = { chains: 0, lp: 'vmap', batchPerChain: false };

/** Host numbers for one step. */
export type Hyper = Record<string, number>;

/**
 * The hyperparameters as the kernel sees them: numbers (eager) or scalar tensors of the params'
 * dtype (jitted, so a schedule does not retrace). Every product of host numbers the kernel needs is
 * made in hyper() (on the host, in float64), so both ways round the same values once.
 */
export type HyperArg = Record<string, TensorLike>;

/** @internal what each sampler file provides. */
export interface KernelSpec {
  name: string;
  /** Builds the tensor part of the initial state (params already checked). */
  initTensors(params: PyTree, key: Tensor | null, ctx: ChainContext): Record<string, unknown>;
  /** Whether init needs a key (momenta drawn at random). */
  initNeedsKey: boolean;
  /** Host values of the hyperparameters at `step`, validated (ConfigErrors name `where`, default `<name>.update`). */
  hyper(step: number, where?: string): Hyper;
  /** Whether this step draws noise (so needs a key). */
  needsNoise(h: Hyper): boolean;
  /**
   * The pure kernel: the tensor state (without step) → the new tensor state, aux and a finiteness
   * probe (a scalar that is non-finite iff the log posterior or a gradient entry is).
   */
  kernel(ts: Record<string, any>, batch: unknown, key: Tensor | null, h: HyperArg, step: number, ctx: ChainContext): [Record<string, unknown>, unknown, Tensor];
  /** Names of the tensor-state trees that must mirror params (checked on update). */
  mirrors: string[];
  /** Check finiteness each step (CPU reads one scalar per step). */
  checkFinite: boolean;
}

// ---------------------------------------------------------------- options

// The option checkers live in options.ts (checkKnown in src/validate.ts); re-exported for the
// files that import them from here.
export { checkKnown };
export * from './options.js';

// ---------------------------------------------------------------- pytrees

/** The Tensor leaves of a params tree (ConfigError naming the bad leaf). */
export function paramLeaves(op: string, params: PyTree): Tensor[] {
  const [ls, def] = flatten(params);
  if (ls.length === 0) throw new ConfigError(`${op}: params have no Tensor leaves (structure ${describeDef(def)}).`);
  ls.forEach((l, i) => {
    if (!(l instanceof TensorClass)) {
      throw new ConfigError(`${op}: leaf ${i} of params is ${l === null ? 'null' : typeof l}, not a Tensor (structure ${describeDef(def)}). Wrap numbers with bt.tensor().`);
    }
    if (l.dtype !== 'float32' && l.dtype !== 'float64') throw new ConfigError(`${op}: leaf ${i} of params has dtype ${l.dtype}; SG-MCMC needs float32 or float64.`);
  });
  return ls as Tensor[];
}

/** Checks that `tree` mirrors `params` (same structure, same leaf shapes and dtypes). */
export function assertMirrors(op: string, what: string, params: PyTree, tree: PyTree): void {
  const [pl, pd] = flatten(params);
  const [tl, td] = flatten(tree);
  assertSameStructure(op, pd, td, `params and ${what}`);
  pl.forEach((p, i) => {
    const t = tl[i];
    if (!(t instanceof TensorClass)) throw new ConfigError(`${op}: leaf ${i} of ${what} is ${t === null ? 'null' : typeof t}, not a Tensor.`);
    const pp = p as Tensor;
    if (t.shape.length !== pp.shape.length || t.shape.some((d, j) => d !== pp.shape[j])) {
      throw new ShapeError(`${op}: leaf ${i} of ${what} has shape ${fmtShape(t.shape)} but the matching params leaf has shape ${fmtShape(pp.shape)}.`);
    }
    if (t.dtype !== pp.dtype) throw new ShapeError(`${op}: leaf ${i} of ${what} is ${t.dtype} but the matching params leaf is ${pp.dtype}.`);
  });
}

/** Momenta from the option: undefined → N(0, 1) draws from the key; a number fills; a tree is used as given. */
export function initMomenta(op: string, params: PyTree, momenta: unknown, key: Tensor | null, chains = 0): PyTree {
  if (momenta === undefined || momenta === null) {
    if (!key) throw new ConfigError(`${op}.init: momenta default to N(0, 1) draws, so init needs a key: init(params, bt.random.key(seed)) (or pass momenta: 0).`);
    return normalLike(params, key, chains);
  }
  if (typeof momenta === 'number') {
    if (!Number.isFinite(momenta)) throw new ConfigError(`${op}: momenta must be finite, got ${momenta}.`);
    return mapLeaves(params, (p) => full(p.shape, momenta, p.dtype));
  }
  assertMirrors(`${op}.init`, 'momenta', params, momenta);
  return momenta;
}

export function mapLeaves(tree: PyTree, fn: (t: Tensor, i: number) => unknown): PyTree {
  const [ls, def] = flatten(tree);
  return unflatten(def, ls.map((l, i) => fn(l as Tensor, i)));
}

/**
 * One key per leaf, deterministically: the key itself for one leaf, split(key, n)[i] otherwise.
 * With C chains the key is [C, 2] and each chain's leaf keys are split from its own key.
 */
export function leafKeys(key: Tensor, n: number, chains = 0): Tensor[] {
  if (n === 1) return [key];
  if (!chains) return splitKeys(key, n);
  const ks = split(key, n); // [C, n, 2]
  return Array.from({ length: n }, (_, i) => reshape(slice(ks, [0, i], [chains, 1]), [chains, ...ks.shape.slice(2)]));
}

/** ξ ~ N(0, I) shaped like params, one key per leaf (per chain). */
export function normalLike(params: PyTree, key: Tensor, chains = 0): PyTree {
  const [ls, def] = flatten(params);
  const ks = leafKeys(key, ls.length, chains);
  return unflatten(
    def,
    ls.map((l, i) => normal(ks[i]!, chains ? (l as Tensor).shape.slice(1) : (l as Tensor).shape, { dtype: (l as Tensor).dtype as 'float32' | 'float64' })),
  );
}

/** Σ over each chain's entries (all axes but the chain axis; everything for one chain). */
export function chainSum(x: Tensor, chains: number): Tensor {
  if (!chains) return sum(x);
  if (x.ndim <= 1) return x;
  return sum(x, { axis: Array.from({ length: x.ndim - 1 }, (_, i) => i + 1) });
}

/** A per-chain value [C] reshaped to broadcast against a leaf [C, ...] (unchanged for one chain). */
export function perChain(v: Tensor, like: Tensor, chains: number): Tensor {
  if (!chains) return v;
  return reshape(v, [chains, ...new Array<number>(like.ndim - 1).fill(1)]);
}

// ---------------------------------------------------------------- the log posterior and its gradient

/**
 * Calls logPosterior and its gradient at params: [value, grads, aux, probe]. Throws ShapeError
 * for a non-scalar value and ConfigError for a malformed return. With C chains the value is [C]
 * and grads are per chain: the gradient of Σ_c log p(θ_c) (the chains do not interact).
 */
export function gradLogPosterior(
  op: string, logPosterior: LogPosterior, params: PyTree, batch: unknown, step: number, ctx: ChainContext = SINGLE,
): [Tensor, PyTree, unknown, Tensor] {
  const check = (r: unknown, want: number[]) => {
    if (!Array.isArray(r) || r.length !== 2) {
      throw new ConfigError(`${op}: logPosterior(params, batch) must return [value, aux] (use [] for no aux), got ${Array.isArray(r) ? `an array of ${r.length}` : typeof r} at step ${step}.`);
    }
    const v = r[0];
    if (!(v instanceof TensorClass)) throw new ConfigError(`${op}: logPosterior returned a ${typeof v} as its value at step ${step}; return a scalar Tensor.`);
    if (v.shape.length !== want.length || v.shape.some((d, i) => d !== want[i])) {
      throw new ShapeError(
        want.length === 0
          ? `${op}: logPosterior must return a scalar, got shape ${fmtShape(v.shape)} at step ${step}. Sum or average it (e.g. .sum()).`
          : `${op}: a batched logPosterior must return one value per chain, shape ${fmtShape(want)}, got ${fmtShape(v.shape)} at step ${step}.`,
      );
    }
    return r as [Tensor, unknown];
  };
  let f: (p: PyTree, b: unknown) => [Tensor, unknown];
  if (!ctx.chains) {
    f = (p, b) => check(logPosterior(p, b), []);
  } else if (ctx.lp === 'batched') {
    f = (p, b) => {
      const [v, a] = check(logPosterior(p, b), [ctx.chains]);
      return [sum(v), [v, a]];
    };
  } else {
    const one = (p: PyTree, b: unknown) => check(logPosterior(p, b), []);
    const mapped = vmap(one, { inAxes: [0, ctx.batchPerChain ? 0 : null] });
    f = (p, b) => {
      const [v, a] = mapped(p, b) as [Tensor, unknown];
      return [sum(v), [v, a]];
    };
  }
  const [[value, aux], grads] = valueAndGrad(f, { hasAux: true })(params, batch) as [[Tensor, unknown], PyTree];
  if (ctx.chains) {
    const [v, a] = aux as [Tensor, unknown];
    return [v, grads, a, finiteProbe(v, grads, ctx.chains)];
  }
  return [value, grads, aux, finiteProbe(value, grads, 0)];
}

/** value + 0·Σ sums of the gradient leaves: finite iff all of them are. */
export function finiteProbe(value: Tensor, grads: PyTree, chains = 0): Tensor {
  const [gl] = flatten(grads);
  let s: Tensor | null = null;
  for (const g of gl as Tensor[]) {
    const gs = chainSum(g, chains);
    s = s ? add(s, gs) : gs;
  }
  return s ? add(value, mul(s, 0)) : value;
}

/**
 * Reads the probe(s) on backends that can block; throws NumericalError naming the step (and
 * chain). When the batch itself holds a NaN or ±Infinity, the error names that entry: the data,
 * not the learning rate, is then the cause.
 */
export function checkProbe(op: string, probe: Tensor, value: Tensor, step: number, batch?: unknown): void {
  const b = probe.concrete()._backend!;
  if (!b.readSync) return;
  const pv = probe.dataSync();
  for (let c = 0; c < pv.length; c++) {
    if (Number.isFinite(pv[c]!)) continue;
    const lp = value.dataSync()[c]!;
    const chain = probe.shape.length > 0 ? ` in chain ${c}` : '';
    const bad = nonFiniteEntry(batch, 'batch');
    if (bad) {
      throw new NumericalError(
        `${op}: logPosterior returned ${lp} at step ${step}${chain} and the batch holds a non-finite value (${bad}): the data, not the step size, is the cause. ` +
          'The state was not updated; remove or impute non-finite entries (bt.isFinite finds them) before sampling.',
      );
    }
    if (!Number.isFinite(lp)) {
      throw new NumericalError(`${op}: logPosterior returned ${lp} at step ${step}${chain}. The state was not updated; check the model and the parameters (a smaller learning rate may help).`);
    }
    throw new NumericalError(`${op}: the gradient of logPosterior has a non-finite entry at step ${step}${chain} (logPosterior = ${lp}). The state was not updated; a smaller learning rate may help.`);
  }
}

/** The first NaN or ±Infinity in a batch (Tensors the backend can read at once, numbers, arrays, objects) as `path = value`, or null. */
export function nonFiniteEntry(x: unknown, path: string): string | null {
  if (typeof x === 'number') return Number.isFinite(x) ? null : `${path} = ${x}`;
  if (x instanceof TensorClass) {
    if (x.dtype === 'int32' || !x.concrete()._backend!.readSync) return null;
    const v = x.dataSync();
    for (let i = 0; i < v.length; i++) {
      if (Number.isFinite(v[i]!)) continue;
      const idx = x.shape.map((_, a) => Math.floor(i / x.shape.slice(a + 1).reduce((p, d) => p * d, 1)) % x.shape[a]!);
      return `${path}${idx.length ? `[${idx.join(', ')}]` : ''} = ${v[i]}`;
    }
    return null;
  }
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) {
      const r = nonFiniteEntry(x[i], `${path}[${i}]`);
      if (r) return r;
    }
    return null;
  }
  if (x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
    for (const [k, v] of Object.entries(x)) {
      const r = nonFiniteEntry(v, `${path}.${k}`);
      if (r) return r;
    }
  }
  return null;
}

/** The spec fields every momentum sampler shares: momenta mirror params and are drawn from the key unless given. */
export function momentumSpec(op: string, options: { momenta?: PyTree | number; checkFinite?: boolean }): Omit<KernelSpec, 'hyper' | 'kernel'> {
  return {
    name: op,
    initNeedsKey: options.momenta === undefined,
    mirrors: ['momenta'],
    checkFinite: options.checkFinite ?? true,
    initTensors: (params, key, ctx) => ({ momenta: initMomenta(op, params, options.momenta, key, ctx.chains) }),
    needsNoise: (h) => h.noise! > 0,
  };
}

/**
 * The kernel as one step function with the jit option applied: (ts, batch, key, h) → [ts', aux,
 * probe]. Jitted, the hyperparameters enter as scalar tensors of the params' dtype (one trace for
 * any schedule; the scalars of the last values are cached); with params of mixed dtypes (which the
 * finiteness probe rejects today anyway) they would stay numbers, part of the cache key. `step`
 * only names the step in errors raised while tracing.
 */
export class KernelStep {
  private readonly fn: JitStep<(ts: Record<string, any>, batch: unknown, key: Tensor | null, h: HyperArg) => [Record<string, unknown>, unknown, Tensor]>;
  private step = 0;
  private scalars: { dtype: string; values: Hyper; tensors: Record<string, Tensor> } | null = null;
  constructor(spec: KernelSpec, ctx: ChainContext, where: string, mode: JitOption) {
    this.fn = jitStep(where, (ts, batch, key, h) => spec.kernel(ts, batch, key, h, this.step, ctx), mode);
  }
  run(ts: Record<string, any>, batch: unknown, key: Tensor | null, h: Hyper, step: number): [Record<string, unknown>, unknown, Tensor] {
    this.step = step;
    return this.fn(ts, batch, key, this.fn.jitted ? this.hyperArg(ts.params, h) : h);
  }
  private hyperArg(params: PyTree, h: Hyper): HyperArg {
    const ls = flatten(params)[0] as Tensor[];
    const dtype = ls[0]!.dtype;
    if (ls.some((l) => l.dtype !== dtype)) return h;
    const c = this.scalars;
    if (c && c.dtype === dtype && Object.keys(h).length === Object.keys(c.values).length && Object.keys(h).every((k) => Object.is(h[k], c.values[k]))) return c.tensors;
    this.freeScalars();
    const tensors: Record<string, Tensor> = {};
    for (const k of Object.keys(h)) tensors[k] = keep(full([], h[k]!, dtype));
    this.scalars = { dtype, values: { ...h }, tensors };
    return tensors;
  }
  private freeScalars(): void {
    if (this.scalars) for (const t of Object.values(this.scalars.tensors)) t.dispose();
    this.scalars = null;
  }
  info(): JitInfo {
    return { jitted: this.fn.jitted, retraces: this.fn.retraces, cache: this.fn.cacheInfo() };
  }
  dispose(): void {
    this.fn.dispose();
    this.freeScalars();
  }
}

/** Builds init/update from a kernel spec; `options.jit` is the jit option of update (see src/jit/step.ts). */
export function makeSampler<S extends BaseState>(spec: KernelSpec, options: Record<string, unknown>, logPosteriorFn: LogPosterior): Sampler<S> {
  void logPosteriorFn;
  const op = spec.name;
  // Constant options can be checked now, so a bad β fails at build time rather than at step 0.
  if (typeof options.lr === 'number' && typeof options.temperature === 'number') spec.hyper(0, `${op}.build`);
  const step = new KernelStep(spec, SINGLE, `${op}.update`, options.jit as JitOption);
  return {
    name: spec.name,
    options: Object.freeze({ ...options }),
    _spec: spec,
    init(params: PyTree, key?: Tensor): S {
      const ls = paramLeaves(`${op}.init`, params);
      if (key !== undefined && !(key instanceof TensorClass)) throw new ConfigError(`${op}.init: key must be a PRNG key tensor (bt.random.key(seed)), got ${typeof key}.`);
      const ts = spec.initTensors(params, key ?? null, SINGLE);
      return { ...ts, params, logPosterior: full([], NaN, ls[0]!.dtype), step: 0 } as unknown as S;
    },
    update(state: S, batch: unknown, key?: Tensor): [S, any] {
      const { step: t, ts } = checkState(spec, state);
      const h = spec.hyper(t);
      const needKey = spec.needsNoise(h);
      if (needKey && !(key instanceof TensorClass)) {
        throw new ConfigError(`${op}.update: this step draws noise, so update needs a key: update(state, batch, key) (got ${key === undefined ? 'none' : typeof key}).`);
      }
      const [next, aux] = tidy(() => {
        const [nts, a, probe] = step.run(ts, batch, needKey ? key! : null, h, t);
        if (spec.checkFinite) checkProbe(`${op}.update`, probe, nts.logPosterior as Tensor, t, batch);
        return [nts, a] as const;
      });
      return [{ ...next, step: t + 1 } as unknown as S, aux];
    },
    jitInfo: () => step.info(),
    dispose: () => step.dispose(),
  };
}

/** The tensor part of a state, checked against the spec. */
export function checkState(spec: KernelSpec, state: unknown): { step: number; ts: Record<string, any> } {
  const op = `${spec.name}.update`;
  if (state === null || typeof state !== 'object') throw new ConfigError(`${op}: state must be the object init() returned, got ${state === null ? 'null' : typeof state}.`);
  const { step, ...ts } = state as Record<string, any>;
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) throw new ConfigError(`${op}: state.step must be a non-negative integer, got ${String(step)}.`);
  if (ts.params === undefined) throw new ConfigError(`${op}: state has no params (keys: ${Object.keys(state).join(', ')}).`);
  for (const m of spec.mirrors) {
    if (ts[m] === undefined) throw new ConfigError(`${op}: state has no ${m} (keys: ${Object.keys(state).join(', ')}); build the state with ${spec.name}.init().`);
    assertMirrors(op, `state.${m}`, ts.params, ts[m]);
  }
  return { step, ts };
}
