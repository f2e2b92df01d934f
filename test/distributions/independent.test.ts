/**
 * Independent: reinterpreted batch dims become event dims; logProb/entropy sum; KL; params.
 *
 * Every body runs on each backend (see ../backend-harness.ts): `name [cpu]` in float64 with the
 * checks and tolerances as before, `name [webgpu]` in float32 with the float32 tolerances of
 * ./mc.ts (two float32 evaluations of the same sums within ULPS·eps of their terms).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { backendsUnderTest, randnB, registerAll } from '../backend-harness.js';
import { close } from './mc.js';

const backends = await backendsUnderTest('distributions/independent');

const { Independent, Normal, Uniform, kl } = bt.distributions;

registerAll(backends, 'shapes, logProb and entropy sum over the reinterpreted dims', async (B) => {
  const base = new Normal(randnB(B, [2, 3], 1), bt.tensor([0.5, 1, 2]));
  const i1 = new Independent(base, 1);
  assert.is(i1.dtype, B.dtype);
  assert.equal(i1.batchShape, [2]);
  assert.equal(i1.eventShape, [3]);
  const x = randnB(B, [4, 2, 3], 2);
  await close(B, i1.logProb(x), base.logProb(x).sum({ axis: -1 }), 1e-14, undefined, 'logProb (1 dim)');
  await close(B, i1.entropy(), base.entropy().sum({ axis: -1 }), 1e-14, undefined, 'entropy');
  const i2 = new Independent(base, 2);
  assert.equal(i2.batchShape, []);
  assert.equal(i2.eventShape, [2, 3]);
  await close(B, i2.logProb(x), base.logProb(x).sum({ axis: [-2, -1] }), 1e-14, undefined, 'logProb (2 dims)');
  const [s, lp] = i2.rsampleAndLogProb(bt.random.key(3), [5]);
  assert.equal(s.shape, [5, 2, 3]);
  await close(B, lp, i2.logProb(s), 1e-14, undefined, 'rsampleAndLogProb');
  assert.equal(new Independent(base, 0).eventShape, []);
});

registerAll(backends, 'kl sums the base KL; params and withParams go through the base', async (B) => {
  const p = new Independent(new Normal(bt.tensor([0, 1]), bt.tensor([1, 2])), 1);
  const q = new Independent(new Normal(bt.tensor([1, 1]), bt.tensor([1, 1])), 1);
  await close(B, kl(p, q), kl(p.base, q.base).sum(), 1e-15, undefined, 'kl');
  const u = new Independent(new Uniform(bt.zeros([3]), bt.ones([3])), 1);
  await close(B, kl(u, new Independent(new Uniform(bt.zeros([3]).sub(1), bt.ones([3])), 1)), 3 * Math.log(2), 1e-15, undefined, 'kl uniform');
  const r = p.withParams(p.params());
  assert.ok(r instanceof Independent);
  await close(B, r.logProb(bt.tensor([0.3, 0.4])), p.logProb(bt.tensor([0.3, 0.4])), 1e-15, undefined, 'withParams round trip');
});

registerAll(backends, 'bad input', () => {
  assert.throws(() => new Independent(new Normal(bt.zeros([2]), 1), 2), (e: unknown) => e instanceof bt.ShapeError);
  assert.throws(() => new Independent({} as never, 1), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => new Independent(new Normal(bt.zeros([2]), 1), 0.5), (e: unknown) => e instanceof bt.ConfigError);
});

test.run();
