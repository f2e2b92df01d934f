/**
 * NG-based component updaters (§13 of the notes): on a Gaussian target N(m, S) with exact
 * expectations (H⁻ = S⁻¹ − Σ⁻¹, g⁻ = S⁻¹(μ − m)), direct with ε = 1 and trust-region with a large
 * bound land on (m, S) in one step (gmmvi's own bisection, `fullStepWhenFeasible: false`, stops at
 * η = e⁵ from a cold start); with a small bound the trust-region step's KL (checked by a
 * host Gaussian KL) is within 10 % of ε or below it; a component whose update is not positive
 * definite is kept and counted (ridge grown), not raised; iBLR skips the mean on a first update.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { assertClose } from '../../helpers.js';
import { gmmState, hostCov, randomHostGmm } from './fixtures.js';

const g = bt.gmmvi;

/** Two components (d = 3) and per-component Gaussian targets with their exact H⁻, g⁻. */
function setup(diagonal = false) {
  const h = randomHostGmm(2, 3, 5, { diagonal });
  const w = g.createGmmWrapper(gmmState(h), { initialStepsize: 1, maxRewardHistoryLength: 2 });
  const S = diagonal ? bt.tensor([[2, 0.5, 1], [0.3, 1, 4]]) : bt.tensor([[[2, 0.3, 0], [0.3, 1, 0.2], [0, 0.2, 0.5]], [[1, -0.4, 0], [-0.4, 1, 0], [0, 0, 3]]]);
  const m = bt.tensor([[1, -1, 0.5], [-2, 0, 3]]);
  const Sinv = diagonal ? bt.reciprocal(S) : bt.linalg.inv(S);
  const Lam = diagonal ? bt.square(w.model.invChols) : bt.matmul(w.model.invChols.mT, w.model.invChols);
  const hNeg = bt.sub(Sinv, Lam);
  const diff = bt.sub(w.model.means, m);
  const gNeg = diagonal ? bt.mul(Sinv, diff) : bt.matmul(Sinv, diff.expandDims(-1)).squeeze(-1);
  return { h, w, S, m, hNeg, gNeg };
}

const covOf = (s: bt.gmmvi.GmmState) => g.covs(s);

test('direct (I), ε = 1, exact expectations: (m, S) in one step (full and diagonal)', async () => {
  for (const diagonal of [false, true]) {
    const { w, S, m, hNeg, gNeg } = setup(diagonal);
    const [next, info] = await g.directUpdate(w, hNeg, gNeg, bt.ones([2]));
    assert.equal(info.successes, [true, true]);
    assertClose(next.model.means, m, 1e-10, 1e-10, 'means');
    assertClose(covOf(next.model), S, 1e-10, 1e-10, 'covariances');
    assert.equal(Array.from(next.numReceivedUpdates.dataSync()), [1, 1]);
    const prod = diagonal ? bt.mul(next.model.chols, next.model.invChols) : bt.matmul(next.model.chols, next.model.invChols);
    assertClose(prod, diagonal ? bt.ones([2, 3]) : bt.broadcastTo(bt.eye(3), [2, 3, 3]), 1e-10, 1e-10, 'L⁻¹ recomputed');
  }
});

test('trust-region (T), large bound: η* = β = 1, the full step to (m, S); η recorded for a warm start', async () => {
  for (const diagonal of [false, true]) {
    const { w, S, m, hNeg, gNeg } = setup(diagonal);
    const [next, info] = await g.trustRegionUpdate(w, hNeg, gNeg, bt.full([2], 1e6));
    assert.equal(info.successes, [true, true]);
    assert.equal(info.etas, [1, 1]);
    assertClose(next.model.means, m, 1e-9, 1e-9, 'means');
    assertClose(covOf(next.model), S, 1e-9, 1e-9, 'covariances');
    assert.equal(Array.from(next.lastLogEtas.dataSync()), [1, 1]);
  }
});

test('trust-region, a loose bound from a cold start: the full step η = β by default; with fullStepWhenFeasible: false, gmmvi\'s bisection stops at η = e⁵ (tolerance in η units)', async () => {
  for (const diagonal of [false, true]) {
    const { w, hNeg, gNeg } = setup(diagonal);
    // the full step's own KL, then a bound twice as loose: η = β is feasible
    const [, full] = await g.trustRegionUpdate(w, hNeg, gNeg, bt.full([2], 1e6));
    const eps = full.kls.map((kl) => 2 * kl);
    const [, damped] = await g.trustRegionUpdate(w, hNeg, gNeg, bt.tensor(eps), 1, { fullStepWhenFeasible: false });
    // cold bracket [−20, 80]: m = 30 and m = 5 are feasible, then e^m − e^lb < 0.1 ends the search at ub = 5
    assertClose(damped.etas, [Math.exp(5), Math.exp(5)], 1e-12, 0, `${diagonal ? 'diag' : 'full'}: η = e⁵`);
    assert.ok(damped.kls.every((kl, o) => kl < 0.5 * eps[o]!), 'the damped step is well inside the bound');
    const [, taken] = await g.trustRegionUpdate(w, hNeg, gNeg, bt.tensor(eps));
    assert.equal(taken.etas, [1, 1]);
    assertClose(taken.kls, full.kls, 1e-12, 1e-12, 'the full step');
  }
  const { w, hNeg, gNeg } = setup(false);
  for (const [bad, named] of [[{ fullStep: true }, /fullStep/], [{ fullStepWhenFeasible: 1 }, /fullStepWhenFeasible must be true or false/]] as const) {
    const err = await g.trustRegionUpdate(w, hNeg, gNeg, bt.ones([2]), 1, bad as unknown as bt.gmmvi.TrustRegionOptions).then(() => null, (e: unknown) => e);
    assert.instance(err, bt.ConfigError);
    assert.match((err as Error).message, named);
  }
});

/** KL(N(μ1, Σ1) ‖ N(μ0, Σ0)) on the host (full matrices). */
function hostKl(mu1: number[], S1: number[][], mu0: number[], S0: number[][]): number {
  const P0 = bt.linalg.inv(bt.tensor(S0)).toArray() as number[][];
  const d = mu1.length;
  let tr = 0, q = 0;
  for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) {
    tr += P0[a]![b]! * S1[b]![a]!;
    q += (mu1[a]! - mu0[a]!) * P0[a]![b]! * (mu1[b]! - mu0[b]!);
  }
  const ld = (S: number[][]) => bt.linalg.slogdet(bt.tensor(S))[1].item();
  return 0.5 * (tr + q - d + ld(S0) - ld(S1));
}

test('trust-region, small bounds: KL(new ‖ old) within 10 % of ε (or below it), by a host Gaussian KL; warm start from η', async () => {
  for (const diagonal of [false, true]) {
    const { h, w, hNeg, gNeg } = setup(diagonal);
    const eps = [0.05, 0.5];
    const [next, info] = await g.trustRegionUpdate(w, hNeg, gNeg, bt.tensor(eps));
    assert.equal(info.successes, [true, true]);
    const means = next.model.means.toArray() as number[][];
    const c = covOf(next.model).toArray() as number[][][] | number[][];
    for (let o = 0; o < 2; o++) {
      const S1 = diagonal ? (c as number[][])[o]!.map((v, i, r) => r.map((_, j) => (i === j ? v : 0))) : (c as number[][][])[o]!;
      const kl = hostKl(means[o]!, S1, h.mu[o]!, hostCov(h.L[o]!));
      assert.ok(kl <= 1.1 * eps[o]!, `${diagonal ? 'diag' : 'full'} component ${o}: KL ${kl} > 1.1 ε = ${1.1 * eps[o]!}`);
      assert.ok(Math.abs(kl - info.kls[o]!) <= 1e-8 * Math.max(1, kl), `reported KL ${info.kls[o]} vs host ${kl}`);
      assert.ok(info.etas[o]! > 1, `η ${info.etas[o]} above the floor for a binding bound`);
    }
    // warm start: the next call brackets around the stored η (same estimate, same bound → same η up to the bracket)
    const stored = Array.from(next.lastLogEtas.dataSync());
    assertClose(stored, info.etas, 0, 0, 'η stored');
  }
});

test('a failing component is kept and counted, its ridge grows; the others update; nothing is thrown', async () => {
  for (const type of ['direct', 'iBLR', 'trust-region'] as const) {
    const { w, hNeg, gNeg } = setup(false);
    // component 1: H⁻ = −10 Λ makes Λ′ = −9 Λ (direct) indefinite; iBLR/TR get a NaN estimate
    const Lam = bt.matmul(w.model.invChols.mT, w.model.invChols);
    const bad1 = type === 'direct' ? bt.mul(Lam.slice([1, 0, 0], [1, 3, 3]), -10) : bt.full([1, 3, 3], NaN);
    const h2 = bt.concat([hNeg.slice([0, 0, 0], [1, 3, 3]), bad1]);
    const [next, info] = await g.ngBasedUpdate(type, w, h2, gNeg, bt.ones([2]));
    assert.equal(info.successes, [true, false], type);
    assert.is(info.numFailures, 1);
    assertClose(next.model.means.slice([1, 0], [1, 3]), w.model.means.slice([1, 0], [1, 3]), 0, 0, `${type}: kept mean`);
    assertClose(next.model.chols.slice([1, 0, 0], [1, 3, 3]), w.model.chols.slice([1, 0, 0], [1, 3, 3]), 0, 0, `${type}: kept factor`);
    assert.ok(Array.from(next.model.means.dataSync()).every(Number.isFinite));
    const l2 = Array.from(next.l2Regularizers.dataSync());
    assert.equal(l2, [1e-12, 1e-6], `${type}: success max(λ/2, λ₀), failure max(1e-6, 10 λ)`);
    assert.equal(Array.from(next.numReceivedUpdates.dataSync()), [1, 1], 'every component ages');
    if (type === 'trust-region') assert.equal(Array.from(next.lastLogEtas.dataSync())[1], -1, 'failure → cold start next time');
  }
});

test('iBLR (Y): no mean step on a component\'s first update, μ − ε Σ g⁻ afterwards; precision stays positive definite', async () => {
  const { w, hNeg, gNeg } = setup(false);
  const [n1] = await g.iblrUpdate(w, hNeg, gNeg, bt.full([2], 0.1));
  assertClose(n1.model.means, w.model.means, 0, 0, 'first update: means unchanged');
  const cov0 = g.covs(n1.model);
  const [n2] = await g.iblrUpdate(n1, hNeg, gNeg, bt.full([2], 0.1));
  const want = bt.sub(n1.model.means, bt.matmul(cov0, gNeg.expandDims(-1)).squeeze(-1).mul(0.1));
  assertClose(n2.model.means, want, 1e-12, 1e-12, 'second update: μ − ε Σ g⁻ (old Σ)');
});

test('bad input: shapes and the updater type', async () => {
  const { w, hNeg, gNeg } = setup(false);
  let err: unknown;
  try { await g.directUpdate(w, hNeg.slice([0, 0, 0], [1, 3, 3]), gNeg, bt.ones([2])); } catch (e) { err = e; }
  assert.ok(err instanceof bt.ShapeError && /expectedHessianNeg must be \[2, 3, 3\]/.test((err as Error).message), String(err));
  assert.throws(() => g.ngBasedUpdate('newton' as never, w, hNeg, gNeg, bt.ones([2])), (e: unknown) => e instanceof bt.ConfigError && /newton/.test((e as Error).message));
});

test.run();
