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
import { bindings, LINEAR_INDEX, MAIN_SIG, stridedOffsets, withHelpers, wgslType } from './kernels/common.js';
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
  const meta: number[] = [w.n];
  for (let d = 0; d < rank; d++) meta.push(outShape[d]!);
  const strided: { l: Load; i: number }[] = [];
  for (let i = 0; i < loads.length; i++) {
    const l = loads[i]!;
    if (l.mode !== MODE_B) continue;
    strided.push({ l, i });
    for (const st of l.strides) meta.push(st);
  }
  key.push(rank, dtypeCode(root.dtype));
  for (const d of bufferDtypes) key.push(dtypeCode(d));
  const code = fusedCode(key, () => {
    const decls = [
      ...bufferDtypes.map((d, b) => ({ name: `x${b}`, type: wgslType(d) })),
      { name: 'y', type: wgslType(root.dtype), write: true },
    ];
    const offs = strided.length
      ? stridedOffsets(rank, 'gi', '1u', strided.map((s, k) => ({ name: `o${s.i}`, at: `${1 + rank * (k + 1)}u` })))
      : '';
    const loadLines = loads.map((l, i) => `let l${i} = x${l.bind}[${l.mode === MODE_C ? 'gi' : l.mode === MODE_S ? '0u' : `o${i}`}];`);
    const lets = order.map(({ node, args }, i) => {
      // broadcastTo is the identity on its leaf: the leaf's own load does the index map
      const table = node.op === 'broadcastTo' ? 'a0' : expressionFor(node.op, node.args.map((a) => a.dtype), node.dtype);
      return `let v${i} = ${table.replace(/\ba([0-2])\b/g, (_, k: string) => `(${refName(args[+k]!)})`)};`;
    });
    return withHelpers(
      `${bindings(decls)}
${MAIN_SIG()} {
  ${LINEAR_INDEX()}
  if (gi >= mt[0]) { return; }
  ${offs}
  ${loadLines.join('\n  ')}
  ${lets.join('\n  ')}
  y[gi] = ${refName(out)};
}`,
      F32_MATH,
    );
  });
  return { code, buffers, meta };
}

/** How a leaf is loaded: at the output's index (same size), its only element, or through broadcast strides. */
const MODE_C = 0;
const MODE_S = 1;
const MODE_B = 2;
type Load = { bind: number; shape: readonly number[]; mode: number; strides: number[] };

/** A value in the kernel: load i is −1 − i, node i is i. */
const refName = (r: number) => (r < 0 ? `l${-1 - r}` : `v${r}`);

const dtypeCode = (d: DType) => (d === 'float32' ? 0 : d === 'int32' ? 1 : 2);

/** small integer ids of op names (the key holds numbers, so looking a kernel up builds no string) */
const opIds = new Map<string, number>();
const opId = (op: string) => {
  let id = opIds.get(op);
  if (id === undefined) opIds.set(op, (id = opIds.size));
  return id;
};

/** WGSL of fused kernels by their numeric structure key (hash buckets; first in, first out beyond FUSED_CACHE) */
const fusedCache = new Map<number, { key: number[]; code: string }[]>();
let fusedCached = 0;
const FUSED_CACHE = 4096;

function fusedCode(key: number[], make: () => string): string {
  let h = key.length;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key[i]!, 0x9e3779b1) ^ (h >>> 15);
  let bucket = fusedCache.get(h);
  if (bucket) {
    outer: for (const e of bucket) {
      const k = e.key;
      if (k.length !== key.length) continue;
      for (let i = 0; i < k.length; i++) if (k[i] !== key[i]) continue outer;
      return e.code;
    }
  }
  const code = make();
  if (fusedCached >= FUSED_CACHE) {
    const [oldest] = fusedCache.keys();
    fusedCached -= fusedCache.get(oldest!)!.length;
    fusedCache.delete(oldest!);
    if (oldest === h) bucket = undefined;
  }
  if (!bucket) fusedCache.set(h, (bucket = []));
  bucket.push({ key, code });
  fusedCached++;
  return code;
}

/**
 * One pass over the DAG: distinct buffers, loads and nodes in evaluation order, and the kernel's
 * structure as a list of numbers (its cache key). No WGSL here: that is written only when the key
 * is new.
 */
class Walk {
  readonly n: number;
  readonly buffers: GPUBuffer[] = [];
  readonly bufferDtypes: DType[] = [];
  readonly loads: Load[] = [];
  readonly order: { node: FusedNode; args: number[] }[] = [];
  readonly key: number[] = [];
  private readonly refs = new Map<FusedExpr, number>();

  constructor(private readonly outShape: readonly number[]) {
    this.n = sizeOf(outShape);
  }

  visit(e: FusedExpr): number {
    const seen = this.refs.get(e);
    if (seen !== undefined) return seen;
    const ref = e.kind === 'leaf' ? this.leaf(e) : this.node(e);
    this.refs.set(e, ref);
    return ref;
  }

  private leaf(e: FusedLeaf): number {
    const buffers = this.buffers;
    let bind = buffers.indexOf(e.buffer);
    if (bind < 0) {
      bind = buffers.length;
      buffers.push(e.buffer);
      this.bufferDtypes.push(e.dtype);
    }
    // each (buffer, shape) is loaded once
    const loads = this.loads;
    for (let i = 0; i < loads.length; i++) {
      const l = loads[i]!;
      if (l.bind === bind && sameShape(l.shape, e.shape)) return -1 - i;
    }
    const size = sizeOf(e.shape);
    const mode = size === this.n ? MODE_C : size === 1 ? MODE_S : MODE_B;
    loads.push({ bind, shape: e.shape, mode, strides: mode === MODE_B ? broadcastStrides(e.shape, this.outShape) : [] });
    this.key.push(-1, bind, mode);
    return -loads.length;
  }

  private node(e: FusedNode): number {
    const args: number[] = [];
    const key = this.key;
    for (const a of e.args) args.push(this.visit(a));
    key.push(-2, opId(e.op), dtypeCode(e.dtype), args.length);
    for (let i = 0; i < args.length; i++) key.push(args[i]!, dtypeCode(e.args[i]!.dtype));
    this.order.push({ node: e, args });
    return this.order.length - 1;
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
