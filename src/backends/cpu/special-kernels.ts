import type { SpecialOp } from '../../autodiff/builtins.js';
import type { CpuKernel } from '../../autodiff/primitive.js';
import { allocPooled } from './pool.js';
import { naryKernel } from './broadcast-loop.js';
import * as S from './special-functions.js';

/**
 * CPU kernels of the special-function primitives (src/autodiff/ops/special-functions.ts):
 * broadcasting loops over the float64 scalar functions (float32 tensors are computed in float64
 * and rounded once on store). Merged into the CPU kernel table by kernels.ts.
 */
const helpers = { ...S };

const ew = (arity: number, expr: (p: any) => string): CpuKernel => (inputs, params, outs) => {
  const o = outs[0]!;
  const out = allocPooled(o.dtype, o.shape.reduce((s, d) => s * d, 1));
  naryKernel(arity, expr(params), helpers)(inputs.map((i) => i.data), inputs.map((i) => i.shape), out, o.shape);
  return out;
};

/** name → kernel for every special-function primitive. */
export const specialCpuKernels: Record<SpecialOp, CpuKernel> = Object.fromEntries([
  ['lgamma', ew(1, () => 'lgamma(a0)')],
  ['digamma', ew(1, () => 'digamma(a0)')],
  ['polygamma', ew(1, (p: { n: number }) => `polygamma(${p.n | 0}, a0)`)],
  ['gammainc', ew(2, () => 'gammainc(a0, a1)')],
  ['gammaincc', ew(2, () => 'gammaincc(a0, a1)')],
  ['gammaincDa', ew(2, () => 'gammaincDa(a0, a1)')],
  ['gammaincDaa', ew(2, () => 'gammaincDaa(a0, a1)')],
  ['gammaincinv', ew(2, () => 'gammaincinv(a0, a1)')],
  ['betainc', ew(3, () => 'betainc(a0, a1, a2)')],
  ['betaincDa', ew(3, () => 'betaincDa(a0, a1, a2)')],
  ['betaincDb', ew(3, () => 'betaincDb(a0, a1, a2)')],
  ['betaincD2', ew(3, (p: { which: 'aa' | 'ab' | 'bb' }) => `betaincD2(a0, a1, a2, '${p.which}')`)],
  ['betaincinv', ew(3, () => 'betaincinv(a0, a1, a2)')],
] as const) as Record<SpecialOp, CpuKernel>;
