/** The prior the LFI tools need: a box (per-parameter bounds, which set the grids) with draws and a density. */
import { ConfigError, ShapeError } from '../../../errors.js';
import { Tensor } from '../../../tensor.js';
import { uniform } from '../../../random.js';
import { tensor } from '../../../autodiff/ops/creation.js';

/**
 * A box-bounded prior, as imnn's TFP distribution patched with `.low` and `.high`: `low`/`high` bound
 * every parameter (they set the marginal grids and truncate PMC proposals), `sample(key, n)` gives
 * θ [n, nParams] and `logProb(θ [n, nParams])` gives log p(θ) [n] (−∞ outside the support).
 */
export interface BoxPrior {
  low: readonly number[];
  high: readonly number[];
  /** n draws θ [n, nParams] from the key. */
  sample(key: Tensor, n: number): Tensor;
  /** log p(θ) [n] for θ [n, nParams] (−∞ outside the support). */
  logProb(theta: Tensor): Tensor;
}

/** Uniform prior on the box [low, high] (a TFP-like `Uniform(low, high)` with its bounds exposed). */
export function uniformPrior(low: readonly number[], high: readonly number[]): BoxPrior {
  const lo = [...low];
  const hi = [...high];
  checkBounds('uniformPrior', lo, hi);
  const logVol = -lo.reduce((a, l, i) => a + Math.log(hi[i]! - l), 0);
  return {
    low: lo,
    high: hi,
    sample(key: Tensor, n: number): Tensor {
      const u = uniform(key, [n, lo.length], { dtype: 'float64' }).dataSync();
      const out = new Float64Array(u.length);
      for (let i = 0; i < u.length; i++) {
        const k = i % lo.length;
        out[i] = lo[k]! + (hi[k]! - lo[k]!) * (u[i] as number);
      }
      return tensor(out, { shape: [n, lo.length] });
    },
    logProb(theta: Tensor): Tensor {
      const p = lo.length;
      if (theta.shape[theta.ndim - 1] !== p) throw new ShapeError(`uniformPrior.logProb: θ must end in ${p} parameters, got [${theta.shape.join(', ')}].`);
      const t = theta.dataSync();
      const n = t.length / p;
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let inside = true;
        for (let k = 0; k < p; k++) {
          const v = t[i * p + k] as number;
          if (!(v >= lo[k]! && v <= hi[k]!)) inside = false;
        }
        out[i] = inside ? logVol : -Infinity;
      }
      return tensor(out, { shape: theta.shape.slice(0, -1) });
    },
  };
}

function checkBounds(op: string, lo: unknown, hi: unknown): asserts lo is number[] {
  if (!Array.isArray(lo) || !Array.isArray(hi) || lo.length === 0 || lo.length !== hi.length) {
    throw new ConfigError(`${op}: prior needs \`low\` and \`high\` arrays of the same non-zero length (one bound per parameter), got low=${JSON.stringify(lo)}, high=${JSON.stringify(hi)}.`);
  }
  for (let i = 0; i < lo.length; i++) {
    if (typeof lo[i] !== 'number' || typeof hi[i] !== 'number' || !Number.isFinite(lo[i]) || !Number.isFinite(hi[i]) || !(hi[i] > lo[i])) {
      throw new ConfigError(`${op}: prior bounds must be finite with low < high, parameter ${i} has [${lo[i]}, ${hi[i]}].`);
    }
  }
}

/** The prior if it is a usable box prior with nParams parameters; else a typed error naming `prior`. */
export function checkPrior(op: string, prior: unknown, nParams?: number): BoxPrior {
  if (typeof prior !== 'object' || prior === null) throw new ConfigError(`${op}: prior must be an object with low, high, sample(key, n) and logProb(θ); got ${String(prior)}.`);
  const p = prior as Partial<BoxPrior>;
  if (p.low === undefined || p.high === undefined) {
    throw new ConfigError(`${op}: prior has no bounds: give it \`low\` and \`high\` (per-parameter arrays; they set the grids), e.g. bt.imnn.lfi.uniformPrior(low, high).`);
  }
  checkBounds(op, p.low, p.high);
  if (typeof p.sample !== 'function' || typeof p.logProb !== 'function') throw new ConfigError(`${op}: prior needs sample(key, n) and logProb(θ) methods.`);
  if (nParams !== undefined && p.low.length !== nParams) {
    throw new ShapeError(`${op}: prior has ${p.low.length} parameters (low/high) but the estimates have ${nParams}.`);
  }
  return p as BoxPrior;
}
