/**
 * Priors as quantile transforms of the unit cube (jaxns' framework/prior.py): a prior of base
 * shape S takes prod(S) coordinates u ∈ (0,1) and returns X = F⁻¹(u). The quantiles use engine ops
 * only, so they batch under vmap and differentiate in u and in the parameters (EM needs both).
 * Gamma, Beta and StudentT wait for the incomplete gamma/beta inverses (another branch).
 */
import { Tensor } from '../../tensor.js';
import { ConfigError } from '../../errors.js';
import { tensor } from '../../autodiff/ops/creation.js';
import { abs, add, cos, div, erfinv, exp, log, log1p, mul, neg, sign, sin, sub } from '../../autodiff/ops/elementwise.js';
import { Normal } from '../../distributions/normal.js';
import { LogNormal } from '../../distributions/lognormal.js';
import { Uniform } from '../../distributions/uniform.js';

/** A distribution a Prior understands: a bt.distributions Normal/LogNormal/Uniform, or a spec object. */
export type PriorDistribution =
  | Normal
  | LogNormal
  | Uniform
  | { dist: 'Uniform'; low: Tensor | number; high: Tensor | number }
  | { dist: 'Normal' | 'LogNormal' | 'Cauchy' | 'Laplace'; loc: Tensor | number; scale: Tensor | number }
  | { dist: 'Exponential'; rate: Tensor | number };

/** The families with a quantile here (Gamma, Beta, StudentT come with the special functions). */
export const PRIOR_FAMILIES = ['Uniform', 'Normal', 'LogNormal', 'Exponential', 'Cauchy', 'Laplace'] as const;
type Family = (typeof PRIOR_FAMILIES)[number];

const PARAMS: Record<Family, string[]> = {
  Uniform: ['low', 'high'],
  Normal: ['loc', 'scale'],
  LogNormal: ['loc', 'scale'],
  Exponential: ['rate'],
  Cauchy: ['loc', 'scale'],
  Laplace: ['loc', 'scale'],
};

// a number becomes the current backend's float (float64 on the CPU, float32 on WebGPU)
const asTensor = (v: Tensor | number): Tensor => (v instanceof Tensor ? v : tensor(v));

/** The quantile F⁻¹(u) of each family, elementwise in u (broadcast against the parameters). */
const QUANTILE: Record<Family, (u: Tensor, p: Record<string, Tensor>) => Tensor> = {
  Uniform: (u, p) => add(p.low!, mul(sub(p.high!, p.low!), u)),
  // Φ⁻¹(u) = √2 erfinv(2u − 1)
  Normal: (u, p) => add(p.loc!, mul(p.scale!, mul(Math.SQRT2, erfinv(sub(mul(2, u), 1))))),
  LogNormal: (u, p) => exp(QUANTILE.Normal(u, p)),
  // −log(1 − u)/rate
  Exponential: (u, p) => div(neg(log1p(neg(u))), p.rate!),
  // loc + scale·tan(π(u − ½))
  Cauchy: (u, p) => {
    const a = mul(Math.PI, sub(u, 0.5));
    return add(p.loc!, mul(p.scale!, div(sin(a), cos(a))));
  },
  // loc − scale·sign(u − ½)·log(1 − 2|u − ½|)
  Laplace: (u, p) => {
    const d = sub(u, 0.5);
    return sub(p.loc!, mul(p.scale!, mul(sign(d), log1p(mul(-2, abs(d))))));
  },
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

/** A named prior over prod(shape) unit-cube coordinates, X = quantile(U). */
export class Prior {
  readonly family: Family;
  readonly name: string;
  readonly params: Record<string, Tensor>;
  /** The base shape of X (the broadcast parameter shape). */
  readonly shape: number[];
  /** Unit-cube coordinates it takes: prod(shape). */
  readonly uNdims: number;

  constructor(distribution: PriorDistribution, name: string) {
    if (typeof name !== 'string' || name.length === 0) throw new ConfigError(`ns.Prior: a prior needs a non-empty name, got ${String(name)}.`);
    this.name = name;
    let family: string;
    let raw: Record<string, Tensor | number>;
    if (distribution instanceof Normal) [family, raw] = ['Normal', { loc: distribution.loc, scale: distribution.scale }];
    else if (distribution instanceof LogNormal) [family, raw] = ['LogNormal', { loc: distribution.loc, scale: distribution.scale }];
    else if (distribution instanceof Uniform) [family, raw] = ['Uniform', { low: distribution.low, high: distribution.high }];
    else if (distribution && typeof distribution === 'object' && typeof (distribution as { dist?: unknown }).dist === 'string') {
      const { dist, ...rest } = distribution as unknown as { dist: string } & Record<string, Tensor | number>;
      [family, raw] = [dist, rest];
    } else {
      throw new ConfigError(
        `ns.Prior '${name}': expected a bt.distributions Normal/LogNormal/Uniform or a spec { dist: '${PRIOR_FAMILIES.join("' | '")}', ...params }, got ${String(distribution)}.`,
      );
    }
    if (!(PRIOR_FAMILIES as readonly string[]).includes(family)) {
      throw new ConfigError(`ns.Prior '${name}': unknown family '${family}' (known: ${PRIOR_FAMILIES.join(', ')}; Gamma, Beta and StudentT are not available yet).`);
    }
    this.family = family as Family;
    const want = PARAMS[this.family];
    for (const k of Object.keys(raw)) if (!want.includes(k)) throw new ConfigError(`ns.Prior '${name}': ${family} has no parameter '${k}' (expected ${want.join(', ')}).`);
    this.params = {};
    for (const k of want) {
      const v = raw[k];
      if (!(typeof v === 'number' || v instanceof Tensor)) throw new ConfigError(`ns.Prior '${name}': ${family} needs parameter '${k}' as a number or tensor, got ${String(v)}.`);
      this.params[k] = asTensor(v);
    }
    this.shape = broadcastShape(name, want.map((k) => this.params[k]!.shape));
    this.uNdims = this.shape.reduce((a, b) => a * b, 1);
  }

  /**
   * Checks the parameters where they are concrete (finite, scale/rate > 0, high > low); a
   * parameter computed from an earlier prior is checked per point when it is a concrete tensor.
   */
  validate(): void {
    const concrete = (t: Tensor): Float64Array | null => {
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
      const v = concrete(t);
      vals[k] = v;
      if (v && v.some((x) => !Number.isFinite(x))) bad(k, `must be finite, got [${Array.from(v).join(', ')}]`);
    }
    for (const k of ['scale', 'rate']) {
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

  /** X = quantile(u) with u of this prior's shape (or broadcastable to it). */
  forward(u: Tensor): Tensor {
    return QUANTILE[this.family](u, this.params);
  }
}
