import type { Tensor } from '../../tensor.js';
import { bind1 } from '../core.js';
import { ConfigError, ShapeError } from '../../errors.js';
import { fmtShape } from '../../shape.js';
import { conv2dPrim, type ConvParams } from './conv-prim.js';

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

/** Options of `convGeneralDilated` (jax.lax.conv_general_dilated on NHWC/HWIO/NHWC). */
export interface ConvGeneralOptions {
  /** window strides [sh, sw]; default [1, 1] */
  strides?: [number, number];
  /** 'SAME' | 'VALID' (computed on the dilated shapes, as JAX does) or explicit [[loH, hiH], [loW, hiW]] (negative crops); default 'VALID' */
  padding?: 'SAME' | 'VALID' | [[number, number], [number, number]];
  /** input dilation [dh, dw] (dh − 1 zeros between rows: a transposed convolution); default [1, 1] */
  lhsDilation?: [number, number];
  /** filter dilation [rh, rw] (atrous convolution); default [1, 1] */
  rhsDilation?: [number, number];
  /** feature groups G: Cin = G·w.shape[2], Cout divisible by G; default 1 */
  featureGroupCount?: number;
}

const pair = (op: string, name: string, v: unknown, min: number): [number, number] => {
  if (v === undefined) return [1, 1];
  if (!Array.isArray(v) || v.length !== 2 || !v.every((s) => Number.isInteger(s) && s >= min)) {
    throw new ConfigError(`${op}: ${name} must be two integers ≥ ${min}, got ${JSON.stringify(v)}.`);
  }
  return [v[0], v[1]];
};

function checkOperands(op: string, x: Tensor, w: Tensor, groups: number): void {
  if (x.ndim !== 4 || w.ndim !== 4 || x.shape[3] !== w.shape[2]! * groups || w.shape[3]! % groups !== 0) {
    const g = groups === 1 ? '' : ` (${groups} feature groups: Cin = ${groups}·I, Cout divisible by ${groups})`;
    throw new ShapeError(`${op}: x must be NHWC [N, H, W, Cin] and w HWIO [kh, kw, I, Cout] with Cin = I${g}, got ${fmtShape(x.shape)} and ${fmtShape(w.shape)}.`);
  }
}

/**
 * General 2-D convolution (jax.lax.conv_general_dilated with NHWC inputs, HWIO filters, NHWC
 * outputs): strides, 'SAME'/'VALID'/explicit padding, input (lhs) and filter (rhs) dilation and
 * feature groups. One primitive, so its derivatives and batching are convolutions again.
 */
export function convGeneralDilated(x: Tensor, w: Tensor, opts: ConvGeneralOptions = {}): Tensor {
  const op = 'convGeneralDilated';
  const strides = pair(op, 'strides', opts.strides, 1);
  const lhsDilation = pair(op, 'lhsDilation', opts.lhsDilation, 1);
  const rhsDilation = pair(op, 'rhsDilation', opts.rhsDilation, 1);
  const G = opts.featureGroupCount ?? 1;
  if (!Number.isInteger(G) || G < 1) throw new ConfigError(`${op}: featureGroupCount must be a positive integer, got ${JSON.stringify(opts.featureGroupCount)}.`);
  checkOperands(op, x, w, G);
  const padSpec = opts.padding ?? 'VALID';
  let padding: ConvParams['padding'];
  if (padSpec === 'SAME' || padSpec === 'VALID') {
    padding = [0, 1].map((a) => {
      const n = x.shape[1 + a]!;
      const nd = n === 0 ? 0 : (n - 1) * lhsDilation[a]! + 1;
      const kEff = (w.shape[a]! - 1) * rhsDilation[a]! + 1;
      const p = convPadding(nd, kEff, strides[a]!, padSpec);
      return [p.lo, p.hi];
    }) as ConvParams['padding'];
  } else {
    if (!Array.isArray(padSpec) || padSpec.length !== 2 || !padSpec.every((p) => Array.isArray(p) && p.length === 2 && p.every(Number.isInteger))) {
      throw new ConfigError(`${op}: padding must be 'SAME', 'VALID' or [[loH, hiH], [loW, hiW]] integers, got ${JSON.stringify(padSpec)}.`);
    }
    padding = [[padSpec[0]![0], padSpec[0]![1]], [padSpec[1]![0], padSpec[1]![1]]];
  }
  return bind1(conv2dPrim, [x, w], { strides, padding, lhsDilation, rhsDilation, featureGroupCount: G });
}

/**
 * 2-D convolution (cross-correlation, as jax.lax.conv / tf.nn.conv2d): x NHWC [N, H, W, Cin],
 * w HWIO [kh, kw, Cin, Cout] → [N, Ho, Wo, Cout], with window strides and 'SAME'/'VALID'
 * padding. Runs the conv2d primitive (CPU: im2col + the Wasm matmul; WebGPU: a WGSL kernel); its
 * jvp, vjp and vmap rules are convolutions, so derivatives of every order work.
 */
export function conv2d(x: Tensor, w: Tensor, opts: Conv2dOptions = {}): Tensor {
  const [sh, sw] = opts.strides ?? [1, 1];
  const padding = opts.padding ?? 'VALID';
  if (![sh, sw].every((s) => Number.isInteger(s) && s >= 1)) throw new ConfigError(`conv2d: strides must be two positive integers, got ${JSON.stringify(opts.strides)}.`);
  if (padding !== 'SAME' && padding !== 'VALID') throw new ConfigError(`conv2d: padding must be 'SAME' or 'VALID', got ${JSON.stringify(padding)}.`);
  if (x.ndim !== 4 || w.ndim !== 4 || x.shape[3] !== w.shape[2]) {
    throw new ShapeError(`conv2d: x must be NHWC [N, H, W, Cin] and w HWIO [kh, kw, Cin, Cout] with equal Cin, got ${fmtShape(x.shape)} and ${fmtShape(w.shape)}.`);
  }
  const [, h, wd] = x.shape as [number, number, number, number];
  const [kh, kw] = w.shape as [number, number, number, number];
  const ph = convPadding(h, kh, sh, padding);
  const pw = convPadding(wd, kw, sw, padding);
  if (ph.out < 1 || pw.out < 1) throw new ShapeError(`conv2d: the ${kh}×${kw} window does not fit the ${h}×${wd} input with '${padding}' padding.`);
  const p: ConvParams = { strides: [sh, sw], padding: [[ph.lo, ph.hi], [pw.lo, pw.hi]], lhsDilation: [1, 1], rhsDilation: [1, 1], featureGroupCount: 1 };
  return bind1(conv2dPrim, [x, w], p);
}

