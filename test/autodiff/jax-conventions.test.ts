/**
 * Where the engine follows JAX's conventions rather than the formula an op happens to be written
 * with: round half to even, and smooth derivatives of softplus / logSigmoid / logaddexp at the
 * kinks of their stable forms (max and |·|), to every order and under vmap. Reference numbers are
 * analytic (σ(0)(1 − σ(0)) = 1/4) or JAX's printed values.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { adClose, backendsUnderTest, checkDirectional, read, registerAll, scalar, T } from '../backend-harness.js';

const backends = await backendsUnderTest('autodiff/jax-conventions');

registerAll(backends, 'round: half-way cases to even (NumPy / JAX), others to nearest', async (B) => {
  const x = T(B, [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, -3.7, 2.2, 1e7 + 0.5, 8388607.5, -0.49999997], [12]);
  const got = await read(bt.round(x));
  const want = [-2, -2, -0, 0, 2, 2, 4, -4, 2, 1e7, 8388608, -0];
  // float32 on WebGPU: 1e7 + 0.5 and 8388607.5 are representable, so the same answers
  assert.equal(got.map((v) => v + 0), want.map((v) => v + 0));
});

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

registerAll(backends, "softplus'' and logSigmoid'' are ±σ(x)(1 − σ(x)), also at the kink x = 0", async (B) => {
  // x = 30 in float32: σ(30) rounds to 1, so σ(1 − σ) is 0 there (as in JAX's float32 logistic rule)
  for (const x0 of B.dtype === 'float64' ? [0, -1.5, 2, 30] : [0, -1.5, 2]) {
    const s = sigmoid(x0) * (1 - sigmoid(x0));
    const x = T(B, [x0], []);
    await adClose(B, bt.grad(bt.grad((t: bt.Tensor) => bt.softplus(t)))(x), s, 1e-12, 1e-15, `softplus''(${x0})`);
    await adClose(B, bt.grad(bt.grad((t: bt.Tensor) => bt.logSigmoid(t)))(x), -s, 1e-12, 1e-15, `logSigmoid''(${x0})`);
    // forward over forward, and the third derivative σ(1−σ)(1−2σ)
    const d2 = bt.jvp((t: bt.Tensor) => bt.jvp(bt.softplus, [t], [T(B, [1], [])])[1], [x], [T(B, [1], [])])[1];
    await adClose(B, d2, s, 1e-12, 1e-15, `jvp∘jvp softplus at ${x0}`);
    const d3 = bt.grad(bt.grad(bt.grad((t: bt.Tensor) => bt.softplus(t))))(x);
    await adClose(B, d3, s * (1 - 2 * sigmoid(x0)), 1e-12, 1e-15, `softplus''' at ${x0}`);
  }
});

registerAll(backends, 'the Hessian of a logistic log-likelihood at w = 0 is −¼ XᵀX (it was the zero matrix)', async (B) => {
  const Xh = [1, 2, 3, -1, 0.5, 0.5, -2, 1];
  const X = T(B, Xh, [4, 2]);
  const y = T(B, [1, 0, 1, 1], [4]);
  const ll = (w: bt.Tensor) => {
    const z = bt.matmul(X, w);
    return bt.sum(y.mul(bt.logSigmoid(z)).add(bt.sub(1, y).mul(bt.logSigmoid(bt.neg(z)))));
  };
  const xtx = [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) xtx[2 * a + b]! += Xh[2 * i + a]! * Xh[2 * i + b]!;
  const H = bt.hessian(ll)(bt.zeros([2], B.dtype));
  await adClose(B, H, xtx.map((v) => -v / 4), 1e-12, 1e-14, 'hessian(ll)(0)');
  // the same through vmap over the rows (customJvp under vmap keeps the smooth rule)
  const llRows = (w: bt.Tensor) => bt.sum(bt.vmap((row: bt.Tensor, yi: bt.Tensor) => {
    const z = bt.sum(row.mul(w));
    return yi.mul(bt.logSigmoid(z)).add(bt.sub(1, yi).mul(bt.logSigmoid(bt.neg(z))));
  })(X, y));
  await adClose(B, bt.hessian(llRows)(bt.zeros([2], B.dtype)), xtx.map((v) => -v / 4), 1e-12, 1e-14, 'hessian through vmap');
});

registerAll(backends, 'logaddexp: values, broadcasting, gradient σ(a − b), curvature at a = b, FD checks', async (B) => {
  const a = T(B, [0, 1, -3, 700, -Infinity], [5]);
  const b = T(B, [0, 1.5, 2, 699, 0.5], [5]);
  const ref = [Math.log(2), 1.5 + Math.log1p(Math.exp(-0.5)), 2 + Math.log1p(Math.exp(-5)), 700 + Math.log1p(Math.exp(-1)), 0.5];
  const got = await read(bt.logaddexp(a, b));
  got.forEach((g, i) => assert.ok(Math.abs(g - ref[i]!) <= 4 * B.eps * Math.max(1, Math.abs(ref[i]!)), `logaddexp value ${i}: ${g} vs ${ref[i]}`));
  assert.equal([...bt.logaddexp(T(B, [1, 2, 3], [3, 1]), T(B, [0, 1], [2])).shape], [3, 2]);
  const f = (v: bt.Tensor) => bt.logaddexp(bt.slice(v, [0], [1]).sum(), bt.slice(v, [1], [1]).sum());
  const x = T(B, [0.25, 0.25], [2]);
  await adClose(B, bt.grad(f)(x), [0.5, 0.5], 1e-12, 1e-15, 'gradient at a = b');
  await adClose(B, bt.hessian(f)(x), [0.25, -0.25, -0.25, 0.25], 1e-12, 1e-15, 'hessian at a = b');
  await checkDirectional(B, (v: bt.Tensor) => bt.logaddexp(v.mul(1.3), bt.sin(v)), T(B, [0.3, -1.2, 2], [3]), 11, 'logaddexp FD');
  assert.ok(Number.isFinite(await scalar(bt.sum(bt.grad((v: bt.Tensor) => bt.sum(bt.logaddexp(v, 0)))(a)))), 'finite gradients, −∞ included');
});

test.run();
