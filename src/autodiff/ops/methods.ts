import { Tensor } from '../../tensor.js';
import type { DType } from '../../dtype.js';
import * as ew from './elementwise.js';
import * as rd from './reduce.js';
import * as sh from './shape.js';
import * as ix from './indexing.js';
import { matmul } from './matmul.js';
import { stopGradient } from './special.js';
import type { TensorLike } from './util.js';

/** Method sugar on Tensor (x.add(y), x.sum({ axis: 0 })): each is the function of the same name. */
export interface TensorMethods {
  /** `bt.add(this, y)`. */
  add(y: TensorLike): Tensor;
  /** `bt.sub(this, y)`. */
  sub(y: TensorLike): Tensor;
  /** `bt.mul(this, y)`. */
  mul(y: TensorLike): Tensor;
  /** `bt.div(this, y)`. */
  div(y: TensorLike): Tensor;
  /** `bt.pow(this, y)`. */
  pow(y: TensorLike): Tensor;
  /** `bt.maximum(this, y)`. */
  maximum(y: TensorLike): Tensor;
  /** `bt.minimum(this, y)`. */
  minimum(y: TensorLike): Tensor;
  /** `bt.equal(this, y)`. */
  equal(y: TensorLike): Tensor;
  /** `bt.notEqual(this, y)`. */
  notEqual(y: TensorLike): Tensor;
  /** `bt.less(this, y)`. */
  less(y: TensorLike): Tensor;
  /** `bt.lessEqual(this, y)`. */
  lessEqual(y: TensorLike): Tensor;
  /** `bt.greater(this, y)`. */
  greater(y: TensorLike): Tensor;
  /** `bt.greaterEqual(this, y)`. */
  greaterEqual(y: TensorLike): Tensor;
  /** `bt.neg(this)`. */
  neg(): Tensor;
  /** `bt.exp(this)`. */
  exp(): Tensor;
  /** `bt.log(this)`. */
  log(): Tensor;
  /** `bt.log1p(this)`. */
  log1p(): Tensor;
  /** `bt.expm1(this)`. */
  expm1(): Tensor;
  /** `bt.sqrt(this)`. */
  sqrt(): Tensor;
  /** `bt.rsqrt(this)`. */
  rsqrt(): Tensor;
  /** `bt.square(this)`. */
  square(): Tensor;
  /** `bt.abs(this)`. */
  abs(): Tensor;
  /** `bt.sign(this)`. */
  sign(): Tensor;
  /** `bt.sin(this)`. */
  sin(): Tensor;
  /** `bt.cos(this)`. */
  cos(): Tensor;
  /** `bt.tanh(this)`. */
  tanh(): Tensor;
  /** `bt.sigmoid(this)`. */
  sigmoid(): Tensor;
  /** `bt.softplus(this)`. */
  softplus(): Tensor;
  /** `bt.logSigmoid(this)`. */
  logSigmoid(): Tensor;
  /** `bt.relu(this)`. */
  relu(): Tensor;
  /** `bt.erf(this)`. */
  erf(): Tensor;
  /** `bt.floor(this)`. */
  floor(): Tensor;
  /** `bt.reciprocal(this)`. */
  reciprocal(): Tensor;
  /** `bt.clip(this, lo, hi)`. */
  clip(lo: TensorLike, hi: TensorLike): Tensor;
  /** `bt.cast(this, dtype)`: this tensor converted to `dtype`. */
  astype(dtype: DType): Tensor;
  /** `bt.sum(this, opts)`. */
  sum(opts?: rd.AxisOptions): Tensor;
  /** `bt.mean(this, opts)`. */
  mean(opts?: rd.AxisOptions): Tensor;
  /** `bt.max(this, opts)`. */
  max(opts?: rd.AxisOptions): Tensor;
  /** `bt.min(this, opts)`. */
  min(opts?: rd.AxisOptions): Tensor;
  /** `bt.logsumexp(this, opts)`. */
  logsumexp(opts?: rd.AxisOptions): Tensor;
  /** `bt.argmax(this, opts)`. */
  argmax(opts?: { axis?: number; keepdims?: boolean }): Tensor;
  /** `bt.argmin(this, opts)`. */
  argmin(opts?: { axis?: number; keepdims?: boolean }): Tensor;
  /** `bt.cumsum(this, opts)`. */
  cumsum(opts?: { axis?: number; reverse?: boolean }): Tensor;
  /** `bt.softmax(this, opts)`. */
  softmax(opts?: { axis?: number }): Tensor;
  /** `bt.logSoftmax(this, opts)`. */
  logSoftmax(opts?: { axis?: number }): Tensor;
  /** `bt.reshape(this, shape)`. */
  reshape(shape: readonly number[]): Tensor;
  /** `bt.transpose(this, perm)`. */
  transpose(perm?: readonly number[]): Tensor;
  /** The transpose with all axes reversed: `bt.transpose(this)`. */
  readonly T: Tensor;
  /** The matrix transpose of the last two axes: `bt.mT(this)`. */
  readonly mT: Tensor;
  /** `bt.broadcastTo(this, shape)`. */
  broadcastTo(shape: readonly number[]): Tensor;
  /** `bt.expandDims(this, axis)`. */
  expandDims(axis: number): Tensor;
  /** `bt.squeeze(this, axis)`. */
  squeeze(axis?: number | number[]): Tensor;
  /** `bt.flatten(this)`. */
  flatten(): Tensor;
  /** `bt.slice(this, starts, sizes)`. */
  slice(starts: readonly number[], sizes?: readonly number[]): Tensor;
  /** `bt.take(this, indices, axis)`. */
  take(indices: Tensor, axis?: number): Tensor;
  /** `bt.matmul(this, y)`. */
  matmul(y: Tensor): Tensor;
  /** `bt.stopGradient(this)`. */
  stopGradient(): Tensor;
  /** `bt.sort(this, opts)`. */
  sort(opts?: { axis?: number; descending?: boolean }): Tensor;
  /** `bt.argsort(this, opts)`. */
  argsort(opts?: { axis?: number; descending?: boolean }): Tensor;
}

const proto = Tensor.prototype as unknown as Record<string, unknown>;
const binary = { add: ew.add, sub: ew.sub, mul: ew.mul, div: ew.div, pow: ew.pow, maximum: ew.maximum, minimum: ew.minimum, equal: ew.equal, notEqual: ew.notEqual, less: ew.less, lessEqual: ew.lessEqual, greater: ew.greater, greaterEqual: ew.greaterEqual };
for (const [name, fn] of Object.entries(binary)) proto[name] = function (this: Tensor, y: TensorLike) { return fn(this, y); };
const unary = { neg: ew.neg, exp: ew.exp, log: ew.log, log1p: ew.log1p, expm1: ew.expm1, sqrt: ew.sqrt, rsqrt: ew.rsqrt, square: ew.square, abs: ew.abs, sign: ew.sign, sin: ew.sin, cos: ew.cos, tanh: ew.tanh, sigmoid: ew.sigmoid, softplus: ew.softplus, logSigmoid: ew.logSigmoid, relu: ew.relu, erf: ew.erf, floor: ew.floor, reciprocal: ew.reciprocal, stopGradient, flatten: sh.flatten };
for (const [name, fn] of Object.entries(unary)) proto[name] = function (this: Tensor) { return fn(this); };
const withArgs: Record<string, (x: Tensor, ...a: any[]) => Tensor> = {
  clip: ew.clip, astype: ew.cast, sum: rd.sum, mean: rd.mean, max: rd.max, min: rd.min, logsumexp: rd.logsumexp, argmax: rd.argmax, argmin: rd.argmin, cumsum: rd.cumsum, softmax: rd.softmax, logSoftmax: rd.logSoftmax,
  reshape: sh.reshape, transpose: sh.transpose, broadcastTo: sh.broadcastTo, expandDims: sh.expandDims, squeeze: sh.squeeze, slice: sh.slice, take: ix.take, matmul, sort: ix.sort, argsort: ix.argsort,
};
for (const [name, fn] of Object.entries(withArgs)) proto[name] = function (this: Tensor, ...a: any[]) { return fn(this, ...a); };
Object.defineProperty(Tensor.prototype, 'T', { get(this: Tensor) { return sh.transpose(this); } });
Object.defineProperty(Tensor.prototype, 'mT', { get(this: Tensor) { return sh.mT(this); } });
