import type { Tensor } from '../../tensor.js';
import { bind1 } from '../core.js';
import type { Aval, Primitive } from '../primitive.js';
import { DTypeError, ShapeError } from '../../errors.js';
import { type DType } from '../../dtype.js';
import { fmtShape } from '../../shape.js';
import { mul } from './elementwise.js';
import { broadcastTo, reshape, sumTo } from './shape.js';
import { gammaSampleGrad } from './special-functions.js';

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

/**
 * Gamma(α, 1) draws as jax.random.gamma: keys [...kb, 2], α of shape s (shared by every key) or,
 * with `perKey`, [...kb, ...s] (a row per key, what vmap over α makes); output [...kb, ...s].
 * Differentiable in α by implicit reparameterisation: d sample/dα = −(∂P/∂α)/(∂P/∂x) at the
 * sample (P the regularised incomplete gamma), as JAX's random_gamma_grad.
 */
export const randomGammaPrim: Primitive<{ perKey?: boolean }> = {
  name: 'randomGamma',
  shape: ([k, a], p) => {
    const kb = keyBatch('random.gamma', k!);
    if (a!.dtype === 'int32') throw new DTypeError('random.gamma: alpha must be a float tensor.');
    if (p.perKey && (a!.shape.length < kb.length || kb.some((d, i) => a!.shape[i] !== d))) {
      throw new ShapeError(`random.gamma: internal error, per-key alpha ${fmtShape(a!.shape)} does not start with the key batch ${fmtShape(kb)}.`);
    }
    return [{ shape: p.perKey ? [...a!.shape] : [...kb, ...a!.shape], dtype: a!.dtype }];
  },
  jvp: ([, a], [, ta], _p, [y]) => [ta ? mul(ta, gammaSampleGrad(a!, y!)) : null],
  vjp: ([ct], [, a], [y], _p, needs) => [null, ct && needs[1] ? sumTo(mul(ct, gammaSampleGrad(a!, y!)), a!.shape) : null],
  batch: ([k, a], dims, p, size) => {
    if (dims[1] === null) {
      // keys batched, α not: a per-key α must gain the batch axis too
      if (!p.perKey) return [bind1(randomGammaPrim, [k!, a!], p)];
      return [bind1(randomGammaPrim, [k!, broadcastTo(a!, [size, ...a!.shape])], p)];
    }
    const kb = dims[0] === null ? broadcastTo(k!, [size, ...k!.shape]) : k!;
    const lead = kb.shape.slice(1, -1); // the key dims inside the batch
    let aa = a!;
    if (!p.perKey) {
      // α [B, ...s] → [B, ...lead, ...s]
      const s = aa.shape.slice(1);
      aa = broadcastTo(reshape(aa, [size, ...lead.map(() => 1), ...s]), [size, ...lead, ...s]);
    }
    return [bind1(randomGammaPrim, [kb, aa], { perKey: true })];
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
