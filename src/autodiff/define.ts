import type { Tensor } from '../tensor.js';
import { ConfigError } from '../errors.js';
import { bind } from './core.js';
import type { Aval, CpuKernel, Cotangent, Primitive } from './primitive.js';
import { liveBackends } from '../backends/backend.js';
import { isBuiltinOp } from './builtins.js';

/** What `definePrimitive` takes: a name, kernels per backend, and the shape and derivative rules. */
export interface PrimitiveSpec<P = Record<string, unknown>> {
  name: string;
  /** Kernels by backend name: `cpu` gets (inputs, params, outs) => TypedArray | TypedArray[]; `webgpu` a WGSL kernel. */
  impl: { cpu?: CpuKernel<P>; webgpu?: unknown; [backend: string]: unknown };
  /** Output avals from input avals (default: one output like the first input). Throw a typed error on bad input. */
  shape?: (inputs: readonly Aval[], params: P) => Aval[];
  /** Forward rule: output tangents from the input tangents (null = zero), written with bayestape ops. */
  jvp?: (primals: Tensor[], tangents: (Tensor | null)[], params: P, outs: Tensor[]) => (Tensor | null)[];
  /** Reverse rule: input cotangents from the output cotangents, written with bayestape ops. */
  vjp?: (cts: Cotangent[], primals: Tensor[], outs: Tensor[], params: P) => Cotangent[];
  /** Batching rule: the outputs for inputs batched along axis 0 (dims[i] === 0) or unbatched (null); without it vmap loops. */
  batch?: (args: Tensor[], dims: (0 | null)[], params: P, size: number) => Tensor[];
  /** The outputs carry no derivative (transforms pass through; no rules needed). */
  nondiff?: boolean;
}

const KNOWN = new Set(['name', 'impl', 'shape', 'jvp', 'vjp', 'batch', 'nondiff']);
const userNames = new Set<string>();

/** The user primitive as a function of its inputs (and optional params); one Tensor or, for several outputs, an array. */
export type UserOp<P> = ((inputs: Tensor[], params?: P) => Tensor[]) & { primitive: Primitive<P> };

/**
 * definePrimitive: how users add an op. Give kernels per backend and derivative rules written
 * with bayestape ops (so they compose with every transform), or mark it nondiff. A backend
 * without a kernel for it raises a BackendError naming the op.
 */
export function definePrimitive<P = Record<string, unknown>>(spec: PrimitiveSpec<P>): UserOp<P> {
  for (const k of Object.keys(spec)) if (!KNOWN.has(k)) throw new ConfigError(`definePrimitive: unknown key '${k}' (known: ${[...KNOWN].join(', ')}).`);
  if (typeof spec.name !== 'string' || !/^[A-Za-z_][\w.:-]*$/.test(spec.name)) {
    throw new ConfigError(`definePrimitive: name must be an identifier-like string, got ${JSON.stringify(spec.name)}.`);
  }
  if (userNames.has(spec.name)) throw new ConfigError(`definePrimitive: a primitive named '${spec.name}' is already defined; choose another name.`);
  if (!spec.impl || typeof spec.impl !== 'object' || Object.keys(spec.impl).length === 0) {
    throw new ConfigError(`definePrimitive('${spec.name}'): impl must give at least one kernel, e.g. { cpu: (inputs, params, outs) => ... }.`);
  }
  if (!spec.nondiff && (!spec.jvp || !spec.vjp)) {
    throw new ConfigError(`definePrimitive('${spec.name}'): give both jvp and vjp rules, or set nondiff: true.`);
  }
  if (isBuiltinOp(spec.name) || liveBackends().some((b) => b.hasKernel(spec.name))) {
    throw new ConfigError(`definePrimitive: '${spec.name}' is the name of a built-in op; choose another name.`);
  }
  userNames.add(spec.name);
  const prim: Primitive<P> & { impl: Record<string, unknown> } = {
    name: spec.name,
    impl: spec.impl,
    shape: spec.shape ?? ((inputs) => [inputs[0]!]),
    jvp: spec.jvp,
    vjp: spec.vjp,
    batch: spec.batch,
    nondiff: spec.nondiff,
  };
  const op = ((inputs: Tensor[], params?: P) => {
    if (!Array.isArray(inputs)) throw new ConfigError(`${spec.name}: call it with an array of input tensors, op([x, y], params).`);
    return bind(prim, inputs, params ?? ({} as P));
  }) as UserOp<P>;
  op.primitive = prim;
  return op;
}
