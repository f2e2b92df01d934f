/**
 * Classical VI as a special case (acceptance 3): Gaussian likelihood y_i ~ N(θ, Σ) (i = 1..20,
 * d = 2), prior N(m0, S0), w = 1, loss = the negative log-likelihood. The exact posterior is
 * Gaussian; a full-covariance Gaussian estimator must reach KL(q ‖ exact) < 0.02.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';

const S = bt.simulators;
const SIGMA = [[1, 0.3], [0.3, 0.5]];
const M0 = [0, 0];
const S0 = [[4, 0], [0, 4]];

test('full-covariance Gaussian q reaches KL(q ‖ exact posterior) < 0.02', async () => {
  const truth = bt.tensor([1, -0.5]);
  const y = bt.keep(S.mvnToy(SIGMA, 20)(truth, bt.random.key(7)));
  const exact = S.conjugatePosterior(y.toArray() as number[][], SIGMA, M0, S0);
  const post = new bt.distributions.MultivariateNormal({ loc: bt.tensor(exact.mean), covariance: bt.tensor(exact.covariance) });
  const sigma = bt.tensor(SIGMA);
  const loss = (theta: bt.Tensor, data: bt.Tensor) => S.gaussianNll(data, theta, { covariance: sigma });
  const prior = new bt.distributions.MultivariateNormal({ loc: bt.tensor(M0), covariance: bt.tensor(S0) });
  const q0 = new bt.distributions.MultivariateNormal({ loc: bt.zeros([2]), covariance: bt.eye(2) });
  const epochs = 600;
  const vi = new bt.vi.VI({
    loss, prior, posteriorEstimator: q0, w: 1, nSamplesPerEpoch: 10, nSamplesRegularisation: 1000, key: bt.random.key(999),
    optimizer: bt.optim.adam({ learningRate: bt.optim.cosineDecaySchedule({ initValue: 0.05, decaySteps: epochs, alpha: 0.02 }) }),
  });
  const r = await vi.run(y, epochs, Infinity);
  const klFinal = bt.distributions.kl(vi.estimator, post).item();
  const klBest = bt.distributions.kl(vi.bestEstimator, post).item();
  console.log(`\n[note] conjugate Gaussian: KL(q ‖ exact) = ${klFinal.toExponential(3)} (final), ${klBest.toExponential(3)} (best-loss snapshot, epoch ${vi.bestEpoch}); ${r.epochs} epochs in ${r.seconds.toFixed(1)} s`);
  assert.ok(klFinal < 0.02, `KL(q ‖ exact) = ${klFinal}`);
});

test.run();
