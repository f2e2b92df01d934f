/**
 * posteriors' SG-MCMC test scenario (tests/sgmcmc/utils.py, tests/scenarios.py, §1.5 of the
 * reference notes): a d = 2 Gaussian with mean ~ N(0, I) and cov = 0.3·AAᵀ + 0.7·I (A ~ N(0, 1)),
 * start at θ ~ N(0, 100·I), 100,000 steps, drop the first 15,000.
 */
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';

export interface Truth {
  mean: number[];
  cov: number[];
  logPosterior: bt.sgmcmc.LogPosterior<bt.Tensor, unknown, never[]>;
}

export function gaussianTarget(seed: number, dim = 2): Truth {
  return bt.tidy(() => {
    const [k1, k2] = [bt.random.foldIn(bt.random.key(seed), 1), bt.random.foldIn(bt.random.key(seed), 2)];
    const mean = Array.from(bt.random.normal(k1, [dim]).dataSync());
    const A = bt.random.normal(k2, [dim, dim]);
    const covT = bt.matmul(A, A.mT).mul(0.3).add(bt.eye(dim).mul(0.7));
    const cov = Array.from(covT.dataSync());
    const mu = bt.keep(bt.tensor(mean));
    const prec = bt.keep(bt.linalg.inv(covT));
    const logPosterior = (p: bt.Tensor): [bt.Tensor, never[]] => {
      const d = p.sub(mu);
      return [bt.matmul(d, prec).mul(d).sum({ axis: -1 }).mul(-0.5), []]; // −½ dᵀ P d over the last axis (P symmetric)
    };
    return { mean, cov, logPosterior };
  });
}

export interface ChainStats {
  meanErr: number;
  covErr: number;
  kl: number;
}

export interface ScenarioResult {
  chains: number;
  /** Pooled over chains (chains × kept draws). */
  meanErr: number;
  covErr: number;
  kl: number;
  klInit: number;
  /** Each chain on its own: posteriors' single-chain test. */
  perChain: ChainStats[];
  /** posteriors' third check on the chain-averaged running KL. */
  fracDecreasing: number;
  seconds: number;
  stepsPerSecond: number;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/**
 * Runs the scenario with C parallel chains (one set of batched kernels; chain c is exactly the
 * single-chain run keyed split(key, C)[c]): each starts at θ ~ N(0, 100 I), takes `steps` steps
 * and keeps its states with step ≥ burnIn (the initial state counted, as posteriors does).
 */
export async function runScenario(
  build: (lp: Truth['logPosterior']) => bt.sgmcmc.Sampler<any>,
  opts: { seed?: number; steps?: number; burnIn?: number; dim?: number; chains?: number } = {},
): Promise<ScenarioResult> {
  const { seed = 42, steps = 100_000, burnIn = 15_000, dim = 2, chains = 16 } = opts;
  const truth = gaussianTarget(seed, dim);
  // the target's log density is written for [..., d], so it is batched over chains as it stands
  const sampler = bt.sgmcmc.parallel(build(truth.logPosterior), { chains, batchedLogPosterior: true });
  const key = bt.random.key(seed + 1);
  const init = bt.random.normal(bt.random.foldIn(key, 0), [chains, dim]).mul(10);
  let state = sampler.init(init, bt.random.foldIn(key, 1));
  const col = bt.sgmcmc.collect({ burnIn, covariance: 'full', chains: true });
  col.push(state);
  let early = -1;
  let late = -1;
  const res = await bt.sgmcmc.run(sampler, state, {
    steps,
    key: bt.random.foldIn(key, 2),
    collector: col,
    onStep: (_s, _aux, step) => {
      if (step === 1000) early = bt.memory().numTensors;
      if (step === steps) late = bt.memory().numTensors;
    },
  });
  const initState = state;
  state = res.state;
  assert.is(late, early, `memory stays flat: ${early} tensors at step 1,000, ${late} at step ${steps}`);
  bt.dispose(initState);

  const m = col.meanFlat();
  const c = col.covFlat();
  const eye100 = new Array(dim * dim).fill(0).map((_, i) => (i % (dim + 1) === 0 ? 100 : 0));
  const klInit = bt.sgmcmc.gaussianKL(new Array(dim).fill(0), eye100, truth.mean, truth.cov);
  const klOr = (mm: ArrayLike<number>, cc: ArrayLike<number>) => {
    try {
      return bt.sgmcmc.gaussianKL(mm, cc, truth.mean, truth.cov);
    } catch {
      return Infinity; // a singular running covariance (the first samples)
    }
  };
  // per chain: posteriors' sample moments, and the running moments (posteriors.utils.cumulative_mean_and_cov)
  const s = col.samplesFlat(); // [S, C, d]
  const S = col.steps;
  const perChain: ChainStats[] = [];
  const avgKl = new Float64Array(S);
  const rm = new Float64Array(dim);
  const rc = new Float64Array(dim * dim);
  const dl = new Float64Array(dim);
  for (let ch = 0; ch < chains; ch++) {
    const at = (i: number, a: number) => s[(i * chains + ch) * dim + a]!;
    rc.fill(0);
    for (let a = 0; a < dim; a++) {
      rm[a] = at(0, a);
      rc[a * dim + a] = 1;
    }
    avgKl[0]! += klOr(rm, rc) / chains;
    for (let i = 1; i < S; i++) {
      const k = i + 1;
      for (let a = 0; a < dim; a++) {
        dl[a] = at(i, a) - rm[a]!;
        rm[a] = (rm[a]! * (k - 1)) / k + at(i, a) / k;
      }
      for (let a = 0; a < dim; a++) for (let b = 0; b < dim; b++) rc[a * dim + b] = (rc[a * dim + b]! * (k - 2)) / (k - 1) + (dl[a]! * dl[b]!) / k;
      avgKl[i]! += klOr(rm, rc) / chains;
    }
    perChain.push({ meanErr: maxAbsDiff(truth.mean, rm), covErr: maxAbsDiff(truth.cov, rc), kl: klOr(rm, rc) });
  }
  // posteriors' third check (tests/sgmcmc/utils.py at HEAD): cut the running KL at its argmin over
  // samples ≥ 2, take every 100th from sample 500, and count decreasing consecutive pairs.
  let argmin = 2;
  for (let i = 2; i < S; i++) if (avgKl[i]! < avgKl[argmin]!) argmin = i;
  const spaced: number[] = [];
  for (let i = 500; i < argmin; i += 100) spaced.push(avgKl[i]!);
  let dec = 0;
  for (let i = 0; i + 1 < spaced.length; i++) if (spaced[i]! > spaced[i + 1]!) dec++;
  bt.dispose([state, init]);
  return {
    chains,
    meanErr: maxAbsDiff(truth.mean, m),
    covErr: maxAbsDiff(truth.cov, c),
    kl: bt.sgmcmc.gaussianKL(m, c, truth.mean, truth.cov),
    klInit,
    perChain,
    fracDecreasing: spaced.length > 1 ? dec / (spaced.length - 1) : NaN,
    seconds: res.seconds,
    stepsPerSecond: res.stepsPerSecond,
  };
}

export function assertScenario(name: string, r: ScenarioResult): void {
  const bound = 0.01 * r.klInit;
  const passing = r.perChain.filter((c) => c.meanErr < 0.1 && c.covErr < 0.1 && c.kl < bound).length;
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    `${name}: ${r.chains} chains × 100k steps in ${r.seconds.toFixed(1)} s (${Math.round(r.stepsPerSecond)} steps/s, ${Math.round(r.stepsPerSecond * r.chains)} chain-steps/s)\n` +
      `  pooled: max |mean err| ${r.meanErr.toFixed(4)}, max |cov err| ${r.covErr.toFixed(4)}, KL ${r.kl.toExponential(2)} (bound ${bound.toExponential(2)})\n` +
      `  per chain (posteriors' single-chain test): median max |mean err| ${med(r.perChain.map((c) => c.meanErr)).toFixed(3)}, ` +
      `median max |cov err| ${med(r.perChain.map((c) => c.covErr)).toFixed(3)}, ${passing}/${r.chains} chains pass all three\n` +
      `  chain-averaged running KL decreasing in ${(100 * r.fracDecreasing).toFixed(1)}% of spaced pairs`,
  );
  assert.ok(r.meanErr < 0.1, `${name}: mean error ${r.meanErr} ≥ 0.1`);
  assert.ok(r.covErr < 0.1, `${name}: covariance error ${r.covErr} ≥ 0.1`);
  assert.ok(r.kl < bound, `${name}: KL ${r.kl} ≥ 0.01 · ${r.klInit}`);
  assert.ok(r.fracDecreasing > 0.5, `${name}: running KL decreased in only ${r.fracDecreasing} of pairs`);
}

/** posteriors' SGD-mapped hyperparameters: lr_sgd = 1e-2, μ = τ = 0.9 → ε = 0.1, σ = √10, α = 10. */
export const SGD_MAPPED = (() => {
  const lrSgd = 1e-2;
  const mu = 0.9;
  const tau = 0.9;
  return { lr: 1 - tau, sigma: (lrSgd / (1 - tau)) ** -0.5, alpha: (1 - mu) / lrSgd, beta: 0, momenta: 0 };
})();
