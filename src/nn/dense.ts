import { Tensor } from '../tensor.js';
import type { FloatDType } from '../dtype.js';
import { add } from '../autodiff/ops/elementwise.js';
import { matmul } from '../autodiff/ops/matmul.js';
import { zeros } from '../autodiff/ops/creation.js';
import { defaultFloat } from '../autodiff/ops/creation.js';
import { ConfigError, DTypeError, ShapeError } from '../errors.js';
import { fmtShape } from '../shape.js';
import { checkBoolean, checkNumber, describeValue, requireOptions } from '../validate.js';
import { checkKey } from '../random.js';
import { resolveInit, type InitName, type Initializer } from './initializers.js';
import type { DenseParams, Module } from './types.js';

/** Options of `dense`: sizes, initialiser, bias and dtype. */
export interface DenseOptions {
  inFeatures: number;
  outFeatures: number;
  /** weight initialiser; default 'glorotUniform'. Biases start at zero. */
  init?: InitName | Initializer;
  /** default true */
  bias?: boolean;
  /** default: the backend's float dtype at init time */
  dtype?: FloatDType;
}

export function checkDType(op: string, dtype: unknown): FloatDType | undefined {
  if (dtype === undefined || dtype === 'float64' || dtype === 'float32') return dtype;
  throw new DTypeError(`${op}: dtype must be 'float64' or 'float32', got ${describeValue(dtype)}.`);
}

/**
 * An affine layer y = x·w + b with w [in, out], b [out]; x is [..., in] and every leading axis is
 * a batch axis (matmul broadcasts), so one call serves a single input, a minibatch, or a batch of
 * minibatches (parallel chains).
 */
export function dense(opts: DenseOptions): Module<DenseParams> {
  const op = 'nn.dense';
  requireOptions(op, opts, ['inFeatures', 'outFeatures', 'init', 'bias', 'dtype']);
  const nIn = checkNumber(op, 'inFeatures', opts.inFeatures, { min: 1, integer: true });
  const nOut = checkNumber(op, 'outFeatures', opts.outFeatures, { min: 1, integer: true });
  const init = resolveInit(op, opts.init ?? 'glorotUniform');
  const bias = checkBoolean(op, 'bias', opts.bias ?? true);
  const dtype = checkDType(op, opts.dtype);
  return {
    init: (key) => {
      checkKey(`${op} init`, key);
      const dt = (dtype ?? defaultFloat()) as FloatDType;
      const w = init(key, [nIn, nOut], dt);
      if (!(w instanceof Tensor) || w.shape.length !== 2 || w.shape[0] !== nIn || w.shape[1] !== nOut) {
        throw new ShapeError(`${op} init: the initialiser must return a Tensor [${nIn}, ${nOut}], got ${w instanceof Tensor ? fmtShape(w.shape) : describeValue(w)}.`);
      }
      return bias ? { w, b: zeros([nOut], dt) } : { w };
    },
    apply: (params, x) => applyDense(op, params, x, nIn, nOut, bias),
  };
}

/** x·w + b with the checks that turn a wrong parameter tree into an error naming the shapes. */
export function applyDense(op: string, params: DenseParams, x: Tensor, nIn: number, nOut: number, bias: boolean): Tensor {
  if (params === null || typeof params !== 'object' || !(params.w instanceof Tensor)) {
    throw new ConfigError(`${op} apply: params must be { w${bias ? ', b' : ''} } with Tensor leaves, got ${describeValue(params)}.`);
  }
  if (!(x instanceof Tensor)) throw new ConfigError(`${op} apply: x must be a Tensor [..., ${nIn}], got ${describeValue(x)}.`);
  const { w, b } = params;
  if (w.ndim !== 2 || w.shape[0] !== nIn || w.shape[1] !== nOut) throw new ShapeError(`${op} apply: w must be [${nIn}, ${nOut}], got ${fmtShape(w.shape)}.`);
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== nIn) throw new ShapeError(`${op} apply: x must be [..., ${nIn}] (features last), got ${fmtShape(x.shape)}.`);
  if (x.dtype !== w.dtype) throw new DTypeError(`${op} apply: x is ${x.dtype} but the weights are ${w.dtype}; cast x with x.astype('${w.dtype}').`);
  const y = matmul(x, w);
  if (!bias) return y;
  if (!(b instanceof Tensor) || b.ndim !== 1 || b.shape[0] !== nOut) {
    throw new ShapeError(`${op} apply: b must be a Tensor [${nOut}], got ${b instanceof Tensor ? fmtShape(b.shape) : describeValue(b)}.`);
  }
  return add(y, b);
}
