/** Special functions the JS Math object lacks, accurate to float64 rounding. */

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const ONE_OVER_SQRT_PI = 0.5641895835477563;

/**
 * erf(x). For |x| < 3 the series erf(x) = 2/√π e^{-x²} Σ 2ⁿ x^{2n+1} / (1·3···(2n+1)) has only
 * positive terms (no cancellation); beyond, erfc by its continued fraction.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 3) {
    const x2 = x * x;
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (2 * x2) / (2 * n + 1);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    const r = TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
    return x < 0 ? -r : r;
  }
  const r = 1 - erfcLarge(ax);
  return x < 0 ? -r : r;
}

export function erfc(x: number): number {
  if (x >= 2) return erfcLarge(x);
  if (x <= -2) return 2 - erfcLarge(-x);
  return 1 - erf(x);
}

/**
 * erf⁻¹(y): Giles' (2010) single-precision approximation, refined by Newton steps on erf (or on
 * erfc near ±1, where erf(x) − y would cancel), to float64 accuracy.
 */
export function erfinv(y: number): number {
  if (!(y > -1 && y < 1)) return y === 1 ? Infinity : y === -1 ? -Infinity : NaN;
  let w = -Math.log((1 - y) * (1 + y));
  let p: number;
  if (w < 5) {
    w -= 2.5;
    p = 2.81022636e-8;
    p = 3.43273939e-7 + p * w;
    p = -3.5233877e-6 + p * w;
    p = -4.39150654e-6 + p * w;
    p = 0.00021858087 + p * w;
    p = -0.00125372503 + p * w;
    p = -0.00417768164 + p * w;
    p = 0.246640727 + p * w;
    p = 1.50140941 + p * w;
  } else {
    w = Math.sqrt(w) - 3;
    p = -0.000200214257;
    p = 0.000100950558 + p * w;
    p = 0.00134934322 + p * w;
    p = -0.00367342844 + p * w;
    p = 0.00573950773 + p * w;
    p = -0.0076224613 + p * w;
    p = 0.00943887047 + p * w;
    p = 1.00167406 + p * w;
    p = 2.83297682 + p * w;
  }
  let x = p * y;
  const ay = Math.abs(y);
  const s = y < 0 ? -1 : 1;
  for (let it = 0; it < 3; it++) {
    const ax = Math.abs(x);
    const d = TWO_OVER_SQRT_PI * Math.exp(-ax * ax);
    if (d === 0) break;
    // residual in the better-conditioned form
    const r = ay > 0.5 ? -(erfc(ax) - (1 - ay)) : erf(ax) - ay;
    x = s * (ax - r / d);
  }
  return x;
}

/** erfc(x) for x >= 3 by the continued fraction x + (1/2)/(x + 1/(x + (3/2)/(x + ...))), Lentz's method. */
function erfcLarge(x: number): number {
  if (x > 27) return 0;
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 300; k++) {
    const a = k / 2;
    d = x + a * d;
    d = d === 0 ? tiny : d;
    c = x + a / c;
    c = c === 0 ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return (ONE_OVER_SQRT_PI * Math.exp(-x * x)) / f;
}

/** Numerically stable logistic function. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Dekker's split of a double into two 26-bit halves (a = hi + lo exactly). */
function splitDouble(a: number): [number, number] {
  const c = 134217729 * a; // 2^27 + 1
  const hi = c - (c - a);
  return [hi, a - hi];
}

/**
 * a·b + c with (almost always) one rounding, as a fused multiply-add: the product's rounding error
 * comes exactly from Dekker's TwoProduct and the sum's from Knuth's TwoSum. (A true FMA also
 * rounds correctly in the rare double-rounding cases this misses.)
 */
export function fma(a: number, b: number, c: number): number {
  const p = a * b;
  if (!Number.isFinite(p) || !Number.isFinite(c)) return p + c;
  const [ah, al] = splitDouble(a);
  const [bh, bl] = splitDouble(b);
  const pe = al * bl - (((p - ah * bh) - al * bh) - ah * bl);
  const s = p + c;
  const bb = s - p;
  const se = (p - (s - bb)) + (c - bb);
  return s + (se + pe);
}

// Wichura (1988), AS 241 PPND16: rational approximations of Φ⁻¹ with relative error ~1e-16.
const NDTRI_A = [3.387132872796366608, 133.14166789178437745, 1971.5909503065514427, 13731.693765509461125,
  45921.953931549871457, 67265.770927008700853, 33430.575583588128105, 2509.0809287301226727];
const NDTRI_B = [1, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077,
  21213.794301586595867, 39307.89580009271061, 28729.085735721942674, 5226.495278852854561];
const NDTRI_C = [1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055, 3.64784832476320460504,
  1.27045825245236838258, 0.24178072517745061177, 0.0227238449892691845833, 7.7454501427834140764e-4];
const NDTRI_D = [1, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455,
  0.14810397642748007459, 0.0151986665636164571966, 5.475938084995344946e-4, 1.05075007164441684324e-9];
const NDTRI_E = [6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358, 0.29656057182850489123,
  0.026532189526576123093, 0.0012426609473880784386, 2.71155556874348757815e-5, 2.01033439929228813265e-7];
const NDTRI_F = [1, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525,
  7.868691311456132591e-4, 1.8463183175100546818e-5, 1.4215117583164458887e-7, 2.04426310338993978564e-15];

function ratio(p: number[], q: number[], x: number): number {
  let n = p[7]!;
  let d = q[7]!;
  for (let i = 6; i >= 0; i--) {
    n = n * x + p[i]!;
    d = d * x + q[i]!;
  }
  return n / d;
}

/**
 * Φ⁻¹(u), the standard normal quantile, to float64 accuracy over the whole of (0, 1): the tails use
 * r = √(−log min(u, 1 − u)), so u = 1e-300 keeps its precision where erf⁻¹(2u − 1) would round to −1.
 */
export function ndtri(u: number): number {
  if (!(u > 0 && u < 1)) return u === 0 ? -Infinity : u === 1 ? Infinity : NaN;
  const q = u - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return q * ratio(NDTRI_A, NDTRI_B, r);
  }
  let r = Math.sqrt(-Math.log(q < 0 ? u : 1 - u));
  const x = r <= 5 ? ratio(NDTRI_C, NDTRI_D, r - 1.6) : ratio(NDTRI_E, NDTRI_F, r - 5);
  return q < 0 ? -x : x;
}
