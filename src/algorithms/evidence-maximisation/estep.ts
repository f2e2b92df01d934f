/**
 * The E-step as one synchronous call (the EM loop's steps are synchronous): the sampler's own
 * init/update/terminationMask in the order NestedSampler.run drives them (init from
 * foldIn(key, 0x7fffffff), shell t from foldIn(key, t), at most ⌈maxSamples/shell⌉ + 1 shells),
 * so the results equal `run(key)`'s (a test holds the two together).
 */
import type { Tensor } from '../../tensor.js';
import { foldIn } from '../../random.js';
import { tidy } from '../../memory.js';
import type { NestedSampler } from '../nested-sampling/sampler.js';
import { buildResults, type NestedSamplerResults } from '../nested-sampling/results.js';
import { checkTermination, type TerminationCond } from '../nested-sampling/termination.js';

/** Runs the sampler to termination; the same results as `sampler.run(key, { terminationCond })`. */
export function runNestedSync(op: string, sampler: NestedSampler, key: Tensor, terminationCond: TerminationCond | undefined): NestedSamplerResults {
  const cond = checkTermination(op, terminationCond ?? sampler.defaultTerminationCond);
  let state = tidy(() => sampler.init(foldIn(key, 0x7fffffff)));
  let mask = sampler.terminationMask(state, cond);
  const maxShells = Math.ceil(sampler.maxSamples / sampler.shellSize) + 1;
  for (let t = 0; mask === 0 && t < maxShells; t++) {
    const s = state;
    state = tidy(() => sampler.update(s, foldIn(key, t))[0]);
    mask = sampler.terminationMask(state, cond);
  }
  return buildResults(sampler.model, state, mask, sampler.k);
}
