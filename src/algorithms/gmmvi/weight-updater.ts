/**
 * Weight updaters (§5.2 of the notes): on the iteration's window, with the components already
 * updated, each component's expected reward R̂_o = E_{q(x|o)}[log p̃(x) − β log q(x)] (SNIS or
 * standard importance weights against the window's background), the stored reward
 * r_o = β log w_o + R̂_o (appended to the reward history), then new weights (K > 1 only):
 *
 *  - 'direct' (U): log w′ ∝ log w + (ε/β) R̂
 *  - 'trust-region' (O): log w′(η) ∝ ((η + 1)/(β + η)) log w + R̂/(β + η), with η found by
 *    bisection in log η on [−45, 45] (≤ 50 steps) so that KL(w′ ‖ w) is within 10 % of ε; if the
 *    search ends without that, the feasible upper end is used, or the weights are kept.
 *
 * Both normalise, clamp log w′ ≥ −69.07 (w ≥ 1e-30) and renormalise.
 */
import type { Tensor } from '../../tensor.js';
import { ConfigError } from '../../errors.js';
import { tidy } from '../../memory.js';
import { add, div, exp, log, maximum, mul, sub } from '../../autodiff/ops/elementwise.js';
import { logsumexp, max, softmax, sum } from '../../autodiff/ops/reduce.js';
import { expandDims, reshape } from '../../autodiff/ops/shape.js';
import { tensor } from '../../autodiff/ops/creation.js';
import { componentLogDensities, logDensity, numComponents } from './gmm.js';
import { storeRewards, wrapperReplaceWeights, type GmmWrapperState } from './wrapper.js';
import type { SampleSelection } from './sample-selector.js';

/** gmmvi's `weight_updater_type` strings (letters U, O). */
export type WeightUpdaterType = 'direct' | 'trust-region';

/** Options of the weight updaters. */
export interface WeightUpdateOptions {
  /** self-normalised importance weights (gmmvi's default true) */
  useSelfNormalizedImportanceWeights: boolean;
  /** β (default 1) */
  temperature?: number;
}

const LOG_MIN_WEIGHT = -69.07;

/** R̂_o = E_{q(x|o)}[log p̃ − β log q] for every component [K], from the window and the current model. */
export function expectedComponentRewards(s: GmmWrapperState, selection: Pick<SampleSelection, 'samples' | 'logPdfs' | 'targetLnpdfs'>, opts: WeightUpdateOptions): Tensor {
  const beta = opts.temperature ?? 1;
  return tidy(() => {
    const comp = componentLogDensities(s.model, selection.samples); // [K, N]
    const reward = sub(selection.targetLnpdfs, mul(logDensity(s.model, selection.samples), beta)); // [N]
    const logW = sub(comp, expandDims(selection.logPdfs, 0));
    if (opts.useSelfNormalizedImportanceWeights) return sum(mul(softmax(logW, { axis: -1 }), expandDims(reward, 0)), { axis: -1 });
    // (1/N) Σ a_i v_i, scaled by the largest weight so exp does not overflow
    const m = max(logW, { axis: -1, keepdims: true });
    const n = selection.samples.shape[0]!;
    return div(mul(sum(mul(exp(sub(logW, m)), expandDims(reward, 0)), { axis: -1 }), reshape(exp(m), [numComponents(s.model)])), n);
  });
}

/** Normalise, clamp at w ≥ 1e-30, renormalise. */
function normaliseClamped(logW: Tensor): Tensor {
  const n1 = sub(logW, logsumexp(logW));
  const c = maximum(n1, LOG_MIN_WEIGHT);
  return sub(c, logsumexp(c));
}

async function readNumbers(t: Tensor): Promise<number[]> {
  return Array.from(await t.data(), Number);
}

/** What the weight update did. */
export interface WeightUpdateInfo {
  /** R̂ per component (host) */
  expectedRewards: number[];
  /** trust region: KL(w′ ‖ w) of the accepted weights (0 when kept); direct: NaN */
  kl: number;
  /** trust region: the η used (NaN when the weights were kept or for direct) */
  eta: number;
  /** whether the weights changed */
  updated: boolean;
}

/**
 * One weight update: rewards stored, then the new weights (direct or trust-region with bound or
 * learning rate `stepsize`). Returns the new wrapper state (weights appended to their history).
 */
export async function updateWeights(type: WeightUpdaterType, s: GmmWrapperState, selection: Pick<SampleSelection, 'samples' | 'logPdfs' | 'targetLnpdfs'>, stepsize: number, opts: WeightUpdateOptions): Promise<[GmmWrapperState, WeightUpdateInfo]> {
  const op = 'gmmvi.updateWeights';
  if (type !== 'direct' && type !== 'trust-region') throw new ConfigError(`${op}: unknown weight_updater_type '${String(type)}' (known: direct, trust-region).`);
  if (typeof opts?.useSelfNormalizedImportanceWeights !== 'boolean') throw new ConfigError(`${op}: useSelfNormalizedImportanceWeights must be true or false.`);
  const beta = opts.temperature ?? 1;
  if (typeof stepsize !== 'number' || !(stepsize >= 0) || !Number.isFinite(stepsize)) throw new ConfigError(`${op}: stepsize must be a finite number ≥ 0, got ${String(stepsize)}.`);
  const rHat = expectedComponentRewards(s, selection, opts);
  const rewards = tidy(() => add(mul(s.model.logWeights, beta), rHat));
  const stored = storeRewards(s, rewards);
  rewards.dispose();
  const expectedRewards = await readNumbers(rHat);
  const k = numComponents(s.model);
  if (k < 2) {
    rHat.dispose();
    return [stored, { expectedRewards, kl: 0, eta: NaN, updated: false }];
  }
  const logW = s.model.logWeights;
  if (type === 'direct') {
    const nw = tidy(() => normaliseClamped(add(logW, mul(rHat, stepsize / beta))));
    rHat.dispose();
    const next = wrapperReplaceWeights(stored, nw);
    nw.dispose();
    return [next, { expectedRewards, kl: NaN, eta: NaN, updated: true }];
  }
  const w0 = await readNumbers(logW);
  const at = (eta: number): number[] => {
    // host arithmetic on K numbers: no reason for a device round trip per bisection step
    const raw = w0.map((l, o) => ((eta + 1) / (beta + eta)) * l + expectedRewards[o]! / (beta + eta));
    const lse = (v: number[]) => { const m = Math.max(...v); return m + Math.log(v.reduce((t, x) => t + Math.exp(x - m), 0)); };
    const n1 = raw.map((v) => v - lse(raw));
    const c = n1.map((v) => Math.max(v, LOG_MIN_WEIGHT));
    const z = lse(c);
    return c.map((v) => v - z);
  };
  const klOf = (lw: number[]) => lw.reduce((t, l, o) => t + Math.exp(l) * (l - w0[o]!), 0);
  let lb = -45, ub = 45;
  let feasible = false;
  let accepted: number[] | null = null;
  let eta = NaN;
  for (let it = 0; it < 50; it++) {
    if (Math.abs(Math.exp(ub) - Math.exp(lb)) < 0.1) break;
    const m = 0.5 * (lb + ub);
    const lw = at(Math.exp(m));
    const kl = klOf(lw);
    if (Math.abs(stepsize - kl) < 0.1 * stepsize) {
      accepted = lw;
      eta = Math.exp(m);
      break;
    }
    if (kl < stepsize) {
      ub = m;
      feasible = true;
    } else lb = m;
  }
  if (accepted === null && feasible) {
    eta = Math.exp(ub);
    accepted = at(eta);
  }
  rHat.dispose();
  // gmmvi "replaces" the weights by the old ones when no η fits: the weight history still rolls,
  // which the deletion heuristic's window counts on.
  if (accepted === null) return [wrapperReplaceWeights(stored, logW), { expectedRewards, kl: 0, eta: NaN, updated: false }];
  const nw = tensor(accepted, { dtype: logW.dtype });
  const next = wrapperReplaceWeights(stored, nw);
  nw.dispose();
  return [next, { expectedRewards, kl: klOf(accepted), eta, updated: true }];
}
