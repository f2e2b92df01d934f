/**
 * tanh in plain arithmetic, for the CPU backend's elementwise kernel and bt.jit's fused loops
 * (both call this one function, so jit stays bit-for-bit equal to eager dispatch).
 *
 * Why not Math.tanh: V8 runs it as a call into C (fdlibm), ≈18 ns per element, and Math.exp is
 * no cheaper. An MLP step at batch 256 with two 128-wide tanh layers spent a third of its time
 * there. This version is a table and a polynomial with no division on its hot path, and small
 * enough for V8 to inline into the kernels' loops.
 *
 * Accuracy (float64): ≤ 1 ulp (measured max 0.99 ulp over 213,000 points against a 60-digit reference; the test
 * checks ≤ 1 ulp against a 256-bit one; Math.tanh itself reaches 2.1 ulp); float32 results are
 * the float64 value rounded once.
 *
 * - |x| < 1.5: the Taylor series of tanh about the nearest grid point a = k/32, in b = x − a
 *   (exact, |b| ≤ 1/64), to b^9: tanh(a + b) = T + Σ c_n b^n, n = 1..9. T = tanh(a) comes from a
 *   table as a pair of doubles (60 digits), so the big part of the result is exact and all
 *   rounding is in the sum, which is at most a third of the result; the c_n follow from T by
 *   y' = 1 − y² (below). Truncation: |c_10 b^10| < 1e-20.
 * - 1.5 ≤ |x| < 19.1: 1 − 2 / (e^{2|x|} + 1), e^y by Cody–Waite reduction y = k ln2 + r and the
 *   Taylor series of e^r to r^13; the error of e^y reaches the result damped by ≤ 0.11.
 * - |x| ≥ 19.1: ±1 (1 − tanh|x| < 2^-54 there, so that is the rounded value); NaN stays NaN.
 */

/** tanh(k / 32), k = 0..48, correctly rounded (Python decimal, 60 digits)... */
const T = [
  0.0, 0.031239831446031256, 0.062418746747512514, 0.09347630396922774, 0.12435300177159621,
  0.1549907303716235, 0.1853331999081395, 0.21532633966578324, 0.24491866240370913,
  0.2740615889607664, 0.3027097293321085, 0.330821117493628, 0.35835739835078595,
  0.3852839662694723, 0.41157005567402244, 0.43718878514171233, 0.46211715726000974,
  0.48633601722496234, 0.5098299737352566, 0.5325872861719194, 0.5545997223493823,
  0.5758623912857893, 0.5963735554792423, 0.6161344271055263, 0.6351489523872873,
  0.6534235881413468, 0.6709670742068736, 0.6877902051090852, 0.703905603936621,
  0.7193275010198336, 0.7340715196043415, 0.7481544703297354, 0.7615941559557649,
  0.7744091874342136, 0.7866188121086977, 0.7982427545398869, 0.809301070201781,
  0.8198140120760964, 0.8298019099859595, 0.8392850623555859, 0.8482836399575129,
  0.8568176011108951, 0.8649066177207418, 0.8725700114960693, 0.8798266996519848,
  0.8866951493840524, 0.8931933404003515, 0.8993387348050462, 0.9051482536448664,
];
/** ...and what that rounding left off: tanh(k / 32) − T[k], rounded. */
const TLO = [
  0.0, 5.446619868927016e-19, 1.5112489404944624e-19, -3.404224517979435e-18,
  -2.1451880813141441e-19, 4.350388253974029e-19, 5.4744612262799576e-18, 9.490630921369522e-18,
  -1.6036228849882693e-18, -8.102658880550791e-19, -3.0759785809635975e-18, -1.702416173170034e-17,
  -3.184100638338411e-18, -2.1255519079829082e-17, 1.2258221931668309e-17, -8.890843779626459e-18,
  2.1916603238260928e-17, -1.9841741840627016e-17, -4.2722008489587145e-17, 3.4975763388519394e-17,
  3.145617845100655e-17, 1.2104245373852489e-17, 2.7705962641614684e-17, 4.751979298758843e-17,
  1.7012977006564836e-17, 1.139824208080821e-17, 4.7951459612541725e-17, 1.2018781358002664e-17,
  1.126629865834986e-17, 2.809809173597129e-17, 2.1218821924074105e-17, 1.5122913212622545e-17,
  3.7090214482164924e-17, -4.008305643074366e-17, -4.4746796656952766e-17, 3.7084392924933776e-17,
  1.997469910893264e-17, -4.462041962566759e-17, 4.215795007609928e-17, -1.4751983015362114e-17,
  1.7099441972242e-17, -5.309899930640819e-17, -5.25144742989944e-17, 5.038074600185218e-17,
  -3.3380432917407976e-17, -3.218622143639058e-17, 5.50100969939195e-17, 1.5654341753986247e-17,
  4.1992024501810215e-17,
];

/** Polynomial degree about each grid point. */
const DEG = 9;
/**
 * Row of grid point k/32 (k = −48..48) at (k + 48) * ROW: [T, TLO, c1, ..., c9]. Also copied into
 * the Wasm version's memory (./tanh-wasm64.ts).
 */
export const ROW = DEG + 2;
export const TAB = new Float64Array(97 * ROW);
for (let k = -48; k <= 48; k++) {
  const s = k < 0 ? -1 : 1;
  const c = [s * T[Math.abs(k)]!];
  // Taylor coefficients of y = tanh about a: y' = 1 − y² gives (n + 1) c_{n+1} = [n = 0] − Σ c_i c_{n−i}
  for (let n = 0; n < DEG; n++) {
    let sum = 0;
    for (let i = 0; i <= n; i++) sum += c[i]! * c[n - i]!;
    c.push(((n === 0 ? 1 : 0) - sum) / (n + 1));
  }
  const o = (k + 48) * ROW;
  TAB[o] = c[0]!;
  TAB[o + 1] = s * TLO[Math.abs(k)]!;
  for (let n = 1; n <= DEG; n++) TAB[o + 1 + n] = c[n]!;
}
// At k = 0 the result is −0 + (−0 + p), p = b (1 + ...): x itself for tiny x, −0 kept for −0.
TAB[48 * ROW] = -0;
TAB[48 * ROW + 1] = -0;

// ln 2 split so that k * LN2_HI is exact for |k| < 2^20 (fdlibm's constants). Exported for ./tanh-wasm64.ts.
export const LN2_HI = 6.93147180369123816490e-1;
export const LN2_LO = 1.90821492927058770002e-10;
export const INV_LN2 = 1.44269504088896338700;
/** 2^k for k = 0..63 (e^y for y < 38.2 needs k ≤ 56). */
const POW2 = Float64Array.from({ length: 64 }, (_, k) => 2 ** k);

/** e^y for 3 ≤ y < 38.2, relative error a few 1e-16 (enough for its one caller, see above). */
function expMid(y: number): number {
  const k = Math.round(y * INV_LN2);
  const r = y - k * LN2_HI - k * LN2_LO; // |r| ≤ ln2/2 + tiny
  // Taylor series to r^13 (1/13! · (ln2/2)^14 < 3e-18), Horner
  const p =
    1 + r * (1 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r * (1 / 5040 + r * (1 / 40320 + r * (1 / 362880 + r * (1 / 3628800 + r * (1 / 39916800 + r * (1 / 479001600 + r / 6227020800))))))))))));
  return p * POW2[k]!;
}

/** tanh(x), float64, ≤ 1 ulp (see the module comment). */
export function tanh(x: number): number {
  // Small, with the rare paths in their own function, so that V8 inlines it into the kernels'
  // loops (a call that is not inlined returns its double boxed: more than the math costs).
  if (!(x < 1.5 && x > -1.5)) return tanhLarge(x);
  // j = k + 48 for the nearest grid point k/32 (x * 32 + 48.5 > 0: truncation is floor), an int32
  // so that the table index is one too (Math.round's double result makes the loads slower)
  const j = (x * 32 + 48.5) | 0;
  const b = x - (j - 48) * 0.03125; // exact: x and k/32 are within a factor 2 of each other (or k = 0)
  const o = j * ROW;
  const p = b * (TAB[o + 2]! + b * (TAB[o + 3]! + b * (TAB[o + 4]! + b * (TAB[o + 5]! + b * (TAB[o + 6]! + b * (TAB[o + 7]! + b * (TAB[o + 8]! + b * (TAB[o + 9]! + b * TAB[o + 10]!))))))));
  return TAB[o]! + (TAB[o + 1]! + p);
}

/** tanh(x) for |x| ≥ 1.5, or NaN. */
function tanhLarge(x: number): number {
  const a = Math.abs(x);
  if (a !== a) return x;
  const r = a < 19.1 ? 1 - 2 / (expMid(2 * a) + 1) : 1;
  return x < 0 ? -r : r;
}
