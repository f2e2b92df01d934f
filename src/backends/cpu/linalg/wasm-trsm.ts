/**
 * Generators for the Wasm SIMD triangular-solve kernels (through the byte emitter of
 * ../matmul/wasm-emit.ts). One function per (lower/upper, transposeA, unitDiagonal, nv, f32):
 *
 *   trsm(aP, xP, d, ld, nPanels, tileP)   X := op(A)^{-1} X, in place
 *
 * A is d×d, row-major at aP (row stride d·es bytes, es = 8 for float64, 4 for float32), its diagonal
 * replaced by the reciprocals 1/A_ii (unless unitDiagonal, which reads no diagonal): the kernels multiply
 * by them instead of dividing, as optimised BLAS trsm kernels do with their packed INV(a) — the
 * divisions were about half of the kernels' time (trsm-wasm.ts writes the reciprocals). X is d rows
 * at xP with a row stride of ld bytes, covering nPanels panels of nv 128-bit vectors (f64x2 or f32x4;
 * the driver pads rows to whole vectors, and pad lanes are solved like any column and discarded).
 * A (≤ a few KB) and a tile of tileP panels stay in L1 (see trsmFunc for the loop order).
 *
 * Why the odd shapes below: every kernel performs exactly the arithmetic of the JS kernels in
 * triangular.ts (matLowerN … matUpperT), operation for operation and in the same order — 4-row
 * blocks whose off-diagonal update is X_r - (((a0·v0 + a1·v1) + a2·v2) + a3·v3), the 4×4 diagonal
 * block solved by substitution with multiplications by 1/A_ii, single tail rows that skip zero coefficients —
 * so the float64 kernels give the JS path's bits, including the Inf/NaN that zero diagonals produce.
 * The float32 kernels run the same operations in float32 arithmetic (each rounded to float32 rather
 * than once at the end), four columns per vector: twice the columns per instruction of f64x2.
 */
import { Code, I32, V128, type FuncDef } from '../matmul/wasm-emit.js';

/** Local-variable allocator over a Code buffer (the params are i32 and come first). */
class Gen {
  readonly c = new Code();
  readonly locals: number[] = [];
  /** es: bytes per element of A and X (8: float64 in f64x2 lanes, 4: float32 in f32x4 lanes). */
  constructor(private readonly nParams: number, readonly es: 4 | 8) {}
  i32(): number { this.locals.push(I32); return this.nParams + this.locals.length - 1; }
  v128(): number { this.locals.push(V128); return this.nParams + this.locals.length - 1; }
  /** `body` runs `count` times (count ≥ 0; the local is consumed). */
  repeat(count: number, body: () => void): void {
    const c = this.c;
    c.block().loop();
    c.get(count).eqz().brIf(1);
    body();
    c.get(count).i32(1).sub().set(count);
    c.br(0).end().end();
  }
  /** local += step (a local or a constant). */
  bump(local: number, step: number, isConst = false): void {
    this.c.get(local);
    if (isConst) this.c.i32(step); else this.c.get(step);
    this.c.add().set(local);
  }
  /** Opens `if (A[ptr] != 0)` (NaN != 0 is true, -0 != 0 false, as JS's !==); the caller closes it. */
  nonzeroIf(ptr: number): void {
    const c = this.c.get(ptr);
    if (this.es === 8) c.f64Load(0).f64Const(0).f64Ne().if();
    else c.f32Load(0).f32Const(0).f32Ne().if();
  }
  /** Pushes splat(element at ptr + off). */
  splat(ptr: number, off: number): void { this.c.get(ptr).loadSplat(this.es, off); }
  /** dst := load(ptr + r*ld) for r = 0..3, using precomputed ld multiples. */
  load4(dst: number[], ptr: number, ldMul: number[], off = 0): void {
    for (let r = 0; r < 4; r++) {
      this.c.get(ptr);
      if (r > 0) this.c.get(ldMul[r]!).add();
      this.c.v128Load(off).set(dst[r]!);
    }
  }
  store4(src: number[], ptr: number, ldMul: number[], off = 0): void {
    for (let r = 0; r < 4; r++) {
      this.c.get(ptr);
      if (r > 0) this.c.get(ldMul[r]!).add();
      this.c.get(src[r]!).v128Store(off);
    }
  }

}

export interface TrsmVariant {
  lower: boolean; trans: boolean; unit: boolean;
  /** 128-bit vectors per panel (2 float64 or 4 float32 columns each) */ nv: number;
  /** float32 storage and arithmetic (f32x4) instead of float64 (f64x2) */ f32: boolean;
  /** Register-lean schedule (see leanUpdate4x4): the rows being updated stay in memory (L1) instead of
   * 4·nv vector registers, so nothing spills; same operations, same order, same bits. */
  lean?: boolean;
}

export const trsmName = (v: TrsmVariant): string =>
  `trsm_${v.lower ? 'L' : 'U'}${v.trans ? 'T' : 'N'}${v.unit ? 'u' : 'n'}${v.nv}${v.f32 ? 's' : 'd'}${v.lean ? 'l' : ''}`;

const P = { aP: 0, xP: 1, d: 2, ld: 3, nPanels: 4, tileP: 5 };

/**
 * Emits one trsm kernel. A panel is nv vectors (2·nv columns). Columns are taken in tiles of tileP
 * panels (small enough that the tile's d rows stay in L1), and within a tile each step of the
 * substitution (a 4-row block, or a tail row) runs over all the tile's panels before the next step:
 * consecutive panels are independent, so the long dependency chains of the substitution overlap
 * (one panel at a time would wait on them).
 */
export function trsmFunc(v: TrsmVariant): FuncDef {
  const g = new Gen(6, v.f32 ? 4 : 8);
  const c = g.c;
  const d8 = g.i32(), ld2 = g.i32(), ld3 = g.i32(), ld4 = g.i32(), nb = g.i32(), rem = g.i32();
  const xt = g.i32(), pc = g.i32(), tp = g.i32(), xc = g.i32(), pp = g.i32();
  // d8 = row stride of A; ld multiples address the 4 rows of a block of X.
  c.get(P.d).i32(g.es).mul().set(d8);
  c.get(P.ld).i32(2).mul().set(ld2);
  c.get(P.ld).i32(3).mul().set(ld3);
  c.get(P.ld).i32(4).mul().set(ld4);
  c.get(P.d).i32(2).shrU().set(nb);
  c.get(P.d).i32(3).and().set(rem);
  c.get(P.xP).set(xt);
  c.get(P.nPanels).set(pc);
  const ldMul = [-1, P.ld, ld2, ld3];
  /** Emits `body` once per panel of the current tile, with xc = the panel's first column of row 0. */
  const panels = (body: () => void): void => {
    c.get(xt).set(xc);
    c.get(tp).set(pp);
    g.repeat(pp, () => { body(); g.bump(xc, 16 * v.nv, true); });
  };
  const ctx: Ctx = { g, v, nv: v.nv, d8, ldMul, ld4, nb, rem, xc, panels };
  c.block().loop(); // tiles
  c.get(pc).eqz().brIf(1);
  // tp = min(tileP, pc)
  c.get(P.tileP).set(tp);
  c.get(pc).get(P.tileP).ltU().if();
  c.get(pc).set(tp);
  c.end();
  if (!v.trans && v.lower) lowerN(ctx);
  else if (!v.trans) upperN(ctx);
  else if (v.lower) lowerT(ctx);
  else upperT(ctx);
  c.get(xt).get(tp).i32(16 * v.nv).mul().add().set(xt);
  c.get(pc).get(tp).sub().set(pc);
  c.br(0).end().end();
  return { name: trsmName(v), params: [I32, I32, I32, I32, I32, I32], locals: g.locals, body: c };
}

interface Ctx {
  g: Gen; v: TrsmVariant; nv: number; d8: number; ldMul: number[]; ld4: number; nb: number; rem: number; xc: number;
  panels: (body: () => void) => void;
}

const vecs = (g: Gen, n: number): number[] => Array.from({ length: n }, () => g.v128());
/** acc[r][u]: row r, vector u of a panel. */
const grid = (g: Gen, rows: number, nv: number): number[][] => Array.from({ length: rows }, () => vecs(g, nv));
const col = (m: number[][], u: number): number[] => m.map((row) => row[u]!);

/** pa[r] := base + r*d8 for r = 0..3. */
function rowPtrs(g: Gen, pa: number[], base: number, d8: number, plus = 0): void {
  for (let r = 0; r < 4; r++) {
    g.c.get(base);
    if (plus) g.c.i32(plus).add();
    if (r > 0) g.c.get(d8).i32(r).mul().add();
    g.c.set(pa[r]!);
  }
}

/** Diagonal 4×4 block by substitution, in the JS order, for every vector u of a panel (acc[r][u]).
 * `order` lists the block rows in solve order; coef(r, s) is the (ptr, off) of the coefficient
 * multiplying solved row s in row r; diag(r) that of the reciprocal 1/A_rr it is multiplied by. acc[r][u] holds the right-hand side
 * of row r and receives its solution. Each coefficient is splatted once (into sp) for all the vectors:
 * per element the operations and their order are the JS ones, only the loads are shared. */
function diagBlock(g: Gen, unit: boolean, order: number[], acc: number[][], sp: number,
  coef: (r: number, s: number) => [number, number], diag: (r: number) => [number, number]): void {
  const c = g.c;
  const nv = acc[0]!.length;
  for (let a = 0; a < 4; a++) {
    const r = order[a]!;
    for (let b = 0; b < a; b++) {
      const s = order[b]!;
      const [p, o] = coef(r, s);
      g.splat(p, o); c.set(sp);
      for (let u = 0; u < nv; u++) c.get(acc[r]![u]!).get(sp).get(acc[s]![u]!).fmul(g.es).fsub(g.es).set(acc[r]![u]!);
    }
    if (!unit) {
      const [p, o] = diag(r);
      g.splat(p, o); c.set(sp);
      for (let u = 0; u < nv; u++) c.get(acc[r]![u]!).get(sp).fmul(g.es).set(acc[r]![u]!);
    }
  }
}

/** The left-looking 4×4 update (JS update4x4) for every vector u of a panel:
 * acc[r][u] := acc[r][u] - (((a_r0·x0u + a_r1·x1u) + a_r2·x2u) + a_r3·x3u) with a_rq at pa[r] + 8q and
 * x_qu the panel's rows at pk. The 4×nv x vectors are loaded first and each coefficient is splatted
 * once for all nv vectors (the splats were the kernel's main load traffic); per element the
 * operations and their order are unchanged, hence the same bits. */
function update4x4(g: Gen, acc: number[][], pa: number[], pk: number, ldMul: number[], xs: number[][], sp: number[]): void {
  const c = g.c;
  const nv = acc[0]!.length;
  for (let u = 0; u < nv; u++) g.load4(col(xs, u), pk, ldMul, 16 * u);
  for (let r = 0; r < 4; r++) {
    for (let q = 0; q < 4; q++) { g.splat(pa[r]!, g.es * q); c.set(sp[q]!); }
    for (let u = 0; u < nv; u++) {
      c.get(acc[r]![u]!);
      for (let q = 0; q < 4; q++) {
        c.get(sp[q]!).get(xs[q]![u]!).fmul(g.es);
        if (q > 0) c.fadd(g.es);
      }
      c.fsub(g.es).set(acc[r]![u]!);
    }
  }
}

/** acc[u] := acc[u] - splat(A[pa]) * X[pk + 16u], skipped when A[pa] is ±0 (as the JS tail loops do). */
function axpyIfNonzero(g: Gen, acc: number[], pa: number, pk: number): void {
  const c = g.c;
  g.nonzeroIf(pa);
  for (let u = 0; u < acc.length; u++) {
    c.get(acc[u]!);
    g.splat(pa, 0);
    c.get(pk).v128Load(16 * u).fmul(g.es).fsub(g.es).set(acc[u]!);
  }
  c.end();
}

/** X[pk + 16u] := X[pk + 16u] - splat(A[pa]) * src[u], skipped when A[pa] is ±0. */
function rowUpdateIfNonzero(g: Gen, pa: number, pk: number, src: number[]): void {
  const c = g.c;
  g.nonzeroIf(pa);
  for (let u = 0; u < src.length; u++) {
    c.get(pk);
    c.get(pk).v128Load(16 * u);
    g.splat(pa, 0);
    c.get(src[u]!).fmul(g.es).fsub(g.es).v128Store(16 * u);
  }
  c.end();
}

/**
 * One tail row of the N forms (left-looking), every vector u of a panel: X_row −= A[pa] X[pk] over
 * `count` earlier-solved rows (zeros skipped; pa += 8, pk += ld each), then X_row *= A[diag] (= 1/A_ii)
 * (read after the loop). The caller sets pa, pk and count; count is used up.
 */
function tailRowLeft(g: Gen, unit: boolean, xRow: number, acc: number[], pa: number, pk: number, count: number, diag: number): void {
  const c = g.c;
  for (let u = 0; u < acc.length; u++) c.get(xRow).v128Load(16 * u).set(acc[u]!);
  g.repeat(count, () => {
    axpyIfNonzero(g, acc, pa, pk);
    g.bump(pa, g.es, true);
    g.bump(pk, P.ld);
  });
  for (let u = 0; u < acc.length; u++) {
    if (!unit) { c.get(acc[u]!); g.splat(diag, 0); c.fmul(g.es).set(acc[u]!); }
    c.get(xRow).get(acc[u]!).v128Store(16 * u);
  }
}

/**
 * One tail row of the transposed forms (right-looking), every vector u of a panel: X_row *= A[diag] (= 1/A_ii),
 * then X[pk] −= A[pa] X_row over `count` rows still to solve (zeros skipped; pa += 8, pk += ld
 * each). The caller sets pa, pk and count; count is used up.
 */
function tailRowRight(g: Gen, unit: boolean, xRow: number, acc: number[], pa: number, pk: number, count: number, diag: number): void {
  const c = g.c;
  for (let u = 0; u < acc.length; u++) {
    c.get(xRow).v128Load(16 * u).set(acc[u]!);
    if (!unit) { c.get(acc[u]!); g.splat(diag, 0); c.fmul(g.es).set(acc[u]!); }
    c.get(xRow).get(acc[u]!).v128Store(16 * u);
  }
  g.repeat(count, () => {
    rowUpdateIfNonzero(g, pa, pk, acc);
    g.bump(pa, g.es, true);
    g.bump(pk, P.ld);
  });
}

// ---- Register-lean schedule (variant.lean) ------------------------------------------------------------------
// The schedule above keeps a panel's 4 block rows in 4·nv vector registers and loads the 4·nv vectors
// of X_k at once: with nv = 4 that is 32+ live vectors against x64's 16, and TurboFan spills about half
// of them to the stack on every step. The lean schedule leaves the rows being updated in memory (the
// tile is in L1: each update is load, subtract, store) and streams X's vectors one at a time, so at most
// 14 vectors are live and nothing spills. Per element the operations and their order are exactly those
// of the schedule above (and of the JS kernels), so the results are the same bits.

/** Pushes the address of block row r: base + r·ld. */
function rowAddr(g: Gen, base: number, ldMul: number[], r: number): void {
  g.c.get(base);
  if (r > 0) g.c.get(ldMul[r]!).add();
}

/** Lean diagonal block: for each vector u of the panel, the 4 block rows at xRow are loaded (into r4),
 * solved as diagBlock does, and stored back. */
function leanDiag(g: Gen, unit: boolean, nv: number, order: number[], xRow: number, ldMul: number[], r4: number[], sp: number,
  coef: (r: number, s: number) => [number, number], diag: (r: number) => [number, number]): void {
  const acc = r4.map((x) => [x]);
  for (let u = 0; u < nv; u++) {
    g.load4(r4, xRow, ldMul, 16 * u);
    diagBlock(g, unit, order, acc, sp, coef, diag);
    g.store4(r4, xRow, ldMul, 16 * u);
  }
}

/** Lean left-looking update (update4x4's arithmetic): for the row pairs (0,1) and (2,3) of the block at
 * xRow, the pair's 8 coefficients a_rq (at coef(r, q): pa[r] + es·q for the N forms) are splatted into s, then for each vector u
 * the 4 vectors x_q of X_k (rows at pk) are loaded and X_r[u] -= (((a_r0·x0 + a_r1·x1) + a_r2·x2) + a_r3·x3)
 * in memory. Live vectors: 8 + 4 + 2. */
function leanUpdate4x4(g: Gen, nv: number, coef: (r: number, q: number) => [number, number], pk: number, xRow: number, ldMul: number[], s: number[], x: number[], t: number): void {
  const c = g.c;
  for (const rp of [0, 2]) {
    for (let h = 0; h < 2; h++) for (let q = 0; q < 4; q++) { const [p, o] = coef(rp + h, q); g.splat(p, o); c.set(s[4 * h + q]!); }
    for (let u = 0; u < nv; u++) {
      g.load4(x, pk, ldMul, 16 * u);
      for (let h = 0; h < 2; h++) {
        for (let q = 0; q < 4; q++) { c.get(s[4 * h + q]!).get(x[q]!).fmul(g.es); if (q > 0) c.fadd(g.es); }
        c.set(t);
        rowAddr(g, xRow, ldMul, rp + h);
        rowAddr(g, xRow, ldMul, rp + h);
        c.v128Load(16 * u).get(t).fsub(g.es).v128Store(16 * u);
      }
    }
  }
}

/** Lean right-looking update (updateBelow's arithmetic) with the solved block rows at xTop: the panel's
 * vectors are taken in groups of ≤ 2; per group the block's 4×(≤2) vectors are loaded into vs, then
 * every row k (count4 groups of 4 rows, then `single` rows, from pk; coefficients at pa[p] as
 * updateBelow) gets X_k -= ((a_0·v_0 + a_1·v_1) + a_2·v_2) + a_3·v_3. pa, pk, count4 and single are
 * left unchanged (copied into pa2, pk2, c4 and c1 per group). Live vectors: 8 + 4 + 2. */
function leanUpdateBelow(g: Gen, ctx: Ctx, xTop: number, pa: number[], pk: number, count4: number, single: number,
  vs: number[][], x: number[], t: number, pa2: number[], pk2: number, c4: number, c1: number): void {
  const c = g.c;
  const { ldMul, ld4, nv } = ctx;
  for (let u0 = 0; u0 < nv; u0 += 2) {
    const us = u0 + 1 < nv ? [u0, u0 + 1] : [u0];
    us.forEach((u, j) => { for (let p = 0; p < 4; p++) { rowAddr(g, xTop, ldMul, p); c.v128Load(16 * u).set(vs[p]![j]!); } });
    for (let p = 0; p < 4; p++) c.get(pa[p]!).set(pa2[p]!);
    c.get(pk).set(pk2);
    c.get(count4).set(c4);
    c.get(single).set(c1);
    const row = (addr: () => void, offs: number) => {
      for (let p = 0; p < 4; p++) { g.splat(pa2[p]!, offs); c.set(x[p]!); }
      us.forEach((u, j) => {
        for (let p = 0; p < 4; p++) { c.get(x[p]!).get(vs[p]![j]!).fmul(g.es); if (p > 0) c.fadd(g.es); }
        c.set(t);
        addr();
        addr(); c.v128Load(16 * u).get(t).fsub(g.es).v128Store(16 * u);
      });
    };
    g.repeat(c4, () => {
      for (let q = 0; q < 4; q++) row(() => rowAddr(g, pk2, ldMul, q), g.es * q);
      for (let p = 0; p < 4; p++) g.bump(pa2[p]!, 4 * g.es, true);
      g.bump(pk2, ld4);
    });
    g.repeat(c1, () => {
      row(() => c.get(pk2), 0);
      for (let p = 0; p < 4; p++) g.bump(pa2[p]!, g.es, true);
      g.bump(pk2, P.ld);
    });
  }
}

interface TLocals { xOff: number; xTop: number; pd: number; pa: number[]; pk: number; vs: number[][]; x: number[]; lt: number[] }

/**
 * The lean transposed forms run left-looking: each 4-row block first takes the updates of the blocks
 * solved before it (in the order they were solved), then is solved. Right-looking (updateBelow) pushes
 * a block into the rows still to solve right after solving it; per element the subtractions are the
 * same — X_k −= ((a_0·v_0 + a_1·v_1) + a_2·v_2) + a_3·v_3 per earlier block, blocks in solve order —
 * so the bits are the same; the left-looking update is the N forms' leanUpdate4x4 (a block's rows
 * stay put while the earlier blocks stream past), measured about 6% faster at d = 20 than the
 * right-looking leanUpdateBelow (the time was then, as in the N forms, the updates plus the divisions,
 * measured alone they added up: hence the reciprocals). The tail rows (d mod 4 of them, solved last) still take each block's
 * update right after it is solved (leanUpdateBelow).
 */
function blockTail(ctx: Ctx, l: TLocals, pa0: () => void, pk0: () => void): void {
  const { g, rem } = ctx;
  const c = g.c;
  c.get(rem).if();
  pa0();
  pk0();
  const [t, c4, c1, ...rest] = [l.lt[0]!, g.i32(), g.i32(), g.i32(), g.i32(), g.i32(), g.i32(), g.i32()];
  c.i32(0).set(c4);
  c.get(rem).set(c1);
  const cz = g.i32(), cr = g.i32();
  c.i32(0).set(cz);
  c.get(rem).set(cr);
  leanUpdateBelow(g, ctx, l.xTop, l.pa, l.pk, cz, cr, l.vs, l.x, t, rest.slice(0, 4), rest[4]!, c4, c1);
  c.end();
}

/** L^T X = B, lean: block j (rows j..j+3, from the bottom), bi blocks below it already solved. */
function lowerTLean(ctx: Ctx, l: TLocals & { aTop: number; j: number; bi: number; xLast: number; k4: number; k1: number }): void {
  const { g, v, nv, d8, ldMul, ld4, xc, panels } = ctx;
  const c = g.c;
  const pb = [g.i32(), g.i32(), g.i32(), g.i32()], kc = g.i32(), base = g.i32(), d84 = g.i32();
  c.get(d8).i32(4).mul().set(d84);
  // &A[d-4, j]: the coefficient of solved row jj+q in row j+r is L[jj+q][j+r], at pb[q] + es·r.
  c.get(P.d).i32(4).sub().get(d8).mul().get(P.aP).add().get(l.j).i32(g.es).mul().add().set(base);
  panels(() => {
    c.get(xc).get(l.xOff).add().set(l.xTop);
    rowPtrs(g, pb, base, d8);
    c.get(xc).get(l.xLast).add().set(l.pk);
    c.get(l.bi).set(kc);
    g.repeat(kc, () => {
      leanUpdate4x4(g, nv, (r, q) => [pb[q]!, g.es * r], l.pk, l.xTop, ldMul, l.vs.flat(), l.x, l.lt[0]!);
      for (let q = 0; q < 4; q++) c.get(pb[q]!).get(d84).sub().set(pb[q]!);
      c.get(l.pk).get(ld4).sub().set(l.pk);
    });
    rowPtrs(g, l.pa, l.pd, d8);
    // (L^T)[r][s] = L[j+s][j+r] for s > r: the coefficient of solved row s in row r is at pa[s] + es·r.
    leanDiag(g, v.unit, nv, [3, 2, 1, 0], l.xTop, ldMul, l.x, l.lt[0]!, (r, s) => [l.pa[s]!, g.es * r], (r) => [l.pa[r]!, g.es * r]);
    // Tail rows 0..rem-1 (above every block): X_k -= Σ_p L[j+p][k] X_{j+p}.
    blockTail(ctx, l, () => rowPtrs(g, l.pa, l.aTop, d8), () => c.get(xc).set(l.pk));
  });
}

/** U^T X = B, lean: block i (rows i..i+3, from the top), the blocks above it already solved. */
function upperTLean(ctx: Ctx, l: TLocals & { i: number }): void {
  const { g, v, nv, d8, ldMul, ld4, nb, xc, panels } = ctx;
  const c = g.c;
  const pb = [g.i32(), g.i32(), g.i32(), g.i32()], kc = g.i32(), base = g.i32(), d84 = g.i32();
  c.get(d8).i32(4).mul().set(d84);
  // &A[0, i]: the coefficient of solved row ii+q in row i+r is U[ii+q][i+r], at pb[q] + es·r.
  c.get(P.aP).get(l.i).i32(g.es).mul().add().set(base);
  panels(() => {
    c.get(xc).get(l.xOff).add().set(l.xTop);
    rowPtrs(g, pb, base, d8);
    c.get(xc).set(l.pk);
    c.get(l.i).i32(2).shrU().set(kc);
    g.repeat(kc, () => {
      leanUpdate4x4(g, nv, (r, q) => [pb[q]!, g.es * r], l.pk, l.xTop, ldMul, l.vs.flat(), l.x, l.lt[0]!);
      for (let q = 0; q < 4; q++) g.bump(pb[q]!, d84);
      g.bump(l.pk, ld4);
    });
    rowPtrs(g, l.pa, l.pd, d8);
    // (U^T)[r][s] = U[i+s][i+r] for s < r: the coefficient of solved row s in row r is at pa[s] + es·r.
    leanDiag(g, v.unit, nv, [0, 1, 2, 3], l.xTop, ldMul, l.x, l.lt[0]!, (r, s) => [l.pa[s]!, g.es * r], (r) => [l.pa[r]!, g.es * r]);
    // Tail rows 4nb..d-1 (below every block): X_k -= Σ_p U[i+p][k] X_{i+p}; pa[p] = &A[i+p, 4nb].
    blockTail(ctx, l,
      () => { c.get(l.pd).get(nb).i32(4).mul().get(l.i).sub().i32(g.es).mul().add().set(base); rowPtrs(g, l.pa, base, d8); c.get(P.aP).get(l.i).i32(g.es).mul().add().set(base); },
      () => c.get(xc).get(nb).i32(4).mul().get(P.ld).mul().add().set(l.pk));
  });
}

/** L X = B (matLowerN): rows in blocks of 4 from the top, each first reduced by all earlier rows. */
function lowerN({ g, v, nv, d8, ldMul, ld4, nb, rem, xc, panels }: Ctx): void {
  const c = g.c;
  const aRow = g.i32(), xOff = g.i32(), xRow = g.i32(), bi = g.i32(), bl = g.i32(), kc = g.i32(), pk = g.i32();
  const i = g.i32(), t = g.i32(), rl = g.i32();
  const pa = [g.i32(), g.i32(), g.i32(), g.i32()];
  const lean = !!v.lean;
  const acc = grid(g, 4, lean ? 1 : nv), xs = grid(g, 4, lean ? 2 : nv), sp = vecs(g, 4);
  c.get(P.aP).set(aRow); // &A[i, 0]
  c.i32(0).set(xOff); // i*ld
  c.i32(0).set(bi);
  c.get(nb).set(bl);
  g.repeat(bl, () => {
    panels(() => {
      c.get(xc).get(xOff).add().set(xRow);
      if (!lean) for (let u = 0; u < nv; u++) g.load4(col(acc, u), xRow, ldMul, 16 * u);
      rowPtrs(g, pa, aRow, d8);
      c.get(xc).set(pk);
      c.get(bi).set(kc);
      g.repeat(kc, () => {
        if (lean) leanUpdate4x4(g, nv, (r, q) => [pa[r]!, g.es * q], pk, xRow, ldMul, xs.flat(), sp, acc[0]![0]!);
        else update4x4(g, acc, pa, pk, ldMul, xs, sp);
        for (let r = 0; r < 4; r++) g.bump(pa[r]!, 4 * g.es, true);
        g.bump(pk, ld4);
      });
      // pa[r] now points at A[i+r, i]: the block's row r, column s is at pa[r] + 8s.
      const coef = (r: number, s: number): [number, number] => [pa[r]!, g.es * s], dg = (r: number): [number, number] => [pa[r]!, g.es * r];
      if (lean) leanDiag(g, v.unit, nv, [0, 1, 2, 3], xRow, ldMul, sp, acc[0]![0]!, coef, dg);
      else {
        diagBlock(g, v.unit, [0, 1, 2, 3], acc, sp[0]!, coef, dg);
        for (let u = 0; u < nv; u++) g.store4(col(acc, u), xRow, ldMul, 16 * u);
      }
    });
    c.get(aRow).get(d8).i32(4).mul().add().set(aRow);
    g.bump(xOff, ld4);
    g.bump(bi, 1, true);
  });
  // Tail rows: X_i -= A_ik X_k for k < i (zero A_ik skipped), then X_i *= 1/A_ii.
  const a0 = lean ? vecs(g, nv) : acc[0]!;
  c.get(bi).i32(2).shl().set(i);
  c.get(rem).set(rl);
  g.repeat(rl, () => {
    panels(() => {
      c.get(xc).get(xOff).add().set(xRow);
      c.get(aRow).set(pa[0]!);
      c.get(xc).set(pk);
      c.get(i).set(t);
      tailRowLeft(g, v.unit, xRow, a0, pa[0]!, pk, t, pa[0]!); // the loop leaves pa[0] at A[i, i]
    });
    g.bump(aRow, d8);
    g.bump(xOff, P.ld);
    g.bump(i, 1, true);
  });
}

/** U X = B (matUpperN): blocks of 4 rows from the bottom (top row j = d-4, d-8, …), each first
 * reduced by the already solved rows below it (always a whole number of 4-row blocks). */
function upperN({ g, v, nv, d8, ldMul, ld4, nb, rem, xc, panels }: Ctx): void {
  const c = g.c;
  const aTop = g.i32(), xOff = g.i32(), xTop = g.i32(), bi = g.i32(), bl = g.i32(), kc = g.i32(), pk = g.i32();
  const pd = g.i32(), t = g.i32(), rl = g.i32();
  const pa = [g.i32(), g.i32(), g.i32(), g.i32()];
  const lean = !!v.lean;
  const acc = grid(g, 4, lean ? 1 : nv), xs = grid(g, 4, lean ? 2 : nv), sp = vecs(g, 4);
  // pd = &A[j, j], xOff = j*ld for the block's top row j = d-4-4bi.
  c.get(P.d).i32(4).sub().tee(t).get(d8).i32(g.es).add().mul().get(P.aP).add().set(pd);
  c.get(t).get(P.ld).mul().set(xOff);
  c.i32(0).set(bi);
  c.get(nb).set(bl);
  g.repeat(bl, () => {
    panels(() => {
      c.get(xc).get(xOff).add().set(xTop);
      if (!lean) for (let u = 0; u < nv; u++) g.load4(col(acc, u), xTop, ldMul, 16 * u);
      rowPtrs(g, pa, pd, d8, 4 * g.es); // &A[j+r, j+4]
      c.get(xTop).get(ld4).add().set(pk); // &X[j+4]
      c.get(bi).set(kc);
      g.repeat(kc, () => {
        if (lean) leanUpdate4x4(g, nv, (r, q) => [pa[r]!, g.es * q], pk, xTop, ldMul, xs.flat(), sp, acc[0]![0]!);
        else update4x4(g, acc, pa, pk, ldMul, xs, sp);
        for (let r = 0; r < 4; r++) g.bump(pa[r]!, 4 * g.es, true);
        g.bump(pk, ld4);
      });
      // Diagonal: A[j+r, j+s] at pd + r*d8 + 8s; use pa[r] := pd + r*d8.
      rowPtrs(g, pa, pd, d8);
      const coef = (r: number, s: number): [number, number] => [pa[r]!, g.es * s], dg = (r: number): [number, number] => [pa[r]!, g.es * r];
      if (lean) leanDiag(g, v.unit, nv, [3, 2, 1, 0], xTop, ldMul, sp, acc[0]![0]!, coef, dg);
      else {
        diagBlock(g, v.unit, [3, 2, 1, 0], acc, sp[0]!, coef, dg);
        for (let u = 0; u < nv; u++) g.store4(col(acc, u), xTop, ldMul, 16 * u);
      }
    });
    c.get(pd).get(d8).i32(g.es).add().i32(4).mul().sub().set(pd);
    c.get(xOff).get(ld4).sub().set(xOff);
    g.bump(bi, 1, true);
  });
  // Tail rows i = rem-1 … 0: X_i -= A_ik X_k for k > i (ascending, zeros skipped), then X_i *= 1/A_ii.
  const a0 = lean ? vecs(g, nv) : acc[0]!;
  c.get(rem).i32(1).sub().tee(t).get(d8).i32(g.es).add().mul().get(P.aP).add().set(pd); // &A[i, i]
  c.get(t).get(P.ld).mul().set(xOff);
  c.get(t).set(bi); // bi := i
  c.get(rem).set(rl);
  g.repeat(rl, () => {
    panels(() => {
      c.get(xc).get(xOff).add().set(xTop);
      c.get(pd).i32(g.es).add().set(pa[0]!);
      c.get(xTop).get(P.ld).add().set(pk);
      c.get(P.d).get(bi).sub().i32(1).sub().set(kc);
      tailRowLeft(g, v.unit, xTop, a0, pa[0]!, pk, kc, pd);
    });
    c.get(pd).get(d8).i32(g.es).add().sub().set(pd);
    c.get(xOff).get(P.ld).sub().set(xOff);
    c.get(bi).i32(1).sub().set(bi);
  });
}

/** The right-looking update of the transposed forms: with the block rows j..j+3 solved (vs[p][u]),
 * every row k of `count4` 4-row groups then `single` rows from pk gets
 * X_k -= ((a_0·v_0 + a_1·v_1) + a_2·v_2) + a_3·v_3 with a_p = A[j+p, k] at pa[p] (JS update4x4T). */
function updateBelow(g: Gen, ctx: Ctx, pa: number[], pk: number, count4: number, single: number, vs: number[][], x: number[]): void {
  const c = g.c;
  const { ldMul, ld4, nv } = ctx;
  // One row k: its 4 coefficients are splatted once (into x) and used for all nv vectors; per element
  // the operations and their order are the JS ones. `addr` pushes the row's address.
  const row = (addr: () => void, offs: number) => {
    for (let p = 0; p < 4; p++) { g.splat(pa[p]!, offs); c.set(x[p]!); }
    for (let u = 0; u < nv; u++) {
      addr();
      addr(); c.v128Load(16 * u);
      for (let p = 0; p < 4; p++) { c.get(x[p]!).get(vs[p]![u]!).fmul(g.es); if (p > 0) c.fadd(g.es); }
      c.fsub(g.es).v128Store(16 * u);
    }
  };
  g.repeat(count4, () => {
    for (let q = 0; q < 4; q++) row(() => { c.get(pk); if (q > 0) c.get(ldMul[q]!).add(); }, g.es * q);
    for (let p = 0; p < 4; p++) g.bump(pa[p]!, 4 * g.es, true);
    g.bump(pk, ld4);
  });
  g.repeat(single, () => {
    row(() => c.get(pk), 0);
    for (let p = 0; p < 4; p++) g.bump(pa[p]!, g.es, true);
    g.bump(pk, P.ld);
  });
}

/** L^T X = B (matLowerT): blocks of 4 from the bottom (top row j = d-4, …): solve the block with
 * (L^T)'s diagonal block, then push it into all rows above (k < j: j>>2 groups of 4, then j&3 single). */
function lowerT(ctx: Ctx): void {
  const { g, v, nv, d8, ldMul, ld4, nb, rem, xc, panels } = ctx;
  const c = g.c;
  const aTop = g.i32(), xOff = g.i32(), xTop = g.i32(), bl = g.i32(), k4 = g.i32(), k1 = g.i32(), pk = g.i32();
  const pd = g.i32(), j = g.i32(), i = g.i32(), t = g.i32(), rl = g.i32();
  const pa = [g.i32(), g.i32(), g.i32(), g.i32()];
  const lean = !!v.lean;
  const vs = grid(g, 4, lean ? 2 : nv), x = vecs(g, 4);
  const acc = lean ? vecs(g, nv) : vs[0]!;
  const lt = lean ? [g.v128(), g.i32(), g.i32()] : [];
  c.get(P.d).i32(4).sub().tee(j).get(d8).mul().get(P.aP).add().set(aTop); // &A[j, 0]
  c.get(j).get(P.ld).mul().set(xOff); // j*ld
  c.get(nb).set(bl);
  if (lean) {
    // Left-looking (see lowerTLean's comment): bi = blocks solved so far, below this one.
    c.i32(0).set(lt[1]!);
    c.get(P.d).i32(4).sub().get(P.ld).mul().set(lt[2]!); // (d-4)·ld: the bottom block's rows
  }
  g.repeat(bl, () => {
    c.get(aTop).get(j).i32(g.es).mul().add().set(pd); // &A[j, j]
    if (lean) lowerTLean(ctx, { xOff, xTop, pd, aTop, j, bi: lt[1]!, xLast: lt[2]!, pa, pk, k4, k1, vs, x, lt });
    else panels(() => {
      c.get(xc).get(xOff).add().set(xTop);
      rowPtrs(g, pa, pd, d8);
      // (L^T)[r][s] = L[j+s][j+r] for s > r: the coefficient of solved row s in row r is at pa[s] + 8r.
      const coef = (r: number, s: number): [number, number] => [pa[s]!, g.es * r], dg = (r: number): [number, number] => [pa[r]!, g.es * r];
      {
        for (let u = 0; u < nv; u++) g.load4(col(vs, u), xTop, ldMul, 16 * u);
        diagBlock(g, v.unit, [3, 2, 1, 0], vs, x[0]!, coef, dg);
        for (let u = 0; u < nv; u++) g.store4(col(vs, u), xTop, ldMul, 16 * u);
      }
      rowPtrs(g, pa, aTop, d8); // &A[j+r, 0]
      c.get(xc).set(pk);
      c.get(j).i32(2).shrU().set(k4);
      c.get(j).i32(3).and().set(k1);
      updateBelow(g, ctx, pa, pk, k4, k1, vs, x);
    });
    if (lean) g.bump(lt[1]!, 1, true);
    c.get(aTop).get(d8).i32(4).mul().sub().set(aTop);
    c.get(xOff).get(ld4).sub().set(xOff);
    c.get(j).i32(4).sub().set(j);
  });
  // Tail rows i = rem-1 … 0: X_i *= 1/L_ii, then X_k -= L_ik X_i for k < i (zeros skipped).
  c.get(rem).i32(1).sub().tee(i).get(d8).mul().get(P.aP).add().set(aTop); // &A[i, 0]
  c.get(i).get(P.ld).mul().set(xOff);
  c.get(rem).set(rl);
  g.repeat(rl, () => {
    c.get(aTop).get(i).i32(g.es).mul().add().set(pd); // &A[i, i]
    panels(() => {
      c.get(xc).get(xOff).add().set(xTop);
      c.get(aTop).set(pa[0]!);
      c.get(xc).set(pk);
      c.get(i).set(t);
      tailRowRight(g, v.unit, xTop, acc, pa[0]!, pk, t, pd);
    });
    c.get(aTop).get(d8).sub().set(aTop);
    c.get(xOff).get(P.ld).sub().set(xOff);
    c.get(i).i32(1).sub().set(i);
  });
}

/** U^T X = B (matUpperT): blocks of 4 from the top (row i = 0, 4, …): solve the block, then push it
 * into all rows below (k ≥ i+4: (d-i-4)>>2 groups of 4, then (d-i-4)&3 single rows). */
function upperT(ctx: Ctx): void {
  const { g, v, nv, d8, ldMul, ld4, nb, rem, xc, panels } = ctx;
  const c = g.c;
  const xOff = g.i32(), xTop = g.i32(), bl = g.i32(), k4 = g.i32(), k1 = g.i32(), pk = g.i32(), pd = g.i32();
  const i = g.i32(), t = g.i32(), rl = g.i32();
  const pa = [g.i32(), g.i32(), g.i32(), g.i32()];
  const lean = !!v.lean;
  const vs = grid(g, 4, lean ? 2 : nv), x = vecs(g, 4);
  const acc = lean ? vecs(g, nv) : vs[0]!;
  const lt = lean ? [g.v128()] : [];
  c.get(P.aP).set(pd); // &A[i, i]
  c.i32(0).set(xOff);
  c.i32(0).set(i);
  c.get(nb).set(bl);
  g.repeat(bl, () => {
    if (lean) upperTLean(ctx, { xOff, xTop, pd, i, pa, pk, vs, x, lt });
    else panels(() => {
      c.get(xc).get(xOff).add().set(xTop);
      rowPtrs(g, pa, pd, d8);
      // (U^T)[r][s] = U[i+s][i+r] for s < r: the coefficient of solved row s in row r is at pa[s] + 8r.
      const coef = (r: number, s: number): [number, number] => [pa[s]!, g.es * r], dg = (r: number): [number, number] => [pa[r]!, g.es * r];
      {
        for (let u = 0; u < nv; u++) g.load4(col(vs, u), xTop, ldMul, 16 * u);
        diagBlock(g, v.unit, [0, 1, 2, 3], vs, x[0]!, coef, dg);
        for (let u = 0; u < nv; u++) g.store4(col(vs, u), xTop, ldMul, 16 * u);
      }
      for (let r = 0; r < 4; r++) g.bump(pa[r]!, 4 * g.es, true); // &A[i+r, i+4]
      c.get(xTop).get(ld4).add().set(pk);
      c.get(P.d).get(i).sub().i32(4).sub().tee(t).i32(2).shrU().set(k4);
      c.get(t).i32(3).and().set(k1);
      updateBelow(g, ctx, pa, pk, k4, k1, vs, x);
    });
    c.get(pd).get(d8).i32(g.es).add().i32(4).mul().add().set(pd);
    g.bump(xOff, ld4);
    g.bump(i, 4, true);
  });
  // Tail rows i = 4nb … d-1: X_i *= 1/U_ii, then X_k -= U_ik X_i for k > i (zeros skipped).
  c.get(rem).set(rl);
  g.repeat(rl, () => {
    panels(() => {
      c.get(xc).get(xOff).add().set(xTop);
      c.get(pd).i32(g.es).add().set(pa[0]!);
      c.get(xTop).get(P.ld).add().set(pk);
      c.get(P.d).get(i).sub().i32(1).sub().set(t);
      tailRowRight(g, v.unit, xTop, acc, pa[0]!, pk, t, pd);
    });
    c.get(pd).get(d8).i32(g.es).add().add().set(pd);
    g.bump(xOff, P.ld);
    g.bump(i, 1, true);
  });
}
