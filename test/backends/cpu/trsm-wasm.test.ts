/**
 * The Wasm SIMD triangular solves (src/backends/cpu/linalg/trsm-wasm.ts). float64: bit-identical to
 * the JS kernels they mirror (the kernels repeat the JS arithmetic operation for operation). float32:
 * the same operations in float32 arithmetic (f32x4), so not the JS path's bits (which computes in
 * float64 and rounds once); checked instead against op(A)·X = B with the backward-error bound of
 * substitution at float32's unit roundoff, and for consistency (broadcast strides, in place, the
 * JS path's Inf/NaN positions). Both: |B − op(A)X| ≤ γ(|op(A)||X|). Both routes multiply by
 * reciprocals of the diagonal instead of dividing (triangular.ts triangularSolve): zero pivots must
 * still give dividing's Inf/NaN, and a reciprocal that overflows gives ±Inf where dividing may not.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rng } from '../../seeded.js';
import { setTriangularWasm, triangularSolve } from '../../../src/backends/cpu/linalg/triangular.js';
import { trsmWasm } from '../../../src/backends/cpu/linalg/trsm-wasm.js';
import type { FloatArray } from '../../../src/backends/cpu/linalg/scratch.js';
import { isResident, residentFreeBytes, residentFreeCount } from '../../../src/backends/cpu/wasm-resident.js';
import * as bt from '../../../src/index.js';

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
    // Substitution is backward stable: |B − op(A)X| ≤ γ_{d+2} |op(A)||X| with γ_k = kε/(1−kε) and ε the
    // unit roundoff of the arithmetic (2⁻⁵³ for float64, 2⁻²⁴ for float32, which computes in float32):
    // every product's path through the blocked substitution is one multiply, at most d−1 additions or
    // subtractions, then the rounded reciprocal 1/A_ii and the multiply by it (two roundings where a
    // division had one: γ_{d+1} before). Plus γ_{d+1} at 2⁻⁵³ for forming the residual here in float64.
    for (const d of [1, 3, 7, 20, 33]) {
      for (const m of [2, 5, 64]) {
        const batch = 2;
        const a = randomA(C, batch, d, r), b = randomB(C, batch * d * m, r);
        for (const mode of MODES) {
          const x = new C(batch * d * m);
          assert.ok(trsmWasm(a, b, x, batch, d, m, mode.lower, mode.trans, mode.unit, d * d, d * m));
          const gamma = (k: number, e: number) => (k * e) / (1 - k * e);
          const bound = gamma(d + 2, isF32(C) ? 2 ** -24 : 2 ** -53) + gamma(d + 1, 2 ** -53);
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

/** Textbook substitution in float64 with true divisions: x_i = (b_i − Σ_k op(A)_ik x_k) / op(A)_ii. */
function divideReference(a: FloatArray, b: FloatArray, batch: number, d: number, m: number,
  mode: { lower: boolean; trans: boolean; unit: boolean }): Float64Array {
  const x = new Float64Array(batch * d * m);
  const opLower = mode.lower !== mode.trans;
  for (let t = 0; t < batch; t++) {
    const T = (i: number, k: number) => (mode.trans ? a[t * d * d + k * d + i]! : a[t * d * d + i * d + k]!);
    for (let step = 0; step < d; step++) {
      const i = opLower ? step : d - 1 - step;
      for (let c = 0; c < m; c++) {
        let s = b[t * d * m + i * m + c]!;
        for (let k = opLower ? 0 : i + 1; k < (opLower ? i : d); k++) s -= T(i, k) * x[t * d * m + k * m + c]!;
        x[t * d * m + i * m + c] = mode.unit ? s : s / T(i, i);
      }
    }
  }
  return x;
}
const kindOf = (v: number) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : 'finite');

for (const [name, C] of DTYPES) {
  test(`zero, -0 and infinite pivots give the Inf/NaN of dividing by them, both routes (${name})`, () => {
    // b·(1/±0) = ±Inf with the sign of b/±0, 0·(1/0) = NaN as 0/0, b·(1/±Inf) = ±0 as b/±Inf; from there
    // on the infinities propagate by sign alone, so any summation order gives the same kinds. Dense
    // off-diagonals (no zero coefficients: the tail loops' skips are the other test's concern).
    const r = rng(24);
    const d = 9, m = 6, batch = 4;
    for (const mode of MODES) {
      if (mode.unit) continue;
      const a = randomA(C, batch, d, r), b = randomB(C, batch * d * m, r);
      const first = mode.lower !== mode.trans ? 0 : d - 1; // the first row solved: its s is b itself
      const diag = (t: number, i: number) => t * d * d + i * d + i;
      a[diag(0, first)] = 0; b[first * m + 1] = 0; b[first * m + 2] = -0; // 0/0 = NaN for those columns
      a[diag(1, 4)] = -0; // inside a 4-row block
      a[diag(2, d - 1 - first)] = 0; // the last row solved (a tail row for the N forms' lower case)
      a[diag(3, 2)] = Infinity; a[diag(3, 6)] = -Infinity;
      const want = divideReference(a, b, batch, d, m, mode);
      const { js, wasm, used } = solveBoth(a, b, batch, d, m, mode, d * d, d * m);
      assert.ok(used);
      let nonFinite = 0;
      for (let q = 0; q < want.length; q++) {
        if (!Number.isFinite(want[q]!)) nonFinite++;
        assert.is(kindOf(js[q]!), kindOf(want[q]!), `JS ${JSON.stringify(mode)} element ${q}`);
        assert.is(kindOf(wasm[q]!), kindOf(want[q]!), `Wasm ${JSON.stringify(mode)} element ${q}`);
      }
      assert.ok(nonFinite > d * m, 'the pivots produced Inf and NaN');
    }
  });
}

test('a diagonal whose reciprocal overflows gives ±Inf where dividing might not (documented departure)', () => {
  // |A_ii| < 2⁻¹⁰²⁴: 1/A_ii = Inf, so X_i = b_i·Inf = ±Inf even where b_i/A_ii is finite (as optimised BLAS
  // trsm, which stores INV(a); reference LAPACK divides). Pinned so that a change of this is deliberate.
  const r = rng(25);
  const d = 5, m = 4;
  for (const mode of MODES) {
    if (mode.unit) continue;
    const a = randomA(Float64Array, 1, d, r), b = randomB(Float64Array, d * m, r);
    const first = mode.lower !== mode.trans ? 0 : d - 1;
    a[first * d + first] = 2 ** -1060;
    for (let c = 0; c < m; c++) b[first * m + c] = (c % 2 ? -1 : 1) * 2 ** -1050;
    assert.ok(Number.isFinite(b[first * m]! / a[first * d + first]!), 'dividing would give 2¹⁰');
    const { js, wasm } = solveBoth(a, b, 1, d, m, mode, d * d, d * m);
    for (let c = 0; c < m; c++) {
      const want = c % 2 ? -Infinity : Infinity;
      assert.is(js[first * m + c], want, `JS ${JSON.stringify(mode)} column ${c}`);
      assert.is(wasm[first * m + c], want, `Wasm ${JSON.stringify(mode)} column ${c}`);
    }
  }
});

test('triangularSolve (Wasm route on) gives the JS results on a GMMVI-sized batch', () => {
  const r = rng(19);
  const a = randomA(Float64Array, 30, 20, r), b = randomB(Float64Array, 30 * 20 * 300, r);
  const viaRoute = new Float64Array(b.length);
  triangularSolve(a, b, viaRoute, 30, 20, 300, true, true, false, 400, 6000);
  const { js } = solveBoth(a, b, 30, 20, 300, { lower: true, trans: true, unit: false }, 400, 6000);
  assert.is(firstDiff(viaRoute, js), -1);
});

// ---- results resident in Wasm memory (trsm-wasm.ts trsmWasmResident, wasm-resident.ts) -------------------------

/** The CPU storage behind a tensor (the engine's internal view; read only). */
const storage = (t: bt.Tensor): FloatArray => {
  const c = t.concrete() as unknown as { _handle: unknown; _backend: { peek(h: unknown): FloatArray } };
  return c._backend.peek(c._handle);
};
const opSolve = (a: FloatArray, b: FloatArray, batch: number, d: number, m: number, opts: { lower: boolean; transposeA: boolean; unitDiagonal: boolean }) =>
  bt.linalg.triangularSolve(bt.tensor(a).reshape([batch, d, d]), bt.tensor(b).reshape([batch, d, m]), opts);

for (const [name, C] of DTYPES) {
  test(`bt.linalg.triangularSolve keeps large results in Wasm memory, with the non-resident route's bits (${name})`, () => {
    const r = rng(20);
    const batch = 3, d = 20, m = 6000; // 2.9 MB float64 result: above the resident threshold
    const a = randomA(C, batch, d, r), b = randomB(C, batch * d * m, r);
    for (const mode of MODES) {
      const opts = { lower: mode.lower, transposeA: mode.trans, unitDiagonal: mode.unit };
      const x = opSolve(a, b, batch, d, m, opts);
      assert.ok(isResident(storage(x)), 'the result is a view of a resident Wasm memory');
      // float64: the JS loops' bits; float32: the (copying) Wasm route's.
      const want = isF32(C) ? solveBoth(a, b, batch, d, m, mode, d * d, d * m).wasm : solveBoth(a, b, batch, d, m, mode, d * d, d * m).js;
      assert.is(firstDiff(x.dataSync() as FloatArray, want), -1, JSON.stringify(mode));
      bt.dispose(x);
    }
  });
}

test('resident results survive the shared Wasm heap growing, other solves, and reuse of freed memories', () => {
  const r = rng(21);
  const d = 20, opts = { lower: true, transposeA: false, unitDiagonal: false };
  const a = randomA(Float64Array, 4, d, r);
  const b1 = randomB(Float64Array, 4 * d * 4000, r), b2 = randomB(Float64Array, 4 * d * 5000, r);
  const x1 = opSolve(a, b1, 4, d, 4000, opts), x2 = opSolve(a, b2, 4, d, 5000, opts);
  assert.ok(isResident(storage(x1)) && isResident(storage(x2)));
  assert.ok(storage(x1).buffer !== storage(x2).buffer, 'one memory per result');
  const want1 = x1.dataSync() as FloatArray, want2 = x2.dataSync() as FloatArray;
  // Odd m: rows need padding, so this takes the copying route through the shared heap, which must grow
  // (20 rows of 60001 float64 ≈ 9.6 MB): views of that heap would be detached, the resident ones are not.
  const mOdd = 60001;
  const bOdd = randomB(Float64Array, d * mOdd, r);
  const xOdd = opSolve(a.subarray(0, d * d), bOdd, 1, d, mOdd, opts);
  assert.not.ok(isResident(storage(xOdd)), 'padded rows: the copying route');
  assert.is(storage(x1).length, 4 * d * 4000, 'not detached');
  assert.is(firstDiff(x1.dataSync() as FloatArray, want1), -1);
  // Free x2, then solve the same shape again: the new result takes x2's memory; x1 must be untouched.
  const buf2 = storage(x2).buffer;
  bt.dispose(x2);
  const x3 = opSolve(a, b1, 4, d, 4000, opts);
  const x4 = opSolve(a, b2, 4, d, 5000, opts);
  assert.ok(storage(x4).buffer === buf2, 'the freed memory was reused');
  assert.is(firstDiff(x4.dataSync() as FloatArray, want2), -1);
  assert.is(firstDiff(x3.dataSync() as FloatArray, want1), -1);
  assert.is(firstDiff(x1.dataSync() as FloatArray, want1), -1, 'x1 unchanged by the later solves');
  // A resident result as the next solve's right-hand side (choleskySolve-like chains).
  const y = bt.linalg.triangularSolve(bt.tensor(a).reshape([4, d, d]), x1, { lower: true, transposeA: true });
  const yWant = solveBoth(a, want1 as FloatArray, 4, d, 4000, { lower: true, trans: true, unit: false }, d * d, d * 4000).js;
  assert.is(firstDiff(y.dataSync() as FloatArray, yWant), -1);
  bt.dispose([x1, x3, x4, xOdd, y]);
});

test('a result whose solve needs large A copies is not kept resident (the copies would stay with it, unseen by bt.memory())', () => {
  // The resident memory holds the result and, after it, the kernels' copies of A for as long as the
  // result lives. Here A (n = 1024: 8 MiB of float64) is 8× the 1 MiB result: the copying route.
  const r = rng(23);
  const d = 1024, m = 128, opts = { lower: true, transposeA: false, unitDiagonal: false };
  const a = randomA(Float64Array, 1, d, r), b = randomB(Float64Array, d * m, r);
  const x = opSolve(a, b, 1, d, m, opts);
  assert.not.ok(isResident(storage(x)), 'A copies 8x the result: not resident');
  assert.is(firstDiff(x.dataSync() as FloatArray, solveBoth(a, b, 1, d, m, { lower: true, trans: false, unit: false }, d * d, d * m).js), -1);
  bt.dispose(x);
  // Many right-hand sides per A: resident as before.
  const b2 = randomB(Float64Array, 20 * 8000, r); // 1.28 MB result, A 3.2 kB
  const x2 = opSolve(randomA(Float64Array, 1, 20, r), b2, 1, 20, 8000, opts);
  assert.ok(isResident(storage(x2)));
  bt.dispose(x2);
});

test('bt.memory() and the free resident memories stay flat over repeated solves', () => {
  const r = rng(22);
  const batch = 3, d = 20, m = 6000;
  const A = bt.tensor(randomA(Float64Array, batch, d, r)).reshape([batch, d, d]);
  const B = bt.tensor(randomB(Float64Array, batch * d * m, r)).reshape([batch, d, m]);
  const step = () => bt.tidy(() => bt.linalg.triangularSolve(A, bt.linalg.triangularSolve(A, B, { lower: true }), { lower: true, transposeA: true }).sum());
  step().dispose(); // warm: the free list holds this shape's memories from now on
  const before = bt.memory(), freeBefore = residentFreeBytes();
  for (let i = 0; i < 5; i++) step().dispose();
  assert.equal(bt.memory(), before);
  assert.is(residentFreeBytes(), freeBefore);
  bt.dispose([A, B]);
});

test('at most 16 free resident memories are kept, whatever their total size (address space per memory)', () => {
  const r = rng(23);
  const d = 20, m = 6600; // 1.06 MB results: 20 of them fit the 128 MB byte cap
  const A = bt.tensor(randomA(Float64Array, 1, d, r)).reshape([1, d, d]);
  const B = bt.tensor(randomB(Float64Array, d * m, r)).reshape([1, d, m]);
  const xs = Array.from({ length: 20 }, () => bt.linalg.triangularSolve(A, B, { lower: true }));
  assert.ok(xs.every((x) => isResident(storage(x))), 'each result resident');
  bt.dispose(xs);
  assert.ok(residentFreeCount() <= 16, `free memories kept: ${residentFreeCount()}`);
  bt.dispose([A, B]);
});

test.run();
