import type { Tensor } from '../tensor.js';
import type { FloatDType } from '../dtype.js';
import { mul } from '../autodiff/ops/elementwise.js';
import { normal, uniform } from '../random.js';
import { ConfigError } from '../errors.js';
import { describeValue } from '../validate.js';

/** A weight initialiser: (key, [fanIn, fanOut], dtype) → Tensor of that shape. */
export type Initializer = (key: Tensor, shape: readonly [number, number], dtype: FloatDType) => Tensor;
/** The named weight initialisers of `initializers`. */
export type InitName = 'glorotUniform' | 'heNormal' | 'lecunNormal';

/**
 * The variance-scaling schemes, written for a weight w of shape [fanIn, fanOut] used as x·w.
 * The normal ones are plain (untruncated) normals: the stated std is the actual std.
 */
export const initializers: Record<InitName, Initializer> = {
  /** U(−a, a), a = √(6/(fanIn + fanOut)): variance 2/(fanIn + fanOut), keeps tanh layers' signal scale both ways */
  glorotUniform: (key, [fi, fo], dtype) => {
    const a = Math.sqrt(6 / (fi + fo));
    return uniform(key, [fi, fo], { dtype, minval: -a, maxval: a });
  },
  /** N(0, 2/fanIn): relu halves the second moment, the factor 2 restores it */
  heNormal: (key, [fi, fo], dtype) => mul(normal(key, [fi, fo], { dtype }), Math.sqrt(2 / fi)),
  /** N(0, 1/fanIn): unit-variance pre-activations for unit-variance inputs */
  lecunNormal: (key, [fi, fo], dtype) => mul(normal(key, [fi, fo], { dtype }), Math.sqrt(1 / fi)),
};

export function resolveInit(op: string, init: unknown): Initializer {
  if (typeof init === 'function') return init as Initializer;
  if (typeof init === 'string' && init in initializers) return initializers[init as InitName];
  throw new ConfigError(`${op}: unknown init ${describeValue(init)} (use ${Object.keys(initializers).map((k) => `'${k}'`).join(', ')} or a function (key, shape, dtype) => Tensor).`);
}
