import * as bt from '../../src/index.js';
import { basic, basic2, correlatedGaussian } from './problems.js';
const which = process.argv[2] ?? 'basic';
const seeds = Number(process.argv[3] ?? 20);
const opts = process.argv[4] ? JSON.parse(process.argv[4]) : {};
const { model, exact } = which === 'basic' ? { model: basic(), exact: -0.29193 } : which === 'basic2' ? { model: basic2(), exact: Math.log(2 / 3) } : correlatedGaussian(Number(which.slice(3)));
const errs: number[] = [];
const unc: number[] = [];
let evals = 0;
const t0 = performance.now();
for (let s = 0; s < seeds; s++) {
  const r = await new bt.ns.NestedSampler(model, opts).run(bt.random.key(1000 + s));
  errs.push(r.logZMean - exact);
  unc.push(r.logZUncert);
  evals += r.totalNumLikelihoodEvaluations;
}
const mean = errs.reduce((a, b) => a + b) / seeds;
const sd = Math.sqrt(errs.reduce((a, b) => a + (b - mean) ** 2, 0) / (seeds - 1));
console.log(which, JSON.stringify(opts), `bias ${mean.toFixed(4)} ± ${(sd / Math.sqrt(seeds)).toFixed(4)} spread ${sd.toFixed(4)} reported ${(unc.reduce((a, b) => a + b) / seeds).toFixed(4)} evals/run ${(evals / seeds).toFixed(0)} s/run ${((performance.now() - t0) / 1000 / seeds).toFixed(2)}`);
