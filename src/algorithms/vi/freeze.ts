import { ConfigError } from '../../errors.js';
import type { PyTree } from '../../autodiff/tree.js';
import type { Distribution } from '../../distributions/types.js';

/**
 * `freeze(dist, names)`: the same distribution with some parameters held fixed (blackbirds' tests
 * set `sigma.requires_grad = False`). Its `params()` leaves the named entries out, and
 * `withParams(p)` rebuilds the family from p plus the frozen values, so VI trains only the rest.
 */
export function freeze(dist: Distribution, names: readonly string[]): Distribution {
  const all = dist.params();
  if (all === null || typeof all !== 'object' || Array.isArray(all)) {
    throw new ConfigError('vi.freeze: the distribution\'s params() must be an object of named leaves to freeze some by name.');
  }
  const rec = all as Record<string, PyTree>;
  for (const n of names) {
    if (!(n in rec)) throw new ConfigError(`vi.freeze: the distribution has no parameter '${n}' (it has: ${Object.keys(rec).join(', ')}).`);
  }
  const frozen: Record<string, PyTree> = {};
  for (const n of names) frozen[n] = rec[n]!;
  const make = (d: Distribution): Distribution => {
    const wrapped: Distribution = {
      get eventShape() {
        return d.eventShape;
      },
      get batchShape() {
        return d.batchShape;
      },
      logProb: (x) => d.logProb(x),
      sample: (k, s) => d.sample(k, s),
      rsample: (k, s) => d.rsample(k, s),
      rsampleAndLogProb: (k, s) => d.rsampleAndLogProb(k, s),
      entropy: () => d.entropy(),
      mean: () => d.mean(),
      params: () => {
        const p = d.params() as Record<string, PyTree>;
        const out: Record<string, PyTree> = {};
        for (const k of Object.keys(p)) if (!names.includes(k)) out[k] = p[k]!;
        return out;
      },
      withParams: (p: PyTree) => {
        if (p === null || typeof p !== 'object' || Array.isArray(p)) throw new ConfigError('vi.freeze: withParams expects an object of the trainable parameters.');
        return make(d.withParams({ ...(p as Record<string, PyTree>), ...frozen }));
      },
    };
    return wrapped;
  };
  return make(dist);
}
