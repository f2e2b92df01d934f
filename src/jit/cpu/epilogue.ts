import type { Aval } from '../../autodiff/primitive.js';
import type { Eqn, Program } from '../ir.js';
import type { Step } from './fuse.js';

/**
 * The bias epilogue: a matmul whose product is read only by `add(product, bias)` in a fused loop,
 * where the bias broadcasts along the product's rows (shape [n], [1, n], ... or a single value),
 * becomes one step that writes product + bias (backends/cpu/matmul: the add runs in Wasm on the
 * product before it leaves Wasm memory, for any shapes, batch and transposes); the add leaves its
 * loop, whose other ops read the sum from memory (a loop left empty is dropped). The product
 * itself is never stored, and the add is the same IEEE add of the same two values, rounded to the
 * same dtype, so results stay equal to eager. The step moves to just before the loop (nothing in
 * between reads the product, and its operands were ready before), so a bias computed by a loop
 * placed after the matmul still qualifies.
 *
 * The step's equation is the matmul's with the bias as a third input and the add's output as its
 * output (compile.ts and direct.ts's matmulStep know a three-input matmul as this).
 */
export function biasEpilogues(prog: Program, steps: Step[], root: Int32Array, isMatmul: (s: Step) => boolean): Step[] {
  const avals = prog.avals;
  const outRoots = new Set(prog.outvars.map((v) => root[v]!));
  // readers of each root: [step index, equation]
  const readers = new Map<number, [number, Eqn][]>();
  const producedAt = new Map<number, number>();
  steps.forEach((s, i) => {
    const eqns = s.kind === 'group' ? [...s.eqns, ...(s.reduce ? [s.reduce] : [])] : [s.eqn];
    for (const e of eqns) {
      for (const u of e.inputs) {
        const r = root[u]!;
        if (!readers.has(r)) readers.set(r, []);
        readers.get(r)!.push([i, e]);
      }
      for (const o of e.outputs) producedAt.set(root[o]!, i);
    }
  });
  const out: (Step | null)[] = steps.slice();
  const before = new Map<number, Step[]>(); // fused steps to place before step j
  steps.forEach((s, i) => {
    if (s.kind !== 'kernel' || !isMatmul(s)) return;
    const mm = s.eqn.outputs[0]!;
    const r = root[mm]!;
    const rd = readers.get(r) ?? [];
    if (outRoots.has(r) || rd.length !== 1) return;
    const [j, add] = rd[0]!;
    const g = out[j]; // as earlier epilogues left it (one loop may end several matmuls)
    if (!g || g.kind !== 'group' || add.prim.name !== 'add' || !g.eqns.includes(add)) return;
    const k = root[add.inputs[0]!] === r ? 1 : 0;
    const [u, v] = [add.inputs[1 - k]!, add.inputs[k]!];
    const z = add.outputs[0]!;
    if (!rowBias(avals[mm]!, avals[u]!, avals[v]!, avals[z]!)) return;
    // the bias must exist before the loop; a reduction reading the sum needs it as a loop value
    const pv = producedAt.get(root[v]!);
    if (pv !== undefined && pv >= j) return;
    if (g.reduce && root[g.reduce.inputs[0]!] === root[z]) return;
    const rest = g.eqns.filter((e) => e !== add);
    if (rest.length === 0 && g.reduce) return;
    out[i] = null;
    if (!before.has(j)) before.set(j, []);
    before.get(j)!.push({ kind: 'kernel', eqn: { ...s.eqn, inputs: [...s.eqn.inputs, v], outputs: [z] } });
    out[j] = rest.length === 0 ? null : { ...g, eqns: rest };
  });
  return out.flatMap((s, j) => [...(before.get(j) ?? []), ...(s ? [s] : [])]);
}

/** u is the product as is, v a row (or one value) of the same dtype that broadcasts along its rows. */
function rowBias(mm: Aval, u: Aval, v: Aval, z: Aval): boolean {
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
  if (!same(u.shape, mm.shape) || !same(z.shape, mm.shape) || v.dtype !== mm.dtype || z.dtype !== mm.dtype) return false;
  const n = mm.shape[mm.shape.length - 1]!;
  if (v.shape.length > mm.shape.length) return false;
  const last = v.shape.length === 0 ? 1 : v.shape[v.shape.length - 1]!;
  return (last === n || last === 1) && v.shape.slice(0, -1).every((d) => d === 1);
}
