/**
 * bt.random: JAX-style keys. A key is an int32 tensor [2]; split/foldIn derive new keys and
 * every sampler is a pure function of its key (Threefry-2x32, the streams of jax.random with
 * jax_threefry_partitionable = True: the same seed gives JAX's numbers).
 *
 * @module
 */
import { Tensor } from './tensor.js';
import { bind1, fromHost } from './autodiff/core.js';
import { ConfigError, DTypeError, ShapeError } from './errors.js';
import { assertShape } from './shape.js';
import type { DType, FloatDType } from './dtype.js';
import { defaultFloat } from './autodiff/ops/creation.js';
import { keyFromSeed } from './prng/threefry.js';
import { randomRandintPrim, randomBitsPrim, randomFoldInPrim, randomGammaPrim, randomSplitPrim, randomUniformPrim } from './autodiff/ops/random.js';
import { add, erfinv, less, log, mul, neg } from './autodiff/ops/elementwise.js';
import { argmax } from './autodiff/ops/reduce.js';
import { argsort } from './autodiff/ops/indexing.js';
import { broadcastTo, reshape, slice } from './autodiff/ops/shape.js';
import { currentBackend } from './backends/backend.js';
import { checkPositiveInt, describeValue } from './validate.js';

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

/** Options of the float samplers: `dtype` is float64 or float32 (default: the backend's default float). */
export interface SampleOptions {
  dtype?: FloatDType;
}

function floatDType(op: string, d: DType | undefined): FloatDType {
  const dt = d ?? defaultFloat();
  if (dt !== 'float64' && dt !== 'float32') throw new DTypeError(`${op}: dtype must be float64 or float32, got ${String(dt)}.`);
  return dt;
}

/** Uniform on [minval, maxval), as jax.random.uniform: bounds, span and the affine map in the draw's dtype. */
export function uniform(k: Tensor, shape: readonly number[] = [], opts?: SampleOptions & { minval?: number; maxval?: number }): Tensor {
  const dtype = floatDType('random.uniform', opts?.dtype);
  const lo = opts?.minval ?? 0;
  const hi = opts?.maxval ?? 1;
  if (typeof lo !== 'number' || typeof hi !== 'number' || Number.isNaN(lo) || Number.isNaN(hi)) {
    throw new ConfigError(`random.uniform: minval and maxval must be numbers, got ${String(lo)} and ${String(hi)}.`);
  }
  // JAX converts the bounds to the dtype, subtracts there, and XLA fuses u·span + minval
  const r = dtype === 'float32' ? Math.fround : (x: number) => x;
  const minval = r(lo);
  const span = r(r(hi) - minval);
  return bind1(randomUniformPrim, [k], { shape: assertShape('random.uniform', [...shape]), dtype, minval, span });
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

/**
 * Gamma(alpha, 1) draws as jax.random.gamma (one split key per element, Marsaglia–Tsang with erf⁻¹
 * normals, (1 − u)^{1/α} boost for α < 1; seed 0 gives JAX's numbers in float64); alpha broadcasts
 * to `shape` (default alpha's shape). Differentiable in alpha by implicit reparameterisation.
 */
export function gamma(k: Tensor, alpha: Tensor | number, shape?: readonly number[], opts?: SampleOptions): Tensor {
  const a1 = typeof alpha === 'number' ? fromHost(floatDType('random.gamma', opts?.dtype) === 'float32' ? Float32Array.of(alpha) : Float64Array.of(alpha), []) : alpha;
  const target = shape ?? a1.shape;
  return bind1(randomGammaPrim, [k, broadcastTo(a1, target)], {});
}

/**
 * A random permutation of 0..n-1 (int32), or of the first axis of x, as jax.random.permutation:
 * ⌈3 ln n / ln(2³²−1)⌉ rounds, each splitting the key and sorting by 32-bit random words
 * (compared unsigned).
 */
export function permutation(k: Tensor, n: number | Tensor): Tensor {
  const size = typeof n === 'number' ? n : (n.shape[0] ?? 0);
  if (typeof n === 'number' && (!Number.isInteger(n) || n < 0)) {
    throw new ConfigError(`random.permutation: n must be a non-negative integer, got ${n}.`);
  }
  if (typeof n !== 'number' && n.ndim === 0) throw new ConfigError('random.permutation: x must have at least one axis to shuffle (got a scalar).');
  const rounds = Math.ceil((3 * Math.log(Math.max(1, size))) / Math.log(4294967295));
  const iota = new Int32Array(size).map((_, i) => i);
  let idx = fromHost(iota, [size], k._backend ?? currentBackend()); // a traced key has no backend of its own
  let key = k;
  for (let r = 0; r < rounds; r++) {
    const ks = split(key);
    key = takeKey(ks, 0);
    // adding −2³¹ (wrapping) maps unsigned order of the words onto int32 order
    const sortKeys = add(bits(takeKey(ks, 1), [size]), -2147483648);
    idx = idx.take(argsort(sortKeys), 0);
  }
  return typeof n === 'number' ? idx : n.take(idx, 0);
}

/**
 * Integers uniform on [minval, maxval) (int32), as jax.random.randint: two words of random bits
 * per draw (from the two halves of split(key)) combined modulo the span. `bits: 64` (default)
 * reproduces JAX's default int64 draws under jax_enable_x64 (the configuration our float64
 * default matches); `bits: 32` reproduces `dtype=jnp.int32`.
 */
export function randint(k: Tensor, shape: readonly number[], minval: number, maxval: number, opts?: { bits?: 32 | 64 }): Tensor {
  if (!Number.isInteger(minval) || !Number.isInteger(maxval) || maxval <= minval) {
    throw new ConfigError(`random.randint: need integers minval < maxval, got ${minval}, ${maxval}.`);
  }
  if (minval < -(2 ** 31) || maxval > 2 ** 31) {
    throw new ConfigError(`random.randint: draws are int32, so need -2^31 <= minval < maxval <= 2^31, got ${minval}, ${maxval}.`);
  }
  const width = opts?.bits ?? 64;
  if (width !== 32 && width !== 64) throw new ConfigError(`random.randint: bits must be 32 or 64, got ${String(width)}.`);
  const span = maxval - minval; // 1 .. 2^32; 2^32 is passed as 0
  return bind1(randomRandintPrim, [split(k)], {
    shape: assertShape('random.randint', [...shape]),
    span: span === 2 ** 32 ? 0 : span,
    minval,
    width,
  });
}

/** Key i of a split [..., n, 2] (leading key dims kept). */
function takeKey(keys: Tensor, i: number): Tensor {
  const lead = keys.shape.slice(0, -2);
  return reshape(slice(keys, [...lead.map(() => 0), i, 0], [...lead, 1, 2]), [...lead, 2]);
}
