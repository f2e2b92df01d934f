/**
 * Bijectors for normalising flows. Each acts on a batch of points [N, d]:
 *   forward(params, z) -> [x, log|det ∂x/∂z|]   (the sampling direction)
 *   inverse(params, x) -> [z, log|det ∂z/∂x|]   (the density direction)
 * and draws its own parameters with init(key). Nothing is stored but constants (masks, orders).
 */
import type { Tensor } from '../tensor.js';
import type { PyTree } from '../autodiff/tree.js';
import type { FloatDType } from '../dtype.js';
import { add, exp, mul, neg, sub } from '../autodiff/ops/elementwise.js';
import { sum } from '../autodiff/ops/reduce.js';
import { slice } from '../autodiff/ops/shape.js';
import { argsort, take } from '../autodiff/ops/indexing.js';
import { matmul } from '../autodiff/ops/matmul.js';
import { defaultFloat, tensor, zeros, zerosLike } from '../autodiff/ops/creation.js';
import { permutation as randomPermutation } from '../random.js';
import { mlp } from '../nn/mlp.js';
import { initializers } from '../nn/initializers.js';
import { resolveActivation, type Activation } from '../nn/activations.js';
import type { MlpParams } from '../nn/types.js';
import { ConfigError, ShapeError } from '../errors.js';
import { keep, tidy } from '../memory.js';
import { describeValue, fmtShape } from '../distributions/util.js';
import { checkKey, splitKeys } from '../random.js';
import { checkKnown } from '../validate.js';

/** An invertible layer of a flow: parameters from a key, and forward/inverse maps with their log-determinants. */
export interface Bijector {
  readonly kind: string;
  readonly dim: number;
  /** Fresh layer parameters (a pytree) from a PRNG key. */
  init(key: Tensor): PyTree;
  /** z [N, d] → [x [N, d], log|det ∂x/∂z| [N]]. */
  forward(params: PyTree, z: Tensor): [Tensor, Tensor];
  /** x [N, d] → [z [N, d], log|det ∂z/∂x| [N]]. */
  inverse(params: PyTree, x: Tensor): [Tensor, Tensor];
}

function checkDim(op: string, dim: unknown): number {
  if (!Number.isInteger(dim) || (dim as number) < 1) throw new ConfigError(`${op}: dim must be a positive integer, got ${describeValue(dim)}.`);
  return dim as number;
}

function checkHidden(op: string, h: unknown): number[] {
  if (!Array.isArray(h) || h.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new ConfigError(`${op}: hiddenSizes must be an array of positive integers, got ${describeValue(h)}.`);
  }
  return [...(h as number[])];
}

function checkPoints(op: string, x: Tensor, d: number): void {
  if (x.ndim !== 2 || x.shape[1] !== d) throw new ShapeError(`${op}: expected points [N, ${d}], got ${fmtShape(x.shape)}.`);
}

// ---------------------------------------------------------------------------------------------
// MADE: a masked MLP whose output i (and i + d) depends only on inputs < i in the given order.

/** Parameters of a MADE network: one masked dense layer { w, b } per layer. */
export interface MadeParams {
  layers: { w: Tensor; b: Tensor }[];
}

/** MADE masks (Germain et al. 2015) for degrees 1..d in natural order; w is [in, out]. */
export function madeMasks(d: number, hidden: readonly number[], outMult: number): number[][][] {
  const inDeg = Array.from({ length: d }, (_, i) => i + 1);
  const degs: number[][] = [inDeg];
  for (const h of hidden) degs.push(Array.from({ length: h }, (_, k) => (k % Math.max(1, d - 1)) + 1));
  const masks: number[][][] = [];
  for (let l = 0; l < hidden.length; l++) {
    const a = degs[l]!;
    const b = degs[l + 1]!;
    masks.push(a.map((da) => b.map((db) => (db >= da ? 1 : 0))));
  }
  const outDeg = Array.from({ length: outMult * d }, (_, j) => (j % d) + 1);
  const last = degs[degs.length - 1]!;
  masks.push(last.map((da) => outDeg.map((db) => (db > da ? 1 : 0))));
  return masks;
}

/** Options of `maskedAffineAutoregressive`: dimension, MADE hidden sizes, activation, dtype. */
export interface MaskedAffineAutoregressiveOptions {
  dim: number;
  hiddenSizes: number[];
  activation?: Activation;
  dtype?: FloatDType;
}

/**
 * A masked affine autoregressive layer (MAF, Papamakarios et al. 2017): with (μ, α) = MADE(x),
 *   x_i = z_i·exp(α_i(x_<i)) + μ_i(x_<i),   z_i = (x_i − μ_i)·exp(−α_i),   log|det ∂x/∂z| = Σ α_i.
 * The inverse (density) is one MADE pass; forward (sampling) takes d sequential passes.
 * The last MADE layer starts at zero, so a fresh layer is the identity. Params: MadeParams.
 */
export function maskedAffineAutoregressive(opts: MaskedAffineAutoregressiveOptions): Bijector {
  const op = 'flows.maskedAffineAutoregressive';
  const known = ['dim', 'hiddenSizes', 'activation', 'dtype'];
  checkKnown(op, opts, known);
  const d = checkDim(op, opts.dim);
  const hidden = checkHidden(op, opts.hiddenSizes);
  const act = resolveActivation(op, 'activation', opts.activation ?? 'tanh');
  const sizes = [d, ...hidden, 2 * d];
  const maskArrays = madeMasks(d, hidden, 2);
  const masksByDType = new Map<string, Tensor[]>();
  const masks = (dtype: FloatDType): Tensor[] => {
    let m = masksByDType.get(dtype);
    if (!m) {
      m = keep(maskArrays.map((a) => tensor(a, { dtype })));
      masksByDType.set(dtype, m);
    }
    return m;
  };
  const made = (p: MadeParams, x: Tensor): [Tensor, Tensor] => {
    const ms = masks(x.dtype as FloatDType);
    let h = x;
    p.layers.forEach((l, i) => {
      h = add(matmul(h, mul(l.w, ms[i]!)), l.b);
      if (i < p.layers.length - 1) h = act(h);
    });
    return [slice(h, [0, 0], [h.shape[0]!, d]), slice(h, [0, d], [h.shape[0]!, d])];
  };
  const checkP = (p: PyTree): MadeParams => {
    const ls = (p as MadeParams | null)?.layers;
    if (!Array.isArray(ls) || ls.length !== sizes.length - 1) throw new ConfigError(`${op}: params must be { layers: [...] } with ${sizes.length - 1} layers, got ${describeValue(p)}.`);
    return p as MadeParams;
  };
  return {
    kind: 'maskedAffineAutoregressive',
    dim: d,
    init(key) {
      checkKey(`${op} init`, key);
      const dtype = opts.dtype ?? (defaultFloat() as FloatDType);
      const keys = splitKeys(key, sizes.length - 1);
      const ms = masks(dtype);
      const layers = sizes.slice(1).map((nOut, i) => {
        const nIn = sizes[i]!;
        const last = i === sizes.length - 2;
        const w = last ? zeros([nIn, nOut], dtype) : mul(initializers.glorotUniform(keys[i]!, [nIn, nOut], dtype), ms[i]!);
        return { b: zeros([nOut], dtype), w };
      });
      return { layers };
    },
    forward(params, z) {
      checkPoints(`${op} forward`, z, d);
      const p = checkP(params);
      let x = zerosLike(z);
      let mu: Tensor = x;
      let alpha: Tensor = x;
      for (let i = 0; i < d; i++) {
        [mu, alpha] = made(p, x);
        x = add(mul(z, exp(alpha)), mu);
      }
      return [x, sum(alpha, { axis: -1 })];
    },
    inverse(params, x) {
      checkPoints(`${op} inverse`, x, d);
      const [mu, alpha] = made(checkP(params), x);
      return [mul(sub(x, mu), exp(neg(alpha))), neg(sum(alpha, { axis: -1 }))];
    },
  };
}

// ---------------------------------------------------------------------------------------------

/** Options of `affineCoupling`: dimension, the binary mask, the MLP's hidden sizes, activation, dtype. */
export interface AffineCouplingOptions {
  dim: number;
  /** 1 = passed through and conditioned on, 0 = transformed; length dim */
  mask: number[];
  hiddenSizes: number[];
  activation?: Activation;
  dtype?: FloatDType;
}

/**
 * An affine coupling layer (RealNVP, Dinh et al. 2017) with a binary mask b: with
 * (s, t) = MLP(b ⊙ z) ⊙ (1 − b),  x = z ⊙ exp(s) + t,  log|det ∂x/∂z| = Σ s.
 * The last MLP layer starts at zero (identity). Params: MlpParams of [d, ...hidden, 2d].
 */
export function affineCoupling(opts: AffineCouplingOptions): Bijector {
  const op = 'flows.affineCoupling';
  const known = ['dim', 'mask', 'hiddenSizes', 'activation', 'dtype'];
  checkKnown(op, opts, known);
  const d = checkDim(op, opts.dim);
  const hidden = checkHidden(op, opts.hiddenSizes);
  const mask = opts.mask;
  if (!Array.isArray(mask) || mask.length !== d || mask.some((m) => m !== 0 && m !== 1)) {
    throw new ConfigError(`${op}: mask must be an array of ${d} zeros and ones, got ${describeValue(mask)}.`);
  }
  const net = mlp({ sizes: [d, ...hidden, 2 * d], activation: opts.activation ?? 'tanh', ...(opts.dtype ? { dtype: opts.dtype } : {}) });
  const consts = new Map<string, [Tensor, Tensor]>();
  const maskT = (dtype: FloatDType): [Tensor, Tensor] => {
    let c = consts.get(dtype);
    if (!c) {
      c = keep([tensor(mask, { dtype }), tensor(mask.map((m) => 1 - m), { dtype })] as [Tensor, Tensor]);
      consts.set(dtype, c);
    }
    return c;
  };
  const st = (p: PyTree, y: Tensor): [Tensor, Tensor] => {
    const [b, nb] = maskT(y.dtype as FloatDType);
    const h = net.apply(p as MlpParams, mul(y, b));
    const n = h.shape[0]!;
    return [mul(slice(h, [0, 0], [n, d]), nb), mul(slice(h, [0, d], [n, d]), nb)];
  };
  return {
    kind: 'affineCoupling',
    dim: d,
    init(key) {
      checkKey(`${op} init`, key);
      const p = net.init(key);
      const last = p.layers[p.layers.length - 1]!;
      p.layers[p.layers.length - 1] = { b: zerosLike(last.b!), w: zerosLike(last.w) };
      return p;
    },
    forward(params, z) {
      checkPoints(`${op} forward`, z, d);
      const [s, t] = st(params, z);
      return [add(mul(z, exp(s)), t), sum(s, { axis: -1 })];
    },
    inverse(params, x) {
      checkPoints(`${op} inverse`, x, d);
      const [s, t] = st(params, x);
      return [mul(sub(x, t), exp(neg(s))), neg(sum(s, { axis: -1 }))];
    },
  };
}

// ---------------------------------------------------------------------------------------------

/** Options of `permutation`: dimension and the order ('reverse', 'random' with a key, or explicit). */
export interface PermutationOptions {
  dim: number;
  /** 'reverse' (default), an explicit permutation of 0..dim−1, or 'random' (needs key) */
  order?: 'reverse' | 'random' | number[];
  key?: Tensor;
}

/** A fixed permutation of the coordinates: x = z[perm]; log|det| = 0. No params ({}). */
export function permutation(opts: PermutationOptions): Bijector {
  const op = 'flows.permutation';
  const known = ['dim', 'order', 'key'];
  checkKnown(op, opts, known);
  const d = checkDim(op, opts.dim);
  const order = opts.order ?? 'reverse';
  // the permutation and its inverse as index tensors, cached across calls (kept out of any
  // enclosing tidy scope)
  let pT: Tensor;
  let iT: Tensor;
  if (order === 'random') {
    // drawn where the key lives, never read back (a GPU cannot read synchronously)
    const key = checkKey(`${op} (order 'random')`, opts.key);
    [pT, iT] = keep(tidy(() => {
      const p = randomPermutation(key, d);
      return [p, argsort(p)] as const;
    }));
  } else {
    let perm: number[];
    if (order === 'reverse') perm = Array.from({ length: d }, (_, i) => d - 1 - i);
    else if (Array.isArray(order) && order.length === d && [...order].sort((a, b) => a - b).every((v, i) => v === i)) perm = [...order];
    else throw new ConfigError(`${op}: order must be 'reverse', 'random' or a permutation of 0..${d - 1}, got ${describeValue(order)}.`);
    const inv = new Array<number>(d);
    perm.forEach((p, i) => (inv[p] = i));
    pT = keep(tensor(perm, { dtype: 'int32' }));
    iT = keep(tensor(inv, { dtype: 'int32' }));
  }
  const zero = (x: Tensor): Tensor => zeros([x.shape[0]!], x.dtype);
  return {
    kind: 'permutation',
    dim: d,
    init: () => ({}),
    forward(_p, z) {
      checkPoints(`${op} forward`, z, d);
      return [take(z, pT, -1), zero(z)];
    },
    inverse(_p, x) {
      checkPoints(`${op} inverse`, x, d);
      return [take(x, iT, -1), zero(x)];
    },
  };
}

