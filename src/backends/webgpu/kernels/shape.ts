import { broadcastStrides, sizeOf, splitAt, stridesOf } from '../../../shape.js';
import type { OutSpec } from '../../backend.js';
import {
  bindings,
  LINEAR_INDEX,
  MAIN_SIG,
  stridedOffsets,
  threadGrid,
  type GpuInput,
  type GpuKernel,
  type KernelContext,
} from './common.js';

/**
 * Data movement through one generic strided copy: it walks an iteration shape and reads
 * `in[inOffset + Σ idx·inStrides]` into `out[outOffset + Σ idx·outStrides]`, moving raw 32-bit
 * words (so one pipeline per rank serves float32 and int32). transpose, broadcastTo and slice are
 * strided reads into a contiguous output; pad clears the output and writes the input into a
 * window; concat writes each input into its slab.
 */

/** Drop size-1 axes and merge axes that are contiguous in both views (fewer index divisions). */
function simplify(shape: number[], inS: number[], outS: number[]): [number[], number[], number[]] {
  const s: number[] = [];
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    if (d === 1) continue;
    const k = s.length - 1;
    if (k >= 0 && a[k] === inS[i]! * d && b[k] === outS[i]! * d) {
      s[k] *= d;
      a[k] = inS[i]!;
      b[k] = outS[i]!;
    } else {
      s.push(d);
      a.push(inS[i]!);
      b.push(outS[i]!);
    }
  }
  return [s, a, b];
}

const copyShaders = new Map<number, string>();
function copyShader(rank: number): string {
  let c = copyShaders.get(rank);
  if (c) return c;
  // meta: [n, inOffset, outOffset, shape(rank), inStrides(rank), outStrides(rank)]
  c = `${bindings([
    { name: 'x', type: 'u32' },
    { name: 'y', type: 'u32', write: true },
  ])}
${MAIN_SIG()} {
  ${LINEAR_INDEX()}
  if (gi >= mt[0]) { return; }
  ${stridedOffsets(rank, 'gi', '3u', [
    { name: 'io', at: `${3 + rank}u` },
    { name: 'oo', at: `${3 + 2 * rank}u` },
  ])}
  y[mt[2] + oo] = x[mt[1] + io];
}`;
  copyShaders.set(rank, c);
  return c;
}

export function stridedCopy(
  ctx: KernelContext,
  src: GPUBuffer,
  dst: GPUBuffer,
  shape: readonly number[],
  inStrides: readonly number[],
  inOffset: number,
  outStrides: readonly number[],
  outOffset: number,
): void {
  const n = sizeOf(shape);
  if (n === 0) return;
  const [s, a, b] = simplify([...shape], [...inStrides], [...outStrides]);
  // a plain contiguous block: a buffer copy
  if (s.length <= 1 && (s.length === 0 || (a[0] === 1 && b[0] === 1))) {
    ctx.copy(src, inOffset * 4, dst, outOffset * 4, n * 4);
    return;
  }
  ctx.dispatch(copyShader(s.length), [src, dst], ['r', 'w'], [n, inOffset, outOffset, ...s, ...a, ...b], threadGrid(n));
}

export const transposeKernel: GpuKernel<{ perm: number[] }> = (ctx, [x], p, outs) => {
  const out = ctx.output(outs[0]!);
  const st = stridesOf(x!.shape);
  const os = outs[0]!.shape;
  stridedCopy(ctx, x!.buffer, out.buffer, os, p.perm.map((i) => st[i]!), 0, stridesOf(os), 0);
  return [out];
};

export const broadcastToKernel: GpuKernel = (ctx, [x], _p, outs) => {
  const os = outs[0]!.shape;
  const out = ctx.output(outs[0]!);
  stridedCopy(ctx, x!.buffer, out.buffer, os, broadcastStrides(x!.shape, os), 0, stridesOf(os), 0);
  return [out];
};

export const sliceKernel: GpuKernel<{ starts: number[]; sizes: number[] }> = (ctx, [x], p, outs) => {
  const out = ctx.output(outs[0]!);
  const st = stridesOf(x!.shape);
  const off = p.starts.reduce((s, v, i) => s + v * st[i]!, 0);
  stridedCopy(ctx, x!.buffer, out.buffer, p.sizes, st, off, stridesOf(p.sizes), 0);
  return [out];
};

export const padKernel: GpuKernel<{ lo: number[] }> = (ctx, [x], p, outs) => {
  const spec: OutSpec = outs[0]!;
  const out = ctx.output(spec);
  const n = sizeOf(spec.shape);
  if (n === 0) return [out];
  ctx.clear(out.buffer, n * 4);
  const os = stridesOf(spec.shape);
  const off = p.lo.reduce((s, v, i) => s + v * os[i]!, 0);
  stridedCopy(ctx, x!.buffer, out.buffer, x!.shape, stridesOf(x!.shape), 0, os, off);
  return [out];
};

export const concatKernel: GpuKernel<{ axis: number }> = (ctx, inputs: GpuInput[], p, outs) => {
  const spec = outs[0]!;
  const out = ctx.output(spec);
  if (sizeOf(spec.shape) === 0) return [out];
  const os = stridesOf(spec.shape);
  const [, , inner] = splitAt(spec.shape, p.axis);
  let start = 0;
  for (const x of inputs) {
    stridedCopy(ctx, x.buffer, out.buffer, x.shape, stridesOf(x.shape), 0, os, start * inner);
    start += x.shape[p.axis]!;
  }
  return [out];
};
