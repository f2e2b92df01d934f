/**
 * Plain-JS matmul kernels. Used for small shapes (where copying operands into Wasm memory costs
 * more than it saves) and as the fallback when WebAssembly SIMD is unavailable.
 *
 * Element (i, p) of op(A) lives at a[aOff + i*sai + p*sap]; element (p, j) of op(B) at
 * b[bOff + p*sbp + j*sbj]. Strides encode the transposes so one routine covers all four cases.
 */
import type { FloatArray } from './matmul.js';

export function matmulJS(a: FloatArray, aOffsets: ArrayLike<number>, b: FloatArray, bOffsets: ArrayLike<number>,
  out: FloatArray, batch: number, m: number, k: number, n: number, transA: boolean, transB: boolean): void {
  const sai = transA ? 1 : k, sap = transA ? m : 1;
  const sbp = transB ? 1 : n, sbj = transB ? k : 1;
  for (let t = 0; t < batch; t++) {
    const ao = aOffsets[t], bo = bOffsets[t], oo = t * m * n;
    if (!transB) rowAxpy(a, ao, sai, sap, b, bo, sbp, out, oo, m, k, n);
    else dotForm(a, ao, sai, sap, b, bo, sbj, out, oo, m, k, n);
  }
}

/**
 * B rows are contiguous (j stride 1): out row i = sum_p A(i,p) * B row p. Four output rows are
 * updated per pass so each B element loaded feeds four multiply-adds.
 */
function rowAxpy(a: FloatArray, ao: number, sai: number, sap: number, b: FloatArray, bo: number, sbp: number,
  out: FloatArray, oo: number, m: number, k: number, n: number): void {
  out.fill(0, oo, oo + m * n);
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const o0 = oo + i * n, o1 = o0 + n, o2 = o1 + n, o3 = o2 + n;
    const a0 = ao + i * sai;
    for (let p = 0; p < k; p++) {
      const ap = a0 + p * sap;
      const x0 = a[ap], x1 = a[ap + sai], x2 = a[ap + 2 * sai], x3 = a[ap + 3 * sai];
      const br = bo + p * sbp;
      for (let j = 0; j < n; j++) {
        const y = b[br + j];
        out[o0 + j] += x0 * y;
        out[o1 + j] += x1 * y;
        out[o2 + j] += x2 * y;
        out[o3 + j] += x3 * y;
      }
    }
  }
  for (; i < m; i++) {
    const o0 = oo + i * n, a0 = ao + i * sai;
    for (let p = 0; p < k; p++) {
      const x0 = a[a0 + p * sap], br = bo + p * sbp;
      for (let j = 0; j < n; j++) out[o0 + j] += x0 * b[br + j];
    }
  }
}

/**
 * B is stored transposed (row j of storage = column j of op(B), contiguous in p): each output is
 * a dot product. A 2x2 block of outputs is accumulated in locals to halve the loads.
 */
function dotForm(a: FloatArray, ao: number, sai: number, sap: number, b: FloatArray, bo: number, sbj: number,
  out: FloatArray, oo: number, m: number, k: number, n: number): void {
  let i = 0;
  for (; i + 2 <= m; i += 2) {
    const ar0 = ao + i * sai, ar1 = ar0 + sai, o0 = oo + i * n, o1 = o0 + n;
    let j = 0;
    for (; j + 2 <= n; j += 2) {
      const br0 = bo + j * sbj, br1 = br0 + sbj;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0;
      for (let p = 0; p < k; p++) {
        const x0 = a[ar0 + p * sap], x1 = a[ar1 + p * sap], y0 = b[br0 + p], y1 = b[br1 + p];
        s00 += x0 * y0; s01 += x0 * y1; s10 += x1 * y0; s11 += x1 * y1;
      }
      out[o0 + j] = s00; out[o0 + j + 1] = s01; out[o1 + j] = s10; out[o1 + j + 1] = s11;
    }
    if (j < n) {
      const br0 = bo + j * sbj;
      let s0 = 0, s1 = 0;
      for (let p = 0; p < k; p++) { const y = b[br0 + p]; s0 += a[ar0 + p * sap] * y; s1 += a[ar1 + p * sap] * y; }
      out[o0 + j] = s0; out[o1 + j] = s1;
    }
  }
  if (i < m) {
    const ar0 = ao + i * sai, o0 = oo + i * n;
    for (let j = 0; j < n; j++) {
      const br0 = bo + j * sbj;
      let s = 0;
      for (let p = 0; p < k; p++) s += a[ar0 + p * sap] * b[br0 + p];
      out[o0 + j] = s;
    }
  }
}
