/**
 * The built-in op set, as types. Kernel tables are `Record<KernelOp, ...>` on every backend, so a
 * built-in op without a CPU or WebGPU kernel does not compile; user ops (definePrimitive) stay
 * open strings with optional kernels and get a BackendError at run time where one is missing.
 */

/** Elementwise ops of one operand. */
export const UNARY_OPS = [
  'neg', 'exp', 'log', 'log1p', 'expm1', 'sqrt', 'rsqrt', 'sin', 'cos', 'tanh', 'sigmoid', 'abs', 'sign', 'erf', 'erfinv', 'ndtri',
  'floor', 'ceil', 'round', 'isFinite', 'isNan',
] as const;
/** Elementwise ops of two broadcast operands (comparisons give int32). */
export const BINARY_OPS = [
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'atan2', 'equal', 'notEqual', 'less', 'lessEqual', 'greater', 'greaterEqual',
] as const;
/** Every elementwise op: the ones a WebGPU fused kernel can inline. */
export const ELEMENTWISE_OPS = [...UNARY_OPS, ...BINARY_OPS, 'where', 'cast'] as const;
/** Special functions (lgamma, digamma, incomplete gamma/beta, their inverses and shape derivatives). */
export const SPECIAL_OPS = [
  'lgamma', 'digamma', 'polygamma', 'gammainc', 'gammaincc', 'gammaincDa', 'gammaincDaa', 'gammaincinv',
  'betainc', 'betaincDa', 'betaincDb', 'betaincD2', 'betaincinv',
] as const;
/** Built-in ops that run a kernel on every backend. */
export const KERNEL_OPS = [
  ...ELEMENTWISE_OPS,
  'reduceSum', 'reduceMax', 'reduceMin', 'argmax', 'argmin', 'cumsum',
  'transpose', 'broadcastTo', 'slice', 'pad', 'concat',
  'take', 'scatterAdd', 'argsort',
  'matmul', 'conv2d', 'cholesky', 'triangularSolve', 'solve', 'slogdet',
  'randomBits', 'randomUniform', 'randomSplit', 'randomFoldIn', 'randomGamma', 'randomRandint',
  ...SPECIAL_OPS,
] as const;
/** Built-in ops whose output shares its input's storage (no kernel runs anywhere). */
export const VIEW_OPS = ['reshape', 'stopGradient'] as const;
/** Every built-in primitive name. */
export const BUILTIN_OPS = [...KERNEL_OPS, ...VIEW_OPS] as const;

/** A unary elementwise op name. */
export type UnaryOp = (typeof UNARY_OPS)[number];
/** A binary elementwise op name. */
export type BinaryOp = (typeof BINARY_OPS)[number];
/** A special-function op name. */
export type SpecialOp = (typeof SPECIAL_OPS)[number];
/** An elementwise op name. */
export type ElementwiseOp = (typeof ELEMENTWISE_OPS)[number];
/** A built-in op that runs a kernel: every backend's kernel table is total over these. */
export type KernelOp = (typeof KERNEL_OPS)[number];
/** A built-in primitive name. */
export type BuiltinOp = (typeof BUILTIN_OPS)[number];

const builtinSet: ReadonlySet<string> = new Set(BUILTIN_OPS);

/** Whether `name` is a built-in primitive (user primitives may not take these names). */
export function isBuiltinOp(name: string): name is BuiltinOp {
  return builtinSet.has(name);
}
