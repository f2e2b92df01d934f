/**
 * The target distribution GMMVI fits (gmmvi's LNPDF, §9 of the notes): an unnormalised log density
 * over [N, d] samples, with its x-gradient either from the tape or from the target itself
 * (`useLogDensityAndGrad`, for targets that are not written in bayestape ops). The selectors call
 * `evaluateTarget`, the one host boundary of an iteration.
 */
import { Tensor } from '../../tensor.js';
import { ConfigError, ShapeError } from '../../errors.js';
import { tidy } from '../../memory.js';
import { valueAndGrad } from '../../autodiff/reverse.js';
import { sum } from '../../autodiff/ops/reduce.js';
import { fmtShape } from '../../shape.js';
import { checkJitOption, jitStep, type JitStep } from '../../jit/step.js';

/** An unnormalised target density log p̃(x) (gmmvi's LNPDF). */
export interface LNPDF {
  /** log p̃(x) [N] for samples [N, d] (differentiable with bayestape ops unless `useLogDensityAndGrad`) */
  logDensity(samples: Tensor): Tensor;
  /** [log p̃(x) [N], ∇ log p̃(x) [N, d]] computed by the target itself */
  logDensityAndGrad?(samples: Tensor): [Tensor, Tensor] | Promise<[Tensor, Tensor]>;
  /** the dimension d */
  numDimensions: number;
  /** call `logDensityAndGrad` instead of differentiating `logDensity` (default false) */
  useLogDensityAndGrad?: boolean;
  /** whether `sample` draws exact samples from the target (for metrics; default false) */
  canSample?: boolean;
  /** n exact samples [n, d] (when `canSample`) */
  sample?(n: number, key: Tensor): Tensor;
  /**
   * The log density the metrics (−ELBO) score model samples with, when it differs from the one
   * the learner sees: a minibatched target (breastCancer_mb) learns from a noisy per-call estimate
   * but is judged by the exact full-batch density, as in gmmvi. Default: `logDensity`.
   */
  metricLogDensity?(samples: Tensor): Tensor;
  /**
   * Whether log p̃ and its x-gradient are traced once per batch size and replayed (`bt.jit`; the
   * SG-MCMC rules): default on, falling back to eager with one warning if `logDensity` reads a
   * value on the host; true makes that an error; false is eager. The numbers are the same on the
   * CPU. A `logDensity` with side effects (a call counter, a host-drawn minibatch) must say false:
   * a traced one runs only while it is traced. Read at the first evaluation. The compiled programs
   * hold backend memory until `disposeTargetPrograms(target)`.
   */
  jit?: boolean;
}

/** log p̃ [N] and ∇ log p̃ [N, d] of a batch of samples. */
export interface TargetEvaluation {
  targetLnpdfs: Tensor;
  targetGrads: Tensor;
}

/** Checks the LNPDF's shape of members (not its values), naming what is missing. */
export function checkTarget(op: string, target: unknown): LNPDF {
  const t = target as LNPDF;
  if (t === null || typeof t !== 'object' || typeof t.logDensity !== 'function') throw new ConfigError(`${op}: the target must be an object with logDensity(samples [N, d]) → [N].`);
  if (!Number.isInteger(t.numDimensions) || t.numDimensions < 1) throw new ConfigError(`${op}: target.numDimensions must be a positive integer, got ${String(t.numDimensions)}.`);
  if (t.metricLogDensity !== undefined && typeof t.metricLogDensity !== 'function') throw new ConfigError(`${op}: target.metricLogDensity must be a function (samples [N, d]) → [N] when given.`);
  checkJitOption(`${op}: target.jit`, t.jit);
  if (t.useLogDensityAndGrad && typeof t.logDensityAndGrad !== 'function') throw new ConfigError(`${op}: target.useLogDensityAndGrad is set but target.logDensityAndGrad is not a function.`);
  return t;
}

/** log p̃ and ∇ₓ log p̃ by reverse mode through logDensity (the gradient of the sum is the per-row gradient). */
function densityAndGrad(target: LNPDF, x: Tensor): [Tensor, Tensor] {
  const [[, value], g] = valueAndGrad((xs: Tensor) => {
    const v = target.logDensity(xs);
    return [sum(v), v];
  }, { hasAux: true })(x) as [[Tensor, Tensor], Tensor];
  return [value, g];
}

/** Each target's densityAndGrad with its jit option applied (programs per batch size, at most 8 kept). */
const jitted = new WeakMap<LNPDF, JitStep<(x: Tensor) => [Tensor, Tensor]>>();

/** Frees the compiled programs of `target`'s density (and the constants they hold); the next evaluation traces again. */
export function disposeTargetPrograms(target: LNPDF): void {
  jitted.get(target)?.dispose();
  jitted.delete(target);
}

/**
 * log p̃(x) and ∇ₓ log p̃(x) for samples [N, d]: from `logDensityAndGrad` when the target asks for
 * it, else by reverse mode through `logDensity` (each row's density depends only on that row, so
 * the gradient of the sum is the per-row gradient). Results are checked for shape.
 */
export async function evaluateTarget(target: LNPDF, samples: Tensor): Promise<TargetEvaluation> {
  const op = 'gmmvi.evaluateTarget';
  const n = samples.shape[0]!;
  const d = target.numDimensions;
  if (samples.ndim !== 2 || samples.shape[1] !== d) throw new ShapeError(`${op}: samples must be [N, ${d}] for this ${d}-dimensional target, got ${fmtShape(samples.shape)}.`);
  let lnp: Tensor;
  let grads: Tensor;
  if (target.useLogDensityAndGrad) {
    [lnp, grads] = await target.logDensityAndGrad!(samples);
  } else {
    let step = jitted.get(target);
    if (!step) jitted.set(target, (step = jitStep(op, (x: Tensor) => densityAndGrad(target, x), target.jit, { cacheSize: 8 })));
    [lnp, grads] = tidy(() => step(samples));
  }
  if (!(lnp instanceof Tensor) || lnp.ndim !== 1 || lnp.shape[0] !== n) throw new ShapeError(`${op}: the target's log density must be [${n}] for ${n} samples, got ${lnp instanceof Tensor ? fmtShape(lnp.shape) : String(lnp)}.`);
  if (!(grads instanceof Tensor) || grads.ndim !== 2 || grads.shape[0] !== n || grads.shape[1] !== d) throw new ShapeError(`${op}: the target's gradient must be [${n}, ${d}], got ${grads instanceof Tensor ? fmtShape(grads.shape) : String(grads)}.`);
  return { targetLnpdfs: lnp, targetGrads: grads };
}
