import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rng } from '../../seeded.js';
import {
  cholesky,
  triangularSolve,
  luFactor,
  luSolve,
  slogdetFromLu,
  type FloatArray,
} from '../../../src/backends/cpu/linalg.js';

// ---- helpers ----------------------------------------------------------------------------------------------------


type Ctor = Float64ArrayConstructor | Float32ArrayConstructor;
const DTYPES: [string, Ctor, number][] = [
  ['float64', Float64Array, 1e-11],
  ['float32', Float32Array, 2e-4],
];

/** batch random SPD matrices G G^T / n + I (well conditioned). Upper triangle filled with NaN if `poisonUpper`. */
function randomSpd(C: Ctor, batch: number, n: number, r: () => number, poisonUpper: boolean): FloatArray {
  const out = new C(batch * n * n);
  const g = new Float64Array(n * n);
  for (let t = 0; t < batch; t++) {
    for (let q = 0; q < n * n; q++) g[q] = r() * 2 - 1;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += g[i * n + k] * g[j * n + k];
        out[t * n * n + i * n + j] = j > i && poisonUpper ? NaN : s / n + (i === j ? 1 : 0);
      }
    }
  }
  return out;
}

function randomArray(C: Ctor, size: number, r: () => number): FloatArray {
  const a = new C(size);
  for (let q = 0; q < size; q++) a[q] = r() * 2 - 1;
  return a;
}

/** max |x - y| / (1 + |y|) style relative error, scaled by max |y|. */
function maxRelErr(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let scale = 0;
  for (let q = 0; q < y.length; q++) scale = Math.max(scale, Math.abs(y[q]));
  let e = 0;
  for (let q = 0; q < y.length; q++) e = Math.max(e, Math.abs(x[q] - y[q]));
  return e / Math.max(scale, 1e-300);
}

// ---- cholesky ---------------------------------------------------------------------------------------------------

for (const [name, C, tol] of DTYPES) {
  test(`cholesky: L L^T = A, lower triangular (${name})`, () => {
    const r = rng(1);
    for (const n of [1, 2, 5, 17, 64, 200]) {
      for (const batch of [1, 3]) {
        const a = randomSpd(C, batch, n, r, true);
        const out = new C(batch * n * n).fill(123);
        const info = { pivot: -7, value: -7 };
        assert.is(cholesky(a, out, batch, n, info), -1, `n=${n} batch=${batch}`);
        assert.equal(info, { pivot: -7, value: -7 });
        for (let t = 0; t < batch; t++) {
          const o = t * n * n;
          let err = 0, scale = 0;
          for (let i = 0; i < n; i++) {
            assert.ok(out[o + i * n + i] > 0);
            for (let j = 0; j < n; j++) {
              if (j > i) {
                assert.is(out[o + i * n + j], 0, 'zero above diagonal');
                continue;
              }
              let s = 0;
              for (let k = 0; k <= j; k++) s += out[o + i * n + k] * out[o + j * n + k];
              err = Math.max(err, Math.abs(s - a[o + i * n + j]));
              scale = Math.max(scale, Math.abs(a[o + i * n + j]));
            }
          }
          assert.ok(err / scale < tol, `n=${n} batch=${batch} t=${t} err=${err / scale}`);
        }
      }
    }
  });
}

test('cholesky: in place (out === a)', () => {
  const r = rng(2);
  const n = 9;
  const a = randomSpd(Float64Array, 2, n, r, false);
  const ref = new Float64Array(a.length);
  assert.is(cholesky(a, ref, 2, n), -1);
  assert.is(cholesky(a, a, 2, n), -1);
  assert.ok(maxRelErr(a, ref) === 0);
});

test('cholesky: failure index, pivot and value; other batch elements still factored', () => {
  const n = 4;
  const batch = 3;
  const a = new Float64Array(batch * n * n);
  for (let t = 0; t < batch; t++) for (let i = 0; i < n; i++) a[t * n * n + i * n + i] = 4;
  // Element 1: [[1, 2], [2, 1]] in the leading block -> pivot 1 is 1 - 2^2 = -3.
  const o1 = n * n;
  a[o1 + 0] = 1; a[o1 + 1 * n + 0] = 2; a[o1 + 1 * n + 1] = 1;
  // Element 2: negative diagonal at pivot 2 (also fails, but 1 is first).
  a[2 * n * n + 2 * n + 2] = -3;
  const out = new Float64Array(batch * n * n);
  const info = { pivot: -1, value: 0 };
  assert.is(cholesky(a, out, batch, n, info), 1);
  assert.is(info.pivot, 1);
  assert.is(info.value, -3);
  // Element 0 is 2·I.
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) assert.is(out[i * n + j], i === j ? 2 : 0);
  // Failed element: NaN in the failed rows' lower triangle, zeros above.
  assert.ok(Number.isNaN(out[o1 + 1 * n + 1]));
  assert.is(out[o1 + 1 * n + 2], 0);
  // Only element 2 failing: index 2, pivot 2, value -3.
  const a2 = a.slice(2 * n * n);
  const info2 = { pivot: -1, value: 0 };
  assert.is(cholesky(a2, new Float64Array(n * n), 1, n, info2), 0);
  assert.equal(info2, { pivot: 2, value: -3 });
  // Singular PSD (zero pivot) and NaN input also fail.
  assert.is(cholesky(new Float64Array([1, 1, 1, 1]), new Float64Array(4), 1, 2, info2), 0);
  assert.equal(info2, { pivot: 1, value: 0 });
  assert.is(cholesky(new Float64Array([NaN]), new Float64Array(1), 1, 1, info2), 0);
  assert.is(info2.pivot, 0);
  // Odd n, failure in the last (unpaired) row.
  const a3 = new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, -2]);
  assert.is(cholesky(a3, new Float32Array(9), 1, 3, info2), 0);
  assert.equal(info2, { pivot: 2, value: -2 });
});

// ---- triangular solve --------------------------------------------------------------------------------------------

/** Random triangular matrix; the unread triangle (and the diagonal when unit) is NaN so stray reads show up. */
function randomTri(C: Ctor, n: number, lower: boolean, unit: boolean, r: () => number): FloatArray {
  const a = new C(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const inTri = lower ? j < i : j > i;
      if (i === j) a[i * n + j] = unit ? NaN : (r() < 0.5 ? -1 : 1) * (1 + r());
      else a[i * n + j] = inTri ? (r() * 2 - 1) / Math.sqrt(n) : NaN;
    }
  }
  return a;
}

/** op(A) X with A read as triangular (the other triangle treated as zero). */
function triMul(a: FloatArray, x: ArrayLike<number>, n: number, m: number, lower: boolean, trans: boolean, unit: boolean): Float64Array {
  const y = new Float64Array(n * m);
  const get = (i: number, j: number): number => {
    if (i === j) return unit ? 1 : a[i * n + j];
    return (lower ? j < i : j > i) ? a[i * n + j] : 0;
  };
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < m; c++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += (trans ? get(k, i) : get(i, k)) * x[k * m + c];
      y[i * m + c] = s;
    }
  }
  return y;
}

for (const [name, C, tol] of DTYPES) {
  test(`triangularSolve: all 8 (lower, transpose, unit) combinations with broadcast strides (${name})`, () => {
    const r = rng(3);
    const batch = 3;
    for (const lower of [true, false]) {
      for (const trans of [false, true]) {
        for (const unit of [false, true]) {
          for (const n of [1, 2, 3, 4, 5, 8, 13, 40]) {
            for (const m of [1, 2, 7, 70]) {
              // Stride patterns: both batched; A broadcast; B broadcast.
              for (const [aBroad, bBroad] of [[false, false], [true, false], [false, true]]) {
                const aCount = aBroad ? 1 : batch;
                const bCount = bBroad ? 1 : batch;
                const aParts: FloatArray[] = [];
                const a = new C(aCount * n * n);
                for (let t = 0; t < aCount; t++) {
                  const p = randomTri(C, n, lower, unit, r);
                  aParts.push(p);
                  a.set(p, t * n * n);
                }
                const b = randomArray(C, bCount * n * m, r);
                const out = new C(batch * n * m);
                triangularSolve(a, b, out, batch, n, m, lower, trans, unit, aBroad ? 0 : n * n, bBroad ? 0 : n * m);
                for (let t = 0; t < batch; t++) {
                  const x = out.subarray(t * n * m, (t + 1) * n * m);
                  for (let q = 0; q < x.length; q++) assert.ok(Number.isFinite(x[q]), 'finite');
                  const y = triMul(aParts[aBroad ? 0 : t], x, n, m, lower, trans, unit);
                  const bt = b.subarray((bBroad ? 0 : t) * n * m, ((bBroad ? 0 : t) + 1) * n * m);
                  const e = maxRelErr(y, bt);
                  assert.ok(e < tol * 10, `lower=${lower} trans=${trans} unit=${unit} n=${n} m=${m} t=${t} err=${e}`);
                }
              }
            }
          }
        }
      }
    }
  });
}

test('triangularSolve: in place (out === b) and m spanning several column tiles', () => {
  const r = rng(4);
  const n = 30, m = 150;
  for (const lower of [true, false]) {
    for (const trans of [false, true]) {
      const a = randomTri(Float64Array, n, lower, false, r);
      const b = randomArray(Float64Array, 2 * n * m, r);
      const ref = new Float64Array(b.length);
      triangularSolve(a, b, ref, 2, n, m, lower, trans, false, 0, n * m);
      const x = b.slice();
      triangularSolve(a, x, x, 2, n, m, lower, trans, false, 0, n * m);
      assert.ok(maxRelErr(x, ref) === 0);
      const y = triMul(a, ref.subarray(n * m), n, m, lower, trans, false);
      assert.ok(maxRelErr(y, b.subarray(n * m)) < 1e-12);
    }
  }
});

test('float32: in place and mixed-dtype operands agree with the float64 path rounded', () => {
  const r = rng(9);
  const n = 11, m = 5;
  const a64 = randomSpd(Float64Array, 2, n, r, false);
  const a32 = Float32Array.from(a64);
  const ref = new Float64Array(a64.length);
  assert.is(cholesky(Float64Array.from(a32), ref, 2, n), -1);
  const inPlace = a32.slice();
  assert.is(cholesky(inPlace, inPlace, 2, n), -1);
  assert.equal(Array.from(inPlace), Array.from(Float32Array.from(ref)));
  const mixed = new Float64Array(a64.length);
  assert.is(cholesky(a32, mixed, 2, n), -1);
  assert.equal(Array.from(mixed), Array.from(ref));
  const b32 = randomArray(Float32Array, 2 * n * m, r);
  const x64 = new Float64Array(b32.length);
  triangularSolve(Float64Array.from(inPlace), Float64Array.from(b32), x64, 2, n, m, true, true, false, n * n, n * m);
  const x32 = b32.slice();
  triangularSolve(inPlace, x32, x32, 2, n, m, true, true, false, n * n, n * m);
  assert.equal(Array.from(x32), Array.from(Float32Array.from(x64)));
});

// ---- LU ----------------------------------------------------------------------------------------------------------

function matmul(a: ArrayLike<number>, b: ArrayLike<number>, n: number, k: number, m: number): Float64Array {
  const y = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let p = 0; p < k; p++) {
    const v = a[i * k + p];
    for (let c = 0; c < m; c++) y[i * m + c] += v * b[p * m + c];
  }
  return y;
}

for (const [name, C, tol] of DTYPES) {
  test(`luFactor / luSolve: P A = L U and small residuals (${name})`, () => {
    const r = rng(5);
    for (const n of [1, 2, 3, 5, 17, 64]) {
      for (const m of [1, 3]) {
        for (const bBroad of [false, true]) {
          const batch = 3;
          const a = randomArray(C, batch * n * n, r);
          const lu = new C(batch * n * n);
          const perm = new Int32Array(batch * n);
          const sign = new C(batch);
          assert.is(luFactor(a, lu, perm, sign, batch, n), -1);
          const b = randomArray(C, (bBroad ? 1 : batch) * n * m, r);
          const out = new C(batch * n * m);
          luSolve(lu, perm, b, out, batch, n, m, bBroad ? 0 : n * m);
          for (let t = 0; t < batch; t++) {
            const A = a.subarray(t * n * n, (t + 1) * n * n);
            const LU = lu.subarray(t * n * n, (t + 1) * n * n);
            const P = perm.subarray(t * n, (t + 1) * n);
            // Permutation is valid and sign is its parity.
            const seen = new Set<number>(P);
            assert.is(seen.size, n);
            let parity = 1;
            const pp = Array.from(P);
            for (let i = 0; i < n; i++) {
              while (pp[i] !== i) { const j = pp[i]; [pp[i], pp[j]] = [pp[j], pp[i]]; parity = -parity; }
            }
            assert.is(sign[t], parity);
            // P A = L U, |L| <= 1.
            const L = new Float64Array(n * n), U = new Float64Array(n * n);
            for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
              if (j < i) { L[i * n + j] = LU[i * n + j]; assert.ok(Math.abs(LU[i * n + j]) <= 1); }
              else U[i * n + j] = LU[i * n + j];
              if (i === j) L[i * n + j] = 1;
            }
            const PA = new Float64Array(n * n);
            for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) PA[i * n + j] = A[P[i] * n + j];
            const e1 = maxRelErr(matmul(L, U, n, n, n), PA);
            assert.ok(e1 < tol * 10, `PA=LU n=${n} err=${e1}`);
            // Residual ||A X - B|| / (||A|| ||X||).
            const X = out.subarray(t * n * m, (t + 1) * n * m);
            const B = b.subarray((bBroad ? 0 : t) * n * m, ((bBroad ? 0 : t) + 1) * n * m);
            const AX = matmul(A, X, n, n, m);
            let res = 0, na = 0, nx = 0;
            for (let q = 0; q < AX.length; q++) res = Math.max(res, Math.abs(AX[q] - B[q]));
            for (let q = 0; q < A.length; q++) na = Math.max(na, Math.abs(A[q]));
            for (let q = 0; q < X.length; q++) nx = Math.max(nx, Math.abs(X[q]));
            assert.ok(res / (na * nx * n) < tol, `residual n=${n} m=${m} ${res / (na * nx * n)}`);
          }
        }
      }
    }
  });
}

// ---- slogdet -----------------------------------------------------------------------------------------------------

function slogdet(C: Ctor, a: FloatArray, batch: number, n: number): { sign: FloatArray; logabsdet: FloatArray; idx: number } {
  const lu = new C(batch * n * n);
  const perm = new Int32Array(batch * n);
  const ps = new C(batch);
  const idx = luFactor(a, lu, perm, ps, batch, n);
  const sign = new C(batch), logabsdet = new C(batch);
  slogdetFromLu(lu, sign, ps, logabsdet, batch, n);
  return { sign, logabsdet, idx };
}

for (const [name, C, tol] of DTYPES) {
  test(`slogdet matches 2 Σ log diag(chol) on SPD matrices (${name})`, () => {
    const r = rng(6);
    for (const n of [1, 2, 5, 17, 64]) {
      const batch = 3;
      const a = randomSpd(C, batch, n, r, false);
      const L = new C(batch * n * n);
      assert.is(cholesky(a, L, batch, n), -1);
      const { sign, logabsdet } = slogdet(C, a, batch, n);
      for (let t = 0; t < batch; t++) {
        let ref = 0;
        for (let i = 0; i < n; i++) ref += 2 * Math.log(L[t * n * n + i * n + i]);
        assert.is(sign[t], 1);
        assert.ok(Math.abs(logabsdet[t] - ref) < tol * 10 * Math.max(1, Math.abs(ref)), `n=${n} ${logabsdet[t]} vs ${ref}`);
      }
    }
  });

  test(`slogdet matches 2×2 / 3×3 closed forms, both signs (${name})`, () => {
    const r = rng(7);
    for (let trial = 0; trial < 50; trial++) {
      const a2 = randomArray(C, 2 * 4, r);
      const s2 = slogdet(C, a2, 2, 2);
      for (let t = 0; t < 2; t++) {
        const [a, b, c, d] = Array.from(a2.subarray(t * 4, t * 4 + 4));
        const det = a * d - b * c;
        assert.is(s2.sign[t], Math.sign(det));
        assert.ok(Math.abs(s2.logabsdet[t] - Math.log(Math.abs(det))) < tol * 1e3 / Math.max(1e-3, Math.abs(det)) * 1e-3 + tol * 10);
      }
      const a3 = randomArray(C, 3 * 9, r);
      const s3 = slogdet(C, a3, 3, 3);
      for (let t = 0; t < 3; t++) {
        const m = Array.from(a3.subarray(t * 9, t * 9 + 9));
        const det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
        if (Math.abs(det) < 1e-2) continue; // skip near-singular draws (float32 cancellation)
        assert.is(s3.sign[t], Math.sign(det));
        assert.ok(Math.abs(s3.logabsdet[t] - Math.log(Math.abs(det))) < tol * 100, `${s3.logabsdet[t]} vs ${Math.log(Math.abs(det))}`);
      }
    }
    // A fixed permutation matrix: det = -1.
    const p = slogdet(C, new C([0, 1, 0, 1, 0, 0, 0, 0, 1]), 1, 3);
    assert.is(p.sign[0], -1);
    assert.is(p.logabsdet[0], 0);
  });

  test(`singular matrices: luFactor index, slogdet sign 0 / -Infinity (${name})`, () => {
    const n = 3;
    const good = [2, 1, 0, 1, 3, 1, 0, 1, 4]; // det 18
    const dupRows = [1, 2, 3, 2, 4, 6, 1, 1, 1]; // row 1 = 2 × row 0
    const zeroCol = [1, 0, 2, 3, 0, 4, 5, 0, 6];
    const zeros = [0, 0, 0, 0, 0, 0, 0, 0, 0];
    const a = new C([...good, ...dupRows, ...zeroCol, ...good, ...zeros]);
    const batch = 5;
    const lu = new C(batch * n * n);
    const perm = new Int32Array(batch * n);
    const ps = new C(batch);
    assert.is(luFactor(a, lu, perm, ps, batch, n), 1);
    for (let q = 0; q < lu.length; q++) assert.ok(Number.isFinite(lu[q]), 'factors stay finite');
    const sign = new C(batch), lad = new C(batch);
    slogdetFromLu(lu, sign, ps, lad, batch, n);
    assert.equal(Array.from(sign), [1, 0, 0, 1, 0]);
    assert.ok(Math.abs(lad[0] - Math.log(18)) < tol * 10);
    assert.is(lad[1], -Infinity);
    assert.is(lad[2], -Infinity);
    assert.is(lad[4], -Infinity);
    // Non-singular elements of the same batch still solve correctly.
    const b = new C([1, 2, 3]);
    const out = new C(batch * n);
    luSolve(lu, perm, b, out, batch, n, 1, 0);
    const ax = matmul(good, out.subarray(0, 3), 3, 3, 1);
    assert.ok(maxRelErr(ax, b) < tol * 10);
    // 1×1 zero.
    assert.is(luFactor(new C([0]), new C(1), new Int32Array(1), new C(1), 1, 1), 0);
  });
}

test('n = 0 and batch = 0 are no-ops', () => {
  assert.is(cholesky(new Float64Array(0), new Float64Array(0), 3, 0), -1);
  assert.is(luFactor(new Float64Array(0), new Float64Array(0), new Int32Array(0), new Float64Array(2), 2, 0), -1);
  const s = new Float64Array(2), l = new Float64Array(2);
  slogdetFromLu(new Float64Array(0), s, new Float64Array([1, 1]), l, 2, 0);
  assert.equal(Array.from(s), [1, 1]);
  assert.equal(Array.from(l), [0, 0]);
  triangularSolve(new Float64Array(0), new Float64Array(0), new Float64Array(0), 0, 4, 4, true, false, false, 16, 16);
});

// ---- timings -----------------------------------------------------------------------------------------------------

function bestOf(reps: number, f: () => void): number {
  f(); // warm-up
  let best = Infinity;
  for (let q = 0; q < reps; q++) {
    const t0 = performance.now();
    f();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

test('timings', () => {
  const r = rng(8);
  for (const [name, C] of DTYPES) {
    const a64 = randomSpd(C, 100, 64, r, false);
    const o64 = new C(a64.length);
    const t1 = bestOf(5, () => { cholesky(a64, o64, 100, 64); });
    const a512 = randomSpd(C, 1, 512, r, false);
    const o512 = new C(a512.length);
    const t2 = bestOf(3, () => { cholesky(a512, o512, 1, 512); });
    const b512 = randomArray(C, 512 * 512, r);
    const x512 = new C(512 * 512);
    const tN = bestOf(3, () => triangularSolve(o512, b512, x512, 1, 512, 512, true, false, false, 0, 0));
    const tT = bestOf(3, () => triangularSolve(o512, b512, x512, 1, 512, 512, true, true, false, 0, 0));
    const lu = new C(a512.length), perm = new Int32Array(512), sg = new C(1);
    const tLu = bestOf(3, () => { luFactor(a512, lu, perm, sg, 1, 512); });
    const gflop = (flops: number, ms: number): string => (flops / ms / 1e6).toFixed(2);
    console.log(
      `[linalg ${name}] cholesky 64×64 ×100: ${t1.toFixed(2)} ms (${gflop(100 * 64 ** 3 / 3, t1)} GFLOP/s); ` +
      `cholesky 512: ${t2.toFixed(2)} ms (${gflop(512 ** 3 / 3, t2)} GFLOP/s); ` +
      `trsm 512×512 m=512 L: ${tN.toFixed(2)} ms (${gflop(512 ** 3, tN)} GFLOP/s), L^T: ${tT.toFixed(2)} ms; ` +
      `luFactor 512: ${tLu.toFixed(2)} ms (${gflop(2 * 512 ** 3 / 3, tLu)} GFLOP/s)`,
    );
  }
});

test.run();
