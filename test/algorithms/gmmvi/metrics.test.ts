/**
 * gmmvi's metrics: the MMD bandwidth and kernel against hand-computed values, MMD's ordering on
 * same vs shifted distributions, and the planar robot's modes-per-goal rule on arm poses built to
 * reach a goal.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { assertClose } from '../../helpers.js';

const g = bt.gmmvi;

test('mmdBandwidth: per-dimension median of pairwise squared differences', () => {
  // dim 0 pairs: 1, 9, 4 → 4; dim 1: 4, 36, 16 → 16
  assert.equal(g.mmdBandwidth(bt.tensor([[0, 0], [1, 2], [3, 6]])), [4, 16]);
});

test('mmd: hand-computed kernel sums; zero on identical sets; grows with a shift', () => {
  // g = {0}, m = {1}, Σ_k = 1, α = 2: 1 + 1 − 2 exp(−1/2)
  assertClose(g.mmd(bt.tensor([[0]]), bt.tensor([[1]]), 2, [1]), 2 - 2 * Math.exp(-0.5), 1e-14, 1e-14, 'one point each');
  // g = {0, 2}, m = {1}, Σ_k = 4, α = 1: K_gg = (2 + 2e^{-1})/4, K_mm = 1, K_gm = e^{-1/4}
  assertClose(g.mmd(bt.tensor([[0], [2]]), bt.tensor([[1]]), 1, [4]), (2 + 2 * Math.exp(-1)) / 4 + 1 - 2 * Math.exp(-0.25), 1e-14, 1e-14, 'two vs one');
  const t = g.starTarget();
  const gt = t.sample(600, bt.random.key(1));
  assertClose(g.mmd(gt, gt, 6), 0, 0, 1e-12, 'identical');
  const same = g.mmd(gt, t.sample(600, bt.random.key(2)), 6);
  const shifted = g.mmd(gt, bt.add(t.sample(600, bt.random.key(3)), 0.5), 6);
  assert.ok(same >= 0 && same < shifted / 5, `same ${same}, shifted ${shifted}`);
});

test('planarRobotModes: first-angle clusters among poses reaching the goal', () => {
  const t = g.planarRobotTarget(1);
  // zigzag pose: link directions alternate ±φ, 10 cos φ = 7 puts the end effector at (7, 0)
  const phi = Math.acos(0.7);
  const pose = (s: number, rot = 0) => Array.from({ length: 10 }, (_, i) => (i === 0 ? s * phi + rot : s * (i % 2 ? -2 : 2) * phi));
  const means = bt.tensor([pose(1), pose(1, 0.005), pose(-1), pose(1, 0.3)]);
  assertClose(t.endEffector(bt.tensor([pose(1)])), [7, 0], 1e-12, 1e-12, 'pose reaches the goal');
  // the 0.3-rotated pose misses the goal by ~2.1; the others form two clusters (gap 2φ > 0.4)
  assert.equal(g.planarRobotModes(t, means, { minLogDensity: -Infinity }), [2]);
  // these zigzags are improbable under the prior (log p̃ ≪ −7): the default rule counts none
  assert.equal(g.planarRobotModes(t, means), [0]);
  const t4 = g.planarRobotTarget(4);
  assert.equal(g.planarRobotModes(t4, means, { minLogDensity: -Infinity }), [2, 0, 0, 0]);
});

test.run();
