/** Flows: fresh flow = base; logQ of rsample = logProb; normalisation; Jacobian; gradients vs FD; a short MLE fit. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose, randn } from '../helpers.js';
import { perturb } from './util.js';
import { meanSe } from '../distributions/mc.js';

const F = bt.flows;
const LOG_2PI = Math.log(2 * Math.PI);
type Maker = (dim: number, seed: number) => bt.flows.Flow;
const makers: [string, Maker][] = [
  ['maf', (dim, seed) => F.maf({ dim, hiddenSizes: [8, 8], numLayers: 3, key: bt.random.key(seed) })],
  ['realNVP', (dim, seed) => F.realNVP({ dim, hiddenSizes: [8, 8], numLayers: 4, key: bt.random.key(seed) })],
  ['realNVP+random permutations', (dim, seed) => F.realNVP({ dim, hiddenSizes: [8], numLayers: 3, key: bt.random.key(seed), permutation: 'random' })],
];
const perturbed = (f: bt.flows.Flow, seed: number, scale = 0.3) => f.withParams(perturb(f.params(), seed, scale));

for (const [name, make] of makers) {
  test(`${name}: a fresh flow equals its N(0, I) base`, () => {
    const f = make(3, 1);
    assert.equal(f.eventShape, [3]);
    assert.equal(f.batchShape, []);
    const x = randn([6, 3], 2);
    const ref = x.square().sum({ axis: -1 }).mul(-0.5).sub(1.5 * LOG_2PI);
    assertClose(f.logProb(x), ref, 1e-14);
    const [s, lq] = f.rsampleAndLogProb(bt.random.key(3), [6]);
    const z = bt.random.normal(bt.random.key(3), [6, 3]);
    if (!name.includes('permutation')) assertClose(s, z, 1e-15); // (a permutation only reorders z)
    assertClose(lq, z.square().sum({ axis: -1 }).mul(-0.5).sub(1.5 * LOG_2PI), 1e-14);
  });

  test(`${name}: logProb(rsample) equals the returned logQ (1e-10), any sample shape`, () => {
    const f = perturbed(make(3, 4), 5);
    const [x, lq] = f.rsampleAndLogProb(bt.random.key(6), [4, 5]);
    assert.equal(x.shape, [4, 5, 3]);
    assert.equal(lq.shape, [4, 5]);
    assertClose(f.logProb(x), lq, 1e-10, 1e-10);
    assert.equal(f.sample(bt.random.key(6), [7]).shape, [7, 3]);
  });

  test(`${name}: log q(x) = log N(z(x)) + log|det ∂z/∂x| with the Jacobian from bt.jacfwd`, () => {
    const f = perturbed(make(3, 7), 8);
    const x = randn([3, 3], 9);
    const lp = f.logProb(x).dataSync();
    for (let i = 0; i < 3; i++) {
      const xi = bt.reshape(bt.slice(x, [i, 0], [1, 3]), [3]);
      const inv = (v: bt.Tensor) => bt.reshape(f.inverse(bt.reshape(v, [1, 3]))[0], [3]);
      const J = bt.jacfwd(inv)(xi) as bt.Tensor;
      const z = inv(xi);
      const base = f.params().base;
      const lbase = bt.distributions.DiagonalNormal.fromParams(base).logProb(z).item();
      assertClose(lp[i]!, lbase + bt.linalg.slogdet(J)[1].item(), 1e-10, 1e-12);
    }
  });

  test(`${name}: the density normalises (2-D grid integral, and E_p[q/p] = 1 by importance sampling in 3-D)`, () => {
    const f = perturbed(make(2, 10), 11);
    const n = 301;
    const lo = -10;
    const h = 20 / (n - 1);
    const g = bt.linspace(lo, -lo, n);
    const pts = bt.stack([bt.broadcastTo(g.reshape([n, 1]), [n, n]), bt.broadcastTo(g.reshape([1, n]), [n, n])], -1);
    const mass = f.logProb(pts).exp().sum().item() * h * h;
    assert.ok(Math.abs(mass - 1) < 2e-3, `grid mass ${mass}`);
    const f3 = perturbed(make(3, 12), 13);
    // E_p[q/p] = ∫q = 1 with x from a wide Gaussian p (so that q/p stays bounded)
    const p = new bt.distributions.DiagonalNormal(bt.zeros([3]), 3);
    const x = p.sample(bt.random.key(14), [20000]);
    const w = f3.logProb(x).sub(p.logProb(x)).exp().dataSync();
    const [m, se] = meanSe(w);
    assert.ok(Math.abs(m - 1) <= 5 * se, `E_p[q/p] = ${m} ± ${se}`);
  });

  test(`${name}: gradients wrt every parameter (rsampleAndLogProb and logProb) match finite differences`, () => {
    const f = perturbed(make(2, 15), 16);
    const [flat, unravel] = bt.tree.ravel(f.params());
    const key = bt.random.key(17);
    const xs = randn([5, 2], 18);
    const loss = (v: bt.Tensor) => {
      const q = f.withParams(unravel(v));
      const [x, lq] = q.rsampleAndLogProb(key, [8]);
      return lq.mean().add(x.square().mean()).add(q.logProb(xs).mean());
    };
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

test('a 1-D MAF normalises on a grid; float32 flows work', () => {
  const f = F.maf({ dim: 1, hiddenSizes: [4], numLayers: 2, key: bt.random.key(20) });
  const q = f.withParams(perturb(f.params(), 21, 0.5));
  const n = 4001;
  const x = bt.linspace(-15, 15, n).reshape([n, 1]);
  const mass = q.logProb(x).exp().sum().item() * (30 / (n - 1));
  assertClose(mass, 1, 1e-6);
  const f32 = F.realNVP({ dim: 2, hiddenSizes: [4], numLayers: 2, key: bt.random.key(22), dtype: 'float32' });
  const [s, lq] = f32.rsampleAndLogProb(bt.random.key(23), [5]);
  assert.is(s.dtype, 'float32');
  assertClose(f32.logProb(s), lq, 1e-5, 1e-5);
});

test('a short maximum-likelihood fit (Adam) to a 2-D banana lowers the NLL below the best Gaussian', () => {
  const n = 512;
  const x1 = bt.random.normal(bt.random.key(30), [n]);
  const x2 = x1.square().mul(0.5).add(bt.random.normal(bt.random.key(31), [n]).mul(0.5));
  const data = bt.stack([x1, x2.sub(0.5)], -1);
  // best Gaussian: Var x1 = 1, Var x2 = 0.75, Cov = 0 → NLL = log 2πe + ½ log 0.75 ≈ 2.694; truth ≈ 2.145
  const gaussNll = Math.log(2 * Math.PI * Math.E) + 0.5 * Math.log(0.75);
  for (const make of [() => F.realNVP({ dim: 2, hiddenSizes: [16, 16], numLayers: 4, key: bt.random.key(32) }), () => F.maf({ dim: 2, hiddenSizes: [16, 16], numLayers: 3, key: bt.random.key(33) })]) {
    const f = make();
    const nll = (p: bt.tree.PyTree) => f.withParams(p).logProb(data).mean().neg();
    const opt = bt.optim.adam({ learningRate: 1e-2 });
    let params = bt.keep(f.params()) as bt.tree.PyTree;
    let state = bt.keep(opt.init(params));
    const first = nll(params).item();
    let last = first;
    for (let i = 0; i < 300; i++) {
      const next = bt.tidy(() => {
        const [v, g] = bt.valueAndGrad(nll)(params);
        const [u, s] = opt.update(g, state, params);
        last = (v as bt.Tensor).item();
        return { p: bt.optim.applyUpdates(params, u), s };
      });
      bt.dispose([params, state] as never);
      params = next.p;
      state = next.s;
    }
    assert.ok(last < first - 0.3, `NLL ${first} → ${last}`);
    assert.ok(last < gaussNll - 0.1, `final NLL ${last} vs best Gaussian ${gaussNll}`);
  }
});

test('params / withParams and errors', () => {
  const f = F.maf({ dim: 2, hiddenSizes: [4], numLayers: 2, key: bt.random.key(40) });
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
