/**
 * kl dispatch: missing pairs are ConfigErrors naming the pair; registerKl adds a rule.
 * Both bodies run on each backend (see ../backend-harness.ts); dispatch is host logic, the rule's
 * value is exact on both.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { backendsUnderTest, registerAll } from '../backend-harness.js';
import { close } from './mc.js';

const backends = await backendsUnderTest('distributions/types');

const { Normal, Uniform, MultivariateNormal, kl, registerKl } = bt.distributions;

registerAll(backends, 'no analytic pair: ConfigError naming both families', (B) => {
  try {
    kl(new Normal(0, 1), new Uniform(0, 1));
    assert.unreachable('should throw');
  } catch (e) {
    assert.ok(e instanceof bt.ConfigError);
    assert.match((e as Error).message, /Normal ‖ Uniform/);
  }
  assert.throws(() => kl(bt.flows.maf({ dim: 2, hiddenSizes: [4], numLayers: 1, key: bt.random.key(0), dtype: B.dtype }), new MultivariateNormal({ loc: bt.zeros([2]), covariance: bt.eye(2) })), (e: unknown) => e instanceof bt.ConfigError);
});

registerAll(backends, 'registerKl adds a rule (latest wins)', async (B) => {
  class Point extends Normal {}
  registerKl(Point, Uniform, () => bt.tensor(42));
  await close(B, kl(new Point(0, 1), new Uniform(0, 1)), 42, 0, undefined, 'registered rule');
});

test.run();
