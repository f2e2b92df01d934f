/** Independent: reinterpreted batch dims become event dims; logProb/entropy sum; KL; params. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose, randn } from '../helpers.js';

const { Independent, Normal, Uniform, kl } = bt.distributions;

test('shapes, logProb and entropy sum over the reinterpreted dims', () => {
  const base = new Normal(randn([2, 3], 1), bt.tensor([0.5, 1, 2]));
  const i1 = new Independent(base, 1);
  assert.equal(i1.batchShape, [2]);
  assert.equal(i1.eventShape, [3]);
  const x = randn([4, 2, 3], 2);
  assertClose(i1.logProb(x), base.logProb(x).sum({ axis: -1 }), 1e-14);
  assertClose(i1.entropy(), base.entropy().sum({ axis: -1 }), 1e-14);
  const i2 = new Independent(base, 2);
  assert.equal(i2.batchShape, []);
  assert.equal(i2.eventShape, [2, 3]);
  assertClose(i2.logProb(x), base.logProb(x).sum({ axis: [-2, -1] }), 1e-14);
  const [s, lp] = i2.rsampleAndLogProb(bt.random.key(3), [5]);
  assert.equal(s.shape, [5, 2, 3]);
  assertClose(lp, i2.logProb(s), 1e-14);
  assert.equal(new Independent(base, 0).eventShape, []);
});

test('kl sums the base KL; params and withParams go through the base', () => {
  const p = new Independent(new Normal(bt.tensor([0, 1]), bt.tensor([1, 2])), 1);
  const q = new Independent(new Normal(bt.tensor([1, 1]), bt.tensor([1, 1])), 1);
  assertClose(kl(p, q), kl(p.base, q.base).sum(), 1e-15);
  const u = new Independent(new Uniform(bt.zeros([3]), bt.ones([3])), 1);
  assertClose(kl(u, new Independent(new Uniform(bt.zeros([3]).sub(1), bt.ones([3])), 1)), 3 * Math.log(2), 1e-15);
  const r = p.withParams(p.params());
  assert.ok(r instanceof Independent);
  assertClose(r.logProb(bt.tensor([0.3, 0.4])), p.logProb(bt.tensor([0.3, 0.4])), 1e-15);
});

test('bad input', () => {
  assert.throws(() => new Independent(new Normal(bt.zeros([2]), 1), 2), (e: unknown) => e instanceof bt.ShapeError);
  assert.throws(() => new Independent({} as never, 1), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => new Independent(new Normal(bt.zeros([2]), 1), 0.5), (e: unknown) => e instanceof bt.ConfigError);
});

test.run();
