/**
 * Autocovariance of one chain by FFT (as ArviZ's `autocov`): zero-padded to a power of two ≥ 2n
 * so the circular correlation equals the linear one, O(n log n) instead of O(n²) per chain.
 */

/** In-place iterative radix-2 complex FFT (re, im of a power-of-two length); inverse when sign = +1, unscaled. */
function fftInPlace(re: Float64Array, im: Float64Array, sign: -1 | 1): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (sign * 2 * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k;
        const b = a + len / 2;
        const xr = re[b]! * cr - im[b]! * ci;
        const xi = re[b]! * ci + im[b]! * cr;
        re[b] = re[a]! - xr;
        im[b] = im[a]! - xi;
        re[a]! += xr;
        im[a]! += xi;
        const t = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = t;
      }
    }
  }
}

/** acov[t] = (1/n) Σ_{i<n−t} (x_i − x̄)(x_{i+t} − x̄) for t = 0 … n−1 (the biased estimator Geyer's sequence uses). */
export function autocovarianceOf(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i]!;
  mean /= n;
  let m = 1;
  while (m < 2 * n) m <<= 1;
  const re = new Float64Array(m);
  const im = new Float64Array(m);
  for (let i = 0; i < n; i++) re[i] = x[i]! - mean;
  fftInPlace(re, im, -1);
  for (let k = 0; k < m; k++) {
    re[k] = re[k]! * re[k]! + im[k]! * im[k]!;
    im[k] = 0;
  }
  fftInPlace(re, im, 1);
  const out = new Float64Array(n);
  for (let t = 0; t < n; t++) out[t] = re[t]! / (m * n);
  return out;
}
