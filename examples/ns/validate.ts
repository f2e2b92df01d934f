/**
 * Long validations of bt.ns (not run in CI): per problem, log Z over many seeds against the exact
 * value — the mean error, the spread between seeds against the mean reported uncertainty, how
 * many runs land within 3σ, evaluations and wall time per run — and the calibration verdict of
 * issue 12 (|mean error| < 0.1 nat, reported uncertainty within a factor 1.5 of the spread).
 * Usage: npx tsx examples/ns/validate.ts [basic|basic2|mvn8|mvn16|shells|eggbox|moon ...]
 *        [--seeds N] [--k K] [--pe] [--c C] [--s S]
 * Defaults: mvn8 over 20 seeds (the calibration), then mvn16 over 3 (jaxns' 16-D notebook:
 * −122.91 ± 0.36 with parameterEstimation, 4.7M evaluations; exact −123.0147).
 * jaxns v2.6.2 on mvn8: bias −0.012, reported 0.37, ≈ 1.1M evaluations, ≈ 1.1 s.
 * Measured here (2 shared cores, engine likelihood): mvn8, 20 seeds: mean error +0.052 ± 0.106,
 * spread 0.47, reported 0.37 (×1.27), 19/20 within 3σ, 945k evaluations, 5.3 s a run: PASS.
 * mvn16, 6 seeds: −0.38 ± 0.16, spread 0.40, reported 0.31, 6/6 within 3σ, 4.9M evaluations;
 * with s = 10 two of those seeds moved from −0.57/−0.68 to +0.34/−0.13 (5·D slice steps mix
 * slowly along the 16-D ridge: jaxns' default, kept).
 */
import * as bt from '../../src/index.js';
import { basic, basic2, correlatedGaussian, dualMoon, eggBox, gaussianShells } from './problems.js';

interface Problem {
  model: bt.ns.Model;
  exact: number;
  options?: bt.ns.NestedSamplerOptions;
}

const PROBLEMS: Record<string, () => Problem> = {
  basic: () => ({ model: basic(), exact: 0.5 * Math.log(Math.PI) - Math.LN2 + Math.log(0.8427007929497149) }),
  basic2: () => ({ model: basic2(), exact: Math.log(2 / 3) }),
  mvn8: () => correlatedGaussian(8),
  mvn16: () => correlatedGaussian(16),
  shells: () => gaussianShells(),
  eggbox: () => ({ ...eggBox(), options: { difficultModel: true } }),
  moon: () => dualMoon(),
};

const DEFAULT_SEEDS: Record<string, number> = { mvn16: 3 };

async function validate(name: string, seeds: number, extra: bt.ns.NestedSamplerOptions): Promise<void> {
  const make = PROBLEMS[name];
  if (!make) throw new Error(`unknown problem '${name}' (known: ${Object.keys(PROBLEMS).join(', ')})`);
  const { model, exact, options } = make();
  const errs: number[] = [];
  const unc: number[] = [];
  let evals = 0;
  let inside = 0;
  const t0 = performance.now();
  for (let s = 0; s < seeds; s++) {
    const r = await new bt.ns.NestedSampler(model, { ...options, ...extra }).run(bt.random.key(1000 + s));
    errs.push(r.logZMean - exact);
    unc.push(r.logZUncert);
    evals += r.totalNumLikelihoodEvaluations;
    if (Math.abs(r.logZMean - exact) <= 3 * r.logZUncert) inside++;
    console.log(`  ${name} seed ${1000 + s}: log Z ${r.logZMean.toFixed(4)} ± ${r.logZUncert.toFixed(4)} (error ${(r.logZMean - exact).toFixed(4)}), ${r.totalNumLikelihoodEvaluations} evaluations, ${r.terminationReasons.join(', ')}`);
    bt.dispose([r.USamples, r.logLSamples, r.logDpMean, r.logXMean, r.numLivePointsPerSample, r.samples]);
  }
  const mean = errs.reduce((a, b) => a + b) / seeds;
  const sd = Math.sqrt(errs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, seeds - 1));
  const rep = unc.reduce((a, b) => a + b) / seeds;
  console.log(
    `${name}: exact ${exact.toFixed(4)}, ${seeds} seeds: mean error ${mean.toFixed(4)} ± ${(sd / Math.sqrt(seeds)).toFixed(4)}, spread ${sd.toFixed(4)}, ` +
      `mean reported ${rep.toFixed(4)} (spread/reported ${(sd / rep).toFixed(2)}), ${inside}/${seeds} within 3σ, ` +
      `${(evals / seeds).toFixed(0)} evaluations and ${((performance.now() - t0) / 1000 / seeds).toFixed(2)} s per run`,
  );
  if (seeds >= 10) {
    const ok = Math.abs(mean) < 0.1 && sd / rep < 1.5 && rep / sd < 1.5;
    console.log(`${name}: calibration (|mean error| < 0.1, reported within ×1.5 of the spread): ${ok ? 'PASS' : 'FAIL'}`);
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (f: string): string | undefined => {
    const i = args.indexOf(f);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const valued = new Set(['--seeds', '--k', '--c', '--s']);
  const names = args.filter((a, i) => !a.startsWith('--') && !valued.has(args[i - 1] ?? ''));
  const extra: bt.ns.NestedSamplerOptions = {};
  if (flag('--k') !== undefined) extra.k = Number(flag('--k'));
  if (flag('--c') !== undefined) extra.numLivePoints = Number(flag('--c'));
  if (flag('--s') !== undefined) extra.s = Number(flag('--s'));
  if (args.includes('--pe')) extra.parameterEstimation = true;
  for (const name of names.length ? names : ['mvn8', 'mvn16']) {
    const seeds = flag('--seeds') !== undefined ? Number(flag('--seeds')) : (DEFAULT_SEEDS[name] ?? 20);
    await validate(name, seeds, extra);
  }
}

void main();
