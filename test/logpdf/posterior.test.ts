/** batchLogPosterior: posteriors' (1/N) log p(θ) + (1/n) Σ log p(yᵢ|θ), with aux, gradients and errors. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose, randn } from '../helpers.js';

type P = { w: bt.Tensor; b: bt.Tensor };
type Batch = { x: bt.Tensor; y: bt.Tensor };

// logistic regression, N = 1000 data points, a minibatch of n = 4
const N = 1000;
const logPost = bt.logpdf.batchLogPosterior<P, Batch>({
  logLikelihood: (p, { x, y }) => bt.logpdf.bernoulliLogits(y, bt.matmul(x, p.w).add(p.b)),
  logPrior: (p) => bt.logpdf.diagNormal(p, 0, 1, { normalize: false }),
  numData: N,
});
const params: P = { w: bt.tensor([0.5, -1]), b: bt.tensor(0.2) };
const batch: Batch = { x: randn([4, 2], 1), y: bt.tensor([1, 0, 0, 1]) };

test('value = logPrior/N + mean log-likelihood; aux carries both parts', () => {
  const [v, aux] = logPost(params, batch);
  const logits = [...bt.matmul(batch.x, params.w).add(params.b).dataSync()];
  const ys = [1, 0, 0, 1];
  const ll = logits.map((l, i) => (ys[i] ? -Math.log1p(Math.exp(-l)) : -Math.log1p(Math.exp(l))));
  const meanLl = ll.reduce((a, b) => a + b) / 4;
  const lp = -0.5 * (0.25 + 1 + 0.04);
  assertClose(v, lp / N + meanLl, 1e-14);
  assertClose(aux.meanLogLikelihood, meanLl, 1e-14);
  assertClose(aux.logPrior, lp, 1e-15);
});

test('works under valueAndGrad with hasAux; the gradient is ∇log p/N + mean ∇log p(yᵢ|θ)', () => {
  const [[v, aux], g] = bt.valueAndGrad(logPost, { hasAux: true })(params, batch) as [[bt.Tensor, bt.logpdf.BatchLogPosteriorAux], P];
  assert.ok(Number.isFinite(v.item()));
  assert.ok(aux.meanLogLikelihood instanceof bt.Tensor);
  // by hand: d/dw = −w/N + mean((y − σ(ℓ)) x)
  const xs = batch.x.toArray() as number[][];
  const logits = [...bt.matmul(batch.x, params.w).add(params.b).dataSync()];
  const r = logits.map((l, i) => [1, 0, 0, 1][i]! - 1 / (1 + Math.exp(-l)));
  const gw = [0, 1].map((j) => -[0.5, -1][j]! / N + r.reduce((s, ri, i) => s + ri * xs[i]![j]!, 0) / 4);
  assertClose(g.w, gw, 1e-13);
  assertClose(g.b, -0.2 / N + r.reduce((a, b) => a + b) / 4, 1e-13);
});

test('a flat prior may be a number', () => {
  const flat = bt.logpdf.batchLogPosterior<P, Batch>({ logLikelihood: (p, { y }) => y.mul(p.b), logPrior: () => 0, numData: 10 });
  const [v, aux] = flat(params, batch);
  assertClose(v, 0.1, 1e-15);
  assert.is(aux.logPrior.item(), 0);
});

test('bad input: summed likelihoods, non-scalar priors, numData, unknown options', () => {
  const summed = bt.logpdf.batchLogPosterior<P, Batch>({ logLikelihood: (p, { y }) => bt.sum(y.mul(p.b)), logPrior: () => 0, numData: 10 });
  assert.throws(() => summed(params, batch), (e: Error) => e instanceof bt.ShapeError && /per-example.*\[\].*scalar/.test(e.message));
  const vecPrior = bt.logpdf.batchLogPosterior<P, Batch>({ logLikelihood: (_p, { y }) => y, logPrior: (p) => p.w, numData: 10 });
  assert.throws(() => vecPrior(params, batch), (e: Error) => e instanceof bt.ShapeError && /logPrior must return a scalar.*\[2\]/.test(e.message));
  const base = { logLikelihood: (_p: P, b: Batch) => b.y, logPrior: () => 0 };
  assert.throws(() => bt.logpdf.batchLogPosterior({ ...base, numData: 0 }), (e: Error) => e instanceof bt.ConfigError && /numData must be >= 1, got 0/.test(e.message));
  assert.throws(() => bt.logpdf.batchLogPosterior({ ...base, numData: 10, temperature: 1 } as never), (e: Error) => e instanceof bt.ConfigError && /unknown option 'temperature'/.test(e.message));
  assert.throws(() => bt.logpdf.batchLogPosterior({ ...base, logPrior: 3, numData: 10 } as never), (e: Error) => e instanceof bt.ConfigError && /logPrior must be a function/.test(e.message));
});

test.run();
