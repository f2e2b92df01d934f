import type { Eqn, Program } from '../ir.js';
import { sizeOf } from '../../shape.js';
import { MAX_FUSED_NODES, sameUpToLeadingOnes } from '../../backends/webgpu/lazy.js';

/**
 * The fusion plan of a traced program on WebGPU: the decisions the backend's lazy elementwise
 * fusion (src/backends/webgpu/lazy.ts) makes at run time, made once over the whole program.
 *
 * Every fusible elementwise equation becomes an expression over its inputs: an input computed by
 * another elementwise equation of the same size (read at its own layout) is inlined, as lazy
 * fusion does, while the expression stays under MAX_FUSED_NODES and under the device's binding
 * limit; any other input is a leaf (a buffer). An elementwise value is computed into a buffer
 * (materialized: one fused kernel) only where a buffer is needed: it is a leaf of some expression,
 * the input of a kernel, or a program output. Everything else is inlined and never stored.
 */
export interface EwPlan {
  eqn: Eqn;
  /** per input: inline the elementwise value of this root, or read variable `leaf` as a buffer */
  args: ({ inline: number } | { leaf: number })[];
  weight: number;
  /** the storage roots this expression reads, through its inlined inputs */
  leaves: Set<number>;
}

export type Action =
  | { kind: 'ew'; v: number } // a materialized elementwise value (its expression: Plan.ew): one fused kernel
  | { kind: 'kernel'; eqn: Eqn };

export interface Plan {
  /** the variable whose storage each variable shares (itself, or a view's input's root) */
  root: Int32Array;
  /** elementwise values by root */
  ew: Map<number, EwPlan>;
  /** the steps in program order: fused kernels and other kernels (inlined values have none) */
  actions: Action[];
  /** per action, the storage roots it reads */
  reads: number[][];
}

/**
 * `fusible(eqn)` says which equations may be expressions (the backend's FUSABLE ops with their
 * built-in kernels); `fuse` false makes each its own kernel; `maxLeaves` is how many buffers one
 * fused kernel may read.
 */
export function planProgram(prog: Program, fusible: (e: Eqn) => boolean, fuse: boolean, maxLeaves: number): Plan {
  const avals = prog.avals;
  const root = new Int32Array(avals.length).map((_, i) => i);
  const ew = new Map<number, EwPlan>();
  const materialized = new Set<number>();
  const order: Eqn[] = [];
  const leafOf = (u: number) => {
    const r = root[u]!;
    if (ew.has(r)) materialized.add(r);
    return { leaf: u };
  };
  for (const e of prog.eqns) {
    if (e.prim.view) {
      root[e.outputs[0]!] = root[e.inputs[0]!]!;
      continue;
    }
    order.push(e);
    if (!fusible(e)) {
      for (const u of e.inputs) leafOf(u);
      continue;
    }
    const out = e.outputs[0]!;
    const n = sizeOf(avals[out]!.shape);
    const inlinable = (u: number, weight: number) => {
      const p = ew.get(root[u]!);
      return fuse && p !== undefined && sizeOf(avals[u]!.shape) === n && sameUpToLeadingOnes(avals[u]!.shape, avals[root[u]!]!.shape) && weight + p.weight <= MAX_FUSED_NODES;
    };
    let weight = 1;
    let args: EwPlan['args'] = e.inputs.map((u) => {
      if (!inlinable(u, weight)) return { leaf: u };
      weight += ew.get(root[u]!)!.weight;
      return { inline: root[u]! };
    });
    const leavesOf = (as: EwPlan['args']) => {
      const s = new Set<number>();
      for (const a of as) {
        if ('leaf' in a) s.add(root[a.leaf]!);
        else for (const l of ew.get(a.inline)!.leaves) s.add(l);
      }
      return s;
    };
    let leaves = leavesOf(args);
    if (leaves.size > maxLeaves) {
      // too many buffers for one kernel: read every input as a computed buffer (as lazy.ts does)
      args = e.inputs.map((u) => ({ leaf: u }));
      weight = 1;
      leaves = leavesOf(args);
    }
    for (const a of args) if ('leaf' in a) leafOf(a.leaf);
    ew.set(out, { eqn: e, args, weight, leaves });
  }
  for (const v of prog.outvars) leafOf(v);

  const actions: Action[] = [];
  const reads: number[][] = [];
  for (const e of order) {
    const v = e.outputs[0]!;
    const p = ew.get(v);
    if (p && p.eqn === e) {
      if (!materialized.has(v)) continue;
      actions.push({ kind: 'ew', v });
      reads.push([...p.leaves]);
    } else {
      actions.push({ kind: 'kernel', eqn: e });
      reads.push(e.inputs.map((u) => root[u]!));
    }
  }
  return { root, ew, actions, reads };
}
