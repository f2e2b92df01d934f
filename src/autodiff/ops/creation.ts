import { Tensor, type NestedArray } from '../../tensor.js';
import { allocArray, isDType, type DType, type TypedArray } from '../../dtype.js';
import { ConfigError, DTypeError, ShapeError } from '../../errors.js';
import { assertShape, fmtShape, sizeOf } from '../../shape.js';
import { backendOfTensor, fromHost } from '../core.js';
import { currentBackend } from '../../backends/backend.js';
import { checkKnown } from '../../validate.js';

/** Options of `tensor`: the dtype (default: the backend's float, or int32 for an Int32Array) and a shape for flat data. */
export interface TensorOptions {
  dtype?: DType;
  shape?: readonly number[];
}

const OPTION_KEYS = ['dtype', 'shape'];

/** The current backend's float dtype for tensors created without one (float64 on CPU, float32 on WebGPU). */
export function defaultFloat(): DType {
  return currentBackend().defaultFloat ?? 'float64';
}

function checkOptions(op: string, opts: object | undefined): void {
  if (!opts) return;
  checkKnown(op, opts, OPTION_KEYS);
  const d = (opts as TensorOptions).dtype;
  if (d !== undefined && !isDType(d)) throw new DTypeError(`${op}: unknown dtype '${String(d)}' (use 'float64', 'float32' or 'int32').`);
}

function inferShape(values: NestedArray): number[] {
  const shape: number[] = [];
  let v: NestedArray = values;
  while (Array.isArray(v)) {
    shape.push(v.length);
    if (v.length === 0) break;
    v = v[0]!;
  }
  return shape;
}

function flattenNested(values: NestedArray, shape: number[], out: number[], depth = 0): void {
  if (depth === shape.length) {
    if (typeof values !== 'number' && typeof values !== 'boolean') {
      throw new ShapeError(`tensor: ragged or non-numeric nested array (found ${Array.isArray(values) ? 'an array' : typeof values} where a number belongs at depth ${depth}); every row must have the same length.`);
    }
    out.push(Number(values));
    return;
  }
  if (!Array.isArray(values) || values.length !== shape[depth]) {
    throw new ShapeError(`tensor: ragged nested array: expected ${shape[depth]} entries at depth ${depth}, got ${Array.isArray(values) ? values.length : 'a number'}.`);
  }
  for (const v of values) flattenNested(v, shape, out, depth + 1);
}

/**
 * bt.tensor(values, { dtype, shape }) from a number, nested arrays or a typed array.
 * Float64 is the default (evidences and ELBOs are small differences of large numbers); a typed
 * array keeps its own dtype unless one is given.
 */
export function tensor(values: NestedArray | TypedArray | readonly number[], opts?: TensorOptions): Tensor {
  checkOptions('tensor', opts);
  let flat: ArrayLike<number>;
  let shape: number[];
  let dtype: DType = opts?.dtype ?? defaultFloat();
  if (ArrayBuffer.isView(values)) {
    const ta = values as TypedArray;
    if (!(ta instanceof Float64Array || ta instanceof Float32Array || ta instanceof Int32Array)) {
      throw new DTypeError(`tensor: unsupported typed array ${(ta as object).constructor.name}; use Float64Array, Float32Array or Int32Array.`);
    }
    flat = ta;
    shape = [ta.length];
    if (!opts?.dtype) dtype = ta instanceof Float64Array ? 'float64' : ta instanceof Float32Array ? 'float32' : 'int32';
  } else if (typeof values === 'number') {
    flat = [values];
    shape = [];
  } else if (Array.isArray(values)) {
    shape = inferShape(values as NestedArray);
    const out: number[] = [];
    flattenNested(values as NestedArray, shape, out);
    flat = out;
  } else {
    throw new ConfigError(`tensor: expected a number, a nested array or a typed array, got ${values === null ? 'null' : typeof values}.`);
  }
  if (opts?.shape) {
    const s = assertShape('tensor', [...opts.shape]);
    if (sizeOf(s) !== flat.length) {
      throw new ShapeError(`tensor: ${flat.length} values do not fill shape ${fmtShape(s)} (${sizeOf(s)} elements).`);
    }
    shape = s;
  }
  const data = allocArray(dtype, flat.length);
  data.set(flat);
  return fromHost(data, shape);
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: readonly number[], value: number, dtype: DType = defaultFloat()): Tensor {
  const s = assertShape('full', [...shape]);
  if (!isDType(dtype)) throw new DTypeError(`full: unknown dtype '${String(dtype)}'.`);
  const data = allocArray(dtype, sizeOf(s));
  if (value !== 0) data.fill(value);
  return fromHost(data, s);
}

/** A tensor of zeros (dtype: the backend's default float). */
export const zeros = (shape: readonly number[], dtype: DType = defaultFloat()): Tensor => full(shape, 0, dtype);
/** A tensor of ones (dtype: the backend's default float). */
export const ones = (shape: readonly number[], dtype: DType = defaultFloat()): Tensor => full(shape, 1, dtype);
/** Zeros with the shape and dtype of `x`. */
export const zerosLike = (x: Tensor): Tensor => full(x.shape, 0, x.dtype);
/** Ones with the shape and dtype of `x`. */
export const onesLike = (x: Tensor): Tensor => full(x.shape, 1, x.dtype);

/** The n × m identity matrix (m defaults to n). */
export function eye(n: number, m: number = n, dtype: DType = defaultFloat()): Tensor {
  assertShape('eye', [n, m]);
  const data = allocArray(dtype, n * m);
  for (let i = 0; i < Math.min(n, m); i++) data[i * m + i] = 1;
  return fromHost(data, [n, m]);
}

/** arange(stop) or arange(start, stop, step); int32 when every argument is an integer. */
export function arange(start: number, stop?: number, step = 1, dtype?: DType): Tensor {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0 || !Number.isFinite(step)) throw new ConfigError(`arange: step must be a non-zero finite number, got ${step}.`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const dt = dtype ?? (Number.isInteger(start) && Number.isInteger(stop) && Number.isInteger(step) ? 'int32' : defaultFloat());
  const data = allocArray(dt, n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return fromHost(data, [n]);
}

/** `num` evenly spaced values from `start` to `stop`, both included. */
export function linspace(start: number, stop: number, num: number, dtype: DType = defaultFloat()): Tensor {
  if (!Number.isInteger(num) || num < 0) throw new ConfigError(`linspace: num must be a non-negative integer, got ${num}.`);
  const data = allocArray(dtype, num);
  for (let i = 0; i < num; i++) data[i] = num === 1 ? start : start + ((stop - start) * i) / (num - 1);
  return fromHost(data, [num]);
}

/** @internal a scalar constant on the backend of `like` */
export function scalarLike(value: number, like: Tensor): Tensor {
  const data = allocArray(like.dtype, 1);
  data[0] = value;
  return fromHost(data, [], backendOfTensor(like));
}
