import { DTypeError } from './errors.js';

/** A tensor's element type: float64 (the CPU default), float32 (the WebGPU default) or int32. */
export type DType = 'float64' | 'float32' | 'int32';
/** The floating-point dtypes. */
export type FloatDType = 'float64' | 'float32';
/** The typed arrays that hold a tensor's values on the host, one per dtype. */
export type TypedArray = Float64Array | Float32Array | Int32Array;

export const DTYPES: readonly DType[] = ['float64', 'float32', 'int32'];

export function isDType(x: unknown): x is DType {
  return x === 'float64' || x === 'float32' || x === 'int32';
}

export function isFloat(dtype: DType): dtype is FloatDType {
  return dtype !== 'int32';
}

export function bytesPerElement(dtype: DType): number {
  return dtype === 'float64' ? 8 : 4;
}

export function allocArray(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'float64': return new Float64Array(size);
    case 'float32': return new Float32Array(size);
    case 'int32': return new Int32Array(size);
  }
}

/** The first `length` elements of `a`'s buffer as a view of the same type (no copy). */
export function prefixView(a: TypedArray, length: number): TypedArray {
  const C = a.constructor as new (b: ArrayBufferLike, offset: number, length: number) => TypedArray;
  return new C(a.buffer, 0, length);
}

export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Float32Array) return 'float32';
  return 'int32';
}

/** Ops never cast silently: mixing float64 and float32 is almost always a bug in numerics code. */
export function assertSameDType(op: string, dtypes: readonly DType[]): DType {
  const first = dtypes[0]!;
  for (const d of dtypes) {
    if (d !== first) {
      throw new DTypeError(
        `${op}: mixed dtypes [${dtypes.join(', ')}]; bayestape never casts implicitly. ` +
          `Convert one operand with x.astype('${first}') (or the other way).`,
      );
    }
  }
  return first;
}

export function assertFloat(op: string, dtype: DType): void {
  if (!isFloat(dtype)) {
    throw new DTypeError(`${op}: expected a float tensor (float64 or float32), got ${dtype}. Cast it with x.astype('float64').`);
  }
}
