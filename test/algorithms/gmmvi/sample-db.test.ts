/**
 * bt.gmmvi.SampleDB: the background of a window is the count-weighted mixture of the Gaussians that
 * drew it (host formula), halving keeps rows 0, 2, 4, … and renumbers the Gaussians in
 * first-occurrence order, keepSamples=false replaces, numSamplesWritten counts every add, random
 * subsets are distinct rows with their own target values, the blockwise background equals the
 * one-shot mixture, and bad input is a typed error. The DB bodies run on CPU and WebGPU.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { backendsUnderTest, read, registerAll, ULPS, type BackendCase } from '../../backend-harness.js';
import { assertClose } from '../../helpers.js';
import { hostLogN, hostLogSumExp, randomHostGmm } from './fixtures.js';

const backends = await backendsUnderTest('gmmvi/sample-db');
const g = bt.gmmvi;

const F = (B: BackendCase, v: number[], shape: number[]) => bt.tensor(B.dtype === 'float32' ? Float32Array.from(v) : Float64Array.from(v), { shape, dtype: B.dtype });
const I = (v: number[]) => bt.tensor(Int32Array.from(v), { dtype: 'int32' });

/** Five 2-D Gaussians (the DB's list after two adds: two from the first model, three from the second). */
const gauss = randomHostGmm(5, 2, 7);
/** Sample row i is [i/3 − 1, 1 − i/4] (so rows are identifiable); its target value is −i, its gradient [i, 2i]. */
const row = (i: number) => [i / 3 - 1, 1 - i / 4];

async function batch(B: BackendCase, db: bt.gmmvi.SampleDB, first: number, n: number, comps: number[], mapping: number[]): Promise<void> {
  const ids = Array.from({ length: n }, (_, i) => first + i);
  await db.addSamples(
    F(B, ids.flatMap(row), [n, 2]),
    F(B, comps.flatMap((c) => gauss.mu[c]!), [comps.length, 2]),
    F(B, comps.flatMap((c) => gauss.L[c]!.flat()), [comps.length, 2, 2]),
    F(B, ids.map((i) => -i), [n]),
    F(B, ids.flatMap((i) => [i, 2 * i]), [n, 2]),
    I(mapping),
  );
}

/** log q_bg for rows `ids` drawn by DB Gaussians `from` (host indices into `gauss`). */
function hostBackground(ids: number[], from: number[]): number[] {
  const counts = new Map<number, number>();
  for (const c of from) counts.set(c, (counts.get(c) ?? 0) + 1);
  return ids.map((i) => hostLogSumExp([...counts].map(([c, k]) => Math.log(k / from.length) + hostLogN(row(i), gauss.mu[c]!, gauss.L[c]!))));
}

const tol = (B: BackendCase, want: number[]) => want.map((v) => (B.name === 'cpu' ? 1e-10 * (1 + Math.abs(v)) : ULPS * B.eps * (Math.abs(v) + 10)));
function within(got: number[], want: number[], t: number[], what: string): void {
  assert.is(got.length, want.length, `${what}: length`);
  got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) <= t[i]!, `${what}[${i}]: ${v} vs ${want[i]}`));
}

registerAll(backends, 'getNewestSamples: window of the newest rows, background = count-weighted mixture of the Gaussians that drew it', async (B) => {
  const db = new g.SampleDB(2, false, true, null, B.dtype);
  // first add: Gaussians 0, 1 (DB 0, 1); second add: Gaussians 2, 3, 4 (DB 2, 3, 4; 3 draws nothing)
  await batch(B, db, 0, 6, [0, 1], [0, 0, 1, 1, 1, 0]);
  await batch(B, db, 6, 5, [2, 3, 4], [2, 2, 0, 2, 2]);
  assert.is(db.numSamples, 11);
  assert.is(db.numGaussians, 5);
  assert.is(db.numSamplesWritten, 11);
  const w = await db.getNewestSamples(7);
  const from = [1, 0, 4, 4, 2, 4, 4];
  assert.equal(Array.from(await w.mapping.data()), from, 'global DB indices of the window');
  const ids = [4, 5, 6, 7, 8, 9, 10];
  assert.equal(await read(w.samples), ids.flatMap(row).map((v) => (B.dtype === 'float32' ? Math.fround(v) : v)), 'window rows');
  assert.equal(await read(w.targetLnpdfs), ids.map((i) => -i));
  assert.equal(await read(w.targetGrads), ids.flatMap((i) => [i, 2 * i]));
  const want = hostBackground(ids, from);
  within(await read(w.logPdfs), want, tol(B, want), 'background');
  // more than stored: the whole database
  const all = await db.getNewestSamples(100);
  const wantAll = hostBackground([...Array(11).keys()], [0, 0, 1, 1, 1, 0, 4, 4, 2, 4, 4]);
  within(await read(all.logPdfs), wantAll, tol(B, wantAll), 'background of everything');
  // n = 0 and an empty database: empty tensors of the right shapes
  const none = await db.getNewestSamples(0);
  assert.equal([...none.samples.shape], [0, 2]);
  const empty = await new g.SampleDB(2, false, true, null, B.dtype).getNewestSamples(5);
  assert.equal([empty.logPdfs.size, empty.samples.shape[1], empty.mapping.size, empty.targetLnpdfs.size, empty.targetGrads.shape[1]], [0, 2, 0, 0, 2]);
});

registerAll(backends, 'halving: an add past maxSamples keeps rows 0, 2, 4, … and drops the Gaussians no row uses', async (B) => {
  const db = new g.SampleDB(2, false, true, 12, B.dtype);
  await batch(B, db, 0, 6, [0, 1], [0, 0, 1, 1, 1, 0]);
  await batch(B, db, 6, 5, [2, 3, 4], [2, 2, 0, 2, 2]);
  // 11 + 3 > 12: halve first (rows 0, 2, 4, 6, 8, 10 with DB mapping 0, 1, 1, 4, 2, 4), then append
  await batch(B, db, 11, 3, [0, 1], [1, 0, 1]);
  const kept = [0, 2, 4, 6, 8, 10, 11, 12, 13];
  assert.is(db.numSamples, 9);
  assert.is(db.numSamplesWritten, 14, 'every add counts, halved rows included');
  assert.equal(await read(db.state.targetLnpdfs), kept.map((i) => -i), 'rows kept in order');
  // Gaussians renumbered by first use among the kept rows: old 0, 1, 4, 2 → 0, 1, 2, 3; old 3 is gone; then the new two
  assert.equal(Array.from(await db.state.mapping.data()), [0, 1, 1, 2, 3, 2, 5, 4, 5]);
  const order = [0, 1, 4, 2, 0, 1];
  assert.is(db.numGaussians, 6);
  within(await read(db.state.means), order.flatMap((c) => gauss.mu[c]!), tol(B, order.flatMap((c) => gauss.mu[c]!)), 'Gaussians kept');
  const w = await db.getNewestSamples(9);
  const want = hostBackground(kept, [0, 1, 1, 4, 2, 4, 1, 0, 1]);
  within(await read(w.logPdfs), want, tol(B, want), 'background after halving');
  // only one halving per add: 9 + 10 > 12 halves to 5 rows, then holds 15
  await batch(B, db, 14, 10, [2], new Array<number>(10).fill(0));
  assert.is(db.numSamples, 15);
});

test('keepSamples false: every add replaces the database; numSamplesWritten still counts', async () => {
  const B = { dtype: 'float64' } as BackendCase;
  const db = g.SampleDB.buildFromConfig({ model_initialization: { use_diagonal_covs: false }, use_sample_database: false, max_database_size: 1e7 }, 2);
  await batch(B, db, 0, 6, [0, 1], [0, 0, 1, 1, 1, 0]);
  await batch(B, db, 6, 5, [2, 3, 4], [2, 2, 0, 2, 2]);
  assert.is(db.numSamples, 5);
  assert.is(db.numGaussians, 3);
  assert.is(db.numSamplesWritten, 11);
  assert.equal(Array.from(db.state.mapping.dataSync()), [2, 2, 0, 2, 2], 'mapping not offset');
  assertClose(db.state.invChols, bt.linalg.inv(db.state.chols), 1e-12, 1e-12, 'L⁻¹ stored');
});

test('getRandomSample: min(n, M) distinct rows with their own target values', async () => {
  const B = { dtype: 'float64' } as BackendCase;
  const db = new g.SampleDB(2, false, true);
  await batch(B, db, 0, 6, [0, 1], [0, 0, 1, 1, 1, 0]);
  await batch(B, db, 6, 5, [2, 3, 4], [2, 2, 0, 2, 2]);
  const { samples, targetLnpdfs } = db.getRandomSample(5, bt.random.key(1));
  const lp = Array.from(targetLnpdfs.dataSync());
  assert.is(new Set(lp).size, 5, 'distinct rows');
  assertClose(samples, lp.flatMap((v) => row(-v)), 0, 0, 'samples match their target values');
  assert.is(db.getRandomSample(50, bt.random.key(2)).samples.shape[0], 11);
  assert.is(db.getRandomSample(0, bt.random.key(2)).samples.shape[0], 0);
});

test('evaluateBackground: blockwise = one-shot mixture (any block size); zero weights drop out; diagonal Gaussians', () => {
  for (const diagonal of [false, true]) {
    const h = randomHostGmm(7, 3, 5, { diagonal });
    const s = bt.gmmvi.createGmm({ weights: bt.tensor([0.1, 0.2, 0, 0.3, 0.1, 0.2, 0.1]), means: bt.tensor(h.mu), chols: diagonal ? bt.tensor(h.L.map((L) => L.map((r, i) => r[i]!))) : bt.tensor(h.L) });
    const x = bt.tensor(Array.from({ length: 20 }, (_, i) => [i / 5 - 2, Math.sin(i), 1 - i / 10]));
    const w = bt.tensor([0.1, 0.2, 0, 0.3, 0.1, 0.2, 0.1]);
    const want = bt.gmmvi.logDensity(s, x);
    for (const blockSize of [1, 2, 3, 7, undefined]) {
      assertClose(g.evaluateBackground(w, s.means, s.chols, s.invChols, x, { blockSize }), want, 1e-12, 1e-12, `block ${blockSize ?? 'default'}`);
    }
    // unnormalised weights: the mixture is Σ w_j N_j, not renormalised
    assertClose(g.evaluateBackground(w.mul(2), s.means, s.chols, s.invChols, x), want.add(Math.log(2)), 1e-12, 1e-12, 'scale');
  }
});

test('bad input: ShapeError on a dimension mismatch, DTypeError on a float mapping, ConfigError on a bad config', async () => {
  const db = new g.SampleDB(2, false, true);
  const ok = { x: bt.zeros([3, 2]), mu: bt.zeros([1, 2]), L: bt.eye(2).reshape([1, 2, 2]), lp: bt.zeros([3]), gr: bt.zeros([3, 2]), m: I([0, 0, 0]) };
  const rejects = async (p: Promise<unknown>, check: (e: unknown) => boolean, what: string) => {
    let err: unknown;
    try { await p; } catch (e) { err = e; }
    assert.ok(check(err), `${what}: got ${String(err)}`);
  };
  const isShape = (re: RegExp) => (e: unknown) => e instanceof bt.ShapeError && re.test((e as Error).message);
  await rejects(db.addSamples(bt.zeros([3, 3]), ok.mu, ok.L, ok.lp, ok.gr, ok.m), isShape(/samples must be \[·, 2\].*got \[3, 3\]/), 'samples of the wrong dimension');
  await rejects(db.addSamples(ok.x, ok.mu, bt.ones([1, 2]), ok.lp, ok.gr, ok.m), isShape(/chols must be \[1, 2, 2\]/), 'diagonal factors in a full DB');
  await rejects(db.addSamples(ok.x, ok.mu, ok.L, bt.zeros([4]), ok.gr, ok.m), isShape(/targetLnpdfs must be \[3\]/), 'target values of the wrong length');
  await rejects(db.addSamples(ok.x, ok.mu, ok.L, ok.lp, ok.gr, bt.zeros([3])), (e) => e instanceof bt.DTypeError, 'float mapping');
  assert.is(db.numSamplesWritten, 0, 'nothing written by a rejected add');
  const isConfig = (re: RegExp) => (e: unknown) => e instanceof bt.ConfigError && re.test((e as Error).message);
  assert.throws(() => g.SampleDB.buildFromConfig({ model_initialization: {}, use_sample_database: true, max_database_size: 10 }, 2), isConfig(/use_diagonal_covs is missing/));
  assert.throws(() => g.SampleDB.buildFromConfig({ model_initialization: { use_diagonal_covs: false }, max_database_size: 10 }, 2), isConfig(/use_sample_database is missing/));
  assert.throws(() => new g.SampleDB(2, false, true, 0), isConfig(/maxSamples must be a positive integer/));
  assert.throws(() => new g.SampleDB(0, false, true), isConfig(/dim must be a positive integer/));
  assert.throws(() => g.evaluateBackground(bt.ones([2]), ok.mu, ok.L, ok.L, ok.x), isShape(/weights must be \[1\]/));
});

test.run();
