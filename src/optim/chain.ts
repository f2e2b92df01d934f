import type { PyTree } from '../autodiff/tree.js';
import { ConfigError } from '../errors.js';
import type { GradientTransformation } from './types.js';

/**
 * Applies transformations in order, the output updates of one feeding the next; the state is the
 * array of their states, in the same order (optax.chain).
 */
export function chain(...transforms: GradientTransformation<any>[]): GradientTransformation<PyTree[]> {
  transforms.forEach((t, i) => {
    if (!t || typeof t.init !== 'function' || typeof t.update !== 'function') {
      throw new ConfigError(`chain: argument ${i} is not a gradient transformation ({ init, update }).`);
    }
  });
  return {
    init: (params) => transforms.map((t) => t.init(params)),
    update: (updates, state, params) => {
      if (!Array.isArray(state) || state.length !== transforms.length) {
        throw new ConfigError(`chain: expected a state array of ${transforms.length} entries (one per transformation), got ${Array.isArray(state) ? `${state.length} entries` : typeof state}.`);
      }
      let u = updates;
      const next = transforms.map((t, i) => {
        const [nu, ns] = t.update(u, state[i], params);
        u = nu;
        return ns;
      });
      return [u, next];
    },
  };
}
