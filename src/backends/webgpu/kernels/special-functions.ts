import type { SpecialOp } from '../../../autodiff/builtins.js';
import type { OutSpec } from '../../backend.js';
import {
  bindings, LINEAR_INDEX, MAIN_SIG, stridedOffsets, withHelpers,
  type GpuInput, type GpuKernel, type KernelContext,
} from './common.js';
import { F32_MATH, runBroadcast, type Mode } from './elementwise.js';
import { hurwitzZeta } from '../../cpu/special-functions.js';

/**
 * WGSL (float32) kernels of the special-function primitives: the algorithms of
 * src/backends/cpu/special-functions.ts transliterated (no recursion: reflections are unrolled),
 * with float32 stopping tolerances. The series tables (ζ(k) − 1, the Taylor coefficients of ψ
 * about its root) are computed in float64 on the host and embedded. Merged into the WebGPU
 * kernel table by registry.ts.
 */

const zetaM1 = Array.from({ length: 30 }, (_, i) => hurwitzZeta(i + 2, 2)); // ζ(k) − 1 = ζ(k, 2), k = 2..31
const PSI_ROOT = 1.4616321449683622;
const psiTaylor = Array.from({ length: 24 }, (_, i) => (i % 2 === 0 ? 1 : -1) * hurwitzZeta(i + 2, PSI_ROOT));
const lit = (v: number) => {
  const s = Math.fround(v).toExponential(9);
  return s;
};

const TABLES = `
var<private> ZM1: array<f32, 30> = array<f32, 30>(${zetaM1.map(lit).join(', ')});
var<private> PSIT: array<f32, 24> = array<f32, 24>(${psiTaylor.map(lit).join(', ')});`;

const SF: Record<string, string> = {
  sinpi_f: `fn sinpi_f(x: f32) -> f32 {
  var r = x - 2.0 * floor(x * 0.5 + 0.5);
  if (r > 0.5) { r = 1.0 - r; } else if (r < -0.5) { r = -1.0 - r; }
  return sincos_f(3.14159265358979 * r, false);
}`,
  // log Γ on x ≥ 0.5 (the two ζ series about 1 and 2, recurrence below 13, Stirling beyond)
  lgpos_f: `fn lgpos_f(x: f32) -> f32 {
  if (x < 1.5) {
    let z = x - 1.0; var s = 0.0; var p = -z;
    for (var k = 2; k < 32; k++) { p = p * -z; let t = (ZM1[k - 2] + 1.0) / f32(k) * p; s += t; if (abs(t) < 1e-9 * abs(s)) { break; } }
    return -0.5772156649 * z + s;
  }
  if (x < 2.5) {
    let z = x - 2.0; var s = 0.0; var p = -z;
    for (var k = 2; k < 32; k++) { p = p * -z; let t = ZM1[k - 2] / f32(k) * p; s += t; if (abs(t) < 1e-9 * abs(s)) { break; } }
    return 0.4227843351 * z + s;
  }
  if (x < 13.0) {
    var prod = 1.0; var y = x;
    while (y >= 2.5) { y -= 1.0; prod *= y; }
    let z = y - 2.0; var s = 0.0; var p = -z;
    for (var k = 2; k < 32; k++) { p = p * -z; let t = ZM1[k - 2] / f32(k) * p; s += t; if (abs(t) < 1e-9 * abs(s)) { break; } }
    return log_f(prod) + 0.4227843351 * z + s;
  }
  let r = 1.0 / x; let r2 = r * r;
  let ser = r * (0.0833333333 + r2 * (-0.00277777778 + r2 * (0.000793650794 + r2 * -0.000595238095)));
  return (x - 0.5) * log_f(x) - x + 0.918938533 + ser;
}`,
  lgamma_f: `fn lgamma_f(x: f32) -> f32 {
  if (isnan_f(x)) { return x; }
  if (x < 0.5) {
    if (floor(x) == x || !isfinite_f(x)) { return inf_f(); }
    return 1.14472988585 - log_f(abs(sinpi_f(x))) - lgpos_f(1.0 - x);
  }
  if (!isfinite_f(x)) { return x; }
  return lgpos_f(x);
}`,
  // Hurwitz ζ(s, x), s > 1 (as the CPU's)
  hzeta_f: `fn hzeta_f(s: f32, x: f32) -> f32 {
  if (x <= 0.0 && floor(x) == x) { return nan_f(); }
  if (x < -1e5) { return nan_f(); }
  let lim = max(s + 8.0, 10.0);
  var sum = 0.0; var y = x;
  while (y < lim) { sum += pow_f(y, -s); y += 1.0; }
  var tail = pow_f(y, 1.0 - s) / (s - 1.0) + 0.5 * pow_f(y, -s);
  var poch = s; var yp = pow_f(y, -s - 1.0); let iy2 = 1.0 / (y * y);
  var B = array<f32, 5>(0.0833333333, -0.00138888889, 3.30687831e-5, -8.26719577e-7, 2.08767570e-8);
  for (var j = 0; j < 5; j++) {
    let t = B[j] * poch * yp; tail += t;
    if (abs(t) < 1e-9 * tail) { break; }
    poch *= (s + f32(2 * j + 1)) * (s + f32(2 * j + 2)); yp *= iy2;
  }
  return sum + tail;
}`,
  polygamma_f: `fn polygamma_f(n: u32, x: f32) -> f32 {
  var fact = 1.0;
  for (var k = 2u; k <= n; k++) { fact *= f32(k); }
  let z = hzeta_f(f32(n) + 1.0, x);
  return select(-fact, fact, (n % 2u) == 1u) * z;
}`,
  digpos_f: `fn digpos_f(x: f32) -> f32 {
  if (x >= 1.0 && x <= 2.0) {
    let h = (x - 1.4616321449683622) - 9.5499954299656977e-17;
    var s = 0.0; var p = 1.0;
    for (var k = 0; k < 24; k++) { p *= h; let t = PSIT[k] * p; s += t; if (abs(t) < 1e-9 * abs(s)) { break; } }
    return s;
  }
  var acc = 0.0; var y = x;
  while (y < 10.0) { acc -= 1.0 / y; y += 1.0; }
  let r2 = 1.0 / (y * y);
  let ser = r2 * (0.0833333333 - r2 * (0.00833333333 - r2 * (0.00396825397 - r2 * 0.00416666667)));
  return acc + log_f(y) - 0.5 / y - ser;
}`,
  digamma_f: `fn digamma_f(x: f32) -> f32 {
  if (isnan_f(x)) { return x; }
  if (x <= 0.0) {
    if (floor(x) == x) { return nan_f(); }
    return digpos_f(1.0 - x) - 3.14159265358979 * sinpi_f(x + 0.5) / sinpi_f(x);
  }
  if (!isfinite_f(x)) { return x; }
  return digpos_f(x);
}`,
  // (P, Q, ∂P/∂a, ∂²P/∂a²)
  ginc_f: `fn ginc_f(a: f32, x: f32) -> vec4<f32> {
  if (isnan_f(a) || isnan_f(x) || !(a > 0.0) || x < 0.0) { return vec4<f32>(nan_f(), nan_f(), nan_f(), nan_f()); }
  if (x == 0.0) { return vec4<f32>(0.0, 1.0, 0.0, 0.0); }
  if (!isfinite_f(x)) { return vec4<f32>(1.0, 0.0, 0.0, 0.0); }
  let lx = log_f(x);
  if (x < a + 1.0) {
    var t = exp_f(a * lx - x - lgamma_f(a + 1.0));
    var psi = digamma_f(a + 1.0);
    var psi1 = polygamma_f(1u, a + 1.0);
    var sum = t; var dsum = t * (lx - psi); var d2sum = t * ((lx - psi) * (lx - psi) - psi1);
    for (var n = 1; n < 100000; n++) {
      let an = a + f32(n);
      t *= x / an; sum += t;
      psi += 1.0 / an; psi1 -= 1.0 / (an * an);
      dsum += t * (lx - psi); d2sum += t * ((lx - psi) * (lx - psi) - psi1);
      if (t < sum * 3e-8) { break; }
    }
    return vec4<f32>(sum, 1.0 - sum, dsum, d2sum);
  }
  let TINY = 1e-30;
  var b = x + 1.0 - a; var c = 1.0 / TINY; var cA = 0.0; var cAA = 0.0;
  var d = 1.0 / b; var dA = d * d; var dAA = 2.0 * d * d * d;
  var h = d; var hA = dA; var hAA = dAA;
  for (var i = 1; i < 100000; i++) {
    let fi = f32(i);
    let an = -fi * (fi - a);
    b += 2.0;
    var D = an * d + b; let DA = fi * d + an * dA - 1.0; let DAA = 2.0 * fi * dA + an * dAA;
    if (abs(D) < TINY) { D = TINY; }
    let ic = 1.0 / c;
    var C = b + an * ic; let CA = -1.0 + fi * ic - an * cA * ic * ic;
    let CAA = -2.0 * fi * cA * ic * ic - an * cAA * ic * ic + 2.0 * an * cA * cA * ic * ic * ic;
    if (abs(C) < TINY) { C = TINY; }
    d = 1.0 / D; dA = -DA * d * d; dAA = -DAA * d * d + 2.0 * DA * DA * d * d * d;
    c = C; cA = CA; cAA = CAA;
    let del = d * c; let delA = dA * c + d * cA; let delAA = dAA * c + 2.0 * dA * cA + d * cAA;
    hAA = hAA * del + 2.0 * hA * delA + h * delAA;
    hA = hA * del + h * delA; h *= del;
    if (abs(del - 1.0) < 6e-8 && abs(h * delA) <= 6e-8 * abs(hA) + 1e-30 && abs(h * delAA) <= 6e-8 * abs(hAA) + 1e-30) { break; }
  }
  let front = exp_f(a * lx - x - lgamma_f(a));
  let q = front * h;
  let L = lx - digamma_f(a);
  return vec4<f32>(1.0 - q, q, -(q * L + front * hA), -(q * (L * L - polygamma_f(1u, a)) + 2.0 * front * L * hA + front * hAA));
}`,
  gincinv_f: `fn gincinv_f(a: f32, p: f32) -> f32 {
  if (isnan_f(a) || isnan_f(p) || !(a > 0.0) || p < 0.0 || p > 1.0) { return nan_f(); }
  if (p == 0.0) { return 0.0; }
  if (p == 1.0) { return inf_f(); }
  var x: f32;
  if (a > 1.0) {
    let pp = select(1.0 - p, p, p < 0.5);
    let t = sqrt(-2.0 * log_f(pp));
    var z = (2.30753 + t * 0.27061) / (1.0 + t * (0.99229 + t * 0.04481)) - t;
    if (p < 0.5) { z = -z; }
    let w = 1.0 - 1.0 / (9.0 * a) - z / (3.0 * sqrt(a));
    x = max(1e-3, a * w * w * w);
  } else {
    let t = 1.0 - a * (0.253 + a * 0.12);
    if (p < t) { x = pow_f(p / t, 1.0 / a); } else { x = 1.0 - log_f(1.0 - (p - t) / (1.0 - t)); }
  }
  var lo = 0.0; var hi = inf_f(); let lga = lgamma_f(a);
  for (var j = 0; j < 300; j++) {
    if (!(x > 0.0)) { return 0.0; }
    let g = ginc_f(a, x);
    let err = select((1.0 - p) - g.y, g.x - p, p < 0.5);
    if (err == 0.0) { return x; }
    if (err > 0.0) { hi = min(hi, x); } else { lo = max(lo, x); }
    let dens = exp_f((a - 1.0) * log_f(x) - x - lga);
    let u = err / dens;
    var step = u / (1.0 - 0.5 * min(1.0, u * ((a - 1.0) / x - 1.0)));
    if (!isfinite_f(step)) { step = u; }
    var xn = x - step;
    if (!(xn > lo && xn < hi)) {
      if (!isfinite_f(hi)) { xn = 2.0 * x; } else if (lo == 0.0) { xn = 0.1 * hi; } else { xn = 0.5 * (lo + hi); }
    }
    if (abs(xn - x) <= 2.4e-7 * x) { return xn; }
    x = xn;
  }
  return x;
}`,
  // the incomplete beta's continued fraction with ∂/∂A, ∂/∂B: (h, hA, hB)
  betacf_f: `fn betacf_f(A: f32, B: f32, x: f32) -> vec3<f32> {
  let TINY = 1e-30;
  let qab = A + B; let qap = A + 1.0;
  var D = 1.0 - qab * x / qap;
  let DA0 = -x / qap + qab * x / (qap * qap); let DB0 = -x / qap;
  if (abs(D) < TINY) { D = TINY; }
  var d = 1.0 / D; var dA = -DA0 * d * d; var dB = -DB0 * d * d;
  var c = 1.0; var cA = 0.0; var cB = 0.0;
  var h = d; var hA = dA; var hB = dB;
  for (var m = 1; m < 100000; m++) {
    let fm = f32(m); let m2 = 2.0 * fm;
    var del = 1.0; var delA = 0.0; var delB = 0.0;
    for (var half = 0; half < 2; half++) {
      var aa: f32; var aaA: f32; var aaB: f32;
      if (half == 0) {
        let u = A - 1.0 + m2; let v = A + m2;
        aa = fm * (B - fm) * x / (u * v); aaA = -aa * (1.0 / u + 1.0 / v); aaB = fm * x / (u * v);
      } else {
        let u = A + m2; let v = A + 1.0 + m2;
        aa = -(A + fm) * (qab + fm) * x / (u * v);
        aaA = (-(qab + fm) * x - (A + fm) * x) / (u * v) - aa * (1.0 / u + 1.0 / v);
        aaB = -(A + fm) * x / (u * v);
      }
      var Dn = 1.0 + aa * d; let DnA = aaA * d + aa * dA; let DnB = aaB * d + aa * dB;
      if (abs(Dn) < TINY) { Dn = TINY; }
      var Cn = 1.0 + aa / c; let CnA = aaA / c - aa * cA / (c * c); let CnB = aaB / c - aa * cB / (c * c);
      if (abs(Cn) < TINY) { Cn = TINY; }
      d = 1.0 / Dn; dA = -DnA * d * d; dB = -DnB * d * d;
      c = Cn; cA = CnA; cB = CnB;
      let s = d * c; let sA = dA * c + d * cA; let sB = dB * c + d * cB;
      hA = hA * s + h * sA; hB = hB * s + h * sB; h *= s;
      delA = delA * s + del * sA; delB = delB * s + del * sB; del *= s;
    }
    if (abs(del - 1.0) < 6e-8 && abs(h * delA) <= 6e-8 * abs(hA) + 1e-30 && abs(h * delB) <= 6e-8 * abs(hB) + 1e-30) { break; }
  }
  return vec3<f32>(h, hA, hB);
}`,
  // (I, ∂I/∂a, ∂I/∂b)
  binc_f: `fn binc_f(a: f32, b: f32, x: f32) -> vec3<f32> {
  if (isnan_f(a) || isnan_f(b) || isnan_f(x) || !(a > 0.0) || !(b > 0.0) || x < 0.0 || x > 1.0) { return vec3<f32>(nan_f(), nan_f(), nan_f()); }
  if (x == 0.0 || x == 1.0) { return vec3<f32>(x, 0.0, 0.0); }
  let lx = log_f(x); let l1x = log1p_f(-x);
  let front = exp_f(lgamma_f(a + b) - lgamma_f(a) - lgamma_f(b) + a * lx + b * l1x);
  let psiAB = digamma_f(a + b);
  let dA = psiAB - digamma_f(a) + lx; let dB = psiAB - digamma_f(b) + l1x;
  if (x < (a + 1.0) / (a + b + 2.0)) {
    let f = betacf_f(a, b, x);
    let I = front * f.x / a;
    return vec3<f32>(I, I * (dA - 1.0 / a) + front * f.y / a, I * dB + front * f.z / a);
  }
  let f = betacf_f(b, a, 1.0 - x);
  let J = front * f.x / b;
  return vec3<f32>(1.0 - J, -(J * dA + front * f.z / b), -(J * (dB - 1.0 / b) + front * f.y / b));
}`,
  // second-order jets in (A, B) for the incomplete beta's second derivatives (as the CPU's betaincD2)
  Jet: `struct Jet { v: f32, a: f32, b: f32, aa: f32, ab: f32, bb: f32 }`,
  jc: `fn jc(v: f32) -> Jet { return Jet(v, 0.0, 0.0, 0.0, 0.0, 0.0); }`,
  jadd: `fn jadd(x: Jet, y: Jet) -> Jet { return Jet(x.v + y.v, x.a + y.a, x.b + y.b, x.aa + y.aa, x.ab + y.ab, x.bb + y.bb); }`,
  jmul: `fn jmul(x: Jet, y: Jet) -> Jet {
  return Jet(x.v * y.v, x.a * y.v + x.v * y.a, x.b * y.v + x.v * y.b, x.aa * y.v + 2.0 * x.a * y.a + x.v * y.aa,
    x.ab * y.v + x.a * y.b + x.b * y.a + x.v * y.ab, x.bb * y.v + 2.0 * x.b * y.b + x.v * y.bb);
}`,
  jfn: `fn jfn(x: Jet, f0: f32, f1: f32, f2: f32) -> Jet {
  return Jet(f0, f1 * x.a, f1 * x.b, f2 * x.a * x.a + f1 * x.aa, f2 * x.a * x.b + f1 * x.ab, f2 * x.b * x.b + f1 * x.bb);
}`,
  jrecip: `fn jrecip(x: Jet) -> Jet { let r = 1.0 / x.v; return jfn(x, r, -r * r, 2.0 * r * r * r); }`,
  betacfj_f: `fn betacfj_f(A: Jet, B: Jet, x: f32) -> Jet {
  let one = jc(1.0);
  let qab = jadd(A, B);
  var D = jadd(one, jmul(jmul(qab, jrecip(jadd(A, one))), jc(-x)));
  if (abs(D.v) < 1e-30) { D = jc(1e-30); }
  var d = jrecip(D); var c = one; var h = d;
  for (var m = 1; m < 100000; m++) {
    let fm = f32(m);
    let before = h;
    for (var half = 0; half < 2; half++) {
      var aa: Jet;
      if (half == 0) {
        aa = jmul(jmul(jadd(B, jc(-fm)), jc(fm * x)), jrecip(jmul(jadd(A, jc(2.0 * fm - 1.0)), jadd(A, jc(2.0 * fm)))));
      } else {
        aa = jmul(jmul(jmul(jadd(A, jc(fm)), jadd(qab, jc(fm))), jc(-x)), jrecip(jmul(jadd(A, jc(2.0 * fm)), jadd(A, jc(2.0 * fm + 1.0)))));
      }
      var Dn = jadd(one, jmul(aa, d));
      if (abs(Dn.v) < 1e-30) { Dn = jc(1e-30); }
      var Cn = jadd(one, jmul(aa, jrecip(c)));
      if (abs(Cn.v) < 1e-30) { Cn = jc(1e-30); }
      d = jrecip(Dn); c = Cn;
      h = jmul(h, jmul(d, c));
    }
    let e = 6e-8;
    if (abs(h.v - before.v) <= e * abs(h.v) + 1e-30 && abs(h.a - before.a) <= e * abs(h.a) + 1e-30 && abs(h.b - before.b) <= e * abs(h.b) + 1e-30
      && abs(h.aa - before.aa) <= e * abs(h.aa) + 1e-30 && abs(h.ab - before.ab) <= e * abs(h.ab) + 1e-30 && abs(h.bb - before.bb) <= e * abs(h.bb) + 1e-30) { break; }
  }
  return h;
}`,
  // (∂²I/∂a², ∂²I/∂a∂b, ∂²I/∂b²)
  bincd2_f: `fn bincd2_f(a: f32, b: f32, x: f32) -> vec3<f32> {
  if (isnan_f(a) || isnan_f(b) || isnan_f(x) || !(a > 0.0) || !(b > 0.0) || x < 0.0 || x > 1.0) { return vec3<f32>(nan_f(), nan_f(), nan_f()); }
  if (x == 0.0 || x == 1.0) { return vec3<f32>(0.0, 0.0, 0.0); }
  let lx = log_f(x); let l1x = log1p_f(-x);
  let p1ab = polygamma_f(1u, a + b); let dab = digamma_f(a + b);
  let lf = Jet(lgamma_f(a + b) - lgamma_f(a) - lgamma_f(b) + a * lx + b * l1x, dab - digamma_f(a) + lx, dab - digamma_f(b) + l1x,
    p1ab - polygamma_f(1u, a), p1ab, p1ab - polygamma_f(1u, b));
  let e = exp_f(lf.v);
  let front = jfn(lf, e, e, e);
  let aJ = Jet(a, 1.0, 0.0, 0.0, 0.0, 0.0);
  let bJ = Jet(b, 0.0, 1.0, 0.0, 0.0, 0.0);
  if (x < (a + 1.0) / (a + b + 2.0)) {
    let I = jmul(jmul(front, betacfj_f(aJ, bJ, x)), jrecip(aJ));
    return vec3<f32>(I.aa, I.ab, I.bb);
  }
  let J = jmul(jmul(front, betacfj_f(bJ, aJ, 1.0 - x)), jrecip(bJ));
  return vec3<f32>(-J.aa, -J.ab, -J.bb);
}`,
  bincinv_f: `fn bincinv_f(a: f32, b: f32, p: f32) -> f32 {
  if (isnan_f(a) || isnan_f(b) || isnan_f(p) || !(a > 0.0) || !(b > 0.0) || p < 0.0 || p > 1.0) { return nan_f(); }
  if (p == 0.0) { return 0.0; }
  if (p == 1.0) { return 1.0; }
  var x: f32;
  if (a >= 1.0 && b >= 1.0) {
    let pp = select(1.0 - p, p, p < 0.5);
    let t = sqrt(-2.0 * log_f(pp));
    var z = (2.30753 + t * 0.27061) / (1.0 + t * (0.99229 + t * 0.04481)) - t;
    if (p < 0.5) { z = -z; }
    let al = (z * z - 3.0) / 6.0;
    let h = 2.0 / (1.0 / (2.0 * a - 1.0) + 1.0 / (2.0 * b - 1.0));
    let w = z * sqrt(al + h) / h - (1.0 / (2.0 * b - 1.0) - 1.0 / (2.0 * a - 1.0)) * (al + 5.0 / 6.0 - 2.0 / (3.0 * h));
    x = a / (a + b * exp_f(2.0 * w));
  } else {
    let lna = log_f(a / (a + b)); let lnb = log_f(b / (a + b));
    let t = exp_f(a * lna) / a; let u = exp_f(b * lnb) / b; let w = t + u;
    if (p < t / w) { x = pow_f(a * w * p, 1.0 / a); } else { x = 1.0 - pow_f(b * w * (1.0 - p), 1.0 / b); }
  }
  if (!(x > 0.0 && x < 1.0)) { x = 0.5; }
  let afac = lgamma_f(a + b) - lgamma_f(a) - lgamma_f(b);
  var lo = 0.0; var hi = 1.0;
  for (var j = 0; j < 200; j++) {
    let err = binc_f(a, b, x).x - p;
    if (err == 0.0) { return x; }
    if (err > 0.0) { hi = min(hi, x); } else { lo = max(lo, x); }
    let dens = exp_f((a - 1.0) * log_f(x) + (b - 1.0) * log1p_f(-x) + afac);
    let u = err / dens;
    var step = u / (1.0 - 0.5 * min(1.0, u * ((a - 1.0) / x - (b - 1.0) / (1.0 - x))));
    if (!isfinite_f(step)) { step = u; }
    var xn = x - step;
    if (!(xn > lo && xn < hi)) { xn = 0.5 * (lo + hi); }
    if (abs(xn - x) <= 2.4e-7 * max(x, 1e-30) || hi - lo <= 2.4e-7 * lo) { return xn; }
    x = xn;
  }
  return x;
}`,
};

const EXPR: Record<SpecialOp, (p: any) => string> = {
  lgamma: () => 'lgamma_f(a0)',
  digamma: () => 'digamma_f(a0)',
  polygamma: (p: { n: number }) => `polygamma_f(${p.n >>> 0}u, a0)`,
  gammainc: () => 'ginc_f(a0, a1).x',
  gammaincc: () => 'ginc_f(a0, a1).y',
  gammaincDa: () => 'ginc_f(a0, a1).z',
  gammaincDaa: () => 'ginc_f(a0, a1).w',
  gammaincinv: () => 'gincinv_f(a0, a1)',
  betainc: () => 'binc_f(a0, a1, a2).x',
  betaincDa: () => 'binc_f(a0, a1, a2).y',
  betaincDb: () => 'binc_f(a0, a1, a2).z',
  betaincD2: (p: { which: 'aa' | 'ab' | 'bb' }) => `bincd2_f(a0, a1, a2).${p.which === 'aa' ? 'x' : p.which === 'ab' ? 'y' : 'z'}`,
  betaincinv: () => 'bincinv_f(a0, a1, a2)',
};


function shader(expr: string, arity: number, modes: Mode[], rank: number): string {
  const decls = [...Array.from({ length: arity }, (_, i) => ({ name: `x${i}`, type: 'f32' })), { name: 'y', type: 'f32', write: true }];
  const strided = modes.map((m, i) => ({ m, i })).filter((x) => x.m === 'b');
  const offs = strided.length ? stridedOffsets(rank, 'gi', '1u', strided.map((s, k) => ({ name: `o${s.i}`, at: `${1 + rank * (k + 1)}u` }))) : '';
  const loads = modes.map((m, i) => `let a${i} = x${i}[${m === 'c' ? 'gi' : m === 's' ? '0u' : `o${i}`}];`).join('\n  ');
  const body = `${bindings(decls)}
${TABLES}
${MAIN_SIG()} {
  ${LINEAR_INDEX()}
  if (gi >= mt[0]) { return; }
  ${offs}
  ${loads}
  y[gi] = ${expr};
}`;
  return withHelpers(body, { ...F32_MATH, ...SF });
}

const kernel = (op: string): GpuKernel => (ctx: KernelContext, inputs: GpuInput[], params: unknown, outs: readonly OutSpec[]) => {
  const expr = EXPR[op as SpecialOp](params);
  return runBroadcast(ctx, inputs, outs, (modes, rank) => `sf|${expr}|${modes}|${rank}`, (modes, rank) => shader(expr, inputs.length, modes, rank));
};

/** name → WGSL kernel for every special-function primitive. */
export const specialGpuKernels = Object.fromEntries(Object.keys(EXPR).map((op) => [op, kernel(op)])) as Record<SpecialOp, GpuKernel>;
