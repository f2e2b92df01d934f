import type { Tensor } from '../../tensor.js';
import { bind1 } from '../core.js';
import type { Aval, Primitive } from '../primitive.js';
import { DTypeError, ShapeError } from '../../errors.js';
import { type DType } from '../../dtype.js';
import { fmtShape } from '../../shape.js';

/**
 * Counter-based random primitives. Keys are int32 tensors [..., 2] (two uint32 words); every
 * primitive maps over leading key dimensions, so a batch of keys (vmap, parallel chains) is one
 * kernel call. Outputs are pure functions of the key: the same key gives the same numbers on
 * every backend.
 */
function keyBatch(op: string, k: Aval): number[] {
  if (k.dtype !== 'int32' || k.shape.length < 1 || k.shape[k.shape.length - 1] !== 2) {
    throw new DTypeError(`${op}: expected a PRNG key (int32 tensor [..., 2] from bt.random.key(seed)), got ${k.dtype} ${fmtShape(k.shape)}.`);
  }
  return k.shape.slice(0, -1);
}

const batchKeys = (prim: () => Primitive) => ([k]: Tensor[], _d: unknown, p: unknown) => [bind1(prim(), [k!], p)];

export const randomBitsPrim: Primitive<{ shape: number[] }> = {
  name: 'randomBits',
  nondiff: true,
  shape: ([k], p) => [{ shape: [...keyBatch('random.bits', k!), ...p.shape], dtype: 'int32' }],
  batch: batchKeys(() => randomBitsPrim),
};

/** Uniform draws mapped to max(minval, u·span + minval) with one rounding (XLA's fused multiply-add). */
export const randomUniformPrim: Primitive<{ shape: number[]; dtype: DType; minval?: number; span?: number }> = {
  name: 'randomUniform',
  nondiff: true,
  shape: ([k], p) => {
    if (p.dtype === 'int32') throw new DTypeError('random.uniform: dtype must be float64 or float32.');
    return [{ shape: [...keyBatch('random.uniform', k!), ...p.shape], dtype: p.dtype }];
  },
  batch: batchKeys(() => randomUniformPrim),
};

export const randomSplitPrim: Primitive<{ num: number }> = {
  name: 'randomSplit',
  nondiff: true,
  shape: ([k], p) => [{ shape: [...keyBatch('random.split', k!), p.num, 2], dtype: 'int32' }],
  batch: batchKeys(() => randomSplitPrim),
};

export const randomFoldInPrim: Primitive<{ data: number }> = {
  name: 'randomFoldIn',
  nondiff: true,
  shape: ([k]) => [{ shape: [...keyBatch('random.foldIn', k!), 2], dtype: 'int32' }],
  batch: batchKeys(() => randomFoldInPrim),
};

/** Gamma(α, 1) draws, one per α entry, for each key (Marsaglia–Tsang; α < 1 boosted). */
export const randomGammaPrim: Primitive = {
  name: 'randomGamma',
  nondiff: true,
  shape: ([k, a]) => {
    const kb = keyBatch('random.gamma', k!);
    if (a!.dtype === 'int32') throw new DTypeError('random.gamma: alpha must be a float tensor.');
    return [{ shape: [...kb, ...a!.shape], dtype: a!.dtype }];
  },
  batch: ([k, a], dims, _p, size) => {
    if (dims[1] !== null) {
      throw new ShapeError('random.gamma under vmap: batching over alpha is not supported yet; pass alpha of the full shape instead.');
    }
    void size;
    return [bind1(randomGammaPrim, [k!, a!], {})];
  },
};

/**
 * jax.random.randint's draws from a split key pair [..., 2, 2]: per draw, words h (from key 0) and l
 * (from key 1) of `width` bits, offset = (h mod span · (2^width mod span) + l mod span) mod span,
 * out = minval + offset (int32). width 32 wraps the product as uint32 (JAX with dtype int32);
 * width 64 is exact (JAX's int64 default under jax_enable_x64). span 0 stands for 2^32.
 */
export const randomRandintPrim: Primitive<{ shape: number[]; span: number; minval: number; width: 32 | 64 }> = {
  name: 'randomRandint',
  nondiff: true,
  shape: ([k], p) => {
    const lead = keyBatch('random.randint', k!);
    if (lead[lead.length - 1] !== 2) throw new DTypeError('random.randint: internal error, expected a split key pair [..., 2, 2].');
    return [{ shape: [...lead.slice(0, -1), ...p.shape], dtype: 'int32' }];
  },
  batch: batchKeys(() => randomRandintPrim),
};

export const randomPrims = {
  randomBits: randomBitsPrim,
  randomUniform: randomUniformPrim,
  randomSplit: randomSplitPrim,
  randomFoldIn: randomFoldInPrim,
  randomGamma: randomGammaPrim,
  randomRandint: randomRandintPrim,
};
