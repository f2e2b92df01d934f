import { test } from 'uvu';
import * as bt from '../../../src/index.js';
import { assertScenario, runScenario } from './scenario.js';

test("sgld: posteriors' d = 2 Gaussian scenario (100,000 steps, 15,000 burn-in, lr = 1e-2)", async () => {
  assertScenario('sgld', await runScenario((lp) => bt.sgmcmc.sgld.build(lp, { lr: 1e-2 })));
});

test.run();
