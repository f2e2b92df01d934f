/**
 * Stepsize adapters: component F / D / R and weight X / G / N against their formulas on synthetic
 * reward histories, the fresh-component rule (float32.min ≥ float32.min → decrease), both spellings
 * of "improvement-based", strict config keys.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { assertClose } from '../../helpers.js';
import { gmmState, randomHostGmm } from './fixtures.js';

const g = bt.gmmvi;
const R = { initial_stepsize: 1, min_stepsize: 0.001, max_stepsize: 1.5, stepsize_inc_factor: 1.15, stepsize_dec_factor: 0.85 };

function wrapper(k: number) {
  return g.createGmmWrapper(gmmState(randomHostGmm(k, 2, 3)), { initialStepsize: 1, maxRewardHistoryLength: 3 });
}

test('component stepsizes: fixed ε₀; decaying ε₀/(1 + nᵃ); improvement-based ×0.85 / ×1.15 within [min, max]', () => {
  let s = wrapper(3);
  const fixed = g.parseStepsizeConfig('t', 'fixed', { initial_stepsize: 0.3 });
  assertClose(g.adaptComponentStepsizes('fixed', s, fixed), [0.3, 0.3, 0.3], 0, 0, 'fixed');
  s = { ...s, numReceivedUpdates: bt.tensor([0, 1, 4]) };
  const dec = g.parseStepsizeConfig('t', 'decaying', { initial_stepsize: 1, annealing_exponent: 0.5 });
  assertClose(g.adaptComponentStepsizes('decaying', s, dec), [1, 0.5, 1 / 3], 1e-15, 0, 'decaying');
  const imp = g.parseStepsizeConfig('t', 'improvement-based', R);
  // fresh: float32.min ≥ float32.min → decrease once
  assertClose(g.adaptComponentStepsizes('improvement-based', s, imp), [0.85, 0.85, 0.85], 1e-15, 0, 'fresh components decrease');
  s = g.storeRewards(g.storeRewards(s, bt.tensor([1, 5, 2])), bt.tensor([2, 4, 2]));
  s = g.updateStepsizes(s, bt.tensor([1, 0.001, 1.4]));
  // improved (1 → 2): ×1.15; worse (5 → 4): ×0.85 floored at 0.001; equal (2 → 2): decrease; 1.4·1.15 capped? no: 2 ≥ 2 decreases
  assertClose(g.adaptComponentStepsizes('improvement-based', s, imp), [1.15, 0.001, 1.4 * 0.85], 1e-15, 0, 'improvement-based');
  s = g.storeRewards(s, bt.tensor([3, 4, 3]));
  assertClose(g.adaptComponentStepsizes('improvement_based' as never, s, imp), [1.15, 0.001, 1.5], 1e-15, 0, 'capped at max; other spelling');
});

test('weight stepsize: fixed; decaying ε₀/(1 + tᵃ) over calls; improvement-based on Σ w r − Σ w log w', async () => {
  const s0 = wrapper(2);
  const fixedCfg = g.parseStepsizeConfig('t', 'fixed', { initial_stepsize: 0.7 });
  const f = await g.adaptWeightStepsize('fixed', g.initWeightStepsize(fixedCfg), s0, fixedCfg);
  assert.is(f.stepsize, 0.7);
  const dCfg = g.parseStepsizeConfig('t', 'decaying', { initial_stepsize: 2, annealing_exponent: 1 });
  let ds = g.initWeightStepsize(dCfg);
  const seen: number[] = [];
  for (let i = 0; i < 3; i++) { ds = await g.adaptWeightStepsize('decaying', ds, s0, dCfg); seen.push(ds.stepsize); }
  assert.equal(seen, [2, 1, 2 / 3]);
  const iCfg = g.parseStepsizeConfig('t', 'improvement_based', { ...R, initial_stepsize: 1 });
  let st = g.initWeightStepsize(iCfg);
  let s = g.storeRewards(s0, bt.tensor([1, 2]));
  st = await g.adaptWeightStepsize('improvement_based', st, s, iCfg);
  const w = Array.from(g.weights(s.model).dataSync());
  const e1 = w[0]! * (1 - Math.log(w[0]!)) + w[1]! * (2 - Math.log(w[1]!));
  assertClose(st.lastElbo, e1, 1e-12, 0, 'E = Σ w r − Σ w log w');
  assert.is(st.stepsize, 1.15, 'first call: rose from float32.min');
  s = g.storeRewards(s, bt.tensor([0, 0]));
  st = await g.adaptWeightStepsize('improvement_based', st, s, iCfg);
  assertClose(st.stepsize, 1.15 * 0.85, 1e-15, 0, 'fell: ×0.85');
});

test('configs: strict keys, missing keys, gmmvi\'s TODO exponent, unknown types', () => {
  const isConfig = (re: RegExp) => (e: unknown) => e instanceof bt.ConfigError && re.test((e as Error).message);
  assert.throws(() => g.parseStepsizeConfig('t', 'fixed', { initial_stepsize: 1, min_stepsize: 0 }), isConfig(/unknown key 'min_stepsize'/));
  assert.throws(() => g.parseStepsizeConfig('t', 'improvement-based', { initial_stepsize: 1 }), isConfig(/'min_stepsize' is missing/));
  assert.throws(() => g.parseStepsizeConfig('t', 'decaying', { initial_stepsize: 1, annealing_exponent: 'TODO' }), isConfig(/TODO/));
  assert.throws(() => g.parseStepsizeConfig('t', 'adaptive', {}), isConfig(/unknown stepsize adapter type 'adaptive'/));
});

test.run();
