import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rng } from '../../seeded.js';
import { tanh } from '../../../src/backends/cpu/tanh.js';
import { tanhF32Array, tanhWasmAvailable } from '../../../src/backends/cpu/tanh-wasm.js';

// The Wasm float32 tanh must give Math.fround(tanh(x)) for every element, like tanh-f32.ts (all
// 2^32 float32 inputs were checked once when it was written: 0 mismatches): here random and
// special values, lengths around its pair and chunk boundaries, and an in-place call.

const same = (a: number, b: number) => Object.is(a, b) || (a !== a && b !== b);

function check(x: Float32Array, what: string): void {
  const out = new Float32Array(x.length);
  tanhF32Array(x, out);
  for (let i = 0; i < x.length; i++) {
    const want = Math.fround(tanh(x[i]!));
    if (!same(out[i]!, want)) assert.unreachable(`${what}: element ${i} of ${x.length}: x = ${x[i]}, got ${out[i]}, want ${want}`);
  }
}

test('the Wasm kernel is there (Node has Wasm SIMD)', () => {
  assert.ok(tanhWasmAvailable());
});

test('random float32 bit patterns, Gaussian values and specials, many lengths', () => {
  const r = rng(21);
  const u = new Uint32Array(1);
  const f = new Float32Array(u.buffer);
  const specials = [0, -0, NaN, Infinity, -Infinity, 9.5, -9.5, Math.fround(9.5 - 2 ** -20), 2 ** -149, -(2 ** -149), 1e-30, 19.1, 100];
  for (const n of [1, 2, 3, 15, 16, 17, 31, 4095, 4096, 4097, 8193, 20000]) {
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const k = r();
      if (k < 0.3) {
        u[0] = (r() * 2 ** 32) >>> 0;
        x[i] = f[0]!;
      } else if (k < 0.35) x[i] = specials[Math.floor(r() * specials.length)]!;
      else x[i] = (r() - 0.5) * 8 * Math.sqrt(-2 * Math.log(r() + 1e-300));
    }
    check(x, `n = ${n}`);
  }
});

test('grid midpoints (k + 1/2)/32 ± a few float32 ulps, both signs', () => {
  const xs: number[] = [];
  for (let k = -304; k <= 304; k++) {
    const m = Math.fround((k + 0.5) / 32);
    for (let d = -3; d <= 3; d++) xs.push(m + d * Math.abs(m) * 2 ** -23);
  }
  check(Float32Array.from(xs), 'midpoints');
});

test('in place (out = x)', () => {
  const r = rng(3);
  // with values to redo in JS (|x| ≥ 9.5 and NaN): they must be read before being overwritten
  const x = Float32Array.from({ length: 5000 }, (_, i) => (i % 7 === 0 ? (i % 2 ? NaN : 12) : (r() - 0.5) * 12));
  const want = Float32Array.from(x, (v) => Math.fround(tanh(v)));
  tanhF32Array(x, x);
  for (let i = 0; i < x.length; i++) assert.ok(same(x[i]!, want[i]!), `element ${i}`);
});

test.run();
