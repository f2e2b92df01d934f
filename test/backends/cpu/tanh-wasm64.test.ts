import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rng } from '../../seeded.js';
import { tanh } from '../../../src/backends/cpu/tanh.js';
import { tanhF64Array, tanhWasm64Available } from '../../../src/backends/cpu/tanh-wasm64.js';

// The Wasm float64 tanh must equal tanh.ts's tanh bit for bit (same operations in the same order):
// random values on both of tanh.ts's paths (|x| < 1.5 and above), the grid points and midpoints, specials,
// lengths around its pair and chunk boundaries, and an in-place call.

function check(x: Float64Array, what: string): void {
  const out = new Float64Array(x.length);
  tanhF64Array(x, out);
  for (let i = 0; i < x.length; i++) {
    const want = tanh(x[i]!);
    if (!Object.is(out[i]!, want)) assert.unreachable(`${what}: element ${i} of ${x.length}: x = ${x[i]}, got ${out[i]}, want ${want}`);
  }
}

test('the Wasm kernel is there (Node has Wasm SIMD)', () => {
  assert.ok(tanhWasm64Available());
});

test('random, small, large and special values, many lengths', () => {
  const r = rng(31);
  const specials = [0, -0, NaN, Infinity, -Infinity, 1.5, -1.5, 1.4999999999999998, -1.4999999999999998, 5e-324, -1e-300, 19.1, 1e300];
  for (const n of [1, 2, 3, 15, 16, 17, 31, 4095, 4096, 4097, 8193, 20000]) {
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const k = r();
      if (k < 0.6) x[i] = (r() - 0.5) * 3.2;
      else if (k < 0.75) x[i] = (r() - 0.5) * 40;
      else if (k < 0.9) x[i] = (r() < 0.5 ? -1 : 1) * 10 ** (-12 * r());
      else x[i] = specials[Math.floor(r() * specials.length)]!;
    }
    check(x, `n = ${n}`);
  }
});

test('the other path: |x| in [1.5, 20], near 1.5 and 19.1, and where 2|x|/ln 2 is near k + 1/2 (the rounding of k)', () => {
  const r = rng(8);
  const xs: number[] = [];
  for (let i = 0; i < 20000; i++) xs.push((r() < 0.5 ? -1 : 1) * (1.5 + 18.5 * r()));
  for (const c of [1.5, 19.1]) for (let i = 0; i < 200; i++) xs.push((r() < 0.5 ? -1 : 1) * c * (1 + (r() - 0.5) * 1e-12));
  for (let k = 4; k <= 56; k++) for (let i = 0; i < 20; i++) xs.push(((k + 0.5) * Math.LN2) / 2 + (r() - 0.5) * 1e-14);
  check(Float64Array.from(xs), 'large');
});

test('grid points k/32 and midpoints (k + 1/2)/32, nudged both ways', () => {
  const xs: number[] = [];
  for (let k = -48; k <= 48; k++) {
    for (const a of [k / 32, (k + 0.5) / 32]) {
      xs.push(a);
      for (const d of [1e-15, 1e-9, 1e-4]) xs.push(a + d, a - d);
    }
  }
  check(Float64Array.from(xs), 'grid');
});

test('in place (out = x)', () => {
  const r = rng(4);
  // half the values out of the kernel's range, redone in JS: they must be read before being overwritten
  const x = Float64Array.from({ length: 5000 }, () => (r() - 0.5) * 4);
  const want = Float64Array.from(x, (v) => tanh(v));
  tanhF64Array(x, x);
  for (let i = 0; i < x.length; i++) assert.ok(Object.is(x[i]!, want[i]!), `element ${i}`);
});

test.run();
