/**
 * Model({ priorModel, logLikelihood }) (jaxns' framework/model.py): priorModel is a generator
 * that yields Priors and receives their values (so later priors may depend on earlier ones), and
 * returns the likelihood's arguments (an array is spread). U ∈ [0,1]^D with D = uNdims is mapped
 * prior by prior to X = T_θ(U); the sampler only ever sees f(U) = log L_θ(T_θ(U)).
 *
 * Parametrised priors (`prior.parametrised()`) are the model's parameters θ (`params`, a flat
 * pytree keyed `<name>_param`): they take no coordinates of U, their values come from θ, and
 * `model(params)` rebinds them (a new Model; jaxns' `Model(params)`). Every evaluation also takes
 * explicit params, so log L is differentiable in θ (through T_θ and L) for evidence maximisation.
 *
 * A model lives where it was built: the backend current at construction and its float dtype
 * (float64 on the CPU, float32 on WebGPU). Build one for WebGPU inside bt.withBackend('webgpu', …);
 * points arriving from elsewhere (the host's float64 U) are moved there first.
 */
import { Tensor } from '../../tensor.js';
import { ConfigError, DTypeError, ShapeError } from '../../errors.js';
import { full, tensor, zeros } from '../../autodiff/ops/creation.js';
import { reshape, slice } from '../../autodiff/ops/shape.js';
import { cast } from '../../autodiff/ops/elementwise.js';
import { vmap } from '../../autodiff/batching.js';
import { tidy, keep } from '../../memory.js';
import { currentBackend, getBackend, withBackend, type Backend } from '../../backends/backend.js';
import { backendOfTensor, fromHost } from '../../autodiff/core.js';
import { defaultFloat } from '../../autodiff/ops/creation.js';
import type { DType } from '../../dtype.js';
import { checkKey, foldIn, key as makeKey, normal } from '../../random.js';
import { ParametrisedPrior, Prior } from './prior.js';

/** The prior generator: yields Priors (or parametrised ones), gets back their values, returns the likelihood's arguments. */
export type PriorModel = () => Generator<Prior | ParametrisedPrior, unknown, Tensor>;

/** The model's parameters: one tensor in the model's dtype per parametrised prior, keyed `<name>_param`. */
export type ModelParams = Record<string, Tensor>;

/** Options of Model. */
export interface ModelOptions {
  priorModel: PriorModel;
  /** log L of one point: the priorModel's return value (spread when an array) → a scalar tensor. */
  logLikelihood: (...args: any[]) => Tensor | number;
  /** The likelihood takes a batch (each argument with a leading point axis) and returns [N]; else it is vmapped over points. */
  vectorized?: boolean;
  /** The parameters (default: initialised, see `key`); their names and shapes must be the model's. */
  params?: ModelParams;
  /** PRNG key for parametrised priors with `randomInit` (default bt.random.key(0), as jaxns' PRNGKey(0)). */
  key?: Tensor;
}

/** One prior as discovered: its name, base shape and offset into U. */
export interface PriorSlot {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

/** One parametrised prior as discovered: its name, its parameter's name and shape, its value's shape. */
export interface ParamSlot {
  name: string;
  paramName: string;
  paramShape: number[];
  shape: number[];
  randomInit: boolean;
}

const KNOWN = ['priorModel', 'logLikelihood', 'vectorized', 'params', 'key'];

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * Calling a model with params, `model(params)`, returns the same model with those parameters
 * bound (jaxns' `Model.__call__`); see {@link Model.withParams}.
 */
export interface Model {
  /** The same model with `params` bound (jaxns' `model(params)`). */
  (params: ModelParams): Model;
}

/** A prior model and its likelihood over the unit cube, with parameters θ from parametrised priors. */
export class Model {
  declare readonly priorModel: PriorModel;
  /** The log-likelihood of the prior values (one per Prior, in order), as given. */
  declare readonly logLikelihood: (...args: any[]) => Tensor | number;
  /** Whether logLikelihood takes a batch of points. */
  declare readonly vectorized: boolean;
  /** The priors that take unit-cube coordinates, in order, with their place in U. */
  declare readonly slots: PriorSlot[];
  /** The parametrised priors, in order. */
  declare readonly paramSlots: ParamSlot[];
  /** D: the number of unit-cube coordinates. */
  declare readonly uNdims: number;
  /** The parameters θ (a pytree: `<name>_param` → float64 tensor of the prior's base shape); empty without parametrised priors. */
  declare readonly params: ModelParams;
  /** The number of parameter entries (Σ sizes; a zero-size parameter counts 0). */
  declare readonly numParams: number;
  /** The backend the model was built on: priors, params and the likelihood are evaluated there. */
  declare readonly backend: Backend;
  /** The float dtype of the evaluations (the backend's default: float64 on the CPU, float32 on WebGPU). */
  declare readonly dtype: DType;

  constructor(options: ModelOptions) {
    // a function object with this class's prototype: `model(params)` works and `instanceof Model` holds
    const self = ((params: ModelParams) => self.withParams(params)) as unknown as Model;
    Object.setPrototypeOf(self, new.target.prototype);
    const m = self as Mutable<Model>;
    if (!options || typeof options !== 'object') throw new ConfigError('ns.Model: expected { priorModel, logLikelihood }.');
    for (const k of Object.keys(options)) if (!KNOWN.includes(k)) throw new ConfigError(`ns.Model: unknown option '${k}' (known: ${KNOWN.join(', ')}).`);
    if (typeof options.priorModel !== 'function') throw new ConfigError('ns.Model: priorModel must be a generator function yielding ns.Prior objects.');
    if (typeof options.logLikelihood !== 'function') throw new ConfigError('ns.Model: logLikelihood must be a function of the prior model’s outputs returning a scalar.');
    if (options.vectorized !== undefined && typeof options.vectorized !== 'boolean') throw new ConfigError(`ns.Model: vectorized must be a boolean, got ${String(options.vectorized)}.`);
    if (options.key !== undefined) checkKey('ns.Model', options.key);
    if (options.params !== undefined && (options.params === null || typeof options.params !== 'object' || options.params instanceof Tensor)) {
      throw new ConfigError(`ns.Model: params must be an object of tensors keyed '<name>_param' (model.params), got ${String(options.params)}.`);
    }
    m.backend = currentBackend();
    m.dtype = defaultFloat();
    m.priorModel = options.priorModel;
    m.logLikelihood = options.logLikelihood;
    m.vectorized = options.vectorized ?? false;
    m.slots = [];
    m.paramSlots = [];
    m.uNdims = 0;
    m.params = {};
    const { slots, paramSlots, params } = self.discover(options.params, options.key);
    m.slots = slots;
    m.paramSlots = paramSlots;
    m.uNdims = slots.reduce((a, s) => a + s.size, 0);
    m.params = params;
    m.numParams = paramSlots.reduce((a, s) => a + s.paramShape.reduce((x, y) => x * y, 1), 0);
    const d = self.uNdims;
    if (d === 0) throw new ConfigError('ns.Model: the prior model has no free dimensions (uNdims = 0); add at least one Prior that is not parametrised.');
    tidy(() => {
      const centre = full([d], 0.5, self.dtype);
      if (self.vectorized) {
        const l = self.logLikelihoodBatch(full([2, d], 0.5, self.dtype));
        if (l.ndim !== 1 || l.shape[0] !== 2) throw new ShapeError(`ns.Model: a vectorized logLikelihood must return one value per point, [N]; over 2 points it gave shape [${l.shape.join(', ')}].`);
      } else {
        const l = self.callLikelihood(self.walk((p) => self.uOf(centre, p), self.params).outputs);
        if (l.size !== 1 || l.ndim > 1) {
          throw new ShapeError(`ns.Model: logLikelihood must return a scalar for one point, got shape [${l.shape.join(', ')}]; reduce it (e.g. bt.sum) to one number.`);
        }
      }
    });
    return self;
  }

  /**
   * Discovery at the cube's centre: names, shapes, offsets and D; parameter checks; the params
   * (given ones checked, missing ones initialised: 0, or N(0, 1) from foldIn(key, i) for the
   * i-th parametrised prior with randomInit).
   */
  private discover(given: ModelParams | undefined, key: Tensor | undefined): { slots: PriorSlot[]; paramSlots: ParamSlot[]; params: ModelParams } {
    const slots: PriorSlot[] = [];
    const paramSlots: ParamSlot[] = [];
    const params: ModelParams = {};
    const names = new Set<string>();
    let d = 0;
    tidy(() => {
      this.walk(
        (p) => {
          p.validate();
          if (names.has(p.name)) throw new ConfigError(`ns.Model: two priors are named '${p.name}'; names must be unique.`);
          names.add(p.name);
          slots.push({ name: p.name, shape: p.baseShape, offset: d, size: p.uNdims });
          d += p.uNdims;
          return full(p.baseShape, 0.5, this.dtype);
        },
        (pp) => {
          pp.prior.validate();
          if (names.has(pp.name)) throw new ConfigError(`ns.Model: two priors are named '${pp.name}'; names must be unique.`);
          names.add(pp.name);
          if (names.has(pp.paramName)) throw new ConfigError(`ns.Model: the parameter name '${pp.paramName}' is also a prior's name; rename one.`);
          paramSlots.push({ name: pp.name, paramName: pp.paramName, paramShape: pp.paramShape, shape: pp.shape, randomInit: pp.randomInit });
          let theta: Tensor;
          if (given !== undefined) {
            const g = given[pp.paramName];
            if (!(g instanceof Tensor)) throw new ConfigError(`ns.Model: params lacks '${pp.paramName}' (a tensor of shape [${pp.paramShape.join(', ')}]); pass model.params or model.initParams(key).`);
            if (!sameShape(g.shape, pp.paramShape)) throw new ShapeError(`ns.Model: params '${pp.paramName}' has shape [${g.shape.join(', ')}], the prior '${pp.name}' needs [${pp.paramShape.join(', ')}].`);
            if (g.dtype !== this.dtype) throw new DTypeError(`ns.Model: params '${pp.paramName}' must be a ${this.dtype} tensor (the model's dtype on '${this.backend.name}'), got ${g.dtype}; cast it with bt.cast(θ, '${this.dtype}').`);
            theta = g;
          } else {
            const i = paramSlots.length - 1;
            theta = keep(pp.randomInit ? normal(foldIn(key ?? makeKey(0), i), pp.paramShape, { dtype: this.dtype as 'float32' }) : zeros(pp.paramShape, this.dtype));
          }
          params[pp.paramName] = theta;
          return theta;
        },
      );
    });
    if (given !== undefined) {
      for (const k of Object.keys(given)) if (!(k in params)) throw new ConfigError(`ns.Model: params has '${k}', which is no parametrised prior's parameter (known: ${Object.keys(params).join(', ') || 'none'}).`);
    }
    return { slots, paramSlots, params };
  }

  /**
   * Runs the generator: `valueOf` gives each prior's unit-cube coordinates (base shape), `thetaOf`
   * each parametrised prior's θ; returns the outputs, the Bayesian values and the parametrised ones.
   */
  private walk(
    valueOf: (p: Prior) => Tensor,
    thetaOf: ModelParams | ((pp: ParametrisedPrior) => Tensor),
  ): { outputs: unknown; named: Record<string, Tensor>; parametrised: Record<string, Tensor> } {
    const gen = this.priorModel();
    if (!gen || typeof (gen as Generator).next !== 'function') throw new ConfigError('ns.Model: priorModel must be a generator function (function* () { const x = yield new ns.Prior(...); return x; }).');
    const named: Record<string, Tensor> = {};
    const parametrised: Record<string, Tensor> = {};
    let r = gen.next(undefined as unknown as Tensor);
    while (!r.done) {
      const p = r.value;
      let x: Tensor;
      if (p instanceof Prior) {
        x = p.forward(valueOf(p));
        named[p.name] = x;
      } else if (p instanceof ParametrisedPrior) {
        const theta = typeof thetaOf === 'function' ? thetaOf(p) : thetaOf[p.paramName];
        if (!(theta instanceof Tensor)) throw new ConfigError(`ns.Model: no parameter '${p.paramName}' for the parametrised prior '${p.name}' (params has ${Object.keys(thetaOf).join(', ') || 'nothing'}).`);
        x = p.forward(theta);
        parametrised[p.name] = x;
      } else {
        throw new ConfigError(`ns.Model: priorModel yielded ${String(p)}; yield ns.Prior objects (or prior.parametrised()) only.`);
      }
      r = gen.next(x);
    }
    return { outputs: r.value, named, parametrised };
  }

  private callLikelihood(outputs: unknown): Tensor {
    const args = Array.isArray(outputs) ? outputs : outputs === undefined ? [] : [outputs];
    const l = this.logLikelihood(...args);
    return l instanceof Tensor ? l : tensor(l as number, { dtype: this.dtype });
  }

  /**
   * The same model with `params` bound (also `model(params)`): same priorModel and likelihood,
   * params checked against the parametrised priors (names and shapes). Pure: this model is unchanged.
   */
  withParams(params: ModelParams): Model {
    return this.on(() => new Model({ priorModel: this.priorModel, logLikelihood: this.logLikelihood, vectorized: this.vectorized, params }));
  }

  /** Fresh parameters: 0 for each parametrised prior, or N(0, 1) from foldIn(key, i) for the i-th one with randomInit. */
  initParams(key: Tensor): ModelParams {
    checkKey('ns.Model.initParams', key);
    return this.on(() =>
      tidy(() => {
        const out: ModelParams = {};
        this.paramSlots.forEach((s, i) => {
          out[s.paramName] = keep(s.randomInit ? normal(foldIn(key, i), s.paramShape, { dtype: this.dtype as 'float32' }) : zeros(s.paramShape, this.dtype));
        });
        return out;
      }),
    );
  }

  /** X = T_θ(U) for one point U [D]: the value of each (non-parametrised) prior by name. */
  transformOne(u: Tensor, params: ModelParams = this.params): Record<string, Tensor> {
    return this.on(() => {
      const x = this.here(u);
      return this.walk((p) => this.uOf(x, p), params).named;
    });
  }

  /** log L_θ(T_θ(U)) for one point U [D] (a scalar tensor); differentiable in u and params. */
  logLikelihoodOne(u: Tensor, params: ModelParams = this.params): Tensor {
    return this.on(() => {
      const x = this.here(u);
      const l = this.callLikelihood(this.walk((p) => this.uOf(x, p), params).outputs);
      return reshape(cast(l, this.dtype), []);
    });
  }

  /**
   * log L_θ(T_θ(U)) over a batch U [N, D] in one vmapped pass → [N]. With explicit `params`
   * (e.g. tracers under bt.grad) it is differentiable in them: θ enters through T_θ and L.
   */
  logLikelihoodBatch(u: Tensor, params: ModelParams = this.params): Tensor {
    return this.on(() => {
      const us = this.here(u);
      if (!this.vectorized) return vmap((x: Tensor, p: ModelParams) => this.logLikelihoodOne(x, p), { inAxes: [0, null] })(us, params);
      const outputs = vmap((x: Tensor, p: ModelParams) => this.walk((q) => this.uOf(x, q), p).outputs, { inAxes: [0, null] })(us, params);
      return cast(this.callLikelihood(outputs), this.dtype);
    });
  }

  /** X = T_θ(U) over a batch U [N, D] → each (non-parametrised) prior's values [N, ...shape]. */
  transformBatch(u: Tensor, params: ModelParams = this.params): Record<string, Tensor> {
    return this.on(() => vmap((x: Tensor, p: ModelParams) => this.transformOne(x, p), { inAxes: [0, null] })(this.here(u), params));
  }

  /**
   * The parametrised priors' values over a batch U [N, D] → [N, ...shape] each (jaxns'
   * `parametrised_samples`: a value may depend on earlier priors, hence one per sample).
   */
  parametrisedBatch(u: Tensor, params: ModelParams = this.params): Record<string, Tensor> {
    if (this.paramSlots.length === 0) return {};
    return this.on(() => vmap((x: Tensor, p: ModelParams) => this.walk((q) => this.uOf(x, q), p).parametrised, { inAxes: [0, null] })(this.here(u), params));
  }

  /** Runs fn with the model's backend current: the generator builds its Priors (and the likelihood its constants) there. */
  private on<T>(fn: () => T): T {
    return getBackend() === this.backend.name ? fn() : withBackend(this.backend.name, fn);
  }

  /**
   * U on the model's backend in its dtype: a concrete tensor from elsewhere (the host's float64
   * points on the CPU backend) is uploaded; a traced one (under vmap or grad) must already be there.
   */
  private here(u: Tensor): Tensor {
    if (backendOfTensor(u) === this.backend) return u.dtype === this.dtype ? u : cast(u, this.dtype);
    const data = u.dataSync();
    return fromHost(this.dtype === 'float32' ? Float32Array.from(data) : Float64Array.from(data), u.shape, this.backend);
  }

  private uOf(u: Tensor, p: Prior): Tensor {
    const s = this.slots.find((q) => q.name === p.name);
    const offset = s ? s.offset : 0;
    return reshape(slice(u, [offset], [p.uNdims]), p.baseShape);
  }
}
