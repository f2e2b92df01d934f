/** Weight initialisers: the empirical variance of a wide layer matches the scheme's variance. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';

const FAN_IN = 400;
const FAN_OUT = 600; // 240,000 weights: the sample variance is within ~0.3% (1σ) of the truth

function moments(w: bt.Tensor): { mean: number; variance: number; maxAbs: number } {
  const d = w.dataSync();
  let s = 0;
  let s2 = 0;
  let m = 0;
  for (const v of d) {
    s += v;
    s2 += v * v;
    m = Math.max(m, Math.abs(v));
  }
  const mean = s / d.length;
  return { mean, variance: s2 / d.length - mean * mean, maxAbs: m };
}

const cases: [bt.nn.InitName, number][] = [
  ['glorotUniform', 2 / (FAN_IN + FAN_OUT)], // a²/3 with a = √(6/(in+out))
  ['heNormal', 2 / FAN_IN],
  ['lecunNormal', 1 / FAN_IN],
];

for (const [name, variance] of cases) {
  test(`${name}: variance ${variance.toExponential(3)} on a ${FAN_IN}×${FAN_OUT} layer`, () => {
    const layer = bt.nn.dense({ inFeatures: FAN_IN, outFeatures: FAN_OUT, init: name });
    const { w, b } = layer.init(bt.random.key(7));
    assert.equal(w.shape, [FAN_IN, FAN_OUT]);
    const m = moments(w);
    assert.ok(Math.abs(m.variance / variance - 1) < 0.02, `${name}: variance ${m.variance} vs ${variance}`);
    assert.ok(Math.abs(m.mean) < 4 * Math.sqrt(variance / w.size), `${name}: mean ${m.mean}`);
    if (name === 'glorotUniform') assert.ok(m.maxAbs <= Math.sqrt(6 / (FAN_IN + FAN_OUT)), 'inside (−a, a)');
    assert.equal([...b!.dataSync()].every((v) => v === 0), true, 'biases start at zero');
  });
}

test('a custom initialiser function is used, and must return the right shape', () => {
  const layer = bt.nn.dense({ inFeatures: 2, outFeatures: 3, init: (_k, shape, dtype) => bt.full(shape, 0.5, dtype) });
  assert.equal([...layer.init(bt.random.key(0)).w.dataSync()], [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
  const bad = bt.nn.dense({ inFeatures: 2, outFeatures: 3, init: () => bt.zeros([3, 2]) });
  assert.throws(() => bad.init(bt.random.key(0)), (e: Error) => e instanceof bt.ShapeError && /\[2, 3\]/.test(e.message));
  assert.throws(() => bt.nn.dense({ inFeatures: 2, outFeatures: 3, init: 'xavier' as never }), (e: Error) => e instanceof bt.ConfigError && /'xavier'/.test(e.message));
});

test.run();
