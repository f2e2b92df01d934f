/**
 * The small CNN that compresses a 2-D Gaussian random field [..., N, N] to summaries, in the
 * spirit of imnn's field example (Inception blocks there; far smaller here, for CPU tests):
 *
 *   level 0 = the field; level s = level s−1 averaged over 2×2 blocks (a fixed stride-2 conv)
 *   per level: 3×3 conv (c filters) → LeakyReLU → 3×3 stride-2 conv (c) → LeakyReLU → global mean
 *   all levels' pooled features → dense → nSummaries
 *
 * Why this shape. The information about (A, B) is the power at each scale: its level and its
 * slope. A rectified filter response averaged over the image measures the power in the filter's
 * band; the pyramid puts the same small filters at every octave, so the bands of all octaves are
 * there from the start, where a plain strided chain sees large scales only through random deeper
 * layers (its features at initialisation carried < 10 % of det F for a linear readout, measured).
 * The first conv of a level starts with its filters in sign pairs (w, −w): LeakyReLU(y) +
 * LeakyReLU(−y) ∝ |y|, whose mean estimates the band's amplitude with ≈ 88 % of the Gaussian
 * efficiency, against ≈ 23 % for ReLU(y) alone, so the head can read the power without first
 * having to learn the pairs. All weights stay trainable.
 * Used by test/algorithms/imnn/field.test.ts, examples/imnn/validate.ts and bench/imnn.ts.
 */
import * as bt from '../../src/index.js';

/** Options of the field network. */
export interface FieldModelOptions {
  /** side N of the field (divisible by 2^levels) */
  n: number;
  /** pyramid levels; default 3 */
  levels?: number;
  /** filters per conv (even: sign pairs); default 8 */
  channels?: number;
  /** number of summaries; default 2 */
  nSummaries?: number;
  dtype?: 'float32' | 'float64';
}

/** Parameters: two conv layers per level and the dense head. */
export interface FieldModelParams {
  levels: { a: bt.nn.Conv2dParams; b: bt.nn.Conv2dParams }[];
  head: bt.nn.DenseParams;
}

/** 2×2 block mean of [M, H, W, 1] → [M, H/2, W/2, 1]. */
function halve(x: bt.Tensor): bt.Tensor {
  const [m, h, w] = x.shape as [number, number, number, number];
  return x.reshape([m, h / 2, 2, w / 2, 2]).mean({ axis: [2, 4] }).reshape([m, h / 2, w / 2, 1]);
}

/** The field network: a bt.nn module (apply broadcasts over the leading axes of [..., N, N]) plus its pooled features. */
export interface FieldModel extends bt.nn.Module<FieldModelParams> {
  /** the pooled features the head reads, [M, 2·channels·levels] for fields [M, N, N] */
  features(p: FieldModelParams, d: bt.Tensor): bt.Tensor;
}

export function fieldModel(opts: FieldModelOptions): FieldModel {
  const { n, levels = 3, channels: c = 8, nSummaries = 2 } = opts;
  if (!Number.isInteger(levels) || levels < 1 || !Number.isInteger(n) || n % 2 ** levels !== 0) {
    throw new bt.ConfigError(`fieldModel: n must be divisible by 2^levels (levels ≥ 1), got n = ${n}, levels = ${levels}.`);
  }
  if (!Number.isInteger(c) || c < 2 || c % 2 !== 0) throw new bt.ConfigError(`fieldModel: channels must be an even integer ≥ 2 (sign pairs), got ${c}.`);
  const dt = opts.dtype ? { dtype: opts.dtype } : {};
  // glorotUniform for the first half of the filters, their negatives for the second half
  const paired: bt.nn.Initializer = (key, shape, dtype) => {
    const half = bt.nn.initializers.glorotUniform(key, [shape[0], shape[1] / 2], dtype);
    return bt.concat([half, half.neg()], 1);
  };
  const first = bt.nn.conv2d({ inFeatures: 1, features: c, kernelSize: [3, 3], padding: 'SAME', init: paired, ...dt });
  const second = bt.nn.conv2d({ inFeatures: c, features: c, kernelSize: [3, 3], strides: [2, 2], padding: 'SAME', ...dt });
  const head = bt.nn.dense({ inFeatures: 2 * c * levels, outFeatures: nSummaries, ...dt });
  return {
    init: (key) => {
      const ks = bt.random.split(key, 2 * levels + 1);
      const at = (i: number) => ks.slice([i, 0], [1, 2]).reshape([2]);
      return {
        levels: Array.from({ length: levels }, (_, s) => ({ a: first.init(at(2 * s)), b: second.init(at(2 * s + 1)) })),
        head: head.init(at(2 * levels)),
      };
    },
    features: (p, d) => features(p, d),
    apply: (p, d) => {
      const lead = d.shape.slice(0, -2);
      return head.apply(p.head, features(p, d)).reshape([...lead, nSummaries]);
    },
  };
  function features(p: FieldModelParams, d: bt.Tensor): bt.Tensor {
      if (d.ndim < 2 || d.shape[d.ndim - 1] !== n || d.shape[d.ndim - 2] !== n) {
        throw new bt.ShapeError(`fieldModel apply: input must be [..., ${n}, ${n}], got [${d.shape.join(', ')}].`);
      }
      let x = d.reshape([-1, n, n, 1]);
      const feats: bt.Tensor[] = [];
      p.levels.forEach((l, s) => {
        if (s > 0) x = halve(x);
        const h = bt.nn.leakyRelu(first.apply(l.a, x));
        feats.push(bt.nn.globalAveragePool(h));
        feats.push(bt.nn.globalAveragePool(bt.nn.leakyRelu(second.apply(l.b, h))));
      });
      return bt.concat(feats, -1);
  }
}

/**
 * Data-dependent start for the head (as LSUV initialisation): W = L⁻ᵀQ, b = −Wᵀ mean(f), with
 * C_f = LLᵀ the features' covariance over `fields` [M, N, N] (M > features) and Q a random
 * orthonormal [features, nSummaries] (from `seed`), so the summaries start with covariance I. Why: the loss
 * pins C to I (Λ₂), but the pooled features fluctuate by ~1 % of their size, so from the default
 * head C ≈ 1e-5·I and Adam at 1e-3…1e-2 spends thousands of steps only scaling the outputs up.
 * The head is still random (no derivative or θ information is used). `chunk`: fields per
 * feature pass (default all).
 */
export function whitenHead(model: FieldModel, p: FieldModelParams, fields: bt.Tensor, seed: number, chunk = fields.shape[0]!): FieldModelParams {
  return bt.tidy(() => {
    // features `chunk` fields at a time (memory: the convolutions of large fields)
    const parts: bt.Tensor[] = [];
    for (let i = 0; i < fields.shape[0]!; i += chunk) parts.push(bt.tidy(() => model.features(p, fields.slice([i], [Math.min(chunk, fields.shape[0]! - i)]))));
    const f = bt.concat(parts, 0);
    const [m, nf] = f.shape as [number, number];
    const k = p.head.w.shape[1]!;
    if (m <= nf) throw new bt.ShapeError(`whitenHead: need more fields than features (${nf}), got ${m}.`);
    const mu = f.mean({ axis: 0 });
    const fc = f.sub(mu);
    const C = bt.matmul(bt.mT(fc), fc).div(m - 1);
    const L = bt.linalg.cholesky(C);
    // Gram–Schmidt on k random normal columns
    // drawn on the CPU (a WebGPU tensor cannot be read synchronously)
    const g = bt.withBackend('cpu', () => bt.tidy(() => bt.random.normal(bt.random.key(seed), [nf, k], { dtype: 'float64' }).dataSync()));
    const q = Array.from({ length: k }, (_, j) => Array.from({ length: nf }, (_, i) => g[i * k + j]!));
    q.forEach((v, j) => {
      for (let i = 0; i < j; i++) { const d = v.reduce((a, x, r) => a + x * q[i]![r]!, 0); v.forEach((_, r) => { v[r]! -= d * q[i]![r]!; }); }
      const nrm = Math.hypot(...v);
      v.forEach((_, r) => { v[r]! /= nrm; });
    });
    const Q = bt.tensor(Array.from({ length: nf * k }, (_, idx) => q[idx % k]![Math.floor(idx / k)]!), { shape: [nf, k], dtype: f.dtype as 'float64' });
    const W = bt.linalg.triangularSolve(L, Q, { lower: true, transposeA: true });
    const b = bt.matmul(mu.reshape([1, nf]), W).reshape([k]).neg();
    return { levels: p.levels, head: { w: W, b } };
  });
}
