/** A naive-loop reference of conv_general_dilated on NHWC/HWIO (float64 host arrays), for the conv2d tests. */
import * as bt from '../../src/index.js';
import { rng } from '../helpers.js';

export interface RefOpts {
  strides: [number, number];
  padding: [[number, number], [number, number]];
  lhsDilation?: [number, number];
  rhsDilation?: [number, number];
  groups?: number;
}

/** TF/JAX 'SAME'/'VALID' padding of the undilated shapes, as [[lo, hi], [lo, hi]]. */
export function tfPadding(h: number, w: number, kh: number, kw: number, s: [number, number], padding: 'SAME' | 'VALID'): [[number, number], [number, number]] {
  return [[h, kh, s[0]], [w, kw, s[1]]].map(([n, k, st]) => {
    if (padding === 'VALID') return [0, 0];
    const out = Math.ceil(n! / st!);
    const total = Math.max((out - 1) * st! + k! - n!, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  }) as [[number, number], [number, number]];
}

/** y[n, a, b, g·og + o] = Σ xd[n, a·sh + i·rh − lo, b·sw + j·rw − lo, g·cg + c]·w[i, j, c, g·og + o], summed by plain loops. */
export function naiveConv(x: ArrayLike<number>, xs: number[], w: ArrayLike<number>, ws: number[], o: RefOpts): { out: number[]; shape: number[] } {
  const [N, H, W, C] = xs as [number, number, number, number];
  const [kh, kw, cg, O] = ws as [number, number, number, number];
  const [dh, dw] = o.lhsDilation ?? [1, 1];
  const [rh, rw] = o.rhsDilation ?? [1, 1];
  const G = o.groups ?? 1;
  const og = O / G;
  const size = (n: number, k: number, s: number, lo: number, hi: number, d: number, r: number) => Math.floor(((n - 1) * d + 1 + lo + hi - ((k - 1) * r + 1)) / s) + 1;
  const Ho = size(H, kh, o.strides[0], o.padding[0][0], o.padding[0][1], dh, rh);
  const Wo = size(W, kw, o.strides[1], o.padding[1][0], o.padding[1][1], dw, rw);
  const out = new Array<number>(N * Ho * Wo * O).fill(0);
  for (let n = 0; n < N; n++) for (let a = 0; a < Ho; a++) for (let b = 0; b < Wo; b++) for (let co = 0; co < O; co++) {
    const g = Math.floor(co / og);
    let acc = 0;
    for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
      const qh = a * o.strides[0] + i * rh - o.padding[0][0];
      const qw = b * o.strides[1] + j * rw - o.padding[1][0];
      if (qh < 0 || qw < 0 || qh % dh !== 0 || qw % dw !== 0) continue;
      const ih = qh / dh, iw = qw / dw;
      if (ih >= H || iw >= W) continue;
      for (let c = 0; c < cg; c++) acc += x[((n * H + ih) * W + iw) * C + g * cg + c]! * w[((i * kw + j) * cg + c) * O + co]!;
    }
    out[((n * Ho + a) * Wo + b) * O + co] = acc;
  }
  return { out, shape: [N, Ho, Wo, O] };
}

/** Uniform(−1, 1) values of `shape` from a seeded stream, as a float64 tensor and its host copy. */
export function uniform(shape: number[], seed: number): { t: bt.Tensor; v: number[] } {
  const r = rng(seed);
  const v = Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 2 * r() - 1);
  return { t: bt.tensor(v, { shape }), v };
}
