/**
 * Weight updaters (U direct, O trust-region): R̂ = 0 when the target is the model itself (β = 1);
 * R̂_o = c_o for a target log q + c_o near well-separated components; stored rewards β log w + R̂;
 * direct with ε = 1, β = 1 gives w′ ∝ w exp(R̂); the trust-region step's KL(w′ ‖ w) ≤ 1.1 ε
 * (checked on the host from the weights it produced); no feasible η: weights kept, history rolled;
 * one component: rewards stored, weights kept.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { assertClose } from '../../helpers.js';
import { gmmState, randomHostGmm } from './fixtures.js';

const g = bt.gmmvi;
const SNIS = { useSelfNormalizedImportanceWeights: true };

/** Well-separated components; a window of own samples with the mixture as background; target log q + c_o near component o. */
function setup(k: number, c: number[]) {
  const h = randomHostGmm(k, 2, 9, { spread: 50, scale: 0.3 });
  const w = g.createGmmWrapper(gmmState(h), { initialStepsize: 1, maxRewardHistoryLength: 3 });
  const { samples, mapping } = g.sampleFromComponentsNoShuffle(w.model, new Array<number>(k).fill(200), bt.random.key(1));
  const shift = bt.take(bt.tensor(c), mapping);
  const sel = { samples, logPdfs: g.logDensity(w.model, samples), targetLnpdfs: bt.add(g.logDensity(w.model, samples), shift) };
  return { h, w, sel };
}

test('expected rewards: 0 for the model as its own target; c_o for log q + c_o (SNIS and standard IS)', () => {
  const { w, sel } = setup(3, [0.5, -1, 2]);
  const self = { ...sel, targetLnpdfs: sel.logPdfs };
  assertClose(g.expectedComponentRewards(w, self, SNIS), [0, 0, 0], 0, 1e-10, 'R̂ = 0');
  assertClose(g.expectedComponentRewards(w, self, { useSelfNormalizedImportanceWeights: false }), [0, 0, 0], 0, 1e-10, 'R̂ = 0 (standard IS)');
  for (const selfNormalized of [true, false]) {
    // well separated: q(x|o)/q_bg(x) ≈ 1/w_o on o's samples and ≈ 0 elsewhere; SNIS gives c_o exactly up to the overlap
    const r = g.expectedComponentRewards(w, sel, { useSelfNormalizedImportanceWeights: selfNormalized });
    if (selfNormalized) assertClose(r, [0.5, -1, 2], 1e-8, 1e-8, 'R̂ = c_o');
    else {
      // standard IS: (1/N) Σ a_oi c_o with a_oi ≈ 1/w_o on o's N/K samples → c_o / (K w_o)
      const want = [0.5, -1, 2].map((co, o) => co / (3 * g.weights(w.model).dataSync()[o]!));
      assertClose(r, want, 1e-6, 1e-8, 'standard IS');
    }
  }
});

test('direct (U), ε = 1, β = 1: w′ ∝ w exp(R̂); rewards β log w + R̂ stored; weight history appended', async () => {
  const c = [0.5, -1, 2];
  const { h, w, sel } = setup(3, c);
  const [next, info] = await g.updateWeights('direct', w, sel, 1, SNIS);
  assertClose(info.expectedRewards, c, 1e-8, 1e-8, 'R̂');
  const want = h.w.map((wo, o) => wo * Math.exp(c[o]!));
  const z = want.reduce((a, b) => a + b, 0);
  assertClose(g.weights(next.model), want.map((v) => v / z), 1e-8, 1e-10, 'w ∝ w e^R̂');
  const hist = next.rewardHistory.toArray() as number[][];
  assertClose(hist.map((r) => r[2]!), h.w.map((wo, o) => Math.log(wo) + c[o]!), 1e-8, 1e-8, 'stored reward = log w + R̂');
  const wh = next.weightHistory.toArray() as number[][];
  assertClose(wh.map((r) => r[2]!), want.map((v) => v / z), 1e-8, 1e-10, 'weight history');
});

test('trust-region (O): KL(w′ ‖ w) ≤ 1.1 ε on the host, and at least ε/2 (the bound is used)', async () => {
  const c = [3, -3, 0, 1];
  const { h, w, sel } = setup(4, c);
  for (const eps of [0.001, 0.01, 0.1]) {
    const [next, info] = await g.updateWeights('trust-region', w, sel, eps, SNIS);
    assert.ok(info.updated);
    const nw = Array.from(g.weights(next.model).dataSync());
    const kl = nw.reduce((t, v, o) => t + v * Math.log(v / h.w[o]!), 0);
    assert.ok(kl <= 1.1 * eps, `ε ${eps}: KL ${kl}`);
    assert.ok(Math.abs(kl - info.kl) < 1e-9, `reported KL ${info.kl} vs ${kl}`);
    assert.ok(kl >= 0.5 * eps, `ε ${eps}: KL ${kl} uses the trust region`);
  }
});

test('trust-region (O) with no feasible η (a NaN reward): weights kept, but the weight history rolls as gmmvi\'s replace_weights does', async () => {
  // (a bound of 0 is not a reliable way to get here: KL(w′(η) ‖ w) at η ≈ e⁴⁵ is rounding noise of either sign)
  const { h, w, sel } = setup(3, [NaN, -1, 2]);
  const before = w.weightHistory.toArray() as number[][];
  const [next, info] = await g.updateWeights('trust-region', w, sel, 0.1, SNIS);
  assert.is(info.updated, false);
  assertClose(g.weights(next.model), h.w, 1e-12, 1e-12, 'weights kept');
  const after = next.weightHistory.toArray() as number[][];
  assertClose(after.map((r) => r.slice(0, -1)).flat(), before.map((r) => r.slice(1)).flat(), 0, 0, 'history shifted by one');
  assertClose(after.map((r) => r[r.length - 1]!), h.w, 1e-12, 1e-12, 'the kept weights appended');
});

test('one component: rewards stored, weights kept; bad type and stepsize are ConfigErrors', async () => {
  const { w, sel } = setup(1, [0.7]);
  const [next, info] = await g.updateWeights('trust-region', w, sel, 0.1, SNIS);
  assert.is(info.updated, false);
  assertClose(next.model.logWeights, [0], 0, 0, 'weight kept');
  assertClose((next.rewardHistory.toArray() as number[][])[0]![2]!, 0.7, 1e-8, 1e-8, 'reward stored');
  let err: unknown;
  try { await g.updateWeights('newton' as never, w, sel, 0.1, SNIS); } catch (e) { err = e; }
  assert.ok(err instanceof bt.ConfigError);
  err = undefined;
  try { await g.updateWeights('direct', w, sel, -1, SNIS); } catch (e) { err = e; }
  assert.ok(err instanceof bt.ConfigError && /stepsize/.test((err as Error).message));
});

test.run();
