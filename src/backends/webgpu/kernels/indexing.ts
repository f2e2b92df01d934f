import { sizeOf, splitAt } from '../../../shape.js';
import {
  bindings,
  grid,
  LINEAR_INDEX,
  MAIN_SIG,
  memoCode,
  threadGrid,
  withHelpers,
  wgslType,
  type GpuKernel,
} from './common.js';
import type { DType } from '../../../dtype.js';

/**
 * Gather / scatter-add along one axis, and argsort.
 *
 * Out-of-range indices: the CPU throws a ShapeError at the call. A GPU kernel cannot throw, so
 * `take` writes 0 for such an index and `scatterAdd` drops its update, and both store the first
 * offending position in a status word: the backend throws the ShapeError at the next read or
 * sync (see KernelContext.status). Negative indices count from the end on both backends.
 */

/** The error of an out-of-range index; `code` is m − j for the first bad position j of m. */
const outOfRange = (op: string, m: number, k: number) => (code: number) =>
  `${op}: indices[${m - code}] is out of bounds for an axis of size ${k} (valid indices: ${-k} … ${k - 1}).`;

/** out[o, j, i] = x[o, idx[j], i] (raw 32-bit words: one pipeline for f32 and i32). */
const TAKE = `${bindings([
  { name: 'x', type: 'u32' },
  { name: 'idx', type: 'i32' },
  { name: 'y', type: 'u32', write: true },
  { name: 'status', type: 'u32', write: true, atomic: true },
])}
${MAIN_SIG()} {
  ${LINEAR_INDEX()}
  if (gi >= mt[0]) { return; }
  let k = mt[1];
  let m = mt[2];
  let inner = mt[3];
  let i = gi % inner;
  let j = (gi / inner) % m;
  let o = gi / (inner * m);
  var s = idx[j];
  if (s < 0) { s = s + i32(k); }
  if (s < 0 || s >= i32(k)) { atomicMax(&status[0], m - j); y[gi] = 0u; return; }
  y[gi] = x[(o * k + u32(s)) * inner + i];
}`;

export const takeKernel: GpuKernel<{ axis: number }> = (ctx, [x, idx], p, outs) => {
  const out = ctx.output(outs[0]!);
  const n = sizeOf(outs[0]!.shape);
  if (n === 0) return [out];
  const [, k, inner] = splitAt(x!.shape, p.axis);
  const status = ctx.status(outOfRange('take', idx!.size, k), 'shape');
  ctx.dispatch(TAKE, [x!.buffer, idx!.buffer, out.buffer, status], ['r', 'r', 'w', 'w'], [n, k, idx!.size, inner], threadGrid(n));
  return [out];
};

/** out = x; out[o, idx[j], i] += upd[o, j, i]. float32 adds by compare-exchange loops on the bit patterns. */
function scatterShader(dtype: DType): string {
  const add =
    dtype === 'int32'
      ? 'atomicAdd(&y[p], bitcast<u32>(upd[gi]));'
      : `let u = bitcast<f32>(upd[gi]);
  var old = atomicLoad(&y[p]);
  loop {
    let r = atomicCompareExchangeWeak(&y[p], old, bitcast<u32>(bitcast<f32>(old) + u));
    if (r.exchanged) { break; }
    old = r.old_value;
  }`;
  return `${bindings([
    { name: 'idx', type: 'i32' },
    { name: 'upd', type: 'u32' },
    { name: 'y', type: 'u32', write: true, atomic: true },
    { name: 'status', type: 'u32', write: true, atomic: true },
  ])}
${MAIN_SIG()} {
  ${LINEAR_INDEX()}
  if (gi >= mt[0]) { return; }
  let k = mt[1];
  let m = mt[2];
  let inner = mt[3];
  let i = gi % inner;
  let j = (gi / inner) % m;
  let o = gi / (inner * m);
  var s = idx[j];
  if (s < 0) { s = s + i32(k); }
  if (s < 0 || s >= i32(k)) { atomicMax(&status[0], m - j); return; }
  let p = (o * k + u32(s)) * inner + i;
  ${add}
}`;
}

export const scatterAddKernel: GpuKernel<{ axis: number }> = (ctx, [x, idx, upd], p, outs) => {
  const out = ctx.output(outs[0]!);
  if (x!.size === 0) return [out];
  ctx.copy(x!.buffer, 0, out.buffer, 0, x!.size * 4);
  const n = upd!.size;
  if (n === 0) return [out];
  const [, k, inner] = splitAt(x!.shape, p.axis);
  const status = ctx.status(outOfRange('scatterAdd', idx!.size, k), 'shape');
  ctx.dispatch(memoCode(`scatter|${x!.dtype}`, () => scatterShader(x!.dtype)), [idx!.buffer, upd!.buffer, out.buffer, status], ['r', 'r', 'w', 'w'], [n, k, idx!.size, inner], threadGrid(n));
  return [out];
};

// ---------------------------------------------------------------------------------------------
// argsort: a stable order (ties by index; NaN last ascending, first descending, as the CPU).
// Rows up to LOCAL_MAX sort in workgroup memory (one workgroup per row, bitonic); longer rows
// sort in global scratch by a bitonic network of dispatches.

const LOCAL_MAX = 2048;
const SORT_WG = 256;

function beforeFn(t: 'f32' | 'i32', descending: boolean): string {
  const nan = (x: string) => (t === 'f32' ? `isnan_f(${x})` : 'false');
  const cmp = descending ? '>' : '<';
  // padding slots (index 0xffffffff) sort after everything
  return `fn before(va: ${t}, ia: u32, vb: ${t}, ib: u32) -> bool {
  if (ia == 0xffffffffu) { return false; }
  if (ib == 0xffffffffu) { return true; }
  let na = ${nan('va')}; let nb = ${nan('vb')};
  if (na || nb) {
    if (na && nb) { return ia < ib; }
    return ${descending ? 'na' : 'nb'};
  }
  if (va ${cmp} vb) { return true; }
  return va == vb && ia < ib;
}`;
}

function localSortShader(t: 'f32' | 'i32', descending: boolean, P: number): string {
  return withHelpers(`${bindings([
    { name: 'x', type: t },
    { name: 'y', type: 'i32', write: true },
  ])}
${beforeFn(t, descending)}
var<workgroup> kv: array<${t}, ${P}>;
var<workgroup> ki: array<u32, ${P}>;
${MAIN_SIG(SORT_WG)} {
  let row = wid.x + wid.y * nwg.x;
  if (row >= mt[0]) { return; }
  let k = mt[1];
  let inner = mt[2];
  let o = row / inner;
  let ii = row % inner;
  let base = o * k * inner + ii;
  for (var e = lid.x; e < ${P}u; e = e + ${SORT_WG}u) {
    if (e < k) { kv[e] = x[base + e * inner]; ki[e] = e; } else { ki[e] = 0xffffffffu; }
  }
  workgroupBarrier();
  for (var size = 2u; size <= ${P}u; size = size << 1u) {
    for (var stride = size >> 1u; stride > 0u; stride = stride >> 1u) {
      for (var e = lid.x; e < ${P}u; e = e + ${SORT_WG}u) {
        let partner = e ^ stride;
        if (partner > e) {
          let up = (e & size) == 0u;
          let pb = before(kv[partner], ki[partner], kv[e], ki[e]);
          if (pb == up) {
            let tv = kv[e]; kv[e] = kv[partner]; kv[partner] = tv;
            let ti = ki[e]; ki[e] = ki[partner]; ki[partner] = ti;
          }
        }
      }
      workgroupBarrier();
    }
  }
  for (var e = lid.x; e < k; e = e + ${SORT_WG}u) { y[base + e * inner] = i32(ki[e]); }
}`);
}

function globalInitShader(t: 'f32' | 'i32'): string {
  return `${bindings([
    { name: 'x', type: t },
    { name: 'kv', type: t, write: true },
    { name: 'ki', type: 'u32', write: true },
  ])}
${MAIN_SIG()} {
  ${LINEAR_INDEX()}
  let P = mt[3];
  if (gi >= mt[0] * P) { return; }
  let k = mt[1];
  let inner = mt[2];
  let row = gi / P;
  let e = gi % P;
  let base = (row / inner) * k * inner + row % inner;
  if (e < k) { kv[gi] = x[base + e * inner]; ki[gi] = e; } else { ki[gi] = 0xffffffffu; }
}`;
}

function globalStepShader(t: 'f32' | 'i32', descending: boolean): string {
  return withHelpers(`${bindings([
    { name: 'kv', type: t, write: true },
    { name: 'ki', type: 'u32', write: true },
  ])}
${beforeFn(t, descending)}
${MAIN_SIG()} {
  ${LINEAR_INDEX()}
  let P = mt[1];
  if (gi >= mt[0] * P) { return; }
  let size = mt[2];
  let stride = mt[3];
  let e = gi % P;
  let partner = e ^ stride;
  if (partner <= e) { return; }
  let a = gi;
  let b = gi - e + partner;
  let up = (e & size) == 0u;
  if (before(kv[b], ki[b], kv[a], ki[a]) == up) {
    let tv = kv[a]; kv[a] = kv[b]; kv[b] = tv;
    let ti = ki[a]; ki[a] = ki[b]; ki[b] = ti;
  }
}`);
}

const GLOBAL_OUT = `${bindings([
  { name: 'ki', type: 'u32' },
  { name: 'y', type: 'i32', write: true },
])}
${MAIN_SIG()} {
  ${LINEAR_INDEX()}
  let k = mt[1];
  if (gi >= mt[0] * k) { return; }
  let inner = mt[2];
  let P = mt[3];
  let row = gi / k;
  let e = gi % k;
  let base = (row / inner) * k * inner + row % inner;
  y[base + e * inner] = i32(ki[row * P + e]);
}`;

export const argsortKernel: GpuKernel<{ axis: number; descending: boolean }> = (ctx, [x], p, outs) => {
  const out = ctx.output(outs[0]!);
  if (x!.size === 0) return [out];
  const [outer, k, inner] = splitAt(x!.shape, p.axis);
  const rows = outer * inner;
  const t = wgslType(x!.dtype);
  let P = 1;
  while (P < k) P *= 2;
  if (P <= LOCAL_MAX) {
    ctx.dispatch(memoCode(`sortl|${t}|${p.descending}|${P}`, () => localSortShader(t, p.descending, Math.max(P, 2))), [x!.buffer, out.buffer], ['r', 'w'], [rows, k, inner], grid(rows));
    return [out];
  }
  const kv = ctx.scratch(rows * P * 4);
  const ki = ctx.scratch(rows * P * 4);
  const total = rows * P;
  ctx.dispatch(memoCode(`sortgi|${t}`, () => globalInitShader(t)), [x!.buffer, kv.buffer, ki.buffer], ['r', 'w', 'w'], [rows, k, inner, P], threadGrid(total));
  const step = memoCode(`sortgs|${t}|${p.descending}`, () => globalStepShader(t, p.descending));
  for (let size = 2; size <= P; size *= 2) {
    for (let stride = size / 2; stride > 0; stride /= 2) {
      ctx.dispatch(step, [kv.buffer, ki.buffer], ['w', 'w'], [rows, P, size, stride], threadGrid(total));
    }
  }
  ctx.dispatch(GLOBAL_OUT, [ki.buffer, out.buffer], ['r', 'w'], [rows, k, inner, P], threadGrid(rows * k));
  ctx.free(kv);
  ctx.free(ki);
  return [out];
};
