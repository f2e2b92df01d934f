/**
 * At temperature 0 SGHMC is SGD with momentum (reference notes §1.2, posteriors #90): with
 * ε = 1 − τ, σ = (η/(1−τ))^{-1/2}, α = (1−μ)/η the T = 0 recursion is
 *
 *   θ_{t+1} = θ_t + η m_t,     m_{t+1} = μ m_t + (1 − τ) ∇ log p(θ_t),
 *
 * i.e. heavy-ball SGD (learning rate η, momentum μ, dampening τ) on the loss −log p with the
 * momentum buffer b = −m. posteriors integrates with explicit Euler: the parameter step of
 * step t uses the momentum from *before* ∇ log p(θ_t) is folded in, so SGHMC's parameter step at
 * t + 1 is the SGD update computed at t (torch/optax apply the new buffer at once). The tests check
 * that identity step for step against bt.optim.sgd (optax form, τ = 0) and against a torch-style
 * recursion with dampening (posteriors' scenario mapping, μ = τ = 0.9).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { assertClose } from '../../helpers.js';

type P = { w: bt.Tensor; b: bt.Tensor };

// A non-quadratic target over a two-leaf pytree: logistic regression with a Gaussian prior.
const X = bt.tensor([[0.3, -1.2, 0.5], [1.1, 0.4, -0.7], [-0.8, 0.9, 1.5], [0.2, -0.3, -1.1], [1.7, 0.1, 0.6]]);
const y = bt.tensor([1, 0, 1, 0, 1]);
const logPosterior = (p: P): [bt.Tensor, never[]] => {
  const logits = bt.matmul(X, p.w).add(p.b);
  const ll = bt.logpdf.bernoulliLogits(y, logits).sum();
  return [ll.sub(p.w.square().sum().mul(0.5)).sub(p.b.square().sum().mul(0.5)), []];
};
const lossGrad = bt.grad((p: P) => logPosterior(p)[0].neg());
const params0 = (): P => ({ w: bt.tensor([0.4, -0.2, 0.9]), b: bt.tensor([0.1]) });
const flat = (p: P) => [...p.w.dataSync(), ...p.b.dataSync()];

test('T = 0 SGHMC equals bt.optim.sgd (optax form: momentum μ, no dampening) step for step', () => {
  const eta = 0.05;
  const mu = 0.8;
  const sampler = bt.sgmcmc.sghmc.build(logPosterior, { lr: 1, sigma: eta ** -0.5, alpha: (1 - mu) / eta, temperature: 0, momenta: 0 });
  const opt = bt.optim.sgd({ learningRate: eta, momentum: mu });
  let state = sampler.init(params0());
  let optState = opt.init(state.params);
  let prevUpdate: P | null = null; // u_{t−1}; u_{−1} = −η b_0 = 0
  for (let t = 0; t < 200; t++) {
    const g = lossGrad(state.params) as P; // ∇(−log p) at SGHMC's θ_t
    const [u, nextOpt] = opt.update(g, optState, state.params) as [P, unknown];
    const [next] = sampler.update(state, null); // T = 0: no key needed
    // the parameter step of step t is the SGD update of step t − 1
    const expected = prevUpdate ? (bt.optim.applyUpdates(state.params, prevUpdate) as P) : state.params;
    assertClose(flat(next.params), flat(expected), 1e-13, 1e-15, `params at step ${t + 1}`);
    // the momentum is minus SGD's momentum buffer
    const buf = (nextOpt as [{ trace: P }, unknown])[0].trace;
    assertClose(flat(next.momenta), flat(buf).map((v) => -v), 1e-13, 1e-15, `momenta at step ${t + 1}`);
    prevUpdate = u;
    state = next;
    optState = nextOpt as typeof optState;
  }
  // and it does optimise: the gradient at the end is small
  const gEnd = flat(lossGrad(state.params) as P);
  assert.ok(Math.max(...gEnd.map(Math.abs)) < 1e-3, `heads for the MAP (|grad| = ${Math.max(...gEnd.map(Math.abs))})`);
});

test('T = 0 SGHMC equals torch-style SGD with momentum and dampening under posteriors’ mapping (η = 1e-2, μ = τ = 0.9)', () => {
  const eta = 1e-2;
  const mu = 0.9;
  const tau = 0.9;
  const sampler = bt.sgmcmc.sghmc.build(logPosterior, { lr: 1 - tau, sigma: (eta / (1 - tau)) ** -0.5, alpha: (1 - mu) / eta, temperature: 0, momenta: 0 });
  let state = sampler.init(params0());
  // hand-written torch.optim.SGD recursion (dampening applied from the first step): b ← μ b + (1−τ) g; θ ← θ − η b
  let theta = flat(state.params);
  let buf = theta.map(() => 0);
  for (let t = 0; t < 300; t++) {
    const g = flat(lossGrad(state.params) as P);
    const [next] = sampler.update(state, null);
    // SGHMC: θ_{t+1} = θ_t − η b_t (the buffer before this gradient)
    theta = theta.map((v, i) => v - eta * buf[i]!);
    buf = buf.map((b, i) => mu * b + (1 - tau) * g[i]!);
    assertClose(flat(next.params), theta, 1e-12, 1e-14, `params at step ${t + 1}`);
    assertClose(flat(next.momenta), buf.map((v) => -v), 1e-12, 1e-14, `momenta at step ${t + 1}`);
    state = next;
  }
});

test.run();
