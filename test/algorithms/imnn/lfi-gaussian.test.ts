/** GaussianApproximation's marginals are N(θ̂, F⁻¹)'s, integrate to 1, and have the right levels; bad inputs are typed errors. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { throwsType } from '../../helpers.js';
import { GaussianApproximation, ApproximateBayesianComputation, PopulationMonteCarlo, uniformPrior } from '../../../src/algorithms/imnn/lfi/index.js';

const prior = uniformPrior([-4, -3], [6, 7]);
const est = bt.tensor([[1, 2], [0.5, 1.5]], { dtype: 'float64' });
const invF = bt.tensor([[0.5, 0.3], [0.3, 0.8]], { dtype: 'float64' });

test('marginals: N(θ̂_k, F⁻¹_kk) and the bivariate normal, integrating to 1 over the box', () => {
  const ga = new GaussianApproximation(est, invF, prior, [200, 180]);
  assert.is(ga.marginals.length, 2);
  const m = ga.marginals[0]!;
  const dx = [10 / 200, 10 / 180];
  for (let k = 0; k < 2; k++) {
    const s2 = [0.5, 0.8][k]!;
    const mu = [1, 2][k]!;
    const x = m.ranges[k]![37]!;
    assert.ok(Math.abs(m.oneD[k]![37]! - Math.exp(-0.5 * (x - mu) ** 2 / s2) / Math.sqrt(2 * Math.PI * s2)) < 1e-14);
    // midpoint rule on a smooth density whose mass lies well inside the box: error O(dx²) ≈ 1e-4
    assert.ok(Math.abs(m.oneD[k]!.reduce((a, b) => a + b, 0) * dx[k]! - 1) < 1e-3);
  }
  const two = m.twoD[0]!;
  assert.ok(Math.abs(two.density.reduce((a, b) => a + b, 0) * dx[0]! * dx[1]! - 1) < 1e-3);
  // the 2-D marginal's mean and covariance are θ̂ and F⁻¹
  let e0 = 0, e1 = 0, c01 = 0;
  for (let a = 0; a < 200; a++) for (let b = 0; b < 180; b++) {
    const p = two.density[a * 180 + b]! * dx[0]! * dx[1]!;
    e0 += p * m.ranges[0]![a]!;
    e1 += p * m.ranges[1]![b]!;
    c01 += p * (m.ranges[0]![a]! - 1) * (m.ranges[1]![b]! - 2);
  }
  assert.ok(Math.abs(e0 - 1) < 1e-3 && Math.abs(e1 - 2) < 1e-3 && Math.abs(c01 - 0.3) < 2e-3, `${e0} ${e1} ${c01}`);
  // levels: the 95 % region of a bivariate normal is {χ²₂ < 5.991}: density ≥ exp(−5.991/2)/(2π√det)
  const det = 0.5 * 0.8 - 0.09;
  const l95 = Math.exp(-5.991 / 2) / (2 * Math.PI * Math.sqrt(det));
  const l68 = Math.exp(-2.279 / 2) / (2 * Math.PI * Math.sqrt(det));
  assert.ok(Math.abs(two.levels[1] / l95 - 1) < 0.02, `95 % level ${two.levels[1]} vs ${l95}`);
  assert.ok(Math.abs(two.levels[0] / l68 - 1) < 0.02, `68 % level ${two.levels[0]} vs ${l68}`);
  // the second target has its own mean; one shared invF (not repeated into a wrong shape)
  const m1 = ga.marginals[1]!;
  const i = m1.oneD[0]!.indexOf(Math.max(...m1.oneD[0]!));
  assert.ok(Math.abs(m1.ranges[0]![i]! - 0.5) <= dx[0]!);
});


test('bad inputs: typed errors naming the argument', () => {
  throwsType(() => new GaussianApproximation(est, bt.eye(3, 3, 'float64'), prior, 10), bt.ShapeError, /invF/);
  throwsType(() => new GaussianApproximation(bt.tensor([1, 2, 3], { dtype: 'float64' }), invF, prior, 10), bt.ShapeError, /prior has 2 parameters/);
  throwsType(() => new GaussianApproximation(est, invF, prior, 0), bt.ConfigError, /gridsize/);
  throwsType(() => new GaussianApproximation(est, invF, prior, 2.5), bt.ConfigError, /gridsize/);
  const noBounds = { sample: prior.sample, logProb: prior.logProb } as never;
  throwsType(() => new GaussianApproximation(est, invF, noBounds, 10), bt.ConfigError, /prior has no bounds/);
  throwsType(() => uniformPrior([0, 1], [1, 1]), bt.ConfigError, /low < high/);
  throwsType(() => new GaussianApproximation(est, bt.tensor([[-1, 0], [0, 1]], { dtype: 'float64' }), prior, 10), bt.ConfigError, /invF/);

  const sim = (key: bt.Tensor, th: bt.Tensor) => bt.add(th, bt.random.normal(key, th.shape, { dtype: 'float64' }));
  const comp = (d: bt.Tensor) => d;
  const data = bt.tensor([[1, 2]], { dtype: 'float64' });
  throwsType(() => new ApproximateBayesianComputation(data, prior, ((k: bt.Tensor) => k) as never, comp, 10), bt.ConfigError, /simulator/);
  throwsType(() => new ApproximateBayesianComputation(data, prior, sim, comp, 10, bt.eye(3, 3, 'float64')), bt.ShapeError, /F must be/);
  throwsType(() => new ApproximateBayesianComputation(data, prior, sim, comp, -1), bt.ConfigError, /gridsize/);
  const abc = new ApproximateBayesianComputation(data, prior, sim, comp, 10);
  throwsType(() => abc.run(0, bt.random.key(0), { nSamples: 10 }), bt.ConfigError, /ε must be a positive/);
  throwsType(() => abc.run(-1, bt.random.key(0), { nSamples: 10 }), bt.ConfigError, /ε/);
  throwsType(() => abc.run(1, bt.random.key(0), { nSamples: 0 }), bt.ConfigError, /nSamples/);
  throwsType(() => abc.run(1, bt.random.key(0), { nSamples: 10, bogus: 1 } as never), bt.ConfigError, /unknown option 'bogus'/);
  throwsType(() => abc.run(1, 3 as never, { nSamples: 10 }), bt.ConfigError, /PRNG key/);
  const pmc = new PopulationMonteCarlo(data, prior, sim, comp, 10);
  throwsType(() => pmc.run(bt.random.key(0), { nPoints: 100, nInitialPoints: 50 }), bt.ConfigError, /nInitialPoints/);
  throwsType(() => pmc.run(bt.random.key(0), { nPoints: 10, nInitialPoints: 50, acceptanceRatio: 1.5 }), bt.ConfigError, /acceptanceRatio/);
});

test.run();
