import * as bt from '../../src/index.js';
import { basic, basic2, plateau, correlatedGaussian } from './problems.js';
const which = process.argv[2] ?? 'basic';
const seeds = Number(process.argv[3] ?? 3);
for (let seed = 0; seed < seeds; seed++) {
  const { model, exact } = which === 'basic' ? { model: basic(), exact: -0.29193 } : which === 'basic2' ? { model: basic2(), exact: Math.log(2 / 3) } : which === 'plateau' ? { model: plateau(), exact: 0 } : correlatedGaussian(Number(which.slice(3)));
  const opts = process.argv[4] ? JSON.parse(process.argv[4]) : {};
  const ns = new bt.ns.NestedSampler(model, opts);
  const t0 = performance.now();
  const r = await ns.run(bt.random.key(seed));
  const dt = (performance.now() - t0) / 1000;
  console.log(which, seed, `logZ ${r.logZMean.toFixed(4)} ± ${r.logZUncert.toFixed(4)} exact ${exact.toFixed(4)} z=${((r.logZMean - exact) / r.logZUncert).toFixed(2)} ESS ${r.ESS.toFixed(0)} H ${r.HMean.toFixed(3)} N ${r.totalNumSamples} evals ${r.totalNumLikelihoodEvaluations} ${r.terminationReasons} ${dt.toFixed(2)}s`);
}
