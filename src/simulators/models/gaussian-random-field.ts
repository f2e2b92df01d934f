/**
 * A 2-D Gaussian random field with power spectrum P(k) = A·k^(−B), θ = (A, B) (imnn's
 * 2d_field_inference example). There is no FFT in bayestape: the field is built from dense DFT
 * matrices (cos/sin, two real matmuls per side), O(N³) per field, fine for N ≤ 128.
 *
 * Field: real white noise w [N, N] ~ N(0, 1); W = DFT₂(w) (Hermitian because w is real);
 * δ = IDFT₂(√P(|k|) · W), with P(0) = 0 (the zero mode is removed, as in the reference). So δ is a
 * stationary real Gaussian field with E|DFT₂(δ)(k)|² = N²·P(|k|), k = (2π/N)·(0..N/2, −N/2+1..−1)
 * per axis. Unlike the reference's simulator (a Gaussian magnitude times a uniform phase drawn
 * from the same key, hence not Gaussian), this field is exactly Gaussian, so its Fisher matrix is
 * known exactly: every one of the N² − 1 non-zero modes is one real Gaussian degree of freedom.
 */
import type { Tensor } from '../../tensor.js';
import { ConfigError, ShapeError } from '../../errors.js';
import { add, div, exp, mul, sqrt, sub } from '../../autodiff/ops/elementwise.js';
import { matmul } from '../../autodiff/ops/matmul.js';
import { tensor } from '../../autodiff/ops/creation.js';
import { reshape, slice } from '../../autodiff/ops/shape.js';
import { normal } from '../../random.js';

/** |k| on the N×N grid, imnn's ordering (2π/N)·(0..N/2, −N/2+1..−1) per axis, row-major. */
export function grfWavenumbers(n: number): Float64Array {
  checkN('grfWavenumbers', n);
  const k1 = Array.from({ length: n }, (_, i) => ((i <= n / 2 ? i : i - n) * 2 * Math.PI) / n);
  const k = new Float64Array(n * n);
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) k[a * n + b] = Math.hypot(k1[a]!, k1[b]!);
  return k;
}

function checkN(op: string, n: unknown): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 4 || n % 2 !== 0) throw new ConfigError(`${op}: n must be an even integer ≥ 4, got ${String(n)}.`);
  return n;
}

/**
 * Fisher matrix of (A, B) for the field of `gaussianRandomField(n)`: F_ij = ½ Σ_{k≠0} ∂_i ln P ∂_j ln P
 * over all N² − 1 non-zero modes (∂_A ln P = 1/A, ∂_B ln P = −ln k). Returned as [[F_AA, F_AB], [F_AB, F_BB]].
 */
export function grfFisher(n: number, theta: readonly [number, number] = [1, 0.5]): number[][] {
  return fisherOver('grfFisher', n, theta, (a, b) => !(a === 0 && b === 0));
}

/**
 * The reference's analytic Fisher (imnn docs, 2d_field_inference): the same sum but over the
 * (N/2 − 1)² modes k[1:N/2, 1:N/2] only (one quadrant, axes and Nyquist excluded). It gives
 * det F = 967560.53 at N = 128, but it is not the information of the reference's (or this) field,
 * which has about four times as many independent modes; kept to reproduce the published number.
 */
export function grfFisherReference(n: number, theta: readonly [number, number] = [1, 0.5]): number[][] {
  return fisherOver('grfFisherReference', n, theta, (a, b) => a >= 1 && a < n / 2 && b >= 1 && b < n / 2);
}

function fisherOver(op: string, n: number, theta: readonly [number, number], keep: (a: number, b: number) => boolean): number[][] {
  checkN(op, n);
  const [A] = theta;
  if (!Array.isArray(theta) || theta.length !== 2 || !(A > 0) || !Number.isFinite(theta[1])) throw new ConfigError(`${op}: θ must be [A > 0, B], got ${JSON.stringify(theta)}.`);
  const k = grfWavenumbers(n);
  let aa = 0, ab = 0, bb = 0;
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      if (!keep(a, b)) continue;
      const dA = 1 / A;
      const dB = -Math.log(k[a * n + b]!);
      aa += dA * dA; ab += dA * dB; bb += dB * dB;
    }
  }
  return [[aa / 2, ab / 2], [ab / 2, bb / 2]];
}

/** det of a 2×2 matrix (for the Fisher matrices above). */
export function det2(f: number[][]): number {
  return f[0]![0]! * f[1]![1]! - f[0]![1]! * f[1]![0]!;
}

/**
 * The simulator `(key, θ) → δ [..., N, N]` of a Gaussian random field with P(k) = A·k^(−B),
 * differentiable in θ ([2], or [..., 2] batched like the keys); a key batch [..., 2] gives one
 * field per key (bt.random samplers map over leading key axes). Field scale as the reference
 * (vol_norm and N_scale): pixel variance (1/N²)·Σ_k P(k).
 */
export function gaussianRandomField(n: number): (key: Tensor, theta: Tensor) => Tensor {
  checkN('gaussianRandomField', n);
  const cos = new Float64Array(n * n);
  const sin = new Float64Array(n * n);
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) {
    const ph = (2 * Math.PI * ((a * b) % n)) / n;
    cos[a * n + b] = Math.cos(ph);
    sin[a * n + b] = Math.sin(ph);
  }
  const k = grfWavenumbers(n);
  const logk = k.map((v) => (v === 0 ? 0 : Math.log(v)));
  const zero = k.map((v) => (v === 0 ? 0 : 1));
  return (key: Tensor, theta: Tensor) => {
    if (key.dtype !== 'int32' || key.shape[key.ndim - 1] !== 2) throw new ShapeError(`gaussianRandomField: key must be an int32 PRNG key [..., 2] (bt.random.key / split), got ${key.dtype} [${key.shape.join(', ')}].`);
    if (theta.shape[theta.ndim - 1] !== 2) throw new ShapeError(`gaussianRandomField: θ must be [..., 2] = (A, B), got [${theta.shape.join(', ')}].`);
    if (theta.dtype !== 'float64' && theta.dtype !== 'float32') throw new ConfigError(`gaussianRandomField: θ must be float64 or float32, got ${theta.dtype}.`);
    const dt = theta.dtype;
    const C = tensor(cos, { shape: [n, n], dtype: dt });
    const S = tensor(sin, { shape: [n, n], dtype: dt });
    const lead = theta.shape.slice(0, -1);
    const A = reshape(slice(theta, [...lead.map(() => 0), 0], [...lead, 1]), [...lead, 1, 1]);
    const B = reshape(slice(theta, [...lead.map(() => 0), 1], [...lead, 1]), [...lead, 1, 1]);
    // √P = √A · exp(−B/2 · ln k), zero at k = 0
    const amp = mul(mul(sqrt(A), exp(mul(mul(B, -0.5), tensor(logk, { shape: [n, n], dtype: dt })))), tensor(zero, { shape: [n, n], dtype: dt }));
    const w = normal(key, [n, n], { dtype: dt });
    // W = (C − iS) w (C − iS): Re = CwC − SwS, Im = −(CwS + SwC)
    const wr = sub(matmul(matmul(C, w), C), matmul(matmul(S, w), S));
    const wi = add(matmul(matmul(C, w), S), matmul(matmul(S, w), C)); // = −Im W
    const ar = mul(amp, wr);
    const ai = mul(amp, wi);
    // δ = (1/N²) Re[(C + iS)(ar − i·ai)(C + iS)] = (1/N²)[C ar C − S ar S + C ai S + S ai C]
    const re = add(sub(matmul(matmul(C, ar), C), matmul(matmul(S, ar), S)), add(matmul(matmul(C, ai), S), matmul(matmul(S, ai), C)));
    return div(re, n * n);
  };
}
