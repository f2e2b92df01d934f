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

// scipy 1.17.1 stats.{gamma,beta,t}.ppf at us (gamma with scale = 1/rate): an independent implementation
const SCIPY: [bt.ns.PriorDistribution, number[]][] = [
  [{ dist: 'Gamma', concentration: 2.5, rate: 1.5 }, [0.1847660255760924, 0.780844768613707, 1.4504867303651754, 2.292116419467188, 5.028757489796329]],
  [{ dist: 'Gamma', concentration: 0.3, rate: 2 }, [7.511113276180204e-8, 0.0016351697623424746, 0.03656556793347599, 0.1926545828689818, 1.3197045785352661]],
  [{ dist: 'Beta', concentration1: 2, concentration0: 5 }, [0.026763191142755053, 0.1398806882699578, 0.26444998329566005, 0.402118402610099, 0.7056863283197075]],
  [{ dist: 'Beta', concentration1: 0.5, concentration0: 0.7 }, [0.00015697035848113614, 0.061999574599043594, 0.3610839131320438, 0.7481434013731645, 0.99690190461877]],
  [{ dist: 'StudentT', df: 3, loc: 1, scale: 2 }, [-8.081405717136267, -0.9569446247266076, 1.0, 2.6907208043308053, 10.081405717136263]],
  [{ dist: 'StudentT', df: 0.7, loc: 0, scale: 1 }, [-135.57150574187784, -1.7588267314034605, 0.0, 1.3920918873045385, 135.57150574187764]],
];

test('Gamma, Beta and StudentT quantiles match scipy', () => {
  for (const [dist, want] of SCIPY) {
    const p = new Prior(dist, 'a');
    us.forEach((u, i) => {
      const got = q(p, u);
      assert.ok(Math.abs(got - want[i]!) <= 1e-9 * Math.max(1, Math.abs(want[i]!)), `${JSON.stringify(dist)} at u = ${u}: ${got} vs scipy ${want[i]}`);
    });
  }
});

test('Gamma, Beta and StudentT quantiles are differentiable in u and the shape parameters (finite differences)', () => {
  const h = 1e-6;
  const cases: [string, (u: bt.Tensor, a: bt.Tensor) => bt.Tensor, number][] = [
    ['Gamma concentration', (u, a) => new Prior({ dist: 'Gamma', concentration: a, rate: 1.5 }, 'a').forward(u), 2.5],
    ['Beta concentration1', (u, a) => new Prior({ dist: 'Beta', concentration1: a, concentration0: 3 }, 'a').forward(u), 1.7],
    ['Beta concentration0', (u, a) => new Prior({ dist: 'Beta', concentration1: 2, concentration0: a }, 'a').forward(u), 0.8],
    ['StudentT df', (u, a) => new Prior({ dist: 'StudentT', df: a, loc: 0.5, scale: 2 }, 'a').forward(u), 4],
  ];
  for (const [what, f, a0] of cases) {
    for (const u0 of [0.15, 0.6]) {
      const [gu, ga] = bt.grad((u: bt.Tensor, a: bt.Tensor) => f(u, a), { argnums: [0, 1] })(bt.tensor(u0, { dtype: 'float64' }), bt.tensor(a0, { dtype: 'float64' })) as bt.Tensor[];
      const v = (u: number, a: number) => f(bt.tensor(u, { dtype: 'float64' }), bt.tensor(a, { dtype: 'float64' })).item() as number;
      const fdU = (v(u0 + h, a0) - v(u0 - h, a0)) / (2 * h);
      const fdA = (v(u0, a0 + h) - v(u0, a0 - h)) / (2 * h);
      assert.ok(Math.abs((gu!.item() as number) - fdU) < 1e-5 * Math.max(1, Math.abs(fdU)), `${what} d/du ${gu!.item()} vs ${fdU}`);
      assert.ok(Math.abs((ga!.item() as number) - fdA) < 1e-5 * Math.max(1, Math.abs(fdA)), `${what} d/dshape ${ga!.item()} vs ${fdA}`);
    }
  }
});

test('invalid Gamma/Beta/StudentT parameters are ConfigErrors naming the prior', () => {
  const bad: [bt.ns.PriorDistribution, RegExp][] = [
    [{ dist: 'Gamma', concentration: 0, rate: 1 }, /concentration must be > 0/],
    [{ dist: 'Gamma', concentration: 2, rate: -1 }, /rate must be > 0/],
    [{ dist: 'Beta', concentration1: 1, concentration0: Number.NaN }, /concentration0 must be finite/],
    [{ dist: 'StudentT', df: -3, loc: 0, scale: 1 }, /df must be > 0/],
    [{ dist: 'StudentT', df: 3, loc: 0, scale: 0 }, /scale must be > 0/],
  ];
  for (const [dist, re] of bad) {
    const model = () =>
      new Model({
        priorModel: function* () {
          return yield new Prior(dist, 'theta');
        },
        logLikelihood: (x: bt.Tensor) => bt.neg(x),
      });
    assert.throws(model, (e: unknown) => e instanceof bt.ConfigError && /'theta'/.test((e as Error).message) && re.test((e as Error).message), JSON.stringify(dist));
  }
  assert.throws(() => new Prior({ dist: 'Gamma', concentration: 2 } as unknown as bt.ns.PriorDistribution, 'g'), (e: unknown) => e instanceof bt.ConfigError && /'g'.*rate/.test((e as Error).message));
  assert.throws(() => new Prior({ dist: 'Beta', a: 2, b: 3 } as unknown as bt.ns.PriorDistribution, 'b'), (e: unknown) => e instanceof bt.ConfigError && /no parameter 'a'/.test((e as Error).message));
});

test('evidence through Gamma and Beta priors: E[e^{−x}] under Gamma(2, 1) is ¼, E[x] under Beta(2, 3) is ⅖', async () => {
  const cases: [bt.ns.PriorDistribution, (x: bt.Tensor) => bt.Tensor, number][] = [
    [{ dist: 'Gamma', concentration: 2, rate: 1 }, (x) => bt.neg(x), -Math.log(4)],
    [{ dist: 'Beta', concentration1: 2, concentration0: 3 }, (x) => bt.log(x), Math.log(0.4)],
  ];
  for (const [dist, ll, exact] of cases) {
    const model = new Model({
      priorModel: function* () {
        return yield new Prior(dist, 'x');
      },
      logLikelihood: ll,
    });
    const r = await new NestedSampler(model).run(bt.random.key(3));
    assert.ok(Math.abs(r.logZMean - exact) <= 3 * r.logZUncert, `${JSON.stringify(dist)}: log Z ${r.logZMean} ± ${r.logZUncert} vs ${exact}`);
  }
});

test('a constant prior takes no coordinates and yields its value', () => {
  const model = new Model({
    priorModel: function* () {
      const c = yield new Prior(bt.tensor([1, 2], { dtype: 'float64' }), 'c');
      const x = yield new Prior({ dist: 'Normal', loc: 0, scale: 1 }, 'x');
      return [c, x];
    },
    logLikelihood: (c: bt.Tensor, x: bt.Tensor) => bt.mul(bt.sum(c), x),
  });
  assert.is(model.uNdims, 1);
  const X = model.transformBatch(bt.tensor([[0.5], [0.9]], { dtype: 'float64' }));
  assert.equal(X.c!.shape, [2, 2]);
  assert.equal(Array.from(X.c!.dataSync()), [1, 2, 1, 2]);
  assert.ok(Math.abs((model.logLikelihoodBatch(bt.tensor([[0.9]], { dtype: 'float64' })).item() as number) - 3 * normalQuantile(0.9)) < 1e-8);
});

// jaxns' test_basic model: x ~ U(0, 1), y = x + Φ⁻¹(quickUnit(θ)) (a parametrised Normal(x, 1)), σ ~ Exp(1)
const basicModel = (opts: { randomInit?: boolean; key?: bt.Tensor; zeroSize?: boolean } = {}) =>
  new Model({
    priorModel: function* () {
      const x = yield new Prior({ dist: 'Uniform', low: 0, high: 1 }, 'x');
      const y = yield new Prior({ dist: 'Normal', loc: x, scale: 1 }, 'y').parametrised({ randomInit: opts.randomInit ?? false });
      if (opts.zeroSize) yield new Prior(0, 'z').parametrised();
      const sigma = yield new Prior({ dist: 'Exponential', rate: 1 }, 'sigma');
      return [y, sigma];
    },
    logLikelihood: (y: bt.Tensor, s: bt.Tensor) => bt.sub(bt.sub(bt.mul(-0.5, bt.square(bt.div(y, s))), bt.log(s)), 0.5 * Math.log(2 * Math.PI)),
    ...(opts.key ? { key: opts.key } : {}),
  });

test('parametrised priors: a θ leaf <name>_param of the base shape, no unit-cube coordinates, value quantile(quickUnit(θ))', () => {
  const model = basicModel({ zeroSize: true });
  assert.is(model.uNdims, 2);
  assert.equal(model.slots.map((s) => s.name), ['x', 'sigma']);
  assert.equal(Object.keys(model.params).sort(), ['y_param', 'z_param']);
  assert.equal(model.params.y_param!.shape, []);
  assert.equal(model.params.z_param!.shape, [0]);
  assert.is(model.numParams, 1);
  assert.is(model.params.y_param!.item(), 0);
  // at θ = 0 the value is the median, x; at θ the Normal(x, 1) quantile of ½(θ/(1+|θ|)+1)
  const U = bt.tensor([[0.2, 0.5], [0.9, 0.5]], { dtype: 'float64' });
  assert.equal(Array.from(model.parametrisedBatch(U).y!.dataSync()), [0.2, 0.9]);
  const theta = -0.6;
  const m2 = model({ y_param: bt.tensor(theta, { dtype: 'float64' }), z_param: bt.zeros([0], 'float64') });
  const shift = normalQuantile(0.5 * (theta / (1 + Math.abs(theta)) + 1));
  const y2 = Array.from(m2.parametrisedBatch(U).y!.dataSync());
  assert.ok(Math.abs(y2[0]! - (0.2 + shift)) < 1e-8 && Math.abs(y2[1]! - (0.9 + shift)) < 1e-8, `${y2}`);
  assert.equal(Array.from(m2.parametrisedBatch(U).z!.dataSync()), [0, 0]);
  // the Bayesian samples do not include parametrised values
  assert.equal(Object.keys(m2.transformBatch(U)).sort(), ['sigma', 'x']);
});

test('model(params) is a new Model with those params bound; the original is unchanged; bad params are errors', () => {
  const model = basicModel();
  const m2 = model({ y_param: bt.tensor(0.5, { dtype: 'float64' }) });
  assert.instance(m2, Model);
  assert.instance(model, Model);
  assert.is(m2.params.y_param!.item(), 0.5);
  assert.is(model.params.y_param!.item(), 0);
  assert.is(model.withParams({ y_param: bt.tensor(0.25, { dtype: 'float64' }) }).params.y_param!.item(), 0.25);
  const U = bt.tensor([[0.3, 0.6]], { dtype: 'float64' });
  assert.is.not(m2.logLikelihoodBatch(U).item(), model.logLikelihoodBatch(U).item());
  // explicit params give the bound model's values
  assert.is(model.logLikelihoodBatch(U, m2.params).item(), m2.logLikelihoodBatch(U).item());
  assert.throws(() => model({}), (e: unknown) => e instanceof bt.ConfigError && /lacks 'y_param'/.test((e as Error).message));
  assert.throws(() => model({ y_param: bt.zeros([2], 'float64') }), (e: unknown) => e instanceof bt.ShapeError && /y_param.*\[2\]/.test((e as Error).message));
  assert.throws(() => model({ y_param: bt.tensor(0, { dtype: 'float64' }), w_param: bt.tensor(0, { dtype: 'float64' }) }), (e: unknown) => e instanceof bt.ConfigError && /'w_param'/.test((e as Error).message));
  assert.throws(() => model({ y_param: bt.tensor(0, { dtype: 'float32' }) }), (e: unknown) => e instanceof bt.DTypeError);
  assert.throws(() => new Prior({ dist: 'Normal', loc: 0, scale: 1 }, 'a').parametrised({ random: true } as never), (e: unknown) => e instanceof bt.ConfigError && /unknown option 'random'/.test((e as Error).message));
});

test('randomInit draws θ from N(0, 1) with the Model key (or initParams(key)); a pure function of the key', () => {
  const a = basicModel({ randomInit: true, key: bt.random.key(7) }).params.y_param!.item() as number;
  const b = basicModel({ randomInit: true, key: bt.random.key(7) }).params.y_param!.item() as number;
  const c = basicModel({ randomInit: true, key: bt.random.key(8) }).params.y_param!.item() as number;
  assert.is(a, b);
  assert.is.not(a, c);
  assert.is.not(a, 0);
  const model = basicModel({ randomInit: true });
  assert.is(model.params.y_param!.item(), model.initParams(bt.random.key(0)).y_param!.item());
  assert.is(model.initParams(bt.random.key(7)).y_param!.item(), a);
  // without randomInit: 0 whatever the key
  assert.is(basicModel().initParams(bt.random.key(3)).y_param!.item(), 0);
  // over many keys the draws look standard normal
  const d = Array.from({ length: 200 }, (_, i) => model.initParams(bt.random.key(100 + i)).y_param!.item() as number);
  const m = d.reduce((s, v) => s + v, 0) / d.length;
  const v = d.reduce((s, x) => s + (x - m) ** 2, 0) / d.length;
  // 200 draws: the mean's sd is 0.07, the variance's 0.1; 4σ bounds
  assert.ok(Math.abs(m) < 0.3 && Math.abs(v - 1) < 0.4, `mean ${m}, variance ${v}`);
});

test('log L over a batch is differentiable in params (θ through T_θ and L): gradient vs finite differences', () => {
  const model = basicModel();
  const U = bt.tensor([[0.1, 0.3], [0.5, 0.8], [0.95, 0.05]], { dtype: 'float64' });
  const w = bt.tensor([0.2, -0.5, 1.3], { dtype: 'float64' });
  const f = (p: bt.ns.ModelParams) => bt.sum(bt.mul(w, model.logLikelihoodBatch(U, p)));
  for (const t0 of [0, -0.6, 0.4]) {
    const g = bt.grad(f)({ y_param: bt.tensor(t0, { dtype: 'float64' }) }).y_param.item() as number;
    const h = 1e-6;
    const v = (t: number) => f({ y_param: bt.tensor(t, { dtype: 'float64' }) }).item() as number;
    const fd = (v(t0 + h) - v(t0 - h)) / (2 * h);
    assert.ok(Math.abs(g - fd) < 1e-6 * Math.max(1, Math.abs(fd)), `θ = ${t0}: ${g} vs ${fd}`);
  }
});

test('results carry parametrisedSamples: one value per sample, named by the prior', async () => {
  const model = basicModel({ zeroSize: true })({ y_param: bt.tensor(-0.3, { dtype: 'float64' }), z_param: bt.zeros([0], 'float64') });
  const r = await new NestedSampler(model, { maxSamples: 600 }).run(bt.random.key(1));
  assert.equal(Object.keys(r.parametrisedSamples).sort(), ['y', 'z']);
  const y = Array.from(r.parametrisedSamples.y!.dataSync());
  const x = Array.from(r.samples.x!.dataSync());
  assert.is(y.length, r.totalNumSamples);
  const shift = normalQuantile(0.5 * (-0.3 / 1.3 + 1));
  for (let i = 0; i < y.length; i++) assert.ok(Math.abs(y[i]! - (x[i]! + shift)) < 1e-8);
  assert.equal(Object.keys(r.samples).sort(), ['sigma', 'x']);
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
