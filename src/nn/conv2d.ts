import { Tensor } from '../tensor.js';
import type { FloatDType } from '../dtype.js';
import { add } from '../autodiff/ops/elementwise.js';
import { mean } from '../autodiff/ops/reduce.js';
import { conv2d as conv, type Conv2dOptions } from '../autodiff/ops/conv.js';
import { reshape } from '../autodiff/ops/shape.js';
import { defaultFloat, zeros } from '../autodiff/ops/creation.js';
import { ConfigError, ShapeError } from '../errors.js';
import { fmtShape } from '../shape.js';
import { checkBoolean, checkNumber, describeValue, requireOptions } from '../validate.js';
import { checkKey } from '../random.js';
import { resolveInit, type InitName, type Initializer } from './initializers.js';
import { checkDType } from './dense.js';
import type { Module } from './types.js';

/** Parameters of a conv2d layer: filter HWIO [kh, kw, inFeatures, features] and optional bias [features]. */
export interface Conv2dParams {
  w: Tensor;
  b?: Tensor;
}

/** Options of `nn.conv2d`. */
export interface Conv2dLayerOptions extends Conv2dOptions {
  inFeatures: number;
  /** output channels */
  features: number;
  kernelSize: [number, number];
  /** filter initialiser, called with the matrix shape [kh·kw·inFeatures, features]; default 'glorotUniform' */
  init?: InitName | Initializer;
  /** default true */
  bias?: boolean;
  dtype?: FloatDType;
}

/**
 * A convolution layer y = conv2d(x, w) + b on NHWC inputs [N, H, W, inFeatures] (bt.conv2d's
 * strides and 'SAME'/'VALID' padding, default 'SAME'), as flax.linen.Conv / stax.Conv.
 */
export function conv2d(opts: Conv2dLayerOptions): Module<Conv2dParams> {
  const op = 'nn.conv2d';
  requireOptions(op, opts, ['inFeatures', 'features', 'kernelSize', 'strides', 'padding', 'init', 'bias', 'dtype']);
  const cin = checkNumber(op, 'inFeatures', opts.inFeatures, { min: 1, integer: true });
  const cout = checkNumber(op, 'features', opts.features, { min: 1, integer: true });
  const ks = opts.kernelSize;
  if (!Array.isArray(ks) || ks.length !== 2 || !ks.every((k) => Number.isInteger(k) && k >= 1)) throw new ConfigError(`${op}: kernelSize must be [kh, kw] positive integers, got ${describeValue(ks)}.`);
  const init = resolveInit(op, opts.init ?? 'glorotUniform');
  const bias = checkBoolean(op, 'bias', opts.bias ?? true);
  const dtype = checkDType(op, opts.dtype);
  const cv: Conv2dOptions = { strides: opts.strides ?? [1, 1], padding: opts.padding ?? 'SAME' };
  const wShape = [ks[0], ks[1], cin, cout];
  return {
    init: (key) => {
      checkKey(`${op} init`, key);
      const dt = (dtype ?? defaultFloat()) as FloatDType;
      // the initialiser sees the filter as the matrix [kh·kw·inFeatures, features] it multiplies by
      const w2 = init(key, [ks[0] * ks[1] * cin, cout], dt);
      if (!(w2 instanceof Tensor) || w2.size !== ks[0] * ks[1] * cin * cout) throw new ShapeError(`${op} init: the initialiser must return a Tensor [${ks[0] * ks[1] * cin}, ${cout}].`);
      const w = reshape(w2, wShape);
      return bias ? { w, b: zeros([cout], dt) } : { w };
    },
    apply: (params, x) => {
      if (!params || !(params.w instanceof Tensor)) throw new ConfigError(`${op} apply: params must be { w${bias ? ', b' : ''} } with Tensor leaves, got ${describeValue(params)}.`);
      if (!(x instanceof Tensor) || x.ndim !== 4 || x.shape[3] !== cin) throw new ShapeError(`${op} apply: x must be NHWC [N, H, W, ${cin}], got ${x instanceof Tensor ? fmtShape(x.shape) : describeValue(x)}.`);
      const y = conv(x, params.w, cv);
      return bias ? add(y, params.b!) : y;
    },
  };
}

/** Mean over the spatial axes of an NHWC tensor: [N, H, W, C] → [N, C]. */
export function globalAveragePool(x: Tensor): Tensor {
  if (!(x instanceof Tensor) || x.ndim !== 4) throw new ShapeError(`globalAveragePool: x must be NHWC [N, H, W, C], got ${x instanceof Tensor ? fmtShape(x.shape) : describeValue(x)}.`);
  return mean(x, { axis: [1, 2] });
}
