import { Tensor } from '../tensor.js';
import { ConfigError, DTypeError, ShapeError } from '../errors.js';
import { assertSameStructure, flatten, unflatten, type PyTree, type TreeDef } from '../autodiff/tree.js';
import { fmtShape, shapesEqual } from '../shape.js';

/**
 * Leafwise arithmetic over several pytrees that must match exactly: same structure, every leaf a
 * Tensor, same shapes and dtypes. Broadcasting is deliberately refused here: a [3] gradient added
 * to a [1, 3] parameter is a bug, and silent broadcasting would change the parameter's shape.
 */

/** Paths of the leaves in flatten order ("layers[0].w"), so errors can say which leaf is wrong. */
export function leafPaths(def: TreeDef, prefix = ''): string[] {
  if (def.kind === 'leaf') return [prefix || '(root)'];
  if (def.kind === 'array') return def.children.flatMap((c, i) => leafPaths(c, `${prefix}[${i}]`));
  return def.children.flatMap((c, i) => leafPaths(c, prefix ? `${prefix}.${def.keys[i]}` : def.keys[i]!));
}

/** The Tensor leaves of a tree (ConfigError naming the first leaf that is not a Tensor). */
export function tensorTree(op: string, what: string, tree: PyTree): [Tensor[], TreeDef] {
  const [ls, def] = flatten(tree);
  ls.forEach((l, i) => {
    if (!(l instanceof Tensor)) {
      throw new ConfigError(`${op}: ${what} leaf '${leafPaths(def)[i]}' is ${l === null ? 'null' : typeof l}, not a Tensor.`);
    }
  });
  return [ls as Tensor[], def];
}

/**
 * fn applied leafwise to trees that must match the first one in structure, shape and dtype.
 * `names` name the trees in error messages (e.g. ['updates', 'params']).
 */
export function zipMap(op: string, names: readonly string[], trees: readonly PyTree[], fn: (...leaves: Tensor[]) => Tensor): PyTree {
  const flat = trees.map((t, i) => tensorTree(op, names[i]!, t));
  const [first, def] = flat[0]!;
  for (let j = 1; j < flat.length; j++) {
    const [ls, d] = flat[j]!;
    assertSameStructure(op, def, d, `${names[0]} and ${names[j]}`);
    ls.forEach((l, i) => {
      const f = first[i]!;
      if (!shapesEqual(l.shape, f.shape)) {
        throw new ShapeError(`${op}: leaf '${leafPaths(def)[i]}' has shape ${fmtShape(f.shape)} in ${names[0]} but ${fmtShape(l.shape)} in ${names[j]}.`);
      }
      if (l.dtype !== f.dtype) {
        throw new DTypeError(`${op}: leaf '${leafPaths(def)[i]}' is ${f.dtype} in ${names[0]} but ${l.dtype} in ${names[j]}; cast one with astype.`);
      }
    });
  }
  return unflatten(def, first.map((_, i) => fn(...flat.map(([ls]) => ls[i]!))));
}

/** Reads a JS-number step counter from a state object, with a clear error for a foreign state. */
export function stepCount(op: string, state: unknown): number {
  const c = (state as { count?: unknown } | null)?.count;
  if (typeof c !== 'number' || !Number.isInteger(c) || c < 0) {
    throw new ConfigError(`${op}: the state has no valid step count (count = ${String(c)}); pass the state returned by this transformation's init/update.`);
  }
  return c;
}

/** A state field that must be present (it holds a pytree of Tensors). */
export function stateField(op: string, state: unknown, key: string): PyTree {
  if (state === null || typeof state !== 'object' || !(key in state)) {
    throw new ConfigError(`${op}: the state has no '${key}' field; pass the state returned by this transformation's init/update.`);
  }
  return (state as Record<string, PyTree>)[key];
}
