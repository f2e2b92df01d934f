/** bayestape: the public surface (re-exports only). */
import { registerBackend } from './backends/backend.js';
import { CpuBackend } from './backends/cpu/index.js';
import { createWebGPUBackend } from './backends/webgpu/index.js';
import './autodiff/ops/methods.js';

registerBackend('cpu', () => new CpuBackend());
registerBackend('webgpu', () => createWebGPUBackend());

export { Tensor, type NestedArray } from './tensor.js';
export type { DType, FloatDType, TypedArray } from './dtype.js';
export type { Shape } from './shape.js';
export { ShapeError, DTypeError, BackendError, ConfigError, NumericalError, BayestapeError, TracerError } from './errors.js';
export { setBackend, getBackend, withBackend, registerBackend, ready, type Backend, type BackendFactory, type TensorInfo, type OutSpec } from './backends/backend.js';
export { createWebGPU, type WebGPUOptions } from './backends/webgpu/public.js';
export { tidy, keep, dispose, memory } from './memory.js';
export { toBackend, type ToBackendOptions } from './transfer.js';

export { tensor, zeros, ones, full, eye, arange, linspace, zerosLike, onesLike, type TensorOptions } from './autodiff/ops/creation.js';
export {
  add, sub, mul, div, pow, neg, exp, log, log1p, expm1, sqrt, rsqrt, square, reciprocal, abs, sign, sin, cos, tanh, sigmoid,
  softplus, logSigmoid, logaddexp, relu, erf, erfinv, ndtri, floor, ceil, round, maximum, minimum, atan2, clip, where, cast,
  equal, notEqual, less, lessEqual, greater, greaterEqual, isFinite, isNan,
} from './autodiff/ops/elementwise.js';
export { sum, mean, max, min, variance, logsumexp, softmax, logSoftmax, argmax, argmin, cumsum, logcumsumexp, type AxisOptions } from './autodiff/ops/reduce.js';
export { reshape, transpose, mT, broadcastTo, expandDims, squeeze, flatten, slice, pad, concat, stack, moveAxis } from './autodiff/ops/shape.js';
export { take, scatterAdd, takeAlongAxis, argsort, sort, diagonal, diag, triu, tril } from './autodiff/ops/indexing.js';
export { matmul, outer } from './autodiff/ops/matmul.js';
export { conv2d, convGeneralDilated, type Conv2dOptions, type ConvGeneralOptions } from './autodiff/ops/conv.js';
export { stopGradient } from './autodiff/ops/special.js';
export { lgamma, digamma, polygamma, trigamma, gammainc, gammaincc, gammaincinv, betainc, betaincinv } from './autodiff/ops/special-functions.js';

export { grad, valueAndGrad, vjp, type GradOptions, type Pullback } from './autodiff/reverse.js';
export { jvp } from './autodiff/forward.js';
export { vmap, type VmapOptions } from './autodiff/batching.js';
export { jacrev, jacfwd, hessian, hvp, type JacobianOptions } from './autodiff/jacobian.js';
export { customVjp, customJvp } from './autodiff/custom.js';
export { definePrimitive, type PrimitiveSpec, type UserOp } from './autodiff/define.js';
export type { Primitive, Aval, CpuKernel, CpuInput, Cotangent } from './autodiff/primitive.js';
export type { TensorLike } from './autodiff/ops/util.js';

export * as linalg from './linalg.js';
export * as tree from './tree.js';
export * as random from './random.js';
export * as optim from './optim/index.js';
export * as nn from './nn/index.js';
export * as logpdf from './logpdf/index.js';
export * as sgmcmc from './algorithms/sgmcmc/index.js';
export * as vi from './algorithms/vi/index.js';
export * as gmmvi from './algorithms/gmmvi/index.js';
export * as loop from './algorithms/loop/index.js';
export * as ns from './algorithms/nested-sampling/index.js';
export * as em from './algorithms/evidence-maximisation/index.js';
export * as simulators from './simulators/index.js';
export * as distributions from './distributions/index.js';
export * as flows from './flows/index.js';
export * as diagnostics from './diagnostics/index.js';
export { jit, type JitOptions, type JitCacheInfo, type Jitted } from './jit/jit.js';
export type { JitOption } from './jit/step.js';
export * as imnn from './algorithms/imnn/index.js';
