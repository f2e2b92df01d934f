import type { GpuKernel } from './common.js';
import { ELEMENTWISE_GPU_OPS, elementwiseKernel } from './elementwise.js';
import { argKernel, cumsumKernel, reduceKernel } from './reduce.js';
import { argsortKernel, scatterAddKernel, takeKernel } from './indexing.js';
import { matmulKernel } from './matmul.js';
import { choleskyKernel, slogdetKernel, solveKernel, triangularSolveKernel } from './linalg.js';
import { randomRandintKernel, randomBitsKernel, randomFoldInKernel, randomGammaKernel, randomSplitKernel, randomUniformKernel } from './random.js';
import { specialGpuKernels } from './special-functions.js';
import { broadcastToKernel, concatKernel, padKernel, sliceKernel, transposeKernel } from './shape.js';

/** The WebGPU kernel table: one entry per primitive name (the same names and params as the CPU). */
export const builtinKernels = new Map<string, GpuKernel>();

for (const op of ELEMENTWISE_GPU_OPS) builtinKernels.set(op, elementwiseKernel(op));
builtinKernels.set('reduceSum', reduceKernel('sum'));
builtinKernels.set('reduceMax', reduceKernel('max'));
builtinKernels.set('reduceMin', reduceKernel('min'));
builtinKernels.set('argmax', argKernel('argmax'));
builtinKernels.set('argmin', argKernel('argmin'));
builtinKernels.set('cumsum', cumsumKernel);
builtinKernels.set('transpose', transposeKernel);
builtinKernels.set('broadcastTo', broadcastToKernel);
builtinKernels.set('slice', sliceKernel);
builtinKernels.set('pad', padKernel);
builtinKernels.set('concat', concatKernel);
builtinKernels.set('take', takeKernel);
builtinKernels.set('scatterAdd', scatterAddKernel);
builtinKernels.set('argsort', argsortKernel);
builtinKernels.set('matmul', matmulKernel);
builtinKernels.set('cholesky', choleskyKernel);
builtinKernels.set('triangularSolve', triangularSolveKernel);
builtinKernels.set('solve', solveKernel);
builtinKernels.set('slogdet', slogdetKernel);
builtinKernels.set('randomBits', randomBitsKernel);
builtinKernels.set('randomUniform', randomUniformKernel);
builtinKernels.set('randomSplit', randomSplitKernel);
builtinKernels.set('randomFoldIn', randomFoldInKernel);
builtinKernels.set('randomGamma', randomGammaKernel);
builtinKernels.set('randomRandint', randomRandintKernel);

// special functions (lgamma, digamma, incomplete gamma/beta and inverses): their own file
for (const [op, k] of specialGpuKernels) builtinKernels.set(op, k);
