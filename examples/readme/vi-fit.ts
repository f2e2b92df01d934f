/** README: VI end to end — a fit with progress, early stopping and abort. */
import * as bt from '../../src/index.js'; // from the package: 'bayestape'

const y = bt.random.normal(bt.random.key(7), [20, 2]).add(bt.tensor([1, -0.5]));
const vi = bt.vi.build({
  loss: (theta: bt.Tensor, data: bt.Tensor) => data.sub(theta).square().sum().mul(0.5),
  prior: new bt.distributions.MultivariateNormal({ loc: bt.zeros([2]), covariance: bt.eye(2).mul(4) }),
  posteriorEstimator: new bt.distributions.MultivariateNormal({ loc: bt.zeros([2]), covariance: bt.eye(2) }),
  optimizer: bt.optim.adam({ learningRate: 0.05 }),
});
const stop = new AbortController();
setTimeout(() => stop.abort(), 60_000).unref(); // or a Cancel button in a page
const r = await bt.vi.fit(vi, vi.init(), y, {
  epochs: 2_000, key: bt.random.key(0), patience: 50, // stop 50 epochs after the best loss
  signal: stop.signal, progress: true,               // epochs/s, ETA and the loss
});
console.log(r.reason, `after ${r.epochs} epochs; best loss ${r.bestLoss.toFixed(2)} at epoch ${r.bestEpoch}`);
const q = vi.config.spec.posteriorEstimator.withParams(r.state.best.params);
console.log('posterior mean ≈', Array.from(await q.mean().data())); // the data mean shrunk by the prior
