/**
 * The float64 exp in Wasm SIMD (src/backends/cpu/exp-wasm64.ts) returns Math.exp's bits: on a
 * sweep of every branch of fdlibm's exp (k = 0, k = ±1, general k, tiny |x|, the redo range from
 * 708, over/underflow, specials), on inputs a few ulps either side of each branch threshold, in
 * place, at odd lengths and across the driver's chunks; and bt.exp on float64 tensors takes it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { expF64Array, expWasm64Available } from '../../../src/backends/cpu/exp-wasm64.js';
import { rng } from '../../seeded.js';

function firstMismatch(x: Float64Array, out: Float64Array): number {
  for (let i = 0; i < x.length; i++) if (!Object.is(out[i], Math.exp(x[i]!))) return i;
  return -1;
}

/** doubles a few ulps either side of v (and their negations) */
function around(v: number, ulps = 4): number[] {
  const f = new Float64Array(1), u = new BigInt64Array(f.buffer);
  f[0] = Math.abs(v);
  const out: number[] = [];
  for (let k = -ulps; k <= ulps; k++) {
    const g = new Float64Array(1), w = new BigInt64Array(g.buffer);
    w[0] = u[0]! + BigInt(k);
    out.push(g[0]!, -g[0]!);
  }
  return out;
}
const fromHighWord = (hi: number) => {
  const f = new Float64Array(1);
  new Uint32Array(f.buffer)[1] = hi;
  return f[0]!;
};

test('the Wasm kernel runs here and equals Math.exp on a sweep of every branch', () => {
  assert.ok(expWasm64Available(), 'Wasm SIMD is available in this Node');
  const r = rng(11);
  const n = 300_001; // odd, several chunks
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % 7;
    x[i] = k === 0 ? (r() - 0.5) * 1500 : k === 1 ? (r() - 0.5) * 0.7 : k === 2 ? (r() - 0.5) * 2.2 : k === 3 ? (r() - 0.5) * 1e-8 : k === 4 ? -r() * 40 : k === 5 ? (r() - 0.5) * 1420 : (r() - 0.5) * 1e-300;
  }
  const out = new Float64Array(n);
  expF64Array(x, out);
  const bad = firstMismatch(x, out);
  assert.is(bad, -1, bad >= 0 ? `x = ${x[bad]}: ${out[bad]} vs Math.exp ${Math.exp(x[bad]!)}` : '');
});

test('thresholds, specials and extremes: a few ulps either side of each, in place', () => {
  const points = [
    0, -0, NaN, Infinity, -Infinity, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE,
    ...around(fromHighWord(0x3fd62e43)), ...around(0.5 * Math.LN2), ...around(fromHighWord(0x3ff0a2b2)), ...around(1.5 * Math.LN2),
    ...around(fromHighWord(0x3e300000)), ...around(708), ...around(7.09782712893383973096e+02), ...around(7.45133219101941108420e+02),
    ...around(fromHighWord(0x40862e42)), ...around(Math.LN2), ...around(1), ...around(-708.39), ...around(709.43),
  ];
  const x = Float64Array.from(points);
  const copy = x.slice();
  expF64Array(x, x);
  for (let i = 0; i < copy.length; i++) assert.ok(Object.is(x[i], Math.exp(copy[i]!)), `x = ${copy[i]}: ${x[i]} vs ${Math.exp(copy[i]!)}`);
});

test('short arrays (the JS loop) and bt.exp on float64 tensors give Math.exp; float32 unchanged', () => {
  for (const len of [1, 3, 15, 16, 17]) {
    const x = Float64Array.from({ length: len }, (_, i) => i * 0.37 - 2);
    const out = new Float64Array(len);
    expF64Array(x, out);
    assert.is(firstMismatch(x, out), -1, `length ${len}`);
  }
  const v = Array.from({ length: 5000 }, (_, i) => Math.sin(i) * 30);
  const t = bt.tensor(v, { dtype: 'float64' });
  const e = bt.exp(t);
  assert.equal(Array.from(e.dataSync()), v.map(Math.exp));
  const t32 = bt.tensor(v, { dtype: 'float32' });
  const e32 = bt.exp(t32);
  assert.equal(Array.from(e32.dataSync()), Array.from(Float32Array.from(v)).map((z) => Math.fround(Math.exp(z))));
  bt.dispose([t, e, t32, e32]);
});

test.run();
