/**
 * bt.tree: pytree utilities (objects with sorted keys, arrays, Tensor leaves) and saved state.
 *
 * @module
 */
export { map, flatten, unflatten, leaves, type TreeDef, type PyTree } from './autodiff/tree.js';
export { ravel } from './autodiff/ravel.js';
export { toJSON, toJSONSync, fromJSON, TREE_JSON_FORMAT, TREE_JSON_VERSION, type TreeJSON, type FromJSONOptions } from './tree-json.js';
