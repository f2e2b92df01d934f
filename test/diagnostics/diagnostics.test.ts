/** bt.diagnostics: exact values against ArviZ's estimators, known answers on iid and AR(1) chains, bad inputs. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose, rng } from '../helpers.js';

const D = bt.diagnostics;

function normals(r: () => number, n: number): Float64Array {
  const o = new Float64Array(n);
  for (let i = 0; i < n; i++) o[i] = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return o;
}
/** A stationary AR(1) chain x_t = ρ x_{t−1} + ε_t, started from its stationary law. */
function ar1(r: () => number, n: number, rho: number): Float64Array {
  const e = normals(r, n);
  const o = new Float64Array(n);
  o[0] = e[0]! / Math.sqrt(1 - rho * rho);
  for (let i = 1; i < n; i++) o[i] = rho * o[i - 1]! + e[i]!;
  return o;
}

// 3 chains × 11 draws (odd, so the split drops each middle draw; 0.66 is tied across chains)
const X = [
  [0.12, -0.53, 1.41, 0.88, 0.37, -1.2, 0.05, 0.66, 0.91, -0.24, 0.3],
  [1.02, 0.77, 1.35, 0.21, 0.95, 1.6, 0.48, 1.13, 0.66, 0.29, 0.84],
  [-0.4, -0.9, 0.15, -0.05, 0.55, -0.61, -1.33, 0.02, 0.4, -0.75, 0.1],
];
// 2 chains × 40 draws of an AR(1) with ρ = 0.7 (NumPy default_rng(0), rounded to 3 decimals)
const AR = [[0.126, -0.044, 0.61, 0.532, -0.164, 0.247, 1.477, 1.981, 0.683, -0.787, -1.174, -0.781, -2.872, -2.229, -2.806, -2.697, -2.432, -2.019, -1.001, 0.342, 0.111, 1.444, 0.345, 0.593, 1.319, 1.017, -0.031, -0.944, -1.118, -0.563, -1.403, -1.192, -0.993, -0.154, 0.107, 0.43, -0.353, -0.377, 0.52, 1.858], [-1.259, 0.633, 1.789, 2.033, 1.688, 0.868, 2.065, 3.406, 4.186, 4.245, 3.329, 1.122, 0.781, 1.203, -0.446, 0.083, 0.488, 1.038, -0.458, -0.982, -1.124, -1.957, 0.37, -0.237, 0.163, -0.144, 1.482, 2.358, 2.284, -0.605, -0.371, 0.424, 1.301, 0.293, 2.027, 0.098, -0.593, 0.52, 0.413, 2.292]];

// Reference numbers: ArviZ 0.x's private estimators (_rhat_rank, _rhat on _split_chains, _ess_bulk,
// _ess_tail, _ess_mean, _mcse_mean) transcribed line for line into NumPy/SciPy (rankdata, norm.ppf,
// mstats.mquantiles with alphap = betap = 1) and run on the data above.
const REF = {
  X: { rhat: 1.2149117546026622, splitRhat: 1.2149251040384894, essBulk: 18.989921626848755, essTail: 32.608695652173914, essMean: 18.609225652252423, mcseMean: 0.17066379972133794 },
  AR: { rhat: 1.1380749839642414, splitRhat: 1.1526791295379049, essBulk: 15.177568863093128, essTail: 17.449202158190786, essMean: 13.381085664132227, mcseMean: 0.40322766193466203 },
};

test('rhat, splitRhat, essBulk, essTail, essMean and mcseMean equal ArviZ on small fixed data sets', () => {
  for (const [name, data] of [['X', X], ['AR', AR]] as const) {
    const ref = REF[name];
    assertClose(D.rhat(data), ref.rhat, 1e-12, 0, `${name} rhat`);
    assertClose(D.splitRhat(data), ref.splitRhat, 1e-12, 0, `${name} splitRhat`);
    assertClose(D.essBulk(data), ref.essBulk, 1e-10, 0, `${name} essBulk`);
    assertClose(D.essTail(data), ref.essTail, 1e-10, 0, `${name} essTail`);
    assertClose(D.essMean(data), ref.essMean, 1e-10, 0, `${name} essMean`);
    assertClose(D.mcseMean(data), ref.mcseMean, 1e-10, 0, `${name} mcseMean`);
  }
});

test('autocorrelation (FFT) equals the direct sum Σ (x_i − x̄)(x_{i+t} − x̄) / Σ (x_i − x̄)²', () => {
  for (const x of [X[0]!, Array.from(normals(rng(5), 1000))]) {
    const n = x.length;
    const m = x.reduce((a, b) => a + b, 0) / n;
    const direct = Array.from({ length: n }, (_, t) => {
      let s = 0;
      for (let i = 0; i + t < n; i++) s += (x[i]! - m) * (x[i + t]! - m);
      return s / n;
    });
    assertClose(Array.from(D.autocovariance(x)), direct, 1e-9, 1e-13, 'autocovariance');
    assertClose(Array.from(D.autocorrelation(x)), direct.map((v) => v / direct[0]!), 1e-9, 1e-12, 'autocorrelation');
  }
});

// Tolerances: the estimators' spread over 100 seeds (measured with these sizes): iid bulk ESS
// 3945 ± 153, AR(1) ρ = 0.9 bulk ESS 1067 ± 79, iid R̂ 1.0003 ± 0.0005. We allow 4 sd.
test('iid draws: ESS ≈ n (4 chains × 1000), R̂ < 1.01', () => {
  const r = rng(2024);
  const chains = Array.from({ length: 4 }, () => normals(r, 1000));
  const n = 4000;
  assert.ok(Math.abs(D.essBulk(chains) - n) < 4 * 153, `essBulk ${D.essBulk(chains)}`);
  assert.ok(Math.abs(D.essMean(chains) - n) < 4 * 155, `essMean ${D.essMean(chains)}`);
  assert.ok(Math.abs(D.essTail(chains) - n) < 4 * 173 + 170, `essTail ${D.essTail(chains)}`); // tail ESS of iid draws averages 3830
  assert.ok(D.rhat(chains) < 1.01, `rhat ${D.rhat(chains)}`);
  // MCSE of the mean of iid N(0, 1) draws is 1/√n
  assertClose(D.mcseMean(chains), 1 / Math.sqrt(n), 0.1, 0, 'mcseMean');
});

test('AR(1) chains with ρ = 0.9: ESS ≈ n (1 − ρ)/(1 + ρ)', () => {
  const r = rng(7);
  const rho = 0.9;
  const chains = Array.from({ length: 4 }, () => ar1(r, 5000, rho));
  const expected = (20000 * (1 - rho)) / (1 + rho); // 1052.6
  assert.ok(Math.abs(D.essBulk(chains) - expected) < 4 * 79, `essBulk ${D.essBulk(chains)} vs ${expected}`);
  assert.ok(Math.abs(D.essMean(chains) - expected) < 4 * 79, `essMean ${D.essMean(chains)} vs ${expected}`);
  // lag-1 autocorrelation of each chain ≈ ρ (sd ≈ √((1 − ρ²)/n) ≈ 0.006)
  for (const c of chains) assertClose(D.autocorrelation(c)[1]!, rho, 0, 0.03, 'lag-1 autocorrelation');
});

test('chains with shifted means: R̂ well above 1.01; a chain with a larger scale: the folded (tail) R̂ sees it', () => {
  const r = rng(11);
  const chains = Array.from({ length: 4 }, (_, c) => normals(r, 1000).map((v) => v + (c === 3 ? 1 : 0)));
  assert.ok(D.rhat(chains) > 1.05, `shifted rhat ${D.rhat(chains)}`);
  assert.ok(D.splitRhat(chains) > 1.05, `shifted splitRhat ${D.splitRhat(chains)}`);
  // same means, one chain 3× wider: the bulk R̂ barely moves, the folded one does
  const wide = Array.from({ length: 4 }, (_, c) => normals(r, 1000).map((v) => v * (c === 3 ? 3 : 1)));
  assert.ok(D.splitRhat(wide) < 1.01, `wide splitRhat ${D.splitRhat(wide)}`);
  assert.ok(D.rhat(wide) > 1.05, `wide rank rhat ${D.rhat(wide)}`);
  // one chain that drifts (non-stationary): split-R̂ catches it even with a single chain
  const drift = [normals(r, 1000).map((v, i) => v + i / 250)];
  assert.ok(D.rhat(drift) > 1.1, `drift rhat ${D.rhat(drift)}`);
});

test('summary: one row per parameter of [chains, draws, ...params], equal to the single-parameter functions; Tensor or { data, shape }', () => {
  const r = rng(3);
  const C = 3;
  const N = 200;
  const P = [2, 2];
  const data = new Float64Array(C * N * 4);
  for (let i = 0; i < data.length; i++) data[i] = normals(r, 1)[0]! + (i % 4);
  const rows = D.summary({ data, shape: [C, N, ...P] });
  assert.equal(rows.map((x) => x.name), ['x[0,0]', 'x[0,1]', 'x[1,0]', 'x[1,1]']);
  const t = bt.tensor(data, { shape: [C, N, ...P] });
  assert.equal(D.summary(t), rows);
  t.dispose();
  rows.forEach((row, j) => {
    const chains = Array.from({ length: C }, (_, c) => Array.from({ length: N }, (_, i) => data[(c * N + i) * 4 + j]!));
    const all = chains.flat();
    const mean = all.reduce((a, b) => a + b, 0) / all.length;
    const sd = Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / (all.length - 1));
    assertClose(row.mean, mean, 1e-12, 1e-14, 'mean');
    assertClose(row.sd, sd, 1e-12, 0, 'sd');
    assert.is(row.rhat, D.rhat(chains));
    assert.is(row.essBulk, D.essBulk(chains));
    assert.is(row.essTail, D.essTail(chains));
    assertClose(row.mcseMean, D.mcseMean(chains), 1e-14, 0, 'mcseMean');
  });
  assert.equal(D.summary({ data, shape: [C, N, 4] }, { names: ['a', 'b', 'c', 'd'] }).map((x) => x.name), ['a', 'b', 'c', 'd']);
  assert.ok(D.formatSummary(rows).split('\n')[0]!.includes('r_hat'));
});

test('a Tensor [chains, draws] or [draws] reads like the host arrays', () => {
  const t = bt.tensor(X);
  assert.is(D.rhat(t), D.rhat(X));
  assert.is(D.essBulk(t.slice([0, 0], [1, 11]).reshape([11])), D.essBulk([X[0]!]));
  t.dispose();
});

test('constant draws: ESS counts them as independent (ArviZ), R̂ is NaN', () => {
  const c = [new Float64Array(10).fill(2), new Float64Array(10).fill(2)];
  assert.is(D.essMean(c), 20);
  assert.ok(Number.isNaN(D.splitRhat(c)));
});

test('bad inputs: too few draws, ragged chains, NaN, wrong types and shapes give typed errors', () => {
  assert.throws(() => D.rhat([[1, 2, 3]]), (e: Error) => e instanceof bt.ShapeError && /at least 4 draws/.test(e.message));
  assert.throws(() => D.essBulk([[1, 2, 3, 4, 5], [1, 2, 3, 4]]), (e: Error) => e instanceof bt.ShapeError && /chain 1 has 4/.test(e.message));
  assert.throws(() => D.essTail([[1, 2, NaN, 4, 5]]), (e: Error) => e instanceof bt.NumericalError && /chain 0, draw 2 is NaN/.test(e.message));
  assert.throws(() => D.mcseMean([]), (e: Error) => e instanceof bt.ShapeError && /no draws/.test(e.message));
  assert.throws(() => D.rhat('abc' as never), (e: Error) => e instanceof bt.ConfigError);
  assert.throws(() => D.autocorrelation([1]), (e: Error) => e instanceof bt.ShapeError);
  assert.throws(() => D.autocorrelation([1, Infinity, 2]), (e: Error) => e instanceof bt.NumericalError);
  const t = bt.zeros([2, 3, 4]);
  assert.throws(() => D.rhat(t), (e: Error) => e instanceof bt.ShapeError && /summary/.test(e.message));
  t.dispose();
  assert.throws(() => D.summary({ data: [1, 2, 3], shape: [1, 4] }), (e: Error) => e instanceof bt.ShapeError && /needs 4/.test(e.message));
  assert.throws(() => D.summary({ data: new Float64Array(8), shape: [8] }), (e: Error) => e instanceof bt.ShapeError);
  assert.throws(() => D.summary({ data: new Float64Array(8), shape: [1, 8] }, { names: ['a', 'b'] }), (e: Error) => e instanceof bt.ConfigError);
});

test.run();
