/**
 * gmmvi's extra targets: DIAGGMM (10 components, means U(−50, 50)^d, diagonal variances U(0, 10))
 * and the 2-D helpers — Lin et al.'s "star" (five elongated Gaussians rotated about the origin) and
 * a 3-component rotated GMM. All are normalised GMM targets with exact samples.
 */
import type { Tensor } from '../../../tensor.js';
import { ConfigError } from '../../../errors.js';
import { tidy } from '../../../memory.js';
import { add } from '../../../autodiff/ops/elementwise.js';
import { tensor } from '../../../autodiff/ops/creation.js';
import { diag } from '../../../autodiff/ops/indexing.js';
import { foldIn, uniform } from '../../../random.js';
import { gmmTarget, type GmmTarget } from './gmm-target.js';

/** gmmvi's DIAGGMM recipe drawn from `key`: variances U(0, 10) per coordinate (floored at 1e-3). */
export function makeDiagGmmTarget(numDimensions: number, key: Tensor, opts: { numComponents?: number; dtype?: 'float64' | 'float32' } = {}): GmmTarget {
  const d = numDimensions;
  const k = opts.numComponents ?? 10;
  const dt = opts.dtype ?? 'float64';
  if (!Number.isInteger(d) || d < 1) throw new ConfigError(`gmmvi.makeDiagGmmTarget: numDimensions must be a positive integer, got ${String(d)}.`);
  if (!Number.isInteger(k) || k < 1) throw new ConfigError(`gmmvi.makeDiagGmmTarget: numComponents must be a positive integer, got ${String(k)}.`);
  const [w, mu, cov] = tidy(() => {
    const means = uniform(foldIn(key, 0), [k, d], { minval: -50, maxval: 50, dtype: dt });
    const vars = add(uniform(foldIn(key, 1), [k, d], { minval: 0, maxval: 10, dtype: dt }), 1e-3);
    return [tensor(new Array<number>(k).fill(1 / k), { dtype: dt }), means, diag(vars)] as const;
  });
  return gmmTarget(w, mu, cov);
}

function rotated(angle: number, v1: number, v2: number): number[][] {
  const c = Math.cos(angle), s = Math.sin(angle);
  // R diag(v1, v2) Rᵀ
  return [[c * c * v1 + s * s * v2, c * s * (v1 - v2)], [c * s * (v1 - v2), s * s * v1 + c * c * v2]];
}

/** Lin et al.'s star: `numArms` equal-weight Gaussians at radius 1.5, long axis (var 1) radial, short axis var 0.01. */
export function starTarget(opts: { numArms?: number; dtype?: 'float64' | 'float32' } = {}): GmmTarget {
  const k = opts.numArms ?? 5;
  const dt = opts.dtype ?? 'float64';
  const angles = Array.from({ length: k }, (_, i) => (2 * Math.PI * i) / k);
  return gmmTarget(
    tensor(new Array<number>(k).fill(1 / k), { dtype: dt }),
    tensor(angles.map((a) => [1.5 * Math.cos(a), 1.5 * Math.sin(a)]), { dtype: dt }),
    tensor(angles.map((a) => rotated(a, 1, 0.01)), { dtype: dt }),
  );
}

/** A 3-component rotated 2-D GMM (weights 0.5, 0.3, 0.2), scaled by `scale`. */
export function threeComponentTarget(opts: { scale?: number; dtype?: 'float64' | 'float32' } = {}): GmmTarget {
  const sc = opts.scale ?? 1;
  const dt = opts.dtype ?? 'float64';
  const means = [[-2, -1], [2, 1], [0, 3]].map((m) => m.map((v) => v * sc));
  const covs = [rotated(Math.PI / 4, 1, 0.1), rotated(-Math.PI / 3, 0.8, 0.2), rotated(0, 0.5, 0.5)].map((c) => c.map((r) => r.map((v) => v * sc * sc)));
  return gmmTarget(tensor([0.5, 0.3, 0.2], { dtype: dt }), tensor(means, { dtype: dt }), tensor(covs, { dtype: dt }));
}
