import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rng } from '../../seeded.js';
import { matmul, type FloatArray } from '../../../src/backends/cpu/matmul/matmul.js';
import { matmulJS } from '../../../src/backends/cpu/matmul/matmul-js.js';
import { matmulWasm, setMatmulThreads } from '../../../src/backends/cpu/matmul/matmul-wasm.js';

type Impl = typeof matmul;
/** The public entry point plus each path forced, so small shapes exercise the Wasm kernel too. */
const IMPLS: [string, Impl][] = [
  ['matmul', matmul],
  ['js', matmulJS],
  ['wasm', (...args: Parameters<Impl>) => { if (!matmulWasm(...args)) throw new Error('wasm declined'); }],
];


/** Naive triple loop in float64, reading storage according to the transposes. */
function naive(a: FloatArray, ao: ArrayLike<number>, b: FloatArray, bo: ArrayLike<number>, batch: number,
  m: number, k: number, n: number, tA: boolean, tB: boolean): Float64Array {
  const out = new Float64Array(batch * m * n);
  for (let t = 0; t < batch; t++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const x = a[ao[t] + (tA ? p * m + i : i * k + p)];
          const y = b[bo[t] + (tB ? j * k + p : p * n + j)];
          s += x * y;
        }
        out[t * m * n + i * n + j] = s;
      }
  return out;
}

type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;

/** Runs one case; returns an error description or null. Error is relative to sum |a||b| per entry. */
function check(impl: Impl, C: Ctor, r: () => number, batch: number, m: number, k: number, n: number, tA: boolean, tB: boolean,
  broadcast: 'none' | 'a' | 'b'): string | null {
  const nA = broadcast === 'a' ? 1 : batch, nB = broadcast === 'b' ? 1 : batch;
  const pad = Math.floor(r() * 3); // A/B not starting at 0 exercises the offsets
  const a = new C(pad + nA * m * k), b = new C(pad + nB * k * n);
  for (let i = 0; i < a.length; i++) a[i] = r() * 2 - 1;
  for (let i = 0; i < b.length; i++) b[i] = r() * 2 - 1;
  const ao = Array.from({ length: batch }, (_, t) => pad + (broadcast === 'a' ? 0 : t * m * k));
  const bo = Array.from({ length: batch }, (_, t) => pad + (broadcast === 'b' ? 0 : t * k * n));
  const out = new C(batch * m * n).fill(NaN); // must be fully overwritten
  impl(a, ao, b, bo, out, batch, m, k, n, tA, tB);
  const ref = naive(a, ao, b, bo, batch, m, k, n, tA, tB);
  const tol = C === Float32Array ? 1e-4 : 1e-12;
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs(out[i] - ref[i]);
    if (!(err <= tol * Math.max(1, k))) {
      return `${C.name} batch=${batch} m=${m} k=${k} n=${n} tA=${tA} tB=${tB} bc=${broadcast}: ` +
        `out[${i}]=${out[i]} ref=${ref[i]}`;
    }
  }
  return null;
}

const TRANS: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];

for (const C of [Float64Array, Float32Array] as Ctor[]) for (const [implName, impl] of IMPLS) {
  test(`${C.name} ${implName}: random shapes 1..70, batch 1..3, all transposes, broadcast offsets`, () => {
    const r = rng(C === Float64Array ? 1 : 2);
    for (let it = 0; it < 60; it++) {
      const dim = () => 1 + Math.floor(r() * 70);
      const batch = 1 + Math.floor(r() * 3), m = dim(), k = dim(), n = dim();
      const bc = (['none', 'a', 'b'] as const)[Math.floor(r() * 3)];
      for (const [tA, tB] of TRANS) {
        const err = check(impl, C, r, batch, m, k, n, tA, tB, bc);
        if (err) assert.unreachable(err);
      }
    }
  });

}

for (const C of [Float64Array, Float32Array] as Ctor[]) {
  test(`${C.name}: edge and large shapes (kernel choice, B packing, k/m blocking, helper thread)`, async () => {
    await new Promise((res) => setTimeout(res, 300)); // let the helper thread come up
    const r = rng(7);
    for (const threads of [false, true]) {
      setMatmulThreads(threads);
      const shapes: [number, number, number, number][] = [
        [1, 1, 1, 1], [1, 1, 70, 1], [1, 70, 1, 70], [64, 8, 8, 8], [1, 256, 32, 128], [1, 256, 128, 2],
        [1, 2, 128, 256], [1, 130, 257, 67], [2, 97, 300, 101], [1, 200, 600, 33], [1, 33, 1100, 45],
        [1, 300, 200, 90], [3, 70, 300, 131],
      ];
      for (const [batch, m, k, n] of shapes)
        for (const [tA, tB] of TRANS) {
          const err = check(matmul, C, r, batch, m, k, n, tA, tB, batch > 1 ? 'b' : 'none');
          if (err) assert.unreachable(err);
        }
    }
    setMatmulThreads(true);
  });

  test(`${C.name}: zero-size dims leave a correctly sized result`, () => {
    const out = new C(6).fill(NaN);
    matmul(new C(0), [0], new C(0), [0], out, 1, 2, 0, 3, false, false);
    assert.equal(Array.from(out), [0, 0, 0, 0, 0, 0]);
    matmul(new C(0), [0], new C(0), [0], new C(0), 1, 0, 5, 3, false, false);
    matmul(new C(0), [], new C(0), [], new C(0), 0, 4, 5, 3, false, false);
  });
}

test.run();
