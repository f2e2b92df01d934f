/**
 * A WebGPU product checked against the float64 product of the same float32 inputs: a dot product
 * of length K in float32, in any order and with or without fma, is within K·2⁻²³·Σ|a_ik b_kj| of it.
 * The transpositions are the matmul primitive's own flags (as the VJP uses them), so the kernels'
 * transposed loads really run (bt.mT would transpose the operand first).
 */
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { bind1 } from '../../src/autodiff/core.js';
import { matmulPrim } from '../../src/autodiff/ops/matmul.js';
import { setTileOverride, type TileConfig } from '../../src/backends/webgpu/kernels/matmul.js';
import { rng } from '../helpers.js';

/** uniform in (−1, 1), or (`integers`) integers in {−2, …, 2}, whose float32 products and sums of up to 2²² terms are exact */
const values = (n: number, seed: number, integers = false) => {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (integers ? Math.floor(5 * r()) - 2 : 2 * r() - 1));
};

/** C = op(A) op(B) in float64 over [batch, ...] (A or B broadcast when its batch is 1), and Σ|a||b| per entry. */
function reference(a: Float32Array, b: Float32Array, batchA: number, batchB: number, M: number, N: number, K: number, tA: boolean, tB: boolean) {
  const batch = Math.max(batchA, batchB);
  const c = new Float64Array(batch * M * N);
  const mag = new Float64Array(batch * M * N);
  for (let z = 0; z < batch; z++) {
    const ao = (batchA === 1 ? 0 : z) * M * K;
    const bo = (batchB === 1 ? 0 : z) * K * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        let m = 0;
        for (let k = 0; k < K; k++) {
          const x = a[ao + (tA ? k * M + i : i * K + k)]! * b[bo + (tB ? j * K + k : k * N + j)]!;
          s += x;
          m += Math.abs(x);
        }
        c[(z * M + i) * N + j] = s;
        mag[(z * M + i) * N + j] = m;
      }
    }
  }
  return { c, mag };
}

/**
 * op(A) of [batchA, M, K] times op(B) of [batchB, K, N] on a WebGPU backend (registered as
 * `backend`), with the tile forced to `cfg` (null: the kernel's own choice), checked entry by entry
 * against the float64 product. With `integers` the operands are small integers and the product
 * must be exact: a term dropped or counted twice shows, where a float bound of K·2⁻²³·Σ|ab| could
 * hide it.
 */
export async function checkProduct(cfg: TileConfig | null, [batchA, batchB]: [number, number], M: number, N: number, K: number, tA: boolean, tB: boolean, seed: number, backend = 'webgpu', integers = false): Promise<void> {
  if (integers && K > 2 ** 22) throw new Error('checkProduct: integer operands are exact only up to K = 2²²');
  const a = values(batchA * M * K, seed, integers);
  const b = values(batchB * K * N, seed + 1, integers);
  const aShape = [batchA, ...(tA ? [K, M] : [M, K])];
  const bShape = [batchB, ...(tB ? [N, K] : [K, N])];
  setTileOverride(cfg);
  let got: Float32Array;
  try {
    const C = bt.withBackend(backend, () => bt.tidy(() => bind1(matmulPrim, [bt.tensor(a, { shape: aShape }), bt.tensor(b, { shape: bShape })], { transA: tA, transB: tB })));
    got = (await C.data()) as Float32Array;
    C.dispose();
  } finally {
    setTileOverride(null);
  }
  const { c, mag } = reference(a, b, batchA, batchB, M, N, K, tA, tB);
  const what = `${cfg ? `tile ${JSON.stringify(cfg)}` : 'matmul'} [${batchA}|${batchB}] ${M}×${K}·${K}×${N} tA=${tA} tB=${tB}`;
  assert.is(got.length, c.length, `${what}: size`);
  for (let i = 0; i < c.length; i++) {
    const bound = integers ? 0 : K * 2 ** -23 * mag[i]! + 2 ** -126;
    if (!(Math.abs(got[i]! - c[i]!) <= bound)) assert.unreachable(`${what}: entry ${i} is ${got[i]}, float64 ${c[i]} (bound ${bound.toExponential(2)})`);
  }
}
