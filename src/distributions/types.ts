/**
 * The Distribution interface shared by bt.distributions, bt.flows and bt.vi, and the analytic-KL
 * dispatcher `kl`. Families register their analytic KL pairs with `registerKl` when their module
 * loads (importing a family's class is enough to make its pairs available).
 */
import type { Tensor } from '../tensor.js';
import type { PyTree } from '../autodiff/tree.js';
import { ConfigError } from '../errors.js';

/** A probability distribution over tensors of shape [...batchShape, ...eventShape], trainable through its params. */
export interface Distribution {
  readonly eventShape: readonly number[];   // e.g. [d] for a d-dim vector distribution, [] for scalar
  readonly batchShape: readonly number[];
  /** log density summed over event dims: x [...sample, ...batch, ...event] -> [...sample, ...batch] */
  logProb(x: Tensor): Tensor;
  /** draws without gradient (stopGradient), shape [...sampleShape, ...batch, ...event] */
  sample(key: Tensor, sampleShape?: readonly number[]): Tensor;
  /** reparameterised draws, differentiable in the parameters (throw ConfigError where none exists) */
  rsample(key: Tensor, sampleShape?: readonly number[]): Tensor;
  /** reparameterised draws and their log density in one pass (flows need this): [x, logProb(x)] */
  rsampleAndLogProb(key: Tensor, sampleShape?: readonly number[]): [Tensor, Tensor];
  /** The entropy, analytic where it exists (ConfigError otherwise), shape batchShape. */
  entropy(): Tensor;
  /** The mean, shape [...batchShape, ...eventShape]. */
  mean(): Tensor;
  /** trainable leaves as a pytree, and the same family rebuilt from new leaves (functional training) */
  params(): PyTree;
  /** The same family rebuilt from new parameter leaves shaped like `params()`. */
  withParams(p: PyTree): Distribution;
}

/** A constructor of a Distribution family, used as a key of the KL registry. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type DistributionClass = abstract new (...args: any[]) => Distribution;

type KlRule = (p: Distribution, q: Distribution) => Tensor;
const klRules: { p: DistributionClass; q: DistributionClass; rule: KlRule }[] = [];

/** Register an analytic KL(p ‖ q) for p instanceof P and q instanceof Q (later registrations win). */
export function registerKl<P extends Distribution, Q extends Distribution>(
  pCls: abstract new (...args: never[]) => P,
  qCls: abstract new (...args: never[]) => Q,
  rule: (p: P, q: Q) => Tensor,
): void {
  klRules.unshift({ p: pCls as unknown as DistributionClass, q: qCls as unknown as DistributionClass, rule: rule as KlRule });
}

function familyName(d: unknown): string {
  const c = (d as { constructor?: { name?: string } } | null)?.constructor?.name;
  return c && c !== 'Object' ? c : typeof d;
}

/**
 * KL(p ‖ q), analytic, shape = the broadcast batch shape. Throws ConfigError naming the pair where
 * no closed form is registered (estimate it by Monte Carlo with rsampleAndLogProb instead).
 */
export function kl(p: Distribution, q: Distribution): Tensor {
  for (const r of klRules) {
    if (p instanceof r.p && q instanceof r.q) return r.rule(p, q);
  }
  throw new ConfigError(
    `distributions.kl: no analytic KL(${familyName(p)} ‖ ${familyName(q)}) is registered; ` +
      `estimate it by Monte Carlo (mean of p.logProb(x) - q.logProb(x) over x from p.rsampleAndLogProb).`,
  );
}
