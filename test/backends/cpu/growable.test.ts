/**
 * Amortised appends on the CPU backend (src/backends/cpu/growable.ts): a chain of
 * concat([all, new]) writes into storage with room to spare. Checked: every result equals the plain
 * concatenation; earlier results are never changed by later appends, by a branch from an older
 * result, or by reuse of freed buffers; the chain really shares storage (so the test fails if the
 * in-place route is off); freed storage is not pooled; bt.memory() returns to where it was.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { isAppendStorage } from '../../../src/backends/cpu/growable.js';

const storage = (t: bt.Tensor): Float64Array | Float32Array | Int32Array => {
  const c = t.concrete() as unknown as { _handle: unknown; _backend: { peek(h: unknown): Float64Array } };
  return c._backend.peek(c._handle);
};

/** rows [n, d] whose values encode (tag, row, column), so any misplaced write shows */
function rows(tag: number, n: number, d: number, dtype: 'float64' | 'float32' | 'int32' = 'float64'): bt.Tensor {
  const C = dtype === 'float64' ? Float64Array : dtype === 'float32' ? Float32Array : Int32Array;
  const a = new C(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) a[i * d + j] = tag * 1000 + (i % 97) * 7 + j;
  return bt.tensor(a, { shape: [n, d], dtype });
}

function expected(parts: bt.Tensor[]): number[] {
  return parts.flatMap((p) => Array.from(p.dataSync()));
}

test('a chain of appends equals the plain concatenation, shares storage, and never changes an earlier result', () => {
  const d = 31, n = 2100; // one GMMVI iteration's new samples at K = 21 in the breast-cancer problem
  const parts = [rows(0, 3 * n, d)];
  const snapshots: { t: bt.Tensor; want: number[] }[] = [];
  let all = parts[0]!;
  for (let step = 1; step <= 12; step++) {
    const next = rows(step, n, d);
    parts.push(next);
    all = bt.concat([all, next]);
    snapshots.push({ t: all, want: expected(parts) });
  }
  for (const { t, want } of snapshots) assert.equal(Array.from(t.dataSync()), want);
  const last = storage(snapshots[snapshots.length - 1]!.t), prev = storage(snapshots[snapshots.length - 2]!.t);
  assert.ok(isAppendStorage(last), 'the chain is append storage');
  assert.is(last.buffer, prev.buffer, 'consecutive results share storage (appended in place)');
  for (const p of parts) p.dispose();
  for (const { t } of snapshots) t.dispose();
});

test('a branch from an older result copies, leaving the newer one intact', () => {
  const d = 16;
  const a0 = rows(0, 20000, d), x1 = rows(1, 500, d), x2 = rows(2, 500, d), y = rows(3, 700, d), z = rows(4, 300, d);
  const s1 = bt.concat([a0, x1]); // plain (pooled) result
  const s2 = bt.concat([s1, x2]); // starts the chain
  const s3 = bt.concat([s2, z]); // in place after s2
  const branch = bt.concat([s2, y]); // s2 no longer ends the storage: must copy
  const branch2 = bt.concat([s1, y]);
  assert.equal(Array.from(s3.dataSync()), expected([a0, x1, x2, z]));
  assert.equal(Array.from(branch.dataSync()), expected([a0, x1, x2, y]));
  assert.equal(Array.from(branch2.dataSync()), expected([a0, x1, y]));
  assert.equal(Array.from(s2.dataSync()), expected([a0, x1, x2]));
  assert.is.not(storage(branch).buffer, storage(s3).buffer);
  // the branch continues as a chain of its own
  const b2 = bt.concat([branch, z]);
  assert.equal(Array.from(b2.dataSync()), expected([a0, x1, x2, y, z]));
  assert.equal(Array.from(s3.dataSync()), expected([a0, x1, x2, z]));
  bt.dispose([a0, x1, x2, y, z, s1, s2, s3, branch, branch2, b2]);
});

test('freeing the newest result while older ones live: its storage is not pooled and reused', () => {
  const d = 8;
  const a = rows(0, 40000, d), x = rows(1, 4000, d);
  const s1 = bt.concat([a, x]), s2 = bt.concat([s1, x]), s3 = bt.concat([s2, x]);
  const want2 = expected([a, x, x]);
  s3.dispose();
  // same-size allocations that would take a pooled buffer of s3's length, and write to it
  const junk = [1, 2, 3].map(() => bt.add(bt.zeros(s3.shape), 5));
  assert.equal(Array.from(s2.dataSync()), want2);
  bt.dispose([...junk, a, x, s1, s2]);
});

test('other dtypes, leading unit axes and axis > 0 with outer size 1; small and non-contiguous concats stay plain', () => {
  for (const dtype of ['float32', 'int32'] as const) {
    const a = rows(0, 30000, 4, dtype), x = rows(1, 1000, 4, dtype);
    const s1 = bt.concat([a, x]), s2 = bt.concat([s1, x, x]), s3 = bt.concat([s2, x]);
    assert.equal(Array.from(s3.dataSync()), expected([a, x, x, x, x]), dtype);
    assert.ok(isAppendStorage(storage(s3)), dtype);
    bt.dispose([a, x, s1, s2, s3]);
  }
  const a = rows(0, 30000, 4).reshape([1, 30000, 4]), x = rows(1, 1000, 4).reshape([1, 1000, 4]);
  const s1 = bt.concat([a, x], 1), s2 = bt.concat([s1, x], 1), s3 = bt.concat([s2, x], 1);
  assert.equal(Array.from(s3.dataSync()), expected([a, x, x, x]));
  assert.ok(isAppendStorage(storage(s3)), 'axis 1 with a leading 1');
  // axis 1 of a [2, n] array interleaves: the plain path, still right
  const p = rows(2, 2, 40000), q = rows(3, 2, 1000);
  const c1 = bt.concat([p, q], 1), c2 = bt.concat([c1, q], 1);
  assert.not.ok(isAppendStorage(storage(c2)));
  const pv = p.dataSync(), qv = q.dataSync();
  const want: number[] = [];
  for (let i = 0; i < 2; i++) want.push(...pv.subarray(i * 40000, (i + 1) * 40000), ...qv.subarray(i * 1000, (i + 1) * 1000), ...qv.subarray(i * 1000, (i + 1) * 1000));
  assert.equal(Array.from(c2.dataSync()), want);
  const small1 = bt.concat([rows(4, 10, 3), rows(5, 10, 3)]), small2 = bt.concat([small1, rows(6, 10, 3)]);
  assert.not.ok(isAppendStorage(storage(small2)), 'below the size threshold');
  bt.dispose([a, x, s1, s2, s3, p, q, c1, c2, small1, small2]);
});

test('bt.memory() returns to its level after a chain is freed, and gradients through appended results are plain', () => {
  const before = bt.memory().numBuffers;
  const a = rows(0, 20000, 4);
  let all = a;
  const held: bt.Tensor[] = [a];
  for (let i = 0; i < 5; i++) {
    const x = rows(i + 1, 2000, 4);
    held.push(x);
    const next = bt.concat([all, x]);
    if (all !== a) all.dispose();
    all = next;
  }
  const g = bt.grad((t: bt.Tensor) => bt.sum(bt.mul(bt.concat([all, t]), 2)))(held[1]!);
  assert.equal(Array.from(g.dataSync()).every((v) => v === 2), true);
  bt.dispose([g, all, ...held]);
  assert.is(bt.memory().numBuffers, before);
});

test.run();
