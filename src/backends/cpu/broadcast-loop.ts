import type { TypedArray } from '../../dtype.js';
import { broadcastStrides } from '../../shape.js';

/**
 * Elementwise kernels generated from an expression in the operands a0..a(n-1), one function per
 * expression and array types, so each kernel is a tight monomorphic loop V8 can optimise (a shared
 * loop calling an op closure would be megamorphic and several times slower; one loop for every
 * array type made the element loads polymorphic: a float64 add over [900, 6000] took ≈3.4 ns an
 * element instead of ≈2.4, on a loaded machine).
 */
export type NaryKernel = (inputs: TypedArray[], shapes: (readonly number[])[], out: TypedArray, outShape: readonly number[]) => void;

const cache = new Map<string, NaryKernel>();
const kinds = new Map<unknown, string>([[Float64Array, 'd'], [Float32Array, 'f'], [Int32Array, 'i']]);
const kindOf = (a: TypedArray) => kinds.get(a.constructor) ?? 'o';

/** The kernel of `expr`: dispatches on the array types to a loop compiled for them (on first use). */
export function naryKernel(arity: number, expr: string, helpers: Record<string, unknown> = {}): NaryKernel {
  const key = `${arity}:${expr}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const typed = new Map<string, NaryKernel>();
  const k: NaryKernel = (inputs, shapes, out, outShape) => {
    let sig = kindOf(out);
    for (let i = 0; i < arity; i++) sig += kindOf(inputs[i]!);
    let f = typed.get(sig);
    if (!f) typed.set(sig, (f = compileKernel(arity, expr, helpers)));
    f(inputs, shapes, out, outShape);
  };
  cache.set(key, k);
  return k;
}

function compileKernel(arity: number, expr: string, helpers: Record<string, unknown>): NaryKernel {
  const args = Array.from({ length: arity }, (_, i) => `a${i}`);
  const load = (idx: (i: number) => string) => args.map((a, i) => `const ${a} = x${i}[${idx(i)}];`).join(' ');
  const src = `
    const ${args.map((_, i) => `x${i} = inputs[${i}]`).join(', ')};
    const n = out.length;
    if (n === 0) return;
    let same = true;
    for (let k = 0; k < ${arity}; k++) if (inputs[k].length !== n) same = false;
    if (same) {
      for (let i = 0; i < n; i++) { ${load(() => 'i')} out[i] = ${expr}; }
      return;
    }
    const rank = outShape.length;
    ${args.map((_, i) => `const st${i} = bstrides(shapes[${i}], outShape);`).join('\n')}
    const inner = rank === 0 ? 1 : outShape[rank - 1];
    ${args.map((_, i) => `const is${i} = rank === 0 ? 0 : st${i}[rank - 1];`).join(' ')}
    const idx = new Array(rank).fill(0);
    ${args.map((_, i) => `let o${i} = 0;`).join(' ')}
    for (let base = 0; base < n; base += inner) {
      ${args.map((_, i) => `let p${i} = o${i};`).join(' ')}
      for (let j = 0; j < inner; j++) {
        ${load((i) => `p${i}`)}
        out[base + j] = ${expr};
        ${args.map((_, i) => `p${i} += is${i};`).join(' ')}
      }
      for (let ax = rank - 2; ax >= 0; ax--) {
        idx[ax]++;
        ${args.map((_, i) => `o${i} += st${i}[ax];`).join(' ')}
        if (idx[ax] < outShape[ax]) break;
        ${args.map((_, i) => `o${i} -= st${i}[ax] * idx[ax];`).join(' ')}
        idx[ax] = 0;
      }
    }`;
  const names = Object.keys(helpers);
  const make = new Function('bstrides', ...names, `return function kernel(inputs, shapes, out, outShape) {${src}}`);
  return make(broadcastStrides, ...names.map((n) => helpers[n])) as NaryKernel;
}
