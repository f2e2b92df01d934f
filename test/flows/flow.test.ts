/**
 * Flows: fresh flow = base; logQ of rsample = logProb; normalisation; Jacobian; gradients vs FD; a short MLE fit.
 *
 * Every body runs on each backend (see ../backend-harness.ts): `name [cpu]` in float64 with the
 * checks and tolerances as before, `name [webgpu]` in float32 (flows built with the backend's
 * dtype) with tolerances from float32 rounding:
 *  - log q is a float32 sum of the base's log density and each layer's log|det|: accurate to
 *    ULPS·eps of the size of those terms (./util.ts `logQTermScale`, per point);
 *  - slogdet of a bt.jacfwd Jacobian: the first-order bound of ./util.ts `logdetTol`;
 *  - quadratures add the float32 rounding of every q(x_i) (relative ULPS·eps·terms), of the sum
 *    (../distributions/mc.ts `sumTol`) and of the float32 grid points (max|δx|·∫|∇q|, from the
 *    variation of q on the grid); importance sampling keeps its 5 SE plus the weights' rounding;
 *  - gradients vs central differences: the harness's float32 directional check, its step scaled
 *    by `FD_SCALE` (measured truncation error, below);
 *  - the MLE fit checks the same NLL margins (a float32 fit of float32 data drawn on the device).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { backendsUnderTest, checkDirectional, randnB, read, registerAll, scalar, ULPS, type BackendCase } from '../backend-harness.js';
import { assertClose, randn } from '../helpers.js';
import { close, meanSe, sumTol } from '../distributions/mc.js';
import { logdetTol, logQTermScale, perturb } from './util.js';

const backends = await backendsUnderTest('flows/flow');

const F = bt.flows;
const LOG_2PI = Math.log(2 * Math.PI);
type Maker = (B: BackendCase, dim: number, seed: number) => bt.flows.Flow;
const makers: [string, Maker][] = [
  ['maf', (B, dim, seed) => F.maf({ dim, hiddenSizes: [8, 8], numLayers: 3, key: bt.random.key(seed), dtype: B.dtype })],
  ['realNVP', (B, dim, seed) => F.realNVP({ dim, hiddenSizes: [8, 8], numLayers: 4, key: bt.random.key(seed), dtype: B.dtype })],
  ['realNVP+random permutations', (B, dim, seed) => F.realNVP({ dim, hiddenSizes: [8], numLayers: 3, key: bt.random.key(seed), permutation: 'random', dtype: B.dtype })],
];
const perturbed = (f: bt.flows.Flow, seed: number, scale = 0.3) => f.withParams(perturb(f.params(), seed, scale));

/**
 * The WebGPU central-difference step for the parameter-gradient checks: the harness's, 4× smaller.
 * Measured with float64 evaluations (CPU, same construction) at the harness's step (1e-2·max|θ|,
 * along a random direction in all ~400 parameters), the O(h²) truncation error alone is 2.6e-3 to
 * 1.1e-2 relative for maf and realNVP, directions 1-3 (1.3-5.7× the check's rtol 2e-3; it falls 4×
 * per halving of h, so it is truncation); at 1/4 it is ≤ 7.2e-4 (≤ 0.36 of rtol). The harness
 * derives the FD rounding noise from the step actually used.
 */
const FD_SCALE = 1 / 4;

/**
 * Float32 rounding of a quadrature Σ q(x_i)·h^dims on WebGPU over a product grid of the 1-D float32
 * `grid` (from linspace; `exact(i)` its float64 value): every q(x_i) relative ULPS·eps·S_i (S:
 * logQTermScale), the float32 sum relative sumTol, and the grid points' rounding max|δx|·∫|∇q|₁,
 * ∫|∂_k q| estimated by the variation of q between neighbouring grid points along axis k
 * (`strides`: the flat-index offset of the next point along each axis).
 */
async function quadratureRounding(B: BackendCase, f: bt.flows.Flow, pts: bt.Tensor, q: number[], h: number, dims: number, grid: bt.Tensor, exact: (i: number) => number, strides: number[]): Promise<number> {
  const w = h ** dims;
  const axisLen = grid.size;
  const S = await logQTermScale(f, pts.reshape([-1, f.dim]));
  let values = 0;
  let mass = 0;
  for (let i = 0; i < q.length; i++) {
    values += q[i]! * ULPS * B.eps * S[i]! * w;
    mass += q[i]! * w;
  }
  const g = await read(grid);
  const maxDx = g.reduce((m, v, i) => Math.max(m, Math.abs(v - exact(i))), 0);
  let tv = 0;
  for (const s of strides) {
    for (let i = 0; i < q.length; i++) {
      if (Math.floor(i / s) % axisLen === axisLen - 1) continue; // last point along this axis
      tv += Math.abs(q[i + s]! - q[i]!) * w;
    }
  }
  // Σ|Δq|·w/h approximates ∫|∂q| (Σ over the grid of |∂q|·h, times the cell volume w, over h):
  // moving every point by at most max|δx| moves Σq·w by at most max|δx|·∫|∂q| summed over axes
  return values + sumTol(B, q.length) * mass + (maxDx * tv) / h;
}

for (const [name, make] of makers) {
  registerAll(backends, `${name}: a fresh flow equals its N(0, I) base`, async (B) => {
    const f = make(B, 3, 1);
    assert.is(f.dtype, B.dtype);
    assert.equal(f.eventShape, [3]);
    assert.equal(f.batchShape, []);
    const x = randnB(B, [6, 3], 2);
    const ref = x.square().sum({ axis: -1 }).mul(-0.5).sub(1.5 * LOG_2PI);
    await close(B, f.logProb(x), ref, 1e-14, undefined, 'logProb');
    const [s, lq] = f.rsampleAndLogProb(bt.random.key(3), [6]);
    const z = bt.random.normal(bt.random.key(3), [6, 3]);
    if (!name.includes('permutation')) await close(B, s, z, 1e-15, undefined, 'sample'); // (a permutation only reorders z)
    await close(B, lq, z.square().sum({ axis: -1 }).mul(-0.5).sub(1.5 * LOG_2PI), 1e-14, undefined, 'logQ');
  });

  registerAll(backends, `${name}: logProb(rsample) equals the returned logQ (1e-10), any sample shape`, async (B) => {
    const f = perturbed(make(B, 3, 4), 5);
    const [x, lq] = f.rsampleAndLogProb(bt.random.key(6), [4, 5]);
    assert.equal(x.shape, [4, 5, 3]);
    assert.equal(lq.shape, [4, 5]);
    if (B.name === 'cpu') await close(B, f.logProb(x), lq, 1e-10, 1e-10, 'logProb vs logQ');
    else {
      // both directions sum the same terms (base log density and the layers' log|det|)
      const S = await logQTermScale(f, x.reshape([20, 3]));
      const [a, b] = [await read(f.logProb(x)), await read(lq)];
      for (let i = 0; i < 20; i++) await close(B, a[i]!, b[i]!, 0, 0, `logProb vs logQ [${i}]`, { rtol: B.adRtol, scale: S[i]! });
    }
    assert.equal(f.sample(bt.random.key(6), [7]).shape, [7, 3]);
  });

  registerAll(backends, `${name}: log q(x) = log N(z(x)) + log|det ∂z/∂x| with the Jacobian from bt.jacfwd`, async (B) => {
    const f = perturbed(make(B, 3, 7), 8);
    const x = randnB(B, [3, 3], 9);
    const lp = await read(f.logProb(x));
    const S = B.name === 'cpu' ? [] : await logQTermScale(f, x);
    for (let i = 0; i < 3; i++) {
      const xi = bt.reshape(bt.slice(x, [i, 0], [1, 3]), [3]);
      const inv = (v: bt.Tensor) => bt.reshape(f.inverse(bt.reshape(v, [1, 3]))[0], [3]);
      const J = bt.jacfwd(inv)(xi) as bt.Tensor;
      const z = inv(xi);
      const base = f.params().base;
      const lbase = await scalar(bt.distributions.DiagonalNormal.fromParams(base).logProb(z));
      const ld = await scalar(bt.linalg.slogdet(J)[1]);
      if (B.name === 'cpu') await close(B, lp[i]!, lbase + ld, 1e-10, 1e-12, 'log q');
      else await close(B, lp[i]!, lbase + ld, 0, 0, `log q [${i}]`, { scale: S[i]!, atol: logdetTol(B, await read(J), 3) });
    }
  });

  registerAll(backends, `${name}: the density normalises (2-D grid integral, and E_p[q/p] = 1 by importance sampling in 3-D)`, async (B) => {
    const f = perturbed(make(B, 2, 10), 11);
    const n = 301;
    const lo = -10;
    const h = 20 / (n - 1);
    const g = bt.linspace(lo, -lo, n);
    const pts = bt.stack([bt.broadcastTo(g.reshape([n, 1]), [n, n]), bt.broadcastTo(g.reshape([1, n]), [n, n])], -1);
    const qGrid = f.logProb(pts).exp();
    const mass = (await scalar(qGrid.sum())) * h * h;
    const gridTol = B.name === 'cpu' ? 0 : await quadratureRounding(B, f, pts, await read(qGrid), h, 2, g, (i) => lo + i * h, [1, n]);
    if (process.env.BT_SUITE_VERBOSE) console.log(`[${B.name}] 2-D grid mass − 1 = ${(mass - 1).toExponential(2)}, float32 rounding bound ${gridTol.toExponential(2)}`);
    assert.ok(Math.abs(mass - 1) < 2e-3 + gridTol, `grid mass ${mass} (float32 rounding ${gridTol.toExponential(2)})`);
    const f3 = perturbed(make(B, 3, 12), 13);
    // E_p[q/p] = ∫q = 1 with x from a wide Gaussian p (so that q/p stays bounded)
    const p = new bt.distributions.DiagonalNormal(bt.zeros([3]), 3);
    const x = p.sample(bt.random.key(14), [20000]);
    const lpx = p.logProb(x);
    const w = await read(f3.logProb(x).sub(lpx).exp());
    const [m, se] = meanSe(w);
    let rounding = 0;
    if (B.name !== 'cpu') {
      // each weight exp(log q − log p) relative ULPS·eps·(S_q + |log p| + 1)
      const S = await logQTermScale(f3, x);
      const hp = await read(lpx);
      rounding = (ULPS * B.eps * w.reduce((s, v, i) => s + v * (S[i]! + Math.abs(hp[i]!) + 1), 0)) / w.length;
    }
    if (process.env.BT_SUITE_VERBOSE) console.log(`[${B.name}] E_p[q/p] − 1 = ${(m - 1).toExponential(2)}, 5 SE ${(5 * se).toExponential(2)}, float32 rounding ${rounding.toExponential(2)}`);
    assert.ok(Math.abs(m - 1) <= 5 * se + rounding, `E_p[q/p] = ${m} ± ${se} (float32 rounding ${rounding.toExponential(2)})`);
  });

  registerAll(backends, `${name}: gradients wrt every parameter (rsampleAndLogProb and logProb) match finite differences`, async (B) => {
    const f = perturbed(make(B, 2, 15), 16);
    const [flat, unravel] = bt.tree.ravel(f.params());
    const key = bt.random.key(17);
    const xs = randnB(B, [5, 2], 18);
    const loss = (v: bt.Tensor) => {
      const q = f.withParams(unravel(v));
      const [x, lq] = q.rsampleAndLogProb(key, [8]);
      return lq.mean().add(x.square().mean()).add(q.logProb(xs).mean());
    };
    if (B.name !== 'cpu') {
      for (const seed of [1, 2, 3]) await checkDirectional({ ...B, fdStep: B.fdStep * FD_SCALE }, loss, flat, seed, `loss, direction ${seed}`);
      return;
    }
    const g = bt.grad(loss)(flat) as bt.Tensor;
    for (const seed of [1, 2, 3]) {
      const t = randn([flat.size], 100 + seed);
      const eps = 1e-5;
      const fd = (loss(flat.add(t.mul(eps))).item() - loss(flat.sub(t.mul(eps))).item()) / (2 * eps);
      const an = g.mul(t).sum().item();
      assert.ok(Math.abs(an - fd) <= 1e-6 * Math.max(1, Math.abs(fd)), `directional derivative ${an} vs FD ${fd}`);
    }
  });
}

registerAll(backends, 'a 1-D MAF normalises on a grid; float32 flows work', async (B) => {
  const f = F.maf({ dim: 1, hiddenSizes: [4], numLayers: 2, key: bt.random.key(20), dtype: B.dtype });
  const q = f.withParams(perturb(f.params(), 21, 0.5));
  const n = 4001;
  const g = bt.linspace(-15, 15, n);
  const x = g.reshape([n, 1]);
  const qx = q.logProb(x).exp();
  const mass = (await scalar(qx.sum())) * (30 / (n - 1));
  if (B.name === 'cpu') assertClose(mass, 1, 1e-6);
  else {
    const rounding = await quadratureRounding(B, q, x, await read(qx), 30 / (n - 1), 1, g, (i) => -15 + (i * 30) / (n - 1), [1]);
    if (process.env.BT_SUITE_VERBOSE) console.log(`[webgpu] 1-D grid mass − 1 = ${(mass - 1).toExponential(2)}, float32 rounding bound ${rounding.toExponential(2)}`);
    assert.ok(Math.abs(mass - 1) <= 1e-6 + rounding, `grid mass ${mass} (float32 rounding ${rounding.toExponential(2)})`);
  }
  const f32 = F.realNVP({ dim: 2, hiddenSizes: [4], numLayers: 2, key: bt.random.key(22), dtype: 'float32' });
  const [s, lq] = f32.rsampleAndLogProb(bt.random.key(23), [5]);
  assert.is(s.dtype, 'float32');
  if (B.name === 'cpu') assertClose(f32.logProb(s), lq, 1e-5, 1e-5);
  else {
    const S = await logQTermScale(f32, s);
    const [a, b] = [await read(f32.logProb(s)), await read(lq)];
    for (let i = 0; i < 5; i++) await close(B, a[i]!, b[i]!, 0, 0, `float32 logProb vs logQ [${i}]`, { rtol: B.adRtol, scale: S[i]! });
  }
});

registerAll(backends, 'a flow or layer built without a dtype takes the backend\'s float dtype (as bt.nn and bt.distributions do)', (B) => {
  const defaultFloat = bt.zeros([1]).dtype;
  assert.is(defaultFloat, B.dtype);
  const f = F.maf({ dim: 2, hiddenSizes: [4], numLayers: 2, key: bt.random.key(50) });
  assert.is(f.dtype, defaultFloat);
  assert.is(F.realNVP({ dim: 2, hiddenSizes: [4], numLayers: 2, key: bt.random.key(51) }).dtype, defaultFloat);
  const made = F.maskedAffineAutoregressive({ dim: 2, hiddenSizes: [4] }).init(bt.random.key(52));
  for (const l of bt.tree.leaves(made) as bt.Tensor[]) assert.is(l.dtype, defaultFloat);
  const coupling = F.affineCoupling({ dim: 2, mask: [1, 0], hiddenSizes: [4] }).init(bt.random.key(53));
  for (const l of bt.tree.leaves(coupling) as bt.Tensor[]) assert.is(l.dtype, defaultFloat);
});

registerAll(backends, 'a short maximum-likelihood fit (Adam) to a 2-D banana lowers the NLL below the best Gaussian', async (B) => {
  const n = 512;
  const x1 = bt.random.normal(bt.random.key(30), [n]);
  const x2 = x1.square().mul(0.5).add(bt.random.normal(bt.random.key(31), [n]).mul(0.5));
  const data = bt.stack([x1, x2.sub(0.5)], -1);
  // best Gaussian: Var x1 = 1, Var x2 = 0.75, Cov = 0 → NLL = log 2πe + ½ log 0.75 ≈ 2.694; truth ≈ 2.145
  const gaussNll = Math.log(2 * Math.PI * Math.E) + 0.5 * Math.log(0.75);
  for (const make of [() => F.realNVP({ dim: 2, hiddenSizes: [16, 16], numLayers: 4, key: bt.random.key(32), dtype: B.dtype }), () => F.maf({ dim: 2, hiddenSizes: [16, 16], numLayers: 3, key: bt.random.key(33), dtype: B.dtype })]) {
    const f = make();
    const nll = (p: bt.tree.PyTree) => f.withParams(p).logProb(data).mean().neg();
    const opt = bt.optim.adam({ learningRate: 1e-2 });
    let params = bt.keep(f.params()) as bt.tree.PyTree;
    let state = bt.keep(opt.init(params));
    const first = await scalar(nll(params));
    let last = first;
    for (let i = 0; i < 300; i++) {
      const next = bt.tidy(() => {
        const [v, g] = bt.valueAndGrad(nll)(params);
        const [u, s] = opt.update(g, state, params);
        return { p: bt.optim.applyUpdates(params, u), s, v: v as bt.Tensor };
      });
      bt.dispose([params, state] as never);
      params = next.p;
      state = next.s;
      // the loss of every step is read, as on the CPU (an await per step also lets the WebGPU
      // device retire finished work; see the report on synchronous loops)
      last = await scalar(next.v);
      bt.dispose(next.v);
    }
    assert.ok(last < first - 0.3, `NLL ${first} → ${last}`);
    assert.ok(last < gaussNll - 0.1, `final NLL ${last} vs best Gaussian ${gaussNll}`);
  }
});

registerAll(backends, 'params / withParams and errors', (B) => {
  const f = F.maf({ dim: 2, hiddenSizes: [4], numLayers: 2, key: bt.random.key(40), dtype: B.dtype });
  const p = f.params();
  assert.equal(Object.keys(p).sort(), ['base', 'layers']);
  assert.equal(Object.keys(p.base).sort(), ['loc', 'logScale']);
  assert.is(p.layers.length, 3); // maf, permutation, maf
  assert.equal(p.layers[1], {});
  assert.throws(() => f.withParams({ base: p.base, layers: [] }), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => f.withParams({ base: { loc: bt.zeros([3]), logScale: bt.zeros([3]) }, layers: p.layers }), (e: unknown) => e instanceof bt.ShapeError);
  assert.throws(() => f.entropy(), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => f.mean(), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => f.logProb(bt.zeros([4, 3])), (e: unknown) => e instanceof bt.ShapeError);
  assert.throws(() => F.maf({ dim: 2, hiddenSizes: [4], numLayers: 0, key: bt.random.key(0) }), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => F.realNVP({ dim: 2, hiddenSizes: [4], numLayers: 1, key: bt.random.key(0), lr: 1 } as never), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => F.realNVP({ dim: 2, hiddenSizes: [4], numLayers: 1 } as never), (e: unknown) => e instanceof bt.ConfigError);
});

test.run();
