import { enableSubgroups, grid, LINEAR_INDEX, MAIN_SIG, memoCode, SUBGROUP_BUILTINS, threadGrid, workgroupSum, type GpuHandle, type KernelContext } from './common.js';

/**
 * Products with few outputs (M or N below 16: matrix-vector products, batches of tiny matrices)
 * as plain dot products, and, where there are too few outputs to occupy a GPU and K is long,
 * with K split across the threads of a workgroup and across workgroups.
 *
 * The split case is the gradient of a linear model, Xᵀr for X of [n, d]: d outputs of length n.
 * One thread per output would run d threads, each a loop of n. Here a workgroup of SPLIT_WG
 * threads takes one output (or up to 32 consecutive ones) and a slice of K, its threads stride
 * through the slice, and their partials are summed in the workgroup in a fixed order (through
 * subgroups where the device has them); where K needs more than one workgroup per output, a
 * second dispatch sums the slices' partials in order. The `splitK` option turns it off (it is off
 * by default on a software adapter). The sums are in another order than the one-thread loop's:
 * within the K·2⁻²³·Σ|ab| of any order.
 */

/**
 * The batch offsets of both operands (shared with the tiled kernel). meta (the matmul's):
 * [M, N, K, batch, sai, sap, sbp, sbj, bRank, batchShape(bRank), aBatchStrides(bRank), bBatchStrides(bRank)]
 */
export function batchOffsetCode(bRank: number): string {
  if (bRank === 0) return 'var aOff = 0u; var bOff = 0u;';
  const lines = ['var rem_ = bz;', 'var aOff = 0u;', 'var bOff = 0u;'];
  for (let d = bRank - 1; d >= 0; d--) {
    lines.push(
      `{ let s_ = mt[9u + ${d}u]; let c_ = rem_ % s_; rem_ = rem_ / s_; aOff += c_ * mt[${9 + bRank}u + ${d}u]; bOff += c_ * mt[${9 + 2 * bRank}u + ${d}u]; }`,
    );
  }
  return lines.join('\n    ');
}

const BINDINGS = `@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<storage, read> mt: array<u32>;`;

/** The output `o`'s row i, column j and operand offsets. */
function outputCoordinates(bRank: number): string {
  return `let sai = mt[4]; let sap = mt[5]; let sbp = mt[6]; let sbj = mt[7];
  let bz = o / (M * N);
  let ij = o % (M * N);
  let i = ij / N;
  let j = ij % N;
  ${batchOffsetCode(bRank)}`;
}

function oneThreadShader(bRank: number): string {
  return `${BINDINGS}
${MAIN_SIG()} {
  ${LINEAR_INDEX()}
  let M = mt[0]; let N = mt[1]; let K = mt[2]; let batch = mt[3];
  let o = gi;
  if (o >= M * N * batch) { return; }
  ${outputCoordinates(bRank)}
  var acc = 0.0;
  var pa = aOff + i * sai;
  var pb = bOff + j * sbj;
  for (var p = 0u; p < K; p++) {
    acc = fma(a[pa], b[pb], acc);
    pa += sap;
    pb += sbp;
  }
  c[o] = acc;
}`;
}

/** threads of a workgroup summing one slice of K */
const SPLIT_WG = 256;

/**
 * A workgroup takes T consecutive outputs and one slice of K: its thread `lane` sums output
 * ot = lane % T over k = slice start + kk, kk = lane / T, stepping by 256 / T; a tree over kk sums
 * each output's partials. T > 1 where consecutive outputs are consecutive in an operand (Aᵀ's
 * rows of Xᵀr), so a warp's loads are consecutive either along the outputs or along k.
 * Workgroup g: output tile g / S, slice g % S; it writes c[o·S + s] (the output itself where S
 * is 1). meta: the matmul's, then S and chunk (k's per slice); T is compiled in.
 */
function sliceShader(bRank: number, T: number, subgroups: boolean): string {
  const at = 9 + 3 * bRank;
  const KT = SPLIT_WG / T;
  // one output a workgroup: workgroupSum (through subgroups where there are some); several: a
  // tree over kk for each output
  const sum = T === 1 ? workgroupSum('f32', SPLIT_WG, subgroups) : null;
  const combine = sum
    ? `${sum.code}
  if (lid.x == 0u && o < n) { c[o * S + s] = total; }`
    : `part[lid.x] = acc;
  workgroupBarrier();
  for (var w = ${KT / 2}u; w > 0u; w >>= 1u) {
    if (kk < w) { part[lid.x] = part[lid.x] + part[lid.x + w * ${T}u]; }
    workgroupBarrier();
  }
  if (kk == 0u && o < n) { c[o * S + s] = part[ot]; }`;
  return enableSubgroups(`${BINDINGS}
${sum ? sum.decl : `var<workgroup> part: array<f32, ${SPLIT_WG}>;`}
${MAIN_SIG(SPLIT_WG, sum && subgroups ? SUBGROUP_BUILTINS : '')} {
  let M = mt[0]; let N = mt[1]; let K = mt[2]; let batch = mt[3];
  let S = mt[${at}u]; let chunk = mt[${at + 1}u];
  let n = M * N * batch;
  let g = wid.x + wid.y * nwg.x;
  if (g >= ((n + ${T - 1}u) / ${T}u) * S) { return; }
  let s = g % S;
  let ot = lid.x % ${T}u;
  let kk = lid.x / ${T}u;
  let o = (g / S) * ${T}u + ot;
  var acc = 0.0;
  if (o < n) {
    ${outputCoordinates(bRank)}
    let k1 = min(K, (s + 1u) * chunk);
    for (var p = s * chunk + kk; p < k1; p += ${KT}u) {
      acc = fma(a[aOff + i * sai + p * sap], b[bOff + j * sbj + p * sbp], acc);
    }
  }
  ${combine}
}`, sum !== null && subgroups);
}

/** c[o] = Σ_s partials[o·S + s], s in order. meta: [outputs, S] */
const SUM_SLICES = `@group(0) @binding(0) var<storage, read> partials: array<f32>;
@group(0) @binding(1) var<storage, read_write> c: array<f32>;
@group(0) @binding(2) var<storage, read> mt: array<u32>;
${MAIN_SIG()} {
  ${LINEAR_INDEX()}
  let S = mt[1];
  if (gi >= mt[0]) { return; }
  var acc = 0.0;
  for (var s = 0u; s < S; s++) { acc = acc + partials[gi * S + s]; }
  c[gi] = acc;
}`;

/** K below this: one thread per output (a loop this short is cheaper than a workgroup's tree) */
const SPLIT_MIN_K = 512;
/** outputs from which one thread each occupies a GPU well enough */
const SPLIT_MAX_OUTPUTS = 8192;
/** workgroups a split product aims for (256 threads each: enough for a large GPU) */
const SPLIT_TARGET_GROUPS = 512;
/** k's a thread of a slice sums at least (a slice shorter than this is not worth its partial) */
const SPLIT_MIN_PER_THREAD = 16;
/** slices an output is cut into at most (the second pass sums them in one loop) */
const SPLIT_MAX_SLICES = 64;
/** outputs a workgroup takes at most (a warp's width of consecutive addresses) */
const SPLIT_MAX_T = 32;

/**
 * Outputs per workgroup: up to 32 where consecutive outputs are consecutive in memory (N = 1 and
 * A transposed: Aᵀ's rows; M = 1 and B not transposed: B's columns), else 1 (the threads along k).
 */
export function outputsPerGroup(M: number, N: number, tA: boolean, tB: boolean): number {
  const along = N === 1 && M > 1 ? (tA ? M : 0) : M === 1 && N > 1 && !tB ? N : 0;
  let T = 1;
  while (T < SPLIT_MAX_T && T < along) T *= 2;
  return T;
}

/** Slices of K for n outputs of length K taken T to a workgroup: 0 for one thread per output. */
export function kSlices(n: number, K: number, T = 1): number {
  if (K < SPLIT_MIN_K || n >= SPLIT_MAX_OUTPUTS) return 0;
  const byWork = Math.ceil(K / ((SPLIT_WG / T) * SPLIT_MIN_PER_THREAD));
  const byGpu = Math.ceil(SPLIT_TARGET_GROUPS / Math.ceil(n / T));
  return Math.max(1, Math.min(byWork, byGpu, SPLIT_MAX_SLICES));
}

/** The product of the matmul's meta (op(A) of M × K, op(B) of K × N) as M·N·batch dot products into `out`. */
export function dotProducts(ctx: KernelContext, bufs: GPUBuffer[], meta: number[], bRank: number, tA: boolean, tB: boolean, out: GpuHandle): GpuHandle[] {
  const [M, N, K, batch] = meta as [number, number, number, number];
  const n = M * N * batch;
  const T = outputsPerGroup(M, N, tA, tB);
  const S = ctx.splitK ? kSlices(n, K, T) : 0;
  if (S === 0) {
    ctx.dispatch(memoCode(`mmn|${bRank}`, () => oneThreadShader(bRank)), bufs, ['r', 'r', 'w'], meta, threadGrid(n));
    return [out];
  }
  const chunk = Math.ceil(K / S);
  const sg = T === 1 && !!ctx.subgroups;
  const code = memoCode(`mmk|${bRank}|${T}|${sg}`, () => sliceShader(bRank, T, sg));
  const groups = grid(Math.ceil(n / T) * S);
  if (S === 1) {
    ctx.dispatch(code, bufs, ['r', 'r', 'w'], [...meta, 1, chunk], groups);
    return [out];
  }
  const partials = ctx.scratch(n * S * 4);
  ctx.dispatch(code, [bufs[0]!, bufs[1]!, partials.buffer], ['r', 'r', 'w'], [...meta, S, chunk], groups);
  ctx.dispatch(SUM_SLICES, [partials.buffer, out.buffer], ['r', 'w'], [n, S], threadGrid(n));
  ctx.free(partials);
  return [out];
}
