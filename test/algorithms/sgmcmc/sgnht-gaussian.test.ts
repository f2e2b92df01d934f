import { test } from 'uvu';
import * as bt from '../../../src/index.js';
import { assertScenario, runScenario, SGD_MAPPED } from './scenario.js';

test("sgnht: posteriors' d = 2 Gaussian scenario (100,000 steps, 15,000 burn-in, SGD-mapped hyperparameters)", async () => {
  assertScenario('sgnht', await runScenario((lp) => bt.sgmcmc.sgnht.build(lp, SGD_MAPPED)));
});

test.run();
