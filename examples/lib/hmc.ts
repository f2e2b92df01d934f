/**
 * A small full-batch Hamiltonian Monte Carlo for the demo's gold-standard reference: C chains
 * stepped together (the log density takes z [C, D] and returns [C]), identity mass matrix (the
 * caller whitens the target), leapfrog with a step size jittered per iteration and chain (so no
 * orbit resonates with a fixed trajectory length), and a Metropolis accept/reject per chain, which
 * makes it exact for any step size: only the acceptance rate and the mixing depend on it.
 */
import * as bt from '../../src/index.js';

type T = bt.Tensor;

/** Options of `hmc`: warm-up and kept iterations, leapfrog step size and steps, key, progress. */
export interface HmcOptions {
  /** Iterations discarded while the chains reach the typical set. */
  warmup: number;
  /** Iterations kept per chain. */
  draws: number;
  /** Leapfrog step size (jittered uniformly in [0.8, 1.2] ×). */
  stepSize: number;
  /** Leapfrog steps per iteration. */
  leapfrogSteps: number;
  key: T;
  /** Called every `every` iterations with the iteration number (progress for long runs). */
  onProgress?: (iteration: number, total: number) => void;
}

/** What `hmc` returns: the kept draws, acceptance rate, cost and time. */
export interface HmcResult {
  /** Kept draws [C, draws, D] row-major on the host (the diagnostics layout). */
  draws: Float64Array;
  shape: [number, number, number];
  /** Mean Metropolis acceptance rate over kept iterations and chains. */
  acceptRate: number;
  /** Gradient evaluations per chain. */
  gradients: number;
  seconds: number;
}

/** Runs HMC from z0 [C, D] on logDensity ([C, D] → [C]). */
export function hmc(logDensity: (z: T) => T, z0: T, o: HmcOptions): HmcResult {
  const [C, D] = z0.shape as [number, number];
  // Σ_c log p(z_c): its gradient is every chain's own gradient, one backward pass for all chains
  const vg = bt.valueAndGrad((z: T) => {
    const lp = logDensity(z);
    return [lp.sum(), lp];
  }, { hasAux: true });
  const evalAt = (z: T): [T, T] => {
    const [[, lp], g] = vg(z) as [[T, T], T];
    return [lp, g];
  };
  let z = bt.keep(z0.add(0));
  let [lp, g] = bt.tidy(() => evalAt(z));
  bt.keep([lp, g]);
  const total = o.warmup + o.draws;
  const out = new Float64Array(C * o.draws * D);
  let accepted = 0;
  const t0 = performance.now();
  for (let it = 0; it < total; it++) {
    const next = bt.tidy(() => {
      const k = bt.random.foldIn(o.key, it);
      const ks = bt.random.split(k, 3);
      const key = (i: number) => ks.slice([i, 0], [1, 2]).reshape([2]);
      const eps = bt.random.uniform(key(0), [C, 1], { minval: 0.8 * o.stepSize, maxval: 1.2 * o.stepSize, dtype: z.dtype as bt.FloatDType });
      const p0 = bt.random.normal(key(1), [C, D], { dtype: z.dtype as bt.FloatDType });
      let zz = z;
      let gg = g;
      let ll = lp;
      let p = p0.add(gg.mul(eps.mul(0.5)));
      for (let l = 0; l < o.leapfrogSteps; l++) {
        zz = zz.add(p.mul(eps));
        [ll, gg] = evalAt(zz);
        if (l < o.leapfrogSteps - 1) p = p.add(gg.mul(eps));
      }
      p = p.add(gg.mul(eps.mul(0.5)));
      // log acceptance = −H(z', p') + H(z, p), H = −log p(z) + |p|²/2
      const logAcc = ll.sub(lp).sub(p.square().sum({ axis: 1 }).mul(0.5)).add(p0.square().sum({ axis: 1 }).mul(0.5));
      const logU = bt.log(bt.random.uniform(key(2), [C], { dtype: z.dtype as bt.FloatDType }));
      const acc = bt.less(logU, bt.where(bt.isNan(logAcc), -Infinity, logAcc));
      const accCol = acc.expandDims(-1);
      return { z: bt.where(accCol, zz, z), lp: bt.where(acc, ll, lp), g: bt.where(accCol, gg, g), acc };
    });
    bt.dispose([z, lp, g]);
    ({ z, lp, g } = next);
    const acc = next.acc.dataSync();
    next.acc.dispose();
    if (it >= o.warmup) {
      const s = it - o.warmup;
      const zv = z.dataSync();
      for (let c = 0; c < C; c++) {
        accepted += acc[c]!;
        out.set(zv.subarray(c * D, (c + 1) * D), (c * o.draws + s) * D);
      }
    }
    o.onProgress?.(it + 1, total);
  }
  bt.dispose([z, lp, g]);
  return { draws: out, shape: [C, o.draws, D], acceptRate: accepted / (C * o.draws), gradients: total * o.leapfrogSteps, seconds: (performance.now() - t0) / 1000 };
}
