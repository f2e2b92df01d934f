/** Shared validation and shape helpers for bt.distributions and bt.flows (internal). */
import { Tensor } from '../tensor.js';
import { full } from '../autodiff/ops/creation.js';
import { defaultFloat } from '../autodiff/ops/creation.js';
import { broadcastTo } from '../autodiff/ops/shape.js';
import { ConfigError, DTypeError, ShapeError } from '../errors.js';
import { broadcastShapes, fmtShape } from '../shape.js';
import { describeValue } from '../validate.js';
import type { FloatDType } from '../dtype.js';

export { describeValue, fmtShape, broadcastShapes };

/** A parameter given as a Tensor or a number, as a float Tensor (numbers take `dtype`). */
export function asParam(op: string, name: string, v: unknown, dtype?: FloatDType): Tensor {
  if (typeof v === 'number') return full([], v, dtype ?? (defaultFloat() as FloatDType));
  if (!(v instanceof Tensor)) throw new ConfigError(`${op}: ${name} must be a Tensor or a number, got ${describeValue(v)}.`);
  if (v.dtype !== 'float64' && v.dtype !== 'float32') throw new DTypeError(`${op}: ${name} must be float64 or float32, got ${v.dtype}.`);
  return v;
}

/** The dtype of the first Tensor among vs (for converting numbers to match). */
export function firstDType(vs: readonly unknown[]): FloatDType | undefined {
  for (const v of vs) if (v instanceof Tensor && (v.dtype === 'float64' || v.dtype === 'float32')) return v.dtype;
  return undefined;
}

export function sameDType(op: string, named: Record<string, Tensor>): FloatDType {
  const entries = Object.entries(named);
  const dt = entries[0]![1].dtype as FloatDType;
  for (const [n, t] of entries) {
    if (t.dtype !== dt) {
      throw new DTypeError(`${op}: parameters must share one dtype, got ${entries.map(([k, v]) => `${k} ${v.dtype}`).join(', ')} (cast with .astype; ${n} differs).`);
    }
  }
  return dt;
}

export function checkSampleShape(op: string, s: unknown): number[] {
  if (s === undefined) return [];
  if (!Array.isArray(s) || s.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ConfigError(`${op}: sampleShape must be an array of non-negative integers, got ${describeValue(s)}.`);
  }
  return [...(s as number[])];
}

/** Checks x's trailing dims equal the event shape (batch dims broadcast); returns x. */
export function checkValue(op: string, x: unknown, eventShape: readonly number[], batchShape: readonly number[], dtype: FloatDType): Tensor {
  if (!(x instanceof Tensor)) throw new ConfigError(`${op}: x must be a Tensor [..., ${fmtShape([...batchShape, ...eventShape])}], got ${describeValue(x)}.`);
  if (x.dtype !== dtype) throw new DTypeError(`${op}: x has dtype ${x.dtype} but the distribution is ${dtype}; cast with .astype('${dtype}').`);
  const k = eventShape.length;
  if (x.ndim < k || x.shape.slice(x.ndim - k).some((d, i) => d !== eventShape[i])) {
    throw new ShapeError(`${op}: x must end in the event shape ${fmtShape(eventShape)}, got ${fmtShape(x.shape)}.`);
  }
  // the batch part must broadcast against batchShape
  broadcastShapes(op, x.shape.slice(0, x.ndim - k), batchShape);
  return x;
}

/** Broadcast a tensor to a shape unless it already has it. */
export function bcast(x: Tensor, shape: readonly number[]): Tensor {
  if (x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
  return broadcastTo(x, shape);
}

export function requireShape(op: string, name: string, t: Tensor, ndimAtLeast: number, what: string): void {
  if (t.ndim < ndimAtLeast) throw new ShapeError(`${op}: ${name} must be ${what}, got ${fmtShape(t.shape)}.`);
}

export const LOG_2PI = Math.log(2 * Math.PI);

/** withParams input: a plain object with exactly these keys, each a float Tensor of `dtype`. */
export function checkParams(op: string, p: unknown, keys: readonly string[], dtype: FloatDType): Record<string, Tensor> {
  if (p === null || typeof p !== 'object' || Array.isArray(p) || p instanceof Tensor) {
    throw new ConfigError(`${op}: params must be { ${keys.join(', ')} }, got ${describeValue(p)}.`);
  }
  const got = Object.keys(p).sort();
  const want = [...keys].sort();
  if (got.length !== want.length || got.some((k, i) => k !== want[i])) {
    throw new ConfigError(`${op}: params must have exactly the keys { ${want.join(', ')} }, got { ${got.join(', ')} }.`);
  }
  const out: Record<string, Tensor> = {};
  for (const k of keys) {
    const v = (p as Record<string, unknown>)[k];
    if (!(v instanceof Tensor)) throw new ConfigError(`${op}: params.${k} must be a Tensor, got ${describeValue(v)}.`);
    if (v.dtype !== dtype) throw new DTypeError(`${op}: params.${k} has dtype ${v.dtype}, expected ${dtype}.`);
    out[k] = v;
  }
  return out;
}
