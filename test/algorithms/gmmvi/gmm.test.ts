/**
 * bt.gmmvi's GMM (full and diagonal covariances): log densities against the textbook formula and
 * against mixtures of bt.distributions.MultivariateNormal, x-gradients against central differences
 * and the tape, sampling (the mapping says which component drew each row; moments within Monte
 * Carlo error at a fixed key), entropies (closed form, and MC for the mixture), add/remove, 1-D
 * marginals and bad input. Bodies marked for both backends run on CPU float64 and WebGPU float32.
 *
 * Tolerances: CPU float64 to 1e-10 relative (a handful of rounding errors); WebGPU 64 ulps of
 * float32 times the magnitude of the terms summed (½‖z‖², Σ log L_ii, ½ d log 2π), per entry.
 * Monte Carlo checks allow 4 standard errors of the estimator, computed from the true moments.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { backendsUnderTest, read, registerAll, ULPS, type BackendCase } from '../../backend-harness.js';
import { assertClose, numericGrad } from '../../helpers.js';
import { gmmState, hostCov, hostLogN, hostLogQ, randomHostGmm, rows, type HostGmm } from './fixtures.js';

const backends = await backendsUnderTest('gmmvi/gmm');
const g = bt.gmmvi;

/** Points around the mixture: component means plus N(0, 2²) offsets. */
function hostPoints(h: HostGmm, n: number, seed: number): number[][] {
  const d = h.mu[0]!.length;
  let s = seed;
  const u = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  return Array.from({ length: n }, (_, i) => h.mu[i % h.w.length]!.map((m) => m + 2 * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u())));
}

const X = (B: BackendCase, pts: number[][]) => bt.tensor(B.dtype === 'float32' ? Float32Array.from(pts.flat()) : Float64Array.from(pts.flat()), { shape: [pts.length, pts[0]!.length], dtype: B.dtype });

/** Per-entry tolerance: CPU 1e-10·(1+|v|); WebGPU 64 ulps × the size of the terms (a Gaussian log density's pieces). */
function tolFor(B: BackendCase, want: number[], d: number): number[] {
  return want.map((v) => (B.name === 'cpu' ? 1e-10 * (1 + Math.abs(v)) : ULPS * B.eps * (Math.abs(v) + d * (1 + Math.log(2 * Math.PI)) + 10)));
}

function assertWithin(got: number[], want: number[], tol: number[], what: string): void {
  assert.is(got.length, want.length, `${what}: length`);
  for (let i = 0; i < got.length; i++) {
    assert.ok(Math.abs(got[i]! - want[i]!) <= tol[i]!, `${what} [${i}]: got ${got[i]}, want ${want[i]} (|err| ${Math.abs(got[i]! - want[i]!).toExponential(2)} > ${tol[i]!.toExponential(2)})`);
  }
}

for (const diagonal of [false, true]) {
  const kind = diagonal ? 'diagonal' : 'full';
  registerAll(backends, `GMM (${kind}): component and mixture log densities = the textbook formula`, async (B) => {
    const h = randomHostGmm(4, 3, diagonal ? 11 : 12, { diagonal });
    const s = gmmState(h, B.dtype);
    const pts = hostPoints(h, 40, 5);
    const x = X(B, pts);
    const comp = await read(g.componentLogDensities(s, x));
    const wantComp = h.w.flatMap((_, o) => pts.map((p) => hostLogN(p, h.mu[o]!, h.L[o]!)));
    assertWithin(comp, wantComp, tolFor(B, wantComp, 3), 'component log densities');
    const wantQ = pts.map((p) => hostLogQ(h, p));
    assertWithin(await read(g.logDensity(s, x)), wantQ, tolFor(B, wantQ, 3), 'mixture log density');
    const [ld, c2] = g.logDensitiesAlsoIndividual(s, x);
    assertWithin(await read(ld), wantQ, tolFor(B, wantQ, 3), 'logDensitiesAlsoIndividual');
    assert.equal(await read(c2), comp, 'same component densities');
    assert.equal([...g.componentLogDensities(s, x).shape], [4, 40]);
  });
}

test('GMM log density = a mixture of bt.distributions.MultivariateNormal (full) and of independent Normals (diagonal)', () => {
  for (const diagonal of [false, true]) {
    const h = randomHostGmm(3, 4, 21, { diagonal });
    const s = gmmState(h);
    const x = bt.tensor(hostPoints(h, 25, 9));
    const parts = h.w.map((w, o) => {
      const mvn = new bt.distributions.MultivariateNormal({ loc: bt.tensor(h.mu[o]!), scaleTril: bt.tensor(h.L[o]!) });
      return mvn.logProb(x).add(Math.log(w));
    });
    const want = bt.logsumexp(bt.stack(parts), { axis: 0 });
    assertClose(g.logDensity(s, x), want, 1e-10, 1e-10, `vs MultivariateNormal mixture (${diagonal ? 'diagonal' : 'full'})`);
  }
});

for (const diagonal of [false, true]) {
  const kind = diagonal ? 'diagonal' : 'full';
  test(`GMM (${kind}): logDensityAndGrad's x-gradient = central differences and the tape`, () => {
    const h = randomHostGmm(3, 3, diagonal ? 31 : 32, { diagonal, spread: 1.5 });
    const s = gmmState(h);
    const x = bt.tensor(hostPoints(h, 12, 3));
    const { logDensities, grads, componentLogDensities } = g.logDensityAndGrad(s, x);
    assertClose(logDensities, g.logDensity(s, x), 1e-12, 1e-12, 'value');
    assertClose(componentLogDensities, g.componentLogDensities(s, x), 1e-12, 1e-12, 'components');
    // each row's density depends only on its own row, so the gradient of the sum is the per-row gradient
    const f = (z: bt.Tensor) => bt.sum(g.logDensity(s, z));
    assertClose(grads, numericGrad(f, x), 1e-6, 1e-7, 'vs central differences');
    assertClose(grads, bt.grad(f)(x) as bt.Tensor, 1e-10, 1e-12, 'vs the tape through logDensity');
  });
}

registerAll(backends, 'logDensityAndGrad on every backend = the float64 CPU result (float32: 64 ulps of the largest gradient entry)', async (B) => {
  for (const diagonal of [false, true]) {
    const h = randomHostGmm(3, 3, diagonal ? 33 : 34, { diagonal, spread: 1.5 });
    const pts = hostPoints(h, 16, 7);
    const ref = bt.withBackend('cpu', () => Array.from(g.logDensityAndGrad(gmmState(h), bt.tensor(pts)).grads.dataSync(), Number));
    const got = await read(g.logDensityAndGrad(gmmState(h, B.dtype), X(B, pts)).grads);
    const scale = Math.max(...ref.map(Math.abs));
    const tol = ref.map(() => (B.name === 'cpu' ? 0 : ULPS * B.eps * scale));
    assertWithin(got, ref, tol, `${diagonal ? 'diagonal' : 'full'} gradients`);
  }
});

registerAll(backends, 'GMM.sample: row i comes from mapping[i]; component frequencies within binomial error', async (B) => {
  // far-apart, tight components: the nearest mean identifies the component that drew a sample
  const h = randomHostGmm(4, 2, 41, { spread: 40, scale: 0.2 });
  const s = gmmState(h, B.dtype);
  const n = 4000;
  const { samples, mapping } = g.sample(s, n, bt.random.key(7));
  assert.equal([...samples.shape], [n, 2]);
  assert.is(mapping.dtype, 'int32');
  const xs = await rows(samples);
  const m = Array.from(await mapping.data(), Number);
  const counts = new Array<number>(4).fill(0);
  for (let i = 0; i < n; i++) {
    const dist = h.mu.map((mu) => (xs[i]![0]! - mu[0]!) ** 2 + (xs[i]![1]! - mu[1]!) ** 2);
    const nearest = dist.indexOf(Math.min(...dist));
    assert.is(nearest, m[i], `sample ${i} lies at component ${nearest} but mapping says ${m[i]}`);
    counts[m[i]!]!++;
  }
  for (let o = 0; o < 4; o++) {
    const se = Math.sqrt((h.w[o]! * (1 - h.w[o]!)) / n);
    assert.ok(Math.abs(counts[o]! / n - h.w[o]!) <= 4 * se, `component ${o}: frequency ${counts[o]! / n} vs weight ${h.w[o]} (4 s.e. = ${4 * se})`);
  }
});

registerAll(backends, 'sampleFromComponentsNoShuffle: grouped mapping, per-component mean and covariance within MC error', async (B) => {
  for (const diagonal of [false, true]) {
    const h = randomHostGmm(3, 3, diagonal ? 51 : 52, { diagonal });
    const s = gmmState(h, B.dtype);
    const counts = [3000, 0, 2000];
    const { samples, mapping } = g.sampleFromComponentsNoShuffle(s, counts, bt.random.key(3));
    const m = Array.from(await mapping.data(), Number);
    assert.equal(m, [...new Array<number>(3000).fill(0), ...new Array<number>(2000).fill(2)], 'grouped mapping');
    const xs = await rows(samples);
    let off = 0;
    for (const o of [0, 2]) {
      const n = counts[o]!;
      const block = xs.slice(off, off + n);
      off += n;
      const S = hostCov(h.L[o]!);
      for (let a = 0; a < 3; a++) {
        const mean = block.reduce((t, x) => t + x[a]!, 0) / n;
        const se = Math.sqrt(S[a]![a]! / n);
        assert.ok(Math.abs(mean - h.mu[o]![a]!) <= 4 * se, `${diagonal ? 'diag' : 'full'} comp ${o} mean[${a}] ${mean} vs ${h.mu[o]![a]} (4 s.e. ${4 * se})`);
        for (let b = 0; b <= a; b++) {
          const c = block.reduce((t, x) => t + (x[a]! - h.mu[o]![a]!) * (x[b]! - h.mu[o]![b]!), 0) / n;
          // Var((x_a − μ_a)(x_b − μ_b)) = Σ_aa Σ_bb + Σ_ab² for a Gaussian
          const seC = Math.sqrt((S[a]![a]! * S[b]![b]! + S[a]![b]! ** 2) / n);
          assert.ok(Math.abs(c - S[a]![b]!) <= 4 * seC, `${diagonal ? 'diag' : 'full'} comp ${o} cov[${a},${b}] ${c} vs ${S[a]![b]} (4 s.e. ${4 * seC})`);
        }
      }
    }
  }
});

test('GMM.sample: mixture mean and variance within Monte Carlo error (overlapping components)', () => {
  const h = randomHostGmm(3, 2, 61, { spread: 1 });
  const s = gmmState(h);
  const n = 20000;
  const xs = g.sample(s, n, bt.random.key(11)).samples.toArray() as number[][];
  for (let a = 0; a < 2; a++) {
    const mean = h.w.reduce((t, w, o) => t + w * h.mu[o]![a]!, 0);
    const second = h.w.reduce((t, w, o) => t + w * (hostCov(h.L[o]!)[a]![a]! + h.mu[o]![a]! ** 2), 0);
    const variance = second - mean * mean;
    const fourth = estimateCentralFourth(h, a, mean);
    const est = xs.reduce((t, x) => t + x[a]!, 0) / n;
    assert.ok(Math.abs(est - mean) <= 4 * Math.sqrt(variance / n), `mean[${a}] ${est} vs ${mean}`);
    const v = xs.reduce((t, x) => t + (x[a]! - mean) ** 2, 0) / n;
    assert.ok(Math.abs(v - variance) <= 4 * Math.sqrt((fourth - variance * variance) / n), `variance[${a}] ${v} vs ${variance}`);
  }
});

/** E[(x_a − m)⁴] of the mixture (each component's 4th central moment about m, in closed form). */
function estimateCentralFourth(h: HostGmm, a: number, m: number): number {
  return h.w.reduce((t, w, o) => {
    const s2 = hostCov(h.L[o]!)[a]![a]!;
    const dlt = h.mu[o]![a]! - m;
    return t + w * (dlt ** 4 + 6 * dlt * dlt * s2 + 3 * s2 * s2);
  }, 0);
}

test('entropies: one component = ½ log det(2πe Σ); average = Σ w_o H_o; the mixture entropy by MC', () => {
  for (const diagonal of [false, true]) {
    const h = randomHostGmm(3, 4, 71, { diagonal, spread: 30, scale: 0.5 });
    const s = gmmState(h);
    const closed = h.L.map((L) => 0.5 * 4 * (Math.log(2 * Math.PI) + 1) + L.reduce((t, row, i) => t + Math.log(row[i]!), 0));
    assertClose(g.componentEntropies(s), closed, 1e-12, 1e-12, 'component entropies');
    const avg = h.w.reduce((t, w, o) => t + w * closed[o]!, 0);
    assertClose(g.getAverageEntropy(s), avg, 1e-12, 1e-12, 'average entropy');
    assertClose(g.gaussianEntropy(s.chols.slice([1], [1]).reshape(diagonal ? [4] : [4, 4]), diagonal), closed[1]!, 1e-12, 1e-12, 'gaussianEntropy');
    // well-separated components: H(q) = Σ w H_o + H(w) up to the (here negligible) overlap
    const n = 20000;
    const { samples } = g.sample(s, n, bt.random.key(5));
    const lq = Array.from(g.logDensity(s, samples).dataSync());
    const mc = -lq.reduce((t, v) => t + v, 0) / n;
    const sd = Math.sqrt(lq.reduce((t, v) => t + (v + mc) ** 2, 0) / (n - 1));
    const hw = -h.w.reduce((t, w) => t + w * Math.log(w), 0);
    assert.ok(Math.abs(mc - (avg + hw)) <= 4 * sd / Math.sqrt(n), `MC mixture entropy ${mc} vs ${avg + hw} (4 s.e. ${4 * sd / Math.sqrt(n)})`);
  }
});

test('addComponent / removeComponent: weights renormalised, densities of the new mixture, remove undoes add', () => {
  for (const diagonal of [false, true]) {
    const h = randomHostGmm(2, 3, 81, { diagonal });
    const s = gmmState(h);
    const x = bt.tensor(hostPoints(h, 10, 4));
    const newMu = [1, -2, 0.5];
    const newVar = [0.5, 2, 1.5];
    const covT = diagonal ? bt.tensor(newVar) : bt.tensor([[0.5, 0.1, 0], [0.1, 2, 0.3], [0, 0.3, 1.5]]);
    const added = g.addComponent(s, 0.5, bt.tensor(newMu), covT);
    assert.is(g.numComponents(added), 3);
    // w' = [w/(1.5), 0.5/1.5]
    assertClose(g.weights(added), [...h.w.map((w) => w / 1.5), 0.5 / 1.5], 1e-12, 1e-14, 'renormalised weights');
    const Lnew = diagonal ? newVar.map((v, i) => newVar.map((_, j) => (i === j ? Math.sqrt(v) : 0))) : [[0.5, 0.1, 0], [0.1, 2, 0.3], [0, 0.3, 1.5]];
    const h2: HostGmm = { w: [...h.w.map((w) => w / 1.5), 1 / 3], mu: [...h.mu, newMu], L: [...h.L, diagonal ? Lnew : choleskyOf(Lnew)], diagonal };
    const pts = x.toArray() as number[][];
    assertClose(g.logDensity(added, x), pts.map((p) => hostLogQ(h2, p)), 1e-10, 1e-10, 'density after add');
    // L⁻¹ kept in step: L L⁻¹ = I for the added component
    if (!diagonal) assertClose(bt.matmul(added.chols, added.invChols), bt.broadcastTo(bt.eye(3), [3, 3, 3]), 1e-12, 1e-12, 'L L⁻¹ = I');
    else assertClose(bt.mul(added.chols, added.invChols), bt.ones([3, 3]), 1e-14, 1e-14, 'σ · 1/σ = 1');
    const back = g.removeComponent(added, 2);
    assertClose(g.logDensity(back, x), g.logDensity(s, x), 1e-12, 1e-12, 'remove undoes add');
    const first = g.removeComponent(added, 0);
    assertClose(first.means, [...h.mu[1]!, ...newMu], 0, 0, 'remove the first: the others stay in order');
    assertClose(g.weights(first), [h.w[1]! / 1.5 / (h.w[1]! / 1.5 + 1 / 3), (1 / 3) / (h.w[1]! / 1.5 + 1 / 3)], 1e-12, 1e-14, 'remove renormalises');
  }
});

function choleskyOf(S: number[][]): number[][] {
  return bt.linalg.cholesky(bt.tensor(S)).toArray() as number[][];
}

test('1-D marginals: mixture of N(μ_o[j], Σ_o[j,j]); [N] values or [N, d] samples; integrates to 1', () => {
  for (const diagonal of [false, true]) {
    const h = randomHostGmm(3, 3, 91, { diagonal });
    const s = gmmState(h);
    const j = 1;
    const grid = Array.from({ length: 4001 }, (_, i) => -40 + i * 0.02);
    const lm = Array.from(g.marginalLogDensity(s, bt.tensor(grid), j).dataSync());
    const want = grid.map((v) => Math.log(h.w.reduce((t, w, o) => {
      const s2 = hostCov(h.L[o]!)[j]![j]!;
      return t + (w * Math.exp(-0.5 * (v - h.mu[o]![j]!) ** 2 / s2)) / Math.sqrt(2 * Math.PI * s2);
    }, 0)));
    assertClose(lm, want, 1e-10, 1e-10, 'marginal vs formula');
    const integral = lm.reduce((t, v) => t + Math.exp(v) * 0.02, 0);
    assert.ok(Math.abs(integral - 1) < 1e-6, `∫ marginal = ${integral}`);
    const pts = bt.tensor(hostPoints(h, 5, 2));
    assertClose(g.marginalLogDensity(s, pts, j), g.marginalLogDensity(s, pts.slice([0, j], [5, 1]).reshape([5]), j), 0, 0, '[N, d] = column j');
    assert.equal([...g.componentMarginalLogDensities(s, pts, j).shape], [3, 5]);
  }
});

test('GMM class: the same numbers as the functions; mutators replace the state', () => {
  const h = randomHostGmm(2, 2, 101);
  const model = new g.GMM(gmmState(h));
  const x = bt.tensor(hostPoints(h, 6, 1));
  assertClose(model.logDensity(x), g.logDensity(model.state, x), 0, 0, 'logDensity');
  assert.is(model.numComponents, 2);
  assert.is(model.numDimensions, 2);
  model.addComponent(1, bt.tensor([0, 0]), bt.eye(2));
  assert.is(model.numComponents, 3);
  assertClose(model.weights, [h.w[0]! / 2, h.w[1]! / 2, 0.5], 1e-12, 1e-14, 'weights after add');
  model.replaceWeights(bt.tensor([0, 0, 0]));
  assertClose(model.weights, [1 / 3, 1 / 3, 1 / 3], 1e-14, 1e-15, 'replaceWeights normalises');
  model.removeComponent(2);
  assert.is(model.numComponents, 2);
  model.replaceComponents(bt.tensor([[1, 1], [2, 2]]), bt.broadcastTo(bt.eye(2), [2, 2, 2]));
  assertClose(model.covs, bt.broadcastTo(bt.eye(2), [2, 2, 2]), 0, 0, 'covs');
  assertClose(model.invChols, bt.broadcastTo(bt.eye(2), [2, 2, 2]), 0, 0, 'invChols');
  const built = new g.GMM({ means: bt.tensor([[0, 0]]), covs: bt.tensor([[[4, 0], [0, 1]]]) });
  assertClose(built.cholCov, [2, 0, 0, 1], 1e-15, 0, 'covs factorised');
  const diag = new g.GMM({ means: bt.tensor([[0, 0]]), covs: bt.tensor([[4, 9]]) });
  assert.ok(diag.diagonalCovs);
  assertClose(diag.cholCov, [2, 3], 1e-15, 0, 'diagonal: σ');
});

test('bad input: ShapeError on dimension mismatches, ConfigError on bad options, NumericalError on a non-PD covariance', () => {
  const s = gmmState(randomHostGmm(2, 3, 111));
  const isShape = (re: RegExp) => (e: unknown) => e instanceof bt.ShapeError && re.test((e as Error).message);
  const isConfig = (re: RegExp) => (e: unknown) => e instanceof bt.ConfigError && re.test((e as Error).message);
  assert.throws(() => g.logDensity(s, bt.zeros([4, 2])), isShape(/samples must be \[N, 3\].*got \[4, 2\]/));
  assert.throws(() => g.logDensityAndGrad(s, bt.zeros([4])), isShape(/\[N, 3\]/));
  assert.throws(() => g.logDensity(s, bt.zeros([4, 3], 'float32')), (e: unknown) => e instanceof bt.DTypeError);
  assert.throws(() => g.addComponent(s, 0.1, bt.zeros([2]), bt.eye(3)), isShape(/initialMean must be \[3\]/));
  assert.throws(() => g.addComponent(s, 0.1, bt.zeros([3]), bt.eye(2)), isShape(/covariance must be \[3, 3\] or its diagonal \[3\]/));
  assert.throws(() => g.addComponent(s, 0, bt.zeros([3]), bt.eye(3)), isConfig(/initialWeight must be a positive/));
  assert.throws(() => g.addComponent(s, 0.1, bt.zeros([3]), bt.tensor([[1, 2, 0], [2, 1, 0], [0, 0, 1]])), (e: unknown) => e instanceof bt.NumericalError);
  assert.throws(() => g.removeComponent(s, 2), isConfig(/index must be an integer in \[0, 2\)/));
  assert.throws(() => g.removeComponent(g.removeComponent(s, 0), 0), isConfig(/only component/));
  assert.throws(() => g.sampleFromComponentsNoShuffle(s, [1, 2, 3], bt.random.key(0)), isShape(/one number per component \(2\)/));
  assert.throws(() => g.sampleFromComponentsNoShuffle(s, [1, -2], bt.random.key(0)), isConfig(/non-negative integer/));
  assert.throws(() => g.sample(s, 1.5, bt.random.key(0)), isConfig(/non-negative integer/));
  assert.throws(() => g.createGmm({ means: bt.zeros([2, 3]), covs: bt.zeros([2, 3, 2]) }), isShape(/covs must be \[2, 3, 3\]/));
  assert.throws(() => g.createGmm({ means: bt.zeros([2, 3]) }), isConfig(/exactly one of covs and chols/));
  assert.throws(() => g.createGmm({ means: bt.zeros([2, 3]), chols: bt.ones([2, 3]), weights: bt.ones([3]) }), isShape(/weights must be \[2\]/));
  assert.throws(() => g.createGmm({ means: bt.zeros([2, 3]), chols: bt.ones([2, 3]), covariance: 1 } as never), isConfig(/unknown option 'covariance'/));
  assert.throws(() => g.marginalLogDensity(s, bt.zeros([4]), 3), isConfig(/dimension must be an integer in \[0, 3\)/));
  // zero samples: empty results of the right shapes
  const e = g.sample(s, 0, bt.random.key(0));
  assert.equal([...e.samples.shape], [0, 3]);
  assert.equal([...e.mapping.shape], [0]);
});

test.run();
