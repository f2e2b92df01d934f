/**
 * A tiny WebAssembly binary emitter: just enough opcodes to hand-write SIMD matmul kernels from
 * TypeScript, so the project needs no build step, toolchain or checked-in binary.
 * Format reference: https://webassembly.github.io/spec/core/binary/ and the SIMD proposal opcodes.
 */

export const I32 = 0x7f;
export const V128 = 0x7b;

/** Instruction byte buffer with helpers named after the Wasm text-format instructions. */
export class Code {
  readonly bytes: number[] = [];

  private uleb(v: number): this {
    do {
      let byte = v & 0x7f;
      v >>>= 7;
      if (v !== 0) byte |= 0x80;
      this.bytes.push(byte);
    } while (v !== 0);
    return this;
  }

  private sleb(v: number): this {
    for (;;) {
      const byte = v & 0x7f;
      v >>= 7;
      const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
      this.bytes.push(done ? byte : byte | 0x80);
      if (done) return this;
    }
  }

  private simd(op: number): this { this.bytes.push(0xfd); return this.uleb(op); }
  /** memarg: alignment exponent (a hint only) then byte offset. */
  private memarg(alignLog2: number, offset: number): this { return this.uleb(alignLog2).uleb(offset); }

  get(i: number): this { this.bytes.push(0x20); return this.uleb(i); }
  set(i: number): this { this.bytes.push(0x21); return this.uleb(i); }
  tee(i: number): this { this.bytes.push(0x22); return this.uleb(i); }
  i32(v: number): this { this.bytes.push(0x41); return this.sleb(v | 0); }
  add(): this { this.bytes.push(0x6a); return this; }
  sub(): this { this.bytes.push(0x6b); return this; }
  mul(): this { this.bytes.push(0x6c); return this; }
  ne(): this { this.bytes.push(0x47); return this; }
  eq(): this { this.bytes.push(0x46); return this; }
  ltU(): this { this.bytes.push(0x49); return this; }
  eqz(): this { this.bytes.push(0x45); return this; }
  and(): this { this.bytes.push(0x71); return this; }
  shl(): this { this.bytes.push(0x74); return this; }
  shrU(): this { this.bytes.push(0x76); return this; }
  /** Structured control: blocktype 0x40 = no result. */
  loop(): this { this.bytes.push(0x03, 0x40); return this; }
  if(): this { this.bytes.push(0x04, 0x40); return this; }
  end(): this { this.bytes.push(0x0b); return this; }
  block(): this { this.bytes.push(0x02, 0x40); return this; }
  br(depth: number): this { this.bytes.push(0x0c); return this.uleb(depth); }
  brIf(depth: number): this { this.bytes.push(0x0d); return this.uleb(depth); }

  /** Scalar bit-copies: i32.load/i64.load and i32.store/i64.store (by size in bytes). */
  load(bytes: 4 | 8, offset: number): this { this.bytes.push(bytes === 4 ? 0x28 : 0x29); return this.memarg(0, offset); }
  store(bytes: 4 | 8, offset: number): this { this.bytes.push(bytes === 4 ? 0x36 : 0x37); return this.memarg(0, offset); }

  v128Load(offset: number): this { return this.simd(0x00).memarg(0, offset); }
  v128Store(offset: number): this { return this.simd(0x0b).memarg(0, offset); }
  /** v128.load32_splat / v128.load64_splat: broadcast one scalar of `bytes` size to all lanes. */
  loadSplat(bytes: 4 | 8, offset: number): this { return this.simd(bytes === 4 ? 0x09 : 0x0a).memarg(0, offset); }
  v128Zero(): this { this.simd(0x0c); for (let i = 0; i < 16; i++) this.bytes.push(0); return this; }
  /** f32x4.add / f64x2.add and f32x4.mul / f64x2.mul. */
  fadd(bytes: 4 | 8): this { return this.simd(bytes === 4 ? 0xe4 : 0xf0); }
  fmul(bytes: 4 | 8): this { return this.simd(bytes === 4 ? 0xe6 : 0xf2); }
  /** f32x4.sub / f64x2.sub and f32x4.div / f64x2.div (IEEE, correctly rounded like the JS operators). */
  fsub(bytes: 4 | 8): this { return this.simd(bytes === 4 ? 0xe5 : 0xf1); }
  fdiv(bytes: 4 | 8): this { return this.simd(bytes === 4 ? 0xe7 : 0xf3); }
  /** v128.load64_zero: 8 bytes into the low half, the high half zeroed. */
  load64Zero(offset: number): this { return this.simd(0x5d).memarg(0, offset); }
  /** v128.store64_lane: stores lane `lane` (8 bytes) of the vector. */
  store64Lane(offset: number, lane: number): this { this.simd(0x5b).memarg(0, offset); this.bytes.push(lane); return this; }
  /** f64x2.promote_low_f32x4 (exact) and f32x4.demote_f64x2_zero (round to nearest even, as a Float32Array store). */
  promoteLow(): this { return this.simd(0x5f); }
  demoteZero(): this { return this.simd(0x5e); }

  /** Scalar f64: f64.load, f64.const, f64.ne (NaN != 0 is true, -0 != 0 is false, as JS's !==). */
  f64Load(offset: number): this { this.bytes.push(0x2b); return this.memarg(0, offset); }
  f64Const(v: number): this {
    this.bytes.push(0x44);
    const b = new Uint8Array(new Float64Array([v]).buffer);
    for (const x of b) this.bytes.push(x);
    return this;
  }
  f64Ne(): this { this.bytes.push(0x62); return this; }
  /** Scalar f32: f32.load, f32.const, f32.ne (same NaN and signed-zero semantics as the f64 forms). */
  f32Load(offset: number): this { this.bytes.push(0x2a); return this.memarg(0, offset); }
  f32Const(v: number): this {
    this.bytes.push(0x43);
    for (const x of new Uint8Array(new Float32Array([v]).buffer)) this.bytes.push(x);
    return this;
  }
  f32Ne(): this { this.bytes.push(0x5c); return this; }

  // For the float32 tanh kernel (../tanh-wasm.ts).
  /** f32x4.splat / f64x2.splat / i32x4.splat: a scalar into every lane. */
  f32x4Splat(): this { return this.simd(0x13); }
  f64x2Splat(): this { return this.simd(0x14); }
  i32x4Splat(): this { return this.simd(0x11); }
  /** i32x4.extract_lane. */
  i32x4Lane(lane: number): this { this.simd(0x1b); this.bytes.push(lane); return this; }
  /** v128.load64_lane: replaces lane `lane` (8 bytes) of the vector on the stack (address, vector). */
  load64Lane(offset: number, lane: number): this { this.simd(0x57).memarg(0, offset); this.bytes.push(lane); return this; }
  /** i32x4.trunc_sat_f64x2_s_zero (toward zero, saturating, NaN → 0) and f64x2.convert_low_i32x4_s (exact). */
  truncSatF64x2(): this { return this.simd(0xfc); }
  convertLowI32x4(): this { return this.simd(0xfe); }
  i32x4MinS(): this { return this.simd(0xb6); }
  i32x4MaxS(): this { return this.simd(0xb8); }
  /** i32x4.shl by the i32 on top of the stack. */
  i32x4Shl(): this { return this.simd(0xab); }
  /** i32x4.bitmask: bit i = sign bit of lane i. */
  i32x4Bitmask(): this { return this.simd(0xa4); }
  f32x4Abs(): this { return this.simd(0xe0); }
  f32x4Eq(): this { return this.simd(0x41); }
  f32x4Lt(): this { return this.simd(0x43); }
  v128And(): this { return this.simd(0x4e); }
  /** For the float64 tanh kernel (../tanh-wasm64.ts). */
  i32x4Mul(): this { return this.simd(0xb5); }
  f64x2Abs(): this { return this.simd(0xec); }
  f64x2Lt(): this { return this.simd(0x49); }
  /** i64x2.bitmask: bit i = sign bit of lane i. */
  i64x2Bitmask(): this { return this.simd(0xc4); }
  f64x2Floor(): this { return this.simd(0x75); }
  f64x2Trunc(): this { return this.simd(0x7a); }
  f64x2Eq(): this { return this.simd(0x47); }
  f64x2Ge(): this { return this.simd(0x4c); }
  v128Or(): this { return this.simd(0x50); }
  /** v128.bitselect(a, b, mask): bits of a where mask is 1, of b elsewhere. */
  v128Bitselect(): this { return this.simd(0x52); }
  i32x4Add(): this { return this.simd(0xae); }
  i64x2ExtendLowI32x4S(): this { return this.simd(0xc7); }
  i64x2Shl(): this { return this.simd(0xcb); }
}

export interface FuncDef {
  name: string;
  params: number[];
  /** Extra locals, by type, in order after the params. */
  locals: number[];
  body: Code;
}

function uleb(v: number): number[] {
  const out: number[] = [];
  do { let b = v & 0x7f; v >>>= 7; if (v) b |= 0x80; out.push(b); } while (v);
  return out;
}
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, payload: number[]): number[] => [id, ...uleb(payload.length), ...payload];
const str = (s: string): number[] => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];

/**
 * Assembles a module importing one memory as env.mem (shared memories need a maximum) and
 * exporting the given functions (all returning nothing).
 */
export function assemble(funcs: FuncDef[], memory: { shared: boolean; maxPages: number }): Uint8Array {
  const types = funcs.map((f) => [0x60, ...vec(f.params.map((t) => [t])), 0x00]);
  const limits = memory.shared ? [0x03, ...uleb(1), ...uleb(memory.maxPages)] : [0x00, ...uleb(1)];
  const imports = vec([[...str('env'), ...str('mem'), 0x02, ...limits]]);
  const bodies = funcs.map((f) => {
    // Run-length encode the local declarations.
    const groups: number[][] = [];
    for (const t of f.locals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const body = [...vec(groups.map(([n, t]) => [...uleb(n), t])), ...f.body.bytes, 0x0b];
    return [...uleb(body.length), ...body];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, imports),
    ...section(3, vec(funcs.map((_, i) => uleb(i)))),
    ...section(7, vec(funcs.map((f, i) => [...str(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(bodies)),
  ]);
}
