import type { Tensor } from '../tensor.js';
import { ConfigError, ShapeError, DTypeError } from '../errors.js';
import { bind, popTrace, pushTrace, Trace, Tracer } from './core.js';
import type { Aval, Primitive } from './primitive.js';
import { assertSameStructure, tensorLeaves, unflatten, type PyTree } from './tree.js';
import { zeros } from './ops/creation.js';
import { fmtShape, shapesEqual } from '../shape.js';

/** Forward mode: each value carries a tangent (null = a symbolic zero) alongside its primal. */
export class JVPTracer extends Tracer {
  constructor(trace: JVPTrace, readonly primal: Tensor, readonly tangent: Tensor | null) {
    super(trace, primal);
  }
  _parts(): Tensor[] {
    return this.tangent ? [this.primal, this.tangent] : [this.primal];
  }
  concrete(): Tensor {
    return this.primal.concrete();
  }
}

export class JVPTrace extends Trace {
  own(x: Tensor): x is JVPTracer {
    return x instanceof JVPTracer && x._trace === this;
  }

  process(prim: Primitive, args: Tensor[], params: unknown, _avals: Aval[]): Tensor[] {
    const primals = args.map((a) => (this.own(a) ? a.primal : a));
    const tangents = args.map((a) => (this.own(a) ? a.tangent : null));
    const outs = bind(prim, primals, params);
    if (prim.nondiff || tangents.every((t) => t === null)) return outs;
    if (!prim.jvp) {
      throw new ConfigError(`jvp: primitive '${prim.name}' has no forward (jvp) rule. Give definePrimitive a jvp rule, or mark it nondiff.`);
    }
    const tOuts = prim.jvp(primals, tangents, params, outs);
    return outs.map((o, i) => {
      const t = tOuts[i] ?? null;
      if (t === null || o.dtype === 'int32') return o;
      if (!shapesEqual(t.shape, o.shape)) {
        throw new ShapeError(`internal: the jvp rule of '${prim.name}' gave a tangent of shape ${fmtShape(t.shape)} for an output of shape ${fmtShape(o.shape)}.`);
      }
      return new JVPTracer(this, o, t);
    });
  }
}

/** Lift leaves into a new JVP trace; returns the tracers. */
export function jvpTracers(trace: JVPTrace, primals: Tensor[], tangents: Tensor[]): Tensor[] {
  return primals.map((p, i) => new JVPTracer(trace, p, tangents[i]!));
}

export function checkTangent(op: string, p: Tensor, t: Tensor, i: number): void {
  if (!shapesEqual(p.shape, t.shape)) {
    throw new ShapeError(`${op}: tangent ${i} has shape ${fmtShape(t.shape)} but its primal has shape ${fmtShape(p.shape)}.`);
  }
  if (p.dtype !== t.dtype) throw new DTypeError(`${op}: tangent ${i} is ${t.dtype} but its primal is ${p.dtype}.`);
}

/**
 * jvp(f, primals, tangents) -> [f(...primals), J·tangents]. primals and tangents are arrays of
 * pytrees with matching structure, one entry per argument of f.
 */
export function jvp<T extends PyTree>(f: (...args: any[]) => T, primals: readonly PyTree[], tangents: readonly PyTree[]): [T, T] {
  if (!Array.isArray(primals) || !Array.isArray(tangents)) {
    throw new ShapeError('jvp(f, primals, tangents): primals and tangents must be arrays with one entry per argument of f.');
  }
  const [pl, pdef] = tensorLeaves('jvp (primals)', primals);
  const [tl, tdef] = tensorLeaves('jvp (tangents)', tangents);
  assertSameStructure('jvp', pdef, tdef, 'primals and tangents');
  pl.forEach((p, i) => checkTangent('jvp', p, tl[i]!, i));
  const trace = pushTrace((lvl) => new JVPTrace(lvl));
  let out: T;
  try {
    const args = unflatten(pdef, jvpTracers(trace, pl, tl)) as PyTree[];
    out = f(...args);
  } finally {
    popTrace(trace);
  }
  const [ol, odef] = tensorLeaves('jvp (outputs of f)', out);
  const po = ol.map((o) => (trace.own(o) ? o.primal : o));
  const to = ol.map((o) => (trace.own(o) && o.tangent ? o.tangent : zeros(o.shape, o.dtype)));
  return [unflatten(odef, po) as T, unflatten(odef, to) as T];
}
