/**
 * jaxns' test_basic: x ~ U(0, 1), y = x + Φ⁻¹(quickUnit(θ)) (a parametrised Normal(x, 1)),
 * σ ~ Exp(1), L = N(0 | y, σ). By quadrature log Z = −0.9792 at θ = 0 rising to −0.5591 at
 * θ* = −0.6205.
 *
 * What is asserted is only the direction: each solver moves θ below 0 and log Z above its θ = 0
 * value. The likelihood is singular at y = 0 as σ → 0, so the reweighted evidence is
 * heavy-tailed: its Kish ESS falls below half the E-step's within |Δθ| ≈ 0.05–0.2 (the ESS
 * guard ends the M-step there), and Newton–CG stops in local optima of the spiky surrogate near
 * θ ≈ −0.05 even without the guard. θ* = −0.6205 ± 0.05 is not reached in a few steps (see the
 * report of issue 12).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';

const { Prior, Model } = bt.ns;
const model = new Model({
  priorModel: function* () {
    const x = yield new Prior({ dist: 'Uniform', low: 0, high: 1 }, 'x');
    const y = yield new Prior({ dist: 'Normal', loc: x, scale: 1 }, 'y').parametrised();
    const sigma = yield new Prior({ dist: 'Exponential', rate: 1 }, 'sigma');
    return [y, sigma];
  },
  logLikelihood: (y: bt.Tensor, s: bt.Tensor) => bt.sub(bt.sub(bt.mul(-0.5, bt.square(bt.div(y, s))), bt.log(s)), 0.5 * Math.log(2 * Math.PI)),
});
const logZ0 = -0.9792;

for (const [name, solver] of [['newton-cg', 'newton-cg'], ['sgd', 'sgd'], ['adam', bt.optim.adam({ learningRate: 1e-2 })]] as [string, bt.em.EMSolver][]) {
  test(`test_basic (${name}): θ moves below 0 and log Z rises above its θ = 0 value`, async () => {
    const em = new bt.em.EvidenceMaximisation({ model, nsOptions: { maxSamples: 20000, numLivePoints: 100 }, solver, logZFtol: 0 });
    const t0 = performance.now();
    const { results, params, history } = await em.train(3);
    const seconds = (performance.now() - t0) / 1000;
    const theta = params.y_param!.item() as number;
    assert.ok(theta < 0, `θ ${theta}`);
    assert.ok(results.logZMean > logZ0, `log Z ${results.logZMean} ± ${results.logZUncert}`);
    console.log(`  [note] ${name}: θ = ${theta.toFixed(4)}, log Z ${results.logZMean.toFixed(4)} ± ${results.logZUncert.toFixed(4)}, ${(seconds / history.length).toFixed(2)} s per EM step`);
  });
}

test('the ESS guard: an M-step from θ = 0 stops where the reweighted ESS reaches half the E-step ESS, and reports it', async () => {
  const em = new bt.em.EvidenceMaximisation({ model, nsOptions: { maxSamples: 20000, numLivePoints: 100 } });
  const r = await em.eStep(bt.random.key(0), model.params);
  const m = em.mStep(bt.random.key(1), model.params, r);
  assert.ok(m.essLimited, 'guarded');
  assert.ok(m.ess >= 0.5 * r.ESS, `ESS ${m.ess} vs E-step ${r.ESS}`);
  const free = new bt.em.EvidenceMaximisation({ model, nsOptions: { maxSamples: 20000, numLivePoints: 100 }, minESSFraction: 0 }).mStep(bt.random.key(1), model.params, r);
  assert.not.ok(free.essLimited);
  assert.ok(free.logZ >= m.logZ - 1e-9, 'without the guard the surrogate goes at least as high');
});

test.run();
