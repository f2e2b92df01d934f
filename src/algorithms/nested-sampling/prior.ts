/**
 * Priors as quantile transforms of the unit cube (jaxns' framework/prior.py): a prior of base
 * shape S takes prod(S) coordinates u ∈ (0,1) and returns X = F⁻¹(u). The quantiles are those of
 * bt.distributions' quantiles module (engine ops only), so they batch under vmap and
 * differentiate in u and in the parameters (evidence maximisation needs both). A number or tensor
 * instead of a distribution is a constant prior: base shape [0], no unit-cube coordinates.
 */
import { Tensor } from '../../tensor.js';
import { ConfigError } from '../../errors.js';
import { tensor } from '../../autodiff/ops/creation.js';
import { abs, add, div, mul } from '../../autodiff/ops/elementwise.js';
import { Normal } from '../../distributions/normal.js';
import { LogNormal } from '../../distributions/lognormal.js';
import { Uniform } from '../../distributions/uniform.js';
import {
  betaQuantile, cauchyQuantile, exponentialQuantile, gammaQuantile, laplaceQuantile, logNormalQuantile, normalQuantile, studentTQuantile, uniformQuantile,
} from '../../distributions/quantiles.js';

/**
 * A distribution a Prior understands: a bt.distributions Normal/LogNormal/Uniform, a spec object
 * (parameters as in jaxns/TFP), or a number/tensor for a constant prior.
 */
export type PriorDistribution =
  | Normal
  | LogNormal
  | Uniform
  | { dist: 'Uniform'; low: Tensor | number; high: Tensor | number }
  | { dist: 'Normal' | 'LogNormal' | 'Cauchy' | 'Laplace'; loc: Tensor | number; scale: Tensor | number }
  | { dist: 'Exponential'; rate: Tensor | number }
  | { dist: 'Gamma'; concentration: Tensor | number; rate: Tensor | number }
  | { dist: 'Beta'; concentration1: Tensor | number; concentration0: Tensor | number }
  | { dist: 'StudentT'; df: Tensor | number; loc: Tensor | number; scale: Tensor | number }
  | Tensor
  | number;

/** The families with a quantile (a number or tensor gives a constant prior instead). */
export const PRIOR_FAMILIES = ['Uniform', 'Normal', 'LogNormal', 'Exponential', 'Cauchy', 'Laplace', 'Gamma', 'Beta', 'StudentT'] as const;
/** A prior's family: one of PRIOR_FAMILIES, or 'Constant' for a number or tensor. */
export type PriorFamily = (typeof PRIOR_FAMILIES)[number] | 'Constant';
type Family = PriorFamily;

const PARAMS: Record<Family, string[]> = {
  Uniform: ['low', 'high'],
  Normal: ['loc', 'scale'],
  LogNormal: ['loc', 'scale'],
  Exponential: ['rate'],
  Cauchy: ['loc', 'scale'],
  Laplace: ['loc', 'scale'],
  Gamma: ['concentration', 'rate'],
  Beta: ['concentration1', 'concentration0'],
  StudentT: ['df', 'loc', 'scale'],
  Constant: ['value'],
};

/** Parameters that must be > 0 wherever they are concrete. */
const POSITIVE = ['scale', 'rate', 'concentration', 'concentration1', 'concentration0', 'df'];

// a number becomes the current backend's float (float64 on the CPU, float32 on WebGPU)
const asTensor = (v: Tensor | number): Tensor => (v instanceof Tensor ? v : tensor(v));

/** The quantile F⁻¹(u) of each family, elementwise in u (broadcast against the parameters). */
const QUANTILE: Record<Family, (u: Tensor, p: Record<string, Tensor>) => Tensor> = {
  Uniform: (u, p) => uniformQuantile(u, p.low!, p.high!),
  Normal: (u, p) => normalQuantile(u, p.loc!, p.scale!),
  LogNormal: (u, p) => logNormalQuantile(u, p.loc!, p.scale!),
  Exponential: (u, p) => exponentialQuantile(u, p.rate!),
  Cauchy: (u, p) => cauchyQuantile(u, p.loc!, p.scale!),
  Laplace: (u, p) => laplaceQuantile(u, p.loc!, p.scale!),
  Gamma: (u, p) => gammaQuantile(u, p.concentration!, p.rate!),
  Beta: (u, p) => betaQuantile(u, p.concentration1!, p.concentration0!),
  StudentT: (u, p) => studentTQuantile(u, p.df!, p.loc!, p.scale!),
  // no coordinates: the value itself
  Constant: (_u, p) => p.value!,
};

function broadcastShape(name: string, shapes: (readonly number[])[]): number[] {
  const nd = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < nd; i++) {
    let d = 1;
    for (const s of shapes) {
      const k = s[s.length - nd + i] ?? 1;
      if (k !== 1 && d !== 1 && k !== d) throw new ConfigError(`ns.Prior '${name}': parameter shapes [${shapes.map((x) => x.join(', ')).join('], [')}] do not broadcast.`);
      if (k !== 1) d = k;
    }
    out.push(d);
  }
  return out;
}

/** quick_unit(θ) = ½(θ/(1+|θ|)+1): the real line onto (0, 1), ½ at θ = 0 (jaxns' parametrisation). */
export function quickUnit(theta: Tensor): Tensor {
  return mul(add(div(theta, add(1, abs(theta))), 1), 0.5);
}

/** Options of Prior.parametrised. */
export interface ParametrisedOptions {
  /** Initialise θ from N(0, 1) (with the Model's key) instead of 0, the prior's median. */
  randomInit?: boolean;
}

/** A named prior over prod(baseShape) unit-cube coordinates, X = quantile(U). */
export class Prior {
  /** The distribution family ('Constant' for a number or tensor). */
  readonly family: Family;
  /** The prior's name: the key of its values in the results. */
  readonly name: string;
  /** The family's parameters as tensors in the backend's float (a parameter may be an earlier prior's value). */
  readonly params: Record<string, Tensor>;
  /** The shape of X (the broadcast parameter shape; a constant's own shape). */
  readonly shape: number[];
  /** The shape of its unit-cube coordinates: `shape`, or [0] for a constant (jaxns' base shape). */
  readonly baseShape: number[];
  /** Unit-cube coordinates it takes: prod(baseShape). */
  readonly uNdims: number;
  /** Parameters given as numbers, kept on the host: checked on every backend (WebGPU cannot read synchronously). */
  private readonly hostValues: Record<string, Float64Array> = {};

  constructor(distribution: PriorDistribution, name: string) {
    if (typeof name !== 'string' || name.length === 0) throw new ConfigError(`ns.Prior: a prior needs a non-empty name, got ${String(name)}.`);
    this.name = name;
    let family: string;
    let raw: Record<string, Tensor | number>;
    if (distribution instanceof Normal) [family, raw] = ['Normal', { loc: distribution.loc, scale: distribution.scale }];
    else if (distribution instanceof LogNormal) [family, raw] = ['LogNormal', { loc: distribution.loc, scale: distribution.scale }];
    else if (distribution instanceof Uniform) [family, raw] = ['Uniform', { low: distribution.low, high: distribution.high }];
    else if (typeof distribution === 'number' || distribution instanceof Tensor) [family, raw] = ['Constant', { value: distribution }];
    else if (distribution && typeof distribution === 'object' && typeof (distribution as { dist?: unknown }).dist === 'string') {
      const { dist, ...rest } = distribution as unknown as { dist: string } & Record<string, Tensor | number>;
      [family, raw] = [dist, rest];
    } else {
      throw new ConfigError(
        `ns.Prior '${name}': expected a bt.distributions Normal/LogNormal/Uniform, a spec { dist: '${PRIOR_FAMILIES.join("' | '")}', ...params }, or a number/tensor (a constant), got ${String(distribution)}.`,
      );
    }
    if (!(PRIOR_FAMILIES as readonly string[]).includes(family) && family !== 'Constant') {
      throw new ConfigError(`ns.Prior '${name}': unknown family '${family}' (known: ${PRIOR_FAMILIES.join(', ')}).`);
    }
    this.family = family as Family;
    const want = PARAMS[this.family];
    for (const k of Object.keys(raw)) if (!want.includes(k)) throw new ConfigError(`ns.Prior '${name}': ${family} has no parameter '${k}' (expected ${want.join(', ')}).`);
    this.params = {};
    for (const k of want) {
      const v = raw[k];
      if (!(typeof v === 'number' || v instanceof Tensor)) throw new ConfigError(`ns.Prior '${name}': ${family} needs parameter '${k}' as a number or tensor, got ${String(v)}.`);
      this.params[k] = asTensor(v);
      if (typeof v === 'number') this.hostValues[k] = Float64Array.of(v);
    }
    this.shape = broadcastShape(name, want.map((k) => this.params[k]!.shape));
    this.baseShape = this.family === 'Constant' ? [0] : this.shape;
    this.uNdims = this.baseShape.reduce((a, b) => a * b, 1);
  }

  /**
   * Checks the parameters where they are concrete (finite; scale, rate, concentrations and df
   * > 0; high > low); a parameter computed from an earlier prior is checked when it is a concrete
   * tensor (at model construction), not under vmap.
   */
  validate(): void {
    const concrete = (t: Tensor, k: string): Float64Array | null => {
      if (this.hostValues[k]) return this.hostValues[k]!;
      try {
        return Float64Array.from(t.dataSync());
      } catch {
        return null; // a traced value (under vmap): no check possible here
      }
    };
    const bad = (k: string, why: string): never => {
      throw new ConfigError(`ns.Prior '${this.name}' (${this.family}): parameter ${k} ${why}.`);
    };
    const vals: Record<string, Float64Array | null> = {};
    for (const [k, t] of Object.entries(this.params)) {
      const v = concrete(t, k);
      vals[k] = v;
      if (v && v.some((x) => !Number.isFinite(x))) bad(k, `must be finite, got [${Array.from(v).join(', ')}]`);
    }
    for (const k of POSITIVE) {
      const v = vals[k];
      if (v && v.some((x) => !(x > 0))) bad(k, `must be > 0, got [${Array.from(v).join(', ')}]`);
    }
    const lo = vals.low;
    const hi = vals.high;
    if (lo && hi) {
      const n = Math.max(lo.length, hi.length);
      for (let i = 0; i < n; i++) if (!(hi[i % hi.length]! > lo[i % lo.length]!)) bad('high', `must exceed low, got low ${lo[i % lo.length]} and high ${hi[i % hi.length]}`);
    }
  }

  /** X = quantile(u) with u of this prior's shape (or broadcastable to it); a constant ignores u. */
  forward(u: Tensor): Tensor {
    return QUANTILE[this.family](u, this.params);
  }

  /**
   * This prior as a model parameter (jaxns' SingularPrior): a real leaf θ named `<name>_param`
   * of the prior's base shape in the Model's `params`, initialised at 0 (the median) or N(0, 1)
   * with `randomInit`; its value is quantile(quickUnit(θ)). It takes no unit-cube coordinates,
   * and its log density enters nothing the sampler sees, so evidence maximisation is type-II
   * maximum likelihood with no hyper-prior term.
   */
  parametrised(options: ParametrisedOptions = {}): ParametrisedPrior {
    if (options === null || typeof options !== 'object') throw new ConfigError(`ns.Prior '${this.name}'.parametrised: options must be an object { randomInit }.`);
    for (const k of Object.keys(options)) if (k !== 'randomInit') throw new ConfigError(`ns.Prior '${this.name}'.parametrised: unknown option '${k}' (known: randomInit).`);
    if (options.randomInit !== undefined && typeof options.randomInit !== 'boolean') throw new ConfigError(`ns.Prior '${this.name}'.parametrised: randomInit must be a boolean, got ${String(options.randomInit)}.`);
    return new ParametrisedPrior(this, options.randomInit ?? false);
  }
}

/** A prior turned into a parameter by `prior.parametrised()`: yield it from a priorModel like a Prior. */
export class ParametrisedPrior {
  /** The prior's name (its value is reported under it in `parametrisedSamples`). */
  readonly name: string;
  /** The parameter's name in the Model's params: `<name>_param`. */
  readonly paramName: string;
  /** The shape of θ: the prior's base shape. */
  readonly paramShape: number[];
  /** The shape of the value. */
  readonly shape: number[];

  constructor(
    /** The prior whose quantile maps θ to the value. */
    readonly prior: Prior,
    /** Whether θ starts at N(0, 1) draws instead of 0. */
    readonly randomInit: boolean,
  ) {
    if (!(prior instanceof Prior)) throw new ConfigError(`ns.ParametrisedPrior: expected an ns.Prior, got ${String(prior)}.`);
    this.name = prior.name;
    this.paramName = `${prior.name}_param`;
    this.paramShape = prior.baseShape;
    this.shape = prior.shape;
  }

  /** The value quantile(quickUnit(θ)), with θ of shape `paramShape`. */
  forward(theta: Tensor): Tensor {
    return this.prior.forward(quickUnit(theta));
  }
}
