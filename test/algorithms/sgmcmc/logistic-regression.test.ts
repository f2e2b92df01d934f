/**
 * Bayesian logistic regression on the UCI breast-cancer data shipped in examples/data (569 × 30):
 * the SGHMC posterior mean lies within 2 posterior standard deviations of a Laplace reference
 * (Newton to the MAP with bt.hessian, covariance = inverse Hessian), and the held-out accuracy is
 * reported.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { loadBreastCancer } from '../../../examples/data/loader.js';
import { fitSghmc, laplace, logRegLogPosterior, logRegLogPosteriorBatched, predictiveAccuracy } from '../../../examples/sgmcmc.js';
import { assertClose } from '../../helpers.js';

const data = loadBreastCancer();

test('the shipped CSV: 569 rows × 30 features, 357 benign; features standardised on the training rows', () => {
  assert.is(data.nTrain + data.nTest, 569);
  assert.equal(data.xTrain.shape, [455, 30]);
  const benign = data.yTrain.sum().item() + data.yTest.sum().item();
  assert.is(benign, 357);
  const m = data.xTrain.mean({ axis: 0 });
  assert.ok(Math.max(...Array.from(m.dataSync(), Math.abs)) < 1e-12);
});

test('the chain-batched log posterior equals bt.logpdf.batchLogPosterior for one chain', () => {
  const p = { w: bt.random.normal(bt.random.key(1), [30]).mul(0.3), b: bt.tensor([0.2]) };
  const batch = { x: data.xTrain.slice([0, 0], [32, 30]), y: data.yTrain.slice([0], [32]) };
  const a = logRegLogPosterior(data.nTrain)(p, batch)[0];
  const b = logRegLogPosteriorBatched(data.nTrain)(p, batch)[0];
  assertClose(b, a, 1e-13, 1e-15, 'value');
});

test('SGHMC (4 parallel chains × 20,000 steps, batch 32, T = 1/N) matches the Laplace posterior mean within 2 sd', async () => {
  const lap = laplace(data);
  assert.ok(lap.gradNorm < 1e-8, `Newton converged (|grad| ${lap.gradNorm})`);
  const fit = await fitSghmc(data, { steps: 20_000, burnIn: 4_000, thin: 10, chains: 4, batchSize: 32 });
  const z = fit.mean.map((m, i) => Math.abs(m - lap.mean[i]!) / lap.sd[i]!);
  const worst = z.indexOf(Math.max(...z));
  const acc = predictiveAccuracy(data, fit.samples, fit.numSamples);
  const accMap = predictiveAccuracy(data, lap.mean, 1);
  const sdRatio = fit.sd.map((s, i) => s / lap.sd[i]!).sort((a, b) => a - b);
  console.log(
    `logistic regression: ${fit.chains} chains × 20,000 steps in ${fit.seconds.toFixed(1)} s (${Math.round(fit.stepsPerSecond)} steps/s); ` +
      `max |mean − Laplace| / sd = ${z[worst]!.toFixed(2)} (coordinate ${worst}), median ${[...z].sort((a, b) => a - b)[15]!.toFixed(2)}; ` +
      `sd ratio SGHMC/Laplace ${sdRatio[0]!.toFixed(2)}–${sdRatio[30]!.toFixed(2)}; held-out accuracy ${(100 * acc.accuracy).toFixed(1)}% (MAP ${(100 * accMap.accuracy).toFixed(1)}%), ` +
      `mean held-out log-lik ${acc.logLik.toFixed(3)}`,
  );
  assert.ok(z[worst]! < 2, `coordinate ${worst}: |${fit.mean[worst]} − ${lap.mean[worst]}| > 2 × ${lap.sd[worst]}`);
  assert.ok(acc.accuracy >= 0.95, `held-out accuracy ${acc.accuracy}`);
});

test.run();
