/**
 * Gamma-family special functions in float64 (scalar JS), the CPU kernels of
 * src/autodiff/ops/special-functions.ts. Written for a transliteration to WGSL: plain loops,
 * no allocation. Sources of the methods: Stirling/Euler–Maclaurin series and reflection (DLMF
 * 5.7, 5.11, 25.11); the incomplete gamma and beta functions by their series and continued
 * fractions (DLMF 8.7, 8.9, 8.17.22; Numerical Recipes 3rd ed. §6.2, §6.4), derivatives in the
 * shape parameters by differentiating those same expansions term by term (forward mode through
 * Lentz's algorithm, as Boik & Robison-Cox 1998 do for the incomplete beta), and the inverses by
 * Halley steps on a bracket from NR's initial guesses.
 */

const EPS = 2.220446049250313e-16;
const TINY = 1e-300;
const LOG_PI = 1.1447298858494002;
const HALF_LOG_2PI = 0.9189385332046728;
const EULER = 0.5772156649015329;
const MAX_ITER = 10000;

/** sin(πx) with the argument reduced exactly first (Math.sin(Math.PI·x) is wrong at large x). */
export function sinpi(x: number): number {
  let r = x - 2 * Math.round(x / 2); // exact, in [-1, 1]
  if (r > 0.5) r = 1 - r;
  else if (r < -0.5) r = -1 - r;
  return Math.sin(Math.PI * r);
}

// ζ(k) − 1 for k = 2..60 by Euler–Maclaurin at N = 100 (all terms positive; tail ≪ 1e-17)
const ZETA_M1: number[] = (() => {
  const z: number[] = [NaN, NaN];
  for (let k = 2; k <= 60; k++) {
    let s = 0;
    for (let n = 99; n >= 2; n--) s += Math.pow(n, -k);
    const N = 100;
    s += Math.pow(N, 1 - k) / (k - 1) + 0.5 * Math.pow(N, -k) + (k / 12) * Math.pow(N, -k - 1) - ((k * (k + 1) * (k + 2)) / 720) * Math.pow(N, -k - 3);
    z.push(s);
  }
  return z;
})();

/**
 * log|Γ(x)|. x < 0.5: reflection; [0.5, 1.5): the series of log Γ(1+z) in ζ(k); [1.5, 2.5): the
 * series of log Γ(2+z) in ζ(k) − 1 (both exact zeros, at 1 and 2, kept to full relative
 * accuracy); [2.5, 13): recurrence down into [1.5, 2.5); beyond: Stirling's series.
 */
export function lgamma(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x === Infinity) return Infinity;
  if (x < 0.5) {
    if (x === Math.floor(x)) return Infinity; // poles at 0, -1, -2, ...
    if (x === -Infinity) return Infinity;
    return LOG_PI - Math.log(Math.abs(sinpi(x))) - lgamma(1 - x);
  }
  if (x < 1.5) {
    const z = x - 1;
    let s = 0;
    let p = -z; // (−z)^k, k = 1
    for (let k = 2; k <= 60; k++) {
      p *= -z;
      const t = ((ZETA_M1[k]! + 1) / k) * p;
      s += t;
      if (Math.abs(t) < 1e-17 * Math.abs(s)) break;
    }
    return -EULER * z + s;
  }
  if (x < 2.5) {
    const z = x - 2;
    let s = 0;
    let p = -z; // (−z)^k, k = 1
    for (let k = 2; k <= 60; k++) {
      p *= -z;
      const t = (ZETA_M1[k]! / k) * p;
      s += t;
      if (Math.abs(t) < 1e-17 * Math.abs(s)) break;
    }
    return (1 - EULER) * z + s;
  }
  if (x < 13) {
    let prod = 1;
    let y = x;
    while (y >= 2.5) {
      y -= 1;
      prod *= y;
    }
    return Math.log(prod) + lgamma(y);
  }
  const r = 1 / x;
  const r2 = r * r;
  const series = r * (1 / 12 + r2 * (-1 / 360 + r2 * (1 / 1260 + r2 * (-1 / 1680 + r2 * (1 / 1188 + r2 * (-691 / 360360 + r2 * (1 / 156)))))));
  return (x - 0.5) * Math.log(x) - x + HALF_LOG_2PI + series;
}

/**
 * Hurwitz ζ(s, x) = Σ_k (x + k)^{-s} for s > 1: the sum to x + N ≥ s + 15, then Euler–Maclaurin
 * (the tail's Bernoulli terms shrink geometrically there). x may be negative (not an integer).
 */
export function hurwitzZeta(s: number, x: number): number {
  if (Number.isNaN(x) || Number.isNaN(s)) return NaN;
  if (x <= 0 && x === Math.floor(x)) return NaN;
  if (x < -1e5) return NaN;
  const lim = Math.max(s + 15, 20);
  let sum = 0;
  let y = x;
  while (y < lim) {
    sum += Math.pow(y, -s);
    y += 1;
  }
  // tail Σ_{k≥0} (y+k)^{-s} = y^{1-s}/(s-1) + y^{-s}/2 + Σ_j B_2j/(2j)! s(s+1)…(s+2j-2) y^{-s-2j+1}
  let tail = Math.pow(y, 1 - s) / (s - 1) + 0.5 * Math.pow(y, -s);
  const B2J_OVER_FACT = [1 / 12, -1 / 720, 1 / 30240, -1 / 1209600, 1 / 47900160, -691 / 1307674368000, 1 / 74724249600];
  let poch = s; // s(s+1)…(s+2j-2)
  let yp = Math.pow(y, -s - 1);
  const iy2 = 1 / (y * y);
  for (let j = 0; j < B2J_OVER_FACT.length; j++) {
    const t = B2J_OVER_FACT[j]! * poch * yp;
    tail += t;
    if (Math.abs(t) < 1e-18 * tail) break;
    poch *= (s + 2 * j + 1) * (s + 2 * j + 2);
    yp *= iy2;
  }
  return sum + tail;
}

/** ψ⁽ⁿ⁾(x) = (−1)ⁿ⁺¹ n! ζ(n+1, x) for n ≥ 1; ψ⁽⁰⁾ = digamma. */
export function polygamma(n: number, x: number): number {
  if (!(n >= 0) || n !== Math.floor(n)) return NaN;
  if (n === 0) return digamma(x);
  let fact = 1;
  for (let k = 2; k <= n; k++) fact *= k;
  const z = hurwitzZeta(n + 1, x);
  return (n % 2 === 1 ? fact : -fact) * z;
}

/** The positive root of ψ, x₀ = 1.46163214496836234126…, as hi + lo. */
const PSI_ROOT_HI = 1.4616321449683622;
const PSI_ROOT_LO = 9.5499954299656977e-17;
// ψ⁽ᵏ⁾(x₀)/k! = (−1)^{k+1} ζ(k+1, x₀), k = 1..48: the Taylor series about the root (radius x₀)
let PSI_TAYLOR: number[] | undefined;

/**
 * ψ(x) = d log Γ / dx. x ≤ 0: reflection ψ(x) = ψ(1−x) − π cot(πx) (NaN at the poles); [1, 2]:
 * Taylor series about the positive root (full relative accuracy next to it); else recurrence up to
 * x ≥ 10 and the asymptotic series.
 */
export function digamma(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x === Infinity) return Infinity;
  if (x <= 0) {
    if (x === Math.floor(x)) return NaN;
    // π cot(πx) = π cos(πx)/sin(πx), with cos(πx) = sin(π(x + 1/2))
    return digamma(1 - x) - (Math.PI * sinpi(x + 0.5)) / sinpi(x);
  }
  // one step of the recurrence into [1, 2] keeps full relative accuracy on [0.5, 3] (no cancellation)
  if (x >= 0.5 && x < 1) return digamma(x + 1) - 1 / x;
  if (x > 2 && x <= 3) return digamma(x - 1) + 1 / (x - 1);
  if (x >= 1 && x <= 2) {
    PSI_TAYLOR ??= Array.from({ length: 48 }, (_, i) => (i % 2 === 0 ? 1 : -1) * hurwitzZeta(i + 2, PSI_ROOT_HI));
    const h = x - PSI_ROOT_HI - PSI_ROOT_LO;
    let s = 0;
    let p = 1;
    for (let k = 0; k < 48; k++) {
      p *= h;
      const t = PSI_TAYLOR[k]! * p;
      s += t;
      if (Math.abs(t) < 1e-18 * Math.abs(s)) break;
    }
    return s;
  }
  let acc = 0;
  let y = x;
  while (y < 10) {
    acc -= 1 / y;
    y += 1;
  }
  const r2 = 1 / (y * y);
  const series = r2 * (1 / 12 - r2 * (1 / 120 - r2 * (1 / 252 - r2 * (1 / 240 - r2 * (1 / 132 - r2 * (691 / 32760 - r2 / 12))))));
  return acc + Math.log(y) - 0.5 / y - series;
}

/** ψ′(x), the trigamma function. */
export function trigamma(x: number): number {
  return polygamma(1, x);
}

// ---------------------------------------------------------------------------------------------
// Regularised incomplete gamma P(a, x) = γ(a, x)/Γ(a), Q = 1 − P, and ∂P/∂a.
// ---------------------------------------------------------------------------------------------

/** Results of gammaincParts (module scratch: no allocation in the hot loop). */
let gP = 0;
let gQ = 0;
let gDa = 0; // ∂P/∂a
let gDaa = 0; // ∂²P/∂a²

/**
 * P, Q and ∂P/∂a together. x < a + 1: the series P = Σ tₙ, tₙ = x^{a+n} e^{-x}/Γ(a+n+1), with
 * ∂tₙ/∂a = tₙ (log x − ψ(a+n+1)); else Q = x^a e^{-x}/Γ(a) · K(a, x), K Legendre's continued
 * fraction (DLMF 8.9.2) evaluated by Lentz's method, with its a-derivative carried alongside.
 */
function gammaincParts(a: number, x: number, wantDa: boolean): void {
  gDa = gDaa = NaN;
  if (Number.isNaN(a) || Number.isNaN(x) || !(a > 0) || x < 0) {
    gP = gQ = NaN;
    return;
  }
  if (x === 0) {
    gP = 0;
    gQ = 1;
    gDa = gDaa = 0;
    return;
  }
  if (x === Infinity) {
    gP = 1;
    gQ = 0;
    gDa = gDaa = 0;
    return;
  }
  const lx = Math.log(x);
  if (x < a + 1) {
    let t = Math.exp(a * lx - x - lgamma(a + 1));
    let psi = wantDa ? digamma(a + 1) : 0;
    let psi1 = wantDa ? trigamma(a + 1) : 0;
    let sum = t;
    let dsum = t * (lx - psi);
    let d2sum = t * ((lx - psi) ** 2 - psi1); // ∂²tₙ/∂a² = tₙ((log x − ψ)² − ψ′)
    for (let n = 1; n < MAX_ITER; n++) {
      t *= x / (a + n);
      sum += t;
      if (wantDa) {
        psi += 1 / (a + n);
        psi1 -= 1 / ((a + n) * (a + n));
        dsum += t * (lx - psi);
        d2sum += t * ((lx - psi) ** 2 - psi1);
      }
      if (t < sum * 1e-17) break;
    }
    gP = sum;
    gQ = 1 - sum;
    gDa = dsum;
    gDaa = d2sum;
    return;
  }
  // Lentz on Q's continued fraction 1/(x+1−a− 1(1−a)/(x+3−a− 2(2−a)/(x+5−a− …))), with ∂/∂a
  // and ∂²/∂a² carried through each step (b, aₙ are linear in a: their second derivatives vanish)
  let b = x + 1 - a;
  let c = 1 / TINY;
  let cA = 0;
  let cAA = 0;
  let d = 1 / b;
  let dA = d * d; // ∂(1/b)/∂a with ∂b/∂a = −1
  let dAA = 2 * d * d * d;
  let h = d;
  let hA = dA;
  let hAA = dAA;
  for (let i = 1; i < MAX_ITER; i++) {
    const an = -i * (i - a);
    const anA = i;
    b += 2;
    let D = an * d + b;
    const DA = anA * d + an * dA - 1;
    const DAA = 2 * anA * dA + an * dAA;
    if (Math.abs(D) < TINY) D = TINY;
    const ic = 1 / c;
    let C = b + an * ic;
    const CA = -1 + anA * ic - an * cA * ic * ic;
    const CAA = -2 * anA * cA * ic * ic - an * cAA * ic * ic + 2 * an * cA * cA * ic * ic * ic;
    if (Math.abs(C) < TINY) C = TINY;
    d = 1 / D;
    dA = -DA * d * d;
    dAA = -DAA * d * d + 2 * DA * DA * d * d * d;
    c = C;
    cA = CA;
    cAA = CAA;
    const del = d * c;
    const delA = dA * c + d * cA;
    const delAA = dAA * c + 2 * dA * cA + d * cAA;
    hAA = hAA * del + 2 * hA * delA + h * delAA;
    hA = hA * del + h * delA;
    h *= del;
    if (Math.abs(del - 1) < EPS && (!wantDa || (Math.abs(h * delA) <= EPS * Math.abs(hA) + TINY && Math.abs(h * delAA) <= EPS * Math.abs(hAA) + TINY))) break;
  }
  const front = Math.exp(a * lx - x - lgamma(a));
  gQ = front * h;
  gP = 1 - gQ;
  if (wantDa) {
    // Q = front·K with ∂front/∂a = front·L, L = log x − ψ(a), ∂²front/∂a² = front(L² − ψ′(a))
    const L = lx - digamma(a);
    gDa = -(gQ * L + front * hA);
    gDaa = -(gQ * (L * L - trigamma(a)) + 2 * front * L * hA + front * hAA);
  }
}

/** Regularised lower incomplete gamma P(a, x) (scipy.special.gammainc). */
export function gammainc(a: number, x: number): number {
  gammaincParts(a, x, false);
  return gP;
}

/** Regularised upper incomplete gamma Q(a, x) = 1 − P (scipy.special.gammaincc). */
export function gammaincc(a: number, x: number): number {
  gammaincParts(a, x, false);
  return gQ;
}

/** ∂P(a, x)/∂a. */
export function gammaincDa(a: number, x: number): number {
  gammaincParts(a, x, true);
  return gDa;
}

/** ∂²P(a, x)/∂a². */
export function gammaincDaa(a: number, x: number): number {
  gammaincParts(a, x, true);
  return gDaa;
}

/** The density ∂P/∂x = x^{a−1} e^{−x}/Γ(a). */
function gammaDensity(a: number, x: number): number {
  return Math.exp((a - 1) * Math.log(x) - x - lgamma(a));
}

/**
 * x with P(a, x) = p (scipy.special.gammaincinv): NR's initial guess (Wilson–Hilferty for a > 1,
 * the small-x/large-x forms below), then Halley steps kept inside a shrinking bracket.
 */
export function gammaincinv(a: number, p: number): number {
  if (Number.isNaN(a) || Number.isNaN(p) || !(a > 0) || p < 0 || p > 1) return NaN;
  if (p === 0) return 0;
  if (p === 1) return Infinity;
  let x: number;
  if (a > 1) {
    const pp = p < 0.5 ? p : 1 - p;
    const t = Math.sqrt(-2 * Math.log(pp));
    let z = (2.30753 + t * 0.27061) / (1 + t * (0.99229 + t * 0.04481)) - t;
    if (p < 0.5) z = -z;
    x = Math.max(1e-3, a * Math.pow(1 - 1 / (9 * a) - z / (3 * Math.sqrt(a)), 3));
  } else {
    const t = 1 - a * (0.253 + a * 0.12);
    x = p < t ? Math.pow(p / t, 1 / a) : 1 - Math.log(1 - (p - t) / (1 - t));
  }
  let lo = 0;
  let hi = Infinity;
  const lga = lgamma(a);
  for (let j = 0; j < 400; j++) {
    if (!(x > 0)) return 0; // the quantile underflows
    gammaincParts(a, x, false);
    // the residual in the better-conditioned tail
    const err = p < 0.5 ? gP - p : 1 - p - gQ;
    if (err === 0) return x;
    if (err > 0) hi = Math.min(hi, x);
    else lo = Math.max(lo, x);
    const dens = Math.exp((a - 1) * Math.log(x) - x - lga);
    const u = err / dens;
    let step = u / (1 - 0.5 * Math.min(1, u * ((a - 1) / x - 1)));
    if (!Number.isFinite(step)) step = u;
    let xn = x - step;
    // outside the bracket: grow (no upper bound yet), shrink geometrically (no lower one), or bisect
    if (!(xn > lo && xn < hi)) xn = hi === Infinity ? 2 * x : lo === 0 ? 0.1 * hi : 0.5 * (lo + hi);
    if (Math.abs(xn - x) <= 4 * EPS * x) return xn;
    x = xn;
  }
  return x;
}

// ---------------------------------------------------------------------------------------------
// Regularised incomplete beta I_x(a, b) and its derivatives in a and b.
// ---------------------------------------------------------------------------------------------

let cf = 0; // results of betacfParts: the continued fraction and its partials in A and B
let cfA = 0;
let cfB = 0;

/**
 * The continued fraction of I_x(A, B) (DLMF 8.17.22) by modified Lentz, with ∂/∂A and ∂/∂B
 * carried through every step (forward mode). Converges fast for x < (A+1)/(A+B+2).
 */
function betacfParts(A: number, B: number, x: number, wantD: boolean): void {
  const qab = A + B;
  const qap = A + 1;
  let D = 1 - (qab * x) / qap;
  let DA = -x / qap + (qab * x) / (qap * qap);
  let DB = -x / qap;
  if (Math.abs(D) < TINY) D = TINY;
  let d = 1 / D;
  let dA = -DA * d * d;
  let dB = -DB * d * d;
  let c = 1;
  let cA = 0;
  let cB = 0;
  let h = d;
  let hA = dA;
  let hB = dB;
  for (let m = 1; m < MAX_ITER; m++) {
    const m2 = 2 * m;
    let del = 1;
    let delA = 0;
    let delB = 0;
    for (let half = 0; half < 2; half++) {
      let aa: number, aaA: number, aaB: number;
      if (half === 0) {
        const u = A - 1 + m2;
        const v = A + m2;
        aa = (m * (B - m) * x) / (u * v);
        aaA = -aa * (1 / u + 1 / v);
        aaB = (m * x) / (u * v);
      } else {
        const u = A + m2;
        const v = A + 1 + m2;
        const num = -(A + m) * (qab + m) * x;
        aa = num / (u * v);
        aaA = (-(qab + m) * x - (A + m) * x) / (u * v) - aa * (1 / u + 1 / v);
        aaB = (-(A + m) * x) / (u * v);
      }
      let Dn = 1 + aa * d;
      const DnA = aaA * d + aa * dA;
      const DnB = aaB * d + aa * dB;
      if (Math.abs(Dn) < TINY) Dn = TINY;
      let Cn = 1 + aa / c;
      const CnA = aaA / c - (aa * cA) / (c * c);
      const CnB = aaB / c - (aa * cB) / (c * c);
      if (Math.abs(Cn) < TINY) Cn = TINY;
      d = 1 / Dn;
      dA = -DnA * d * d;
      dB = -DnB * d * d;
      c = Cn;
      cA = CnA;
      cB = CnB;
      const s = d * c;
      const sA = dA * c + d * cA;
      const sB = dB * c + d * cB;
      hA = hA * s + h * sA;
      hB = hB * s + h * sB;
      h *= s;
      delA = delA * s + del * sA;
      delB = delB * s + del * sB;
      del *= s;
    }
    if (Math.abs(del - 1) < EPS) {
      if (!wantD) break;
      if (Math.abs(h * delA) <= EPS * Math.abs(hA) + TINY && Math.abs(h * delB) <= EPS * Math.abs(hB) + TINY) break;
    }
  }
  cf = h;
  cfA = hA;
  cfB = hB;
}

let bI = 0;
let bDa = 0;
let bDb = 0;

/** I_x(a, b) and (when asked) ∂I/∂a, ∂I/∂b; the fraction runs on whichever side of the mean converges fast. */
function betaincParts(a: number, b: number, x: number, wantD: boolean): void {
  bDa = bDb = NaN;
  if (Number.isNaN(a) || Number.isNaN(b) || Number.isNaN(x) || !(a > 0) || !(b > 0) || x < 0 || x > 1) {
    bI = NaN;
    return;
  }
  if (x === 0 || x === 1) {
    bI = x;
    bDa = bDb = 0;
    return;
  }
  const lx = Math.log(x);
  const l1x = Math.log1p(-x);
  const front = Math.exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * lx + b * l1x);
  const psiAB = wantD ? digamma(a + b) : 0;
  const dLogFrontA = wantD ? psiAB - digamma(a) + lx : 0; // ∂ log front/∂a
  const dLogFrontB = wantD ? psiAB - digamma(b) + l1x : 0;
  if (x < (a + 1) / (a + b + 2)) {
    betacfParts(a, b, x, wantD);
    bI = (front * cf) / a;
    if (wantD) {
      bDa = bI * (dLogFrontA - 1 / a) + (front * cfA) / a;
      bDb = bI * dLogFrontB + (front * cfB) / a;
    }
  } else {
    betacfParts(b, a, 1 - x, wantD); // I_x(a, b) = 1 − I_{1−x}(b, a)
    const J = (front * cf) / b;
    bI = 1 - J;
    if (wantD) {
      bDa = -(J * dLogFrontA + (front * cfB) / b);
      bDb = -(J * (dLogFrontB - 1 / b) + (front * cfA) / b);
    }
  }
}

/** Regularised incomplete beta I_x(a, b) (scipy.special.betainc(a, b, x)). */
export function betainc(a: number, b: number, x: number): number {
  betaincParts(a, b, x, false);
  return bI;
}

/** ∂I_x(a, b)/∂a. */
export function betaincDa(a: number, b: number, x: number): number {
  betaincParts(a, b, x, true);
  return bDa;
}

/** ∂I_x(a, b)/∂b. */
export function betaincDb(a: number, b: number, x: number): number {
  betaincParts(a, b, x, true);
  return bDb;
}

/**
 * x with I_x(a, b) = p (scipy.special.betaincinv): NR's initial guess (a normal-approximation
 * form for a, b ≥ 1, else the two power-law tails), then Halley steps kept inside a bracket.
 */
export function betaincinv(a: number, b: number, p: number): number {
  if (Number.isNaN(a) || Number.isNaN(b) || Number.isNaN(p) || !(a > 0) || !(b > 0) || p < 0 || p > 1) return NaN;
  if (p === 0) return 0;
  if (p === 1) return 1;
  let x: number;
  if (a >= 1 && b >= 1) {
    const pp = p < 0.5 ? p : 1 - p;
    const t = Math.sqrt(-2 * Math.log(pp));
    let z = (2.30753 + t * 0.27061) / (1 + t * (0.99229 + t * 0.04481)) - t;
    if (p < 0.5) z = -z;
    const al = (z * z - 3) / 6;
    const h = 2 / (1 / (2 * a - 1) + 1 / (2 * b - 1));
    const w = (z * Math.sqrt(al + h)) / h - (1 / (2 * b - 1) - 1 / (2 * a - 1)) * (al + 5 / 6 - 2 / (3 * h));
    x = a / (a + b * Math.exp(2 * w));
  } else {
    const lna = Math.log(a / (a + b));
    const lnb = Math.log(b / (a + b));
    const t = Math.exp(a * lna) / a;
    const u = Math.exp(b * lnb) / b;
    const w = t + u;
    x = p < t / w ? Math.pow(a * w * p, 1 / a) : 1 - Math.pow(b * w * (1 - p), 1 / b);
  }
  if (!(x > 0 && x < 1)) x = 0.5;
  const afac = lgamma(a + b) - lgamma(a) - lgamma(b);
  let lo = 0;
  let hi = 1;
  for (let j = 0; j < 200; j++) {
    betaincParts(a, b, x, false);
    const err = bI - p;
    if (err === 0) return x;
    if (err > 0) hi = Math.min(hi, x);
    else lo = Math.max(lo, x);
    const dens = Math.exp((a - 1) * Math.log(x) + (b - 1) * Math.log1p(-x) + afac);
    const u = err / dens;
    let step = u / (1 - 0.5 * Math.min(1, u * ((a - 1) / x - (b - 1) / (1 - x))));
    if (!Number.isFinite(step)) step = u;
    let xn = x - step;
    if (!(xn > lo && xn < hi)) xn = 0.5 * (lo + hi);
    if (Math.abs(xn - x) <= 4 * EPS * Math.max(x, TINY) || hi - lo <= 4 * EPS * lo) return xn;
    x = xn;
  }
  return x;
}

export { gammaDensity };

// ---------------------------------------------------------------------------------------------
// Second derivatives of I_x(a, b) in (a, b): the same fraction in second-order jets of (A, B).
// ---------------------------------------------------------------------------------------------

/** A second-order jet in two variables: [v, ∂A, ∂B, ∂AA, ∂AB, ∂BB]. */
type Jet = [number, number, number, number, number, number];
const jc = (v: number): Jet => [v, 0, 0, 0, 0, 0];
const jadd = (x: Jet, y: Jet): Jet => [x[0] + y[0], x[1] + y[1], x[2] + y[2], x[3] + y[3], x[4] + y[4], x[5] + y[5]];
const jmul = (x: Jet, y: Jet): Jet => [
  x[0] * y[0],
  x[1] * y[0] + x[0] * y[1],
  x[2] * y[0] + x[0] * y[2],
  x[3] * y[0] + 2 * x[1] * y[1] + x[0] * y[3],
  x[4] * y[0] + x[1] * y[2] + x[2] * y[1] + x[0] * y[4],
  x[5] * y[0] + 2 * x[2] * y[2] + x[0] * y[5],
];
/** f(x) for a scalar f with derivatives f1, f2 at x[0] (the chain rule to second order). */
const jfn = (x: Jet, f0: number, f1: number, f2: number): Jet => [
  f0,
  f1 * x[1],
  f1 * x[2],
  f2 * x[1] * x[1] + f1 * x[3],
  f2 * x[1] * x[2] + f1 * x[4],
  f2 * x[2] * x[2] + f1 * x[5],
];
const jrecip = (x: Jet): Jet => {
  const r = 1 / x[0];
  return jfn(x, r, -r * r, 2 * r * r * r);
};

/** The continued fraction of I_x(A, B) as a jet (A, B jets, x a constant). */
function betacfJet(A: Jet, B: Jet, x: number): Jet {
  const one = jc(1);
  const qab = jadd(A, B);
  const qap = jadd(A, one);
  let D = jadd(one, jmul(jmul(qab, jrecip(qap)), jc(-x)));
  if (Math.abs(D[0]) < TINY) D = jc(TINY);
  let d = jrecip(D);
  let c = one;
  let h = d;
  for (let m = 1; m < MAX_ITER; m++) {
    const before = h;
    for (let half = 0; half < 2; half++) {
      let aa: Jet;
      if (half === 0) {
        aa = jmul(jmul(jadd(B, jc(-m)), jc(m * x)), jrecip(jmul(jadd(A, jc(2 * m - 1)), jadd(A, jc(2 * m)))));
      } else {
        aa = jmul(jmul(jmul(jadd(A, jc(m)), jadd(qab, jc(m))), jc(-x)), jrecip(jmul(jadd(A, jc(2 * m)), jadd(A, jc(2 * m + 1)))));
      }
      let Dn = jadd(one, jmul(aa, d));
      if (Math.abs(Dn[0]) < TINY) Dn = jc(TINY);
      let Cn = jadd(one, jmul(aa, jrecip(c)));
      if (Math.abs(Cn[0]) < TINY) Cn = jc(TINY);
      d = jrecip(Dn);
      c = Cn;
      const s = jmul(d, c);
      h = jmul(h, s);
    }
    // stop when every part has converged (a fraction that terminates in value, e.g. at integer B,
    // still moves in its derivatives)
    if (h.every((v, k) => Math.abs(v - before[k]!) <= EPS * Math.abs(v) + TINY)) break;
  }
  return h;
}

/** ∂²I/∂a² ('aa'), ∂²I/∂a∂b ('ab') or ∂²I/∂b² ('bb'). */
export function betaincD2(a: number, b: number, x: number, which: 'aa' | 'ab' | 'bb'): number {
  if (Number.isNaN(a) || Number.isNaN(b) || Number.isNaN(x) || !(a > 0) || !(b > 0) || x < 0 || x > 1) return NaN;
  if (x === 0 || x === 1) return 0;
  const lx = Math.log(x);
  const l1x = Math.log1p(-x);
  const p1ab = trigamma(a + b);
  const dab = digamma(a + b);
  // log front = lgamma(a+b) − lgamma(a) − lgamma(b) + a log x + b log(1−x), as a jet in (a, b)
  const logFront: Jet = [
    lgamma(a + b) - lgamma(a) - lgamma(b) + a * lx + b * l1x,
    dab - digamma(a) + lx,
    dab - digamma(b) + l1x,
    p1ab - trigamma(a),
    p1ab,
    p1ab - trigamma(b),
  ];
  const e = Math.exp(logFront[0]);
  const front = jfn(logFront, e, e, e);
  const aJ: Jet = [a, 1, 0, 0, 0, 0];
  const bJ: Jet = [b, 0, 1, 0, 0, 0];
  let I: Jet;
  if (x < (a + 1) / (a + b + 2)) {
    I = jmul(jmul(front, betacfJet(aJ, bJ, x)), jrecip(aJ));
  } else {
    const J = jmul(jmul(front, betacfJet(bJ, aJ, 1 - x)), jrecip(bJ));
    I = [1 - J[0], -J[1], -J[2], -J[3], -J[4], -J[5]];
  }
  return which === 'aa' ? I[3] : which === 'ab' ? I[4] : I[5];
}
