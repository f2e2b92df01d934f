import { bindings, grid, LINEAR_INDEX, MAIN_SIG, memoCode, sizeOf, stridesOf, threadGrid, type GpuKernel } from './common.js';

/**
 * Batched matmul C = op(A) op(B) with NumPy-broadcast batch dims and transA / transB.
 *
 * Operands are read through strides (A(i, p) = a[aOff + i·sai + p·sap]), so transposes cost
 * nothing and one pipeline serves every layout. Batch offsets come from the batch index through
 * per-operand batch strides (0 on broadcast dims).
 *
 * - tiled (the default): TF.js's packed layout: a 32×32 output tile per workgroup of 8×8 threads,
 *   4×4 outputs per thread in registers, K in steps of 32 through workgroup memory.
 * - small outputs (M or N below 16, e.g. matrix-vector products or batches of tiny matrices):
 *   one thread per output, a plain dot product.
 */

const TILE = 32;
const TK = 32;

/** meta: [M, N, K, batch, sai, sap, sbp, sbj, bRank, batchShape(bRank), aBatchStrides(bRank), bBatchStrides(bRank)] */
function batchOffsetCode(bRank: number): string {
  if (bRank === 0) return 'var aOff = 0u; var bOff = 0u;';
  const lines = ['var rem_ = bz;', 'var aOff = 0u;', 'var bOff = 0u;'];
  for (let d = bRank - 1; d >= 0; d--) {
    lines.push(
      `{ let s_ = mt[9u + ${d}u]; let c_ = rem_ % s_; rem_ = rem_ / s_; aOff += c_ * mt[${9 + bRank}u + ${d}u]; bOff += c_ * mt[${9 + 2 * bRank}u + ${d}u]; }`,
    );
  }
  return lines.join('\n    ');
}

function tiledShader(bRank: number): string {
  return `${bindings([
    { name: 'a', type: 'f32' },
    { name: 'b', type: 'f32' },
    { name: 'c', type: 'f32', write: true },
  ])}
var<workgroup> As: array<array<f32, ${TK}>, ${TILE}>;
var<workgroup> Bs: array<array<f32, ${TILE}>, ${TK}>;
@compute @workgroup_size(8, 8) fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let M = mt[0]; let N = mt[1]; let K = mt[2]; let batch = mt[3];
  let sai = mt[4]; let sap = mt[5]; let sbp = mt[6]; let sbj = mt[7];
  let tilesN = (N + ${TILE - 1}u) / ${TILE}u;
  let tileRow = (wid.x / tilesN) * ${TILE}u;
  let tileCol = (wid.x % tilesN) * ${TILE}u;
  let tid = lid.y * 8u + lid.x;
  for (var bz = wid.y + wid.z * nwg.y; bz < batch; bz = bz + nwg.y * nwg.z) {
    ${batchOffsetCode(bRank)}
    let cOff = bz * M * N;
    var acc: array<array<f32, 4>, 4>;
    for (var i = 0u; i < 4u; i++) { for (var j = 0u; j < 4u; j++) { acc[i][j] = 0.0; } }
    for (var k0 = 0u; k0 < K; k0 = k0 + ${TK}u) {
      // 1024 elements of each tile, 16 per thread
      for (var l = 0u; l < 16u; l++) {
        let e = tid + l * 64u;
        let r = e / ${TK}u;
        let q = e % ${TK}u;
        let gi = tileRow + r;
        let gk = k0 + q;
        var av = 0.0;
        if (gi < M && gk < K) { av = a[aOff + gi * sai + gk * sap]; }
        As[r][q] = av;
        let kr = e / ${TILE}u;
        let cc = e % ${TILE}u;
        let gk2 = k0 + kr;
        let gj = tileCol + cc;
        var bv = 0.0;
        if (gk2 < K && gj < N) { bv = b[bOff + gk2 * sbp + gj * sbj]; }
        Bs[kr][cc] = bv;
      }
      workgroupBarrier();
      for (var p = 0u; p < ${TK}u; p++) {
        var bc: array<f32, 4>;
        for (var j = 0u; j < 4u; j++) { bc[j] = Bs[p][lid.x * 4u + j]; }
        for (var i = 0u; i < 4u; i++) {
          let av = As[lid.y * 4u + i][p];
          for (var j = 0u; j < 4u; j++) { acc[i][j] = fma(av, bc[j], acc[i][j]); }
        }
      }
      workgroupBarrier();
    }
    for (var i = 0u; i < 4u; i++) {
      let gi = tileRow + lid.y * 4u + i;
      if (gi >= M) { continue; }
      for (var j = 0u; j < 4u; j++) {
        let gj = tileCol + lid.x * 4u + j;
        if (gj < N) { c[cOff + gi * N + gj] = acc[i][j]; }
      }
    }
  }
}`;
}

function naiveShader(bRank: number): string {
  return `${bindings([
    { name: 'a', type: 'f32' },
    { name: 'b', type: 'f32' },
    { name: 'c', type: 'f32', write: true },
  ])}
${MAIN_SIG()} {
  ${LINEAR_INDEX()}
  let M = mt[0]; let N = mt[1]; let K = mt[2]; let batch = mt[3];
  if (gi >= M * N * batch) { return; }
  let sai = mt[4]; let sap = mt[5]; let sbp = mt[6]; let sbj = mt[7];
  let bz = gi / (M * N);
  let ij = gi % (M * N);
  let i = ij / N;
  let j = ij % N;
  ${batchOffsetCode(bRank)}
  var acc = 0.0;
  var pa = aOff + i * sai;
  var pb = bOff + j * sbj;
  for (var p = 0u; p < K; p++) {
    acc = fma(a[pa], b[pb], acc);
    pa += sap;
    pb += sbp;
  }
  c[gi] = acc;
}`;
}

function batchStrides(shape: readonly number[], batchShape: readonly number[], matSize: number): number[] {
  const xb = shape.slice(0, -2);
  const xs = stridesOf(xb);
  const rank = batchShape.length;
  return batchShape.map((_, j) => {
    const i = j - (rank - xb.length);
    return i < 0 || xb[i] === 1 ? 0 : xs[i]! * matSize;
  });
}

export const matmulKernel: GpuKernel<{ transA?: boolean; transB?: boolean }> = (ctx, [a, b], p, outs) => {
  const spec = outs[0]!;
  const out = ctx.output(spec);
  const os = spec.shape;
  const r = os.length;
  const M = os[r - 2]!;
  const N = os[r - 1]!;
  const ash = a!.shape;
  const K = p.transA ? ash[ash.length - 2]! : ash[ash.length - 1]!;
  const batchShape = os.slice(0, -2);
  const batch = sizeOf(batchShape);
  if (M * N * batch === 0) return [out];
  if (K === 0) {
    ctx.clear(out.buffer, M * N * batch * 4);
    return [out];
  }
  // drop batch dims of size 1 (they index nothing)
  const keep = batchShape.map((d, i) => ({ d, i })).filter((x) => x.d !== 1);
  const aS = batchStrides(ash, batchShape, M * K);
  const bS = batchStrides(b!.shape, batchShape, K * N);
  const bRank = keep.length;
  const sai = p.transA ? 1 : K;
  const sap = p.transA ? M : 1;
  const sbp = p.transB ? 1 : N;
  const sbj = p.transB ? K : 1;
  const meta = [M, N, K, batch, sai, sap, sbp, sbj, bRank, ...keep.map((x) => x.d), ...keep.map((x) => aS[x.i]!), ...keep.map((x) => bS[x.i]!)];
  if (M < 16 || N < 16) {
    ctx.dispatch(memoCode(`mmn|${bRank}`, () => naiveShader(bRank)), [a!.buffer, b!.buffer, out.buffer], ['r', 'r', 'w'], meta, threadGrid(M * N * batch));
  } else {
    const tiles = Math.ceil(M / TILE) * Math.ceil(N / TILE);
    if (tiles > 65535) {
      // very large single matrices: fall back to one thread per output (rare; > 8192² outputs)
      ctx.dispatch(memoCode(`mmn|${bRank}`, () => naiveShader(bRank)), [a!.buffer, b!.buffer, out.buffer], ['r', 'r', 'w'], meta, threadGrid(M * N * batch));
    } else {
      const [gy, gz] = grid(batch);
      ctx.dispatch(memoCode(`mmt|${bRank}`, () => tiledShader(bRank)), [a!.buffer, b!.buffer, out.buffer], ['r', 'r', 'w'], meta, [tiles, gy, gz]);
    }
  }
  return [out];
};
