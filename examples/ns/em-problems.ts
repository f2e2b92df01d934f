/**
 * Evidence-maximisation problems for the demo and the bench, with their exact answers (port notes
 * §3). `bt.em` and `Prior.parametrised` arrive on another branch: until they are on main,
 * `emApi()` returns null and `testBasic()` returns null, and callers say so instead of running.
 */
import * as bt from '../../src/index.js';

/** What the demo and the bench use of `bt.em` (issue 12's named API). */
export interface EmApi {
  EvidenceMaximisation: new (options: { model: bt.ns.Model; nsOptions: Record<string, unknown>; key?: bt.Tensor } & Record<string, unknown>) => {
    eStep(key: bt.Tensor, params: Record<string, bt.Tensor>): bt.ns.NestedSamplerResults | Promise<bt.ns.NestedSamplerResults>;
    mStep(
      key: bt.Tensor,
      params: Record<string, bt.Tensor>,
      results: bt.ns.NestedSamplerResults,
    ): { params: Record<string, bt.Tensor>; logZ: number } | Promise<{ params: Record<string, bt.Tensor>; logZ: number }>;
  };
}

type Parametrisable = { parametrised?: (options?: { randomInit?: boolean }) => bt.ns.Prior };

/** `bt.em` when this build has it (with parametrised priors), else null. */
export function emApi(): EmApi | null {
  const em = (bt as unknown as { em?: Partial<EmApi> }).em;
  const hasParametrised = typeof (bt.ns.Prior.prototype as unknown as Parametrisable).parametrised === 'function';
  return em && typeof em.EvidenceMaximisation === 'function' && hasParametrised ? (em as EmApi) : null;
}

/**
 * jaxns' `test_basic`: x ~ U(0,1); y = x + Φ⁻¹(quick_unit(θ)), a parametrised Normal(x, 1);
 * σ ~ Exp(1); L = N(0 | y, σ). θ = 0 gives log Z −0.9792; the optimum is θ* = −0.6205 with log Z
 * −0.5591. Null when parametrised priors are not in this build.
 */
export function testBasic(): bt.ns.Model | null {
  if (!emApi()) return null;
  const halfLog2Pi = 0.5 * Math.log(2 * Math.PI);
  return new bt.ns.Model({
    priorModel: function* () {
      const x = yield new bt.ns.Prior({ dist: 'Uniform', low: 0, high: 1 }, 'x');
      const y = yield (new bt.ns.Prior({ dist: 'Normal', loc: x, scale: 1 }, 'y') as unknown as Required<Parametrisable>).parametrised();
      const sigma = yield new bt.ns.Prior({ dist: 'Exponential', rate: 1 }, 'sigma');
      return [y, sigma];
    },
    logLikelihood: (y: bt.Tensor, sigma: bt.Tensor) => bt.neg(bt.add(bt.add(bt.mul(0.5, bt.square(bt.div(y, sigma))), bt.log(sigma)), halfLog2Pi)),
  });
}

/** θ* of test_basic: quick_unit(θ*) = Φ(−0.5), i.e. θ* = a/(1 + a) with a = 2Φ(−0.5) − 1. */
export const TEST_BASIC_THETA_STAR = -0.6205;
/** log Z of test_basic at θ*. */
export const TEST_BASIC_LOGZ_STAR = -0.5591;

/** Φ(z) on the host by the engine's float64 erf (for a whole grid at once). */
function normalCdf(z: Float64Array): Float64Array {
  return bt.tidy(() => Float64Array.from(bt.mul(0.5, bt.add(1, bt.erf(bt.mul(Math.SQRT1_2, bt.tensor(z, { dtype: 'float64' }))))).dataSync()));
}

/**
 * Exact log Z of test_basic at θ, by quadrature: with c = Φ⁻¹(quick_unit(θ)), y is uniform on
 * [c, c+1], so Z = ∫₀^∞ e^{−σ} [Φ((c+1)/σ) − Φ(c/σ)] dσ (Simpson on [0, 60], h = 2.5e-3; the
 * integrand is bounded and smooth for σ > 0, and its tail beyond 60 is below e^{−60}).
 */
export function testBasicExactLogZ(theta: number): number {
  const q = 0.5 * (theta / (1 + Math.abs(theta)) + 1);
  const c = bt.tidy(() => Math.SQRT2 * bt.erfinv(bt.tensor(2 * q - 1, { dtype: 'float64' })).item());
  const n = 24000;
  const h = 60 / n;
  const hi = new Float64Array(n + 1);
  const lo = new Float64Array(n + 1);
  for (let i = 0; i <= n; i++) {
    const s = Math.max(i * h, 1e-300);
    hi[i] = (c + 1) / s;
    lo[i] = c / s;
  }
  const [pHi, pLo] = [normalCdf(hi), normalCdf(lo)];
  let z = 0;
  for (let i = 0; i <= n; i++) z += (i === 0 || i === n ? 1 : i % 2 ? 4 : 2) * Math.exp(-i * h) * (pHi[i]! - pLo[i]!);
  return Math.log((z * h) / 3);
}
