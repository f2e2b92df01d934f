import { allocArray } from '../../dtype.js';
import type { CpuKernel } from '../../autodiff/primitive.js';
import type { ConvParams } from '../../autodiff/ops/conv-prim.js';
import { sizeOf } from '../../shape.js';
import { matmul, type FloatArray } from './matmul/matmul.js';
import { allocPooled } from './pool.js';

/**
 * conv2d on the CPU as im2col + the Wasm matmul: the output rows (n, a, b) are taken in chunks,
 * each chunk's patches [rows, kh·kw·cg] (ordered (i, j, c), as the HWIO filter flattens) are
 * gathered into one scratch matrix and multiplied by the filter [kh·kw·cg, og]. The scratch holds
 * at most PATCH_BUDGET elements (or ROWS_WIDE rows of one tap's cg channels, if that is more), so
 * memory stays bounded whatever the batch. The budget (256 KiB of float64) keeps the patches in
 * L2 between the gather and the multiply: on the shared 2-core box (wall time, noisy), budgets of
 * 2^12–2^14 elements ran the 3×3 1→16 layer on [100, 32, 32, 1] ≈2.5× faster than 2^18, whose
 * chunks were also big enough to wake matmul's helper thread.
 */
const PATCH_BUDGET = 1 << 15;
/** rows per chunk when one row's patch alone exceeds the budget */
const ROWS_WIDE = 64;

export const conv2dKernel: CpuKernel<ConvParams> = ([xIn, wIn], p, outs) => {
  const os = outs[0]!.shape;
  const out = allocPooled(outs[0]!.dtype, sizeOf(os)) as FloatArray;
  const x = xIn!.data as FloatArray;
  const w = wIn!.data as FloatArray;
  const [N, H, W, C] = xIn!.shape as [number, number, number, number];
  const [kh, kw, cg, cout] = wIn!.shape as [number, number, number, number];
  const [, ho, wo] = os as [number, number, number, number];
  const G = p.featureGroupCount;
  const og = cout / G;
  const [sh, sw] = p.strides;
  const [[loH], [loW]] = p.padding;
  const [dh, dw] = p.lhsDilation;
  const [rh, rw] = p.rhsDilation;
  const M = N * ho * wo;
  const K = kh * kw * cg;
  if (M === 0 || cout === 0) return out;
  if (K === 0) return out; // no taps: the sum is empty (out is zeroed)

  // A 1×1 filter over every pixel in order is a plain matmul over x itself.
  const identity = kh === 1 && kw === 1 && G === 1 && sh === 1 && sw === 1 && dh === 1 && dw === 1 && loH === 0 && loW === 0 && ho === H && wo === W;
  if (identity) {
    matmul(x, [0], w, [0], out, 1, M, K, cout, false, false);
    return out;
  }

  // Input row/column of each filter tap at each output position, or −1 where it reads padding
  // or a dilation hole (tables per axis, so the gather loop does no division).
  const taps = (nOut: number, k: number, s: number, lo: number, d: number, r: number, len: number): Int32Array => {
    const t = new Int32Array(nOut * k);
    for (let a = 0; a < nOut; a++) {
      for (let i = 0; i < k; i++) {
        const q = a * s + i * r - lo;
        t[a * k + i] = q >= 0 && q % d === 0 && q / d < len ? q / d : -1;
      }
    }
    return t;
  };
  const th = taps(ho, kh, sh, loH, dh, rh, H);
  const tw = taps(wo, kw, sw, loW, dw, rw, W);

  // Chunks: rows of the output × taps of the filter. Normally a chunk holds every tap
  // (K = kh·kw·cg columns) of budget/K rows; when K alone exceeds the budget (a weight gradient,
  // whose "filter" is the whole Ho × Wo cotangent) it holds ≤ ROWS_WIDE rows and as many taps as
  // fit, and the chunks' products are summed, so the filter is still streamed once.
  const T = kh * kw;
  const rowsPer = K <= PATCH_BUDGET ? Math.min(M, Math.floor(PATCH_BUDGET / K)) : Math.min(M, ROWS_WIDE);
  const tapsPer = Math.max(1, Math.min(T, Math.floor(PATCH_BUDGET / (rowsPer * cg))));
  const dtype = outs[0]!.dtype;
  const patches = allocArray(dtype, rowsPer * tapsPer * cg) as FloatArray;
  // per-group filter [K, og] (G > 1: the group's columns of w are strided), and a product to add in
  const wg = G > 1 ? (allocArray(dtype, K * og) as FloatArray) : w;
  const direct = G === 1 && tapsPer === T;
  const prod = direct ? null : (allocArray(dtype, rowsPer * og) as FloatArray);
  const bOff = [0];

  for (let g = 0; g < G; g++) {
    if (G > 1) for (let r = 0; r < K; r++) for (let o = 0; o < og; o++) wg[r * og + o] = w[r * cout + g * og + o]!;
    const c0 = g * cg;
    for (let r0 = 0; r0 < M; r0 += rowsPer) {
      const rows = Math.min(rowsPer, M - r0);
      for (let t0 = 0; t0 < T; t0 += tapsPer) {
        const taps1 = Math.min(T, t0 + tapsPer);
        const kc = (taps1 - t0) * cg;
        for (let r = 0; r < rows; r++) {
          const m = r0 + r;
          const b = m % wo;
          const a = ((m - b) / wo) % ho;
          const n = (m - b - a * wo) / (wo * ho);
          let dst = r * kc;
          for (let t = t0; t < taps1; t++, dst += cg) {
            const i = (t / kw) | 0;
            const ih = th[a * kh + i]!;
            const iw = tw[b * kw + t - i * kw]!;
            if (ih < 0 || iw < 0) {
              patches.fill(0, dst, dst + cg);
              continue;
            }
            const src = ((n * H + ih) * W + iw) * C + c0;
            if (cg === 1) patches[dst] = x[src]!;
            else for (let c = 0; c < cg; c++) patches[dst + c] = x[src + c]!;
          }
        }
        bOff[0] = t0 * cg * og;
        if (direct) {
          matmul(patches, [0], wg, bOff, out.subarray(r0 * cout, (r0 + rows) * cout), 1, rows, kc, cout, false, false);
          continue;
        }
        matmul(patches, [0], wg, bOff, prod!, 1, rows, kc, og, false, false);
        for (let r = 0; r < rows; r++) {
          const o0 = (r0 + r) * cout + g * og;
          for (let o = 0; o < og; o++) out[o0 + o] += prod![r * og + o]!;
        }
      }
    }
  }
  return out;
};
