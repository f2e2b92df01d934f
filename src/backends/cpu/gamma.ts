import { splitKeys, randomUniform32, randomUniform64 } from '../../prng/threefry.js';
import { erfinv, fma } from './special.js';

/**
 * One Gamma(α, 1) draw as jax.random.gamma draws it (jax/_src/random.py, `_gamma_one`, the
 * non-log-space branch), re-derived from its maths: Marsaglia & Tsang (2000) on α' = α (α ≥ 1) or
 * α + 1 (boosted), d = α' − 1/3, c = 1/(3√d). The key splits into (key, subkey); each round splits
 * key into (key, xKey, uKey); the normal x comes from an inner loop that splits xKey → (xKey, sub)
 * and draws x = √2·erfinv(uniform on (nextafter(−1, ∞), 1)) from sub until v = 1 + c·x > 0; U is
 * uniform from uKey. A round accepts unless U ≥ 1 − 0.0331x⁴ and log U ≥ x²/2 + d(1 − v³ + log v³).
 * The result is d·v³, times (1 − uniform(subkey))^{1/α} when α < 1; an underflow to 0 becomes the
 * dtype's smallest normal number (as JAX does). `f32` gives the float32 stream: 24-bit uniforms and
 * every intermediate rounded to float32.
 */
export function gammaOneJax(key: Int32Array, alpha: number, f32: boolean): number {
  const r = f32 ? Math.fround : (v: number) => v;
  if (Number.isNaN(alpha)) return NaN;
  if (!(alpha > 0)) return NaN;
  const unif = (k: Int32Array) => (f32 ? randomUniform32(k, 1, 1)[0]! : randomUniform64(k, 1, 1)[0]!);
  // normal(k, ()): the bounded uniform on [nextafter(−1, ∞), 1) (span rounds to 2 in both dtypes), then √2 erf⁻¹
  const lo = f32 ? -1 + 2 ** -24 : -1 + 2 ** -53;
  const normal = (k: Int32Array) => {
    const u = unif(k);
    const w = Math.max(lo, f32 ? r(u * 2 + lo) : fma(u, 2, lo));
    return r(r(erfinv(w)) * r(Math.SQRT2));
  };
  const boosted = !(alpha >= 1);
  const a = boosted ? r(alpha + 1) : alpha;
  const d = r(a - r(1 / 3));
  const c = r(r(1 / 3) / r(Math.sqrt(d)));
  const ks = splitKeys(key, 1, 2);
  let k = ks.subarray(0, 2);
  const subkey = ks.subarray(2, 4);
  let X = 0;
  let V = 1;
  let U = 2;
  for (let round = 0; round < 100000; round++) {
    const squeeze = U >= r(1 - r(r(0.0331) * r(X * X)));
    if (!(squeeze && r(Math.log(U)) >= r(r(X * 0.5) + r(d * r(r(1 - V) + r(Math.log(V))))))) break;
    const k3 = splitKeys(k, 1, 3);
    k = k3.subarray(0, 2);
    let xk = k3.subarray(2, 4);
    const uKey = k3.subarray(4, 6);
    let x = 0;
    let v = -1;
    while (v <= 0) {
      const s = splitKeys(xk, 1, 2);
      xk = s.subarray(0, 2);
      x = normal(s.subarray(2, 4));
      v = r(1 + r(x * c));
    }
    X = r(x * x);
    V = r(r(v * v) * v);
    U = unif(uKey);
  }
  let z = r(d * V);
  if (boosted) z = r(z * r(Math.pow(r(1 - unif(subkey)), r(1 / alpha))));
  if (z === 0) z = f32 ? 1.1754943508222875e-38 : 2.2250738585072014e-308;
  return z;
}
