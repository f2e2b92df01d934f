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
