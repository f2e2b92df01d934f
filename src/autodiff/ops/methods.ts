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
  add(y: TensorLike): Tensor;
  sub(y: TensorLike): Tensor;
  mul(y: TensorLike): Tensor;
  div(y: TensorLike): Tensor;
  pow(y: TensorLike): Tensor;
  maximum(y: TensorLike): Tensor;
  minimum(y: TensorLike): Tensor;
  equal(y: TensorLike): Tensor;
  notEqual(y: TensorLike): Tensor;
  less(y: TensorLike): Tensor;
  lessEqual(y: TensorLike): Tensor;
  greater(y: TensorLike): Tensor;
  greaterEqual(y: TensorLike): Tensor;
  neg(): Tensor;
  exp(): Tensor;
  log(): Tensor;
  log1p(): Tensor;
  expm1(): Tensor;
  sqrt(): Tensor;
  rsqrt(): Tensor;
  square(): Tensor;
  abs(): Tensor;
  sign(): Tensor;
  sin(): Tensor;
  cos(): Tensor;
  tanh(): Tensor;
  sigmoid(): Tensor;
  softplus(): Tensor;
  logSigmoid(): Tensor;
  relu(): Tensor;
  erf(): Tensor;
  floor(): Tensor;
  reciprocal(): Tensor;
  clip(lo: TensorLike, hi: TensorLike): Tensor;
  astype(dtype: DType): Tensor;
  sum(opts?: rd.AxisOptions): Tensor;
  mean(opts?: rd.AxisOptions): Tensor;
  max(opts?: rd.AxisOptions): Tensor;
  min(opts?: rd.AxisOptions): Tensor;
  logsumexp(opts?: rd.AxisOptions): Tensor;
  argmax(opts?: { axis?: number; keepdims?: boolean }): Tensor;
  argmin(opts?: { axis?: number; keepdims?: boolean }): Tensor;
  cumsum(opts?: { axis?: number; reverse?: boolean }): Tensor;
  softmax(opts?: { axis?: number }): Tensor;
  logSoftmax(opts?: { axis?: number }): Tensor;
  reshape(shape: readonly number[]): Tensor;
  transpose(perm?: readonly number[]): Tensor;
  readonly T: Tensor;
  readonly mT: Tensor;
  broadcastTo(shape: readonly number[]): Tensor;
  expandDims(axis: number): Tensor;
  squeeze(axis?: number | number[]): Tensor;
  flatten(): Tensor;
  slice(starts: readonly number[], sizes?: readonly number[]): Tensor;
  take(indices: Tensor, axis?: number): Tensor;
  matmul(y: Tensor): Tensor;
  stopGradient(): Tensor;
  sort(opts?: { axis?: number; descending?: boolean }): Tensor;
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
