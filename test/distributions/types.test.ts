/** kl dispatch: missing pairs are ConfigErrors naming the pair; registerKl adds a rule. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose } from '../helpers.js';

const { Normal, Uniform, MultivariateNormal, kl, registerKl } = bt.distributions;

test('no analytic pair: ConfigError naming both families', () => {
  try {
    kl(new Normal(0, 1), new Uniform(0, 1));
    assert.unreachable('should throw');
  } catch (e) {
    assert.ok(e instanceof bt.ConfigError);
    assert.match((e as Error).message, /Normal ‖ Uniform/);
  }
  assert.throws(() => kl(bt.flows.maf({ dim: 2, hiddenSizes: [4], numLayers: 1, key: bt.random.key(0) }), new MultivariateNormal({ loc: bt.zeros([2]), covariance: bt.eye(2) })), (e: unknown) => e instanceof bt.ConfigError);
});

test('registerKl adds a rule (latest wins)', () => {
  class Point extends Normal {}
  registerKl(Point, Uniform, () => bt.tensor(42));
  assertClose(kl(new Point(0, 1), new Uniform(0, 1)), 42, 0);
});

test.run();
