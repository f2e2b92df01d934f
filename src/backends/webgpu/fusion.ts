/**
 * Elementwise fusion: the code generator. An elementwise op on WebGPU does not dispatch at once;
 * its result is an expression over its inputs (a DAG of `FusedNode`s whose leaves are computed
 * buffers). An elementwise consumer of the same size inlines that expression instead of reading
 * a buffer, so chains such as tanh(x·W + b), or (1 − y²)·g in the backward pass, become one
 * kernel. broadcastTo joins as the identity on a leaf read with broadcast strides. The backend (backend.ts) decides when an expression is computed; this file only turns
 * one into WGSL, a cache key, its buffers and its metadata.
 */
import type { DType } from '../../dtype.js';
import { bindings, broadcastStrides, LINEAR_INDEX, MAIN_SIG, memoCode, sizeOf, stridedOffsets, withHelpers, wgslType } from './kernels/common.js';
import { expressionFor, F32_MATH } from './kernels/elementwise.js';

/** A computed buffer read by a fused kernel, with the shape it is read as (it broadcasts to the output). */
export interface FusedLeaf {
  readonly kind: 'leaf';
  readonly buffer: GPUBuffer;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

export interface FusedNode {
  readonly kind: 'node';
  readonly op: string;
  readonly args: readonly FusedExpr[];
  readonly dtype: DType;
  /** nodes in this expression, counting shared ones once per use (a bound on the kernel's size) */
  readonly weight: number;
}

export type FusedExpr = FusedLeaf | FusedNode;

export interface FusedKernel {
  code: string;
  /** distinct leaf buffers, bound 0..k-1 (read-only); the output binds at k */
  buffers: GPUBuffer[];
  meta: number[];
}

/**
 * The kernel that writes `root` (whose output has `outShape`) into a fresh buffer. Each distinct
 * buffer binds once; each (buffer, shape) is loaded once; each node is computed once (a `let`),
 * however often the DAG uses it.
 */
export function fusedKernel(root: FusedNode, outShape: readonly number[]): FusedKernel {
  const n = sizeOf(outShape);
  const rank = outShape.length;
  const buffers: GPUBuffer[] = [];
  const bufferIndex = new Map<GPUBuffer, number>();
  const loads: { bind: number; dtype: DType; mode: 'c' | 's' | 'b'; strides: number[] }[] = [];
  const loadIndex = new Map<GPUBuffer, Map<string, number>>();
  const names = new Map<FusedExpr, string>();
  const lets: string[] = [];
  const key: string[] = [];
  let nodes = 0;

  const visit = (e: FusedExpr): string => {
    const seen = names.get(e);
    if (seen) return seen;
    let name: string;
    if (e.kind === 'leaf') {
      let bind = bufferIndex.get(e.buffer);
      if (bind === undefined) {
        bind = buffers.length;
        buffers.push(e.buffer);
        bufferIndex.set(e.buffer, bind);
      }
      const shapeKey = e.shape.join(',');
      let byShape = loadIndex.get(e.buffer);
      if (!byShape) loadIndex.set(e.buffer, (byShape = new Map()));
      let li = byShape.get(shapeKey);
      if (li === undefined) {
        li = loads.length;
        const size = sizeOf(e.shape);
        const mode = size === n ? 'c' : size === 1 ? 's' : 'b';
        loads.push({ bind, dtype: e.dtype, mode, strides: mode === 'b' ? broadcastStrides(e.shape, outShape) : [] });
        byShape.set(shapeKey, li);
        key.push(`L${bind}${e.dtype[0]}${mode}`);
      }
      name = `l${li}`;
    } else {
      const args = e.args.map(visit);
      // broadcastTo is the identity on its leaf: the leaf's own load does the index map
      const table = e.op === 'broadcastTo' ? 'a0' : expressionFor(e.op, e.args.map((a) => a.dtype), e.dtype);
      const expr = table.replace(/\ba([0-2])\b/g, (_, i: string) => `(${args[+i]})`);
      name = `v${nodes++}`;
      lets.push(`let ${name} = ${expr};`);
      key.push(`N${e.op}:${e.args.map((a) => a.dtype[0]).join('')}${e.dtype[0]}(${args.join(',')})`);
    }
    names.set(e, name);
    return name;
  };
  const out = visit(root);

  const strided = loads.map((l, i) => ({ l, i })).filter((x) => x.l.mode === 'b');
  const meta: number[] = [n, ...outShape];
  for (const s of strided) meta.push(...s.l.strides);
  const dtypes = new Map(loads.map((l) => [l.bind, l.dtype] as const));
  const code = memoCode(`fuse|${rank}|${root.dtype}|${buffers.map((_, b) => dtypes.get(b)![0]).join('')}|${key.join(';')}`, () => {
    const decls = [
      ...buffers.map((_, b) => ({ name: `x${b}`, type: wgslType(dtypes.get(b)!) })),
      { name: 'y', type: wgslType(root.dtype), write: true },
    ];
    const offs = strided.length
      ? stridedOffsets(rank, 'gi', '1u', strided.map((s, k) => ({ name: `o${s.i}`, at: `${1 + rank * (k + 1)}u` })))
      : '';
    const loadLines = loads.map((l, i) => `let l${i} = x${l.bind}[${l.mode === 'c' ? 'gi' : l.mode === 's' ? '0u' : `o${i}`}];`);
    return withHelpers(
      `${bindings(decls)}
${MAIN_SIG()} {
  ${LINEAR_INDEX()}
  if (gi >= mt[0]) { return; }
  ${offs}
  ${loadLines.join('\n  ')}
  ${lets.join('\n  ')}
  y[gi] = ${out};
}`,
      F32_MATH,
    );
  });
  return { code, buffers, meta };
}
