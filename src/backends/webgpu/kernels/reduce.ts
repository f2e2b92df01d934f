import { sizeOf, splitAt, stridesOf } from '../../../shape.js';
import type { DType } from '../../../dtype.js';
import type { OutSpec } from '../../backend.js';
import {
  bindings,
  grid,
  LINEAR_INDEX,
  MAIN_SIG,
  memoCode,
  stridedOffsets,
  SUBGROUP_BUILTINS,
  enableSubgroups,
  threadGrid,
  workgroupSum,
  withHelpers,
  wgslType,
  type GpuHandle,
  type GpuInput,
  type GpuKernel,
} from './common.js';
import { F32_MATH } from './elementwise.js';
import { outputSums, outputsPerGroupFor, sliceCoordinates, sliceSumShader, SPLIT_WG, sumSlices } from './split-sums.js';

/**
 * Reductions over any set of axes without a transpose: kept and reduced axes are merged into
 * as few runs as possible, the output index walks the kept runs and the reduction index the
 * reduced runs (a contiguous trailing block is read directly). Small reductions run one thread
 * per output; longer ones one workgroup per output, combined by a tree in workgroup memory (sums:
 * by `workgroupSum`, through subgroups where the device has them).
 * argmax/argmin reduce (value, index) pairs: the first extreme wins, NaN counts as the extreme.
 */

type Kind = 'sum' | 'max' | 'min' | 'argmax' | 'argmin';
const TREE_WG = 128;
/** Reductions longer than this use a workgroup per output. */
const SEQ_MAX = 64;

interface Plan {
  nOut: number;
  R: number;
  keptShape: number[];
  keptStrides: number[];
  redShape: number[];
  redStrides: number[];
}

/** Merge runs of adjacent axes that are all kept or all reduced (and skip size-1 axes). */
function plan(shape: readonly number[], axes: readonly number[]): Plan {
  const strides = stridesOf(shape);
  const kept: [number, number][] = [];
  const red: [number, number][] = [];
  let prevRed: boolean | null = null;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    if (d === 1) continue;
    const isRed = axes.includes(i);
    const list = isRed ? red : kept;
    if (prevRed === isRed && list.length) {
      // merge with the previous run of the same kind: [d0, s0] + [d, s] with s0 = d * s
      const last = list[list.length - 1]!;
      last[0] *= d;
      last[1] = strides[i]!;
    } else list.push([d, strides[i]!]);
    prevRed = isRed;
  }
  let R = 1;
  for (const a of axes) R *= shape[a]!;
  let nOut = 1;
  for (const [d] of kept) nOut *= d;
  if (sizeOf(shape) === 0) nOut = shape.filter((_, i) => !axes.includes(i)).reduce((p, d) => p * d, 1);
  return {
    nOut,
    R,
    keptShape: kept.map((k) => k[0]),
    keptStrides: kept.map((k) => k[1]),
    redShape: red.map((k) => k[0]),
    redStrides: red.map((k) => k[1]),
  };
}

function combineCode(kind: Kind, t: 'f32' | 'i32'): string {
  switch (kind) {
    case 'sum':
      return 'acc = acc + v;';
    case 'max':
      return t === 'f32' ? 'acc = max_f(acc, v);' : 'acc = max(acc, v);';
    case 'min':
      return t === 'f32' ? 'acc = min_f(acc, v);' : 'acc = min(acc, v);';
    default:
      return 'if (better(v, r, acc, ai)) { acc = v; ai = r; }';
  }
}

function initCode(kind: Kind, t: 'f32' | 'i32'): string {
  if (kind === 'sum') return t === 'f32' ? '0.0' : '0';
  if (kind === 'max') return t === 'f32' ? '-inf_f()' : 'i32(-2147483647 - 1)';
  if (kind === 'min') return t === 'f32' ? 'inf_f()' : '2147483647';
  return t === 'f32' ? '0.0' : '0';
}

function betterFn(kind: Kind, t: 'f32' | 'i32'): string {
  const cmp = kind === 'argmax' ? '>' : '<';
  const nan = (x: string) => (t === 'f32' ? `isnan_f(${x})` : 'false');
  return `fn better(va: ${t}, ia: u32, vb: ${t}, ib: u32) -> bool {
  if (ib == 0xffffffffu) { return ia != 0xffffffffu; }
  if (ia == 0xffffffffu) { return false; }
  let na = ${nan('va')}; let nb = ${nan('vb')};
  if (na && nb) { return ia < ib; }
  if (na) { return true; }
  if (nb) { return false; }
  if (va ${cmp} vb) { return true; }
  return va == vb && ia < ib;
}`;
}

function shader(kind: Kind, dtype: DType, p: Plan, tree: boolean, subgroups: boolean): string {
  const t = wgslType(dtype);
  const isArg = kind === 'argmax' || kind === 'argmin';
  const outT = isArg ? 'i32' : t;
  // meta: reduceMeta(p)
  const { baseCode, offCode } = offsets(p);
  const init = initCode(kind, t);
  const emptyValue = t === 'i32' ? '0' : init; // int32 outputs of empty max/min are ToInt32(±inf) = 0 on the CPU
  const combine = combineCode(kind, t);
  const store = isArg ? 'y[o] = select(i32(ai), 0, ai == 0xffffffffu);' : 'y[o] = acc;';
  const decls = bindings([
    { name: 'x', type: t },
    { name: 'y', type: outT, write: true },
  ]);
  const helpers = isArg ? betterFn(kind, t) : '';
  let body: string;
  if (!tree) {
    body = `${decls}
${helpers}
${MAIN_SIG()} {
  ${LINEAR_INDEX()}
  let o = gi;
  if (o >= mt[0]) { return; }
  let R = mt[1];
  ${baseCode}
  var acc: ${t} = ${init};
  var ai = 0xffffffffu;
  for (var r = 0u; r < R; r = r + 1u) {
    ${offCode}
    let v = x[off];
    ${combine}
  }
  if (R == 0u) { acc = ${emptyValue}; }
  ${store}
}`;
  } else if (kind === 'sum') {
    // sums with workgroupSum: through subgroups where the device has them (max/min keep their own
    // tree: max_f/min_f propagate NaN, which subgroupMax need not)
    const sum = workgroupSum(t, TREE_WG, subgroups);
    body = `${decls}
${sum.decl}
${MAIN_SIG(TREE_WG, subgroups ? SUBGROUP_BUILTINS : '')} {
  let o = wid.x + wid.y * nwg.x;
  if (o >= mt[0]) { return; }
  let R = mt[1];
  ${baseCode}
  var acc: ${t} = ${init};
  for (var r = lid.x; r < R; r = r + ${TREE_WG}u) {
    ${offCode}
    let v = x[off];
    ${combine}
  }
  ${sum.code}
  if (lid.x == 0u) {
    acc = total;
    ${store}
  }
}`;
  } else {
    const treeCombine = isArg
      ? `if (better(sv[lid.x + s], si[lid.x + s], sv[lid.x], si[lid.x])) { sv[lid.x] = sv[lid.x + s]; si[lid.x] = si[lid.x + s]; }`
      : `sv[lid.x] = ${t === 'f32' ? `${kind}_f` : kind}(sv[lid.x], sv[lid.x + s]);`;
    body = `${decls}
${helpers}
var<workgroup> sv: array<${t}, ${TREE_WG}>;
var<workgroup> si: array<u32, ${TREE_WG}>;
${MAIN_SIG(TREE_WG)} {
  let o = wid.x + wid.y * nwg.x;
  if (o >= mt[0]) { return; }
  let R = mt[1];
  ${baseCode}
  var acc: ${t} = ${init};
  var ai = 0xffffffffu;
  for (var r = lid.x; r < R; r = r + ${TREE_WG}u) {
    ${offCode}
    let v = x[off];
    ${combine}
  }
  sv[lid.x] = acc;
  si[lid.x] = ai;
  workgroupBarrier();
  for (var s = ${TREE_WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid.x < s) { ${treeCombine} }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    acc = sv[0];
    ai = si[0];
    ${store}
  }
}`;
  }
  return enableSubgroups(withHelpers(body, F32_MATH), subgroups);
}

/** WGSL of the output's offset `base` and the term's `off` for reduction index r. */
function offsets(p: Plan): { baseCode: string; offCode: string } {
  const kr = p.keptShape.length;
  const rr = p.redShape.length;
  const baseCode = kr ? stridedOffsets(kr, 'o', '2u', [{ name: 'base', at: `${2 + kr}u` }]) : 'let base = 0u;';
  const offCode = contiguousRun(p)
    ? 'let off = base + r;'
    : rr
      ? `${stridedOffsets(rr, 'r', `${2 + 2 * kr}u`, [{ name: 'roff', at: `${2 + 2 * kr + rr}u` }])}\n    let off = base + roff;`
      : 'let off = base;';
  return { baseCode, offCode };
}

const contiguousRun = (p: Plan) => p.redShape.length === 1 && p.redStrides[0] === 1;

/** meta: [nOut, R, keptShape(kr), keptStrides(kr), redShape(rr), redStrides(rr)] */
const reduceMeta = (p: Plan): number[] => [p.nOut, p.R, ...p.keptShape, ...p.keptStrides, ...p.redShape, ...p.redStrides];

/**
 * A long sum with few outputs split across workgroups (split-sums.ts): workgroup g sums slice
 * g % S of outputs (g / S)·T … +T−1 into y[o·S + s] (the output itself where S is 1).
 * meta: the reduction's, then S and chunk (terms per slice).
 */
function splitShader(t: 'f32' | 'i32', p: Plan, T: number, subgroups: boolean): string {
  const { baseCode, offCode } = offsets(p);
  const at = 2 + 2 * p.keptShape.length + 2 * p.redShape.length;
  const sum = outputSums(t, T, subgroups);
  return enableSubgroups(`${bindings([
    { name: 'x', type: t },
    { name: 'y', type: t, write: true },
  ])}
${sum.decl}
${MAIN_SIG(SPLIT_WG, sum.sig)} {
  let nOut = mt[0]; let R = mt[1];
  let S = mt[${at}u]; let chunk = mt[${at + 1}u];
  ${sliceCoordinates(T, 'nOut')}
  var acc: ${t} = ${t === 'f32' ? '0.0' : '0'};
  if (o < nOut) {
    ${baseCode}
    let r1 = min(R, (s + 1u) * chunk);
    for (var r = s * chunk + kk; r < r1; r = r + ${SPLIT_WG / T}u) {
      ${offCode}
      acc = acc + x[off];
    }
  }
  ${sum.code}
  if (kk == 0u && o < nOut) { y[o * S + s] = total; }
}`, sum.subgroups);
}

/**
 * Outputs per workgroup of a split sum: where the reduced terms are not contiguous but consecutive
 * outputs are (the column sums of a row-major matrix), up to 32, so a warp reads consecutive
 * addresses; else 1 (the threads along the terms).
 */
function reduceOutputsPerGroup(p: Plan): number {
  const last = p.keptStrides.length - 1;
  return outputsPerGroupFor(!contiguousRun(p) && last >= 0 && p.keptStrides[last] === 1 ? p.keptShape[last]! : 0);
}

function runReduce(kind: Kind, ctx: Parameters<GpuKernel>[0], x: GpuInput, p: Plan, spec: OutSpec) {
  const out = ctx.output(spec);
  if (p.nOut === 0) return [out];
  if (kind === 'sum' && ctx.splitSums) {
    const T = reduceOutputsPerGroup(p);
    const S = sumSlices(p.nOut, p.R, T);
    if (S > 0) return splitReduce(ctx, x, p, T, S, out);
  }
  const tree = p.R > SEQ_MAX;
  const sg = tree && kind === 'sum' && !!ctx.subgroups;
  const key = `red|${kind}|${x.dtype}|${p.keptShape.length}|${p.redShape.length}|${contiguousRun(p)}|${tree}|${sg}`;
  const code = memoCode(key, () => shader(kind, x.dtype, p, tree, sg));
  const meta = reduceMeta(p);
  const g = tree ? grid(p.nOut) : threadGrid(p.nOut);
  ctx.dispatch(code, [x.buffer, out.buffer], ['r', 'w'], meta, g);
  return [out];
}

function splitReduce(ctx: Parameters<GpuKernel>[0], x: GpuInput, p: Plan, T: number, S: number, out: GpuHandle): GpuHandle[] {
  const t = wgslType(x.dtype);
  const sg = !!ctx.subgroups;
  const code = memoCode(`redsplit|${t}|${p.keptShape.length}|${p.redShape.length}|${contiguousRun(p)}|${T}|${sg}`, () => splitShader(t, p, T, sg));
  const chunk = Math.ceil(p.R / S);
  const meta = [...reduceMeta(p), S, chunk];
  const groups = grid(Math.ceil(p.nOut / T) * S);
  if (S === 1) {
    ctx.dispatch(code, [x.buffer, out.buffer], ['r', 'w'], meta, groups);
    return [out];
  }
  const partials = ctx.scratch(p.nOut * S * 4);
  ctx.dispatch(code, [x.buffer, partials.buffer], ['r', 'w'], meta, groups);
  ctx.dispatch(sliceSumShader(t), [partials.buffer, out.buffer], ['r', 'w'], [p.nOut, S], threadGrid(p.nOut));
  ctx.free(partials);
  return [out];
}

export const reduceKernel =
  (kind: 'sum' | 'max' | 'min'): GpuKernel<{ axes: number[] }> =>
  (ctx, [x], params, outs) => {
    const p = plan(x!.shape, params.axes);
    if (x!.size === 0) p.R = 0;
    return runReduce(kind, ctx, x!, p, outs[0]!);
  };

export const argKernel =
  (kind: 'argmax' | 'argmin'): GpuKernel<{ axis: number }> =>
  (ctx, [x], params, outs) => {
    const [outer, k, inner] = splitAt(x!.shape, params.axis);
    const p: Plan = {
      nOut: outer * inner,
      R: k,
      keptShape: [outer, inner],
      keptStrides: [k * inner, 1],
      redShape: [k],
      redStrides: [inner],
    };
    return runReduce(kind, ctx, x!, p, outs[0]!);
  };

/** One thread per (outer, inner) column, sequential along the axis with compensated (Kahan) sums. */
export const cumsumKernel: GpuKernel<{ axis: number; reverse: boolean }> = (ctx, [x], params, outs) => {
  const spec = outs[0]!;
  const out = ctx.output(spec);
  const n = x!.size;
  if (n === 0) return [out];
  const [outer, k, inner] = splitAt(x!.shape, params.axis);
  const t = wgslType(x!.dtype);
  const f = t === 'f32';
  const code = memoCode(`cumsum|${t}|${params.reverse}`, () => `${bindings([
    { name: 'x', type: t },
    { name: 'y', type: t, write: true },
  ])}
${MAIN_SIG()} {
  ${LINEAR_INDEX()}
  let cols = mt[0] * mt[2];
  if (gi >= cols) { return; }
  let k = mt[1];
  let inner = mt[2];
  let o = gi / inner;
  let i = gi % inner;
  let base = o * k * inner + i;
  var acc: ${t} = ${f ? '0.0' : '0'};
  ${f ? 'var comp = 0.0;' : ''}
  for (var jj = 0u; jj < k; jj = jj + 1u) {
    let j = ${params.reverse ? 'k - 1u - jj' : 'jj'};
    let p = base + j * inner;
    ${f ? 'let yv = x[p] - comp; let tv = acc + yv; comp = (tv - acc) - yv; acc = tv;' : 'acc = acc + x[p];'}
    y[p] = acc;
  }
}`);
  ctx.dispatch(code, [x!.buffer, out.buffer], ['r', 'w'], [outer, k, inner], threadGrid(outer * inner));
  return [out];
};
