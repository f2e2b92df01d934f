/**
 * bt.gmmvi.GmmWrapper: every per-component field of §1.2 with its initial values for the initial
 * and for an added component, rows removed with their component, the rolling reward and weight
 * histories, the history-length rule of build_from_config, and config errors.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { assertClose } from '../../helpers.js';
import { gmmState, randomHostGmm } from './fixtures.js';

const g = bt.gmmvi;
const MIN = -3.4028234663852886e38;
const arr = (t: bt.Tensor) => Array.from(t.dataSync(), Number);

const config = (adapter: Record<string, unknown>, ng: Record<string, unknown> = {}) => ({
  num_component_adapter_config: adapter,
  ng_estimator_config: ng,
  component_stepsize_adapter_config: { initial_stepsize: 0.1 },
});

test('initial meta state: every field of §1.2 for the initial components', () => {
  const h = randomHostGmm(3, 2, 1);
  const w = g.GmmWrapper.buildFromConfig(gmmState(h), config({ del_iters: 100, add_iters: 30 }, { initial_l2_regularizer: 1e-10 }));
  assert.equal(arr(w.stepsizes), [0.1, 0.1, 0.1]);
  assert.equal(arr(w.l2Regularizers), [1e-10, 1e-10, 1e-10]);
  assert.equal(arr(w.lastLogEtas), [-1, -1, -1]);
  assert.equal(arr(w.numReceivedUpdates), [0, 0, 0]);
  assert.equal([...w.rewardHistory.shape], [3, 200], 'L = 2·max(2, del_iters)');
  assert.ok(arr(w.rewardHistory).every((v) => v === MIN) && arr(w.weightHistory).every((v) => v === MIN), 'histories start at float32.min');
  assert.equal(arr(w.uniqueComponentIds), [0, 1, 2]);
  assert.is(w.uniqueComponentIds.dtype, 'int32');
  assert.is(w.maxComponentId, 2);
  assert.equal(arr(w.addingThresholds), [-1, -1, -1]);
  assertClose(w.initialEntropies, g.componentEntropies(w.state), 0, 0, 'initial entropies = component entropies');
  assert.equal(g.FLOAT32_MIN, MIN);
});

test('history length: 2·max(2, del_iters) with del_iters, else 2; l2 default 1e-12; an explicit length wins', () => {
  const s = gmmState(randomHostGmm(1, 2, 2));
  assert.is(g.historyLengthFromConfig(config({})), 2);
  assert.is(g.historyLengthFromConfig(config({ del_iters: 1 })), 4);
  assert.is(g.historyLengthFromConfig(config({ del_iters: 7 })), 14);
  const w = g.GmmWrapper.buildFromConfig(s, config({}));
  assert.is(w.maxRewardHistoryLength, 2);
  assert.equal(arr(w.l2Regularizers), [1e-12]);
  assert.is(g.GmmWrapper.buildFromConfig(s, config({ del_iters: 5 }), { maxRewardHistoryLength: 10000 }).maxRewardHistoryLength, 10000, 'the runner path');
});

test('addComponent: model and meta rows appended (η −1, age 0, rewards float32.min, weight history = the raw weight, next id)', () => {
  const h = randomHostGmm(2, 2, 3);
  const w = new g.GmmWrapper(gmmState(h), { initialStepsize: 0.5, maxRewardHistoryLength: 4 });
  w.updateStepsizes(bt.tensor([0.2, 0.3]));
  w.addComponent(1e-29, bt.tensor([1, 2]), bt.eye(2).mul(4), 500, 3.5);
  assert.is(w.numComponents, 3);
  assert.equal(arr(w.stepsizes), [0.2, 0.3, 0.5], 'a new component starts at the initial stepsize');
  assert.equal(arr(w.l2Regularizers), [1e-12, 1e-12, 1e-12]);
  assert.equal(arr(w.lastLogEtas), [-1, -1, -1]);
  assert.equal(arr(w.numReceivedUpdates), [0, 0, 0]);
  assert.equal(arr(w.rewardHistory).slice(8), [MIN, MIN, MIN, MIN]);
  assert.equal(arr(w.weightHistory).slice(8), [1e-29, 1e-29, 1e-29, 1e-29]);
  assert.equal(arr(w.uniqueComponentIds), [0, 1, 2]);
  assert.is(w.maxComponentId, 2);
  assert.equal(arr(w.addingThresholds), [-1, -1, 500]);
  assert.is(arr(w.initialEntropies)[2], 3.5);
  assertClose(w.means.slice([2, 0], [1, 2]), [1, 2], 0, 0, 'mean appended');
  // without a desired entropy, the new component's own: ½ d (log 2π + 1) + ½ log det(4I)
  w.addComponent(0.1, bt.tensor([0, 0]), bt.eye(2).mul(4));
  assertClose(arr(w.initialEntropies)[3]!, 2 * 0.5 * (Math.log(2 * Math.PI) + 1) + Math.log(4), 1e-12, 1e-12, 'entropy of the added component');
  assert.is(w.maxComponentId, 3);
});

test('removeComponent: every row goes with its component; ids of the others survive; removed ids are not reused', () => {
  const w = new g.GmmWrapper(gmmState(randomHostGmm(3, 2, 4)), { initialStepsize: 1, maxRewardHistoryLength: 3 });
  w.updateStepsizes(bt.tensor([0.1, 0.2, 0.3]));
  w.storeRewards(bt.tensor([1, 2, 3]));
  const means = arr(w.means);
  w.removeComponent(1);
  assert.is(w.numComponents, 2);
  assert.equal(arr(w.stepsizes), [0.1, 0.3]);
  assert.equal(arr(w.uniqueComponentIds), [0, 2]);
  assert.equal(arr(w.rewardHistory), [MIN, MIN, 1, MIN, MIN, 3]);
  assert.equal(arr(w.means), [...means.slice(0, 2), ...means.slice(4)]);
  for (const f of [w.l2Regularizers, w.lastLogEtas, w.numReceivedUpdates, w.addingThresholds, w.initialEntropies]) assert.is(f.shape[0], 2);
  assert.equal([...w.weightHistory.shape], [2, 3]);
  w.addComponent(0.5, bt.tensor([0, 0]), bt.eye(2));
  assert.equal(arr(w.uniqueComponentIds), [0, 2, 3]);
});

test('storeRewards and replaceWeights roll their histories (oldest dropped, newest last); weights renormalised', () => {
  const w = new g.GmmWrapper(gmmState(randomHostGmm(2, 2, 5)), { initialStepsize: 1, maxRewardHistoryLength: 3 });
  w.storeRewards(bt.tensor([1, 10]));
  w.storeRewards(bt.tensor([2, 20]));
  w.storeRewards(bt.tensor([3, 30]));
  w.storeRewards(bt.tensor([4, 40]));
  assert.equal(arr(w.rewardHistory), [2, 3, 4, 20, 30, 40]);
  w.replaceWeights(bt.tensor([Math.log(1), Math.log(3)]));
  assertClose(w.weights, [0.25, 0.75], 1e-15, 1e-15, 'normalised');
  assertClose(arr(w.weightHistory), [MIN, MIN, 0.25, MIN, MIN, 0.75], 1e-15, 0, 'the normalised weights appended');
});

test('functional core: the state functions never mutate their input', () => {
  const s0 = g.createGmmWrapper(gmmState(randomHostGmm(2, 2, 6)), { initialStepsize: 1, maxRewardHistoryLength: 2 });
  const before = arr(s0.rewardHistory);
  const s1 = g.storeRewards(s0, bt.tensor([5, 6]));
  const s2 = g.wrapperAddComponent(s1, 0.1, bt.tensor([0, 0]), bt.eye(2));
  const s3 = g.wrapperRemoveComponent(s2, 0);
  assert.equal(arr(s0.rewardHistory), before);
  assert.is(g.numComponents(s2.model), 3);
  assert.is(g.numComponents(s3.model), 2);
  assert.equal(arr(s3.rewardHistory), [MIN, 6, MIN, MIN]);
  // the state round-trips through bt.tree JSON
  const back = bt.tree.fromJSON(bt.tree.toJSONSync(s3)) as bt.gmmvi.GmmWrapperState;
  assert.equal(arr(back.rewardHistory), arr(s3.rewardHistory));
  assert.is(back.maxComponentId, 2);
  assert.is(back.model.diagonal, false);
});

test('bad config: missing or malformed keys are ConfigErrors naming them', () => {
  const s = gmmState(randomHostGmm(1, 2, 7));
  const isConfig = (re: RegExp) => (e: unknown) => e instanceof bt.ConfigError && re.test((e as Error).message);
  assert.throws(() => g.GmmWrapper.buildFromConfig(s, { ng_estimator_config: {}, component_stepsize_adapter_config: { initial_stepsize: 1 } }), isConfig(/num_component_adapter_config must be an object.*missing/));
  assert.throws(() => g.GmmWrapper.buildFromConfig(s, { num_component_adapter_config: {}, ng_estimator_config: {}, component_stepsize_adapter_config: {} }), isConfig(/initial_stepsize is missing/));
  assert.throws(() => g.GmmWrapper.buildFromConfig(s, config({ del_iters: 0 })), isConfig(/del_iters must be a positive integer/));
  assert.throws(() => new g.GmmWrapper(s, { initialStepsize: 1, maxRewardHistoryLength: 0 }), isConfig(/maxRewardHistoryLength/));
  assert.throws(() => new g.GmmWrapper(s, { initialStepsize: 1, maxRewardHistoryLength: 2, stepsize: 1 } as never), isConfig(/unknown option 'stepsize'/));
  const w = new g.GmmWrapper(s, { initialStepsize: 1, maxRewardHistoryLength: 2 });
  assert.throws(() => w.storeRewards(bt.tensor([1, 2])), (e: unknown) => e instanceof bt.ShapeError && /rewards must be a tensor \[1\]/.test((e as Error).message));
});

test.run();
