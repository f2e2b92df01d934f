/**
 * Test fixtures: blackbirds' mock estimator and mock loss (test/conftest.py), and a small
 * Gaussian estimator implementing the Distribution interface (full covariance through a
 * Cholesky factor with a softplus diagonal, or a diagonal one), used where the tests need a
 * trainable Gaussian independent of bt.distributions.
 */
import * as bt from '../../../src/index.js';
import type { Distribution } from '../../../src/distributions/types.js';

const LOG2PI = Math.log(2 * Math.PI);

/** θ = 2p·(1, 1) for every sample; log q ≡ 0·p (blackbirds' MockPosteriorEstimator). */
export class MockEstimator implements Distribution {
  readonly eventShape = [2];
  readonly batchShape = [];
  constructor(readonly p: bt.Tensor = bt.tensor(1)) {}
  rsample(_k: bt.Tensor, s: readonly number[] = []): bt.Tensor {
    return bt.ones([...s, 2]).mul(this.p.mul(2));
  }
  sample(k: bt.Tensor, s: readonly number[] = []): bt.Tensor {
    return bt.stopGradient(this.rsample(k, s));
  }
  logProb(x: bt.Tensor): bt.Tensor {
    return bt.zeros(x.shape.slice(0, -1)).mul(this.p);
  }
  rsampleAndLogProb(k: bt.Tensor, s: readonly number[] = []): [bt.Tensor, bt.Tensor] {
    const x = this.rsample(k, s);
    return [x, this.logProb(x)];
  }
  entropy(): bt.Tensor {
    return bt.tensor(0);
  }
  mean(): bt.Tensor {
    return this.rsample(bt.random.key(0));
  }
  params() {
    return { p: this.p };
  }
  withParams(p: any): MockEstimator {
    return new MockEstimator(p.p);
  }
}

/** MockModel: initial state θ², then 2 steps of θ² → a 3×2 output; MSE against data. */
export const mockLoss = (theta: bt.Tensor, data: bt.Tensor): bt.Tensor => {
  const x = bt.stack([theta.square(), theta.square(), theta.square()], 0);
  return x.sub(data).square().mean();
};

/**
 * A trainable Gaussian over R^d: params { loc [d], raw [d, d] } with L = tril(raw, −1) +
 * diag(softplus(diag raw)) (full) — or { loc, logScale } (diagonal).
 */
export class TestGaussian implements Distribution {
  readonly eventShape: number[];
  readonly batchShape = [];
  constructor(readonly p: { loc: bt.Tensor; raw?: bt.Tensor; logScale?: bt.Tensor }) {
    this.eventShape = [p.loc.shape[0]!];
  }
  static full(loc: number[], scale: number[][]): TestGaussian {
    // raw with softplus⁻¹ on the diagonal
    const raw = scale.map((r, i) => r.map((v, j) => (i === j ? Math.log(Math.expm1(v)) : v)));
    return new TestGaussian({ loc: bt.tensor(loc), raw: bt.tensor(raw) });
  }
  static diag(loc: number[], scale: number[]): TestGaussian {
    return new TestGaussian({ loc: bt.tensor(loc), logScale: bt.tensor(scale.map(Math.log)) });
  }
  get d(): number {
    return this.eventShape[0]!;
  }
  scaleTril(): bt.Tensor {
    if (this.p.logScale) return bt.diag(this.p.logScale.exp());
    const raw = this.p.raw!;
    return bt.tril(raw, -1).add(bt.diag(bt.diagonal(raw).softplus()));
  }
  rsample(k: bt.Tensor, s: readonly number[] = []): bt.Tensor {
    const eps = bt.random.normal(k, [...s, this.d]);
    if (this.p.logScale) return eps.mul(this.p.logScale.exp()).add(this.p.loc);
    return bt.matmul(eps, this.scaleTril().mT).add(this.p.loc);
  }
  sample(k: bt.Tensor, s: readonly number[] = []): bt.Tensor {
    return bt.stopGradient(this.rsample(k, s));
  }
  logProb(x: bt.Tensor): bt.Tensor {
    const L = this.scaleTril();
    const diff = x.sub(this.p.loc);
    const lead = diff.shape.slice(0, -1);
    const n = lead.reduce((a, b) => a * b, 1);
    const z = bt.linalg.triangularSolve(L, diff.reshape([n, this.d]).mT, { lower: true }).mT.reshape(diff.shape);
    const logDet = bt.diagonal(L).log().sum();
    return z.square().sum({ axis: -1 }).mul(-0.5).sub(logDet).sub(0.5 * this.d * LOG2PI);
  }
  rsampleAndLogProb(k: bt.Tensor, s: readonly number[] = []): [bt.Tensor, bt.Tensor] {
    const x = this.rsample(k, s);
    return [x, this.logProb(x)];
  }
  entropy(): bt.Tensor {
    return bt.diagonal(this.scaleTril()).log().sum().add(0.5 * this.d * (1 + LOG2PI));
  }
  mean(): bt.Tensor {
    return this.p.loc;
  }
  covariance(): bt.Tensor {
    const L = this.scaleTril();
    return bt.matmul(L, L.mT);
  }
  params() {
    return { ...this.p };
  }
  withParams(p: any): TestGaussian {
    return new TestGaussian(p);
  }
}
