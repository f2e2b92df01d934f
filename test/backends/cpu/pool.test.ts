/**
 * The CPU buffer pool (src/backends/cpu/pool.ts): large requests share size classes (four per
 * octave), so a freed buffer serves the next request of a nearby length as a zeroed view; views
 * of one class buffer never serve two live arrays; small and foreign arrays keep exact lengths.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { allocPooled, recycle, sizeClass } from '../../../src/backends/cpu/pool.js';

test('size classes: exact below 4096, then quarter-octave steps with at most 25% slack', () => {
  assert.is(sizeClass(100), 100);
  assert.is(sizeClass(4095), 4095);
  assert.is(sizeClass(4096), 4096);
  assert.is(sizeClass(4097), 5120);
  assert.is(sizeClass(5_400_000), 6_291_456); // step 2^20
  for (const n of [4096, 5000, 65537, 1e6 + 3, 5_400_000]) {
    const c = sizeClass(n);
    assert.ok(c >= n && c <= 1.25 * n, `${n} → ${c}`);
    assert.is(sizeClass(c), c, 'a class is its own class');
  }
});

test('a freed class buffer serves the next nearby request, zeroed; live views never share a buffer', () => {
  const a = allocPooled('float64', 100_000) as Float64Array;
  assert.is(a.length, 100_000);
  assert.ok(a.buffer.byteLength >= 100_000 * 8);
  a.fill(7);
  recycle(a);
  const b = allocPooled('float64', 99_000) as Float64Array; // same class
  assert.is(b.buffer, a.buffer, 'the warm buffer is reused');
  assert.is(b.length, 99_000);
  assert.ok(b.every((v) => v === 0), 'zeroed like a new array');
  const c = allocPooled('float64', 99_000) as Float64Array; // the pool is empty for this class now
  assert.is.not(c.buffer, b.buffer, 'two live arrays never share a buffer');
  b.fill(1);
  assert.ok(c.every((v) => v === 0));
  recycle(b);
  recycle(c);
  const f32 = allocPooled('float32', 99_000);
  assert.ok(f32 instanceof Float32Array, 'dtype is part of the key');
  recycle(f32);
});

test('foreign views are not pooled; exact arrays come back for their own length', () => {
  const big = new Float64Array(200_000);
  const foreign = big.subarray(0, 100_000);
  recycle(foreign);
  const d = allocPooled('float64', 100_000);
  assert.is.not(d.buffer, big.buffer, 'a view into a caller-owned buffer is never handed out');
  const exact = new Float64Array(3000); // below the class threshold: exact
  recycle(exact);
  assert.is(allocPooled('float64', 3000), exact);
  recycle(d);
});

test.run();
