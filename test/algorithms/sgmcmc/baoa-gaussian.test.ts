import { test } from 'uvu';
import * as bt from '../../../src/index.js';
import { assertScenario, runScenario, SGD_MAPPED } from './scenario.js';

test("baoa: posteriors' d = 2 Gaussian scenario (100,000 steps, 15,000 burn-in, SGD-mapped hyperparameters)", async () => {
  assertScenario('baoa', await runScenario((lp) => bt.sgmcmc.baoa.build(lp, { lr: SGD_MAPPED.lr, sigma: SGD_MAPPED.sigma, alpha: SGD_MAPPED.alpha, momenta: 0 })));
});

test.run();
