/** README: SG-MCMC end to end — build → init → run (progress, checkpoints) → collect → diagnostics. */
import * as bt from '../../src/index.js'; // from the package: 'bayestape'
import { readFileSync, writeFileSync } from 'node:fs';

// A 2-D Gaussian posterior, mean [1, -1]; a log posterior returns [value, aux]
const logPosterior = (p: bt.Tensor): [bt.Tensor, never[]] => [p.sub(bt.tensor([1, -1])).square().sum().mul(-0.5), []];
const chains = 4; // stepped together in one set of kernels
const sampler = bt.sgmcmc.parallel(bt.sgmcmc.sghmc.build(logPosterior, { lr: 0.1, alpha: 1 }), { chains });
const state0 = sampler.init(bt.sgmcmc.replicate(bt.zeros([2]), chains), bt.random.key(0));
const collector = bt.sgmcmc.collect({ chains: true, burnIn: 1_000, thin: 5 });
const result = await bt.sgmcmc.run(sampler, state0, {
  steps: 10_000, key: bt.random.key(1), collector,
  progress: true, // a bar with rate and ETA on a terminal, a line every few seconds otherwise
  checkpoint: { every: 2_000, save: (c) => writeFileSync('sgmcmc-run.json', JSON.stringify(c)) },
  // resume: readFileSync('sgmcmc-run.json', 'utf8'),  → the same numbers as an unbroken run
});
console.log(result.reason, result.steps, 'steps');   // 'completed' | 'aborted' | 'earlyStopped' | 'terminated: …'
console.log(bt.diagnostics.formatSummary(collector.summary())); // mean, sd, mcse, bulk/tail ESS, R̂ per parameter
void readFileSync;
