/// <reference types="@webgpu/types" />
import type { DType } from '../../../dtype.js';
import type { OutSpec } from '../../backend.js';
import type { TileChoice } from '../tile-tuner.js';

/**
 * What a WebGPU kernel sees: inputs as buffers with shapes, and a context that allocates outputs
 * and scratch, and enqueues dispatches/copies into the backend's current command encoder.
 */
export interface GpuHandle {
  /** null: the shared 4-byte buffer of a zero-size tensor */
  readonly buffer: GPUBuffer;
  readonly bytes: number;
}

export interface GpuInput {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly buffer: GPUBuffer;
  readonly size: number;
}

export type BindKind = 'r' | 'w';

const readsThenWriteCache: BindKind[][] = [];
/** ['r' × n, 'w'] (shared, never mutated: a dispatch of an elementwise kernel builds no array for it) */
export function readsThenWrite(n: number): BindKind[] {
  let k = readsThenWriteCache[n];
  if (!k) readsThenWriteCache[n] = k = [...Array.from({ length: n }, () => 'r' as const), 'w'];
  return k;
}

export interface KernelContext {
  readonly device: GPUDevice;
  readonly limits: GPUSupportedLimits;
  /** A fresh output buffer for `spec` (a shared dummy for zero-size outputs). */
  output(spec: OutSpec): GpuHandle;
  /** Scratch storage of `bytes`; give it back with `free` once its uses are enqueued. */
  scratch(bytes: number): GpuHandle;
  free(h: GpuHandle): void;
  /**
   * Enqueue a compute dispatch of `code` (entry point `main`). Buffers bind at 0..k-1 with the
   * given kinds ('r' read-only storage, 'w' read-write storage); `meta` (u32 words, e.g. shapes)
   * binds at k as `array<u32>` (read-only storage).
   */
  dispatch(code: string, buffers: GPUBuffer[], kinds: BindKind[], meta: ArrayLike<number> | null, groups: readonly [number, number?, number?]): void;
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void;
  clear(buf: GPUBuffer, bytes: number): void;
  /** The matmul's tuned tiles (tile-tuner.ts), where the context has them. */
  readonly tiles?: TileChoice;
  /** Whether long sums with few outputs split across workgroups (split-sums.ts). */
  readonly splitSums?: boolean;
  /** Whether workgroup sums may use subgroup operations (`workgroupSum`): the device and WGSL have them. */
  readonly subgroups?: boolean;
  /**
   * A zeroed status word (bind it as `array<atomic<u32>>`) for a check that a GPU kernel cannot
   * throw: the kernel stores a nonzero code when its input is invalid (a Cholesky pivot ≤ 0, a
   * singular matrix, an index out of range). The word is read back with the next submit, and the
   * backend throws `error(code)` at the next read or sync — a NumericalError, or a ShapeError for
   * kind 'shape' (as the CPU would have thrown at the call). Call it right before the one
   * dispatch that writes it.
   */
  status(error: (code: number) => string, kind?: 'numerical' | 'shape'): GPUBuffer;
}

export type GpuKernel<P = any> = (ctx: KernelContext, inputs: GpuInput[], params: P, outs: readonly OutSpec[]) => GpuHandle[];

export const WG = 64;
const MAX_DIM = 65535;

/** A 2-D grid for `n` workgroups (each dimension is limited to 65535). */
export function grid(nWorkgroups: number): [number, number] {
  if (nWorkgroups <= MAX_DIM) return [Math.max(1, nWorkgroups), 1];
  const y = Math.ceil(nWorkgroups / MAX_DIM);
  return [Math.ceil(nWorkgroups / y), y];
}

/** Grid for one thread per element with workgroups of `wg`. */
export function threadGrid(n: number, wg = WG): [number, number] {
  return grid(Math.ceil(n / wg));
}

/** WGSL type of a dtype's storage. */
export function wgslType(dtype: DType): 'f32' | 'i32' {
  return dtype === 'int32' ? 'i32' : 'f32';
}

/** WGSL declarations of bindings; `meta` binds after the buffers. */
export function bindings(decls: { name: string; type: string; write?: boolean; atomic?: boolean }[], meta = true): string {
  const lines = decls.map(
    (d, i) => `@group(0) @binding(${i}) var<storage, ${d.write ? 'read_write' : 'read'}> ${d.name}: array<${d.atomic ? `atomic<${d.type}>` : d.type}>;`,
  );
  if (meta) lines.push(`@group(0) @binding(${decls.length}) var<storage, read> mt: array<u32>;`);
  return lines.join('\n');
}

/** The linear invocation index of a 1-D-over-2-D-grid kernel. */
export const LINEAR_INDEX = (wg = WG) => `let gi = gid.x + gid.y * nwg.x * ${wg}u;`;
export const MAIN_SIG = (wg = WG, extra = '') =>
  `@compute @workgroup_size(${wg}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>${extra ? `, ${extra}` : ''})`;

/** The builtins `workgroupSum` reads with subgroups (MAIN_SIG's `extra`); the shader starts with `enable subgroups;`. */
export const SUBGROUP_BUILTINS = '@builtin(subgroup_id) sgId: u32, @builtin(num_subgroups) sgCount: u32';

/**
 * WGSL summing every thread's `acc` (of type t) over a workgroup of `wg` threads (index lid.x) into
 * `let total` (valid in thread 0): with subgroups, subgroupAdd within each subgroup, one elected
 * invocation of each stores its subgroup's sum in workgroup memory at subgroup_id, and after one
 * barrier every thread adds those in subgroup_id order — nothing assumed about which threads form
 * a subgroup, how wide it is, or whether it is full; without subgroups, a tree in workgroup memory
 * (log2(wg) barriers). The order is fixed for a compiled pipeline (a driver chooses the subgroup
 * size when it compiles one). `decl` goes at module scope; `code` in the workgroup's uniform
 * control flow, under MAIN_SIG(wg, SUBGROUP_BUILTINS) with subgroups.
 */
export function workgroupSum(t: 'f32' | 'i32', wg: number, subgroups: boolean): { decl: string; code: string } {
  const zero = t === 'f32' ? '0.0' : '0';
  if (subgroups) {
    // WebGPU's subgroups have at least 4 invocations: at most wg / 4 of them
    return {
      decl: `var<workgroup> sgSums_: array<${t}, ${Math.max(1, wg / 4)}>;`,
      code: `let sgSum_ = subgroupAdd(acc);
  if (subgroupElect()) { sgSums_[sgId] = sgSum_; }
  workgroupBarrier();
  var total: ${t} = ${zero};
  for (var q_ = 0u; q_ < sgCount; q_++) { total = total + sgSums_[q_]; }`,
    };
  }
  return {
    decl: `var<workgroup> tree_: array<${t}, ${wg}>;`,
    code: `tree_[lid.x] = acc;
  workgroupBarrier();
  for (var s_ = ${wg / 2}u; s_ > 0u; s_ >>= 1u) {
    if (lid.x < s_) { tree_[lid.x] = tree_[lid.x] + tree_[lid.x + s_]; }
    workgroupBarrier();
  }
  let total = tree_[0];`,
  };
}

/** A shader's source with the directive its subgroup operations need, where it uses them. */
export const enableSubgroups = (code: string, subgroups: boolean): string => (subgroups ? `enable subgroups;\n${code}` : code);

/**
 * Float helpers shared by the WGSL kernels (only the ones an expression mentions are emitted).
 * inf/NaN come from a `var` so they are not constant-evaluated (a constant inf is a WGSL error).
 */
export const F32_HELPERS: Record<string, string> = {
  isnan_f: `fn isnan_f(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }`,
  isfinite_f: `fn isfinite_f(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }`,
  nan_f: `fn nan_f() -> f32 { var b = 0x7fc00000u; return bitcast<f32>(b); }`,
  inf_f: `fn inf_f() -> f32 { var b = 0x7f800000u; return bitcast<f32>(b); }`,
};

/** Prepends the helper functions that `code` uses (transitively through `extra`). */
export function withHelpers(code: string, extra: Record<string, string> = {}): string {
  const all = { ...F32_HELPERS, ...extra };
  const used = new Set<string>();
  const visit = (src: string) => {
    for (const name of Object.keys(all)) {
      if (!used.has(name) && new RegExp(`\\b${name}\\(`).test(src)) {
        used.add(name);
        visit(all[name]!);
      }
    }
  };
  visit(code);
  // emit in table order (helpers only call earlier ones or use WGSL's order-independent decls)
  return [...Object.keys(all).filter((n) => used.has(n)).map((n) => all[n]!), code].join('\n');
}

const codeCache = new Map<string, string>();
/** shader sources kept (first in, first out beyond this: fused kernels can come in many shapes) */
const CODE_CACHE = 4096;
/**
 * Shader source memoised by a short key: generating WGSL (and hashing a fresh string in the
 * pipeline cache) on every dispatch would dominate the host cost of small ops.
 */
export function memoCode(key: string, make: () => string): string {
  let c = codeCache.get(key);
  if (c === undefined) {
    c = make();
    if (codeCache.size >= CODE_CACHE) codeCache.delete(codeCache.keys().next().value!);
    codeCache.set(key, c);
  }
  return c;
}

/** WGSL that turns linear index `idx` over `rank` dims (shape at mt[shapeAt]) into offsets. */
export function stridedOffsets(rank: number, idx: string, shapeAt: string, strideAts: { name: string; at: string }[]): string {
  const lines = [`var rem_ = ${idx};`, ...strideAts.map((s) => `var ${s.name} = 0u;`)];
  for (let d = rank - 1; d >= 0; d--) {
    lines.push(`{ let s_ = mt[${shapeAt} + ${d}u]; let c_ = rem_ % s_; rem_ = rem_ / s_;`);
    for (const s of strideAts) lines.push(`  ${s.name} += c_ * mt[${s.at} + ${d}u];`);
    lines.push('}');
  }
  return lines.join('\n');
}
