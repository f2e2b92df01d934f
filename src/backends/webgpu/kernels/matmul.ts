import { sizeOf, stridesOf } from '../../../shape.js';
import { ConfigError } from '../../../errors.js';
import { identityIds } from '../../../identity.js';
import type { GpuKernel } from './common.js';
import { batchOffsetCode, dotProducts } from './dot-products.js';

/**
 * Batched matmul C = op(A) op(B) with NumPy-broadcast batch dims and transA / transB.
 *
 * - tiled (M and N ≥ 16): a BM × BN output tile per workgroup on a 2-D grid (x: column tiles,
 *   y: row tiles, z: batch; no 65535-tile cliff), TM × TN outputs per thread in vec4 registers,
 *   K in steps of BK through workgroup memory. Three sizes (128×128 with 8×8 per thread, 64×64
 *   and 32×32 with 4×4), picked so that the grid still fills a GPU.
 *   The shader is specialised (and its pipeline cached) by: tile config, transA, transB, whether
 *   each operand's contiguous dim allows vec4 loads (A: K or M, B: N or K; C: N), whether M, N,
 *   K are multiples of the tile (then the bounds checks are compiled out), and the batch rank.
 *   TILE_CANDIDATES adds deeper K steps, rectangular tiles, 16×8 outputs a thread and double
 *   buffering; where the device has timestamps, the tile tuner picks among them per shape class.
 *   Workgroup memory holds op(A) as As[k][m] and op(B) as Bs[k][n], rows padded by 4 floats;
 *   a thread reads its rows/columns as vec4s strided by the thread grid (4·WM apart), so the
 *   reads of Bs are consecutive vec4s across a warp and those of As broadcasts (no bank
 *   conflicts); global loads are vec4 along each operand's contiguous dim (coalesced for every
 *   transposition), and the operands stored with K contiguous (A, or B transposed) are
 *   transposed on the store into workgroup memory (the padding keeps that store at ≤ 2-way).
 * - small outputs (M or N below 16, e.g. matrix-vector products or batches of tiny matrices):
 *   dot products (dot-products.ts), with K split across threads where there are few outputs.
 */

export interface TileConfig {
  /** output tile rows / columns per workgroup */
  bm: number;
  bn: number;
  /** K step through workgroup memory */
  bk: number;
  /** outputs per thread (multiples of 4) */
  tm: number;
  tn: number;
  /**
   * Double-buffering. 1: the next K step's global loads go into registers before this step's
   * product (their latency overlaps the arithmetic). 2: that, and two workgroup-memory tiles used in
   * turn, so one barrier a K step instead of two.
   */
  db?: 1 | 2;
}

export const TILE_CONFIGS = {
  large: { bm: 128, bn: 128, bk: 8, tm: 8, tn: 8 },
  medium: { bm: 64, bn: 64, bk: 16, tm: 4, tn: 4 },
  small: { bm: 32, bn: 32, bk: 32, tm: 4, tn: 4 },
} as const satisfies Record<string, TileConfig>;

/**
 * Every tile configuration the kernel is built and tested for: the three `chooseTile` picks from,
 * and shapes a GPU may prefer (a deeper K step, rectangular tiles, 8×8 outputs per thread on 64×64,
 * 16×8 on 256×128, register double-buffering, and skinny tiles of 16 or 32 rows or columns for
 * products like GMMVI's [K, d, d] @ [K, d, 9000], where one side is a few dozen wide).
 * The tile tuner (tile-tuner.ts) picks among them per shape class by GPU time, bench/matmul-tiles.ts
 * times each, and test/webgpu/matmul-tiles.test.ts checks them on lavapipe.
 */
export const TILE_CANDIDATES: readonly TileConfig[] = [
  TILE_CONFIGS.large,
  TILE_CONFIGS.medium,
  TILE_CONFIGS.small,
  { bm: 128, bn: 128, bk: 16, tm: 8, tn: 8 },
  { bm: 128, bn: 64, bk: 16, tm: 8, tn: 4 },
  { bm: 64, bn: 128, bk: 16, tm: 4, tn: 8 },
  { bm: 64, bn: 64, bk: 8, tm: 8, tn: 8 },
  { bm: 256, bn: 128, bk: 8, tm: 16, tn: 8 },
  { bm: 128, bn: 128, bk: 8, tm: 8, tn: 8, db: 1 },
  { bm: 128, bn: 128, bk: 16, tm: 8, tn: 8, db: 1 },
  { bm: 64, bn: 64, bk: 16, tm: 4, tn: 4, db: 1 },
  { bm: 128, bn: 128, bk: 8, tm: 8, tn: 8, db: 2 },
  { bm: 64, bn: 64, bk: 16, tm: 4, tn: 4, db: 2 },
  { bm: 32, bn: 128, bk: 16, tm: 4, tn: 8 },
  { bm: 16, bn: 128, bk: 16, tm: 4, tn: 8 },
  { bm: 128, bn: 32, bk: 16, tm: 8, tn: 4 },
];

/** Threads per workgroup and bytes of workgroup memory a configuration needs. */
export function tileNeeds(c: TileConfig): { threads: number; workgroupBytes: number } {
  return { threads: (c.bm / c.tm) * (c.bn / c.tn), workgroupBytes: (c.db === 2 ? 2 : 1) * 4 * c.bk * (c.bm + 4 + c.bn + 4) };
}

/** A configuration the shader can be generated for: tiles of whole vec4s, each thread loading whole vec4s of both tiles. */
function tileValid(c: TileConfig): boolean {
  const { threads } = tileNeeds(c);
  const whole = (x: number) => Number.isInteger(x) && x >= 1;
  return c.tm % 4 === 0 && c.tn % 4 === 0 && c.bk % 4 === 0 && whole(c.bm / c.tm) && whole(c.bn / c.tn) && whole((c.bm * c.bk) / 4 / threads) && whole((c.bk * c.bn) / 4 / threads);
}

let tileOverride: TileConfig | null = null;
/**
 * Forces every tiled matmul to one configuration (null: the tuned or `chooseTile`'s again), for the
 * tile sweep of bench/matmul-tiles.ts and the tests; not for use in a program.
 */
export function setTileOverride(c: TileConfig | null): void {
  if (c && !tileValid(c)) throw new ConfigError(`matmul tile ${JSON.stringify(c)}: tm, tn, bk must be multiples of 4 and each thread must load whole vec4s of both tiles.`);
  tileOverride = c;
}

export interface TiledVariant {
  cfg: TileConfig;
  transA: boolean;
  transB: boolean;
  /** vec4 loads of A (along K, or along M when transposed), of B (along N, or K), vec4 stores of C */
  vecA: boolean;
  vecB: boolean;
  vecC: boolean;
  /** M % bm, N % bn, K % bk are 0: no bounds checks on that dim */
  fitM: boolean;
  fitN: boolean;
  fitK: boolean;
  bRank: number;
}

const u = (n: number) => `${n}u`;

/** WGSL of the tiled kernel for one specialisation. */
export function tiledShader(v: TiledVariant): string {
  const { bm, bn, bk, tm, tn } = v.cfg;
  const WM = bm / tm; // threads along M
  const WN = bn / tn; // threads along N
  const NT = WM * WN;
  const SA = bm + 4; // padded row length of As (floats)
  const SB = bn + 4;
  const CM = tm / 4; // vec4 chunks of rows per thread
  const CN = tn / 4;
  const aT = v.vecA ? 'vec4<f32>' : 'f32';
  const bT = v.vecB ? 'vec4<f32>' : 'f32';
  const cT = v.vecC ? 'vec4<f32>' : 'f32';
  const L: string[] = [];
  L.push(`@group(0) @binding(0) var<storage, read> a: array<${aT}>;`);
  L.push(`@group(0) @binding(1) var<storage, read> b: array<${bT}>;`);
  L.push(`@group(0) @binding(2) var<storage, read_write> c: array<${cT}>;`);
  L.push(`@group(0) @binding(3) var<storage, read> mt: array<u32>;`);
  // with db 2, two tiles each, used in turn (ASZ, BSZ vec4s apart)
  const ASZ = (bk * SA) / 4;
  const BSZ = (bk * SB) / 4;
  const nbuf = v.cfg.db === 2 ? 2 : 1;
  L.push(`var<workgroup> As: array<vec4<f32>, ${nbuf * ASZ}>;`);
  L.push(`var<workgroup> Bs: array<vec4<f32>, ${nbuf * BSZ}>;`);

  // Loads of 4 consecutive elements along an operand's contiguous dim, as a vec4.
  // A normal: A(m, k..k+3) at aOff + m*K + k (contiguous in k). A transposed: A(m..m+3, k) at aOff + k*M + m.
  // B normal: B(k, n..n+3) at bOff + k*N + n. B transposed: B(k..k+3, n) at bOff + n*K + k.
  const loadFn = (name: string, buf: string, vec: boolean, rowOk: string, colOk: (i: number) => string, index: string) => {
    // rowOk: the fixed (strided) coordinate in range; colOk(i): contiguous coordinate + i in range
    const conds = (extra: string) => [rowOk, extra].filter((s) => s && s !== 'true').join(' && ');
    if (vec) {
      const cnd = conds(colOk(0));
      const ld = `${buf}[(${index}) / 4u]`;
      return `fn ${name}(r: u32, q: u32, off: u32, ld: u32, M: u32, N: u32, K: u32) -> vec4<f32> {
  ${cnd ? `if (!(${cnd})) { return vec4<f32>(0.0); }` : ''}
  return ${ld};
}`;
    }
    const lines = [`fn ${name}(r: u32, q: u32, off: u32, ld: u32, M: u32, N: u32, K: u32) -> vec4<f32> {`, '  var v = vec4<f32>(0.0);'];
    const rc = conds('');
    lines.push(`  ${rc ? `if (!(${rc})) { return v; }` : ''}`);
    lines.push(`  let base = ${index};`);
    for (let i = 0; i < 4; i++) {
      const cc = colOk(i);
      const st = `v[${i}] = ${buf}[base + ${u(i)}];`;
      lines.push(cc && cc !== 'true' ? `  if (${cc}) { ${st} }` : `  ${st}`);
    }
    lines.push('  return v;', '}');
    return lines.join('\n');
  };
  // r: the strided coordinate, q: the first of 4 contiguous ones; off: batch offset; ld: leading dim
  const idx = 'off + r * ld + q';
  if (!v.transA) {
    // r = m, q = k
    L.push(loadFn('loadA', 'a', v.vecA, v.fitM ? '' : 'r < M', (i) => (v.fitK ? '' : `q + ${u(i)} < K`), idx));
  } else {
    // r = k, q = m
    L.push(loadFn('loadA', 'a', v.vecA, v.fitK ? '' : 'r < K', (i) => (v.fitM ? '' : `q + ${u(i)} < M`), idx));
  }
  if (!v.transB) {
    // r = k, q = n
    L.push(loadFn('loadB', 'b', v.vecB, v.fitK ? '' : 'r < K', (i) => (v.fitN ? '' : `q + ${u(i)} < N`), idx));
  } else {
    // r = n, q = k
    L.push(loadFn('loadB', 'b', v.vecB, v.fitN ? '' : 'r < N', (i) => (v.fitK ? '' : `q + ${u(i)} < K`), idx));
  }

  const B: string[] = [];
  B.push(`@compute @workgroup_size(${WN}, ${WM}) fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {`);
  B.push('  let M = mt[0]; let N = mt[1]; let K = mt[2]; let batch = mt[3];');
  B.push(`  let tx = lid.x; let ty = lid.y; let tid = ty * ${u(WN)} + tx;`);
  B.push(`  let row0 = wid.y * ${u(bm)}; let col0 = wid.x * ${u(bn)};`);
  B.push('  for (var bz = wid.z; bz < batch; bz += nwg.z) {');
  B.push(`    ${batchOffsetCode(v.bRank)}`);
  B.push('    let cOff = bz * M * N;');
  for (let i = 0; i < tm; i++) for (let d = 0; d < CN; d++) B.push(`    var acc${i}_${d} = vec4<f32>(0.0);`);
  // --- global -> workgroup memory: the A tile (bm × bk of op(A)) and the B tile (bk × bn) as
  // vec4 loads, each thread `aLoads` and `bLoads` of them. A load goes into a register (ra_l,
  // rb_l) and is then stored into workgroup memory; with `db` the next tile's loads are issued
  // before this tile's product (register double-buffering: the global loads' latency overlaps the
  // arithmetic), without it right before the store.
  const aLoads = (bm * bk) / 4 / NT;
  const bLoads = (bk * bn) / 4 / NT;
  const el = (l: number) => (l === 0 ? 'tid' : `tid + ${u(l * NT)}`);
  // A normal: A(m, k..k+3), m = e / (bk/4), kq = e % (bk/4), stored transposed As[k][m];
  // A transposed: A(m..m+3, k), k = e / (bm/4), mq = e % (bm/4), stored As[k][m..m+3]
  const loadA = (l: number, kb: string) =>
    !v.transA
      ? `{ let e = ${el(l)}; ra${l} = loadA(row0 + e / ${u(bk / 4)}, ${kb} + (e % ${u(bk / 4)}) * 4u, aOff, K, M, N, K); }`
      : `{ let e = ${el(l)}; ra${l} = loadA(${kb} + e / ${u(bm / 4)}, row0 + (e % ${u(bm / 4)}) * 4u, aOff, M, M, N, K); }`;
  // `o`: the vec4 offset of the tile stored into ('' for the only one)
  const storeA = (l: number, o: string) => {
    if (v.transA) return [`{ let e = ${el(l)}; As[${o}(e / ${u(bm / 4)}) * ${u(SA / 4)} + e % ${u(bm / 4)}] = ra${l}; }`];
    const lines = [`{ let e = ${el(l)}; let s = ((e % ${u(bk / 4)}) * 4u) * ${u(SA)} + e / ${u(bk / 4)};`];
    for (let i = 0; i < 4; i++) lines.push(`  As[${o}(s + ${u(i * SA)}) / 4u][(s + ${u(i * SA)}) % 4u] = ra${l}[${i}];`);
    lines.push('}');
    return lines;
  };
  // B normal: B(k, n..n+3), k = e / (bn/4), nq = e % (bn/4), stored Bs[k][n..n+3];
  // B transposed: B(k..k+3, n), n = e / (bk/4), kq = e % (bk/4), stored transposed Bs[k][n]
  const loadB = (l: number, kb: string) =>
    !v.transB
      ? `{ let e = ${el(l)}; rb${l} = loadB(${kb} + e / ${u(bn / 4)}, col0 + (e % ${u(bn / 4)}) * 4u, bOff, N, M, N, K); }`
      : `{ let e = ${el(l)}; rb${l} = loadB(col0 + e / ${u(bk / 4)}, ${kb} + (e % ${u(bk / 4)}) * 4u, bOff, K, M, N, K); }`;
  const storeB = (l: number, o: string) => {
    if (!v.transB) return [`{ let e = ${el(l)}; Bs[${o}(e / ${u(bn / 4)}) * ${u(SB / 4)} + e % ${u(bn / 4)}] = rb${l}; }`];
    const lines = [`{ let e = ${el(l)}; let s = ((e % ${u(bk / 4)}) * 4u) * ${u(SB)} + e / ${u(bk / 4)};`];
    for (let i = 0; i < 4; i++) lines.push(`  Bs[${o}(s + ${u(i * SB)}) / 4u][(s + ${u(i * SB)}) % 4u] = rb${l}[${i}];`);
    lines.push('}');
    return lines;
  };
  const loads = (kb: string) => [...Array.from({ length: aLoads }, (_, l) => loadA(l, kb)), ...Array.from({ length: bLoads }, (_, l) => loadB(l, kb))];
  for (let l = 0; l < aLoads; l++) B.push(`    var ra${l} = vec4<f32>(0.0);`);
  for (let l = 0; l < bLoads; l++) B.push(`    var rb${l} = vec4<f32>(0.0);`);
  const stores = (oa: string, ob: string) => [
    ...Array.from({ length: aLoads }, (_, l) => storeA(l, oa)).flat(),
    ...Array.from({ length: bLoads }, (_, l) => storeB(l, ob)).flat(),
  ];
  const next = `k0 + ${u(bk)} < K`;
  if (v.cfg.db) for (const line of loads('0u')) B.push(`    ${line}`);
  if (v.cfg.db === 2) {
    // the first tile into buffer 0; then each step: loads of the next tile, the product from
    // buffer `cur`, the next tile stored into the other buffer, one barrier
    for (const line of stores('', '')) B.push(`    ${line}`);
    B.push('    workgroupBarrier();');
    B.push('    var cur = 0u;');
  }
  B.push(`    for (var k0 = 0u; k0 < K; k0 += ${u(bk)}) {`);
  if (!v.cfg.db) for (const line of loads('k0')) B.push(`      ${line}`);
  if (v.cfg.db !== 2) {
    for (const line of stores('', '')) B.push(`      ${line}`);
    B.push('      workgroupBarrier();');
  }
  if (v.cfg.db) {
    B.push(`      if (${next}) {`);
    for (const line of loads(`k0 + ${u(bk)}`)) B.push(`        ${line}`);
    B.push('      }');
  }
  const ar = v.cfg.db === 2 ? `cur * ${u(ASZ)} + ` : '';
  const br = v.cfg.db === 2 ? `cur * ${u(BSZ)} + ` : '';
  // --- the product over this K step, fully unrolled
  B.push(`      for (var k = 0u; k < ${u(bk)}; k++) {`);
  for (let cc = 0; cc < CM; cc++) B.push(`        let a${cc} = As[${ar}k * ${u(SA / 4)} + ${u(cc * WM)} + ty];`);
  for (let d = 0; d < CN; d++) B.push(`        let b${d} = Bs[${br}k * ${u(SB / 4)} + ${u(d * WN)} + tx];`);
  for (let cc = 0; cc < CM; cc++) {
    for (let i = 0; i < 4; i++) {
      for (let d = 0; d < CN; d++) B.push(`        acc${cc * 4 + i}_${d} = fma(vec4<f32>(a${cc}[${i}]), b${d}, acc${cc * 4 + i}_${d});`);
    }
  }
  B.push('      }');
  if (v.cfg.db === 2) {
    B.push(`      if (${next}) {`);
    for (const line of stores(`(1u - cur) * ${u(ASZ)} + `, `(1u - cur) * ${u(BSZ)} + `)) B.push(`        ${line}`);
    B.push('      }');
    B.push('      workgroupBarrier();');
    B.push('      cur = 1u - cur;');
  } else {
    B.push('      workgroupBarrier();');
  }
  B.push('    }');
  // --- write C: thread rows cc*4*WM + ty*4 + i, columns d*4*WN + tx*4 + 0..3
  for (let cc = 0; cc < CM; cc++) {
    for (let i = 0; i < 4; i++) {
      const r = `row0 + ${u(cc * 4 * WM + i)} + ty * 4u`;
      B.push(`    { let gm = ${r};`);
      if (!v.fitM) B.push('      if (gm < M) {');
      for (let d = 0; d < CN; d++) {
        const acc = `acc${cc * 4 + i}_${d}`;
        B.push(`      { let gn = col0 + ${u(d * 4 * WN)} + tx * 4u; let o = cOff + gm * N + gn;`);
        if (v.vecC) {
          B.push(v.fitN ? `        c[o / 4u] = ${acc};` : `        if (gn < N) { c[o / 4u] = ${acc}; }`);
        } else {
          for (let j = 0; j < 4; j++) B.push(v.fitN ? `        c[o + ${u(j)}] = ${acc}[${j}];` : `        if (gn + ${u(j)} < N) { c[o + ${u(j)}] = ${acc}[${j}]; }`);
        }
        B.push('      }');
      }
      if (!v.fitM) B.push('      }');
      B.push('    }');
    }
  }
  B.push('  }');
  B.push('}');
  return `${L.join('\n')}\n${B.join('\n')}`;
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

/** The tile config for an M × N output in `batch` matrices: the biggest that still gives a GPU enough workgroups. */
export function chooseTile(M: number, N: number, batch: number): TileConfig {
  const tiles = (c: TileConfig) => Math.ceil(M / c.bm) * Math.ceil(N / c.bn) * batch;
  if (M >= 128 && N >= 128 && tiles(TILE_CONFIGS.large) >= 128) return TILE_CONFIGS.large;
  if (M >= 64 && N >= 64 && tiles(TILE_CONFIGS.medium) >= 64) return TILE_CONFIGS.medium;
  return TILE_CONFIGS.small;
}

const MAX_GRID = 65535;

/** products of at least this many flops are worth timing every tile for, once per shape class */
const TUNE_MIN_FLOPS = 2 ** 26;

/**
 * The shape class a tuned tile is kept for: M, N, K and the batch to the nearest power of two,
 * and the transpositions.
 */
export function shapeClass(M: number, N: number, K: number, batch: number, tA: boolean, tB: boolean): number {
  const lg = (x: number) => Math.min(31, Math.round(Math.log2(x)));
  return lg(M) | (lg(N) << 5) | (lg(K) << 10) | (lg(batch) << 15) | (+tA << 20) | (+tB << 21);
}

/** Metadata of a product of dense [batch, M, K] and [batch, K, N] operands (the tuner's zeroed ones). */
function denseMeta(M: number, N: number, K: number, batch: number, tA: boolean, tB: boolean): number[] {
  const head = [M, N, K, batch, tA ? 1 : K, tA ? M : 1, tB ? 1 : N, tB ? K : 1];
  return batch === 1 ? [...head, 0] : [...head, 1, batch, M * K, K * N];
}

/** Whether a device's limits allow a tile configuration's threads and workgroup memory. */
export function fitsDevice(c: TileConfig, limits: GPUSupportedLimits): boolean {
  const need = tileNeeds(c);
  return need.threads <= limits.maxComputeInvocationsPerWorkgroup && need.workgroupBytes <= limits.maxComputeWorkgroupStorageSize;
}

/** The tiled kernel's WGSL and grid for a tile and shape; null where the grid would be too large. */
function tiledPlan(cfg: TileConfig, s: { M: number; N: number; K: number; tA: boolean; tB: boolean; bRank: number; batch: number }): { code: string; groups: [number, number, number] } | null {
  const gx = Math.ceil(s.N / cfg.bn);
  const gy = Math.ceil(s.M / cfg.bm);
  if (gx > MAX_GRID || gy > MAX_GRID) return null;
  const v: TiledVariant = {
    cfg,
    transA: s.tA,
    transB: s.tB,
    vecA: (s.tA ? s.M : s.K) % 4 === 0,
    vecB: (s.tB ? s.K : s.N) % 4 === 0,
    vecC: s.N % 4 === 0,
    fitM: s.M % cfg.bm === 0,
    fitN: s.N % cfg.bn === 0,
    fitK: s.K % cfg.bk === 0,
    bRank: s.bRank,
  };
  // the specialisation as bits (a string key built every call showed in the host cost of a step)
  const key = (tileId(cfg) << 16) | (s.bRank << 8) | (+s.tA << 7) | (+s.tB << 6) | (+v.vecA << 5) | (+v.vecB << 4) | (+v.vecC << 3) | (+v.fitM << 2) | (+v.fitN << 1) | +v.fitK;
  let code = tiledCodes.get(key);
  if (code === undefined) tiledCodes.set(key, (code = tiledShader(v)));
  return { code, groups: [gx, gy, Math.min(s.batch, MAX_GRID)] };
}

/** WGSL of the tiled kernel by its specialisation bits (a few dozen at most: kept for the process) */
const tiledCodes = new Map<number, string>();
/** small ids of tile configuration objects, for those bits */
const tileId = identityIds();

export const matmulKernel: GpuKernel<{ transA?: boolean; transB?: boolean }> = (ctx, [a, b], p, outs) => {
  const spec = outs[0]!;
  const out = ctx.output(spec);
  const os = spec.shape;
  const r = os.length;
  const M = os[r - 2]!;
  const N = os[r - 1]!;
  const ash = a!.shape;
  const tA = !!p.transA;
  const tB = !!p.transB;
  const K = tA ? ash[ash.length - 2]! : ash[ash.length - 1]!;
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
  const sai = tA ? 1 : K;
  const sap = tA ? M : 1;
  const sbp = tB ? 1 : N;
  const sbj = tB ? K : 1;
  const meta = [M, N, K, batch, sai, sap, sbp, sbj, bRank, ...keep.map((x) => x.d), ...keep.map((x) => aS[x.i]!), ...keep.map((x) => bS[x.i]!)];
  const bufs = [a!.buffer, b!.buffer, out.buffer];
  // small outputs (M or N below 16), or a grid too large for the tile: dot products
  if (M < 16 || N < 16) return dotProducts(ctx, bufs, meta, bRank, tA, tB, out);
  const cls = shapeClass(M, N, K, batch, tA, tB);
  const auto = chooseTile(M, N, batch);
  const cfg = tileOverride ?? ctx.tiles?.tile(cls) ?? auto;
  if (tileOverride && !fitsDevice(cfg, ctx.limits)) {
    const need = tileNeeds(cfg);
    throw new ConfigError(`matmul tile ${JSON.stringify(cfg)} needs ${need.threads} threads and ${need.workgroupBytes} bytes of workgroup memory; this device allows ${ctx.limits.maxComputeInvocationsPerWorkgroup} and ${ctx.limits.maxComputeWorkgroupStorageSize}.`);
  }
  const shape = { M, N, K, tA, tB, bRank, batch };
  const plan = tiledPlan(cfg, shape);
  if (!plan) return dotProducts(ctx, bufs, meta, bRank, tA, tB, out);
  ctx.dispatch(plan.code, bufs, ['r', 'r', 'w'], meta, plan.groups);
  // the first large product of a shape class: the tuner times every tile in the background (tile-tuner.ts)
  if (!tileOverride && ctx.tiles?.tune && ctx.tiles.wants?.(cls) && 2 * M * N * K * batch >= TUNE_MIN_FLOPS) {
    // timed on dense operands: one batch dim at most
    const dense = { ...shape, bRank: batch === 1 ? 0 : 1 };
    const runs = [auto, ...TILE_CANDIDATES.filter((c) => c !== auto && fitsDevice(c, ctx.limits))].flatMap((tile) => {
      const p = tiledPlan(tile, dense);
      return p ? [{ tile, code: p.code, groups: p.groups }] : [];
    });
    ctx.tiles.tune(cls, { runs, meta: denseMeta(M, N, K, batch, tA, tB), bytes: [4 * batch * M * K, 4 * batch * K * N, 4 * batch * M * N] });
  }
  return [out];
};
