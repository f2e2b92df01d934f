import type { Tensor } from '../../tensor.js';
import { ConfigError, ShapeError } from '../../errors.js';
import { fmtShape } from '../../shape.js';
import { matmul } from './matmul.js';
import { concat, pad, reshape, slice } from './shape.js';

/** Options of `conv2d`: window strides [sh, sw] (default [1, 1]) and 'SAME' | 'VALID' padding (default 'VALID'). */
export interface Conv2dOptions {
  strides?: [number, number];
  padding?: 'SAME' | 'VALID';
}

/** TF/JAX padding of one spatial axis: [lo, hi] and the output length. */
export function convPadding(n: number, k: number, s: number, padding: 'SAME' | 'VALID'): { lo: number; hi: number; out: number } {
  if (padding === 'VALID') return { lo: 0, hi: 0, out: Math.floor((n - k) / s) + 1 };
  const out = Math.ceil(n / s);
  const total = Math.max((out - 1) * s + k - n, 0);
  return { lo: Math.floor(total / 2), hi: total - Math.floor(total / 2), out };
}

/**
 * 2-D convolution (cross-correlation, as jax.lax.conv / tf.nn.conv2d): x NHWC [N, H, W, Cin],
 * w HWIO [kh, kw, Cin, Cout] → [N, Ho, Wo, Cout]. Interim implementation composed of pad, slice,
 * reshape, concat and one matmul over the im2col patches, so jvp, vjp, vmap and higher orders come
 * from those ops on every backend; the dedicated conv2d primitive (issue 14) is not built yet.
 */
export function conv2d(x: Tensor, w: Tensor, opts: Conv2dOptions = {}): Tensor {
  const [sh, sw] = opts.strides ?? [1, 1];
  const padding = opts.padding ?? 'VALID';
  if (![sh, sw].every((s) => Number.isInteger(s) && s >= 1)) throw new ConfigError(`conv2d: strides must be two positive integers, got ${JSON.stringify(opts.strides)}.`);
  if (padding !== 'SAME' && padding !== 'VALID') throw new ConfigError(`conv2d: padding must be 'SAME' or 'VALID', got ${JSON.stringify(padding)}.`);
  if (x.ndim !== 4 || w.ndim !== 4 || x.shape[3] !== w.shape[2]) {
    throw new ShapeError(`conv2d: x must be NHWC [N, H, W, Cin] and w HWIO [kh, kw, Cin, Cout] with equal Cin, got ${fmtShape(x.shape)} and ${fmtShape(w.shape)}.`);
  }
  const [n, h, wd, c] = x.shape as [number, number, number, number];
  const [kh, kw, , co] = w.shape as [number, number, number, number];
  const ph = convPadding(h, kh, sh, padding);
  const pw = convPadding(wd, kw, sw, padding);
  if (ph.out < 1 || pw.out < 1) throw new ShapeError(`conv2d: the ${kh}×${kw} window does not fit the ${h}×${wd} input with '${padding}' padding.`);
  // pad so that every tap's strided window is a whole [Ho·sh, Wo·sw] block
  const needH = (kh - 1) + ph.out * sh;
  const needW = (kw - 1) + pw.out * sw;
  const xp = pad(x, [0, ph.lo, pw.lo, 0], [0, Math.max(needH - h - ph.lo, 0), Math.max(needW - wd - pw.lo, 0), 0]);
  const taps: Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      let t = slice(xp, [0, i, j, 0], [n, ph.out * sh, pw.out * sw, c]);
      if (sh > 1 || sw > 1) {
        t = slice(reshape(t, [n, ph.out, sh, pw.out, sw, c]), [0, 0, 0, 0, 0, 0], [n, ph.out, 1, pw.out, 1, c]);
        t = reshape(t, [n, ph.out, pw.out, c]);
      }
      taps.push(t);
    }
  }
  const patches = concat(taps, 3); // [N, Ho, Wo, kh·kw·Cin], ordered (i, j, c) as HWIO
  return matmul(patches, reshape(w, [kh * kw * c, co]));
}
