import type { Tensor } from '../../tensor.js';
import { backendOfTensor, bind1, fromHost } from '../core.js';
import type { Primitive } from '../primitive.js';
import { ShapeError } from '../../errors.js';
import { assertFloat, assertSameDType } from '../../dtype.js';
import { fmtShape } from '../../shape.js';
import { add } from './elementwise.js';
import { take } from './indexing.js';
import { reshape, transpose } from './shape.js';

/**
 * The conv2d primitive, after jax.lax.conv_general_dilated restricted to NHWC inputs, HWIO
 * filters and NHWC outputs:
 *
 *   y[n, a, b, g·og + o] = Σ_{i, j, c} xd[n, a·sh + i·rh − loH, b·sw + j·rw − loW, g·cg + c] · w[i, j, c, g·og + o]
 *
 * where xd is x with (dh − 1) zeros between its rows and (dw − 1) between its columns (lhs
 * dilation), reads outside xd are zero (padding, which may be negative: a crop), and the G feature
 * groups each map cg = Cin / G input channels to og = Cout / G outputs. The strides, dilations and
 * explicit padding are what the transposes (the vjp rules) need: the gradient of a conv2d is again
 * a conv2d, so every order of derivative is one.
 */
export interface ConvParams {
  strides: [number, number];
  /** [[loH, hiH], [loW, hiW]] */
  padding: [[number, number], [number, number]];
  lhsDilation: [number, number];
  rhsDilation: [number, number];
  featureGroupCount: number;
}

/** Output length of one spatial axis (input n, filter k), or ≤ 0 when the window does not fit. */
export function convOutLength(n: number, k: number, s: number, lo: number, hi: number, d: number, r: number): number {
  const padded = (n === 0 ? 0 : (n - 1) * d + 1) + lo + hi;
  const kEff = (k - 1) * r + 1;
  return padded < kEff ? 0 : Math.floor((padded - kEff) / s) + 1;
}

function conv(x: Tensor, w: Tensor, p: ConvParams): Tensor {
  return bind1(conv2dPrim, [x, w], p);
}

/** w with its spatial axes reversed (the filter of the transposed convolution). */
function flipHW(w: Tensor): Tensor {
  let out = w;
  for (const axis of [0, 1]) {
    const k = w.shape[axis]!;
    if (k === 1) continue;
    const idx = new Int32Array(k);
    for (let i = 0; i < k; i++) idx[i] = k - 1 - i;
    out = take(out, fromHost(idx, [k], backendOfTensor(w)), axis);
  }
  return out;
}

/**
 * ∂x from the output cotangent: a convolution of ct dilated by the forward strides with the
 * flipped filter, its in/out channels swapped within each group. Along one axis,
 * dxd[q] = Σ_i ctd[q + lo − i·r]·w[i] = Σ_i' ctd[q − (kEff − 1 − lo) + i'·r]·w[k − 1 − i'], so the
 * padding is lo' = kEff − 1 − lo, and x's positions are every d-th of xd: stride d.
 */
function lhsTranspose(ct: Tensor, w: Tensor, xShape: readonly number[], p: ConvParams): Tensor {
  const G = p.featureGroupCount;
  const [kh, kw, cg, cout] = w.shape as [number, number, number, number];
  const og = cout / G;
  const wt = reshape(transpose(reshape(flipHW(w), [kh, kw, cg, G, og]), [0, 1, 4, 3, 2]), [kh, kw, og, G * cg]);
  const pad = [0, 1].map((a) => {
    const k = w.shape[a]!, n = xShape[1 + a]!, no = ct.shape[1 + a]!;
    const [lo] = p.padding[a]!;
    const kEff = (k - 1) * p.rhsDilation[a]! + 1;
    return [kEff - 1 - lo, (n - 1) * p.lhsDilation[a]! + lo - (no - 1) * p.strides[a]!] as [number, number];
  }) as ConvParams['padding'];
  return conv(ct, wt, { strides: p.lhsDilation, padding: pad, lhsDilation: p.strides, rhsDilation: p.rhsDilation, featureGroupCount: G });
}

/**
 * ∂w from the output cotangent: dw[i, c, o] = Σ_{n, a} xd[n, a·s + i·r − lo, c]·ct[n, a, o], a
 * convolution whose "batch" is x's channel within its group, whose input channels are (group,
 * example) and whose filter is ct (spatial Ho × Wo): strides and filter dilation trade places.
 */
function rhsTranspose(x: Tensor, ct: Tensor, wShape: readonly number[], p: ConvParams): Tensor {
  const G = p.featureGroupCount;
  const [n, h, wd, c] = x.shape as [number, number, number, number];
  const cg = c / G;
  const lhs = reshape(transpose(reshape(x, [n, h, wd, G, cg]), [4, 1, 2, 3, 0]), [cg, h, wd, G * n]);
  const rhs = transpose(ct, [1, 2, 0, 3]);
  const pad = [0, 1].map((a) => {
    const k = wShape[a]!, len = x.shape[1 + a]!, no = ct.shape[1 + a]!;
    const [lo] = p.padding[a]!;
    return [lo, (k - 1) * p.rhsDilation[a]! + (no - 1) * p.strides[a]! - (len - 1) * p.lhsDilation[a]! - lo] as [number, number];
  }) as ConvParams['padding'];
  const dw = conv(lhs, rhs, { strides: p.rhsDilation, padding: pad, lhsDilation: p.lhsDilation, rhsDilation: p.strides, featureGroupCount: G });
  return transpose(dw, [1, 2, 0, 3]);
}

export const conv2dPrim: Primitive<ConvParams> = {
  name: 'conv2d',
  shape: ([x, w], p) => {
    const dtype = assertSameDType('conv2d', [x!.dtype, w!.dtype]);
    assertFloat('conv2d', dtype);
    const G = p.featureGroupCount;
    if (x!.shape.length !== 4 || w!.shape.length !== 4 || x!.shape[3] !== w!.shape[2]! * G || w!.shape[3]! % G !== 0) {
      throw new ShapeError(
        `conv2d: x must be NHWC [N, H, W, Cin] and w HWIO [kh, kw, Cin/${G}, Cout] with Cout divisible by ${G} (feature groups), ` +
          `got ${fmtShape(x!.shape)} and ${fmtShape(w!.shape)}.`,
      );
    }
    const out = [0, 1].map((a) =>
      convOutLength(x!.shape[1 + a]!, w!.shape[a]!, p.strides[a]!, p.padding[a]![0], p.padding[a]![1], p.lhsDilation[a]!, p.rhsDilation[a]!),
    );
    if (out[0]! < 1 || out[1]! < 1) {
      throw new ShapeError(`conv2d: the ${w!.shape[0]}×${w!.shape[1]} filter does not fit the ${x!.shape[1]}×${x!.shape[2]} input with padding ${JSON.stringify(p.padding)}.`);
    }
    return [{ shape: [x!.shape[0]!, out[0]!, out[1]!, w!.shape[3]!], dtype }];
  },
  // bilinear: d(x ⋆ w) = dx ⋆ w + x ⋆ dw
  jvp: ([x, w], [tx, tw], p) => {
    const a = tx && conv(tx, w!, p);
    const b = tw && conv(x!, tw, p);
    return [a && b ? add(a, b) : a ?? b];
  },
  vjp: ([ct], [x, w], _o, p, needs) => {
    if (!ct) return [null, null];
    return [needs[0] ? lhsTranspose(ct, w!, x!.shape, p) : null, needs[1] ? rhsTranspose(x!, ct, w!.shape, p) : null];
  },
  /**
   * A batch over x folds into N. A batch over w alone folds into Cout (within each group, so the
   * groups stay contiguous); over both, each example becomes its own set of feature groups
   * (G·B groups), as JAX's batching of conv_general_dilated does.
   */
  batch: ([x, w], dims, p, size) => {
    const B = size;
    const G = p.featureGroupCount;
    if (dims[1] === null) {
      const [, n, h, wd, c] = x!.shape as number[];
      const y = conv(reshape(x!, [B * n!, h!, wd!, c!]), w!, p);
      return [reshape(y, [B, n!, ...y.shape.slice(1)])];
    }
    const [, kh, kw, cg, cout] = w!.shape as number[];
    const og = cout! / G;
    if (dims[0] === null) {
      const wf = reshape(transpose(reshape(w!, [B, kh!, kw!, cg!, G, og]), [1, 2, 3, 4, 0, 5]), [kh!, kw!, cg!, G * B * og]);
      const y = conv(x!, wf, p);
      const [n, ho, wo] = y.shape as number[];
      return [reshape(transpose(reshape(y, [n!, ho!, wo!, G, B, og]), [4, 0, 1, 2, 3, 5]), [B, n!, ho!, wo!, cout!])];
    }
    const [, n, h, wd, c] = x!.shape as number[];
    const xf = reshape(transpose(x!, [1, 2, 3, 0, 4]), [n!, h!, wd!, B * c!]);
    const wf = reshape(transpose(w!, [1, 2, 3, 0, 4]), [kh!, kw!, cg!, B * cout!]);
    const y = conv(xf, wf, { ...p, featureGroupCount: B * G });
    const [, ho, wo] = y.shape as number[];
    return [transpose(reshape(y, [n!, ho!, wo!, B, cout!]), [3, 0, 1, 2, 4])];
  },
};
