/**
 * Generators for the Wasm SIMD matmul functions (all addresses and strides in bytes; all loop
 * counts must be >= 1, which the driver in matmul-wasm.ts guarantees).
 *
 * gemm(ap, aRS, aKS, bp, bPS, bKS, cp, ldc, mPanels, nPanels, kc, accumulate)
 *   C tile (ip, jp) (MR x NR, at cp + ip*MR*ldc + jp*NR*es) = or += sum_p A(i, p) B(p, j), where
 *   A(i, p) is the scalar at ap + i*aRS + p*aKS (so A is read in place, either transpose), and
 *   B row p of panel jp is NR contiguous elements at bp + jp*bPS + p*bKS (a packed panel, or an
 *   unpacked row-major B when bKS = row stride). Tiles may read past the logical m/n edge; those
 *   rows/columns of C are padding the driver discards, so the kernel has no edge cases.
 *
 * Micro-kernel: an MR x NR tile of C lives in MR*NV v128 locals, which TurboFan keeps in xmm
 * registers (x64 has 16; 2x4 tiles = 8 accumulators + 4 B vectors + 1 splat fit without spills,
 * which measured fastest). Per k step it loads NV vectors of B and splats MR scalars of A, then
 * does mul + add (Node 20's Wasm SIMD has no fused multiply-add). Loop order is B panel outer,
 * A rows inner, so the kc x NR B panel stays in L1 while the A block streams from L2.
 */
import { Code, I32, V128, type FuncDef } from './wasm-emit.js';

export interface KernelShape {
  elemBytes: 4 | 8;
  /** Rows of the register tile. */
  mr: number;
  /** v128 vectors per tile row: NR = nv * (16 / elemBytes). */
  nv: number;
}

const i32s = (n: number) => new Array<number>(n).fill(I32);

export function gemmFunc(name: string, shape: KernelShape): FuncDef {
  const { elemBytes: es, mr: MR, nv: NV } = shape;
  const NR = NV * (16 / es);
  const [ap, aRS, aKS, bp, bPS, bKS, cp, ldc, mPanels, nPanels, kc, accumulate] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const [jp, ip, pb, pend, crow, ccol, bpj, aStep, ldcMR, tmp, arow] = [12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22];
  const pa = (r: number) => 23 + r; // one pointer per tile row of A
  const nI32 = 11 + MR;
  const v0 = 12 + nI32;
  const acc = (r: number, v: number) => v0 + r * NV + v;
  const bv = (v: number) => v0 + MR * NV + v;
  const av = v0 + MR * NV + NV;
  const nV128 = MR * NV + NV + 1;

  const c = new Code();
  c.get(aRS).i32(MR).mul().set(aStep);
  c.get(ldc).i32(MR).mul().set(ldcMR);
  c.get(bp).set(bpj);
  c.get(cp).set(ccol);
  c.get(nPanels).set(jp);
  c.loop(); // over B panels
  {
    c.get(ap).set(arow);
    c.get(ccol).set(crow);
    c.get(mPanels).set(ip);
    c.loop(); // over MR-row blocks of A
    {
      for (let r = 0; r < MR; r++) {
        c.get(arow);
        if (r > 0) c.get(aRS).i32(r).mul().add();
        c.set(pa(r));
      }
      for (let r = 0; r < MR; r++) for (let v = 0; v < NV; v++) c.v128Zero().set(acc(r, v));
      c.get(bpj).tee(pb).get(kc).get(bKS).mul().add().set(pend);
      c.loop(); // over k
      {
        for (let v = 0; v < NV; v++) c.get(pb).v128Load(v * 16).set(bv(v));
        for (let r = 0; r < MR; r++) {
          c.get(pa(r)).loadSplat(es, 0).set(av);
          for (let v = 0; v < NV; v++) c.get(acc(r, v)).get(av).get(bv(v)).fmul(es).fadd(es).set(acc(r, v));
          c.get(pa(r)).get(aKS).add().set(pa(r));
        }
        c.get(pb).get(bKS).add().tee(pb).get(pend).ne().brIf(0);
      }
      c.end();
      c.get(accumulate).if();
      {
        c.get(crow).set(tmp);
        for (let r = 0; r < MR; r++) {
          for (let v = 0; v < NV; v++) c.get(acc(r, v)).get(tmp).v128Load(v * 16).fadd(es).set(acc(r, v));
          c.get(tmp).get(ldc).add().set(tmp);
        }
      }
      c.end();
      c.get(crow).set(tmp);
      for (let r = 0; r < MR; r++) {
        for (let v = 0; v < NV; v++) c.get(tmp).get(acc(r, v)).v128Store(v * 16);
        if (r < MR - 1) c.get(tmp).get(ldc).add().set(tmp);
      }
      c.get(crow).get(ldcMR).add().set(crow);
      c.get(arow).get(aStep).add().set(arow);
      c.get(ip).i32(1).sub().tee(ip).brIf(0);
    }
    c.end();
    c.get(bpj).get(bPS).add().set(bpj);
    c.get(ccol).i32(NR * es).add().set(ccol);
    c.get(jp).i32(1).sub().tee(jp).brIf(0);
  }
  c.end();
  return { name, params: i32s(12), locals: [...i32s(nI32), ...new Array<number>(nV128).fill(V128)], body: c };
}

/**
 * packRows(src, srcKS, dst, kc, nPanels): B with contiguous rows (row p at src + p*srcKS) into
 * panels of `nv` vectors per row, panel after panel, each kc rows: plain v128 copies.
 */
export function packRowsFunc(name: string, nv: number): FuncDef {
  const [src, srcKS, dst, kc, nPanels] = [0, 1, 2, 3, 4];
  const [s, d, p, jp] = [5, 6, 7, 8];
  const c = new Code();
  c.get(dst).set(d);
  c.get(nPanels).set(jp);
  c.loop();
  {
    c.get(src).set(s);
    c.get(kc).set(p);
    c.loop();
    for (let v = 0; v < nv; v++) c.get(d).get(s).v128Load(v * 16).v128Store(v * 16);
    c.get(s).get(srcKS).add().set(s);
    c.get(d).i32(nv * 16).add().set(d);
    c.get(p).i32(1).sub().tee(p).brIf(0);
    c.end();
    c.get(src).i32(nv * 16).add().set(src);
    c.get(jp).i32(1).sub().tee(jp).brIf(0);
  }
  c.end();
  return { name, params: i32s(5), locals: i32s(4), body: c };
}

/**
 * packGather(src, srcKS, srcJS, dst, kc, nPanels, nr): general strided B (element (p, j) at
 * src + p*srcKS + j*srcJS, e.g. a transposed B) into nr-wide panels, one scalar at a time.
 */
export function packGatherFunc(name: string, es: 4 | 8): FuncDef {
  const [src, srcKS, srcJS, dst, kc, nPanels, nr] = [0, 1, 2, 3, 4, 5, 6];
  const [s, d, p, jp, col, q] = [7, 8, 9, 10, 11, 12];
  const c = new Code();
  c.get(dst).set(d);
  c.get(nPanels).set(jp);
  c.loop(); // panels
  {
    c.get(src).set(s);
    c.get(kc).set(p);
    c.loop(); // rows p
    {
      c.get(s).set(q);
      c.get(nr).set(col);
      c.loop(); // columns of the panel
      c.get(d).get(q).load(es, 0).store(es, 0);
      c.get(q).get(srcJS).add().set(q);
      c.get(d).i32(es).add().set(d);
      c.get(col).i32(1).sub().tee(col).brIf(0);
      c.end();
      c.get(s).get(srcKS).add().set(s);
      c.get(p).i32(1).sub().tee(p).brIf(0);
    }
    c.end();
    c.get(src).get(srcJS).get(nr).mul().add().set(src);
    c.get(jp).i32(1).sub().tee(jp).brIf(0);
  }
  c.end();
  return { name, params: i32s(7), locals: i32s(6), body: c };
}

/**
 * compact(src, srcLd, dst, rowBytes, rows): copies `rows` rows of rowBytes (a multiple of 4) from a
 * padded matrix (row stride srcLd) to a dense one, 16 bytes at a time then 4.
 */
export function compactFunc(name: string): FuncDef {
  const [src, srcLd, dst, rowBytes, rows] = [0, 1, 2, 3, 4];
  const [s, e] = [5, 6];
  const c = new Code();
  c.loop();
  {
    c.get(src).tee(s).get(rowBytes).add().set(e);
    c.block().loop(); // 16-byte chunks while at least 16 bytes remain
    c.get(e).get(s).sub().i32(16).ltU().brIf(1);
    c.get(dst).get(s).v128Load(0).v128Store(0);
    c.get(s).i32(16).add().set(s);
    c.get(dst).i32(16).add().set(dst);
    c.br(0).end().end();
    c.block().loop(); // 4-byte tail
    c.get(s).get(e).eq().brIf(1);
    c.get(dst).get(s).load(4, 0).store(4, 0);
    c.get(s).i32(4).add().set(s);
    c.get(dst).i32(4).add().set(dst);
    c.br(0).end().end();
    c.get(src).get(srcLd).add().set(src);
    c.get(rows).i32(1).sub().tee(rows).brIf(0);
  }
  c.end();
  return { name, params: i32s(5), locals: i32s(2), body: c };
}

/**
 * addRows(c, ldc, bias, rows, vecs): adds the row vector at `bias` (vecs v128s) to each of `rows`
 * rows of C (row stride ldc bytes): the matmul's bias epilogue, one IEEE add per element, the
 * same as the elementwise add it replaces (f32x4.add rounds a sum of float32s as Math.fround does).
 */
export function addRowsFunc(name: string, es: 4 | 8): FuncDef {
  const [c, ldc, bias, rows, vecs] = [0, 1, 2, 3, 4];
  const [p, b, v] = [5, 6, 7];
  const k = new Code();
  k.loop();
  {
    k.get(c).set(p);
    k.get(bias).set(b);
    k.get(vecs).set(v);
    k.loop();
    k.get(p).get(p).v128Load(0).get(b).v128Load(0).fadd(es).v128Store(0);
    k.get(p).i32(16).add().set(p);
    k.get(b).i32(16).add().set(b);
    k.get(v).i32(1).sub().tee(v).brIf(0);
    k.end();
    k.get(c).get(ldc).add().set(c);
    k.get(rows).i32(1).sub().tee(rows).brIf(0);
  }
  k.end();
  return { name, params: i32s(5), locals: i32s(3), body: k };
}
