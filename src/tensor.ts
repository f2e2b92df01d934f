import type { Backend } from './backends/backend.js';
import { bytesPerElement, type DType, type TypedArray } from './dtype.js';
import { ConfigError } from './errors.js';
import { sizeOf, type Shape } from './shape.js';
import { onCreate, onDispose } from './memory.js';
import type { TensorMethods } from './autodiff/ops/methods.js';

/** A number or nested arrays of numbers: a tensor's values as `toArray()` gives them. */
export type NestedArray = number | NestedArray[];

/**
 * A Tensor is an immutable n-d array on one backend. Tracers (values seen inside grad, jvp, vmap)
 * are subclasses: they have a shape and dtype but their storage belongs to the primal they wrap.
 */
export class Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly size: number;
  /** @internal backend buffer; null for tracers */
  _handle: unknown;
  /** @internal */
  _backend: Backend | null;
  /** @internal the outermost active tape that recorded this tensor (tidy must not free it) */
  _heldBy: { readonly active: boolean; readonly level: number } | null = null;
  /** @internal */
  _disposed = false;

  constructor(shape: readonly number[], dtype: DType, handle: unknown, backend: Backend | null) {
    this.shape = shape;
    this.dtype = dtype;
    this.size = sizeOf(shape);
    this._handle = handle;
    this._backend = backend;
    if (backend) onCreate(this);
  }

  get ndim(): number {
    return this.shape.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Name of the backend that holds the data. */
  get backend(): string {
    return this.concrete()._backend!.name;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** @internal the concrete tensor holding this value's data (tracers unwrap to their primal). */
  concrete(): Tensor {
    if (this._disposed) {
      throw new ConfigError(
        `this tensor (shape [${this.shape.join(', ')}], ${this.dtype}) was disposed (by dispose() or by the end of a tidy scope). ` +
          'Return it from the tidy callback or wrap it in bt.keep() to use it later.',
      );
    }
    return this;
  }

  /** Reads the values to the host (waits for the device). */
  async data(): Promise<TypedArray> {
    const c = this.concrete();
    return c._backend!.read(c._handle, c.dtype, c.size);
  }

  /** Reads the values synchronously; only on backends that can block (CPU). */
  dataSync(): TypedArray {
    const c = this.concrete();
    const b = c._backend!;
    if (!b.readSync) {
      throw new ConfigError(`dataSync(): backend '${b.name}' cannot read synchronously. Use \`await t.data()\` instead.`);
    }
    return b.readSync(c._handle, c.dtype, c.size);
  }

  /** The values as nested arrays; works on every backend. */
  async array(): Promise<NestedArray> {
    return nest(await this.data(), this.shape);
  }

  /** The values as nested arrays, synchronously (CPU). */
  toArray(): NestedArray {
    return nest(this.dataSync(), this.shape);
  }

  /** A scalar's value, synchronously (CPU). */
  item(): number {
    if (this.size !== 1) throw new ConfigError(`item(): expected a tensor with one element, got shape [${this.shape.join(', ')}].`);
    return this.dataSync()[0]!;
  }

  /** Frees the storage now. Safe to call twice; tracers own no storage. */
  dispose(): void {
    if (this._disposed || !this._backend) return;
    this._disposed = true;
    this._backend.release(this._handle);
    onDispose(this);
  }

  /** @internal bytes of this tensor's storage */
  get _nbytes(): number {
    return this.size * bytesPerElement(this.dtype);
  }

  /** A short description: the values (where the backend reads synchronously), shape and dtype. */
  toString(): string {
    if (!this._backend) return `Tensor(traced, shape=[${this.shape.join(', ')}], dtype=${this.dtype})`;
    if (this._disposed) return `Tensor(disposed, shape=[${this.shape.join(', ')}], dtype=${this.dtype})`;
    const b = this._backend;
    const body = b.readSync ? JSON.stringify(nest(b.readSync(this._handle, this.dtype, this.size), this.shape)) : '<on device>';
    return `Tensor(${body}, shape=[${this.shape.join(', ')}], dtype=${this.dtype})`;
  }
}

// Method sugar (x.add(y), x.sum({ axis })) is installed by autodiff/ops/methods.ts.
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface Tensor extends TensorMethods {}

function nest(data: TypedArray, shape: Shape): NestedArray {
  if (shape.length === 0) return data[0]!;
  let i = 0;
  const build = (axis: number): NestedArray[] => {
    const out: NestedArray[] = [];
    for (let j = 0; j < shape[axis]!; j++) out.push(axis === shape.length - 1 ? data[i++]! : build(axis + 1));
    return out;
  };
  return build(0);
}
