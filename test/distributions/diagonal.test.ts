/** DiagonalNormal: agrees with Independent(Normal) and a diagonal MVN; moments; entropy; KL; params. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose, randn } from '../helpers.js';
import { assertMc, col, LOG_2PI } from './mc.js';

const { DiagonalNormal, MultivariateNormal, Independent, Normal, kl } = bt.distributions;

test('logProb equals the diagonal MVN and Independent(Normal, 1); shapes', () => {
  const loc = bt.tensor([0.5, -1, 2]);
  const scale = bt.tensor([0.3, 1.5, 2]);
  const d = new DiagonalNormal(loc, scale);
  assert.equal(d.eventShape, [3]);
  assert.equal(d.batchShape, []);
  const x = randn([5, 3], 1);
  assertClose(d.logProb(x), new MultivariateNormal({ loc, scaleTril: bt.diag(scale) }).logProb(x), 1e-13);
  assertClose(d.logProb(x), new Independent(new Normal(loc, scale), 1).logProb(x), 1e-14);
  assertClose(d.entropy(), 3 * (0.5 + 0.5 * LOG_2PI) + Math.log(0.3 * 1.5 * 2), 1e-14);
  const b = new DiagonalNormal(bt.zeros([4, 3]), 1);
  assert.equal(b.batchShape, [4]);
  assert.equal(b.logProb(randn([2, 4, 3], 2)).shape, [2, 4]);
});

test('moments within 5 SE and entropy ≈ −E[logProb]', () => {
  const d = new DiagonalNormal(bt.tensor([1, -1]), bt.tensor([0.5, 2]));
  const x = d.sample(bt.random.key(3), [20000]);
  assertMc(col(x, 0), 1, 'mean 0');
  assertMc(Float64Array.from(col(x, 1), (v) => (v + 1) ** 2), 4, 'var 1');
  assertMc(d.logProb(x).neg(), d.entropy().item(), 'H');
});

test('kl(Diag, Diag) closed form equals the MVN formula and MC', () => {
  const p = new DiagonalNormal(bt.tensor([1, -1]), bt.tensor([0.5, 2]));
  const q = new DiagonalNormal(bt.tensor([0, 0.5]), bt.tensor([1, 1.5]));
  const full = (d: InstanceType<typeof DiagonalNormal>) => new MultivariateNormal({ loc: d.loc, scaleTril: bt.diag(d.scale) });
  assertClose(kl(p, q), kl(full(p), full(q)), 1e-13);
  const x = p.sample(bt.random.key(4), [20000]);
  assertMc(p.logProb(x).sub(q.logProb(x)), kl(p, q).item(), 'KL');
});

test('params { loc, logScale } at the full shape (a scalar scale broadcasts)', () => {
  const d = new DiagonalNormal(bt.tensor([1, 2, 3]), 0.5);
  const p = d.params() as { loc: bt.Tensor; logScale: bt.Tensor };
  assert.equal(p.logScale.shape, [3]);
  const g = bt.grad((q: bt.tree.PyTree) => d.withParams(q).rsample(bt.random.key(1), [10]).square().mean())(p) as { logScale: bt.Tensor };
  assert.equal(g.logScale.shape, [3]);
  assert.throws(() => new DiagonalNormal(0, 1), (e: unknown) => e instanceof bt.ShapeError);
});

test.run();
