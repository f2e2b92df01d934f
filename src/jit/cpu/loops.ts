import type { Aval } from '../../autodiff/primitive.js';
import { broadcastStrides } from '../../shape.js';
import type { Group } from './fuse.js';
import { exprHelpers, exprOf } from './exprs.js';

/**
 * Source of one fused group as a function of B, the program's buffer table (B[r] is the typed
 * array of storage root r). Each member becomes one `const` per element, in program order and
 * rounded to its dtype, so values match eager dispatch bit for bit; members read later by other
 * steps (or returned) are stored, the rest never leave registers.
 *
 * A reduction at the end of the group walks its input exactly as the CPU kernel
 * (backends/cpu/reduce.ts) does: memory order, a float64 accumulator per output element, and for
 * a sum over the last axis a running row total added once per row. Same order, same rounding.
 */
export interface GroupCode {
  src: string;
  /** Float64 scratch length the reduction needs (null: none, or it accumulates straight into its output). */
  scratch: number | null;
  /**
   * Loop bounds and strides, bound as k0, k1... when the function is made: out of the source
   * text, so a retrace at another batch size reuses the same generated function (and V8's
   * compiled code for it) instead of compiling a new one.
   */
  consts: number[];
}

interface Load {
  name: string;
  buf: string;
  strides: number[];
  /** The deepest loop axis with a non-zero stride (-1: one value for the whole loop). */
  depth: number;
  full: boolean;
}

export function groupSource(g: Group, avals: readonly Aval[], root: Int32Array, stored: ReadonlySet<number>): GroupCode {
  const L = g.shape;
  const rank = L.length;
  const consts: number[] = [];
  const num = (v: number) => {
    consts.push(v);
    return `k${consts.length - 1}`;
  };
  let size = 1;
  for (const d of L) size *= d;
  const members = new Set(g.eqns.map((e) => e.outputs[0]!));
  const bufs = new Set<number>();
  const loads = new Map<number, Load>();
  const operand = (u: number): string => {
    const r = root[u]!;
    if (members.has(r)) return `v${r}`;
    let l = loads.get(u);
    if (!l) {
      bufs.add(r);
      const shape = avals[u]!.shape;
      let n = 1;
      for (const d of shape) n *= d;
      const strides = broadcastStrides(shape, L);
      let depth = -1;
      strides.forEach((s, k) => (s !== 0 && L[k] !== 1 ? (depth = k) : 0));
      l = { name: `l${u}`, buf: `x${r}`, strides, depth, full: n === size && n > 1 };
      loads.set(u, l);
    }
    return l.name;
  };
  const body: string[] = [];
  for (const e of g.eqns) {
    const ops = e.inputs.map(operand);
    const intIn = avals[e.inputs[0]!]!.dtype === 'int32';
    const out = e.outputs[0]!;
    body.push(`const v${out} = ${exprOf(e.prim.name, ops, intIn, avals[out]!.dtype)};`);
  }
  for (const r of members) if (stored.has(r)) {
    bufs.add(r);
    body.push(`x${r}[i] = v${r};`);
  }
  const red = g.reduce;
  const head: string[] = [];
  let scratch: number | null = null;
  let kind = '';
  let accStr: number[] = [];
  let redIn = '';
  let redOut = 0;
  if (red) {
    kind = red.prim.name;
    redIn = `v${root[red.inputs[0]!]}`;
    redOut = red.outputs[0]!;
    bufs.add(redOut);
    const outDtype = avals[redOut]!.dtype;
    const axes = (red.params as { axes: number[] }).axes;
    accStr = new Array<number>(rank).fill(0);
    let s = 1;
    let outSize = 1;
    for (let i = rank - 1; i >= 0; i--) {
      if (axes.includes(i)) continue;
      accStr[i] = s;
      s *= L[i]!;
    }
    for (let i = 0; i < rank; i++) if (!axes.includes(i)) outSize *= L[i]!;
    if (outDtype === 'float64') head.push(`const acc = x${redOut};`);
    else {
      scratch = outSize;
      head.push('const acc = scratch;');
    }
    head.push(`acc.fill(${kind === 'reduceSum' ? '0' : kind === 'reduceMax' ? '-Infinity' : 'Infinity'});`);
  }
  for (const r of bufs) head.unshift(`const x${r} = B[${r}];`);
  const tail: string[] = [];
  if (scratch !== null) tail.push(`for (let k = 0; k < ${num(scratch)}; k++) x${redOut}[k] = acc[k];`);

  const loadAt = (l: Load, idx: string) => `const ${l.name} = ${l.buf}[${idx}];`;
  const all = [...loads.values()];
  const scalars = all.filter((l) => l.depth < 0);
  let loop: string;
  if (size === 0) loop = '';
  else if (rank === 0 || (!red && all.every((l) => l.full || l.depth < 0))) {
    // one flat loop: every operand is contiguous over the loop or a single value
    const flat = all.filter((l) => l.depth >= 0).map((l) => loadAt(l, 'i')).join(' ');
    const acc = red ? 'acc[0] = ' + redIn + ';' : ''; // rank 0: the kernel copies its one element
    loop = `${scalars.map((l) => loadAt(l, '0')).join(' ')}
      for (let i = 0; i < ${num(size)}; i++) { ${flat} ${body.join(' ')} ${acc} }`;
  } else loop = scalars.map((l) => loadAt(l, '0')).join(' ') + nested(L, all.filter((l) => l.depth >= 0), body, red ? { kind, accStr, v: redIn } : null, num);
  const src = `${head.join('\n')}\n${loop}\n${tail.join('\n')}`;
  return { src, scratch, consts };
}

/**
 * Nested loops over the loop shape with one running offset per broadcast operand; each is loaded
 * at the depth of its innermost moving axis, contiguous (full) operands in the innermost body at
 * the flat counter i. Without a reduction, size-1 axes are dropped and axes that every operand
 * walks contiguously are merged first (with one, the loops must keep the kernel's row structure).
 */
function nested(shape: readonly number[], loads: Load[], body: string[], red: { kind: string; accStr: number[]; v: string } | null, num: (v: number) => string): string {
  let dims = shape.slice();
  let strides = loads.map((l) => l.strides.slice());
  let accStr = red ? red.accStr.slice() : [];
  if (!red) {
    // drop size-1 axes, then merge neighbours that every strided operand walks contiguously
    const keep = dims.map((d) => d !== 1);
    dims = dims.filter((_, k) => keep[k]);
    strides = strides.map((s) => s.filter((_, k) => keep[k]));
    for (let k = dims.length - 2; k >= 0; k--) {
      const ok = strides.every((s) => s[k] === s[k + 1]! * dims[k + 1]!);
      if (ok) {
        dims.splice(k, 2, dims[k]! * dims[k + 1]!);
        strides.forEach((s) => s.splice(k, 2, s[k + 1]!));
      }
    }
    if (dims.length === 0) {
      dims = [1];
      strides = strides.map(() => [0]);
    }
  }
  const R = dims.length;
  const depthOf = (s: number[]) => {
    let d = -1;
    s.forEach((x, k) => (x !== 0 ? (d = k) : 0));
    return d;
  };
  // full operands: depth -2, never loaded at an outer level (see fullLoads)
  const offs = loads.map((l, j) => ({ name: `p${j}`, s: strides[j]!, load: l, depth: l.full ? -2 : depthOf(strides[j]!), full: l.full }));
  const acc = red ? { name: 'pa', s: accStr } : null;
  const moving = [...offs.filter((o) => !o.full), ...(acc ? [acc] : [])];
  const gen = (k: number): string => {
    const init = moving.map((o) => `, ${o.name}_${k} = ${k === 0 ? '0' : `${o.name}_${k - 1}`}`).join('');
    const inc = moving.filter((o) => o.s[k] !== 0).map((o) => `, ${o.name}_${k} += ${num(o.s[k]!)}`).join('');
    const here = offs.filter((o) => o.depth === k).map((o) => `const ${o.load.name} = ${o.load.buf}[${o.name}_${k}];`).join(' ');
    const inner = k === R - 1;
    let content: string;
    if (inner) {
      let accum = '';
      if (red) {
        const pa = `pa_${k}`;
        if (red.kind === 'reduceSum') accum = red.accStr[k] === 0 ? `t += ${red.v};` : `acc[${pa}] += ${red.v};`;
        else {
          const cmp = red.kind === 'reduceMax' ? '>' : '<';
          accum = `if (${red.v} ${cmp} acc[${pa}] || ${red.v} !== ${red.v}) acc[${pa}] = ${red.v};`;
        }
      }
      const fullLoads = offs.filter((o) => o.full).map((o) => `const ${o.load.name} = ${o.load.buf}[i];`).join(' ');
      content = `${here} ${fullLoads} ${body.join(' ')} ${accum} i++;`;
    } else content = `${here} ${gen(k + 1)}`;
    const loop = `for (let j${k} = 0${init}; j${k} < ${num(dims[k]!)}; j${k}++${inc}) { ${content} }`;
    if (inner && red && red.kind === 'reduceSum' && red.accStr[k] === 0) {
      // the kernel's row total: t over the last axis, then one add into the accumulator
      return `{ let t = 0; ${loop} acc[${k === 0 ? '0' : `pa_${k - 1}`}] += t; }`;
    }
    return loop;
  };
  return `let i = 0; ${gen(0)}`;
}

/** Builds the group's function; `scratch` is its reduction accumulator when it needs one. */
export function makeGroupFn(code: GroupCode, scratch: Float64Array | null): (B: unknown[]) => void {
  const key = `${code.consts.length}|${code.src}`;
  let make = made.get(key);
  if (!make) {
    if (made.size > 2000) made.clear();
    const bind = code.consts.length > 0 ? `const ${code.consts.map((_, i) => `k${i} = K[${i}]`).join(', ')};` : '';
    make = new Function(...Object.keys(exprHelpers), 'scratch', 'K', `${bind}\nreturn function fused(B) {\n${code.src}\n}`) as Maker;
    made.set(key, make);
  }
  return make(...Object.values(exprHelpers), scratch, code.consts);
}
type Maker = (...args: unknown[]) => (B: unknown[]) => void;
const made = new Map<string, Maker>();
