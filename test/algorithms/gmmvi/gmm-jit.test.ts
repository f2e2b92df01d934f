/**
 * Large GMM evaluations run jitted (gmm.ts: K·N·d ≥ 2¹⁶), small ones eagerly. Rows are
 * independent, so the jitted result over N rows must equal, bit for bit, the eager results over
 * chunks of those rows (each chunk below the threshold), and the textbook formula to float64
 * rounding; repeated calls with changing shapes keep the live tensors flat.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { gmmState, hostLogN, hostLogQ, randomHostGmm } from './fixtures.js';

const g = bt.gmmvi;
const K = 8, D = 10, N = 1000, CHUNK = 100; // 8·1000·10 = 80000 ≥ 65536 > 8·100·10

function points(n: number, seed: number): bt.Tensor {
  return bt.mul(bt.random.normal(bt.random.key(seed), [n, D]), 3);
}

const chunked = (x: bt.Tensor, f: (part: bt.Tensor) => bt.Tensor, axis: number): bt.Tensor => {
  const parts: bt.Tensor[] = [];
  for (let s = 0; s < x.shape[0]!; s += CHUNK) parts.push(f(bt.slice(x, [s, 0], [Math.min(CHUNK, x.shape[0]! - s), D])));
  return bt.concat(parts, axis);
};

const same = (got: bt.Tensor, want: bt.Tensor, what: string) => {
  const a = got.dataSync(), b = want.dataSync();
  assert.is(a.length, b.length, `${what}: length`);
  let bad = -1;
  for (let i = 0; i < a.length && bad < 0; i++) if (!Object.is(a[i], b[i])) bad = i;
  assert.is(bad, -1, `${what}: entry ${bad} differs: ${a[bad]} vs ${b[bad]}`);
};

for (const diagonal of [false, true]) {
  const kind = diagonal ? 'diagonal' : 'full';
  test(`GMM (${kind}): jitted large evaluations = eager chunks bit for bit, and the textbook formula`, () => {
    const h = randomHostGmm(K, D, diagonal ? 21 : 22, { diagonal });
    const s = gmmState(h);
    const x = points(N, 3);
    bt.tidy(() => {
      same(g.componentLogDensities(s, x), chunked(x, (p) => g.componentLogDensities(s, p), 1), 'componentLogDensities');
      const big = g.logDensityAndGrad(s, x);
      same(big.logDensities, chunked(x, (p) => g.logDensityAndGrad(s, p).logDensities, 0), 'logDensities');
      same(big.grads, chunked(x, (p) => g.logDensityAndGrad(s, p).grads, 0), 'grads');
      same(big.componentLogDensities, chunked(x, (p) => g.logDensityAndGrad(s, p).componentLogDensities, 1), 'logDensityAndGrad components');
      const xf = x.dataSync(), cf = g.componentLogDensities(s, x).dataSync();
      const xs = Array.from({ length: N }, (_, n) => Array.from(xf.subarray(n * D, (n + 1) * D), Number));
      const comp = Array.from({ length: K }, (_, k) => Array.from(cf.subarray(k * N, (k + 1) * N), Number));
      const ld = big.logDensities.dataSync();
      for (const n of [0, 1, 499, 999]) {
        assert.ok(Math.abs(ld[n]! - hostLogQ(h, xs[n]!)) <= 1e-10 * (1 + Math.abs(ld[n]!)), `log q row ${n}`);
        for (let k = 0; k < K; k++) {
          const want = hostLogN(xs[n]!, h.mu[k]!, h.L[k]!);
          assert.ok(Math.abs(comp[k]![n]! - want) <= 1e-10 * (1 + Math.abs(want)), `component ${k} row ${n}: ${comp[k]![n]} vs ${want}`);
        }
      }
    });
    x.dispose();
  });
}

test('GMM: evaluations past 2M residual numbers go in sample blocks (the mixture summed per block), with the same numbers as small chunks', () => {
  const k = 64, d = 32, n = 2500; // rows per block: 2²¹ / (64·32) = 1024, so blocks of 1024, 1024, 452
  const h = randomHostGmm(k, d, 25);
  const s = gmmState(h);
  const x = bt.mul(bt.random.normal(bt.random.key(9), [n, d]), 3);
  bt.tidy(() => {
    const chunks = <T>(f: (p: bt.Tensor) => T): T[] => Array.from({ length: 25 }, (_, i) => f(bt.slice(x, [100 * i, 0], [100, d])));
    same(g.componentLogDensities(s, x), bt.concat(chunks((p) => g.componentLogDensities(s, p)), 1), 'componentLogDensities');
    const big = g.logDensityAndGrad(s, x);
    const small = chunks((p) => g.logDensityAndGrad(s, p));
    same(big.grads, bt.concat(small.map((r) => r.grads), 0), 'grads');
    same(big.logDensities, bt.concat(small.map((r) => r.logDensities), 0), 'logDensities');
    // the mixture alone, summed block by block, and with its component table
    same(g.logDensity(s, x), bt.concat(chunks((p) => g.logDensity(s, p)), 0), 'logDensity');
    const [lq, comp] = g.logDensitiesAlsoIndividual(s, x);
    same(lq, big.logDensities, 'logDensitiesAlsoIndividual = logDensityAndGrad');
    same(comp, big.componentLogDensities, 'logDensitiesAlsoIndividual components');
    const xs = x.dataSync(), ld = big.logDensities.dataSync();
    for (const i of [0, 1023, 1024, 2499]) {
      const want = hostLogQ(h, Array.from(xs.subarray(i * d, (i + 1) * d), Number));
      assert.ok(Math.abs(ld[i]! - want) <= 1e-10 * (1 + Math.abs(want)), `log q row ${i}: ${ld[i]} vs ${want}`);
    }
  });
  x.dispose();
});

test('GMM: jitted evaluations with shapes changing every call keep live tensors flat', () => {
  const s = gmmState(randomHostGmm(K, D, 23));
  const run = (i: number) => bt.tidy(() => {
    const x = points(900 + 7 * (i % 12), 40 + i);
    g.componentLogDensities(s, x).dataSync();
    g.logDensityAndGrad(s, x).grads.dataSync();
  });
  for (let i = 0; i < 12; i++) run(i);
  const before = bt.memory().numTensors;
  for (let i = 12; i < 36; i++) run(i);
  assert.is(bt.memory().numTensors, before, 'live tensors after 24 more calls');
});

test('GMM: a state that is not a plain object (a class instance) is read afresh by every jitted call', () => {
  // jitStep takes a non-plain object as one opaque leaf keyed by identity: its tensors would be baked
  // into the program, and a call after replacing them would replay the old values.
  const s = gmmState(randomHostGmm(K, D, 25));
  class State implements bt.gmmvi.GmmState {
    constructor(public logWeights: bt.Tensor, public means: bt.Tensor, public chols: bt.Tensor, public invChols: bt.Tensor, public diagonal: boolean) {}
  }
  const st = new State(s.logWeights, s.means, s.chols, s.invChols, s.diagonal);
  const x = points(N, 61);
  bt.tidy(() => {
    const sel = { samples: x, mapping: bt.tensor(Int32Array.from({ length: N }, (_, i) => i % K), { dtype: 'int32' }), logPdfs: g.logDensity(s, x), targetGrads: bt.zeros([N, D]) };
    const opts = { useSelfNormalizedImportanceWeights: true, onlyUseOwnSamples: false };
    g.componentLogDensities(st, x).dataSync();
    g.logDensityAndGrad(st, x).grads.dataSync();
    const before = g.steinEstimate(st, sel, opts).expectedGradientNeg.dataSync();
    st.means = bt.add(s.means, 1);
    const moved = { ...s, means: st.means };
    same(g.componentLogDensities(st, x), g.componentLogDensities(moved, x), 'componentLogDensities after the means moved');
    same(g.logDensityAndGrad(st, x).grads, g.logDensityAndGrad(moved, x).grads, 'grads after the means moved');
    const after = g.steinEstimate(st, sel, opts), want = g.steinEstimate(moved, sel, opts);
    assert.not.equal(Array.from(before), Array.from(want.expectedGradientNeg.dataSync()), 'the means moved the estimate');
    same(after.expectedGradientNeg, want.expectedGradientNeg, 'Stein gradient after the means moved');
    same(after.expectedHessianNeg, want.expectedHessianNeg, 'Stein Hessian after the means moved');
  });
  x.dispose();
});

test('GMM: disposeGmmPrograms releases the buffers the jitted programs hold', () => {
  const s = gmmState(randomHostGmm(K, D, 24));
  g.disposeGmmPrograms();
  const x = points(N, 60);
  const before = bt.memory().numBytes;
  bt.tidy(() => void g.componentLogDensities(s, x).dataSync());
  const held = bt.memory().numBytes - before;
  assert.ok(held >= K * N * D * 8, `a program holds its [K, N, d] buffer (${held} bytes)`);
  g.disposeGmmPrograms();
  assert.is(bt.memory().numBytes, before, 'bytes after dispose');
  x.dispose();
});

test.run();
