import type { Primitive } from '../primitive.js';
import type { BuiltinOp } from '../builtins.js';
import { comparisonPrims, prims } from './elementwise.js';
import { reducePrims } from './reduce.js';
import { shapePrims } from './shape.js';
import { indexingPrims } from './indexing.js';
import { matmulPrim } from './matmul.js';
import { conv2dPrim } from './conv-prim.js';
import { linalgPrims } from './linalg.js';
import { randomPrims } from './random.js';
import { specialPrims } from './special.js';
import { specialFunctionPrims } from './special-functions.js';

/**
 * Every built-in primitive by name: total over BuiltinOp, so an op named in the list without a
 * definition (or defined under another name) does not compile. The primitive-walk test checks
 * each one's rules and kernels against this table.
 */
export const builtinPrimitives: Record<BuiltinOp, Primitive> = {
  ...prims,
  ...comparisonPrims,
  ...reducePrims,
  ...shapePrims,
  ...indexingPrims,
  matmul: matmulPrim,
  conv2d: conv2dPrim,
  ...linalgPrims,
  ...randomPrims,
  ...specialPrims,
  ...specialFunctionPrims,
};
