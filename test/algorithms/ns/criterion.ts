/** Shared checks of the known-evidence tests (not a test file). */
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';

/** |log Z − exact| ≤ 3·logZUncert, with a finite positive uncertainty. */
export function within3Sigma(r: bt.ns.NestedSamplerResults, exact: number, what: string): void {
  assert.ok(Number.isFinite(r.logZUncert) && r.logZUncert > 0, `${what}: uncertainty ${r.logZUncert}`);
  assert.ok(Math.abs(r.logZMean - exact) <= 3 * r.logZUncert, `${what}: log Z ${r.logZMean} ± ${r.logZUncert}, exact ${exact}`);
}

/**
 * jaxns' criterion (tests/test_nested_sampler.py): 1000 sampleEvidence draws, the 5–95 % range
 * kept; its mean within 3·logZUncert of the truth and of logZMean, and |logZUncert − std| ≤
 * √(logZUncert² + std²).
 */
export function jaxnsCriterion(r: bt.ns.NestedSamplerResults, exact: number, what: string, key: bt.Tensor): void {
  const z = Array.from(bt.ns.sampleEvidence(key, r, 1000).dataSync()).sort((a, b) => a - b);
  const kept = z.slice(50, 950);
  const mean = kept.reduce((a, b) => a + b) / kept.length;
  const std = Math.sqrt(kept.reduce((a, b) => a + (b - mean) ** 2, 0) / kept.length);
  const u = r.logZUncert;
  assert.ok(Math.abs(mean - exact) <= 3 * u, `${what}: sampled mean ${mean} vs exact ${exact} (uncert ${u})`);
  assert.ok(Math.abs(r.logZMean - mean) <= 3 * u, `${what}: log Z mean ${r.logZMean} vs sampled ${mean}`);
  assert.ok(Math.abs(u - std) <= Math.sqrt(u * u + std * std), `${what}: uncert ${u} vs sampled std ${std}`);
}
