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

/** The hierarchical Gaussian's data (test/algorithms/em/hierarchical.test.ts): y_j, j = 1…4, with noise σ = 0.5. */
export const HIER_Y = [-1.2, 0.5, 2.1, 0.3];
/** See HIER_Y. */
export const HIER_SIGMA = 0.5;

/**
 * The hierarchical Gaussian: μ ~ N(0, 2²) and τ ~ LogNormal(0, 1), both parametrised; x_j ~
 * N(μ, τ²); y_j ~ N(x_j, σ²). Z(μ, τ) = Π_j N(y_j | μ, τ² + σ²), maximal at μ* = ȳ,
 * τ*² = max(0, var(y) − σ²).
 */
export function hierarchical(): bt.ns.Model {
  const yt = bt.tensor(HIER_Y, { dtype: 'float64' });
  const n = HIER_Y.length;
  return new bt.ns.Model({
    priorModel: function* () {
      const mu = yield new bt.ns.Prior({ dist: 'Normal', loc: 0, scale: 2 }, 'mu').parametrised();
      const tau = yield new bt.ns.Prior({ dist: 'LogNormal', loc: 0, scale: 1 }, 'tau').parametrised();
      return yield new bt.ns.Prior({ dist: 'Normal', loc: bt.mul(mu, bt.ones([n], 'float64')), scale: tau }, 'x');
    },
    logLikelihood: (x: bt.Tensor) =>
      bt.sum(bt.sub(bt.mul(-0.5, bt.square(bt.div(bt.sub(x, yt), HIER_SIGMA))), Math.log(HIER_SIGMA * Math.sqrt(2 * Math.PI)))),
  });
}

/** Exact log Z(μ, τ) of the hierarchical Gaussian: Σ_j log N(y_j | μ, τ² + σ²). */
export function hierarchicalLogZ(mu: number, tau: number): number {
  const s2 = tau * tau + HIER_SIGMA * HIER_SIGMA;
  return HIER_Y.reduce((a, y) => a - (0.5 * (y - mu) ** 2) / s2 - 0.5 * Math.log(2 * Math.PI * s2), 0);
}

/** θ of a parametrised prior whose value is the quantile at q: the inverse of quickUnit, θ = a/(1 − |a|), a = 2q − 1. */
export function thetaOfQuantile(q: number): number {
  const a = 2 * q - 1;
  return a / (1 - Math.abs(a));
}

/** The hierarchical model's params (mu_param, tau_param) that give μ = mu and τ = tau. */
export function hierarchicalParams(mu: number, tau: number): Record<string, bt.Tensor> {
  const Phi = (z: number) => bt.tidy(() => 0.5 * (1 + (bt.erf(bt.tensor(z * Math.SQRT1_2, { dtype: 'float64' })).item() as number)));
  return {
    mu_param: bt.tensor(thetaOfQuantile(Phi(mu / 2)), { dtype: 'float64' }),
    tau_param: bt.tensor(thetaOfQuantile(Phi(Math.log(tau))), { dtype: 'float64' }),
  };
}
