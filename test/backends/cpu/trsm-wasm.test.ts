/**
 * The Wasm SIMD triangular solves (src/backends/cpu/linalg/trsm-wasm.ts). float64: bit-identical to
 * the JS kernels they mirror (the kernels repeat the JS arithmetic operation for operation). float32:
 * the same operations in float32 arithmetic (f32x4), so not the JS path's bits (which computes in
 * float64 and rounds once); checked instead against op(A)·X = B with the backward-error bound of
 * substitution at float32's unit roundoff, and for consistency (broadcast strides, in place, the
 * JS path's Inf/NaN positions). Both: |B − op(A)X| ≤ γ(|op(A)||X|).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rng } from '../../seeded.js';
import { setTriangularWasm, triangularSolve } from '../../../src/backends/cpu/linalg/triangular.js';
import { trsmWasm } from '../../../src/backends/cpu/linalg/trsm-wasm.js';
import type { FloatArray } from '../../../src/backends/cpu/linalg/scratch.js';

type Ctor = Float64ArrayConstructor | Float32ArrayConstructor;
const DTYPES: [string, Ctor][] = [['float64', Float64Array], ['float32', Float32Array]];
const MODES = [false, true].flatMap((lower) => [false, true].flatMap((trans) => [false, true].map((unit) => ({ lower, trans, unit }))));

/** Triangular-ish matrices (both triangles filled: the solve must read only its own) with a dominant diagonal. */
function randomA(C: Ctor, batch: number, d: number, r: () => number): FloatArray {
  const a = new C(batch * d * d);
  for (let q = 0; q < a.length; q++) {
    const i = Math.floor((q % (d * d)) / d), j = q % d;
    a[q] = i === j ? (r() < 0.5 ? -1 : 1) * (1 + r()) : (r() - 0.5) * 0.6;
  }
  return a;
}
function randomB(C: Ctor, size: number, r: () => number): FloatArray {
  const b = new C(size);
  for (let q = 0; q < size; q++) b[q] = r() * 2 - 1;
  return b;
}

/** Index of the first element where x and y differ as values (NaN equals NaN), or -1. */
function firstDiff(x: FloatArray, y: FloatArray): number {
  for (let q = 0; q < x.length; q++) if (!Object.is(x[q], y[q]) && !(Number.isNaN(x[q]) && Number.isNaN(y[q]))) return q;
  return -1;
}

function solveBoth(a: FloatArray, b: FloatArray, batch: number, d: number, m: number,
  mode: { lower: boolean; trans: boolean; unit: boolean }, aStride: number, bStride: number) {
  const C = a.constructor as Ctor;
  const js = new C(batch * d * m), wasm = new C(batch * d * m);
  setTriangularWasm(false);
  try { triangularSolve(a, b, js, batch, d, m, mode.lower, mode.trans, mode.unit, aStride, bStride); } finally { setTriangularWasm(true); }
  const used = trsmWasm(a, b, wasm, batch, d, m, mode.lower, mode.trans, mode.unit, aStride, bStride);
  return { js, wasm, used };
}

/** max over entries of |B − op(A)X| / (|op(A)||X|)_entry, computed in float64. */
function residualRatio(a: FloatArray, b: FloatArray, x: FloatArray, batch: number, d: number, m: number,
  mode: { lower: boolean; trans: boolean; unit: boolean }, aStride: number, bStride: number): number {
  let worst = 0;
  for (let t = 0; t < batch; t++) {
    for (let i = 0; i < d; i++) {
      for (let c = 0; c < m; c++) {
        let s = 0, mag = 0;
        for (let k = 0; k < d; k++) {
          // op(A)[i][k]: only the solve's triangle, unit diagonal as ones.
          const [r, q] = mode.trans ? [k, i] : [i, k];
          const inTri = mode.lower ? q <= r : q >= r;
          if (!inTri) continue;
          const aik = i === k && mode.unit ? 1 : a[t * aStride + r * d + q]!;
          const v = aik * x[t * d * m + k * m + c]!;
          s += v; mag += Math.abs(v);
        }
        const res = Math.abs(b[t * bStride + i * m + c]! - s);
        if (mag > 0) worst = Math.max(worst, res / mag);
      }
    }
  }
  return worst;
}

/** Float32 runs in float32 arithmetic: its checks compare against the JS path only where the two must agree. */
const isF32 = (C: Ctor) => C === Float32Array;

/** The same result however the batch is strided: a broadcast (stride 0) operand materialised per batch element. */
function materialise(x: FloatArray, stride: number, batch: number, size: number): FloatArray {
  if (stride !== 0) return x;
  const C = x.constructor as Ctor;
  const full = new C(batch * size);
  for (let t = 0; t < batch; t++) full.set(x.subarray(0, size), t * size);
  return full;
}

for (const [name, C] of DTYPES) {
  if (!isF32(C)) test(`Wasm triangular solves equal the JS path bit for bit, every mode and tail size (${name})`, () => {
    const r = rng(15);
    let cases = 0;
    for (const d of [1, 3, 7, 20, 33]) {
      for (const m of [1, 2, 5, 9, 37, 9000]) {
        if (m === 9000 && d > 20) continue; // keeps the JS reference under a second
        const batch = m === 9000 ? 2 : 3;
        const a = randomA(C, batch, d, r), b = randomB(C, batch * d * m, r);
        for (const mode of MODES) {
          const { js, wasm, used } = solveBoth(a, b, batch, d, m, mode, d * d, d * m);
          // m = 1 stays on the JS vector routines (trsmWasm declines it); through triangularSolve it is JS.
          assert.is(used, m >= 2, 'the Wasm path ran exactly when m ≥ 2');
          if (!used) continue;
          const q = firstDiff(wasm, js);
          assert.is(q, -1, `d=${d} m=${m} ${JSON.stringify(mode)}: element ${q}: wasm ${wasm[q]} vs js ${js[q]}`);
          cases++;
        }
      }
    }
    assert.is(cases, 8 * (5 * 5 - 1));
  });

  test(`Wasm triangular solves satisfy op(A)X = B within the substitution error bound (${name})`, () => {
    const r = rng(16);
    // Substitution is backward stable: |B − op(A)X| ≤ γ_{d+1} |op(A)||X| with γ_k = kε/(1−kε) and ε the
    // unit roundoff of the arithmetic (2⁻⁵³ for float64, 2⁻²⁴ for float32, which computes in float32):
    // every product's path through the blocked substitution is one multiply, at most d−1 additions or
    // subtractions and one division. Plus γ_{d+1} at 2⁻⁵³ for forming the residual here in float64.
    for (const d of [1, 3, 7, 20, 33]) {
      for (const m of [2, 5, 64]) {
        const batch = 2;
        const a = randomA(C, batch, d, r), b = randomB(C, batch * d * m, r);
        for (const mode of MODES) {
          const x = new C(batch * d * m);
          assert.ok(trsmWasm(a, b, x, batch, d, m, mode.lower, mode.trans, mode.unit, d * d, d * m));
          const gamma = (e: number) => ((d + 1) * e) / (1 - (d + 1) * e);
          const bound = gamma(isF32(C) ? 2 ** -24 : 2 ** -53) + gamma(2 ** -53);
          const ratio = residualRatio(a, b, x, batch, d, m, mode, d * d, d * m);
          assert.ok(ratio <= bound, `d=${d} m=${m} ${JSON.stringify(mode)}: residual ratio ${ratio} > ${bound}`);
        }
      }
    }
  });

  test(`Wasm triangular solves broadcast A or B across the batch (stride 0) and solve in place (${name})`, () => {
    const r = rng(17);
    const d = 7, m = 11, batch = 4;
    const a1 = randomA(C, 1, d, r), aN = randomA(C, batch, d, r);
    const b1 = randomB(C, d * m, r), bN = randomB(C, batch * d * m, r);
    for (const mode of MODES) {
      for (const [a, aS, b, bS] of [[a1, 0, bN, d * m], [aN, d * d, b1, 0], [a1, 0, b1, 0]] as const) {
        const { js, wasm, used } = solveBoth(a, b, batch, d, m, mode, aS, bS);
        assert.ok(used);
        // float32: against the same kernels on the materialised batch (float64: the JS path).
        const want = isF32(C) ? solveBoth(materialise(a, aS, batch, d * d), materialise(b, bS, batch, d * m), batch, d, m, mode, d * d, d * m).wasm : js;
        assert.is(firstDiff(wasm, want), -1, `strides ${aS}/${bS} ${JSON.stringify(mode)}`);
      }
      const inPlace = bN.slice() as FloatArray;
      const { js, wasm } = solveBoth(aN, bN, batch, d, m, mode, d * d, d * m);
      assert.ok(trsmWasm(aN, inPlace, inPlace, batch, d, m, mode.lower, mode.trans, mode.unit, d * d, d * m));
      assert.is(firstDiff(inPlace, isF32(C) ? wasm : js), -1, `in place ${JSON.stringify(mode)}`);
    }
  });

  test(`zero diagonals, NaN and Inf give the JS path's Inf/NaN pattern exactly (${name})`, () => {
    const r = rng(18);
    const d = 9, m = 6, batch = 3;
    for (const mode of MODES) {
      const a = randomA(C, batch, d, r), b = randomB(C, batch * d * m, r);
      a[0 * d * d + 4 * d + 4] = 0; // singular: division by zero in row 4
      a[1 * d * d + 8 * d + 8] = 0; // last row (a tail row when d = 9)
      a[2 * d * d + 5 * d + 2] = NaN; // NaN off the diagonal (in both triangles' reach via transposes)
      a[2 * d * d + 2 * d + 5] = NaN;
      // Zero coefficients beside an infinite right-hand side: the JS tail loops skip zero coefficients
      // (no 0·Inf = NaN), the 4-row blocks do not; the Wasm kernels must do the same.
      a[1 * d * d + 8 * d + 0] = 0; a[1 * d * d + 0 * d + 8] = 0;
      b[1 * d * m + 0 * m + 1] = Infinity;
      b[1 * d * m + 8 * m + 2] = -Infinity;
      const { js, wasm, used } = solveBoth(a, b, batch, d, m, mode, d * d, d * m);
      assert.ok(used);
      let nonFinite = 0;
      for (const v of js) if (!Number.isFinite(v)) nonFinite++;
      if (!mode.unit) assert.ok(nonFinite > 0, 'the singular cases produced non-finite values');
      if (!isF32(C)) assert.is(firstDiff(wasm, js), -1, JSON.stringify(mode));
      else {
        // float32 arithmetic rounds differently, but no value here comes near float32's range: the
        // NaN/±Inf positions and kinds (the zero-coefficient skips included) are the JS path's.
        const kind = (v: number) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : 'finite');
        for (let q = 0; q < js.length; q++) assert.is(kind(wasm[q]!), kind(js[q]!), `${JSON.stringify(mode)} element ${q}`);
      }
    }
  });
}

test('triangularSolve (Wasm route on) gives the JS results on a GMMVI-sized batch', () => {
  const r = rng(19);
  const a = randomA(Float64Array, 30, 20, r), b = randomB(Float64Array, 30 * 20 * 300, r);
  const viaRoute = new Float64Array(b.length);
  triangularSolve(a, b, viaRoute, 30, 20, 300, true, true, false, 400, 6000);
  const { js } = solveBoth(a, b, 30, 20, 300, { lower: true, trans: true, unit: false }, 400, 6000);
  assert.is(firstDiff(viaRoute, js), -1);
});

test.run();
