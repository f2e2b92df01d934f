/**
 * Weight initialisers: the empirical variance of a wide layer matches the scheme's variance.
 *
 * Every body runs on each backend (see ../backend-harness.ts): `name [cpu]` draws float64 weights
 * (the CPU's default float dtype) and reads them with dataSync as before, `name [webgpu]` draws
 * float32 weights (the backend's default, JAX's float32 stream) and reads them with
 * `await t.data()`. The bounds are Monte Carlo bounds on 240,000 draws and hold for either stream;
 * float32 rounding of the weights (relative 2⁻²⁴) is far below them. The glorotUniform support
 * bound allows the float32 rounding of the last operation, a·(1 + eps).
 */
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import * as bt from '../../src/index.js';
import { backendsUnderTest, read, registerAll } from '../backend-harness.js';

const backends = await backendsUnderTest('nn/initializers');

const FAN_IN = 400;
const FAN_OUT = 600; // 240,000 weights: the sample variance is within ~0.3% (1σ) of the truth

function moments(d: ArrayLike<number>): { mean: number; variance: number; maxAbs: number } {
  let s = 0;
  let s2 = 0;
  let m = 0;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
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
  registerAll(backends, `${name}: variance ${variance.toExponential(3)} on a ${FAN_IN}×${FAN_OUT} layer`, async (B) => {
    const layer = bt.nn.dense({ inFeatures: FAN_IN, outFeatures: FAN_OUT, init: name });
    const { w, b } = layer.init(bt.random.key(7));
    assert.equal(w.shape, [FAN_IN, FAN_OUT]);
    assert.is(w.dtype, B.dtype);
    assert.is(w.backend, B.name);
    const m = moments(B.name === 'cpu' ? w.dataSync() : await w.data());
    assert.ok(Math.abs(m.variance / variance - 1) < 0.02, `${name}: variance ${m.variance} vs ${variance}`);
    assert.ok(Math.abs(m.mean) < 4 * Math.sqrt(variance / w.size), `${name}: mean ${m.mean}`);
    const a = Math.sqrt(6 / (FAN_IN + FAN_OUT));
    if (name === 'glorotUniform') assert.ok(m.maxAbs <= (B.name === 'cpu' ? a : a * (1 + B.eps)), `inside (−a, a): max |w| = ${m.maxAbs}, a = ${a}`);
    const bv = B.name === 'cpu' ? [...b!.dataSync()] : await read(b!);
    assert.equal(bv.every((v) => v === 0), true, 'biases start at zero');
  });
}

registerAll(backends, 'a custom initialiser function is used, and must return the right shape', async (B) => {
  const layer = bt.nn.dense({ inFeatures: 2, outFeatures: 3, init: (_k, shape, dtype) => bt.full(shape, 0.5, dtype) });
  const w = layer.init(bt.random.key(0)).w;
  assert.is(w.dtype, B.dtype);
  assert.equal(B.name === 'cpu' ? [...w.dataSync()] : await read(w), [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
  const bad = bt.nn.dense({ inFeatures: 2, outFeatures: 3, init: () => bt.zeros([3, 2]) });
  assert.throws(() => bad.init(bt.random.key(0)), (e: Error) => e instanceof bt.ShapeError && /\[2, 3\]/.test(e.message));
  assert.throws(() => bt.nn.dense({ inFeatures: 2, outFeatures: 3, init: 'xavier' as never }), (e: Error) => e instanceof bt.ConfigError && /'xavier'/.test(e.message));
});

test.run();
