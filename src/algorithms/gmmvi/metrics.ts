/**
 * gmmvi's expensive metrics (§9 of the notes) beyond −ELBO: the MMD between model samples and
 * ground-truth target samples, and the planar robot's modes per goal. (The GMM / STM targets carry
 * their own `detectedModes`, the "a model mean within 6√d of a target mean" rule.)
 */
import type { Tensor } from '../../tensor.js';
import { ShapeError, ConfigError } from '../../errors.js';
import { tidy } from '../../memory.js';
import { add, cast, exp, mul, square, sub } from '../../autodiff/ops/elementwise.js';
import { matmul } from '../../autodiff/ops/matmul.js';
import { tensor } from '../../autodiff/ops/creation.js';
import { expandDims, mT } from '../../autodiff/ops/shape.js';
import { sum } from '../../autodiff/ops/reduce.js';
import type { PlanarRobotTarget } from './targets/planar-robot.js';

function median(v: Float64Array): number {
  const s = v.slice().sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : 0.5 * (s[m - 1]! + s[m]!);
}

/**
 * gmmvi's MMD bandwidth: per dimension, the median of the squared differences over all pairs
 * i < j of the first `maxPoints` (1000) ground-truth rows.
 */
export function mmdBandwidth(groundTruth: Tensor, maxPoints = 1000): number[] {
  if (groundTruth.ndim !== 2 || groundTruth.shape[0]! < 2) throw new ShapeError(`gmmvi.mmdBandwidth: ground truth must be [n ≥ 2, d], got [${groundTruth.shape.join(', ')}].`);
  const n = Math.min(maxPoints, groundTruth.shape[0]!);
  const d = groundTruth.shape[1]!;
  const x = Float64Array.from(groundTruth.dataSync());
  const out: number[] = [];
  const buf = new Float64Array((n * (n - 1)) / 2);
  for (let j = 0; j < d; j++) {
    let c = 0;
    for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) buf[c++] = (x[a * d + j]! - x[b * d + j]!) ** 2;
    out.push(median(buf));
  }
  return out;
}

/**
 * The biased (V-statistic) squared MMD between ground-truth samples [n_g, d] and model samples
 * [n_m, d] under gmmvi's kernel k(x, y) = exp(−(x − y)ᵀ(α Σ_k)⁻¹(x − y)), Σ_k = diag(`bandwidth`)
 * (default `mmdBandwidth(groundTruth)`); α is 20 for breastCancer and 6 for the planar robot in
 * gmmvi's experiments. MMD² = mean K_gg + mean K_mm − 2 mean K_gm.
 */
export function mmd(groundTruth: Tensor, modelSamples: Tensor, alpha: number, bandwidth?: number[]): number {
  const op = 'gmmvi.mmd';
  const d = groundTruth.shape[1]!;
  if (groundTruth.ndim !== 2 || modelSamples.ndim !== 2 || modelSamples.shape[1] !== d) throw new ShapeError(`${op}: ground truth [n_g, d] and model samples [n_m, d] must share d, got [${groundTruth.shape.join(', ')}] and [${modelSamples.shape.join(', ')}].`);
  if (!(alpha > 0)) throw new ConfigError(`${op}: alpha must be > 0, got ${String(alpha)}.`);
  const bw = bandwidth ?? mmdBandwidth(groundTruth);
  if (bw.length !== d || bw.some((v) => !(v > 0))) throw new ConfigError(`${op}: bandwidth must be ${d} positive numbers (per-dimension median squared differences); a constant coordinate in the ground truth gives 0.`);
  return tidy(() => {
    const scale = tensor(bw.map((v) => 1 / Math.sqrt(alpha * v)), { dtype: groundTruth.dtype as 'float64' | 'float32' });
    const g = mul(groundTruth, scale);
    const m = mul(cast(modelSamples, groundTruth.dtype), scale);
    const meanK = (a: Tensor, b: Tensor): number => {
      const d2 = sub(add(expandDims(sum(square(a), { axis: 1 }), 1), expandDims(sum(square(b), { axis: 1 }), 0)), mul(matmul(a, mT(b)), 2));
      return (sum(exp(mul(d2, -1))).dataSync()[0] as number) / (a.shape[0]! * b.shape[0]!);
    };
    return meanK(g, g) + meanK(m, m) - 2 * meanK(g, m);
  });
}

/**
 * gmmvi's planar-robot modes per goal: among the model means whose end effector lies within
 * `eeTolerance` (0.05) of the goal and whose log p̃ exceeds `minLogDensity` (−7), sort the first
 * joint angles; each gap larger than `angleGap` (0.4) starts a new mode.
 */
export function planarRobotModes(target: PlanarRobotTarget, modelMeans: Tensor, opts: { eeTolerance?: number; minLogDensity?: number; angleGap?: number } = {}): number[] {
  const tol = opts.eeTolerance ?? 0.05;
  const minLp = opts.minLogDensity ?? -7;
  const gap = opts.angleGap ?? 0.4;
  const [ee, lp] = tidy(() => [Array.from(target.endEffector(modelMeans).dataSync()), Array.from(target.logDensity(modelMeans).dataSync())]);
  const d = modelMeans.shape[1]!;
  const mu = Array.from(modelMeans.dataSync());
  return target.goals.map(([gx, gy]) => {
    const first = lp
      .map((v, i) => ({ v, i }))
      .filter(({ v, i }) => v > minLp && Math.hypot(ee[2 * i]! - gx!, ee[2 * i + 1]! - gy!) < tol)
      .map(({ i }) => mu[i * d]!)
      .sort((a, b) => a - b);
    if (first.length === 0) return 0;
    let modes = 1;
    for (let i = 1; i < first.length; i++) if (first[i]! - first[i - 1]! > gap) modes++;
    return modes;
  });
}
