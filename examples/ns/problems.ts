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
