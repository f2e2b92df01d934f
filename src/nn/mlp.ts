import type { Tensor } from '../tensor.js';
import { ConfigError } from '../errors.js';
import type { FloatDType } from '../dtype.js';
import { requireOptions } from '../validate.js';
import { checkDType, dense } from './dense.js';
import { checkKey, splitKeys } from '../random.js';
import { type InitName, type Initializer } from './initializers.js';
import { resolveActivation, type Activation } from './activations.js';
import type { MlpParams, Module } from './types.js';

/** Options of `mlp`: layer sizes, activations, initialiser and dtype. */
export interface MlpOptions {
  /** `[in, hidden..., out]`: at least two sizes */
  sizes: number[];
  /** between layers; default 'tanh' */
  activation?: Activation;
  /** after the last layer; default none (identity) */
  outputActivation?: Activation;
  /** weight initialiser for every layer; default 'glorotUniform' */
  init?: InitName | Initializer;
  dtype?: FloatDType;
}

/**
 * A multilayer perceptron: dense layers sizes[i] → sizes[i+1], activation between them.
 * Params { layers: [{ w, b }, ...] }; layer i draws its weights from split(key, L)[i], so the same
 * key always gives the same network. apply broadcasts over leading batch axes as dense does.
 */
export function mlp(opts: MlpOptions): Module<MlpParams> {
  const op = 'nn.mlp';
  requireOptions(op, opts, ['sizes', 'activation', 'outputActivation', 'init', 'dtype']);
  const sizes = opts.sizes;
  if (!Array.isArray(sizes) || sizes.length < 2 || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new ConfigError(`${op}: sizes must be an array of at least two positive integers [in, ..., out], got ${JSON.stringify(sizes)}.`);
  }
  const act = resolveActivation(op, 'activation', opts.activation ?? 'tanh');
  const outAct = resolveActivation(op, 'outputActivation', opts.outputActivation ?? 'identity');
  const dtype = checkDType(op, opts.dtype);
  const layers = sizes.slice(1).map((nOut, i) =>
    dense({ inFeatures: sizes[i]!, outFeatures: nOut, ...(opts.init === undefined ? {} : { init: opts.init }), ...(dtype ? { dtype } : {}) }),
  );
  return {
    init: (key) => {
      checkKey(`${op} init`, key);
      const keys = splitKeys(key, layers.length);
      return { layers: layers.map((l, i) => l.init(keys[i]!)) };
    },
    apply: (params, x) => {
      const ps = (params as MlpParams | null)?.layers;
      if (!Array.isArray(ps) || ps.length !== layers.length) {
        throw new ConfigError(`${op} apply: params must be { layers: [...] } with ${layers.length} layers, got ${Array.isArray(ps) ? `${ps.length} layers` : 'no layers array'}.`);
      }
      let h: Tensor = x;
      layers.forEach((l, i) => {
        h = l.apply(ps[i]!, h);
        h = i < layers.length - 1 ? act(h) : outAct(h);
      });
      return h;
    },
  };
}
