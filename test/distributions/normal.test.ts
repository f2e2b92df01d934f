/** Normal: closed-form logProb, moments, pathwise gradients, entropy, KL, params round trip, errors. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose } from '../helpers.js';
import { assertMc, LOG_2PI } from './mc.js';

const { Normal, kl } = bt.distributions;
const ref = (x: number, m: number, s: number) => -0.5 * ((x - m) / s) ** 2 - Math.log(s) - 0.5 * LOG_2PI;

test('logProb matches the closed form, with batch broadcasting', () => {
  const d = new Normal(1, 2);
  assertClose(d.logProb(bt.tensor([0, 1, 3])), [ref(0, 1, 2), ref(1, 1, 2), ref(3, 1, 2)], 1e-14);
  assertClose(d.logProb(bt.tensor(0)), -1.737085713764618, 1e-14); // scipy.stats.norm(1, 2).logpdf(0)
  const b = new Normal(bt.tensor([0, 1, 2]), bt.tensor([[1], [3]]));
  assert.equal(b.batchShape, [2, 3]);
  assert.equal(b.eventShape, []);
  const lp = b.logProb(bt.tensor([[[0.5]], [[-1]]])); // [2, 1, 1] → [2, 2, 3]
  assert.equal(lp.shape, [2, 2, 3]);
  assertClose(lp, [
    ...[1, 3].flatMap((s) => [0, 1, 2].map((m) => ref(0.5, m, s))),
    ...[1, 3].flatMap((s) => [0, 1, 2].map((m) => ref(-1, m, s))),
  ], 1e-14);
});

test('sample moments within 5 standard errors; sample shape [...sample, ...batch]', () => {
  const d = new Normal(bt.tensor([-1, 2]), bt.tensor([0.5, 3]));
  const x = d.sample(bt.random.key(1), [20000]);
  assert.equal(x.shape, [20000, 2]);
  const x0 = bt.slice(x, [0, 0], [20000, 1]);
  const x1 = bt.slice(x, [0, 1], [20000, 1]);
  assertMc(x0, -1, 'mean 0');
  assertMc(x1, 2, 'mean 1');
  assertMc(x0.sub(-1).square(), 0.25, 'var 0');
  assertMc(x1.sub(2).square(), 9, 'var 1');
});

test('rsample: d/dμ E[x²] = 2μ and d/dlogσ E[x²] = 2σ² (pathwise, 5 SE); sample has no gradient', () => {
  const mu = 0.7;
  const sig = 1.3;
  const d = new Normal(mu, sig);
  const key = bt.random.key(2);
  const n = 20000;
  const g = bt.grad((p: bt.tree.PyTree) => d.withParams(p).rsample(key, [n]).square().mean())(d.params()) as { loc: bt.Tensor; logScale: bt.Tensor };
  // per-sample gradients: 2x and 2xσε; check the MC estimate against the truth within 5 SE
  const x = d.rsample(key, [n]);
  const eps = x.sub(mu).div(sig);
  assertClose(g.loc, x.mul(2).mean(), 1e-12);
  assertMc(x.mul(2), 2 * mu, 'd/dμ');
  assertClose(g.logScale, x.mul(eps).mul(2 * sig).mean(), 1e-12);
  assertMc(x.mul(eps).mul(2 * sig), 2 * sig * sig, 'd/dlogσ');
  const g0 = bt.grad((p: bt.tree.PyTree) => d.withParams(p).sample(key, [10]).sum())(d.params()) as { loc: bt.Tensor };
  assert.is(g0.loc.item(), 0);
});

test('entropy = ½ + ½ log 2π + log σ, and ≈ −E[logProb]', () => {
  const d = new Normal(0.3, bt.tensor([0.5, 2]));
  assertClose(d.entropy(), [0.5 + 0.5 * LOG_2PI + Math.log(0.5), 0.5 + 0.5 * LOG_2PI + Math.log(2)], 1e-14);
  const x = d.sample(bt.random.key(3), [20000]);
  const lp = d.logProb(x);
  assertMc(bt.slice(lp, [0, 0], [20000, 1]).neg(), d.entropy().dataSync()[0]!, 'H0');
  assertMc(bt.slice(lp, [0, 1], [20000, 1]).neg(), d.entropy().dataSync()[1]!, 'H1');
  assert.equal(d.mean().shape, [2]);
});

test('kl(Normal, Normal): closed form (KL(N(0,1)‖N(1,1)) = ½) and agreement with Monte Carlo', () => {
  assertClose(kl(new Normal(0, 1), new Normal(1, 1)), 0.5, 1e-15);
  assertClose(kl(new Normal(0.4, 1), new Normal(0.4, 1)), 0, 0, 1e-15);
  const p = new Normal(0.5, 0.8);
  const q = new Normal(-0.3, 1.7);
  const x = p.sample(bt.random.key(4), [20000]);
  assertMc(p.logProb(x).sub(q.logProb(x)), kl(p, q).item(), 'KL MC');
  assertClose(kl(p, q), Math.log(1.7 / 0.8) + (0.64 + 0.64) / (2 * 2.89) - 0.5, 1e-14);
});

test('params are { loc, logScale }; withParams round-trips and rsampleAndLogProb agrees with logProb', () => {
  const d = new Normal(bt.tensor([1, 2]), bt.tensor([0.5, 4]));
  const p = d.params() as { loc: bt.Tensor; logScale: bt.Tensor };
  assert.equal(Object.keys(p).sort(), ['loc', 'logScale']);
  assertClose(p.logScale, [Math.log(0.5), Math.log(4)], 1e-15);
  const e = d.withParams(p);
  assert.ok(e instanceof Normal);
  assertClose(e.scale, [0.5, 4], 1e-15);
  const [x, lp] = e.rsampleAndLogProb(bt.random.key(5), [3]);
  assert.equal(x.shape, [3, 2]);
  assertClose(lp, d.logProb(x), 1e-14);
});

test('bad input: typed errors', () => {
  assert.throws(() => new Normal(bt.zeros([2]), bt.ones([2], 'float32')), (e: unknown) => e instanceof bt.DTypeError);
  assert.throws(() => new Normal(bt.zeros([2]), bt.ones([3])), (e: unknown) => e instanceof bt.ShapeError);
  assert.throws(() => new Normal('a' as never, 1), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => new Normal(0, 1).logProb(bt.zeros([2], 'float32')), (e: unknown) => e instanceof bt.DTypeError);
  assert.throws(() => new Normal(bt.zeros([2]), 1).logProb(bt.zeros([3])), (e: unknown) => e instanceof bt.ShapeError);
  assert.throws(() => new Normal(0, 1).withParams({ loc: bt.zeros([]) }), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => new Normal(0, 1).sample(bt.zeros([2]), [3]), (e: unknown) => e instanceof bt.DTypeError);
  assert.throws(() => new Normal(0, 1).sample(bt.random.key(0), [-1]), (e: unknown) => e instanceof bt.ConfigError);
});

test.run();
