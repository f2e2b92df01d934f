import type { DType, TypedArray } from '../dtype.js';
import { BackendError } from '../errors.js';
import type { Shape } from '../shape.js';

/** A kernel's view of one input tensor: its shape, dtype and the backend's buffer handle. */
export interface TensorInfo {
  readonly shape: Shape;
  readonly dtype: DType;
  readonly handle: unknown;
}

/** The shape and dtype of one output a kernel must produce (the backend allocates it). */
export interface OutSpec {
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/**
 * A backend owns buffers and runs kernels. The interface is shaped for an asynchronous device:
 * `run` only *enqueues* work and returns handles at once; values reach the host through `read`
 * (a Promise). The CPU backend happens to finish synchronously and also offers `readSync`.
 */
export interface Backend {
  readonly name: string;
  /** The float dtype of tensors created without one (bt.tensor, zeros, random.normal...); 'float64' when absent. */
  readonly defaultFloat?: DType;
  /** Copies host values into a new buffer. */
  upload(values: TypedArray, dtype: DType): unknown;
  /** A new reference to the same buffer (views such as reshape share storage). */
  share(handle: unknown): unknown;
  /** Drops one reference; the buffer is freed (or pooled) when none are left. */
  release(handle: unknown): void;
  /** Copies `size` elements of the buffer to the host as a typed array of `dtype`, once enqueued work has finished. */
  read(handle: unknown, dtype: DType, size: number): Promise<TypedArray>;
  /** Synchronous read; absent on backends that cannot block (WebGPU). */
  readSync?(handle: unknown, dtype: DType, size: number): TypedArray;
  /** Whether primitive `op` has a kernel here (built in, or added by registerKernel). */
  hasKernel(op: string): boolean;
  /** Enqueue the kernel of primitive `op`; returns one handle per output. */
  run(op: string, inputs: readonly TensorInfo[], params: unknown, outs: readonly OutSpec[]): unknown[];
  /** Add a kernel for a user primitive (see definePrimitive). */
  registerKernel(op: string, kernel: unknown): void;
  /** Bytes held by live buffers (and by a pool, if the backend keeps one). */
  memory(): { numBytes: number; numBuffers: number };
  /** Wait until every enqueued op has finished. */
  sync?(): Promise<void>;
  /**
   * The outermost tidy scope ended: what it returned outlives it (a training step's new state).
   * A backend that defers work (WebGPU's fused elementwise results) computes it now rather than
   * letting the next step's expressions grow on top of it.
   */
  scopeEnded?(): void;
  /** Frees every buffer and the device; the backend is unusable afterwards. */
  dispose?(): void;
}

/** Makes a backend the first time it is needed; an async one (a GPU device is requested asynchronously) needs `await ready(name)` before use. */
export type BackendFactory = () => Backend | Promise<Backend>;

const factories = new Map<string, BackendFactory>();
const instances = new Map<string, Backend>();
let current = 'cpu';

/** Registers a backend (or a factory making it on first use) under `name`, replacing any of that name. */
export function registerBackend(name: string, backend: Backend | BackendFactory): void {
  if (typeof name !== 'string' || name.length === 0) throw new BackendError('registerBackend: the name must be a non-empty string.');
  instances.delete(name);
  if (typeof backend === 'function') factories.set(name, backend);
  else {
    factories.set(name, () => backend);
    instances.set(name, backend);
  }
}

function known(): string {
  return [...factories.keys()].join(', ') || '(none)';
}

/** Initialise a backend (creating a GPU device, say). Needed before setBackend for async backends. */
export async function ready(name: string = current): Promise<Backend> {
  const existing = instances.get(name);
  if (existing) return existing;
  const factory = factories.get(name);
  if (!factory) throw new BackendError(`ready('${name}'): no backend of that name is registered (registered: ${known()}).`);
  let p = pending.get(name);
  if (!p) {
    p = Promise.resolve(factory());
    pending.set(name, p);
  }
  try {
    const b = await p;
    instances.set(name, b);
    return b;
  } finally {
    pending.delete(name);
  }
}

/** Initialisations in flight, so a synchronous lookup never starts a second one. */
const pending = new Map<string, Promise<Backend>>();

export function backendByName(name: string): Backend {
  const b = instances.get(name);
  if (b) return b;
  const factory = factories.get(name);
  if (!factory) throw new BackendError(`backend '${name}' is not registered (registered: ${known()}).`);
  if (pending.has(name)) {
    throw new BackendError(`backend '${name}' is still initialising: \`await bt.ready('${name}')\` first.`);
  }
  const made = factory();
  if (made instanceof Promise) {
    // keep the started initialisation for ready(); a failure surfaces there, not as an unhandled rejection
    pending.set(name, made);
    made.catch(() => pending.delete(name));
    throw new BackendError(`backend '${name}' initialises asynchronously: call \`await bt.ready('${name}')\` first.`);
  }
  instances.set(name, made);
  return made;
}

/** Makes `name` the current backend (where new tensors are created); an async backend needs `await ready(name)` first. */
export function setBackend(name: string): void {
  backendByName(name);
  current = name;
}

/** The name of the current backend ('cpu' until setBackend, or withBackend inside its callback, changes it). */
export function getBackend(): string {
  return current;
}

export function currentBackend(): Backend {
  return backendByName(current);
}

/** Run fn with `name` as the current backend, restoring the previous one afterwards (also on throw). */
export function withBackend<T>(name: string, fn: () => T): T {
  const prev = current;
  setBackend(name);
  try {
    return fn();
  } finally {
    current = prev;
  }
}

export function liveBackends(): Backend[] {
  return [...instances.values()];
}
