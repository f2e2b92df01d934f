import { Tensor } from '../tensor.js';
import type { PyTree } from '../autodiff/tree.js';
import type { FloatDType } from '../dtype.js';
import { add, sub } from '../autodiff/ops/elementwise.js';
import { reshape } from '../autodiff/ops/shape.js';
import { sizeOf } from '../shape.js';
import { defaultFloat, zeros } from '../autodiff/ops/creation.js';
import { stopGradient } from '../autodiff/ops/special.js';
import { ConfigError, DTypeError, ShapeError } from '../errors.js';
import type { Distribution } from '../distributions/types.js';
import { DiagonalNormal } from '../distributions/diagonal.js';
import { checkSampleShape, describeValue, fmtShape } from '../distributions/util.js';
import { checkKey, splitKeys } from '../random.js';
import { affineCoupling, maskedAffineAutoregressive, permutation, type Bijector } from './bijectors.js';
import type { Activation } from '../nn/activations.js';
import { checkKnown } from '../validate.js';

/** A flow's trainable parameters: the Gaussian base and one pytree per layer. */
export interface FlowParams {
  /** the diagonal-Gaussian base: { loc [d], logScale [d] } */
  base: { loc: Tensor; logScale: Tensor };
  /** one entry per layer ({} for a permutation) */
  layers: PyTree[];
}


/**
 * A normalising flow x = f_L ∘ … ∘ f_1(z), z ~ DiagonalNormal(base.loc, exp(base.logScale)), as a
 * Distribution with eventShape [d] and batchShape []. log q(x) = log p(z) − Σ log|det ∂f_k|.
 * params() = { base: { loc, logScale }, layers: [...] }; withParams rebuilds the flow.
 * entropy() and mean() have no closed form (ConfigError): estimate them from rsampleAndLogProb.
 */
export class Flow implements Distribution {
  readonly eventShape: readonly number[];
  readonly batchShape: readonly number[] = [];
  readonly dtype: FloatDType;
  readonly bijectors: readonly Bijector[];
  private readonly p: FlowParams;
  private readonly base: DiagonalNormal;

  constructor(bijectors: readonly Bijector[], params: FlowParams) {
    const op = 'flows.Flow';
    if (!Array.isArray(bijectors) || bijectors.length === 0) throw new ConfigError(`${op}: needs at least one bijector.`);
    const d = bijectors[0]!.dim;
    if (bijectors.some((b) => b.dim !== d)) throw new ShapeError(`${op}: every bijector must act on the same dim, got ${bijectors.map((b) => b.dim).join(', ')}.`);
    Flow.checkParams(op, params, bijectors.length, d);
    this.bijectors = bijectors;
    this.p = { base: { loc: params.base.loc, logScale: params.base.logScale }, layers: [...params.layers] };
    this.base = DiagonalNormal.fromParams(this.p.base);
    this.dtype = params.base.loc.dtype as FloatDType;
    this.eventShape = [d];
  }

  private static checkParams(op: string, p: unknown, n: number, d: number): asserts p is FlowParams {
    const q = p as FlowParams | null;
    if (q === null || typeof q !== 'object' || typeof q.base !== 'object' || q.base === null || !Array.isArray(q.layers)) {
      throw new ConfigError(`${op}: params must be { base: { loc, logScale }, layers: [...] }, got ${describeValue(p)}.`);
    }
    const extra = Object.keys(q).filter((k) => k !== 'base' && k !== 'layers');
    if (extra.length) throw new ConfigError(`${op}: unknown params key(s) ${extra.join(', ')}; expected { base, layers }.`);
    if (q.layers.length !== n) throw new ConfigError(`${op}: params.layers has ${q.layers.length} entries but the flow has ${n} layers.`);
    const { loc, logScale } = q.base;
    for (const [k, v] of [['loc', loc], ['logScale', logScale]] as const) {
      if (!(v instanceof Tensor)) throw new ConfigError(`${op}: params.base.${k} must be a Tensor [${d}], got ${describeValue(v)}.`);
      if (v.ndim !== 1 || v.shape[0] !== d) throw new ShapeError(`${op}: params.base.${k} must be [${d}], got ${fmtShape(v.shape)}.`);
    }
    if (loc.dtype !== logScale.dtype) throw new DTypeError(`${op}: params.base.loc is ${loc.dtype} but logScale is ${logScale.dtype}.`);
  }

  get dim(): number {
    return this.eventShape[0]!;
  }

  /** z [N, d] → [x [N, d], Σ log|det ∂x/∂z| [N]] */
  forward(z: Tensor): [Tensor, Tensor] {
    let x = z;
    let ld: Tensor = zeros([z.shape[0]!], this.dtype);
    this.bijectors.forEach((b, i) => {
      const [y, l] = b.forward(this.p.layers[i], x);
      x = y;
      ld = add(ld, l);
    });
    return [x, ld];
  }

  /** x [N, d] → [z [N, d], Σ log|det ∂z/∂x| [N]] */
  inverse(x: Tensor): [Tensor, Tensor] {
    let z = x;
    let ld: Tensor = zeros([x.shape[0]!], this.dtype);
    for (let i = this.bijectors.length - 1; i >= 0; i--) {
      const [y, l] = this.bijectors[i]!.inverse(this.p.layers[i], z);
      z = y;
      ld = add(ld, l);
    }
    return [z, ld];
  }

  logProb(x: Tensor): Tensor {
    const op = 'flows.Flow.logProb';
    if (!(x instanceof Tensor)) throw new ConfigError(`${op}: x must be a Tensor [..., ${this.dim}], got ${describeValue(x)}.`);
    if (x.dtype !== this.dtype) throw new DTypeError(`${op}: x is ${x.dtype} but the flow is ${this.dtype}.`);
    if (x.ndim < 1 || x.shape[x.ndim - 1] !== this.dim) throw new ShapeError(`${op}: x must be [..., ${this.dim}], got ${fmtShape(x.shape)}.`);
    const lead = x.shape.slice(0, -1);
    const [z, ld] = this.inverse(reshape(x, [sizeOf(lead), this.dim]));
    return reshape(add(this.base.logProb(z), ld), lead);
  }

  rsampleAndLogProb(key: Tensor, sampleShape?: readonly number[]): [Tensor, Tensor] {
    const op = 'flows.Flow.rsampleAndLogProb';
    checkKey(op, key);
    const s = checkSampleShape(op, sampleShape);
    const [z, lp] = this.base.rsampleAndLogProb(key, [sizeOf(s)]);
    const [x, ld] = this.forward(z);
    return [reshape(x, [...s, this.dim]), reshape(sub(lp, ld), s)];
  }

  rsample(key: Tensor, sampleShape?: readonly number[]): Tensor {
    return this.rsampleAndLogProb(key, sampleShape)[0];
  }

  sample(key: Tensor, sampleShape?: readonly number[]): Tensor {
    return stopGradient(this.rsample(key, sampleShape));
  }

  /** Throws ConfigError: a flow has no closed-form entropy (estimate it from rsampleAndLogProb). */
  entropy(): Tensor {
    throw new ConfigError('flows.Flow.entropy: a flow has no closed-form entropy; estimate it as −mean(logQ) from rsampleAndLogProb(key, [n]).');
  }

  /** Throws ConfigError: a flow has no closed-form mean (estimate it from rsample). */
  mean(): Tensor {
    throw new ConfigError('flows.Flow.mean: a flow has no closed-form mean; estimate it from rsample(key, [n]).');
  }

  params(): FlowParams {
    return { base: { loc: this.p.base.loc, logScale: this.p.base.logScale }, layers: [...this.p.layers] };
  }

  /** The same flow rebuilt from new params { base, layers }. */
  withParams(p: PyTree): Flow {
    return new Flow(this.bijectors, p as FlowParams);
  }
}

/** Build a flow from bijectors: layer params from init(split(key)), base N(baseLoc, baseScale²) (default N(0, I)). */
export function flow(opts: { bijectors: Bijector[]; key: Tensor; dtype?: FloatDType }): Flow {
  const op = 'flows.flow';
  const known = ['bijectors', 'key', 'dtype'];
  checkKnown(op, opts, known);
  checkKey(op, opts.key);
  const bs = opts.bijectors;
  if (!Array.isArray(bs) || bs.length === 0) throw new ConfigError(`${op}: bijectors must be a non-empty array.`);
  const dtype = opts.dtype ?? (defaultFloat() as FloatDType);
  const d = bs[0]!.dim;
  const keys = splitKeys(opts.key, bs.length);
  const layers = bs.map((b, i) => b.init(keys[i]!));
  return new Flow(bs, { base: { loc: zeros([d], dtype), logScale: zeros([d], dtype) }, layers });
}

/** Options shared by `maf` and `realNVP`. */
export interface FlowOptions {
  /** dimension of θ */
  dim: number;
  /** hidden layer sizes of each layer's network (MADE for maf, MLP for realNVP) */
  hiddenSizes: number[];
  /** number of MAF / coupling layers */
  numLayers: number;
  key: Tensor;
  /** default: the current backend's float dtype (float64 on the CPU, float32 on WebGPU) */
  dtype?: FloatDType;
  /** hidden activation, default 'tanh' */
  activation?: Activation;
}

function checkFlowOptions(op: string, opts: unknown, extra: string[]): FlowOptions {
  const known = ['dim', 'hiddenSizes', 'numLayers', 'key', 'dtype', 'activation', ...extra];
  if (opts === null || typeof opts !== 'object') throw new ConfigError(`${op}: options must be an object { dim, hiddenSizes, numLayers, key }.`);
  checkKnown(op, opts, known);
  const o = opts as FlowOptions;
  if (!Number.isInteger(o.numLayers) || o.numLayers < 1) throw new ConfigError(`${op}: numLayers must be a positive integer, got ${describeValue(o.numLayers)}.`);
  if (o.dtype !== undefined && o.dtype !== 'float64' && o.dtype !== 'float32') throw new DTypeError(`${op}: dtype must be 'float64' or 'float32', got ${describeValue(o.dtype)}.`);
  checkKey(op, o.key);
  return o;
}

/**
 * A masked autoregressive flow: numLayers MAF layers (MADE with hiddenSizes), with a permutation
 * between consecutive layers (default 'reverse'; 'random' draws each from the key; 'none').
 * Density evaluation is one pass per layer; sampling is sequential in d (fine for small d).
 */
export function maf(opts: FlowOptions & { permutation?: 'reverse' | 'random' | 'none' }): Flow {
  const op = 'flows.maf';
  const o = checkFlowOptions(op, opts, ['permutation']);
  const perm = opts.permutation ?? 'reverse';
  if (perm !== 'reverse' && perm !== 'random' && perm !== 'none') throw new ConfigError(`${op}: permutation must be 'reverse', 'random' or 'none', got ${describeValue(perm)}.`);
  const [kInit, kPerm] = splitKeys(o.key, 2);
  const permKeys = splitKeys(kPerm!, o.numLayers);
  const bs: Bijector[] = [];
  for (let i = 0; i < o.numLayers; i++) {
    if (i > 0 && perm !== 'none') bs.push(permutation({ dim: o.dim, order: perm, ...(perm === 'random' ? { key: permKeys[i]! } : {}) }));
    bs.push(maskedAffineAutoregressive({ dim: o.dim, hiddenSizes: o.hiddenSizes, ...(o.activation ? { activation: o.activation } : {}), ...(o.dtype ? { dtype: o.dtype } : {}) }));
  }
  return flow({ bijectors: bs, key: kInit!, ...(o.dtype ? { dtype: o.dtype } : {}) });
}

/**
 * RealNVP: numLayers affine coupling layers with alternating parity masks (layer k keeps the
 * coordinates j with (j + k) even), optionally a random permutation between layers.
 */
export function realNVP(opts: FlowOptions & { permutation?: 'none' | 'random' }): Flow {
  const op = 'flows.realNVP';
  const o = checkFlowOptions(op, opts, ['permutation']);
  const perm = opts.permutation ?? 'none';
  if (perm !== 'random' && perm !== 'none') throw new ConfigError(`${op}: permutation must be 'none' or 'random', got ${describeValue(perm)}.`);
  const [kInit, kPerm] = splitKeys(o.key, 2);
  const permKeys = splitKeys(kPerm!, o.numLayers);
  const bs: Bijector[] = [];
  for (let i = 0; i < o.numLayers; i++) {
    if (i > 0 && perm === 'random') bs.push(permutation({ dim: o.dim, order: 'random', key: permKeys[i]! }));
    const mask = Array.from({ length: o.dim }, (_, j) => ((j + i) % 2 === 0 ? 1 : 0));
    bs.push(affineCoupling({ dim: o.dim, mask, hiddenSizes: o.hiddenSizes, ...(o.activation ? { activation: o.activation } : {}), ...(o.dtype ? { dtype: o.dtype } : {}) }));
  }
  return flow({ bijectors: bs, key: kInit!, ...(o.dtype ? { dtype: o.dtype } : {}) });
}
