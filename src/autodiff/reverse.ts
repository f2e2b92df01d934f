import type { Tensor } from '../tensor.js';
import { ConfigError, DTypeError, ShapeError } from '../errors.js';
import { bind, popTrace, pushTrace, Trace, Tracer } from './core.js';
import type { Aval, Cotangent, Primitive } from './primitive.js';
import { assertSameStructure, tensorLeaves, unflatten, type PyTree, describeDef, flatten } from './tree.js';
import { add } from './ops/elementwise.js';
import { full, zeros } from './ops/creation.js';
import { fmtShape, shapesEqual } from '../shape.js';
import { tidy } from '../memory.js';
import { checkKnown } from '../validate.js';

/**
 * Reverse mode: a tape (Wengert list). While f runs, each op on a taped value appends a node;
 * the pullback walks the nodes backwards, calling each primitive's vjp rule. The rules are ops
 * themselves, so the backward pass can be recorded by an outer transform (grad of grad, hvp).
 */
export interface TapeNode {
  inputIds: number[];
  outIds: number[];
  primals: Tensor[];
  outs: Tensor[];
  vjp: (cts: Cotangent[]) => Cotangent[];
  name: string;
}

export class TapeTracer extends Tracer {
  constructor(trace: TapeTrace, readonly primal: Tensor, readonly id: number) {
    super(trace, primal);
  }
  _parts(): Tensor[] {
    return [this.primal];
  }
  concrete(): Tensor {
    return this.primal.concrete();
  }
}

export class TapeTrace extends Trace {
  nodes: TapeNode[] = [];
  private nextId = 0;

  own(x: Tensor): x is TapeTracer {
    return x instanceof TapeTracer && x._trace === this;
  }

  newId(): number {
    return this.nextId++;
  }

  /**
   * Keep a value alive past inner tidy scopes while this tape may still need it. The outermost
   * active tape wins: it outlives the inner ones.
   */
  hold(t: Tensor): void {
    for (const c of (t as Partial<Tracer>)._parts ? (t as Tracer)._parts() : [t]) {
      if (!c._backend) this.hold(c);
      else if (c._heldBy === null || !c._heldBy.active || this.level < c._heldBy.level) c._heldBy = this;
    }
  }

  record(name: string, inputs: Tensor[], primals: Tensor[], outs: Tensor[], vjp: TapeNode['vjp']): Tensor[] {
    const outIds = outs.map(() => this.newId());
    for (const p of primals) this.hold(p);
    for (const o of outs) this.hold(o);
    this.nodes.push({ inputIds: inputs.map((a) => (this.own(a) ? a.id : -1)), outIds, primals, outs, vjp, name });
    return outs.map((o, i) => (o.dtype === 'int32' ? o : new TapeTracer(this, o, outIds[i]!)));
  }

  process(prim: Primitive, args: Tensor[], params: unknown, _avals: Aval[]): Tensor[] {
    const primals = args.map((a) => (this.own(a) ? a.primal : a));
    const outs = bind(prim, primals, params);
    if (prim.nondiff) return outs;
    if (!prim.vjp) {
      throw new ConfigError(`grad: primitive '${prim.name}' has no reverse (vjp) rule. Give definePrimitive a vjp rule, or mark it nondiff.`);
    }
    const vjp = prim.vjp;
    const needs = args.map((a) => this.own(a));
    return this.record(prim.name, args, primals, outs, (cts) => vjp(cts, primals, outs, params, needs));
  }

  /** Accumulate cotangents from the outputs back to the node ids in `wanted`. */
  backward(seed: Map<number, Tensor>): Map<number, Tensor> {
    const cts = seed;
    for (let n = this.nodes.length - 1; n >= 0; n--) {
      const node = this.nodes[n]!;
      let any = false;
      const outCts = node.outIds.map((id) => {
        const c = cts.get(id) ?? null;
        if (c) any = true;
        return c;
      });
      if (!any) continue;
      const inCts = node.vjp(outCts);
      node.inputIds.forEach((id, i) => {
        const c = inCts[i];
        if (id < 0 || !c) return;
        const p = node.primals[i]!;
        if (!shapesEqual(c.shape, p.shape)) {
          throw new ShapeError(`internal: vjp of '${node.name}' gave a cotangent of shape ${fmtShape(c.shape)} for an input of shape ${fmtShape(p.shape)}.`);
        }
        const prev = cts.get(id);
        cts.set(id, prev ? add(prev, c) : c);
      });
    }
    return cts;
  }
}

/** The function `vjp` returns: maps an output cotangent to one cotangent pytree per primal argument. */
export type Pullback = (cotangent: PyTree) => PyTree[];

/**
 * vjp(f, ...primals) -> [f(...primals), pullback]; pullback(ct) returns one cotangent pytree per
 * primal argument. The pullback may be called many times (jacrev calls it once per chunk).
 * Intermediates stay alive until the enclosing tidy scope ends: call the pullback inside it.
 */
export function vjp<T extends PyTree>(f: (...args: any[]) => T, ...primals: PyTree[]): [T, Pullback] {
  const [pl, pdef] = tensorLeaves('vjp (primals)', primals);
  const trace = pushTrace((lvl) => new TapeTrace(lvl));
  const inIds: number[] = [];
  let out: T;
  try {
    const tracers = pl.map((p) => {
      const id = trace.newId();
      inIds.push(id);
      trace.hold(p);
      return p.dtype === 'int32' ? p : new TapeTracer(trace, p, id);
    });
    out = f(...(unflatten(pdef, tracers) as PyTree[]));
  } finally {
    popTrace(trace);
  }
  const [ol, odef] = tensorLeaves('vjp (outputs of f)', out);
  const outPrimals = ol.map((o) => (trace.own(o) ? o.primal : o));
  const outIds = ol.map((o) => (trace.own(o) ? o.id : -1));
  const pullback: Pullback = (cotangent) => {
    const [cl, cdef] = tensorLeaves('vjp pullback (cotangent)', cotangent);
    assertSameStructure('vjp pullback', odef, cdef, 'the outputs of f and the cotangent');
    cl.forEach((c, i) => {
      const o = outPrimals[i]!;
      if (!shapesEqual(c.shape, o.shape)) throw new ShapeError(`vjp pullback: cotangent ${i} has shape ${fmtShape(c.shape)}, but output ${i} has shape ${fmtShape(o.shape)}.`);
      if (c.dtype !== o.dtype) throw new DTypeError(`vjp pullback: cotangent ${i} is ${c.dtype}, but output ${i} is ${o.dtype}.`);
    });
    const seed = new Map<number, Tensor>();
    outIds.forEach((id, i) => {
      if (id < 0) return;
      const prev = seed.get(id);
      seed.set(id, prev ? add(prev, cl[i]!) : cl[i]!);
    });
    const cts = trace.backward(seed);
    const res = pl.map((p, i) => cts.get(inIds[i]!) ?? zeros(p.shape, p.dtype));
    return unflatten(pdef, res) as PyTree[];
  };
  return [unflatten(odef, outPrimals) as T, pullback];
}

/** Options of `grad`/`valueAndGrad`: which arguments to differentiate (`argnums`) and whether f returns [value, aux] (`hasAux`). */
export interface GradOptions {
  argnums?: number | number[];
  hasAux?: boolean;
}

function checkGradOptions(op: string, opts: GradOptions | undefined): void {
  checkKnown(op, opts, ['argnums', 'hasAux']);
}

/**
 * valueAndGrad(f, { argnums = 0, hasAux }) -> (...args) => [value, grads] (or [[value, aux], grads]).
 * f must return a scalar (or [scalar, aux] with hasAux). grads mirror the structure of the
 * differentiated arguments: one pytree for a single argnum, an array for a list.
 */
export function valueAndGrad(f: (...args: any[]) => any, opts?: GradOptions): (...args: any[]) => [any, any] {
  checkGradOptions('valueAndGrad', opts);
  const argnums = opts?.argnums ?? 0;
  const list = Array.isArray(argnums) ? argnums : [argnums];
  return (...args: any[]) => {
    for (const a of list) {
      if (!Number.isInteger(a) || a < 0 || a >= args.length) {
        throw new ConfigError(`grad: argnums ${JSON.stringify(argnums)} is out of range for a call with ${args.length} argument(s).`);
      }
    }
    return tidy(() => {
      let aux: unknown;
      const g = (...diffArgs: any[]) => {
        const full = [...args];
        list.forEach((a, i) => (full[a] = diffArgs[i]));
        const r = f(...full);
        let value = r;
        if (opts?.hasAux) {
          if (!Array.isArray(r) || r.length !== 2) throw new ConfigError('grad with hasAux: f must return [value, aux].');
          [value, aux] = r;
        }
        checkScalar(value);
        return value;
      };
      const [value, pullback] = vjp(g, ...list.map((a) => args[a]));
      const ct = onesScalar(value as Tensor);
      const grads = pullback(ct);
      const gradsOut = Array.isArray(argnums) ? grads : grads[0];
      return [opts?.hasAux ? [value, lowerAux(aux)] : value, gradsOut] as [any, any];
    });
  };
}

/** aux leaves recorded on the (now closed) tape become their primal values, as JAX returns aux. */
function lowerAux(aux: unknown): unknown {
  const [ls, def] = flatten(aux);
  return unflatten(def, ls.map((l) => (l instanceof TapeTracer && !l._trace.active ? l.primal : l)));
}

/** grad(f, { argnums = 0, hasAux }): the gradient of a scalar function (reverse mode), shaped like the differentiated arguments. */
export function grad(f: (...args: any[]) => any, opts?: GradOptions): (...args: any[]) => any {
  const vg = valueAndGrad(f, opts);
  // the value is computed anyway; the outer tidy frees it
  return (...args: any[]) => tidy(() => vg(...args)[1]);
}

function checkScalar(value: unknown): void {
  const [ls, def] = flatten(value);
  const v = ls[0] as Tensor | undefined;
  if (ls.length !== 1 || !v || typeof (v as Tensor).shape !== 'object' || (v as Tensor).size !== 1) {
    throw new ShapeError(
      `grad: f must return a scalar Tensor, got ${ls.length === 1 && v && (v as Tensor).shape ? `shape ${fmtShape((v as Tensor).shape)}` : describeDef(def)}. ` +
        'Reduce it (e.g. .sum() or .mean()), use hasAux for extra outputs, or use vjp/jacrev for non-scalar outputs.',
    );
  }
  if ((v as Tensor).dtype === 'int32') throw new DTypeError('grad: f returned an int32 value; differentiate a float output.');
}

function onesScalar(v: Tensor): Tensor {
  return full(v.shape, 1, v.dtype);
}
