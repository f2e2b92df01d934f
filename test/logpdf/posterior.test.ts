/**
 * batchLogPosterior: posteriors' (1/N) log p(θ) + (1/n) Σ log p(yᵢ|θ), with aux, gradients and errors.
 *
 * Every body runs on each backend (see ../backend-harness.ts): `name [cpu]` in float64 with the
 * checks and tolerances of ../helpers.ts as before, and `name [webgpu]` in float32, read with
 * `await t.data()`. The float32 references are computed on the host in float64 from the float32
 * values the backend holds (x, θ); the tolerance is B.adRtol (64 ulps, the harness's allowance for
 * a short op chain) relative to the magnitude of the terms that are rounded and summed (for the
 * log-likelihood y·ℓ and log σ(−ℓ) per example, for the gradient |rᵢ xᵢⱼ| and |θ|/N).
 */
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import * as bt from '../../src/index.js';
import { assertClose, randn } from '../helpers.js';
import { assertCloseArr, backendsUnderTest, randnB, read, registerAll, scalar, type BackendCase } from '../backend-harness.js';

const backends = await backendsUnderTest('logpdf/posterior');

type P = { w: bt.Tensor; b: bt.Tensor };
type Batch = { x: bt.Tensor; y: bt.Tensor };

// logistic regression, N = 1000 data points, a minibatch of n = 4
const N = 1000;
const YS = [1, 0, 0, 1];
const logPost = bt.logpdf.batchLogPosterior<P, Batch>({
  logLikelihood: (p, { x, y }) => bt.logpdf.bernoulliLogits(y, bt.matmul(x, p.w).add(p.b)),
  logPrior: (p) => bt.logpdf.diagNormal(p, 0, 1, { normalize: false }),
  numData: N,
});

/** θ and the minibatch on the current backend (float64 on CPU as before, float32 on WebGPU). */
function fixtures(B: BackendCase): { params: P; batch: Batch } {
  const params: P = { w: bt.tensor([0.5, -1]), b: bt.tensor(0.2) };
  const batch: Batch = { x: B.name === 'cpu' ? randn([4, 2], 1) : randnB(B, [4, 2], 1), y: bt.tensor(YS) };
  return { params, batch };
}

/** float32: got within B.adRtol·scale of want. */
async function gpuClose(B: BackendCase, got: bt.Tensor, want: number[], scale: number[], what: string): Promise<void> {
  assert.is(got.backend, B.name, `${what}: ran on ${B.name}`);
  assert.is(got.dtype, B.dtype, `${what}: dtype`);
  assertCloseArr(await read(got), want, 0, 0, what, scale.map((v) => B.adRtol * v));
}

/** Host float64 logistic regression on the backend's values: logits, per-example terms, residuals. */
async function host(p: P, batch: Batch) {
  const [xs, w, b] = [await read(batch.x), await read(p.w), (await read(p.b))[0]!];
  const mm = YS.map((_, i) => xs[2 * i]! * w[0]! + xs[2 * i + 1]! * w[1]!);
  const logits = mm.map((v) => v + b);
  const lsig = (v: number) => (v >= 0 ? -Math.log1p(Math.exp(-v)) : v - Math.log1p(Math.exp(v)));
  const ll = logits.map((l, i) => YS[i]! * l + lsig(-l));
  // rounding scale of each ℓ (the matmul's products and the bias) and of each yℓ + log σ(−ℓ)
  const lScale = YS.map((_, i) => Math.abs(xs[2 * i]! * w[0]!) + Math.abs(xs[2 * i + 1]! * w[1]!) + Math.abs(b));
  const llScale = logits.map((l, i) => (Math.abs(YS[i]! * l) + Math.abs(lsig(-l)) + lScale[i]!));
  const r = logits.map((l, i) => YS[i]! - 1 / (1 + Math.exp(-l)));
  const prior = -0.5 * (w[0]! ** 2 + w[1]! ** 2 + b * b);
  return { xs, w, b, ll, llScale, r, prior };
}

registerAll(backends, 'value = logPrior/N + mean log-likelihood; aux carries both parts', async (B) => {
  const { params, batch } = fixtures(B);
  const [v, aux] = logPost(params, batch);
  if (B.name === 'cpu') {
    const logits = [...bt.matmul(batch.x, params.w).add(params.b).dataSync()];
    const ll = logits.map((l, i) => (YS[i] ? -Math.log1p(Math.exp(-l)) : -Math.log1p(Math.exp(l))));
    const meanLl = ll.reduce((a, b) => a + b) / 4;
    const lp = -0.5 * (0.25 + 1 + 0.04);
    assertClose(v, lp / N + meanLl, 1e-14);
    assertClose(aux.meanLogLikelihood, meanLl, 1e-14);
    assertClose(aux.logPrior, lp, 1e-15);
    return;
  }
  const h = await host(params, batch);
  const meanLl = h.ll.reduce((a, b) => a + b) / 4;
  const meanScale = h.llScale.reduce((a, b) => a + b) / 4;
  await gpuClose(B, v, [h.prior / N + meanLl], [Math.abs(h.prior) / N + meanScale], 'value');
  await gpuClose(B, aux.meanLogLikelihood, [meanLl], [meanScale], 'aux.meanLogLikelihood');
  await gpuClose(B, aux.logPrior, [h.prior], [Math.abs(h.prior)], 'aux.logPrior');
});

registerAll(backends, 'works under valueAndGrad with hasAux; the gradient is ∇log p/N + mean ∇log p(yᵢ|θ)', async (B) => {
  const { params, batch } = fixtures(B);
  const [[v, aux], g] = bt.valueAndGrad(logPost, { hasAux: true })(params, batch) as [[bt.Tensor, bt.logpdf.BatchLogPosteriorAux], P];
  assert.ok(Number.isFinite(await scalar(v)));
  assert.ok(aux.meanLogLikelihood instanceof bt.Tensor);
  if (B.name === 'cpu') {
    // by hand: d/dw = −w/N + mean((y − σ(ℓ)) x)
    const xs = batch.x.toArray() as number[][];
    const logits = [...bt.matmul(batch.x, params.w).add(params.b).dataSync()];
    const r = logits.map((l, i) => YS[i]! - 1 / (1 + Math.exp(-l)));
    const gw = [0, 1].map((j) => -[0.5, -1][j]! / N + r.reduce((s, ri, i) => s + ri * xs[i]![j]!, 0) / 4);
    assertClose(g.w, gw, 1e-13);
    assertClose(g.b, -0.2 / N + r.reduce((a, b) => a + b) / 4, 1e-13);
    return;
  }
  const h = await host(params, batch);
  // each residual rᵢ = yᵢ − σ(ℓᵢ) is a difference of terms of size |yᵢ| + σ(ℓᵢ)
  const rScale = h.r.map((ri, i) => YS[i]! + Math.abs(YS[i]! - ri));
  const gw = [0, 1].map((j) => -h.w[j]! / N + h.r.reduce((s, ri, i) => s + ri * h.xs[2 * i + j]!, 0) / 4);
  const gwScale = [0, 1].map((j) => Math.abs(h.w[j]!) / N + rScale.reduce((s, ri, i) => s + ri * Math.abs(h.xs[2 * i + j]!), 0) / 4);
  await gpuClose(B, g.w, gw, gwScale, 'gradient in w');
  await gpuClose(B, g.b, [-h.b / N + h.r.reduce((a, b) => a + b) / 4], [Math.abs(h.b) / N + rScale.reduce((a, b) => a + b) / 4], 'gradient in b');
  // and the value returned alongside the gradient is the plain evaluation's
  const h2 = h.ll.reduce((a, b) => a + b) / 4;
  await gpuClose(B, v, [h.prior / N + h2], [Math.abs(h.prior) / N + h.llScale.reduce((a, b) => a + b) / 4], 'value under valueAndGrad');
});

registerAll(backends, 'a flat prior may be a number', async (B) => {
  const { params, batch } = fixtures(B);
  const flat = bt.logpdf.batchLogPosterior<P, Batch>({ logLikelihood: (p, { y }) => y.mul(p.b), logPrior: () => 0, numData: 10 });
  const [v, aux] = flat(params, batch);
  if (B.name === 'cpu') {
    assertClose(v, 0.1, 1e-15);
    assert.is(aux.logPrior.item(), 0);
    return;
  }
  // mean(y·0.2) over y = (1, 0, 0, 1): the rounded 0.2 twice, summed and halved
  await gpuClose(B, v, [0.1], [0.1], 'value');
  assert.is(aux.logPrior.dtype, B.dtype, 'a number prior takes the likelihood dtype');
  assert.is(await scalar(aux.logPrior), 0);
});

registerAll(backends, 'bad input: summed likelihoods, non-scalar priors, numData, unknown options', (B) => {
  const { params, batch } = fixtures(B);
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
