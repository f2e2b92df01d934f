/**
 * Component adaptation (E fixed, A adaptive): the VIPS delete rule on synthetic reward and weight
 * histories (stagnating + light → deleted; young, heavy or improving → kept), and the add
 * heuristic (the new component's entropy is H*, between the average component entropy and the
 * prior's; its mean is the best-scoring candidate; weight 1e-29; τ cycles from thresholds[1];
 * prior draws counted as target evaluations), the schedule, and strict configs.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { assertClose } from '../../helpers.js';
import { gmmState, randomHostGmm } from './fixtures.js';

const g = bt.gmmvi;
const MIN = g.FLOAT32_MIN;
const D = 6; // fd = 2, Lk = 4, histories of 12 columns
const T = 12;

function histories() {
  const rise = Array.from({ length: T }, (_, i) => i); // the best component, improving
  const flat = new Array<number>(T).fill(-100);
  const young = [...new Array<number>(8).fill(MIN), ...new Array<number>(4).fill(-100)];
  const jump = [...new Array<number>(7).fill(-1000), ...new Array<number>(5).fill(-100)];
  const rewards = [rise, flat, young, flat, jump];
  const light = new Array<number>(T).fill(1e-8);
  const weights = [new Array<number>(T).fill(0.5), light, light, new Array<number>(T).fill(0.5), light];
  return { rewards, weights };
}

test('delete rule: stagnating and light → deleted; young, heavy or improving → kept', () => {
  const { rewards, weights } = histories();
  assert.equal(g.componentsToDelete(rewards, weights, D, 1e-6), [1]);
  // a light but recently heavy weight (inside the window, not the newest column) protects it
  const w2 = weights.map((r) => r.slice());
  w2[1]![T - 3] = 1e-3;
  assert.equal(g.componentsToDelete(rewards, w2, D, 1e-6), []);
  // the newest column of the weight history is not part of the window
  const w3 = weights.map((r) => r.slice());
  w3[1]![T - 1] = 1e-3;
  assert.equal(g.componentsToDelete(rewards, w3, D, 1e-6), [1]);
  assert.throws(() => g.componentsToDelete(rewards.map((r) => r.slice(0, 9)), weights, D, 1e-6), (e: unknown) => e instanceof bt.ConfigError && /at least 10 columns/.test((e as Error).message));
});

test('deleteBadComponents removes the rows of the deleted components only', async () => {
  const { rewards, weights } = histories();
  const s0 = g.createGmmWrapper(gmmState(randomHostGmm(5, 2, 1)), { initialStepsize: 1, maxRewardHistoryLength: T });
  const s = { ...s0, rewardHistory: bt.tensor(rewards), weightHistory: bt.tensor(weights) };
  const [next, deleted] = await g.deleteBadComponents(s, D, 1e-6);
  assert.equal(deleted, [1]);
  assert.equal(Array.from(next.uniqueComponentIds.dataSync()), [0, 2, 3, 4]);
  assertClose(next.rewardHistory, [rewards[0]!, rewards[2]!, rewards[3]!, rewards[4]!].flat(), 0, 0, 'rows kept');
});

const ADAPTIVE = { del_iters: 100, add_iters: 30, max_components: 1000, thresholds_for_add_heuristic: [5000, 1000, 500, 200, 100, 50], min_weight_for_del_heuristic: 1e-6, num_database_samples: 1000, num_prior_samples: 0 };

async function dbWith(x: number[][], lp: number[]) {
  const db = new g.SampleDB(2, false, true);
  const n = x.length;
  await db.addSamples(bt.tensor(x), bt.zeros([1, 2]), bt.eye(2).reshape([1, 2, 2]), bt.tensor(lp), bt.zeros([n, 2]), bt.zeros([n], 'int32'));
  return db;
}

test('add heuristic: mean at the best-scoring candidate, entropy H* ∈ [avg, prior], weight 1e-29, τ from thresholds[1]', async () => {
  const s = g.createGmmWrapper(bt.gmmvi.createGmm({ means: bt.tensor([[0, 0]]), covs: bt.tensor([[[1, 0], [0, 1]]]) }), { initialStepsize: 1, maxRewardHistoryLength: 2 });
  // candidates: the target is highest far from the model at [6, 6]
  const x = [[0, 0], [1, 0], [6, 6], [-3, 2]];
  const lq = Array.from(g.logDensity(s.model, bt.tensor(x)).dataSync());
  const lp = [lq[0]!, lq[1]!, -5, lq[3]! - 1];
  const db = await dbWith(x, lp);
  const prior = { priorMean: 0, initialCov: 100 };
  const r = await g.addNewComponent(s, db.state, { numDimensions: 2, logDensity: (z) => bt.zeros([z.shape[0]!]) }, ADAPTIVE, prior, 0, bt.random.key(3));
  assert.equal(r.added.mean, [6, 6]);
  assert.is(r.added.threshold, 1000);
  const hs = Array.from(g.componentEntropies(r.state.model).dataSync());
  assertClose(hs[1]!, r.added.entropy, 1e-12, 1e-12, 'new component entropy = H*');
  assertClose(Array.from(r.state.initialEntropies.dataSync())[1]!, r.added.entropy, 0, 0, 'recorded');
  const avg = hs[0]!;
  const priorH = 2 * 0.5 * (Math.log(2 * Math.PI) + 1) + Math.log(100);
  assert.ok(r.added.entropy >= avg && r.added.entropy <= priorH, `H* ${r.added.entropy} in [${avg}, ${priorH}]`);
  assertClose(Array.from(r.state.model.logWeights.dataSync())[1]!, Math.log(1e-29), 1e-9, 0, 'weight 1e-29');
  assert.equal(Array.from(r.state.weightHistory.dataSync()).slice(2), [1e-29, 1e-29]);
  assert.is(Array.from(r.state.addingThresholds.dataSync())[1], 1000);
  const r2 = await g.addNewComponent(r.state, db.state, { numDimensions: 2, logDensity: (z) => bt.zeros([z.shape[0]!]) }, ADAPTIVE, prior, 1, bt.random.key(4));
  assert.is(r2.added.threshold, 500);
});

test('prior candidates are evaluated on the target and counted; the schedule deletes after del_iters and adds every add_iters', async () => {
  const s = g.createGmmWrapper(gmmState(randomHostGmm(1, 2, 2)), { initialStepsize: 1, maxRewardHistoryLength: 200 });
  const db = await dbWith([[0, 0]], [0]);
  let calls = 0;
  const target = { numDimensions: 2, logDensity: (z: bt.Tensor) => { calls++; return bt.zeros([z.shape[0]!]); } };
  const cfg = { ...ADAPTIVE, num_prior_samples: 50 };
  const r = await g.adaptNumComponents('adaptive', s, db.state, target, cfg, { priorMean: [0, 1], initialCov: [1, 4] }, 0, 30, bt.random.key(1));
  assert.ok(r.added !== null && calls === 1);
  assert.is(r.sampleDb.numSamplesWritten, 51, 'prior draws counted');
  assert.is(r.counter, 1);
  const none = await g.adaptNumComponents('adaptive', s, db.state, target, cfg, { priorMean: 0, initialCov: 1 }, 0, 31, bt.random.key(1));
  assert.is(none.added, null);
  const fixed = await g.adaptNumComponents('fixed', s, db.state, target, {}, { priorMean: 0, initialCov: 1 }, 0, 30, bt.random.key(1));
  assert.is(fixed.state, s);
});

test('adaptive config: every key required, no others', () => {
  const isConfig = (re: RegExp) => (e: unknown) => e instanceof bt.ConfigError && re.test((e as Error).message);
  assert.is(g.checkAdaptiveConfig('t', ADAPTIVE).del_iters, 100);
  const { num_prior_samples: _, ...missing } = ADAPTIVE;
  assert.throws(() => g.checkAdaptiveConfig('t', missing), isConfig(/num_prior_samples is missing/));
  assert.throws(() => g.checkAdaptiveConfig('t', { ...ADAPTIVE, del_iter: 3 }), isConfig(/unknown key num_component_adapter_config.del_iter/));
  assert.throws(() => g.checkAdaptiveConfig('t', { ...ADAPTIVE, thresholds_for_add_heuristic: [] }), isConfig(/thresholds_for_add_heuristic/));
});

test.run();
