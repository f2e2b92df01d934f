import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rng } from '../../seeded.js';
import { tanh } from '../../../src/backends/cpu/tanh.js';
import { tanhF32 } from '../../../src/backends/cpu/tanh-f32.js';

// tanhF32 must equal Math.fround(tanh(x)) for every float32 x: the float32 tanh kernel and
// bt.jit's float32 loops use it, and their results must not depend on which routine ran. This
// checks whole binades (every float32 in them) where the estimate's rounding test is tightest,
// and random float32s everywhere else. (All 2^32 inputs were checked when the routine was written,
// 0 mismatches, ~70 s: `mismatches(hi)` for every hi in 0..65535.)

/** tanh-f32.ts's grid: k/32 for |k| ≤ KMAX. */
const KMAX = 304;

const bits = new Uint32Array(1 << 16);
const f32 = new Float32Array(bits.buffer);

/** Mismatches among the 65536 float32s whose upper 16 bits are `hi`. */
function mismatches(hi: number): number[] {
  for (let i = 0; i < 65536; i++) bits[i] = ((hi << 16) | i) >>> 0;
  const bad: number[] = [];
  for (let i = 0; i < 65536; i++) {
    const x = f32[i]!;
    const want = Math.fround(tanh(x));
    const got = tanhF32(x);
    if (!Object.is(got, want) && !(got !== got && want !== want)) bad.push(x);
  }
  return bad;
}

test('tanhF32 = fround(tanh) on every float32 of whole binades: [2^-7, 2^-5) (the k = 0/1 grid points), [0.5, 1), [8, 16) (saturation), ±', () => {
  // upper 16 bits of float32 0x3C00 = 2^-7, 0x3D00 = 2^-5, 0x3F00 = 0.5, 0x3F80 = 1, 0x4100 = 8, 0x4180 = 16
  const ranges: [number, number][] = [[0x3c00, 0x3d00], [0x3f00, 0x3f80], [0x4100, 0x4180]];
  for (const [lo, hi] of ranges) {
    for (let h = lo; h < hi; h++) {
      for (const sign of [0, 0x8000]) {
        const bad = mismatches(h | sign);
        assert.is(bad.length, 0, `float32s with upper bits 0x${(h | sign).toString(16)}: ${bad.slice(0, 5).join(', ')}`);
      }
    }
  }
});

test('tanhF32 = fround(tanh) on random float32s, special values and the grid midpoints', () => {
  const r = rng(5);
  const xs: number[] = [0, -0, NaN, Infinity, -Infinity, 9.5, -9.5, Math.fround(9.5 - 2 ** -20), 2 ** -149, -(2 ** -149), 2 ** -126];
  const u = new Uint32Array(1);
  const f = new Float32Array(u.buffer);
  for (let i = 0; i < 400000; i++) {
    u[0] = (r() * 2 ** 32) >>> 0;
    xs.push(f[0]!);
  }
  for (let i = 0; i < 200000; i++) xs.push(Math.fround((r() - 0.5) * 24)); // the table's range
  for (let k = -KMAX; k <= KMAX; k++) for (const d of [-2, -1, 0, 1, 2]) xs.push(Math.fround((k + 0.5) / 32) + d * 2 ** -24);
  let bad = 0;
  let first = NaN;
  for (const x0 of xs) {
    const x = Math.fround(x0);
    const want = Math.fround(tanh(x));
    const got = tanhF32(x);
    if (!Object.is(got, want) && !(got !== got && want !== want)) {
      if (bad++ === 0) first = x;
    }
  }
  assert.is(bad, 0, `first mismatch at ${first}`);
});

test.run();
