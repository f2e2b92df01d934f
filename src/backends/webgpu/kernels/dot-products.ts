import { enableSubgroups, grid, LINEAR_INDEX, MAIN_SIG, memoCode, threadGrid, type GpuHandle, type KernelContext } from './common.js';
import { outputSums, outputsPerGroupFor, sliceCoordinates, sliceSumShader, SPLIT_WG, sumSlices } from './split-sums.js';

/**
 * Products with few outputs (M or N below 16: matrix-vector products, batches of tiny matrices)
 * as plain dot products, and, where there are too few outputs to occupy a GPU and K is long,
 * with K split across the threads of a workgroup and across workgroups.
 *
 * The split case (split-sums.ts, the `splitSums` option) is the gradient of a linear model, Xᵀr for
 * X of [n, d]: d outputs of length n, which one thread per output would leave to d threads.
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

/**
 * Workgroup g takes output tile g / S and slice g % S of K (split-sums.ts); it writes c[o·S + s]
 * (the output itself where S is 1). meta: the matmul's, then S and chunk (k's per slice); T is
 * compiled in.
 */
function sliceShader(bRank: number, T: number, subgroups: boolean): string {
  const at = 9 + 3 * bRank;
  const sum = outputSums('f32', T, subgroups);
  return enableSubgroups(`${BINDINGS}
${sum.decl}
${MAIN_SIG(SPLIT_WG, sum.sig)} {
  let M = mt[0]; let N = mt[1]; let K = mt[2]; let batch = mt[3];
  let S = mt[${at}u]; let chunk = mt[${at + 1}u];
  let n = M * N * batch;
  ${sliceCoordinates(T, 'n')}
  var acc = 0.0;
  if (o < n) {
    ${outputCoordinates(bRank)}
    let k1 = min(K, (s + 1u) * chunk);
    for (var p = s * chunk + kk; p < k1; p += ${SPLIT_WG / T}u) {
      acc = fma(a[aOff + i * sai + p * sap], b[bOff + j * sbj + p * sbp], acc);
    }
  }
  ${sum.code}
  if (kk == 0u && o < n) { c[o * S + s] = total; }
}`, sum.subgroups);
}

/**
 * Outputs per workgroup of a split product: up to 32 where consecutive outputs are consecutive in
 * memory (N = 1 and A transposed: Aᵀ's rows; M = 1 and B not transposed: B's columns), else 1
 * (the threads along k).
 */
export function outputsPerGroup(M: number, N: number, tA: boolean, tB: boolean): number {
  return outputsPerGroupFor(N === 1 && M > 1 ? (tA ? M : 0) : M === 1 && N > 1 && !tB ? N : 0);
}

/** The product of the matmul's meta (op(A) of M × K, op(B) of K × N) as M·N·batch dot products into `out`. */
export function dotProducts(ctx: KernelContext, bufs: GPUBuffer[], meta: number[], bRank: number, tA: boolean, tB: boolean, out: GpuHandle): GpuHandle[] {
  const [M, N, K, batch] = meta as [number, number, number, number];
  const n = M * N * batch;
  const T = outputsPerGroup(M, N, tA, tB);
  const S = ctx.splitSums ? sumSlices(n, K, T) : 0;
  if (S === 0) {
    ctx.dispatch(memoCode(`mmn|${bRank}`, () => oneThreadShader(bRank)), bufs, ['r', 'r', 'w'], meta, threadGrid(n));
    return [out];
  }
  const chunk = Math.ceil(K / S);
  const sg = !!ctx.subgroups;
  const code = memoCode(`mmk|${bRank}|${T}|${sg}`, () => sliceShader(bRank, T, sg));
  const groups = grid(Math.ceil(n / T) * S);
  if (S === 1) {
    ctx.dispatch(code, bufs, ['r', 'r', 'w'], [...meta, 1, chunk], groups);
    return [out];
  }
  const partials = ctx.scratch(n * S * 4);
  ctx.dispatch(code, [bufs[0]!, bufs[1]!, partials.buffer], ['r', 'r', 'w'], [...meta, S, chunk], groups);
  ctx.dispatch(sliceSumShader('f32'), [partials.buffer, out.buffer], ['r', 'w'], [n, S], threadGrid(n));
  ctx.free(partials);
  return [out];
}
