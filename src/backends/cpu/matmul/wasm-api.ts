/**
 * Minimal typings for the WebAssembly JS API. The project compiles with lib ES2022 and no DOM
 * typings, so the global `WebAssembly` is not declared; rather than augmenting globals (which could
 * clash with other typings), the runtime object is picked off globalThis with just what we use.
 */
export interface WasmMemory { readonly buffer: ArrayBufferLike; grow(pages: number): number }
export type WasmModule = object;
export interface WasmInstance { readonly exports: Record<string, unknown> }

interface WasmApi {
  Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (m: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance;
}

export const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Bytes in a Wasm memory page. */
export const WASM_PAGE = 65536;

/** A Wasm memory with float64/float32 views that follow it when it grows. */
export class WasmHeap {
  f64!: Float64Array;
  f32!: Float32Array;
  constructor(readonly memory: WasmMemory) {
    this.refresh();
  }
  /** Grows the memory to at least `bytes` (a grow detaches the old views, so they are renewed). */
  ensureBytes(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return;
    this.memory.grow(Math.ceil((bytes - have) / WASM_PAGE));
    this.refresh();
  }
  private refresh(): void {
    this.f64 = new Float64Array(this.memory.buffer);
    this.f32 = new Float32Array(this.memory.buffer);
  }
}
