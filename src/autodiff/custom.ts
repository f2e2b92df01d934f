import type { Tensor } from '../tensor.js';
import { ConfigError } from '../errors.js';
import { popTrace, pushTrace, topTrace } from './core.js';
import type { Cotangent } from './primitive.js';
import { TapeTrace, TapeTracer } from './reverse.js';
import { JVPTrace, JVPTracer } from './forward.js';
import { flatten, tensorLeaves, unflatten, type PyTree } from './tree.js';
import { zeros } from './ops/creation.js';
import { BatchTrace, BatchTracer, vmap } from './batching.js';

/**
 * customJvp under vmap: a custom function of batched values is again a custom function — f and
 * the rule are both vmapped, so transforms below the vmap (a tape, a tangent scope) still see the
 * user's rule rather than differentiating f (which would lose, e.g., curvature at a kink of f).
 */
function batchedCustomJvp(
  top: BatchTrace,
  leaves: Tensor[],
  def: ReturnType<typeof tensorLeaves>[1],
  f: (...args: any[]) => PyTree,
  jvpRule: (primals: any, tangents: any) => [PyTree, PyTree],
): PyTree {
  const n = leaves.length;
  const axes = leaves.map((x) => (top.own(x) ? 0 : null));
  const vals = leaves.map((x) => (top.own(x) ? (x as BatchTracer).val : x));
  const fFlat = (...ls: Tensor[]) => f(...(unflatten(def, ls) as unknown[]));
  const ruleFlat = (...pt: Tensor[]) => jvpRule(unflatten(def, pt.slice(0, n)), unflatten(def, pt.slice(n)));
  const inner = customJvp(
    (...ls: Tensor[]) => vmap(fFlat, { inAxes: axes })(...ls),
    (ps: Tensor[], ts: Tensor[]) => vmap(ruleFlat, { inAxes: [...axes, ...axes] })(...ps, ...ts) as [PyTree, PyTree],
  );
  const out = inner(...vals);
  const [ol, odef] = tensorLeaves('customJvp (output under vmap)', out);
  return unflatten(odef, ol.map((o) => new BatchTracer(top, o)));
}

/**
 * Functions with user derivative rules. Both dispatch on the innermost active transform:
 * the rule is used by the transform it is written for, and every other transform differentiates
 * or batches through the ordinary function (or, for customJvp under reverse mode, through the
 * transpose of the user's linear tangent map, obtained by reverse mode over it).
 */

function lower(trace: { own(x: Tensor): boolean }, xs: Tensor[]): Tensor[] {
  return xs.map((x) => (trace.own(x) ? (x as unknown as TapeTracer | JVPTracer).primal : x));
}

/**
 * customVjp(f, fwd, bwd): f(...args) as usual; under reverse mode, fwd(...args) -> [out, residuals]
 * runs instead and bwd(residuals, ctOut) -> one cotangent per argument gives the gradient.
 */
export function customVjp<A extends any[], R extends PyTree>(
  f: (...args: A) => R,
  fwd: (...args: A) => [R, unknown],
  bwd: (residuals: any, ct: R) => PyTree[],
): (...args: A) => R {
  return (...args: A): R => {
    const [leaves, def] = tensorLeaves('customVjp (arguments)', args);
    const top = topTrace(leaves);
    if (!(top instanceof TapeTrace)) return f(...args);
    const primals = lower(top, leaves);
    const [out, residuals] = fwd(...(unflatten(def, primals) as A));
    const [outLeaves, outDef] = tensorLeaves('customVjp (fwd output)', out);
    const vjpRule = (cts: Cotangent[]): Cotangent[] => {
      const ct = unflatten(outDef, cts.map((c, i) => c ?? zeros(outLeaves[i]!.shape, outLeaves[i]!.dtype))) as R;
      const res = bwd(residuals, ct);
      if (!Array.isArray(res) || res.length !== args.length) {
        throw new ConfigError(`customVjp: bwd must return an array with one cotangent per argument (${args.length}), got ${Array.isArray(res) ? res.length : typeof res}.`);
      }
      const [rl] = flatten(res);
      if (rl.length !== leaves.length) throw new ConfigError(`customVjp: bwd returned ${rl.length} cotangent leaves for ${leaves.length} argument leaves.`);
      return rl.map((c) => (c === null || c === undefined ? null : (c as Tensor)));
    };
    const wrapped = top.record('customVjp', leaves, primals, outLeaves, vjpRule);
    return unflatten(outDef, wrapped) as R;
  };
}

/**
 * customJvp(f, jvpRule): jvpRule(primals, tangents) -> [out, tangentOut], with primals and
 * tangents arrays (one entry per argument). Used by jvp/jacfwd directly and, transposed, by grad.
 */
export function customJvp<A extends any[], R extends PyTree>(
  f: (...args: A) => R,
  jvpRule: (primals: A, tangents: A) => [R, R],
): (...args: A) => R {
  return (...args: A): R => {
    const [leaves, def] = tensorLeaves('customJvp (arguments)', args);
    const top = topTrace(leaves);
    if (top instanceof JVPTrace) {
      const primals = lower(top, leaves);
      const tangents = leaves.map((x, i) => (top.own(x) && (x as JVPTracer).tangent) || zeros(primals[i]!.shape, primals[i]!.dtype));
      const [out, tout] = jvpRule(unflatten(def, primals) as A, unflatten(def, tangents) as A);
      const [ol, odef] = tensorLeaves('customJvp (primal output)', out);
      const [tl] = tensorLeaves('customJvp (tangent output)', tout);
      return unflatten(odef, ol.map((o, i) => new JVPTracer(top, o, tl[i]!))) as R;
    }
    if (top instanceof TapeTrace) {
      const primals = lower(top, leaves);
      // reverse mode over the (linear) tangent map gives its transpose
      const inner = pushTrace((lvl) => new TapeTrace(lvl));
      let out: R;
      let tout: R;
      const tIds: number[] = [];
      try {
        const tracers = primals.map((p) => {
          const id = inner.newId();
          tIds.push(id);
          return new TapeTracer(inner, zeros(p.shape, p.dtype), id);
        });
        [out, tout] = jvpRule(unflatten(def, primals) as A, unflatten(def, tracers) as A);
      } finally {
        popTrace(inner);
      }
      const [ol, odef] = tensorLeaves('customJvp (primal output)', out);
      const [tl] = tensorLeaves('customJvp (tangent output)', tout);
      const vjpRule = (cts: Cotangent[]): Cotangent[] => {
        const seed = new Map<number, Tensor>();
        tl.forEach((t, i) => {
          const c = cts[i];
          if (c && inner.own(t)) seed.set((t as TapeTracer).id, c);
        });
        const got = inner.backward(seed);
        return tIds.map((id) => got.get(id) ?? null);
      };
      const wrapped = top.record('customJvp', leaves, primals, ol, vjpRule);
      return unflatten(odef, wrapped) as R;
    }
    if (top instanceof BatchTrace) return batchedCustomJvp(top, leaves, def, f, jvpRule) as R;
    return f(...args);
  };
}
