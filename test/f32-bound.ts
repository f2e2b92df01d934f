/**
 * How far a float32 result of a WebGPU device may be from the exact value: bounds derived from what
 * WGSL (§15.7 "Floating Point Evaluation") and Vulkan allow, so that one suite passes on lavapipe,
 * SwiftShader and real GPUs without tolerances tuned to any of them.
 *
 * The rules:
 *  - x + y, x − y, x·y are "correctly rounded" (§15.7.4.1), which WGSL defines as rounded up *or*
 *    down (§15.7.4; no rounding mode is specified): within 1 ulp of the exact result.
 *  - x / y is within 2.5 ulp for |y| in [2⁻¹²⁶, 2¹²⁶] (§15.7.4.1; Vulkan's OpFDiv alike). NVIDIA's
 *    driver divides approximately (an ulp off seen on an H200; x·rcp(y) is such a way), where the
 *    CPU's float32 quotient is within half an ulp.
 *  - an implementation may fuse operations (§15.7.5; in SPIR-V, wherever NoContraction is absent):
 *    a·b + c may be rounded once instead of twice, as drivers do inside one kernel (a fused chain)
 *    but cannot across kernels. The two results then differ by the rounding of a·b, up to an ulp of
 *    |a·b|, which is many ulps of |a·b + c| where the sum cancels. So a bound is in ulps of the
 *    terms, not of the result: here every product is charged its own rounding, relative to |a·b|,
 *    and the bound holds whether or not a compiler keeps that rounding.
 *  - subnormal inputs and results may be flushed to zero (§15.7.2): FLT_MIN absolute per op.
 *  - reassociation (§15.7.5 allows it too) is not modelled: SPIR-V allows it only under fast-math
 *    decorations. A device that reorders sums would fail these checks, to be looked at, not absorbed.
 *
 * A `Bounded` is the float64 value `v` of the exact result of a float32 program (its inputs and
 * constants float32 numbers) and a bound `e` on how far any evaluation those rules allow may be
 * from it. First order: products of two rounding errors (~2⁻⁴⁶ relative) are left out.
 * An expression is written once against `Arith` and evaluated with `bounds` here, or with emulated
 * GPU arithmetic in f32-bound.test.ts (which shows NVIDIA's behaviours stay inside the bounds).
 */
import * as assert from 'uvu/assert';

/** One float32 ulp relative to the value: ulp(x) ≤ 2⁻²³·|x| for a normal x. */
export const ULP = 2 ** -23;
/** The smallest normal float32: what flushing a subnormal to zero may cost (§15.7.2). */
export const FLT_MIN = 2 ** -126;
/** +, −, ×: "correctly rounded", rounded up or down (§15.7.4): less than 1 ulp. */
export const ROUNDED_ULPS = 1;
/** x / y: 2.5 ulp for |y| in [2⁻¹²⁶, 2¹²⁶] (§15.7.4.1). */
export const DIV_ULPS = 2.5;
/** sqrt (the backend calls the builtin): inherited from 1 / inverseSqrt(x), inverseSqrt 2 ulp (§15.7.4.1). */
export const SQRT_ULPS = 2 + DIV_ULPS;
/**
 * The backend's own exp/sin/tanh/sigmoid (written out in WGSL from the ops above), at the accuracy
 * webgpu/parity.test.ts holds them to: exp within 2 ulp of float64 over its range; sin within 2 ulp
 * or 2⁻²³ absolute near a zero; tanh and sigmoid within rtol 2e-6 of the CPU's float32 result,
 * itself within half an ulp.
 */
export const EXP_ULPS = 2;
export const SIN_ULPS = 2;
export const SIN_ABS = 2 ** -23;
export const TANH_ULPS = 2e-6 / ULP + 0.5;
export const SIGMOID_ULPS = 2e-6 / ULP + 0.5;

/**
 * rtol for a GPU result of one operation accurate to `ulps`, against the CPU's float32 result of
 * the same operation (correctly rounded to nearest: half an ulp), relative to the CPU's value.
 */
export const rtolVsCpu32 = (ulps: number): number => (ulps + 0.5) * ULP;

/** An expression's arithmetic: the ops of the backend's kernels, on values of type T. */
export interface Arith<T> {
  /** A float32 number: an input element, or a constant operand (the backend uploads it as float32). */
  of(x: number): T;
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, b: T): T;
  div(a: T, b: T): T;
  neg(a: T): T;
  sqrt(a: T): T;
  exp(a: T): T;
  sin(a: T): T;
  tanh(a: T): T;
  sigmoid(a: T): T;
  /** A sum of several terms (a reduction, or cotangents accumulated), in an order not specified. */
  sum(xs: T[]): T;
}

/** The exact value `v` of a float32 program, and a bound `e` on |any allowed evaluation − v|. */
export interface Bounded {
  v: number;
  e: number;
}

/** An operation's exact result v from operands off by up to eIn in all, rounded to within `ulps` (+ `abs`). */
function rounded(v: number, eIn: number, ulps: number, abs = 0): Bounded {
  return { v, e: eIn + ulps * ULP * (Math.abs(v) + eIn) + abs + FLT_MIN };
}

/**
 * A smooth function with a stated accuracy: its operand's error, times its largest slope over the
 * operand's interval (`slope(lo, hi)`), plus its own error on the value it was given.
 */
function smooth(f: (x: number) => number, slope: (lo: number, hi: number) => number, ulps: number, abs = 0) {
  return (a: Bounded): Bounded => (a.e === 0 ? rounded(f(a.v), 0, ulps, abs) : rounded(f(a.v), a.e * slope(a.v - a.e, a.v + a.e), ulps, abs));
}
/** The point of [lo, hi] nearest 0, for slopes largest at 0 (tanh, sigmoid). */
const nearest0 = (lo: number, hi: number) => (lo > 0 ? lo : hi < 0 ? hi : 0);
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export const bounds: Arith<Bounded> = {
  of: (x) => {
    if (Math.fround(x) !== x && !Number.isNaN(x)) throw new Error(`f32-bound: ${x} is not a float32 number (round it as the backend does)`);
    return { v: x, e: 0 };
  },
  add: (a, b) => rounded(a.v + b.v, a.e + b.e, ROUNDED_ULPS),
  sub: (a, b) => rounded(a.v - b.v, a.e + b.e, ROUNDED_ULPS),
  mul: (a, b) => rounded(a.v * b.v, Math.abs(a.v) * b.e + Math.abs(b.v) * a.e + a.e * b.e, ROUNDED_ULPS),
  div: (a, b) => {
    const lo = Math.abs(b.v) - b.e; // the least |divisor| an evaluation may have
    if (!(lo >= FLT_MIN && Math.abs(b.v) + b.e <= 2 ** 126)) throw new Error(`f32-bound: a divisor ${b.v} ± ${b.e} outside [2^-126, 2^126], where WGSL bounds no quotient`);
    const v = a.v / b.v;
    return rounded(v, (a.e + Math.abs(v) * b.e) / lo, DIV_ULPS);
  },
  neg: (a) => ({ v: -a.v, e: a.e }),
  sqrt: smooth(Math.sqrt, (lo) => (lo > 0 ? 0.5 / Math.sqrt(lo) : Infinity), SQRT_ULPS),
  exp: smooth(Math.exp, (_lo, hi) => Math.exp(hi), EXP_ULPS),
  sin: smooth(Math.sin, () => 1, SIN_ULPS, SIN_ABS),
  tanh: smooth(Math.tanh, (lo, hi) => 1 - Math.tanh(nearest0(lo, hi)) ** 2, TANH_ULPS),
  sigmoid: smooth(sigmoid, (lo, hi) => sigmoid(nearest0(lo, hi)) * (1 - sigmoid(nearest0(lo, hi))), SIGMOID_ULPS),
  // n − 1 additions in any order, each rounding a partial sum no larger than Σ|v| + Σe
  sum: (xs) => {
    const v = xs.reduce((s, x) => s + x.v, 0);
    const eIn = xs.reduce((s, x) => s + x.e, 0);
    const mag = xs.reduce((s, x) => s + Math.abs(x.v), 0) + eIn;
    const n = Math.max(0, xs.length - 1);
    return { v, e: eIn + n * (ROUNDED_ULPS * ULP * mag + FLT_MIN) };
  },
};

/**
 * Each got[i] within its bound of want[i].v (NaN where v is NaN, the same infinity where v is
 * infinite); a failure names the worst entry, its error and bound, and the bound in ulps of the
 * value (more than a few: the terms are larger than the result).
 */
export function assertWithin(got: ArrayLike<number>, want: readonly Bounded[], what: string): void {
  assert.is(got.length, want.length, `${what}: length`);
  let worst = -1;
  let worstRatio = 1;
  for (let i = 0; i < got.length; i++) {
    const { v, e } = want[i]!;
    const g = got[i]!;
    // an infinite or NaN bound is no bound: the model could not bound this entry, which fails
    const ok = Number.isNaN(v) ? Number.isNaN(g) : !Number.isFinite(v) ? g === v : Math.abs(g - v) <= e && Number.isFinite(e);
    const ratio = ok ? 0 : Number.isFinite(v) && Number.isFinite(g) ? Math.abs(g - v) / e : Infinity;
    if (!ok && (worst < 0 || ratio > worstRatio)) {
      worst = i;
      worstRatio = ratio;
    }
  }
  if (worst < 0) return;
  const { v, e } = want[worst]!;
  const g = got[worst]!;
  assert.unreachable(
    `${what} entry ${worst}/${got.length}: got ${g}, exact ${v}: |err| ${Math.abs(g - v).toExponential(2)} > bound ${e.toExponential(2)} ` +
      `(${(Math.abs(g - v) / e).toPrecision(3)}× the bound; the bound is ${(e / (ULP * Math.abs(v))).toPrecision(3)} ulp of the value)`,
  );
}
