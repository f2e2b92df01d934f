/**
 * The problems bench/jit.ts (CPU) and bench/jit-webgpu.ts time, built on the current backend in
 * the given dtype: the 8-D Gaussian log-likelihood (a full precision factor) and the MLP
 * 32-128-128-2 (tanh) value+grad at batch 256.
 */
import * as bt from '../src/index.js';

export const D = 8;

export function gaussianLogLik(dtype: 'float32' | 'float64') {
  const mu = bt.tensor(Array.from({ length: D }, (_, i) => 0.1 * i), { dtype });
  const prec = bt.tensor(Array.from({ length: D }, (_, i) => Array.from({ length: D }, (_, j) => (i === j ? 1.5 : i > j ? 0.1 : 0))), { dtype });
  const ll = (x: bt.Tensor) => {
    const r = bt.matmul(x.sub(mu), prec);
    return bt.sum(r.mul(r), { axis: 1 }).mul(-0.5).sub(D * 0.5 * Math.log(2 * Math.PI));
  };
  return { mu, prec, ll };
}

export function mlpProblem() {
  const [k1, k2, k3, k4] = [1, 2, 3, 4].map((i) => bt.random.key(i));
  const params = {
    w1: bt.random.normal(k1!, [32, 128]).mul(0.1), b1: bt.zeros([128]),
    w2: bt.random.normal(k2!, [128, 128]).mul(0.1), b2: bt.zeros([128]),
    w3: bt.random.normal(k3!, [128, 2]).mul(0.1), b3: bt.zeros([2]),
  };
  const xb = bt.random.normal(k4!, [256, 32]);
  const yb = bt.tanh(xb.slice([0, 0], [256, 2]));
  const loss = (p: typeof params, x: bt.Tensor, y: bt.Tensor) => {
    const h1 = bt.tanh(bt.matmul(x, p.w1).add(p.b1));
    const h2 = bt.tanh(bt.matmul(h1, p.w2).add(p.b2));
    return bt.mean(bt.matmul(h2, p.w3).add(p.b3).sub(y).square());
  };
  return { params, xb, yb, vg: bt.valueAndGrad(loss) };
}
