/** Uniform: logProb inside/outside, moments, reparameterised gradient, entropy, KL. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose } from '../helpers.js';
import { assertMc } from './mc.js';

const { Uniform, kl } = bt.distributions;

test('logProb = −log(high − low) inside, −Infinity outside (boundaries included)', () => {
  const u = new Uniform(-1, 3);
  assertClose(u.logProb(bt.tensor([-2, -1, 0, 2.5, 3, 3.1])), [-Infinity, -Math.log(4), -Math.log(4), -Math.log(4), -Math.log(4), -Infinity], 1e-15);
  const b = new Uniform(bt.tensor([0, 1]), bt.tensor([2, 5]));
  assert.equal(b.batchShape, [2]);
  assertClose(b.logProb(bt.tensor([[0.5, 0.5]])), [-Math.log(2), -Infinity], 1e-15);
});

test('sample moments within 5 SE; rsample is reparameterised: d/dlow E[x] = d/dhigh E[x] = ½', () => {
  const u = new Uniform(-1, 3);
  const key = bt.random.key(1);
  const x = u.sample(key, [20000]);
  assertMc(x, 1, 'mean');
  assertMc(x.sub(1).square(), 16 / 12, 'var');
  assert.ok(x.min().item() >= -1 && x.max().item() <= 3);
  const g = bt.grad((p: bt.tree.PyTree) => u.withParams(p).rsample(key, [20000]).mean())(u.params()) as { low: bt.Tensor; high: bt.Tensor };
  const w = x.add(1).div(4); // the uniform draws
  assertClose(g.high, w.mean(), 1e-12);
  assertMc(w, 0.5, 'd/dhigh');
  assertMc(w.neg().add(1), 0.5, 'd/dlow');
  assertClose(g.low, w.neg().add(1).mean(), 1e-12);
});

test('entropy = log(high − low) = −E[logProb]; mean', () => {
  const u = new Uniform(bt.tensor([0, -2]), bt.tensor([0.5, 5]));
  assertClose(u.entropy(), [Math.log(0.5), Math.log(7)], 1e-15);
  assertClose(u.mean(), [0.25, 1.5], 1e-15);
  const x = u.sample(bt.random.key(2), [100]);
  assertClose(u.logProb(x).mean({ axis: 0 }).neg(), u.entropy(), 1e-14);
});

test('kl(Uniform, Uniform) = log(w_q / w_p) when p ⊆ q (agrees with MC), +Infinity otherwise', () => {
  const p = new Uniform(0, 1);
  const q = new Uniform(-1, 3);
  assertClose(kl(p, q), Math.log(4), 1e-15);
  const x = p.sample(bt.random.key(3), [1000]);
  assertClose(p.logProb(x).sub(q.logProb(x)).mean(), kl(p, q), 1e-14);
  assert.is(kl(q, p).item(), Infinity);
  assert.is(kl(new Uniform(0, 2), new Uniform(1, 3)).item(), Infinity);
  assertClose(kl(p, p), 0, 0, 1e-15);
});

test('params { low, high } round trip; bad input', () => {
  const u = new Uniform(1, 2);
  const v = u.withParams(u.params());
  assertClose(v.logProb(bt.tensor(1.5)), 0, 0, 1e-15);
  assert.throws(() => new Uniform(bt.zeros([2]), bt.ones([3])), (e: unknown) => e instanceof bt.ShapeError);
  assert.throws(() => u.withParams({ low: bt.zeros([]), hi: bt.ones([]) }), (e: unknown) => e instanceof bt.ConfigError);
});

test.run();
