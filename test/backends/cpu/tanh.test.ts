import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rng } from '../../seeded.js';
import { tanh } from '../../../src/backends/cpu/tanh.js';

// The reference: tanh in 256-bit fixed point with BigInt, exact up to its last bits.
// tanh a = (E − 1) / (E + 1), E = e^{2a} by its Taylor series (all terms positive: no cancellation).
const BITS = 256n;
const ONE = 1n << BITS;

/** x (a double with |x| ≥ 2^-200) as a BigInt in units of 2^-256, exactly. */
function fixed(x: number): bigint {
  let m = Math.abs(x);
  let e = 0;
  while (m !== Math.floor(m)) {
    m *= 2;
    e++;
  }
  const v = (BigInt(m) << BITS) >> BigInt(e);
  return x < 0 ? -v : v;
}

function tanhRef(x: number): bigint {
  const y = 2n * fixed(Math.abs(x));
  let term = ONE;
  let E = ONE;
  for (let n = 1n; term > 0n; n++) {
    term = (term * y) / (n << BITS);
    E += term;
  }
  const r = ((E - ONE) << BITS) / (E + ONE);
  return x < 0 ? -r : r;
}

/** |got − ref| in units of the last place of ref (as a double). */
function ulpErr(got: number, ref: bigint): number {
  const a = ref < 0n ? -ref : ref;
  const exp = a.toString(2).length - 1; // floor(log2 a), in fixed units
  const ulp = 1n << BigInt(Math.max(exp - 52, 0));
  const d = fixed(got) - ref;
  return Number(d < 0n ? -d : d) / Number(ulp);
}

test('tanh: within 1 ulp of a 256-bit reference over [-20, 20] and near the formula switches', () => {
  const r = rng(11);
  const xs: number[] = [];
  for (let i = 0; i < 1500; i++) xs.push(-1.6 + 3.2 * r()); // table + series region
  for (let i = 0; i < 500; i++) xs.push(-20 + 40 * r()); // exponential region and saturation
  for (let i = 0; i < 300; i++) xs.push((r() < 0.5 ? -1 : 1) * 10 ** (-8 + 8.3 * r())); // small
  // where the method changes: the grid midpoints (k + 1/2)/32 and points k/32, 1.5, 19.1
  for (let k = 0; k < 48; k++) for (let i = 0; i < 8; i++) xs.push((k + 0.5) / 32 + (r() - 0.5) * 1e-6, k / 32 + (r() - 0.5) * 1e-9);
  for (const c of [1.5, 19.1]) for (let i = 0; i < 20; i++) xs.push(c * (1 + (r() - 0.5) * 1e-3));
  // next to 0, where the polynomial's sum is as large as the result (|x| in [1/64, 3/64])
  for (let i = 0; i < 400; i++) xs.push((r() < 0.5 ? -1 : 1) * (1 + 2 * r()) / 64);
  let worst = 0;
  let at = 0;
  for (const x of xs) {
    if (Math.abs(x) < 2 ** -60) continue;
    const e = ulpErr(tanh(x), tanhRef(x));
    if (e > worst) [worst, at] = [e, x];
  }
  // the construction keeps it near 1 ulp (the table's T exact, rounding only in the polynomial's
  // sum); Math.tanh itself reaches 2.1 ulp on such points
  assert.ok(worst <= 1, `max error ${worst.toFixed(3)} ulp at x = ${at}`);
});

test('tanh: special values, odd symmetry, tiny arguments returned as they are', () => {
  assert.ok(Object.is(tanh(0), 0));
  assert.ok(Object.is(tanh(-0), -0));
  assert.ok(Number.isNaN(tanh(NaN)));
  assert.is(tanh(Infinity), 1);
  assert.is(tanh(-Infinity), -1);
  assert.is(tanh(19.1), 1);
  assert.is(tanh(-1000), -1);
  for (const x of [5e-324, 1e-300, 3e-9, -2e-9]) assert.is(tanh(x), x);
  const r = rng(12);
  for (let i = 0; i < 200; i++) {
    const x = 25 * (r() - 0.5);
    assert.is(tanh(-x), -tanh(x));
  }
});

test('tanh: monotone across the formula switches (no step where one method hands over)', () => {
  for (const c of [0.015625, 0.046875, 1.484375, 1.5, 19.1]) {
    let x = c - 64 * c * 2 ** -52;
    let prev = tanh(x);
    for (let i = 0; i < 128; i++) {
      x += c * 2 ** -52;
      const y = tanh(x);
      assert.ok(y >= prev, `tanh decreases at x = ${x}`);
      prev = y;
    }
  }
});

test.run();
