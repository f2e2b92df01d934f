/** The known-evidence problems of jaxns' tests (port notes §3), shared by tests and validation. */
import * as bt from '../../src/index.js';

const { Prior, Model } = bt.ns;

/** x ~ U(0,1), log L = −x²: log Z = log(√π/2·erf 1) = −0.29193. */
export const basic = () =>
  new Model({
    priorModel: function* () {
      return yield new Prior({ dist: 'Uniform', low: 0, high: 1 }, 'x');
    },
    logLikelihood: (x: bt.Tensor) => bt.neg(bt.square(x)),
  });

/** x ~ U(0,1), L = 1 − x²: log Z = log(2/3) = −0.40547. */
export const basic2 = () =>
  new Model({
    priorModel: function* () {
      return yield new Prior({ dist: 'Uniform', low: 0, high: 1 }, 'x');
    },
    logLikelihood: (x: bt.Tensor) => bt.log(bt.sub(1, bt.square(x))),
  });

/** x ~ U(0,1), L = 1: log Z = 0 (the plateau stop). */
export const plateau = () =>
  new Model({
    priorModel: function* () {
      return yield new Prior({ dist: 'Uniform', low: 0, high: 1 }, 'x');
    },
    logLikelihood: (x: bt.Tensor) => bt.mul(0, bt.sum(x)),
  });

/** D-dim prior N(15·1, I), L = N(0 | x, Σ) with Σ_ii = 1, Σ_ij = 0.99: log Z = log N(0 | 15·1, I + Σ). */
export function correlatedGaussian(D: number) {
  const cov: number[][] = Array.from({ length: D }, (_, i) => Array.from({ length: D }, (_, j) => (i === j ? 1 : 0.99)));
  // Σ⁻¹ and log|Σ| in closed form: Σ = 0.01 I + 0.99·11ᵀ
  const a = 0.01;
  const b = 0.99;
  const inv = cov.map((r, i) => r.map((_, j) => (i === j ? 1 / a : 0) - b / (a * (a + D * b))));
  const logDet = (D - 1) * Math.log(a) + Math.log(a + D * b);
  const P = bt.tensor(inv, { dtype: 'float64' });
  const model = new Model({
    priorModel: function* () {
      return yield new Prior(new bt.distributions.Normal(bt.full([D], 15, 'float64'), bt.ones([D], 'float64')), 'x');
    },
    logLikelihood: (x: bt.Tensor) => bt.mul(-0.5, bt.add(bt.sum(bt.mul(x, bt.matmul(P, x))), D * Math.log(2 * Math.PI) + logDet)),
  });
  // exact: log N(0 | 15·1, I + Σ); I + Σ = 1.01 I + 0.99·11ᵀ
  const a2 = 1.01;
  const q = 15 * 15 * (D / a2 - (b * D * D) / (a2 * (a2 + D * b)));
  const exact = -0.5 * (q + D * Math.log(2 * Math.PI) + (D - 1) * Math.log(a2) + Math.log(a2 + D * b));
  return { model, exact };
}

/** The i-th coordinate of a point x [D], as a scalar. */
const coord = (x: bt.Tensor, i: number): bt.Tensor => bt.reshape(bt.slice(x, [i], [1]), []);

/** A 2-D point uniform on [lo, hi]². */
const box = (lo: number, hi: number, name: string) => new Prior({ dist: 'Uniform', low: bt.full([2], lo, 'float64'), high: bt.full([2], hi, 'float64') }, name);

/**
 * jaxns' docs/examples/gaussian_shells.ipynb: θ ~ U(−6, 6)², two Gaussian shells of radius 2 and
 * width 0.1 centred at (0, ±3). log Z = −1.74564 (a 250² grid and finer ones agree to 1e-15).
 */
export const gaussianShells = () => {
  const logCirc = (t: bt.Tensor, cy: number) => {
    const r = bt.sqrt(bt.add(bt.square(coord(t, 0)), bt.square(bt.sub(coord(t, 1), cy))));
    return bt.sub(bt.mul(-0.5 / 0.01, bt.square(bt.sub(r, 2))), Math.log(Math.sqrt(2 * Math.PI * 0.01)));
  };
  return {
    model: new Model({
      priorModel: function* () {
        return yield box(-6, 6, 'theta');
      },
      logLikelihood: (t: bt.Tensor) => bt.logaddexp(logCirc(t, -3), logCirc(t, 3)),
    }),
    exact: -1.7456418720467646,
  };
};

/**
 * jaxns' docs/examples/egg_box.ipynb: θ ~ U(0, 10π)², log L = (2 + cos(θ₁/2)·cos(θ₂/2))⁵.
 * log Z = 235.85594 (trapezoid rule, converged from 1001² to 8001² points: the integrand is
 * periodic and analytic). jaxns' notebook quotes 236.05 from a 250-point Riemann sum whose grid
 * includes both edges at full weight, which over-counts the peaks on the boundary (its 2000² and
 * 6000² versions give 235.88 and 235.86); the MultiNest paper's 235.88 is the same kind of sum.
 */
export const eggBox = () => ({
  model: new Model({
    priorModel: function* () {
      return yield box(0, 10 * Math.PI, 'theta');
    },
    logLikelihood: (t: bt.Tensor) => {
      const c = bt.cos(bt.mul(0.5, t));
      return bt.pow(bt.add(2, bt.mul(coord(c, 0), coord(c, 1))), 5);
    },
  }),
  exact: 235.85594033225414,
});

/**
 * jaxns' docs/examples/dual_moon.ipynb: x ~ U(−4, 4)², two arcs of one ring of radius 2 (width
 * 0.05) with asymmetric angular fall-off about θ = π/2 and θ = −π/3. log Z = −5.104862 (polar
 * quadrature; jaxns' 250² grid gives −5.1048622, 8000² −5.1048623).
 */
export const dualMoon = () => {
  const fasym = (t: bt.Tensor) => bt.where(bt.less(t, 0), bt.square(bt.mul(0.5, t)), bt.square(bt.square(bt.mul(2, t))));
  return {
    model: new Model({
      priorModel: function* () {
        return yield box(-4, 4, 'x');
      },
      logLikelihood: (x: bt.Tensor) => {
        const x0 = coord(x, 0);
        const x1 = coord(x, 1);
        const radial = bt.square(bt.mul(1 / 0.05, bt.sub(bt.sqrt(bt.add(bt.square(x0), bt.square(x1))), 2)));
        const th = bt.atan2(x1, x0);
        const a = bt.add(radial, bt.mul(1 / 0.2, fasym(bt.sub(th, Math.PI / 2))));
        const b = bt.add(radial, bt.mul(1 / 0.2, fasym(bt.add(th, Math.PI / 3))));
        return bt.logaddexp(bt.neg(a), bt.neg(b));
      },
    }),
    exact: -5.104862343688651,
  };
};
