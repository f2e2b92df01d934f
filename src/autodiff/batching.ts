import type { Tensor } from '../tensor.js';
import { ConfigError, ShapeError } from '../errors.js';
import { bind, popTrace, pushTrace, Trace, Tracer } from './core.js';
import type { Aval, Primitive } from './primitive.js';
import { tensorLeaves, unflatten, type PyTree } from './tree.js';
import { broadcastTo, concat, expandDims, moveAxis, reshape, slice } from './ops/shape.js';
import { fmtShape } from '../shape.js';
import { checkKnown } from '../validate.js';

/**
 * vmap: a BatchTracer holds a value with an extra leading batch axis; each primitive's batch rule
 * maps the batched op onto one op over the whole batch. jacfwd/jacrev use it to push or pull a
 * chunk of basis vectors in one pass.
 */
export class BatchTracer extends Tracer {
  constructor(trace: BatchTrace, readonly val: Tensor) {
    super(trace, { shape: val.shape.slice(1), dtype: val.dtype });
  }
  _parts(): Tensor[] {
    return [this.val];
  }
  concrete(): Tensor {
    throw new ConfigError('cannot read the value of a tensor inside vmap (it stands for a whole batch). Return it from the vmapped function instead.');
  }
}

export class BatchTrace extends Trace {
  constructor(level: number, readonly size: number) {
    super(level);
  }
  own(x: Tensor): x is BatchTracer {
    return x instanceof BatchTracer && x._trace === this;
  }
  process(prim: Primitive, args: Tensor[], params: unknown, _avals: Aval[]): Tensor[] {
    const vals = args.map((a) => (this.own(a) ? a.val : a));
    const dims = args.map((a) => (this.own(a) ? 0 : null)) as (0 | null)[];
    const outs = prim.batch ? prim.batch(vals, dims, params, this.size) : loopBatch(prim, vals, dims, params, this.size);
    return outs.map((o) => new BatchTracer(this, o));
  }
}

/** Fallback batching: run the primitive once per example and stack (correct, not fast). */
export function loopBatch(prim: Primitive, vals: Tensor[], dims: (0 | null)[], params: unknown, size: number): Tensor[] {
  const per: Tensor[][] = [];
  for (let b = 0; b < size; b++) {
    const args = vals.map((v, i) => (dims[i] === 0 ? reshape(slice(v, [b], [1]), v.shape.slice(1)) : v));
    per.push(bind(prim, args, params));
  }
  return per[0]!.map((_, k) => concat(per.map((outs) => expandDims(outs[k]!, 0)), 0));
}

/** Options of `vmap`: the mapped axis of each argument (`inAxes`, null = not mapped) and of the outputs (`outAxes`). */
export interface VmapOptions {
  inAxes?: number | null | (number | null)[];
  outAxes?: number;
}

/**
 * vmap(f, { inAxes = 0, outAxes = 0 }): maps f over an axis of its arguments. inAxes is one entry
 * per argument (a number or null for "not mapped"), or one value for all; it applies to every
 * leaf of that argument's pytree.
 *
 * @typeParam F - the type of f; the mapped function keeps its parameter and return types.
 */
export function vmap<F extends (...args: any[]) => any>(f: F, opts?: VmapOptions): (...args: Parameters<F>) => ReturnType<F> {
  checkKnown('vmap', opts, ['inAxes', 'outAxes']);
  return ((...args: any[]) => {
    const inAxes = opts?.inAxes === undefined ? 0 : opts.inAxes;
    const axesPerArg = Array.isArray(inAxes) ? inAxes : args.map(() => inAxes);
    if (axesPerArg.length !== args.length) {
      throw new ConfigError(`vmap: inAxes has ${axesPerArg.length} entries but f was called with ${args.length} arguments.`);
    }
    let size = -1;
    const prepared = args.map((arg, i) => {
      const ax = axesPerArg[i];
      if (ax === null) return { arg, mapped: false };
      const [ls, def] = tensorLeaves('vmap', arg);
      const moved = ls.map((l) => {
        const a = ax! < 0 ? ax! + l.ndim : ax!;
        if (a < 0 || a >= l.ndim) throw new ShapeError(`vmap: in axis ${ax} is out of range for an argument of shape ${fmtShape(l.shape)}.`);
        if (size === -1) size = l.shape[a]!;
        else if (l.shape[a] !== size) throw new ShapeError(`vmap: mapped axes have different sizes (${size} and ${l.shape[a]}).`);
        return a === 0 ? l : moveAxis(l, a, 0);
      });
      return { arg: unflatten(def, moved), mapped: true };
    });
    if (size === -1) throw new ConfigError('vmap: no argument is mapped (every inAxes entry is null).');
    const trace = pushTrace((lvl) => new BatchTrace(lvl, size));
    let out: PyTree;
    try {
      const callArgs = prepared.map(({ arg, mapped }) => {
        if (!mapped) return arg;
        const [ls, def] = tensorLeaves('vmap', arg);
        return unflatten(def, ls.map((l) => new BatchTracer(trace, l)));
      });
      out = f(...callArgs);
    } finally {
      popTrace(trace);
    }
    const [ol, odef] = tensorLeaves('vmap (outputs of f)', out);
    const outAxis = opts?.outAxes ?? 0;
    const res = ol.map((o) => {
      const v = trace.own(o) ? o.val : broadcastTo(expandDims(o, 0), [size, ...o.shape]);
      return outAxis === 0 ? v : moveAxis(v, 0, outAxis);
    });
    return unflatten(odef, res);
  }) as (...args: Parameters<F>) => ReturnType<F>;
}
