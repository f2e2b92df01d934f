/**
 * The sampler's batched likelihood with the `jit` option (src/jit/step.ts): f(U) = log L_θ(T_θ(U))
 * over a batch U [n, D], prior transform and vmap included, traced once and replayed.
 *
 * The number of active chains changes from call to call (a slice round evaluates only the chains
 * still shrinking), so on the host path a batch of n rows is padded to the next power of two with
 * rows at the cube's centre and the padding's values are dropped: at most ⌈log₂ c⌉ + 1 programs
 * per sampler instead of one per distinct n (each row's value does not depend on the batch around
 * it, so the numbers equal the eager ones bit for bit). The device path evaluates every chain of a
 * shell each round, a fixed batch: no padding there. The parameters θ are program inputs, not
 * captured constants, so model(θ') replays the same program with the new θ.
 */
import type { Tensor } from '../../tensor.js';
import { fromHost } from '../../autodiff/core.js';
import { jitStep, type JitOption, type JitStep } from '../../jit/step.js';
import type { JitCacheInfo } from '../../jit/jit.js';
import type { Model, ModelParams } from './model.js';

/** What a sampler reports about its jitted likelihood. */
export interface NsJitInfo {
  /** false with jit: false, or after the likelihood fell back to eager. */
  jitted: boolean;
  /** Times the likelihood was traced (one per padded batch size). */
  retraces: number;
  cache: JitCacheInfo | null;
  /** Batched likelihood calls made (jitted or eager; a jitted call does not run the user's function). */
  calls: number;
}

/** The smallest power of two ≥ n (n ≥ 1). */
export const bucket = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/** log L over batches of unit-cube points, jitted or eager as the option says. */
export class BatchLikelihood {
  private readonly fn: JitStep<(u: Tensor, params: ModelParams) => Tensor>;
  private calls = 0;
  /** Rows padded to the batch's power of two (reused: each call copies them into its tensor). */
  private padded = new Float64Array(0);
  constructor(
    readonly model: Model,
    mode: JitOption,
  ) {
    // programs per sampler: one per power of two up to c, a few more for the device path's sizes
    this.fn = jitStep('ns.NestedSampler (likelihood)', (u: Tensor, params: ModelParams) => model.logLikelihoodBatch(u, params), mode, { cacheSize: 24 });
  }

  /** Whether calls are traced and replayed. */
  get jitted(): boolean {
    return this.fn.jitted;
  }

  /**
   * log L at the first n rows of u (row-major, D per row), not read: [b] for the b rows evaluated
   * (b = n eager; jitted, n padded to a power of two: the first n values are the rows').
   */
  rows(u: Float64Array, n: number): { l: Tensor; b: number } {
    const D = this.model.uNdims;
    // fromHost copies the rows into the tensor's own buffer, so the padded rows can be reused
    if (!this.fn.jitted) return { l: this.tensor(fromHost(u.subarray(0, n * D), [n, D])), b: n };
    const b = bucket(n);
    if (this.padded.length < b * D) this.padded = new Float64Array(b * D);
    const padded = this.padded.subarray(0, b * D);
    padded.set(u.subarray(0, n * D));
    padded.fill(0.5, n * D);
    return { l: this.tensor(fromHost(padded, [b, D])), b };
  }

  /** log L over all rows of u [n, D] (the device path: n is fixed per shell, so no padding). */
  tensor(u: Tensor): Tensor {
    this.calls++;
    return this.fn(u, this.model.params);
  }

  info(): NsJitInfo {
    return { jitted: this.fn.jitted, retraces: this.fn.retraces, cache: this.fn.cacheInfo(), calls: this.calls };
  }

  /** Frees the compiled programs (the likelihood keeps working: it retraces). */
  dispose(): void {
    this.fn.dispose();
  }
}
