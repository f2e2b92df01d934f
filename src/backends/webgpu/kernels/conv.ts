import type { ConvParams } from '../../../autodiff/ops/conv-prim.js';
import { sizeOf } from '../../../shape.js';
import { bindings, enableSubgroups, grid, LINEAR_INDEX, MAIN_SIG, memoCode, SUBGROUP_BUILTINS, threadGrid, workgroupSum, type GpuKernel } from './common.js';

/**
 * conv2d as a direct convolution, in one of three shapes of work:
 * - `vec4` (og a multiple of 4): one thread per 4 consecutive output channels, so each input
 *   value loaded and each tap's index arithmetic serves four multiply-adds (vec4 filter loads);
 * - `scalar`: one thread per output element;
 * - `split` (few outputs, long sums: a weight gradient, whose sum runs over N·Ho·Wo): one
 *   workgroup per output element, its threads striding over the (tap, channel) terms, then a tree
 *   sum in workgroup memory — a thread per output would leave almost all of a GPU idle.
 * Taps in the padding or in a hole of the input dilation are skipped; their input coordinates are
 * computed in i32 (padding may be negative). All sizes come in the meta words, so each variant is
 * one pipeline for every shape.
 *
 * meta: [total, H, W, C, Ho, Wo, Cout, kh, kw, cg, og, sh, sw, loH, loW (i32 bits), dh, dw, rh, rw]
 */
const HEADER = `
  let H = mt[1]; let W = mt[2]; let C = mt[3]; let Ho = mt[4]; let Wo = mt[5]; let Cout = mt[6];
  let kh = mt[7]; let kw = mt[8]; let cg = mt[9]; let og = mt[10];
  let sh = i32(mt[11]); let sw = i32(mt[12]); let loH = bitcast<i32>(mt[13]); let loW = bitcast<i32>(mt[14]);
  let dh = i32(mt[15]); let dw = i32(mt[16]); let rh = i32(mt[17]); let rw = i32(mt[18]);`;

/** Decomposes output index `o` (over N, Ho, Wo, Cout/lanes) into n, a, b, co. */
const position = (o: string, lanes: number) => `
  let co = (${o} % (Cout / ${lanes}u)) * ${lanes}u;
  var rest = ${o} / (Cout / ${lanes}u);
  let b = i32(rest % Wo); rest = rest / Wo;
  let a = i32(rest % Ho);
  let n = rest / Ho;
  let c0 = (co / og) * cg;`;

/** The (i, j) loops with the tap's validity checks; `body` sees xb (x offset of channel c0) and wb (w offset of channel 0, column co). */
const taps = (body: string) => `
  for (var i = 0u; i < kh; i++) {
    let qh = a * sh + i32(i) * rh - loH;
    if (qh < 0 || qh % dh != 0 || qh / dh >= i32(H)) { continue; }
    let ih = u32(qh / dh);
    for (var j = 0u; j < kw; j++) {
      let qw = b * sw + i32(j) * rw - loW;
      if (qw < 0 || qw % dw != 0 || qw / dw >= i32(W)) { continue; }
      let iw = u32(qw / dw);
      let xb = ((n * H + ih) * W + iw) * C + c0;
      let wb = (i * kw + j) * cg * Cout + co;
      ${body}
    }
  }`;

const io = (lanes: 1 | 4) => {
  const t = lanes === 4 ? 'vec4<f32>' : 'f32';
  return bindings([
    { name: 'x', type: 'f32' },
    { name: 'w', type: t },
    { name: 'y', type: t, write: true },
  ]);
};

const scalarCode = () => `${io(1)}
${MAIN_SIG()} {
  ${LINEAR_INDEX()}
  if (gi >= mt[0]) { return; }
  ${HEADER}
  ${position('gi', 1)}
  var acc = 0.0;
  ${taps('for (var c = 0u; c < cg; c++) { acc = fma(x[xb + c], w[wb + c * Cout], acc); }')}
  y[gi] = acc;
}`;

const vec4Code = () => `${io(4)}
${MAIN_SIG()} {
  ${LINEAR_INDEX()}
  if (gi >= mt[0]) { return; }
  ${HEADER}
  ${position('gi', 4)}
  var acc = vec4<f32>(0.0);
  ${taps('for (var c = 0u; c < cg; c++) { acc = fma(vec4<f32>(x[xb + c]), w[(wb + c * Cout) / 4u], acc); }')}
  y[gi] = acc;
}`;

const SPLIT_WG = 64;
const splitCode = (subgroups: boolean) => {
  const sum = workgroupSum('f32', SPLIT_WG, subgroups);
  return enableSubgroups(`${io(1)}
${sum.decl}
${MAIN_SIG(SPLIT_WG, subgroups ? SUBGROUP_BUILTINS : '')} {
  let gi = wid.x + wid.y * nwg.x;
  let t = lid.x;
  ${HEADER}
  ${position('min(gi, mt[0] - 1u)', 1)}
  var acc = 0.0;
  if (gi < mt[0]) {
    // threads stride over the taps when there are enough of them (the ∂w case: Ho·Wo taps),
    // else over the channels; a tap's validity and offsets are then worked out once per tap
    let T = kh * kw;
    let byTap = T >= ${SPLIT_WG}u;
    let tap0 = select(0u, t, byTap);
    let tapStep = select(1u, ${SPLIT_WG}u, byTap);
    let ch0 = select(t, 0u, byTap);
    let chStep = select(${SPLIT_WG}u, 1u, byTap);
    for (var tap = tap0; tap < T; tap += tapStep) {
      let i = tap / kw;
      let j = tap % kw;
      let qh = a * sh + i32(i) * rh - loH;
      let qw = b * sw + i32(j) * rw - loW;
      if (qh < 0 || qh % dh != 0 || qh / dh >= i32(H) || qw < 0 || qw % dw != 0 || qw / dw >= i32(W)) { continue; }
      let xb = ((n * H + u32(qh / dh)) * W + u32(qw / dw)) * C + c0;
      let wb = tap * cg * Cout + co;
      for (var c = ch0; c < cg; c += chStep) {
        acc = fma(x[xb + c], w[wb + c * Cout], acc);
      }
    }
  }
  ${sum.code}
  if (t == 0u && gi < mt[0]) { y[gi] = total; }
}`, subgroups);
};

/** Below this many outputs, a sum of at least SPLIT_MIN_TERMS terms takes a workgroup per output. */
const SPLIT_MAX_OUTPUTS = 16384;
const SPLIT_MIN_TERMS = 256;

export const conv2dKernel: GpuKernel<ConvParams> = (ctx, [x, w], p, outs) => {
  const spec = outs[0]!;
  const out = ctx.output(spec);
  const total = sizeOf(spec.shape);
  if (total === 0) return [out];
  const [, H, W, C] = x!.shape as number[];
  const [kh, kw, cg, cout] = w!.shape as number[];
  const [, ho, wo] = spec.shape as number[];
  const terms = kh! * kw! * cg!;
  if (terms === 0) {
    ctx.clear(out.buffer, total * 4);
    return [out];
  }
  const og = cout! / p.featureGroupCount;
  const split = total <= SPLIT_MAX_OUTPUTS && terms >= SPLIT_MIN_TERMS;
  const lanes = !split && og % 4 === 0 ? 4 : 1;
  const meta = new Uint32Array([
    total / lanes, H!, W!, C!, ho!, wo!, cout!, kh!, kw!, cg!, og,
    p.strides[0], p.strides[1], p.padding[0][0] >>> 0, p.padding[1][0] >>> 0,
    p.lhsDilation[0], p.lhsDilation[1], p.rhsDilation[0], p.rhsDilation[1],
  ]);
  const bufs = [x!.buffer, w!.buffer, out.buffer];
  if (split) ctx.dispatch(memoCode(`conv2d|split|${!!ctx.subgroups}`, () => splitCode(!!ctx.subgroups)), bufs, ['r', 'r', 'w'], meta, grid(total));
  else if (lanes === 4) ctx.dispatch(memoCode('conv2d|vec4', vec4Code), bufs, ['r', 'r', 'w'], meta, threadGrid(total / 4));
  else ctx.dispatch(memoCode('conv2d|scalar', scalarCode), bufs, ['r', 'r', 'w'], meta, threadGrid(total));
  return [out];
};
