/**
 * Elementwise fusion: the code generator. An elementwise op on WebGPU does not dispatch at once;
 * its result is an expression over its inputs (a DAG of `FusedNode`s whose leaves are computed
 * buffers). An elementwise consumer of the same size inlines that expression instead of reading
 * a buffer, so chains such as tanh(x·W + b), or (1 − y²)·g in the backward pass, become one
 * kernel. broadcastTo joins as the identity on a leaf read with broadcast strides. The backend
 * (backend.ts) decides when an expression is computed; this file only turns one into WGSL, a
 * cache key, its buffers and its metadata.
 */
import { broadcastStrides, sizeOf } from '../../shape.js';
import type { DType } from '../../dtype.js';
import { bindings, LINEAR_INDEX, MAIN_SIG, memoCode, stridedOffsets, withHelpers, wgslType } from './kernels/common.js';
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
  const w = new Walk(outShape);
  const out = w.visit(root);
  const { buffers, bufferDtypes, loads, order, key } = w;
  const rank = outShape.length;
  // metadata: [n, outShape, the strides of each broadcast load]
  const meta: number[] = [w.n, ...outShape];
  const strided: { l: Load; i: number }[] = [];
  loads.forEach((l, i) => {
    if (l.mode !== 'b') return;
    strided.push({ l, i });
    for (const st of l.strides) meta.push(st);
  });
  const code = memoCode(`fuse|${rank}|${root.dtype}|${bufferDtypes.map((d) => d[0]).join('')}|${key.join(';')}`, () => {
    const decls = [
      ...bufferDtypes.map((d, b) => ({ name: `x${b}`, type: wgslType(d) })),
      { name: 'y', type: wgslType(root.dtype), write: true },
    ];
    const offs = strided.length
      ? stridedOffsets(rank, 'gi', '1u', strided.map((s, k) => ({ name: `o${s.i}`, at: `${1 + rank * (k + 1)}u` })))
      : '';
    const loadLines = loads.map((l, i) => `let l${i} = x${l.bind}[${l.mode === 'c' ? 'gi' : l.mode === 's' ? '0u' : `o${i}`}];`);
    const lets = order.map(({ node, args }, i) => {
      // broadcastTo is the identity on its leaf: the leaf's own load does the index map
      const table = node.op === 'broadcastTo' ? 'a0' : expressionFor(node.op, node.args.map((a) => a.dtype), node.dtype);
      return `let v${i} = ${table.replace(/\ba([0-2])\b/g, (_, k: string) => `(${args[+k]})`)};`;
    });
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

type Load = { bind: number; dtype: DType; mode: 'c' | 's' | 'b'; strides: number[] };

/**
 * One pass over the DAG: distinct buffers, loads and nodes in evaluation order, and the cache key
 * of the kernel's structure. No WGSL here: that is written only when the key is new.
 */
class Walk {
  readonly n: number;
  readonly buffers: GPUBuffer[] = [];
  readonly bufferDtypes: DType[] = [];
  readonly loads: Load[] = [];
  readonly order: { node: FusedNode; args: string[] }[] = [];
  readonly key: string[] = [];
  private readonly bufferIndex = new Map<GPUBuffer, number>();
  private readonly loadIndex = new Map<GPUBuffer, Map<string, number>>();
  private readonly names = new Map<FusedExpr, string>();

  constructor(private readonly outShape: readonly number[]) {
    this.n = sizeOf(outShape);
  }

  visit(e: FusedExpr): string {
    const seen = this.names.get(e);
    if (seen) return seen;
    const name = e.kind === 'leaf' ? this.leaf(e) : this.node(e);
    this.names.set(e, name);
    return name;
  }

  private leaf(e: FusedLeaf): string {
    let bind = this.bufferIndex.get(e.buffer);
    if (bind === undefined) {
      bind = this.buffers.length;
      this.buffers.push(e.buffer);
      this.bufferDtypes.push(e.dtype);
      this.bufferIndex.set(e.buffer, bind);
    }
    const shapeKey = e.shape.join(',');
    let byShape = this.loadIndex.get(e.buffer);
    if (!byShape) this.loadIndex.set(e.buffer, (byShape = new Map()));
    let li = byShape.get(shapeKey);
    if (li === undefined) {
      li = this.loads.length;
      const size = sizeOf(e.shape);
      const mode = size === this.n ? 'c' : size === 1 ? 's' : 'b';
      this.loads.push({ bind, dtype: e.dtype, mode, strides: mode === 'b' ? broadcastStrides(e.shape, this.outShape) : [] });
      byShape.set(shapeKey, li);
      this.key.push(`L${bind}${e.dtype[0]}${mode}`);
    }
    return `l${li}`;
  }

  private node(e: FusedNode): string {
    const args: string[] = [];
    let dts = '';
    for (const a of e.args) {
      args.push(this.visit(a));
      dts += a.dtype[0];
    }
    const name = `v${this.order.length}`;
    this.order.push({ node: e, args });
    this.key.push(`N${e.op}:${dts}${e.dtype[0]}(${args.join(',')})`);
    return name;
  }
}
