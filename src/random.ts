import { Tensor } from './tensor.js';
import { bind1, fromHost } from './autodiff/core.js';
import { ConfigError, DTypeError, ShapeError } from './errors.js';
import { assertShape } from './shape.js';
import type { DType, FloatDType } from './dtype.js';
import { defaultFloat } from './autodiff/ops/creation.js';
import { keyFromSeed } from './prng/threefry.js';
import { randomBitsPrim, randomFoldInPrim, randomGammaPrim, randomSplitPrim, randomUniformPrim } from './autodiff/ops/random.js';
import { add, cast, erfinv, less, log, maximum, mul, neg } from './autodiff/ops/elementwise.js';
import { argmax } from './autodiff/ops/reduce.js';
import { argsort } from './autodiff/ops/indexing.js';
import { broadcastTo, reshape, slice } from './autodiff/ops/shape.js';
import { checkPositiveInt, describeValue } from './validate.js';

/**
 * bt.random: JAX-style keys. A key is an int32 tensor [2]; split/foldIn derive new keys and
 * every sampler is a pure function of its key (Threefry-2x32, the streams of jax.random with
 * jax_threefry_partitionable = True: the same seed gives JAX's numbers).
 */

/** key(seed): a PRNG key from an integer seed (as jax.random.key / PRNGKey). */
export function key(seed: number | bigint): Tensor {
  if (typeof seed === 'number' && !Number.isInteger(seed)) throw new ConfigError(`random.key: seed must be an integer, got ${seed}.`);
  return fromHost(keyFromSeed(seed, true), [2]);
}

/** split(key, num = 2) -> keys [num, 2] (with leading key dims kept). */
export function split(k: Tensor, num = 2): Tensor {
  checkPositiveInt('random.split', 'num', num);
  return bind1(randomSplitPrim, [k], { num });
}

/** The n rows of split(key, n), each a key [2]. */
export function splitKeys(k: Tensor, n: number): Tensor[] {
  const ks = split(k, n);
  return Array.from({ length: n }, (_, i) => reshape(slice(ks, [i, 0], [1, 2]), [2]));
}

/** The key itself if it is a PRNG key (an int32 Tensor [2] from key / split); else a typed error naming `op`. */
export function checkKey(op: string, k: unknown): Tensor {
  if (!(k instanceof Tensor)) throw new ConfigError(`${op}: expected a PRNG key (bt.random.key(seed)), got ${describeValue(k)}.`);
  if (k.dtype !== 'int32') throw new DTypeError(`${op}: a PRNG key is int32, got ${k.dtype}; make one with bt.random.key(seed).`);
  if (k.ndim !== 1 || k.shape[0] !== 2) throw new ShapeError(`${op}: a PRNG key has shape [2], got [${k.shape.join(', ')}]; split keys with bt.random.split and pass one row.`);
  return k;
}

/** foldIn(key, data): a new key from a key and an integer (as jax.random.fold_in). */
export function foldIn(k: Tensor, data: number): Tensor {
  if (!Number.isInteger(data)) throw new ConfigError(`random.foldIn: data must be an integer, got ${data}.`);
  return bind1(randomFoldInPrim, [k], { data: data >>> 0 });
}

/** Raw 32-bit words (int32 bit patterns), as jax.random.bits(key, shape, uint32). */
export function bits(k: Tensor, shape: readonly number[] = []): Tensor {
  return bind1(randomBitsPrim, [k], { shape: assertShape('random.bits', [...shape]) });
}

interface SampleOptions {
  dtype?: FloatDType;
}

function floatDType(op: string, d: DType | undefined): FloatDType {
  const dt = d ?? defaultFloat();
  if (dt !== 'float64' && dt !== 'float32') throw new DTypeError(`${op}: dtype must be float64 or float32, got ${String(dt)}.`);
  return dt;
}

/** Uniform on [minval, maxval). */
export function uniform(k: Tensor, shape: readonly number[] = [], opts?: SampleOptions & { minval?: number; maxval?: number }): Tensor {
  const dtype = floatDType('random.uniform', opts?.dtype);
  const u = bind1(randomUniformPrim, [k], { shape: assertShape('random.uniform', [...shape]), dtype });
  const lo = opts?.minval ?? 0;
  const hi = opts?.maxval ?? 1;
  if (lo === 0 && hi === 1) return u;
  return maximum(add(mul(u, hi - lo), lo), lo);
}

/** Standard normal draws: √2 erf⁻¹(u) for u uniform on (−1, 1), as jax.random.normal. */
export function normal(k: Tensor, shape: readonly number[] = [], opts?: SampleOptions): Tensor {
  const dtype = floatDType('random.normal', opts?.dtype);
  const lo = dtype === 'float64' ? -1 + 2 ** -53 : -1 + 2 ** -24;
  const u = uniform(k, shape, { dtype, minval: lo, maxval: 1 });
  return mul(erfinv(u), Math.SQRT2);
}

/** Bernoulli(p) draws as int32 0/1; shape defaults to p's shape. */
export function bernoulli(k: Tensor, p: Tensor | number, shape?: readonly number[]): Tensor {
  const pShape = typeof p === 'number' ? [] : p.shape;
  const dtype: FloatDType = typeof p === 'number' ? floatDType('random.bernoulli', undefined) : (floatDType('random.bernoulli', p.dtype));
  return less(uniform(k, shape ?? pShape, { dtype }), p);
}

/** Gumbel(0, 1) draws: −log(−log u). */
export function gumbel(k: Tensor, shape: readonly number[] = [], opts?: SampleOptions): Tensor {
  const dtype = floatDType('random.gumbel', opts?.dtype);
  const tiny = dtype === 'float64' ? 2.2250738585072014e-308 : 1.1754943508222875e-38;
  const u = uniform(k, shape, { dtype, minval: tiny, maxval: 1 });
  return neg(log(neg(log(u))));
}

/** Category indices drawn with probabilities softmax(logits) along axis (Gumbel-max). */
export function categorical(k: Tensor, logits: Tensor, opts?: { axis?: number; shape?: readonly number[] }): Tensor {
  const axis = opts?.axis ?? -1;
  const shape = opts?.shape ?? logits.shape;
  const g = gumbel(k, shape, { dtype: floatDType('random.categorical', logits.dtype) });
  return argmax(add(g, logits), { axis });
}

/** Gamma(alpha, 1) draws; alpha broadcasts to `shape` (default alpha's shape). */
export function gamma(k: Tensor, alpha: Tensor | number, shape?: readonly number[], opts?: SampleOptions): Tensor {
  const a1 = typeof alpha === 'number' ? fromHost(floatDType('random.gamma', opts?.dtype) === 'float32' ? Float32Array.of(alpha) : Float64Array.of(alpha), []) : alpha;
  const target = shape ?? a1.shape;
  return bind1(randomGammaPrim, [k, broadcastTo(a1, target)], {});
}

/** A random permutation of 0..n-1 (int32), or of the first axis of x. */
export function permutation(k: Tensor, n: number | Tensor): Tensor {
  if (typeof n === 'number') {
    if (!Number.isInteger(n) || n < 0) throw new ConfigError(`random.permutation: n must be a non-negative integer, got ${n}.`);
    return argsort(uniform(k, [n]));
  }
  const idx = argsort(uniform(k, [n.shape[0] ?? 0]));
  return n.take(idx, 0);
}

/** Integers uniform on [minval, maxval). */
export function randint(k: Tensor, shape: readonly number[], minval: number, maxval: number): Tensor {
  if (!Number.isInteger(minval) || !Number.isInteger(maxval) || maxval <= minval) {
    throw new ConfigError(`random.randint: need integers minval < maxval, got ${minval}, ${maxval}.`);
  }
  const u = uniform(k, shape);
  return cast(add(mul(u, maxval - minval), minval).floor(), 'int32');
}
