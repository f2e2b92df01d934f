import type { DType } from '../../dtype.js';
import type { Eqn, Program } from '../ir.js';

/**
 * Fusion plan: the program's equations regrouped into steps. A group is a run of elementwise
 * equations over one loop shape (their common output shape; other operands broadcast into it),
 * optionally ended by a reduction of one of its values, all evaluated in one generated loop. Every
 * other equation is a step of its own (matmul, linalg, shape ops... keep their kernels).
 *
 * Groups stay open while unrelated equations go by, so a backward pass that alternates shapes
 * still fuses; a group is closed (placed in the step list) as soon as anything outside it reads
 * one of its values, or a reduction ends it. An open group never reads another open group's
 * values (reading one closes it first), so closed groups are always placed after their inputs.
 */
export interface Group {
  kind: 'group';
  shape: readonly number[];
  eqns: Eqn[];
  /** A reduction of a member's value, accumulated inside the loop (its input has the loop shape). */
  reduce: Eqn | null;
}
export interface KernelStep {
  kind: 'kernel';
  eqn: Eqn;
}
export type Step = Group | KernelStep;

const REDUCTIONS = new Set(['reduceSum', 'reduceMax', 'reduceMin']);

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Groups the program's equations into steps; `canFuse(op, dtype, size)` says which elementwise ops
 * and reductions may go into loops (dtype, size: the equation's output dtype and element count). `root[v]` is the variable whose storage v shares:
 * itself, or for a view (reshape, stopGradient) the root of its input.
 */
export function fuse(prog: Program, canFuse: (op: string, dtype: DType, size: number) => boolean): { steps: Step[]; root: Int32Array } {
  const root = new Int32Array(prog.avals.length).map((_, i) => i);
  const steps: Step[] = [];
  const open: Group[] = [];
  const memberOf = new Map<number, Group>(); // root → the open group that computes it
  const close = (g: Group) => {
    open.splice(open.indexOf(g), 1);
    for (const e of g.eqns) for (const o of e.outputs) memberOf.delete(o);
    steps.push(g);
  };
  for (const e of prog.eqns) {
    if (e.prim.view) {
      root[e.outputs[0]!] = root[e.inputs[0]!]!;
      continue;
    }
    const name = e.prim.name;
    const outShape = prog.avals[e.outputs[0]!]!.shape;
    const outDtype = prog.avals[e.outputs[0]!]!.dtype;
    const outSize = outShape.reduce((a, b) => a * b, 1);
    if (!REDUCTIONS.has(name) && canFuse(name, outDtype, outSize) && e.outputs.length === 1) {
      let g = open.find((h) => sameShape(h.shape, outShape));
      for (const u of e.inputs) {
        const h = memberOf.get(root[u]!);
        if (!h) continue;
        // a member read at its own index (same shape, same group) stays in a register
        if (h === g && sameShape(prog.avals[u]!.shape, outShape)) continue;
        close(h);
        if (h === g) g = undefined;
      }
      if (!g) {
        g = { kind: 'group', shape: outShape, eqns: [], reduce: null };
        open.push(g);
      }
      g.eqns.push(e);
      memberOf.set(e.outputs[0]!, g);
      continue;
    }
    if (REDUCTIONS.has(name) && canFuse(name, outDtype, outSize)) {
      const u = e.inputs[0]!;
      const h = memberOf.get(root[u]!);
      if (h && sameShape(prog.avals[u]!.shape, h.shape)) {
        h.reduce = e;
        close(h);
        continue;
      }
    }
    for (const u of e.inputs) {
      const h = memberOf.get(root[u]!);
      if (h) close(h);
    }
    steps.push({ kind: 'kernel', eqn: e });
  }
  while (open.length > 0) close(open[0]!);
  return { steps, root };
}
