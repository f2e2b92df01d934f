/**
 * Model({ priorModel, logLikelihood }) (jaxns' framework/model.py): priorModel is a generator
 * that yields Priors and receives their values (so later priors may depend on earlier ones), and
 * returns the likelihood's arguments (an array is spread). U ∈ [0,1]^D with D = uNdims is mapped
 * prior by prior to X = T(U); the sampler only ever sees f(U) = log L(T(U)).
 */
import { Tensor } from '../../tensor.js';
import { ConfigError, ShapeError } from '../../errors.js';
import { full, tensor } from '../../autodiff/ops/creation.js';
import { reshape, slice } from '../../autodiff/ops/shape.js';
import { cast } from '../../autodiff/ops/elementwise.js';
import { vmap } from '../../autodiff/batching.js';
import { tidy } from '../../memory.js';
import { currentBackend, getBackend, withBackend, type Backend } from '../../backends/backend.js';
import { backendOfTensor, fromHost } from '../../autodiff/core.js';
import { defaultFloat } from '../../autodiff/ops/creation.js';
import type { DType } from '../../dtype.js';
import { Prior } from './prior.js';

/** The prior generator: yields Priors, gets back their values, returns the likelihood's arguments. */
export type PriorModel = () => Generator<Prior, unknown, Tensor>;

/** Options of Model. */
export interface ModelOptions {
  priorModel: PriorModel;
  /** log L of one point: the priorModel's return value (spread when an array) → a scalar tensor. */
  logLikelihood: (...args: any[]) => Tensor | number;
  /** The likelihood takes a batch (each argument with a leading point axis) and returns [N]; else it is vmapped over points. */
  vectorized?: boolean;
}

/** One prior as discovered: its name, base shape and offset into U. */
export interface PriorSlot {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

const KNOWN = ['priorModel', 'logLikelihood', 'vectorized'];

/** A prior model and its likelihood over the unit cube. */
export class Model {
  readonly priorModel: PriorModel;
  /** The log-likelihood of the prior values (one per Prior, in order), as given. */
  readonly logLikelihood: (...args: any[]) => Tensor | number;
  /** Whether logLikelihood takes a batch of points. */
  readonly vectorized: boolean;
  /** The priors in order, with their place in U. */
  readonly slots: PriorSlot[] = [];
  /** D: the number of unit-cube coordinates. */
  readonly uNdims: number = 0;
  /** Model parameters (a pytree); empty until parametrised priors arrive (evidence maximisation). */
  readonly params: Record<string, Tensor> = {};
  /**
   * Where the model lives: the backend current at construction, and its float dtype (float64 on
   * the CPU, float32 on WebGPU). Build a model for WebGPU under bt.withBackend('webgpu', ...) with
   * its constants there; U arriving from elsewhere (host float64 points) is moved here first.
   */
  readonly backend: Backend;
  /** The float dtype the likelihood is evaluated in. */
  readonly dtype: DType;

  constructor(options: ModelOptions) {
    if (!options || typeof options !== 'object') throw new ConfigError('ns.Model: expected { priorModel, logLikelihood }.');
    for (const k of Object.keys(options)) if (!KNOWN.includes(k)) throw new ConfigError(`ns.Model: unknown option '${k}' (known: ${KNOWN.join(', ')}).`);
    if (typeof options.priorModel !== 'function') throw new ConfigError('ns.Model: priorModel must be a generator function yielding ns.Prior objects.');
    if (typeof options.logLikelihood !== 'function') throw new ConfigError('ns.Model: logLikelihood must be a function of the prior model’s outputs returning a scalar.');
    this.priorModel = options.priorModel;
    this.backend = currentBackend();
    this.dtype = defaultFloat();
    this.logLikelihood = options.logLikelihood;
    if (options.vectorized !== undefined && typeof options.vectorized !== 'boolean') throw new ConfigError(`ns.Model: vectorized must be a boolean, got ${String(options.vectorized)}.`);
    this.vectorized = options.vectorized ?? false;
    // discovery at the cube's centre: names, shapes and D, parameter checks, the likelihood's shape
    const slots: PriorSlot[] = [];
    let d = 0;
    tidy(() => {
      const { outputs } = this.walk((p) => {
        p.validate();
        if (slots.some((s) => s.name === p.name)) throw new ConfigError(`ns.Model: two priors are named '${p.name}'; names must be unique.`);
        slots.push({ name: p.name, shape: p.shape, offset: d, size: p.uNdims });
        d += p.uNdims;
        return full(p.shape, 0.5, this.dtype);
      });
      if (!this.vectorized) {
        const l = this.callLikelihood(outputs);
        if (l.size !== 1 || l.ndim > 1) {
          throw new ShapeError(`ns.Model: logLikelihood must return a scalar for one point, got shape [${l.shape.join(', ')}]; reduce it (e.g. bt.sum) to one number.`);
        }
      }
    });
    this.slots = slots;
    this.uNdims = d;
    if (this.vectorized && d > 0) {
      tidy(() => {
        const l = this.logLikelihoodBatch(full([2, d], 0.5, this.dtype));
        if (l.ndim !== 1 || l.shape[0] !== 2) throw new ShapeError(`ns.Model: a vectorized logLikelihood must return one value per point, [N]; over 2 points it gave shape [${l.shape.join(', ')}].`);
      });
    }
    if (d === 0) throw new ConfigError('ns.Model: the prior model has no free dimensions (uNdims = 0); add at least one Prior.');
  }

  /**
   * Runs the generator, asking `valueOf` for each prior's unit-cube coordinates; returns the
   * outputs and the named values X. Parametrised priors (evidence maximisation) will hook in here:
   * their value comes from `params` (quantile(½(θ/(1+|θ|)+1))) and takes no U coordinates.
   */
  private walk(valueOf: (p: Prior) => Tensor): { outputs: unknown; named: Record<string, Tensor> } {
    const gen = this.priorModel();
    if (!gen || typeof (gen as Generator).next !== 'function') throw new ConfigError('ns.Model: priorModel must be a generator function (function* () { const x = yield new ns.Prior(...); return x; }).');
    const named: Record<string, Tensor> = {};
    let r = gen.next(undefined as unknown as Tensor);
    while (!r.done) {
      const p = r.value;
      if (!(p instanceof Prior)) throw new ConfigError(`ns.Model: priorModel yielded ${String(p)}; yield ns.Prior objects only.`);
      const x = p.forward(valueOf(p));
      named[p.name] = x;
      r = gen.next(x);
    }
    return { outputs: r.value, named };
  }

  private callLikelihood(outputs: unknown): Tensor {
    const args = Array.isArray(outputs) ? outputs : outputs === undefined ? [] : [outputs];
    const l = this.logLikelihood(...args);
    return l instanceof Tensor ? l : fromHost(this.dtype === 'float32' ? Float32Array.of(l as number) : Float64Array.of(l as number), [], this.backend);
  }

  /**
   * U on the model's backend in its dtype: a concrete tensor from elsewhere (the host's float64
   * points on the CPU backend) is uploaded; a traced one must already be there.
   */
  /** Runs fn with the model's backend current: the generator builds its Priors (and the likelihood its constants) there. */
  private on<T>(fn: () => T): T {
    return getBackend() === this.backend.name ? fn() : withBackend(this.backend.name, fn);
  }

  private here(u: Tensor): Tensor {
    if (backendOfTensor(u) === this.backend) return u.dtype === this.dtype ? u : cast(u, this.dtype);
    const data = u.dataSync();
    return fromHost(this.dtype === 'float32' ? Float32Array.from(data) : Float64Array.from(data), u.shape, this.backend);
  }

  /** X = T(U) for one point U [D]: the value of each prior by name. */
  transformOne(u: Tensor): Record<string, Tensor> {
    return this.on(() => {
      const x = this.here(u);
      return this.walk((p) => this.uOf(x, p)).named;
    });
  }

  /** log L(T(U)) for one point U [D] (a scalar tensor). */
  logLikelihoodOne(u: Tensor): Tensor {
    return this.on(() => {
      const x = this.here(u);
      const l = this.callLikelihood(this.walk((p) => this.uOf(x, p)).outputs);
      return reshape(cast(l, this.dtype), []);
    });
  }

  /** log L(T(U)) over a batch U [N, D] in one vmapped pass → [N]. */
  logLikelihoodBatch(u: Tensor): Tensor {
    return this.on(() => {
      const us = this.here(u);
      if (!this.vectorized) return vmap((x: Tensor) => this.logLikelihoodOne(x))(us);
      const outputs = vmap((x: Tensor) => this.walk((p) => this.uOf(x, p)).outputs)(us);
      return cast(this.callLikelihood(outputs), this.dtype);
    });
  }

  /** X = T(U) over a batch U [N, D] → each prior's values [N, ...shape]. */
  transformBatch(u: Tensor): Record<string, Tensor> {
    return this.on(() => vmap((x: Tensor) => this.transformOne(x))(this.here(u)));
  }

  private uOf(u: Tensor, p: Prior): Tensor {
    const s = this.slots.find((q) => q.name === p.name);
    const offset = s ? s.offset : 0;
    return reshape(slice(u, [offset], [p.uNdims]), p.shape);
  }
}
