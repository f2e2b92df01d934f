/**
 * Priors and the model: quantiles against closed forms, their gradients against finite
 * differences, priors that depend on earlier ones, the named transform over a batch, and an
 * evidence through non-uniform priors.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';

const { Prior, Model, NestedSampler } = bt.ns;
const us = [0.01, 0.2, 0.5, 0.77, 0.99];
const q = (p: bt.ns.Prior, u: number) => p.forward(bt.tensor(u, { dtype: 'float64' })).item() as number;

// Φ⁻¹ via bisection on Φ(x) = ½(1 + erf(x/√2)) (host erf, Abramowitz–Stegun 7.1.26 refined by Newton on the engine would be circular)
function normalQuantile(u: number): number {
  let lo = -10;
  let hi = 10;
  const cdf = (x: number) => 0.5 * (1 + (bt.erf(bt.tensor(x / Math.SQRT2, { dtype: 'float64' })).item() as number));
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) < u) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

test('quantiles match closed forms', () => {
  for (const u of us) {
    assert.ok(Math.abs(q(new Prior({ dist: 'Uniform', low: -2, high: 3 }, 'a'), u) - (-2 + 5 * u)) < 1e-12);
    assert.ok(Math.abs(q(new Prior({ dist: 'Normal', loc: 1, scale: 2 }, 'a'), u) - (1 + 2 * normalQuantile(u))) < 1e-8);
    assert.ok(Math.abs(q(new Prior(new bt.distributions.LogNormal(0.5, 0.3), 'a'), u) - Math.exp(0.5 + 0.3 * normalQuantile(u))) < 1e-8);
    assert.ok(Math.abs(q(new Prior({ dist: 'Exponential', rate: 2 }, 'a'), u) - -Math.log(1 - u) / 2) < 1e-12);
    assert.ok(Math.abs(q(new Prior({ dist: 'Cauchy', loc: 1, scale: 3 }, 'a'), u) - (1 + 3 * Math.tan(Math.PI * (u - 0.5)))) < 1e-9);
    const lap = u < 0.5 ? 1 + 0.5 * Math.log(2 * u) : 1 - 0.5 * Math.log(2 - 2 * u);
    assert.ok(Math.abs(q(new Prior({ dist: 'Laplace', loc: 1, scale: 0.5 }, 'a'), u) - lap) < 1e-12);
  }
});

test('quantiles are differentiable in u and in the parameters (finite differences)', () => {
  const h = 1e-6;
  for (const dist of ['Normal', 'LogNormal', 'Cauchy', 'Laplace'] as const) {
    const f = (u: bt.Tensor, scale: bt.Tensor) => new Prior({ dist, loc: 0.3, scale }, 'a').forward(u);
    for (const u0 of [0.15, 0.6]) {
      const [gu, gs] = bt.grad((u: bt.Tensor, s: bt.Tensor) => f(u, s), { argnums: [0, 1] })(bt.tensor(u0, { dtype: 'float64' }), bt.tensor(1.5, { dtype: 'float64' })) as bt.Tensor[];
      const v = (u: number, s: number) => f(bt.tensor(u, { dtype: 'float64' }), bt.tensor(s, { dtype: 'float64' })).item() as number;
      const fdU = (v(u0 + h, 1.5) - v(u0 - h, 1.5)) / (2 * h);
      const fdS = (v(u0, 1.5 + h) - v(u0, 1.5 - h)) / (2 * h);
      assert.ok(Math.abs((gu!.item() as number) - fdU) < 1e-5 * Math.max(1, Math.abs(fdU)), `${dist} d/du ${gu!.item()} vs ${fdU}`);
      assert.ok(Math.abs((gs!.item() as number) - fdS) < 1e-5 * Math.max(1, Math.abs(fdS)), `${dist} d/dscale ${gs!.item()} vs ${fdS}`);
    }
  }
});

test('a hierarchical model: later priors use earlier values; uNdims, slots and the batched transform', () => {
  const model = new Model({
    priorModel: function* () {
      const mu = yield new Prior({ dist: 'Normal', loc: 0, scale: 1 }, 'mu');
      const x = yield new Prior({ dist: 'Normal', loc: bt.mul(mu, bt.ones([3], 'float64')), scale: 0.5 }, 'x');
      return [mu, x];
    },
    logLikelihood: (mu: bt.Tensor, x: bt.Tensor) => bt.add(bt.neg(bt.sum(bt.square(x))), bt.mul(0, mu)),
  });
  assert.is(model.uNdims, 4);
  assert.equal(model.slots.map((s) => [s.name, s.offset, s.size]), [['mu', 0, 1], ['x', 1, 3]]);
  const U = bt.tensor([[0.5, 0.5, 0.5, 0.5], [0.8, 0.5, 0.1, 0.9]], { dtype: 'float64' });
  const X = model.transformBatch(U);
  assert.equal(X.mu!.shape, [2]);
  assert.equal(X.x!.shape, [2, 3]);
  const mu1 = normalQuantile(0.8);
  const x1 = Array.from(X.x!.dataSync()).slice(3);
  assert.ok(Math.abs(x1[0]! - mu1) < 1e-8, 'x centred on mu');
  assert.ok(Math.abs(x1[1]! - (mu1 + 0.5 * normalQuantile(0.1))) < 1e-8);
});

test('evidence through a Normal prior: x ~ N(0, 1), L = N(0 | x, 1) gives log Z = −½ log(4π)', async () => {
  const model = new Model({
    priorModel: function* () {
      return yield new Prior(new bt.distributions.Normal(0, 1), 'x');
    },
    logLikelihood: (x: bt.Tensor) => bt.sub(bt.mul(-0.5, bt.square(x)), 0.5 * Math.log(2 * Math.PI)),
  });
  const exact = -0.5 * Math.log(4 * Math.PI);
  for (const seed of [0, 1]) {
    const r = await new NestedSampler(model).run(bt.random.key(seed));
    assert.ok(Math.abs(r.logZMean - exact) <= 3 * r.logZUncert, `log Z ${r.logZMean} ± ${r.logZUncert} vs ${exact}`);
    // the posterior N(0, ½): resampled mean and variance
    const x = bt.ns.resample(bt.random.key(seed + 10), r, 4000).x!;
    const v = Array.from(x.dataSync());
    const m = v.reduce((a, b) => a + b) / v.length;
    const s2 = v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length;
    assert.ok(Math.abs(m) < 0.1 && Math.abs(s2 - 0.5) < 0.12, `posterior mean ${m}, variance ${s2}`);
  }
});

test('vectorized: the likelihood sees the whole batch and the run matches the vmapped one; a batch-reducing likelihood is a ShapeError', async () => {
  const make = (vectorized: boolean, ll: (x: bt.Tensor) => bt.Tensor) =>
    new Model({
      priorModel: function* () {
        return yield new Prior({ dist: 'Exponential', rate: 2 }, 'x');
      },
      logLikelihood: ll,
      vectorized,
    });
  const shapes: number[][] = [];
  const vec = make(true, (x) => {
    shapes.push([...x.shape]);
    return bt.neg(bt.square(bt.sub(x, 0.3)));
  });
  const plain = make(false, (x) => bt.neg(bt.square(bt.sub(x, 0.3))));
  const [a, b] = [await new NestedSampler(vec).run(bt.random.key(5)), await new NestedSampler(plain).run(bt.random.key(5))];
  assert.is(a.logZMean, b.logZMean);
  assert.is(a.totalNumLikelihoodEvaluations, b.totalNumLikelihoodEvaluations);
  assert.ok(shapes.some((s) => s.length === 1 && s[0]! > 1), 'called on batches');
  assert.throws(() => make(true, (x) => bt.sum(x)), (e: unknown) => e instanceof bt.ShapeError && /one value per point/.test((e as Error).message));
});

test.run();
