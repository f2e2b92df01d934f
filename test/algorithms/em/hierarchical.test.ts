/**
 * The hierarchical Gaussian with an exact answer: x_j ~ N(μ, τ²), y_j ~ N(x_j, σ²), μ and τ
 * parametrised; Z = Π_j N(y_j | μ, τ² + σ²) is maximal at μ* = ȳ, τ*² = max(0, var(y) − σ²).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';

const { Prior, Model } = bt.ns;
const y = [-1.2, 0.5, 2.1, 0.3];
const sigma = 0.5;
const ybar = y.reduce((a, b) => a + b) / y.length;
const vary = y.reduce((a, b) => a + (b - ybar) ** 2, 0) / y.length;
const tauStar = Math.sqrt(Math.max(0, vary - sigma * sigma));
const logZStar = y.reduce((a, yj) => a - 0.5 * (yj - ybar) ** 2 / vary - 0.5 * Math.log(2 * Math.PI * vary), 0);

test('hierarchical Gaussian: newton-cg EM reaches μ* = ȳ and τ* = √(var y − σ²), log Z* within 3σ', async () => {
  const yt = bt.tensor(y, { dtype: 'float64' });
  const model = new Model({
    priorModel: function* () {
      const mu = yield new Prior({ dist: 'Normal', loc: 0, scale: 2 }, 'mu').parametrised();
      const tau = yield new Prior({ dist: 'LogNormal', loc: 0, scale: 1 }, 'tau').parametrised();
      return yield new Prior({ dist: 'Normal', loc: bt.mul(mu, bt.ones([4], 'float64')), scale: tau }, 'x');
    },
    logLikelihood: (x: bt.Tensor) => bt.sum(bt.sub(bt.mul(-0.5, bt.square(bt.div(bt.sub(x, yt), sigma))), Math.log(sigma * Math.sqrt(2 * Math.PI)))),
  });
  const em = new bt.em.EvidenceMaximisation({ model, nsOptions: { maxSamples: 50000, numLivePoints: 120 }, logZFtol: 0 });
  const { results, params } = await em.train(8);
  const mu = results.parametrisedSamples.mu!.dataSync()[0]!;
  const tau = results.parametrisedSamples.tau!.dataSync()[0]!;
  // the start (θ = 0) is μ = 0, τ = 1; the answer μ* = 0.425, τ* = 1.057. The final θ is an
  // M-step optimum of an importance-reweighted estimate (ESS ≈ 100 at c = 120), so it carries
  // Monte Carlo error: observed |μ − μ*| ≈ 0.15, |τ − τ*| ≈ 0.04 at this key.
  assert.ok(Math.abs(mu - ybar) < 0.25, `μ ${mu} vs ${ybar}`);
  assert.ok(Math.abs(tau - tauStar) < 0.25, `τ ${tau} vs ${tauStar}`);
  assert.ok(Math.abs(results.logZMean - logZStar) < 3 * results.logZUncert, `log Z ${results.logZMean} ± ${results.logZUncert} vs ${logZStar}`);
  assert.ok(Math.abs((params.mu_param!.item() as number)) > 0.05, 'θ moved');
});

test.run();
