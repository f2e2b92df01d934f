import { Tensor } from '../tensor.js';
import { ConfigError, ShapeError } from '../errors.js';

/**
 * Pytrees: nested plain objects and arrays whose leaves are Tensors (or other values: numbers,
 * strings, null). Object keys are visited in sorted order, as JAX does for dicts, so two states
 * with the same keys flatten the same way whatever order they were built in.
 */
export type PyTree = unknown;

/** The structure of a pytree without its leaves, as `flatten` returns it. */
export type TreeDef =
  | { kind: 'leaf' }
  | { kind: 'array'; children: TreeDef[] }
  | { kind: 'object'; keys: string[]; children: TreeDef[] };

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (x === null || typeof x !== 'object' || x instanceof Tensor) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/** The leaves of a pytree (object keys in sorted order) and its structure. */
export function flatten(tree: PyTree): [unknown[], TreeDef] {
  const leaves: unknown[] = [];
  const walk = (x: unknown): TreeDef => {
    if (Array.isArray(x)) return { kind: 'array', children: x.map(walk) };
    if (isPlainObject(x)) {
      const keys = Object.keys(x).sort();
      return { kind: 'object', keys, children: keys.map((k) => walk(x[k])) };
    }
    leaves.push(x);
    return { kind: 'leaf' };
  };
  const def = walk(tree);
  return [leaves, def];
}

/**
 * The Tensor leaves of a pytree, in flatten's order, without building its structure: a state
 * holding long arrays of numbers (a sampler's bookkeeping) is walked without one object per
 * element.
 */
export function tensorsIn(tree: PyTree): Tensor[] {
  const out: Tensor[] = [];
  const walk = (x: unknown): void => {
    if (x === null || typeof x !== 'object') return;
    if (x instanceof Tensor) out.push(x);
    else if (Array.isArray(x)) {
      for (let i = 0; i < x.length; i++) {
        const v: unknown = x[i];
        if (v !== null && typeof v === 'object') walk(v);
      }
    } else if (isPlainObject(x)) for (const k of Object.keys(x).sort()) walk(x[k]);
  };
  walk(tree);
  return out;
}

export function numLeaves(def: TreeDef): number {
  return def.kind === 'leaf' ? 1 : def.children.reduce((n, c) => n + numLeaves(c), 0);
}

/** The pytree with structure `def` and these leaves (the inverse of `flatten`). */
export function unflatten(def: TreeDef, leaves: readonly unknown[]): PyTree {
  const need = numLeaves(def);
  if (leaves.length !== need) throw new ShapeError(`tree.unflatten: the structure has ${need} leaves but ${leaves.length} were given.`);
  let i = 0;
  const build = (d: TreeDef): unknown => {
    if (d.kind === 'leaf') return leaves[i++];
    if (d.kind === 'array') return d.children.map(build);
    const out: Record<string, unknown> = {};
    d.keys.forEach((k, j) => (out[k] = build(d.children[j]!)));
    return out;
  };
  return build(def);
}

/** The leaves of a pytree, in `flatten`'s order. */
export function leaves(tree: PyTree): unknown[] {
  return flatten(tree)[0];
}

export function describeDef(def: TreeDef): string {
  if (def.kind === 'leaf') return '*';
  if (def.kind === 'array') return `[${def.children.map(describeDef).join(', ')}]`;
  return `{${def.keys.map((k, i) => `${k}: ${describeDef(def.children[i]!)}`).join(', ')}}`;
}

export function defsEqual(a: TreeDef, b: TreeDef): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'leaf') return true;
  const bc = (b as { children: TreeDef[] }).children;
  if (a.children.length !== bc.length) return false;
  if (a.kind === 'object' && (b as { keys: string[] }).keys.join('\u0000') !== a.keys.join('\u0000')) return false;
  return a.children.every((c, i) => defsEqual(c, bc[i]!));
}

export function assertSameStructure(op: string, a: TreeDef, b: TreeDef, what = 'the trees'): void {
  if (!defsEqual(a, b)) {
    throw new ShapeError(`${op}: ${what} have different structures: ${describeDef(a)} vs ${describeDef(b)}. Give both the same keys and nesting.`);
  }
}

/** map(fn, tree, ...rest): applies fn leaf-wise; the other trees must have the same structure. */
export function map(fn: (...leaves: any[]) => unknown, tree: PyTree, ...rest: PyTree[]): PyTree {
  const [ls, def] = flatten(tree);
  const others = rest.map((r, i) => {
    const [rl, rd] = flatten(r);
    assertSameStructure('tree.map', def, rd, `tree 0 and tree ${i + 1}`);
    return rl;
  });
  return unflatten(def, ls.map((l, j) => fn(l, ...others.map((o) => o[j]))));
}

/** The leaves that are Tensors, checking there are no others where a Tensor is required. */
export function tensorLeaves(op: string, tree: PyTree): [Tensor[], TreeDef] {
  const [ls, def] = flatten(tree);
  ls.forEach((l, i) => {
    if (!(l instanceof Tensor)) {
      throw new ConfigError(`${op}: leaf ${i} of the argument is ${l === null ? 'null' : typeof l}, not a Tensor (structure ${describeDef(def)}). Wrap numbers with bt.tensor().`);
    }
  });
  return [ls as Tensor[], def];
}
