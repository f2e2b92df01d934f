import { Tensor as TensorCtor, type Tensor } from '../tensor.js';
import { keep } from '../memory.js';
import { TracerError } from '../errors.js';
import { Trace, Tracer } from '../autodiff/core.js';
import type { Aval, Primitive } from '../autodiff/primitive.js';
import type { Backend } from '../backends/backend.js';

/**
 * The traced program, after JAX's jaxpr: typed variables (numbered), a list of primitive
 * applications over them, and the concrete tensors the function closed over (consts). Variables
 * 0..invars-1 are the inputs, then the consts, then each equation's outputs in order.
 */
export interface Eqn {
  prim: Primitive;
  params: unknown;
  inputs: number[];
  outputs: number[];
}
export interface Program {
  avals: Aval[];
  invars: number[];
  constvars: number[];
  consts: Tensor[];
  eqns: Eqn[];
  outvars: number[];
}

/** A value inside jit: only its aval is known; reading it on the host is an error. */
export class JitTracer extends Tracer {
  constructor(trace: JitTrace, readonly v: number, aval: Aval) {
    super(trace, aval);
  }
  _parts(): Tensor[] {
    return [];
  }
  concrete(): Tensor {
    throw new TracerError(
      'jit: a traced value was read on the host (dataSync/data/item/toArray or a branch on its value) while tracing. ' +
        'Mark that argument static (jit(f, { staticArgnums: [i] })) or move the read out of the jitted function.',
    );
  }
  override dispose(): void {}
  override _backendHint(): Backend {
    return (this._trace as JitTrace).backend;
  }
}

/** Records each primitive application; values from lower levels become consts. */
export class JitTrace extends Trace {
  readonly avals: Aval[] = [];
  readonly eqns: Eqn[] = [];
  readonly consts: Tensor[] = [];
  readonly constvars: number[] = [];
  private readonly constIds = new Map<Tensor, number>();
  constructor(level: number, readonly backend: Backend) {
    super(level);
  }

  newVar(aval: Aval): JitTracer {
    this.avals.push({ shape: aval.shape.slice(), dtype: aval.dtype });
    return new JitTracer(this, this.avals.length - 1, aval);
  }
  own(x: Tensor): x is JitTracer {
    return x instanceof JitTracer && x._trace === this;
  }
  varOf(x: Tensor): number {
    if (this.own(x)) return x.v;
    if (x instanceof Tracer) {
      throw new TracerError('jit: a value traced by an outer transform reached the jit trace; call jit outside the transform or pass the value as an argument.');
    }
    let id = this.constIds.get(x);
    if (id === undefined) {
      id = this.newVar(x).v;
      this.constIds.set(x, id);
      // The program holds its own reference to the storage: the op that made x (or the caller)
      // may dispose x after this call, and the program must outlive that.
      const c = x.concrete();
      // keep() at once: a tidy inside an op (linalg uses them) must not free the program's copy.
      this.consts.push(keep(new TensorCtor(c.shape, c.dtype, c._backend!.share(c._handle), c._backend)));
      this.constvars.push(id);
    }
    return id;
  }
  process(prim: Primitive, args: Tensor[], params: unknown, avals: Aval[]): Tensor[] {
    const inputs = args.map((a) => this.varOf(a));
    const outs = avals.map((av) => this.newVar(av));
    this.eqns.push({ prim, params, inputs, outputs: outs.map((o) => o.v) });
    return outs;
  }
}
