/**
 * A short probe of SAMTRON on gmm20 (d = 20, 10 equal modes, our PRNG): −ELBO, detected modes,
 * components and target evaluations every `--every` iterations. `--tuned` uses the paper's tuned
 * SAMTRON settings for GMM20 (§7.3: n_des 300, ρ 0, comp ε 0.1 ∈ [0.001, 1], weight ε 0.1 ∈
 * [1e-5, 4], 5 initial components); without it the codename's module defaults. Run by hand:
 *   npx tsx examples/gmmvi/gmm20-probe.ts [--tuned] [--iterations 300] [--every 25] [--seed 1]
 */
import * as bt from '../../src/index.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number) => { const i = args.indexOf(`--${name}`); return i >= 0 ? Number(args[i + 1]) : def; };
const tuned = args.includes('--tuned');
const iterations = opt('iterations', 300);
const every = opt('every', 25);
const seed = opt('seed', 1);
const g = bt.gmmvi;

const target = g.makeGmmTarget(20, bt.random.key(1000 + seed));
let cfg = g.getDefaultConfig('SAMTRON', 'gmm20');
if (tuned) {
  cfg = g.updateConfig(cfg, {
    model_initialization: { num_initial_components: 5 },
    num_component_adapter_config: { del_iters: 100, add_iters: 30, num_prior_samples: 0 },
    sample_selector_config: { desired_samples_per_component: 300, ratio_reused_samples_to_desired: 0 },
    component_stepsize_adapter_config: { initial_stepsize: 0.1, min_stepsize: 0.001, max_stepsize: 1 },
    weight_stepsize_adapter_config: { initial_stepsize: 0.1, min_stepsize: 1e-5, max_stepsize: 4 },
  });
}
const state = g.init(cfg, target, bt.random.key(seed));
const t0 = Date.now();
console.log(`SAMTRON gmm20 ${tuned ? 'tuned (§7.3)' : 'module defaults'}, seed ${seed}`);
console.log('iter   -ELBO     modes  K   evaluations  s');
// run in chunks so that the detected modes can be read from each chunk's state
let cur = state;
const key = bt.random.key(seed + 1);
for (let t = every; t <= iterations; t += every) {
  const r = await g.run(cur, target, { iterations: t, key, logMetricsInterval: 0 });
  if (cur !== state) g.disposeReplaced(cur, r.state);
  cur = r.state;
  const m = r.metrics[r.metrics.length - 1]!;
  const modes = await target.detectedModes(cur.model.model.means);
  console.log(`${String(m.iteration).padStart(4)}  ${m.negElbo.toFixed(4).padStart(8)}   ${String(modes).padStart(2)}   ${String(m.numComponents).padStart(2)}  ${String(m.targetEvaluations).padStart(10)}  ${((Date.now() - t0) / 1000).toFixed(0)}`);
}
console.log(`modes at the end: ${await target.detectedModes(cur.model.model.means)} of 10; ${((Date.now() - t0) / 1000).toFixed(0)} s`);
