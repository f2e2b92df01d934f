/**
 * The remembered window background (src/algorithms/gmmvi/background.ts): getNewestSamples reuses
 * the component log densities its state's last window computed. Over a run of appends with
 * windows that move forward, grow backwards, cover the whole database, follow a halving or branch
 * from an older state, its background must equal evaluateBackground over the window's Gaussians
 * with count weights — bit for bit on the CPU (the table holds exactly what a full evaluation
 * computes), to float32 rounding on WebGPU. Sizes reach the jitted and the row-blocked evaluations.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { assertClose, backendsUnderTest, read, registerAll, type BackendCase } from '../../backend-harness.js';
import { setTableBudget, windowPairsComputed } from '../../../src/algorithms/gmmvi/background.js';

const backends = await backendsUnderTest('gmmvi/background');
const g = bt.gmmvi;
const d = 10;

/** The old formula: evaluateBackground over the window's Gaussians, weights = counts / Σ counts. */
async function direct(db: bt.gmmvi.SampleDbState, w: bt.gmmvi.NewestSamples): Promise<bt.Tensor> {
  const map = Array.from(await w.mapping.data());
  const used: number[] = [];
  const counts = new Map<number, number>();
  for (const j of map) {
    if (!counts.has(j)) used.push(j);
    counts.set(j, (counts.get(j) ?? 0) + 1);
  }
  return bt.tidy(() => {
    const idx = bt.tensor(Int32Array.from(used), { dtype: 'int32' });
    const c = bt.tensor(used.map((j) => counts.get(j)!), { dtype: db.samples.dtype });
    return g.evaluateBackground(bt.div(c, bt.sum(c)), bt.take(db.means, idx, 0), bt.take(db.chols, idx, 0), bt.take(db.invChols, idx, 0), w.samples);
  });
}

/** One "iteration": K Gaussians near the previous ones, n samples drawn from a random subset of them. */
function drawBatch(B: BackendCase, key: bt.Tensor, K: number, n: number, shift: number) {
  return bt.tidy(() => {
    const [k1, k2, k3, k4] = [1, 2, 3, 4].map((i) => bt.random.foldIn(key, i));
    const means = bt.add(bt.mul(bt.random.normal(k1!, [K, d], { dtype: B.dtype }), 0.5), shift);
    const a = bt.mul(bt.random.normal(k2!, [K, d, d], { dtype: B.dtype }), 0.3);
    const chols = bt.linalg.cholesky(bt.add(bt.matmul(a, bt.transpose(a, [0, 2, 1])), bt.eye(d, d, B.dtype)));
    // a few components draw most samples, as the component-based selector does
    const mapping = bt.cast(bt.floor(bt.mul(bt.square(bt.random.uniform(k3!, [n], { dtype: B.dtype })), K)), 'int32');
    const samples = bt.add(bt.random.normal(k4!, [n, d], { dtype: B.dtype }), bt.take(means, mapping, 0));
    return { samples, means, chols, lnp: bt.neg(bt.sum(bt.square(samples), { axis: -1 })), grads: bt.neg(samples), mapping };
  });
}

async function add(B: BackendCase, db: bt.gmmvi.SampleDbState, key: bt.Tensor, K: number, n: number, shift: number): Promise<bt.gmmvi.SampleDbState> {
  const b = drawBatch(B, key, K, n, shift);
  const next = await g.addSamples(db, b.samples, b.means, b.chols, b.lnp, b.grads, b.mapping);
  bt.dispose(b);
  return next;
}

async function check(B: BackendCase, db: bt.gmmvi.SampleDbState, n: number, what: string): Promise<void> {
  const w = await g.getNewestSamples(db, n);
  if (w.samples.shape[0] === 0) {
    assert.is(w.logPdfs.size, 0, `${what}: empty database, empty window`);
    return;
  }
  const want = await direct(db, w);
  const got = await read(w.logPdfs);
  if (B.name === 'cpu') assert.equal(got, await read(want), `${what}: bit for bit`);
  else await assertClose(got, want, 1e-5, 1e-5, what);
  want.dispose();
  g.disposeReplaced(w, db);
}

registerAll(backends, 'windows moving forward, growing back, whole, after halving and on a branch: the direct background', async (B) => {
  const key = bt.random.key(31);
  let db = g.createSampleDb(d, false, true, 3000, B.dtype);
  const states: bt.gmmvi.SampleDbState[] = [db];
  for (let it = 0; it < 9; it++) {
    const k = bt.random.foldIn(key, it);
    const K = 12;
    await check(B, db, 1800, `iteration ${it}, reused window`);
    db = await add(B, db, k, K, 300 + 150 * (it % 3), 0.2 * it);
    k.dispose();
    states.push(db);
    await check(B, db, 1800 + 300, `iteration ${it}, window with the fresh samples`);
    if (it === 4) await check(B, db, 4000, 'a window reaching further back than the table');
    if (it === 5) await check(B, db, 1e6, 'the whole database');
  }
  // adds past 3000 rows halved the database (renumbered rows and Gaussians) on the way: no stale table was used
  assert.ok(db.samples.shape[0]! < db.numSamplesWritten, 'the run halved the database');
  // a branch from an older state: the rows after it differ from the newer states' rows
  const old = states[4]!;
  await check(B, old, 1800, 'an older state again');
  const kb = bt.random.key(99);
  const branch = await add(B, old, kb, 12, 600, -3);
  await check(B, branch, 2400, 'a branch from an older state');
  await check(B, states[6]!, 2400, 'the newer state after the branch');
  for (const s of [...states, branch]) g.disposeReplaced(s, []);
  kb.dispose();
  key.dispose();
});

registerAll(backends, 'past the table budget: no table, blocks of rows, the same numbers', async (B) => {
  const key = bt.random.key(8);
  let db = g.createSampleDb(d, false, true, null, B.dtype);
  for (let it = 0; it < 5; it++) db = await add(B, db, bt.random.foldIn(key, it), 10, 400, 0.3 * it);
  const wide = await g.getNewestSamples(db, 1600); // J·w = 50·1600, within the budget: the table
  const old = setTableBudget(1000);
  try {
    const before = windowPairsComputed();
    const narrow = await g.getNewestSamples(db, 1600);
    assert.is(windowPairsComputed(), before, 'no table kept or used past the budget');
    await check(B, db, 1600, 'blockwise, past the budget');
    // blocks of rows and the table give the same numbers (each column's sum over the Gaussians is the same reduction)
    if (B.name === 'cpu') {
      assert.equal(await read(narrow.logPdfs), await read(wide.logPdfs), 'no table vs table: bit for bit');
      const map = Array.from(await wide.mapping.data());
      const used = [...new Set(map)];
      const blocks = bt.tidy(() => {
        const idx = bt.tensor(Int32Array.from(used), { dtype: 'int32' });
        const c = bt.tensor(used.map((j) => map.filter((v) => v === j).length), { dtype: B.dtype });
        return g.evaluateBackground(bt.div(c, bt.sum(c)), bt.take(db.means, idx, 0), bt.take(db.chols, idx, 0), bt.take(db.invChols, idx, 0), wide.samples, { blockSize: 97 });
      });
      assert.equal(await read(blocks), await read(wide.logPdfs), 'blocks of 97 rows vs table: bit for bit');
      blocks.dispose();
    }
    else await assertClose(await read(narrow.logPdfs), await read(wide.logPdfs), 1e-5, 1e-5, 'row blocks vs table');
    g.disposeReplaced(narrow, db);
  } finally {
    setTableBudget(old);
  }
  g.disposeReplaced(wide, db);
  g.disposeReplaced(db, []);
  key.dispose();
});

test('the table is really reused: a window after an append computes only the new pairs, and a restored state (no table) gets the same numbers (CPU)', async () => {
  const B = { name: 'cpu', dtype: 'float64' } as BackendCase;
  const key = bt.random.key(5);
  let db = g.createSampleDb(d, false, true, null, 'float64');
  for (let it = 0; it < 4; it++) db = await add(B, db, bt.random.foldIn(key, it), 8, 500, 0);
  const restored = bt.tree.fromJSON(bt.tree.toJSONSync(db)) as bt.gmmvi.SampleDbState;
  const first = await g.getNewestSamples(db, 1500);
  const next = await add(B, db, bt.random.foldIn(key, 9), 8, 400, 0);
  const before = windowPairsComputed();
  const second = await g.getNewestSamples(next, 1900);
  const gaussiansInWindow = new Set(Array.from(await second.mapping.data())).size;
  // new rows under every Gaussian of the window, old rows under the 8 new Gaussians at most
  assert.ok(windowPairsComputed() - before <= 400 * gaussiansInWindow + 1500 * 8, `computed ${windowPairsComputed() - before} pairs`);
  const again = await g.getNewestSamples(restored, 1500); // computed afresh
  assert.equal(Array.from(again.logPdfs.dataSync()), Array.from(first.logPdfs.dataSync()));
  g.disposeReplaced(first, db);
  g.disposeReplaced(second, next);
  g.disposeReplaced(again, restored);
  for (const s of [db, next, restored]) g.disposeReplaced(s, []);
});

test.run();
