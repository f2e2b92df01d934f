import { LINEAR_INDEX, MAIN_SIG, memoCode, SUBGROUP_BUILTINS, workgroupSum } from './common.js';

/**
 * Long sums with few outputs, split across workgroups (the `splitSums` option): a product's dot
 * products over a long K (Xᵀr, a linear model's gradient over n data points; dot-products.ts) and
 * a reduction's long axis (a log-likelihood summed over the data; reduce.ts). One workgroup per
 * output would leave a GPU with a few dozen busy workgroups, one thread per output with a few
 * dozen threads. Here a workgroup of SPLIT_WG threads takes T consecutive outputs (T = 1, or up
 * to 32 where consecutive outputs are consecutive in memory, so a warp's loads are too) and one
 * slice of the sum: thread lane = kk·T + ot sums output ot's terms kk, kk + 256/T, ... of the
 * slice; the workgroup sums each output's partials (`outputSums`); a second dispatch sums the S
 * slices of each output in order (`sliceSumShader`). Every order is fixed: the same inputs give
 * the same bits, within the n·2⁻²³·Σ|terms| of any float32 order.
 */

/** threads of a workgroup summing one slice */
export const SPLIT_WG = 256;
/** terms below this: no split (a loop this short is cheaper than a workgroup's tree) */
const SPLIT_MIN_TERMS = 512;
/** outputs from which the unsplit kernels occupy a GPU well enough */
const SPLIT_MAX_OUTPUTS = 8192;
/** workgroups a split sum aims for (256 threads each: enough for a large GPU) */
const SPLIT_TARGET_GROUPS = 512;
/** terms a thread of a slice sums at least (a shorter slice is not worth its partial) */
const SPLIT_MIN_PER_THREAD = 16;
/** slices an output is cut into at most (the second pass sums them in one loop) */
const SPLIT_MAX_SLICES = 64;
/** outputs a workgroup takes at most (a warp's width of consecutive addresses) */
const SPLIT_MAX_T = 32;

/** Outputs per workgroup where `run` consecutive outputs are consecutive in memory (0: they are not): a power of two, at most 32. */
export function outputsPerGroupFor(run: number): number {
  let T = 1;
  while (T < SPLIT_MAX_T && T < run) T *= 2;
  return T;
}

/** Slices for n outputs of R terms each, taken T to a workgroup: 0 where the sum is not worth splitting. */
export function sumSlices(n: number, R: number, T = 1): number {
  if (R < SPLIT_MIN_TERMS || n >= SPLIT_MAX_OUTPUTS) return 0;
  const byWork = Math.ceil(R / ((SPLIT_WG / T) * SPLIT_MIN_PER_THREAD));
  const byGpu = Math.ceil(SPLIT_TARGET_GROUPS / Math.ceil(n / T));
  return Math.max(1, Math.min(byWork, byGpu, SPLIT_MAX_SLICES));
}

/**
 * WGSL of a split sum's coordinates, given S (slices) and the output count `n`: the workgroup's
 * slice s, the thread's output o (ot of T) and its first term kk; workgroups past the last tile
 * return (uniformly: g is the workgroup's).
 */
export function sliceCoordinates(T: number, n: string): string {
  return `let g = wid.x + wid.y * nwg.x;
  if (g >= ((${n} + ${T - 1}u) / ${T}u) * S) { return; }
  let s = g % S;
  let ot = lid.x % ${T}u;
  let kk = lid.x / ${T}u;
  let o = (g / S) * ${T}u + ot;`;
}

/**
 * WGSL summing each output's partials over the workgroup: thread lane = kk·T + ot holds `acc` for
 * output ot; `let total` is output ot's sum where kk == 0. T = 1: `workgroupSum` (through subgroups
 * where `subgroups`); T > 1: a tree over kk in workgroup memory. `sig`: MAIN_SIG's extra builtins,
 * `subgroups`: whether the shader needs `enable subgroups;`.
 */
export function outputSums(t: 'f32' | 'i32', T: number, subgroups: boolean): { decl: string; code: string; sig: string; subgroups: boolean } {
  if (T === 1) {
    const sum = workgroupSum(t, SPLIT_WG, subgroups);
    return { decl: sum.decl, code: sum.code, sig: subgroups ? SUBGROUP_BUILTINS : '', subgroups };
  }
  return {
    decl: `var<workgroup> part_: array<${t}, ${SPLIT_WG}>;`,
    code: `part_[lid.x] = acc;
  workgroupBarrier();
  for (var w_ = ${SPLIT_WG / T / 2}u; w_ > 0u; w_ >>= 1u) {
    if (kk < w_) { part_[lid.x] = part_[lid.x] + part_[lid.x + w_ * ${T}u]; }
    workgroupBarrier();
  }
  let total = part_[lid.x];`,
    sig: '',
    subgroups: false,
  };
}

/** The second pass: out[o] = Σ_s partials[o·S + s], s in order. meta: [outputs, S] */
export function sliceSumShader(t: 'f32' | 'i32'): string {
  return memoCode(`slices|${t}`, () => `@group(0) @binding(0) var<storage, read> partials: array<${t}>;
@group(0) @binding(1) var<storage, read_write> c: array<${t}>;
@group(0) @binding(2) var<storage, read> mt: array<u32>;
${MAIN_SIG()} {
  ${LINEAR_INDEX()}
  let S = mt[1];
  if (gi >= mt[0]) { return; }
  var acc: ${t} = ${t === 'f32' ? '0.0' : '0'};
  for (var s = 0u; s < S; s++) { acc = acc + partials[gi * S + s]; }
  c[gi] = acc;
}`);
}
