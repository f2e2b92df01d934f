/** LogNormal: closed-form logProb (scipy lognorm), moments, gradient, entropy, KL. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose } from '../helpers.js';
import { assertMc, LOG_2PI } from './mc.js';

const { LogNormal, Normal, kl } = bt.distributions;
// scipy.stats.lognorm(s=σ, scale=exp(μ)).logpdf(x)
const ref = (x: number, m: number, s: number) => -0.5 * ((Math.log(x) - m) / s) ** 2 - Math.log(s * x) - 0.5 * LOG_2PI;

test('logProb: closed form for x > 0, −Infinity for x ≤ 0', () => {
  const d = new LogNormal(0.3, 0.5);
  assertClose(d.logProb(bt.tensor([0.5, 1, 2, 7])), [ref(0.5, 0.3, 0.5), ref(1, 0.3, 0.5), ref(2, 0.3, 0.5), ref(7, 0.3, 0.5)], 1e-14);
  assertClose(new LogNormal(0, 1).logProb(bt.tensor(1)), -0.9189385332046727, 1e-15);
  assertClose(d.logProb(bt.tensor([0, -1])), [-Infinity, -Infinity], 0);
  // the gradient of logProb at x ≤ 0 is finite (no NaN leaks from the masked branch)
  const g = bt.grad((p: bt.tree.PyTree) => d.withParams(p).logProb(bt.tensor([-1, 2])).sum())(d.params()) as { loc: bt.Tensor };
  assert.ok(Number.isFinite(g.loc.item()));
});

test('mean exp(μ + σ²/2) and E[log x] within 5 SE; entropy = μ + ½ + ½ log 2π + log σ ≈ −E[logProb]', () => {
  const d = new LogNormal(0.3, 0.5);
  const x = d.sample(bt.random.key(1), [20000]);
  assertClose(d.mean(), Math.exp(0.3 + 0.125), 1e-14);
  assertMc(x, Math.exp(0.3 + 0.125), 'mean');
  assertMc(x.log(), 0.3, 'E log x');
  assertClose(d.entropy(), 0.3 + 0.5 + 0.5 * LOG_2PI + Math.log(0.5), 1e-14);
  assertMc(d.logProb(x).neg(), d.entropy().item(), 'H');
});

test('rsample gradient: d/dμ E[x] = E[x] (pathwise, 5 SE)', () => {
  const d = new LogNormal(0.2, 0.4);
  const key = bt.random.key(2);
  const g = bt.grad((p: bt.tree.PyTree) => d.withParams(p).rsample(key, [20000]).mean())(d.params()) as { loc: bt.Tensor };
  const x = d.rsample(key, [20000]);
  assertClose(g.loc, x.mean(), 1e-12);
  assertMc(x, Math.exp(0.2 + 0.08), 'd/dμ');
});

test('kl(LogNormal, LogNormal) = kl of the underlying normals; agrees with MC', () => {
  const p = new LogNormal(0.2, 0.4);
  const q = new LogNormal(-0.1, 0.9);
  assertClose(kl(p, q), kl(new Normal(0.2, 0.4), new Normal(-0.1, 0.9)), 1e-15);
  const x = p.sample(bt.random.key(3), [20000]);
  assertMc(p.logProb(x).sub(q.logProb(x)), kl(p, q).item(), 'KL');
});

test('params { loc, logScale }; bad input', () => {
  const d = new LogNormal(bt.tensor([0, 1]), 2);
  const p = d.params() as { loc: bt.Tensor; logScale: bt.Tensor };
  assertClose(p.logScale, Math.log(2), 1e-15);
  assertClose(d.withParams(p).logProb(bt.tensor([1, 2])), d.logProb(bt.tensor([1, 2])), 1e-15);
  assert.throws(() => new LogNormal(bt.zeros([2], 'float32'), bt.ones([2])), (e: unknown) => e instanceof bt.DTypeError);
});

test.run();
