import { test } from 'uvu';
import * as bt from '../../../src/index.js';
import { assertScenario, runScenario, SGD_MAPPED } from './scenario.js';

test("sghmc: posteriors' d = 2 Gaussian scenario (100,000 steps, 15,000 burn-in, SGD-mapped hyperparameters)", async () => {
  assertScenario('sghmc', await runScenario((lp) => bt.sgmcmc.sghmc.build(lp, SGD_MAPPED)));
});

test.run();
