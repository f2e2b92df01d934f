/**
 * Moving values between backends (JAX's `device_put`). A read from a GPU is asynchronous, so the
 * move is too: `await bt.toBackend(params, 'webgpu', { dtype: 'float32' })`.
 */
import { tensor } from './autodiff/ops/creation.js';
import { flatten, unflatten, type PyTree } from './autodiff/tree.js';
import { ready, withBackend } from './backends/backend.js';
import { allocArray, type DType } from './dtype.js';
import { ConfigError } from './errors.js';
import { Tensor } from './tensor.js';

/** Options of `toBackend`. */
export interface ToBackendOptions {
  /** Cast float leaves to this float dtype on the way (e.g. 'float32' for WebGPU); int32 leaves stay int32. */
  dtype?: 'float32' | 'float64';
}

/**
 * A copy of `tree` whose Tensor leaves live on `backend` (other leaves are kept as they are). A
 * leaf already there, in the requested dtype, is returned itself, not copied. Sources are not
 * disposed: dispose them when they are no longer needed.
 */
export async function toBackend<T extends PyTree>(tree: T, backend: string, opts?: ToBackendOptions): Promise<T> {
  if (typeof backend !== 'string') throw new ConfigError(`toBackend: the backend must be a name such as 'cpu' or 'webgpu', got ${typeof backend}.`);
  if (opts !== undefined && (typeof opts !== 'object' || opts === null)) throw new ConfigError('toBackend: options must be an object { dtype }.');
  for (const k of Object.keys(opts ?? {})) {
    if (k !== 'dtype') throw new ConfigError(`toBackend: unknown option '${k}'; the only option is dtype.`);
  }
  const dtype = opts?.dtype;
  if (dtype !== undefined && dtype !== 'float32' && dtype !== 'float64') {
    throw new ConfigError(`toBackend: dtype must be 'float32' or 'float64', got ${String(dtype)}.`);
  }
  await ready(backend);
  const [leaves, def] = flatten(tree);
  leaves.forEach((l, i) => {
    if (l instanceof Tensor && l._backend === null) {
      throw new ConfigError(`toBackend: leaf ${i} is a traced value (inside grad/jvp/vmap); move data to a backend before transforming a function, not inside it.`);
    }
  });
  const moved = await Promise.all(
    leaves.map(async (l) => {
      if (!(l instanceof Tensor)) return l;
      const to: DType = dtype !== undefined && l.dtype !== 'int32' ? dtype : l.dtype;
      if (l.backend === backend && l.dtype === to) return l;
      const src = await l.data();
      const values = src.constructor === allocArray(to, 0).constructor ? src : allocArray(to, src.length);
      if (values !== src) values.set(src);
      return withBackend(backend, () => tensor(values, { shape: [...l.shape], dtype: to }));
    }),
  );
  return unflatten(def, moved) as T;
}
