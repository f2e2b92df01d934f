import { Tensor } from '../tensor.js';
import { BackendError, ConfigError } from '../errors.js';
import { currentBackend, type Backend } from '../backends/backend.js';
import type { Aval, Primitive } from './primitive.js';

/**
 * The trace stack (after JAX's Autodidax). Each active transform (a reverse tape, a forward
 * tangent scope, a vmap) is a Trace with a level; a Tracer remembers the trace that made it. An op
 * is processed by the highest-level trace among its arguments, and values from lower levels are
 * constants to it. That ordering is what keeps nested derivatives from confusing their
 * perturbations.
 */
export abstract class Trace {
  active = true;
  constructor(readonly level: number) {}
  /** Process primitive `prim`; args are this trace's tracers or lower-level values. */
  abstract process(prim: Primitive, args: Tensor[], params: unknown, avals: Aval[]): Tensor[];
}

export abstract class Tracer extends Tensor {
  constructor(readonly _trace: Trace, aval: Aval) {
    super(aval.shape, aval.dtype, null, null);
  }
  /** @internal the values this tracer wraps (for tidy/keep). */
  abstract _parts(): Tensor[];
  /** @internal the concrete value behind this tracer, if it has one. */
  abstract override concrete(): Tensor;
  /** @internal the backend of a tracer that wraps no value (jit's tracing), else null. */
  _backendHint(): Backend | null {
    return null;
  }
  override dispose(): void {
    for (const p of this._parts()) p.dispose();
  }
}

const stack: Trace[] = [];

export function pushTrace<T extends Trace>(make: (level: number) => T): T {
  const t = make(stack.length + 1);
  stack.push(t);
  return t;
}

export function popTrace(t: Trace): void {
  const top = stack.pop();
  t.active = false;
  if (top !== t) throw new Error('internal error: trace stack out of order');
}

function topTraceOf(args: readonly Tensor[]): Trace | null {
  let top: Trace | null = null;
  for (const a of args) {
    if (a instanceof Tracer) {
      const tr = a._trace;
      if (!tr.active) {
        throw new ConfigError(
          'a traced value escaped its transform (it was created inside grad/jvp/vmap and used after it returned). ' +
            'Return values out of the transformed function instead of storing them in outer variables.',
        );
      }
      if (top === null || tr.level > top.level) top = tr;
    }
  }
  return top;
}

export function topTrace(args: readonly Tensor[]): Trace | null {
  return topTraceOf(args);
}

/** Apply a primitive to arguments of any level. */
export function bind(prim: Primitive, args: Tensor[], params: unknown): Tensor[] {
  const avals = prim.shape(args, params);
  const top = topTraceOf(args);
  if (top === null) return evalPrimitive(prim, args, params, avals);
  return top.process(prim, args, params, avals);
}

export function bind1(prim: Primitive, args: Tensor[], params: unknown): Tensor {
  return bind(prim, args, params)[0]!;
}

function backendOf(prim: Primitive, args: readonly Tensor[]): Backend {
  if (args.length === 0) return currentBackend();
  const b = args[0]!.concrete()._backend!;
  for (const a of args) {
    const ab = a.concrete()._backend!;
    if (ab !== b) {
      throw new BackendError(
        `${prim.name}: operands live on different backends ('${b.name}' and '${ab.name}'). ` +
          `Move one first: x = await bt.toBackend(x, '${b.name}').`,
      );
    }
  }
  return b;
}

export function evalPrimitive(prim: Primitive, args: Tensor[], params: unknown, avals: Aval[]): Tensor[] {
  const backend = backendOf(prim, args);
  const concrete = args.map((a) => a.concrete());
  if (prim.view) {
    return [new Tensor(avals[0]!.shape, avals[0]!.dtype, backend.share(concrete[0]!._handle), backend)];
  }
  if (!backend.hasKernel(prim.name)) {
    const kernel = (prim as { impl?: Record<string, unknown> }).impl?.[backend.name];
    if (kernel) backend.registerKernel(prim.name, kernel);
  }
  if (!backend.hasKernel(prim.name)) {
    throw new BackendError(
      `op '${prim.name}' has no kernel on backend '${backend.name}'. ` +
        `Run it on a backend that has one (bt.withBackend('cpu', ...)) or give definePrimitive an impl for '${backend.name}'.`,
    );
  }
  const infos = concrete.map((c) => ({ shape: c.shape, dtype: c.dtype, handle: c._handle }));
  const handles = backend.run(prim.name, infos, params, avals);
  return avals.map((av, i) => new Tensor(av.shape, av.dtype, handles[i], backend));
}

/**
 * @internal The backend holding t's storage, found without reading t's value: a tracer is followed
 * to the value it wraps (a vmap tracer stands for a whole batch, but its batch lives on one
 * backend), so transforms can make constants beside a traced argument at any nesting.
 */
export function backendOfTensor(t: Tensor): Backend {
  let c: Tensor = t;
  while (c instanceof Tracer) {
    const hint = c._backendHint();
    if (hint) return hint;
    c = c._parts()[0]!;
  }
  return c.concrete()._backend!;
}

/** Make a concrete tensor from host data on the current backend. */
export function fromHost(data: import('../dtype.js').TypedArray, shape: readonly number[], backend: Backend = currentBackend()): Tensor {
  const dtype = data instanceof Float64Array ? 'float64' : data instanceof Float32Array ? 'float32' : 'int32';
  return new Tensor(shape, dtype, backend.upload(data, dtype), backend);
}
