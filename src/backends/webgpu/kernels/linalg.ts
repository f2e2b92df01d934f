import { sizeOf, stridesOf } from '../../../shape.js';
import { bindings, grid, withHelpers, type GpuKernel, type KernelContext } from './common.js';

/**
 * Small batched dense linear algebra: one workgroup (64 threads) per matrix, working in global
 * memory with storage barriers between steps, so n is not limited by workgroup memory. Good for
 * the many small systems of GMMVI / parallel chains; not tuned for one large matrix.
 *
 * Failures are NumericalErrors as on the CPU, but deferred: a GPU kernel cannot throw, so
 * cholesky (a pivot ≤ 0 or NaN) and solve (a zero pivot) store the first failing matrix of the
 * batch in a status word, and the backend throws at the next read or sync. The output itself is
 * what the CPU computes before it throws (NaN rows from the failing pivot on; inf/NaN for solve).
 */

/** Status code of a failing matrix t: atomicMax over `batch - t` keeps the first one. */
const FAIL = (status: string) => `atomicMax(&${status}[0], batch - t);`;
const failedMatrix = (batch: number, code: number) => (batch > 1 ? `#${batch - code} of the batch ` : '');

const LWG = 64;
const SIG = `@compute @workgroup_size(${LWG}) fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>)`;

/** Batch offsets of the operands from the matrix index (meta from `batchMeta`). */
function batchOffsets(at: number, names: string[]): string {
  // layout at `at`: [bRank, shape(bRank), strides of operand 0 (bRank), strides of operand 1 ...]
  return `var rem_ = t;
    ${names.map((n) => `var ${n} = 0u;`).join(' ')}
    let br_ = mt[${at}u];
    for (var d_ = i32(br_) - 1; d_ >= 0; d_--) {
      let du_ = u32(d_);
      let s_ = mt[${at + 1}u + du_]; let c_ = rem_ % s_; rem_ = rem_ / s_;
      ${names.map((n, i) => `${n} += c_ * mt[${at + 1}u + ${i + 1}u * br_ + du_];`).join('\n      ')}
    }`;
}

function batchMeta(batchShape: readonly number[], operands: { shape: readonly number[]; mat: number }[]): number[] {
  const rank = batchShape.length;
  const strides = operands.map(({ shape, mat }) => {
    const xb = shape.slice(0, -2);
    const xs = stridesOf(xb);
    return batchShape.map((_, j) => {
      const i = j - (rank - xb.length);
      return i < 0 || xb[i] === 1 ? 0 : xs[i]! * mat;
    });
  });
  return [rank, ...batchShape, ...strides.flat()];
}

const BARRIER = 'storageBarrier(); workgroupBarrier();';

// ---------------------------------------------------------------------------------------------
// Cholesky (right-looking): L starts as the lower triangle of A; for each column j the pivot
// d = L[j][j] (updated), L[j][j] = √d, L[i][j] /= √d below, then the trailing lower triangle
// takes the rank-1 update.

const CHOLESKY = withHelpers(`${bindings([
  { name: 'a', type: 'f32' },
  { name: 'l', type: 'f32', write: true },
  { name: 'status', type: 'u32', write: true, atomic: true },
])}
var<workgroup> piv: f32;
${SIG} {
  let t = wid.x + wid.y * nwg.x;
  let batch = mt[0];
  if (t >= batch) { return; }
  let n = mt[1];
  let off = t * n * n;
  for (var e = lid.x; e < n * n; e += ${LWG}u) {
    let r = e / n; let c = e % n;
    l[off + e] = select(0.0, a[off + e], c <= r);
  }
  ${BARRIER}
  for (var j = 0u; j < n; j++) {
    if (lid.x == 0u) { piv = l[off + j * n + j]; }
    let d = workgroupUniformLoad(&piv);
    if (!(d > 0.0)) {
      // not positive definite: NaN from row j on (lower triangle), as the CPU before it throws;
      // in 'nan' mode (mt[2]) the whole matrix is NaN, as the CPU gives it
      if (lid.x == 0u) { ${FAIL('status')} }
      let all = mt[2] != 0u;
      let r0 = select(j, 0u, all);
      for (var e = lid.x; e < (n - r0) * n; e += ${LWG}u) {
        let r = r0 + e / n; let c = e % n;
        l[off + r * n + c] = select(0.0, nan_f(), c <= r || all);
      }
      break;
    }
    let s = sqrt(d);
    for (var i = j + 1u + lid.x; i < n; i += ${LWG}u) { l[off + i * n + j] = l[off + i * n + j] / s; }
    if (lid.x == 0u) { l[off + j * n + j] = s; }
    ${BARRIER}
    let m = n - j - 1u;
    for (var e = lid.x; e < m * m; e += ${LWG}u) {
      let i = j + 1u + e / m; let c = j + 1u + e % m;
      if (c <= i) { l[off + i * n + c] = l[off + i * n + c] - l[off + i * n + j] * l[off + c * n + j]; }
    }
    ${BARRIER}
  }
}`);

/**
 * The status word of a kernel that can fail: a checked one (the backend throws at the next read),
 * or in 'nan' mode a scratch word nobody reads (the failed matrices are NaN in the output).
 */
function statusWord(ctx: KernelContext, nanMode: boolean, error: (code: number) => string): { buffer: GPUBuffer; done: () => void } {
  if (!nanMode) return { buffer: ctx.status(error), done: () => {} };
  const h = ctx.scratch(4);
  return { buffer: h.buffer, done: () => ctx.free(h) };
}

export const choleskyKernel: GpuKernel<{ onFailure?: 'nan' }> = (ctx, [a], p, outs) => {
  const out = ctx.output(outs[0]!);
  const sh = a!.shape;
  const n = sh[sh.length - 1]!;
  const batch = n === 0 ? 0 : a!.size / (n * n);
  if (batch === 0) return [out];
  const nanMode = p.onFailure === 'nan';
  const status = statusWord(ctx, nanMode, (code) =>
    `cholesky: matrix ${failedMatrix(batch, code)}(${n}×${n}) is not positive definite (a pivot is ≤ 0 or NaN). Symmetrise it and add jitter to the diagonal (A + εI), or check for NaNs.`);
  ctx.dispatch(CHOLESKY, [a!.buffer, out.buffer, status.buffer], ['r', 'w', 'w'], [batch, n, nanMode ? 1 : 0], grid(batch));
  status.done();
  return [out];
};

// ---------------------------------------------------------------------------------------------
// Triangular solve op(A) X = B, column-oriented: step i (forward or backward) finalises row i of
// X (divide by the diagonal), then every later row takes X[r] -= op(A)[r][i] X[i] in parallel.

function trsmCode(lowerEff: string, unit: string, aAt: string, trans: string, aBase: string, xBase: string): string {
  // op(A)[r][c] = trans ? A[c][r] : A[r][c]
  return `for (var s = 0u; s < n; s++) {
      let i = select(n - 1u - s, s, ${lowerEff});
      if (!${unit}) {
        let dia = ${aAt}[${aBase} + i * n + i];
        for (var c = lid.x; c < m; c += ${LWG}u) { x[${xBase} + i * m + c] = x[${xBase} + i * m + c] / dia; }
      }
      ${BARRIER}
      let rows = select(i, n - 1u - i, ${lowerEff});
      for (var e = lid.x; e < rows * m; e += ${LWG}u) {
        let rr = e / m; let c = e % m;
        let r = select(rr, i + 1u + rr, ${lowerEff});
        let coef = select(${aAt}[${aBase} + r * n + i], ${aAt}[${aBase} + i * n + r], ${trans});
        x[${xBase} + r * m + c] = x[${xBase} + r * m + c] - coef * x[${xBase} + i * m + c];
      }
      ${BARRIER}
    }`;
}

const TRSM = `${bindings([
  { name: 'a', type: 'f32' },
  { name: 'b', type: 'f32' },
  { name: 'x', type: 'f32', write: true },
])}
${SIG} {
  let t = wid.x + wid.y * nwg.x;
  let batch = mt[0];
  if (t >= batch) { return; }
  let n = mt[1]; let m = mt[2];
  let lower = mt[3] != 0u; let trans = mt[4] != 0u; let unit = mt[5] != 0u;
  let lowerEff = lower != trans;
  ${batchOffsets(6, ['aOff', 'bOff'])}
  let xOff = t * n * m;
  for (var e = lid.x; e < n * m; e += ${LWG}u) { x[xOff + e] = b[bOff + e]; }
  ${BARRIER}
  ${trsmCode('lowerEff', 'unit', 'a', 'trans', 'aOff', 'xOff')}
}`;

export const triangularSolveKernel: GpuKernel<{ lower: boolean; transposeA: boolean; unitDiagonal: boolean }> = (ctx, [a, b], p, outs) => {
  const spec = outs[0]!;
  const out = ctx.output(spec);
  const os = spec.shape;
  const n = os[os.length - 2]!;
  const m = os[os.length - 1]!;
  const batchShape = os.slice(0, -2);
  const batch = sizeOf(batchShape);
  if (batch * n * m === 0) return [out];
  const meta = [batch, n, m, p.lower ? 1 : 0, p.transposeA ? 1 : 0, p.unitDiagonal ? 1 : 0, ...batchMeta(batchShape, [
    { shape: a!.shape, mat: n * n },
    { shape: b!.shape, mat: n * m },
  ])];
  ctx.dispatch(TRSM, [a!.buffer, b!.buffer, out.buffer], ['r', 'r', 'w'], meta, grid(batch));
  return [out];
};

// ---------------------------------------------------------------------------------------------
// LU with partial pivoting (as LAPACK getf2 and the CPU: the first largest |pivot|; a zero pivot
// skips the elimination of its column), into a scratch copy; then solve or slogdet.

const LU_FACTOR = `
  // factor lu (at luOff) in place; perm at pOff; sign in psign
  for (var i = lid.x; i < n; i += ${LWG}u) { perm[pOff + i] = i; }
  if (lid.x == 0u) { psign = 1.0; }
  ${BARRIER}
  for (var k = 0u; k < n; k++) {
    // pivot search: each thread scans rows k + lid.x, k + lid.x + 64, ... keeping the first max
    var best = -1.0; var bi = 0xffffffffu;
    for (var i = k + lid.x; i < n; i += ${LWG}u) {
      // NaN never wins (as the CPU's \`v > best\`), except a NaN at row k itself, which stays
      var v = abs(lu[luOff + i * n + k]);
      if (isnan_f(v)) { v = select(-1.0, inf_f(), i == k); }
      if (bi == 0xffffffffu || v > best) { best = v; bi = i; }
    }
    rv[lid.x] = best; ri[lid.x] = bi;
    workgroupBarrier();
    for (var s = ${LWG / 2}u; s > 0u; s = s >> 1u) {
      if (lid.x < s) {
        let ob = ri[lid.x + s]; let ov = rv[lid.x + s];
        let mb = ri[lid.x]; let mv = rv[lid.x];
        if (ob != 0xffffffffu && (mb == 0xffffffffu || ov > mv || (ov == mv && ob < mb))) {
          rv[lid.x] = ov; ri[lid.x] = ob;
        }
      }
      workgroupBarrier();
    }
    var p = workgroupUniformLoad(&ri[0]);
    if (p == 0xffffffffu) { p = k; }
    if (p != k) {
      for (var c = lid.x; c < n; c += ${LWG}u) {
        let tmp = lu[luOff + k * n + c];
        lu[luOff + k * n + c] = lu[luOff + p * n + c];
        lu[luOff + p * n + c] = tmp;
      }
      if (lid.x == 0u) {
        let tp = perm[pOff + k]; perm[pOff + k] = perm[pOff + p]; perm[pOff + p] = tp;
        psign = -psign;
      }
    }
    ${BARRIER}
    if (lid.x == 0u) { pv = lu[luOff + k * n + k]; }
    let pivot = workgroupUniformLoad(&pv);
    if (pivot != 0.0) {
      for (var i = k + 1u + lid.x; i < n; i += ${LWG}u) { lu[luOff + i * n + k] = lu[luOff + i * n + k] / pivot; }
      ${BARRIER}
      let m2 = n - k - 1u;
      for (var e = lid.x; e < m2 * m2; e += ${LWG}u) {
        let i = k + 1u + e / m2; let c = k + 1u + e % m2;
        lu[luOff + i * n + c] = lu[luOff + i * n + c] - lu[luOff + i * n + k] * lu[luOff + k * n + c];
      }
    }
    ${BARRIER}
  }`;

const LU_SHARED = `
var<workgroup> rv: array<f32, ${LWG}>;
var<workgroup> ri: array<u32, ${LWG}>;
var<workgroup> pv: f32;
var<workgroup> psign: f32;`;

const SOLVE = withHelpers(`${bindings([
  { name: 'a', type: 'f32' },
  { name: 'b', type: 'f32' },
  { name: 'lu', type: 'f32', write: true },
  { name: 'perm', type: 'u32', write: true },
  { name: 'x', type: 'f32', write: true },
  { name: 'status', type: 'u32', write: true, atomic: true },
])}
${LU_SHARED}
${SIG} {
  let t = wid.x + wid.y * nwg.x;
  let batch = mt[0];
  if (t >= batch) { return; }
  let n = mt[1]; let m = mt[2];
  ${batchOffsets(4, ['aOff', 'bOff'])}
  let luOff = t * n * n;
  let pOff = t * n;
  let xOff = t * n * m;
  for (var e = lid.x; e < n * n; e += ${LWG}u) { lu[luOff + e] = a[aOff + e]; }
  ${BARRIER}
  ${LU_FACTOR}
  // singular, as the CPU's test: a zero pivot after partial pivoting
  for (var k = lid.x; k < n; k += ${LWG}u) {
    if (lu[luOff + k * n + k] == 0.0) { ${FAIL('status')} }
  }
  // X = P B
  for (var e = lid.x; e < n * m; e += ${LWG}u) {
    let i = e / m; let c = e % m;
    x[xOff + e] = b[bOff + perm[pOff + i] * m + c];
  }
  ${BARRIER}
  ${trsmCode('true', 'true', 'lu', 'false', 'luOff', 'xOff')}
  ${trsmCode('false', 'false', 'lu', 'false', 'luOff', 'xOff')}
  if (mt[3] != 0u) {
    // 'nan' mode: a singular matrix's solution is all NaN (every thread reads the same pivots)
    var singular = false;
    for (var k = 0u; k < n; k++) { if (lu[luOff + k * n + k] == 0.0) { singular = true; } }
    if (singular) {
      for (var e = lid.x; e < n * m; e += ${LWG}u) { x[xOff + e] = nan_f(); }
    }
  }
}`);

export const solveKernel: GpuKernel<{ onFailure?: 'nan' }> = (ctx, [a, b], p, outs) => {
  const spec = outs[0]!;
  const out = ctx.output(spec);
  const os = spec.shape;
  const n = os[os.length - 2]!;
  const m = os[os.length - 1]!;
  const batchShape = os.slice(0, -2);
  const batch = sizeOf(batchShape);
  if (batch * n * m === 0) return [out];
  const lu = ctx.scratch(batch * n * n * 4);
  const perm = ctx.scratch(batch * n * 4);
  const nanMode = p.onFailure === 'nan';
  const meta = [batch, n, m, nanMode ? 1 : 0, ...batchMeta(batchShape, [
    { shape: a!.shape, mat: n * n },
    { shape: b!.shape, mat: n * m },
  ])];
  const status = statusWord(ctx, nanMode, (code) =>
    `solve: matrix ${failedMatrix(batch, code)}(${n}×${n}) is singular. Check the system, or regularise it (A + εI).`);
  ctx.dispatch(SOLVE, [a!.buffer, b!.buffer, lu.buffer, perm.buffer, out.buffer, status.buffer], ['r', 'r', 'w', 'w', 'w', 'w'], meta, grid(batch));
  status.done();
  ctx.free(lu);
  ctx.free(perm);
  return [out];
};

const SLOGDET = withHelpers(`${bindings([
  { name: 'a', type: 'f32' },
  { name: 'lu', type: 'f32', write: true },
  { name: 'perm', type: 'u32', write: true },
  { name: 'sgn', type: 'f32', write: true },
  { name: 'lad', type: 'f32', write: true },
])}
${LU_SHARED}
${SIG} {
  let t = wid.x + wid.y * nwg.x;
  let batch = mt[0];
  if (t >= batch) { return; }
  let n = mt[1];
  let aOff = t * n * n;
  let luOff = t * n * n;
  let pOff = t * n;
  for (var e = lid.x; e < n * n; e += ${LWG}u) { lu[luOff + e] = a[aOff + e]; }
  ${BARRIER}
  ${LU_FACTOR}
  if (lid.x == 0u) {
    var s = psign;
    var acc = 0.0;
    var zero = false;
    for (var i = 0u; i < n; i++) {
      let d = lu[luOff + i * n + i];
      if (d == 0.0) { zero = true; break; }
      if (d < 0.0) { s = -s; } else if (isnan_f(d)) { s = nan_f(); }
      acc += log(abs(d));
    }
    if (zero) { sgn[t] = 0.0; lad[t] = -inf_f(); } else { sgn[t] = s; lad[t] = acc; }
  }
}`);

export const slogdetKernel: GpuKernel = (ctx, [a], _p, outs) => {
  const sign = ctx.output(outs[0]!);
  const logabs = ctx.output(outs[1]!);
  const sh = a!.shape;
  const n = sh[sh.length - 1]!;
  const batch = sizeOf(sh.slice(0, -2));
  if (batch === 0) return [sign, logabs];
  const lu = ctx.scratch(Math.max(1, batch * n * n) * 4);
  const perm = ctx.scratch(Math.max(1, batch * n) * 4);
  ctx.dispatch(SLOGDET, [a!.buffer, lu.buffer, perm.buffer, sign.buffer, logabs.buffer], ['r', 'w', 'w', 'w', 'w'], [batch, n], grid(batch));
  ctx.free(lu);
  ctx.free(perm);
  return [sign, logabs];
};
