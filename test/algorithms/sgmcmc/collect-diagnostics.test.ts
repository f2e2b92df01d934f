/** The collector's draws in the diagnostics layout, parameter names and summary (R̂, ESS) over chains. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { rng } from '../../helpers.js';

test('collect({ chains: true }): draws() is [chains, steps, D], names() follow the tree, summary() equals diagnostics.summary', () => {
  const r = rng(9);
  const C = 3;
  const steps = 60;
  const col = bt.sgmcmc.collect({ chains: true, burnIn: 10, thin: 2 });
  const truth: number[][][] = Array.from({ length: C }, () => []); // [chain][kept][D] with D order b, w[0,0], w[0,1]
  for (let t = 0; t < steps; t++) {
    const b = Array.from({ length: C }, (_, c) => r() + (c === 2 ? 5 : 0)); // chain 2 sits elsewhere in b
    const w = Array.from({ length: C }, () => [r(), r()]);
    const kept = col.push({ step: t, params: { w: bt.tensor(w.map((x) => [x])), b: bt.tensor(b) } });
    if (kept) for (let c = 0; c < C; c++) truth[c]!.push([b[c]!, w[c]![0]!, w[c]![1]!]);
  }
  assert.is(col.steps, 25);
  assert.equal(col.names(), ['b', 'w[0,0]', 'w[0,1]']);
  const d = col.draws();
  assert.equal(d.shape, [C, 25, 3]);
  assert.equal(Array.from(d.data), truth.flat(2));
  const rows = col.summary();
  assert.equal(rows, bt.diagnostics.summary({ data: Float64Array.from(truth.flat(2)), shape: [C, 25, 3] }, { names: ['b', 'w[0,0]', 'w[0,1]'] }));
  assert.ok(rows[0]!.rhat > 1.5, `the shifted chain shows in b's R̂ (${rows[0]!.rhat})`);
  assert.ok(rows[1]!.rhat < 1.1 && rows[2]!.rhat < 1.1, 'iid coordinates agree');
});

test('collect without chains: one chain; nested trees name leaves by path; too few steps or no samples is a ConfigError', () => {
  const col = bt.sgmcmc.collect({ select: (s: { params: unknown; extra: bt.Tensor }) => ({ p: s.params, e: [s.extra] }) });
  for (let t = 0; t < 6; t++) col.push({ step: t, params: { a: bt.tensor(t) }, extra: bt.tensor([t, -t]) });
  assert.equal(col.names(), ['e[0][0]', 'e[0][1]', 'p.a']);
  assert.equal(col.draws().shape, [1, 6, 3]);
  assert.is(col.summary().length, 3);
  const short = bt.sgmcmc.collect();
  short.push({ step: 0, params: bt.tensor([1]) });
  assert.throws(() => short.summary(), (e: Error) => e instanceof bt.ConfigError && /at least 4 kept steps/.test(e.message));
  const none = bt.sgmcmc.collect({ keepSamples: false });
  assert.throws(() => none.draws(), (e: Error) => e instanceof bt.ConfigError && /keepSamples/.test(e.message));
});

test.run();
