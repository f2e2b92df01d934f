import type { Tensor } from '../../tensor.js';
import { bind1 } from '../core.js';
import type { Primitive } from '../primitive.js';
import { ShapeError } from '../../errors.js';
import { assertFloat, assertSameDType } from '../../dtype.js';
import { broadcastShapes, fmtShape } from '../../shape.js';
import { add, alignBatched, mul } from './elementwise.js';
import { expandDims, reshape, squeeze, sumTo } from './shape.js';

/** C = op(A) op(B) over broadcast batch dims; op transposes the last two axes when flagged. */
interface MatmulParams {
  transA: boolean;
  transB: boolean;
}

function mm(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  return bind1(matmulPrim, [a, b], { transA, transB });
}

export const matmulPrim: Primitive<MatmulParams> = {
  name: 'matmul',
  shape: ([a, b], p) => {
    const dtype = assertSameDType('matmul', [a!.dtype, b!.dtype]);
    assertFloat('matmul', dtype);
    if (a!.shape.length < 2 || b!.shape.length < 2) {
      throw new ShapeError(`matmul: operands need at least 2 dimensions, got ${fmtShape(a!.shape)} and ${fmtShape(b!.shape)}.`);
    }
    const ra = a!.shape.length;
    const rb = b!.shape.length;
    const [m, k1] = p.transA ? [a!.shape[ra - 1]!, a!.shape[ra - 2]!] : [a!.shape[ra - 2]!, a!.shape[ra - 1]!];
    const [k2, n] = p.transB ? [b!.shape[rb - 1]!, b!.shape[rb - 2]!] : [b!.shape[rb - 2]!, b!.shape[rb - 1]!];
    if (k1 !== k2) {
      throw new ShapeError(
        `matmul: inner dimensions differ: ${fmtShape(a!.shape)} @ ${fmtShape(b!.shape)} (${k1} vs ${k2}). ` +
          'The last axis of the first operand must equal the second-to-last of the second (transpose one with mT?).',
      );
    }
    const batch = broadcastShapes('matmul (batch dims)', a!.shape.slice(0, -2), b!.shape.slice(0, -2));
    return [{ shape: [...batch, m, n], dtype }];
  },
  jvp: ([a, b], [ta, tb], p) => {
    const x = ta && mm(ta, b!, p.transA, p.transB);
    const y = tb && mm(a!, tb, p.transA, p.transB);
    return [x && y ? add(x, y) : x ?? y];
  },
  vjp: ([ct], [a, b], _o, p, needs) => {
    if (!ct) return [null, null];
    const da = !needs[0] ? null : p.transA ? mm(b!, ct, p.transB, true) : mm(ct, b!, false, !p.transB);
    const db = !needs[1] ? null : p.transB ? mm(ct, a!, true, p.transA) : mm(a!, ct, !p.transA, false);
    return [da && sumTo(da, a!.shape), db && sumTo(db, b!.shape)];
  },
  batch: (args, dims, p) => [bind1(matmulPrim, alignBatched(args, dims), p)],
};

/**
 * Matrix product with NumPy semantics: batch dims broadcast; a 1-D operand is a vector
 * (prepended/appended 1 removed from the result).
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0) throw new ShapeError(`matmul: scalars are not allowed (shapes ${fmtShape(a.shape)}, ${fmtShape(b.shape)}); use mul.`);
  checkOperands(a.shape, b.shape);
  const a2 = a.ndim === 1 ? expandDims(a, 0) : a;
  const b2 = b.ndim === 1 ? expandDims(b, 1) : b;
  let c = mm(a2, b2, false, false);
  if (b.ndim === 1) c = squeeze(c, -1);
  if (a.ndim === 1) c = squeeze(c, c.ndim - (b.ndim === 1 ? 1 : 2));
  return c;
}

/**
 * Validates the operands as the user gave them, so an error names their shapes rather than the
 * primitive's (a vector promoted to [1, n] or [n, 1]; under vmap the per-example shapes are what
 * f sees, and these are they).
 */
function checkOperands(as: readonly number[], bs: readonly number[]): void {
  const ka = as[as.length - 1]!;
  const kb = bs.length === 1 ? bs[0]! : bs[bs.length - 2]!;
  if (ka !== kb) {
    const which = bs.length === 1 ? 'the length of the vector' : 'the second-to-last axis of the second';
    throw new ShapeError(
      `matmul: cannot multiply ${fmtShape(as)} by ${fmtShape(bs)}: the last axis of the first (${ka}) must equal ${which} (${kb}). ` +
        'Transpose an operand (bt.mT(x) swaps the last two axes) or reshape it.',
    );
  }
  const ba = as.slice(0, -2);
  const bb = bs.slice(0, -2);
  for (let i = 1; i <= Math.min(ba.length, bb.length); i++) {
    const x = ba[ba.length - i]!;
    const y = bb[bb.length - i]!;
    if (x !== y && x !== 1 && y !== 1) {
      throw new ShapeError(
        `matmul: the batch dimensions of ${fmtShape(as)} and ${fmtShape(bs)} (all but the last two axes: ${fmtShape(ba)} and ${fmtShape(bb)}) ` +
          `cannot be broadcast together (sizes ${x} and ${y}). Make them equal or 1 (bt.expandDims adds an axis of 1).`,
      );
    }
  }
}

/** Outer product of two tensors taken as flat vectors: [a.size, b.size]. */
export function outer(a: Tensor, b: Tensor): Tensor {
  return mul(reshape(a, [a.size, 1]), reshape(b, [1, b.size]));
}
