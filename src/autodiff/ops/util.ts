import { Tensor } from '../../tensor.js';
import { ConfigError } from '../../errors.js';
import { backendOfTensor, fromHost } from '../core.js';
import { allocArray, type DType } from '../../dtype.js';
import type { Aval } from '../primitive.js';
import { currentBackend } from '../../backends/backend.js';

/** What the element-wise ops accept: a Tensor, or a number (a constant of the other operand's dtype). */
export type TensorLike = Tensor | number;

/**
 * A JS number becomes a scalar of the partner operand's dtype (numbers are weakly typed, as in
 * JAX); with no tensor partner it takes the backend's default float (float32 on WebGPU, which has
 * no float64), so `mul(-1, 2)` works on every backend.
 */
export function toTensor(op: string, x: TensorLike, like?: Aval): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x === 'number') {
    const backend = like instanceof Tensor ? backendOfLike(like) : currentBackend();
    const dtype: DType = like?.dtype ?? backend.defaultFloat ?? 'float64';
    const data = allocArray(dtype, 1);
    data[0] = x;
    return fromHost(data, [], backend);
  }
  throw new ConfigError(`${op}: expected a Tensor or a number, got ${describe(x)}. Create tensors with bt.tensor(values).`);
}

// a tracer's backend is that of the value it wraps (read without its value: works inside vmap)
const backendOfLike = backendOfTensor;

export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array (wrap it with bt.tensor)';
  if (typeof x === 'object') return `an object of type ${(x as object).constructor?.name ?? 'Object'}`;
  return `${typeof x} ${String(x)}`;
}

/** Converts the operands of an n-ary op; numbers take the dtype of the first tensor operand. */
export function operands(op: string, xs: TensorLike[]): Tensor[] {
  const like = xs.find((x): x is Tensor => x instanceof Tensor);
  return xs.map((x) => toTensor(op, x, like));
}
