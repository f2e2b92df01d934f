import type { ConvParams } from '../../../autodiff/ops/conv-prim.js';
import { sizeOf } from '../../../shape.js';
import { bindings, LINEAR_INDEX, MAIN_SIG, threadGrid, type GpuKernel } from './common.js';

/**
 * conv2d as a direct convolution: one thread per output element (n, a, b, co) sums its group's
 * cg input channels over the filter taps, skipping taps that fall in the padding or in a hole of
 * the input dilation. The taps' input coordinates are computed in i32 (padding may be negative).
 * One pipeline serves every shape: all sizes come in the meta words.
 *
 * meta: [total, H, W, C, Ho, Wo, Cout, kh, kw, cg, og, sh, sw, loH, loW (i32 bits), dh, dw, rh, rw]
 */
const CODE = `${bindings([
  { name: 'x', type: 'f32' },
  { name: 'w', type: 'f32' },
  { name: 'y', type: 'f32', write: true },
])}
${MAIN_SIG()} {
  ${LINEAR_INDEX()}
  if (gi >= mt[0]) { return; }
  let H = mt[1]; let W = mt[2]; let C = mt[3]; let Ho = mt[4]; let Wo = mt[5]; let Cout = mt[6];
  let kh = mt[7]; let kw = mt[8]; let cg = mt[9]; let og = mt[10];
  let sh = i32(mt[11]); let sw = i32(mt[12]); let loH = bitcast<i32>(mt[13]); let loW = bitcast<i32>(mt[14]);
  let dh = i32(mt[15]); let dw = i32(mt[16]); let rh = i32(mt[17]); let rw = i32(mt[18]);
  let co = gi % Cout;
  var rest = gi / Cout;
  let b = i32(rest % Wo); rest = rest / Wo;
  let a = i32(rest % Ho);
  let n = rest / Ho;
  let c0 = (co / og) * cg;
  var acc = 0.0;
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
      for (var c = 0u; c < cg; c++) {
        acc = fma(x[xb + c], w[wb + c * Cout], acc);
      }
    }
  }
  y[gi] = acc;
}`;

export const conv2dKernel: GpuKernel<ConvParams> = (ctx, [x, w], p, outs) => {
  const spec = outs[0]!;
  const out = ctx.output(spec);
  const total = sizeOf(spec.shape);
  if (total === 0) return [out];
  const [, H, W, C] = x!.shape as number[];
  const [kh, kw, cg, cout] = w!.shape as number[];
  const [, ho, wo] = spec.shape as number[];
  if (kh! * kw! * cg! === 0) {
    ctx.clear(out.buffer, total * 4);
    return [out];
  }
  const meta = new Uint32Array([
    total, H!, W!, C!, ho!, wo!, cout!, kh!, kw!, cg!, cout! / p.featureGroupCount,
    p.strides[0], p.strides[1], p.padding[0][0] >>> 0, p.padding[1][0] >>> 0,
    p.lhsDilation[0], p.lhsDilation[1], p.rhsDilation[0], p.rhsDilation[1],
  ]);
  ctx.dispatch(CODE, [x!.buffer, w!.buffer, out.buffer], ['r', 'r', 'w'], meta, threadGrid(total));
  return [out];
};
