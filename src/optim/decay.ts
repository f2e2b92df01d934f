import { add, mul } from '../autodiff/ops/elementwise.js';
import { flatten, assertSameStructure, type PyTree } from '../autodiff/tree.js';
import { ConfigError } from '../errors.js';
import type { GradientTransformation } from './types.js';
import { leafPaths, zipMap } from './treeutil.js';
import { checkKeys, checkNumber } from '../validate.js';

/** A tree of booleans shaped like params, or a function params → such a tree. */
export type Mask = PyTree | ((params: PyTree) => PyTree);

/** Options of `addDecayedWeights`: the decay rate and which leaves it applies to. */
export interface AddDecayedWeightsOptions {
  weightDecay?: number;
  /** which leaves decay (true) — e.g. weights but not biases; default: all */
  mask?: Mask;
}

/**
 * updates + weightDecay · params on the masked leaves (optax.add_decayed_weights); the others
 * pass through. Needs params in update. State {}.
 */
export function addDecayedWeights(opts?: AddDecayedWeightsOptions): GradientTransformation<Record<string, never>> {
  const op = 'addDecayedWeights';
  checkKeys(op, opts, ['weightDecay', 'mask']);
  const wd = checkNumber(op, 'weightDecay', opts?.weightDecay ?? 0, { min: 0 });
  const mask = opts?.mask;
  return {
    init: () => ({}),
    update: (updates, state, params) => {
      if (params === undefined) throw new ConfigError(`${op}: update(updates, state, params) needs params to decay them; pass the current params.`);
      if (mask === undefined) return [zipMap(op, ['updates', 'params'], [updates, params], (u, p) => add(u, mul(p, wd))), {}];
      const flags = maskFlags(op, typeof mask === 'function' ? (mask as (p: PyTree) => PyTree)(params) : mask, params);
      let i = 0; // zipMap visits leaves in flatten order, the order of flags
      return [zipMap(op, ['updates', 'params'], [updates, params], (u, p) => (flags[i++] ? add(u, mul(p, wd)) : u)), {}];
    },
  };
}

function maskFlags(op: string, mask: PyTree, params: PyTree): boolean[] {
  const [flags, mdef] = flatten(mask);
  const [, pdef] = flatten(params);
  assertSameStructure(op, pdef, mdef, 'params and mask');
  flags.forEach((f, i) => {
    if (typeof f !== 'boolean') throw new ConfigError(`${op}: mask leaf '${leafPaths(mdef)[i]}' must be true or false, got ${String(f)}.`);
  });
  return flags as boolean[];
}
