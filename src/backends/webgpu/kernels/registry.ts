import type { GpuKernel } from './common.js';
import { elementwiseKernel } from './elementwise.js';
import { ELEMENTWISE_OPS, type ElementwiseOp, type KernelOp } from '../../../autodiff/builtins.js';
import { argKernel, cumsumKernel, reduceKernel } from './reduce.js';
import { argsortKernel, scatterAddKernel, takeKernel } from './indexing.js';
import { matmulKernel } from './matmul.js';
import { conv2dKernel } from './conv.js';
import { choleskyKernel, slogdetKernel, solveKernel, triangularSolveKernel } from './linalg.js';
import { randomRandintKernel, randomBitsKernel, randomFoldInKernel, randomGammaKernel, randomSplitKernel, randomUniformKernel } from './random.js';
import { specialGpuKernels } from './special-functions.js';
import { broadcastToKernel, concatKernel, padKernel, sliceKernel, transposeKernel } from './shape.js';

/** The WebGPU kernel table: total over the built-in ops, with the CPU's names and params (a missing kernel is a compile error). */
export const builtinKernels: Record<KernelOp, GpuKernel> = {
  ...(Object.fromEntries(ELEMENTWISE_OPS.map((op) => [op, elementwiseKernel(op)])) as Record<ElementwiseOp, GpuKernel>),
  // special functions (lgamma, digamma, incomplete gamma/beta and inverses): their own file
  ...specialGpuKernels,
  reduceSum: reduceKernel('sum'),
  reduceMax: reduceKernel('max'),
  reduceMin: reduceKernel('min'),
  argmax: argKernel('argmax'),
  argmin: argKernel('argmin'),
  cumsum: cumsumKernel,
  transpose: transposeKernel,
  broadcastTo: broadcastToKernel,
  slice: sliceKernel,
  pad: padKernel,
  concat: concatKernel,
  take: takeKernel,
  scatterAdd: scatterAddKernel,
  argsort: argsortKernel,
  matmul: matmulKernel,
  conv2d: conv2dKernel,
  cholesky: choleskyKernel,
  triangularSolve: triangularSolveKernel,
  solve: solveKernel,
  slogdet: slogdetKernel,
  randomBits: randomBitsKernel,
  randomUniform: randomUniformKernel,
  randomSplit: randomSplitKernel,
  randomFoldIn: randomFoldInKernel,
  randomGamma: randomGammaKernel,
  randomRandint: randomRandintKernel,
};
