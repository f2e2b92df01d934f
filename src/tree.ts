/**
 * bt.tree: pytree utilities (objects with sorted keys, arrays, Tensor leaves).
 *
 * @module
 */
export { map, flatten, unflatten, leaves, type TreeDef, type PyTree } from './autodiff/tree.js';
export { ravel } from './autodiff/ravel.js';
