/** The samplers' formulas step by step, states, schedules, parallel chains, the collector and run(). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { assertClose } from '../../helpers.js';

type P = { a: bt.Tensor; b: bt.Tensor };
const target = (p: P): [bt.Tensor, { s: bt.Tensor }] => {
  const v = p.a.square().sum().mul(-0.5).sub(p.b.sub(1).square().sum().mul(0.25)).add(p.a.mul(p.b.sum()).sum().mul(0.1));
  return [v, { s: p.a.sum() }];
};
const grad = bt.grad((p: P) => target(p)[0]) as (p: P) => P;
const params0 = (): P => ({ a: bt.tensor([0.5, -1.0, 2.0]), b: bt.tensor([[0.3, 0.7]]) });
const F = (p: P) => [...p.a.dataSync(), ...p.b.dataSync()];
// the noise a step draws: one key per leaf, split(key, 2) in sorted-key order (a, b)
const noise = (key: bt.Tensor): number[] => {
  const ks = bt.random.split(key, 2);
  return [...bt.random.normal(ks.slice([0], [1]).squeeze(0), [3]).dataSync(), ...bt.random.normal(ks.slice([1], [1]).squeeze(0), [1, 2]).dataSync()];
};
const key = bt.random.key(7);

test('sghmc: one step is θ + εσ⁻²m, m + εg − εσ⁻²αm + √(Tε(2α − Tεβ))ξ (gradient at the old θ); state and aux', () => {
  const o = { lr: 0.05, alpha: 0.3, beta: 0.2, sigma: 1.5, temperature: 0.7 };
  const s = bt.sgmcmc.sghmc.build(target, o);
  const st = s.init(params0(), bt.random.key(1));
  // default momenta: N(0, 1) from the init key, per leaf
  assertClose(F(st.momenta), noise(bt.random.key(1)), 0, 0, 'default momenta');
  assert.is(st.step, 0);
  assert.ok(Number.isNaN(st.logPosterior.item()));
  const [n1, aux] = s.update(st, null, key);
  const th = F(st.params), m = F(st.momenta), g = F(grad(st.params)), xi = noise(key);
  const prec = o.sigma ** -2;
  const c = Math.sqrt(o.temperature * o.lr * (2 * o.alpha - o.temperature * o.lr * o.beta));
  assertClose(F(n1.params), th.map((v, i) => v + o.lr * prec * m[i]!), 1e-14, 1e-15, 'params');
  assertClose(F(n1.momenta), m.map((v, i) => v + o.lr * g[i]! - o.lr * prec * o.alpha * v + c * xi[i]!), 1e-13, 1e-15, 'momenta');
  assertClose(n1.logPosterior.item(), target(st.params)[0].item(), 1e-15, 0, 'logPosterior is log p(θ_t), one step behind');
  assert.is(n1.step, 1);
  assertClose(aux.s.item(), st.params.a.sum().item(), 0, 0, 'aux');
  assert.equal(Object.keys(n1).sort(), ['logPosterior', 'momenta', 'params', 'step']);
});

test('sgld: θ + εg + √(Tε(2 − Tεβ))ξ; state { params, logPosterior, step }', () => {
  const o = { lr: 0.02, beta: 3, temperature: 2 };
  const s = bt.sgmcmc.sgld.build(target, o);
  const st = s.init(params0());
  const [n1] = s.update(st, null, key);
  const c = Math.sqrt(o.temperature * o.lr * (2 - o.temperature * o.lr * o.beta));
  const g = F(grad(st.params)), xi = noise(key);
  assertClose(F(n1.params), F(st.params).map((v, i) => v + o.lr * g[i]! + c * xi[i]!), 1e-14, 1e-15, 'params');
  assert.equal(Object.keys(n1).sort(), ['logPosterior', 'params', 'step']);
});

test('sgnht: thermostat ξ ← ξ + ε(σ⁻² mean(m²) − T) with the old momenta; ξ₀ = alpha (an explicit 0 is kept)', () => {
  const o = { lr: 0.05, alpha: 0.4, beta: 0.1, sigma: 2, temperature: 0.5 };
  const s = bt.sgmcmc.sgnht.build(target, { ...o, momenta: 0.3 });
  const st = s.init(params0());
  assertClose(st.xi.item(), 0.4, 0, 0, 'xi0 = alpha');
  assertClose(F(st.momenta), [0.3, 0.3, 0.3, 0.3, 0.3], 0, 0, 'scalar momenta fill every leaf');
  const mid = s.update(st, null, key)[0];
  const [n1] = s.update(mid, null, key);
  const th = F(mid.params), m = F(mid.momenta), g = F(grad(mid.params)), xi = noise(key), x0 = mid.xi.item();
  const prec = o.sigma ** -2;
  const c = Math.sqrt(o.temperature * o.lr * (2 * o.alpha - o.temperature * o.lr * o.beta));
  assertClose(F(n1.params), th.map((v, i) => v + o.lr * prec * m[i]!), 1e-14, 1e-15, 'params');
  assertClose(F(n1.momenta), m.map((v, i) => v + o.lr * g[i]! - o.lr * prec * x0 * v + c * xi[i]!), 1e-13, 1e-15, 'momenta');
  const meanM2 = m.reduce((s2, v) => s2 + v * v, 0) / m.length;
  assertClose(n1.xi.item(), x0 + o.lr * (prec * meanM2 - o.temperature), 1e-14, 1e-15, 'xi');
  assertClose(bt.sgmcmc.sgnht.build(target, { lr: 0.1, xi: 0, momenta: 0 }).init(params0()).xi.item(), 0, 0, 0, 'xi: 0');
});

test('baoa: B, A, O, A with γ = ασ⁻², ζ = √(T(1 − e^{−2γε}))', () => {
  const o = { lr: 0.05, alpha: 0.8, sigma: 1.3, temperature: 0.9 };
  const m0 = { a: bt.tensor([0.1, 0.2, -0.3]), b: bt.tensor([[1.0, -0.5]]) };
  const s = bt.sgmcmc.baoa.build(target, { ...o, momenta: m0 });
  const st = s.init(params0());
  assert.is(st.momenta, m0, 'a momenta tree is used as given');
  const [n1] = s.update(st, null, key);
  const prec = o.sigma ** -2, gamma = o.alpha * prec, zeta = Math.sqrt(o.temperature * (1 - Math.exp(-2 * gamma * o.lr)));
  const g = F(grad(st.params)), xi = noise(key);
  const mB = F(m0).map((v, i) => v + o.lr * g[i]!);
  const thA = F(st.params).map((v, i) => v + (o.lr / 2) * prec * mB[i]!);
  const mO = mB.map((v, i) => Math.exp(-gamma * o.lr) * v + zeta * o.sigma * xi[i]!);
  assertClose(F(n1.momenta), mO, 1e-13, 1e-15, 'momenta');
  assertClose(F(n1.params), thA.map((v, i) => v + (o.lr / 2) * prec * mO[i]!), 1e-13, 1e-15, 'params');
});

test('schedules: lr and temperature are evaluated at state.step', () => {
  const seen: number[] = [];
  const s = bt.sgmcmc.sgld.build(target, { lr: (t) => (seen.push(t), 1e-2 * (t + 1) ** -0.33), temperature: (t) => 1 / (t + 1) });
  let st = s.init(params0());
  for (let t = 0; t < 3; t++) {
    const g = F(grad(st.params)), k = bt.random.foldIn(key, t);
    const [n] = s.update(st, null, k);
    const e = 1e-2 * (t + 1) ** -0.33, T = 1 / (t + 1);
    assertClose(F(n.params), F(st.params).map((v, i) => v + e * g[i]! + Math.sqrt(2 * T * e) * noise(k)[i]!), 1e-14, 1e-15, `step ${t}`);
    st = n;
  }
  assert.equal(seen, [0, 1, 2]);
});

test('parallel chains: chain c equals the single chain keyed split(key, C)[c], for every sampler, vmapped or batched logPosterior', () => {
  const C = 3;
  const builders = {
    sghmc: (lp: any) => bt.sgmcmc.sghmc.build(lp, { lr: 0.05, alpha: 0.5 }),
    sgld: (lp: any) => bt.sgmcmc.sgld.build(lp, { lr: 0.05 }),
    sgnht: (lp: any) => bt.sgmcmc.sgnht.build(lp, { lr: 0.05, alpha: 0.5 }),
    baoa: (lp: any) => bt.sgmcmc.baoa.build(lp, { lr: 0.05, alpha: 0.5 }),
  };
  const starts = bt.random.normal(bt.random.key(3), [C, 3]);
  const lpOne = (p: bt.Tensor): [bt.Tensor, never[]] => [p.square().sum().mul(-0.5).add(p.slice([0], [1]).sum().mul(0.3)), []];
  const lpBatched = (p: bt.Tensor): [bt.Tensor, never[]] => [p.square().sum({ axis: -1 }).mul(-0.5).add(p.slice([0, 0], [-1, 1]).sum({ axis: -1 }).mul(0.3)), []];
  for (const [name, b] of Object.entries(builders)) {
    for (const batched of [false, true]) {
      const par = bt.sgmcmc.parallel(b(batched ? lpBatched : lpOne), { chains: C, batchedLogPosterior: batched });
      const single = b(lpOne);
      let ps: any = par.init(starts, bt.random.key(4));
      const ss: any[] = [];
      for (let c = 0; c < C; c++) ss.push(single.init(starts.slice([c], [1]).squeeze(0), bt.random.split(bt.random.key(4), C).slice([c], [1]).squeeze(0)));
      for (let t = 0; t < 4; t++) {
        const k = bt.random.foldIn(key, t);
        ps = par.update(ps, null, k)[0];
        for (let c = 0; c < C; c++) ss[c] = single.update(ss[c], null, bt.random.split(k, C).slice([c], [1]).squeeze(0))[0];
      }
      for (let c = 0; c < C; c++) {
        for (const f of Object.keys(ss[c]).filter((f) => f !== 'step')) {
          assertClose(ps[f].slice([c], [1]).squeeze(0), ss[c][f], 1e-13, 1e-14, `${name} (batched ${batched}) chain ${c} ${f}`);
        }
      }
      assert.is(ps.step, 4);
    }
  }
});

test('collect: burn-in, thinning, stacked samples, Welford mean and covariance; chains', () => {
  const col = bt.sgmcmc.collect({ burnIn: 3, thin: 2 });
  const xs: number[][] = [];
  for (let t = 0; t < 12; t++) {
    const v = [Math.sin(t), Math.cos(3 * t), t / 10];
    const kept = col.push({ step: t, params: { u: bt.tensor([v[0]!, v[1]!]), w: bt.tensor(v[2]!) } } as never);
    assert.is(kept, t >= 3 && (t - 3) % 2 === 0);
    if (kept) xs.push(v);
  }
  assert.is(col.count, 5);
  const smp = col.samples() as { u: bt.Tensor; w: bt.Tensor };
  assert.equal(smp.u.shape, [5, 2]);
  assert.equal(smp.w.shape, [5]);
  const mean = [0, 1, 2].map((j) => xs.reduce((s, x) => s + x[j]!, 0) / xs.length);
  assertClose(Array.from(col.meanFlat()), mean, 1e-13, 1e-15, 'mean');
  const cov: number[] = [];
  for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) cov.push(xs.reduce((s, x) => s + (x[a]! - mean[a]!) * (x[b]! - mean[b]!), 0) / (xs.length - 1));
  assertClose(Array.from(col.covFlat()), cov, 1e-12, 1e-15, 'cov');
  const mt = col.mean() as { u: bt.Tensor; w: bt.Tensor };
  assertClose(mt.u, mean.slice(0, 2), 1e-13, 1e-15, 'mean tree');
  // chains: each chain's draw is a sample; per-chain means too
  const cc = bt.sgmcmc.collect({ chains: true });
  cc.push({ step: 0, params: bt.tensor([[1, 2], [3, 4]]) });
  cc.push({ step: 1, params: bt.tensor([[5, 6], [7, 8]]) });
  assert.is(cc.count, 4);
  assertClose(Array.from(cc.meanFlat()), [4, 5], 0, 1e-15, 'pooled');
  assertClose(Array.from(cc.chainMeansFlat()), [3, 4, 5, 6], 0, 1e-15, 'per chain');
  assert.equal((cc.samples() as bt.Tensor).shape, [2, 2, 2]);
});

test('run: resumes exactly, reports progress, honours an AbortSignal, keeps memory flat over 20,000 steps', async () => {
  const s = bt.sgmcmc.sghmc.build(target, { lr: 0.05, alpha: 1 });
  const st0 = s.init(params0(), bt.random.key(2));
  const full = await bt.sgmcmc.run(s, st0, { steps: 60, key });
  const half = await bt.sgmcmc.run(s, st0, { steps: 25, key });
  const rest = await bt.sgmcmc.run(s, half.state, { steps: 35, key });
  assertClose(F(rest.state.params), F(full.state.params), 0, 0, 'resumed run = uninterrupted run');
  assert.is(rest.state.step, 60);
  const progress: number[] = [];
  await bt.sgmcmc.run(s, st0, { steps: 100, key, progressEvery: 25, onProgress: (p) => progress.push(p.done) });
  assert.equal(progress, [25, 50, 75, 100]);
  const ac = new AbortController();
  const r = await bt.sgmcmc.run(s, st0, { steps: 1_000_000, key, signal: ac.signal, onStep: (_st, _a, t) => (t === 500 ? ac.abort() : undefined) });
  assert.ok(r.aborted);
  assert.is(r.steps, 500);
  let early = -1;
  let late = -1;
  const long = await bt.sgmcmc.run(s, st0, {
    steps: 20_000, key,
    onStep: (_st, _a, t) => {
      if (t === 100) early = bt.memory().numTensors;
      if (t === 20_000) late = bt.memory().numTensors;
    },
  });
  assert.is(late, early, 'no tensors leak per step');
  assert.ok(long.stepsPerSecond > 0);
});

test('minibatches: every row once per epoch, reshuffled by the key; run frees each batch', async () => {
  const X = bt.arange(10, undefined, 1, 'float64').reshape([10, 1]);
  const it = bt.sgmcmc.minibatches({ x: X }, { batchSize: 3, key });
  const seen: number[][] = [];
  for (let e = 0; e < 2; e++) {
    const rows: number[] = [];
    for (let i = 0; i < 3; i++) rows.push(...(it.next().value as { x: bt.Tensor }).x.dataSync());
    seen.push(rows);
  }
  assert.is(new Set(seen[0]).size, 9);
  assert.not.equal(seen[0], seen[1]);
  const s = bt.sgmcmc.sgld.build((p: bt.Tensor, b: { x: bt.Tensor }) => [p.mul(b.x.sum()).sum().mul(-0.01).sub(p.square().sum()), []], { lr: 0.01 });
  const before = bt.memory().numTensors;
  const st0 = s.init(bt.tensor([0.5]));
  const batches = bt.sgmcmc.minibatches({ x: X }, { batchSize: 4, key });
  const r = await bt.sgmcmc.run(s, st0, { steps: 50, key, batches });
  // what is still held: the two states, the iterator's permutation and the jitted update's program
  bt.dispose([r.state, st0]);
  batches.dispose();
  s.dispose();
  assert.is(bt.memory().numTensors - before, 0, `${bt.memory().numTensors - before} tensors left`);
});

test.run();
