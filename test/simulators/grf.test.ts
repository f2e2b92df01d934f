/**
 * Gaussian random field: the reference's published Fisher (det 967560.53 at 128²) from its own
 * quadrant mode set; the sample power spectrum against P(k) within Monte Carlo error; ∂δ/∂θ
 * against seed-matched central differences.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';

const S = bt.simulators;

test('reference Fisher: F = [[1984.5, −1545.06], [−1545.06, 1690.49]], det 967560.53 at N = 128', () => {
  const f = S.grfFisherReference(128);
  assert.ok(Math.abs(f[0]![0]! - 1984.5) < 1e-9);
  assert.ok(Math.abs(f[0]![1]! + 1545.06379524) < 1e-6, String(f[0]![1]));
  assert.ok(Math.abs(f[1]![1]! - 1690.49264978) < 1e-6, String(f[1]![1]));
  assert.ok(Math.abs(S.det2(f) - 967560.5321330631) < 1e-3, String(S.det2(f)));
  // the field's own Fisher counts all N² − 1 non-zero modes
  assert.ok(Math.abs(S.grfFisher(32)[0]![0]! - (32 * 32 - 1) / 2) < 1e-9);
});

test('sample power spectrum matches P(k) = A k^−B within Monte Carlo error (N = 16, 400 fields)', () => {
  const n = 16, m = 400, A = 1.3, B = 0.7;
  const sim = S.gaussianRandomField(n);
  const d = sim(bt.random.split(bt.random.key(3), m), bt.tensor([A, B])).toArray() as number[][][];
  const k = S.grfWavenumbers(n);
  // per mode: mean over fields of |DFT δ|²/N², E = P(k), sd ≤ √2·P/√m; aggregate as a chi-square-like z
  let worst = 0;
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) {
    if (a === 0 && b === 0) continue;
    let mean = 0;
    for (const f of d) {
      let re = 0, im = 0;
      for (let x = 0; x < n; x++) for (let y = 0; y < n; y++) {
        const ph = (-2 * Math.PI * (a * x + b * y)) / n;
        re += f[x]![y]! * Math.cos(ph); im += f[x]![y]! * Math.sin(ph);
      }
      mean += (re * re + im * im) / (n * n) / m;
    }
    const P = A * k[a * n + b]! ** -B;
    const selfConj = (a === 0 || a === n / 2) && (b === 0 || b === n / 2);
    const z = (mean - P) / (P * (selfConj ? Math.SQRT2 : 1) / Math.sqrt(m));
    worst = Math.max(worst, Math.abs(z));
  }
  // 255 modes (pairs are equal, ~128 independent): max |z| below 4.5 has probability > 0.999
  assert.ok(worst < 4.5, `max |z| = ${worst}`);
});

test('∂δ/∂θ by jvp equals seed-matched central differences', () => {
  const sim = S.gaussianRandomField(8);
  const key = bt.random.key(5);
  const th = [1, 0.5];
  for (let i = 0; i < 2; i++) {
    const t = [0, 0]; t[i] = 1;
    const [, dt] = bt.jvp((x: bt.Tensor) => sim(key, x), [bt.tensor(th)], [bt.tensor(t)]) as unknown as [bt.Tensor, bt.Tensor];
    const h = 1e-5;
    const p = sim(key, bt.tensor(th.map((v, j) => v + (j === i ? h : 0)))).toArray() as number[][];
    const q = sim(key, bt.tensor(th.map((v, j) => v - (j === i ? h : 0)))).toArray() as number[][];
    const g = dt.toArray() as number[][];
    for (let a = 0; a < 8; a++) for (let b = 0; b < 8; b++) {
      const fd = (p[a]![b]! - q[a]![b]!) / (2 * h);
      assert.ok(Math.abs(fd - g[a]![b]!) < 1e-7 * (1 + Math.abs(fd)), `θ${i} (${a},${b}): ${g[a]![b]} vs ${fd}`);
    }
  }
});

test('grfFisher is the covariance of the exact score over simulated fields (N = 8, 2000 fields)', () => {
  const n = 8, m = 2000, A = 1, B = 0.5;
  const d = S.gaussianRandomField(n)(bt.random.split(bt.random.key(11), m), bt.tensor([A, B])).toArray() as number[][][];
  const k = S.grfWavenumbers(n);
  const s: [number, number][] = [];
  for (const f of d) {
    let sA = 0, sB = 0;
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) {
      if (a === 0 && b === 0) continue;
      let re = 0, im = 0;
      for (let x = 0; x < n; x++) for (let y = 0; y < n; y++) {
        const ph = (-2 * Math.PI * (a * x + b * y)) / n;
        re += f[x]![y]! * Math.cos(ph); im += f[x]![y]! * Math.sin(ph);
      }
      const P = A * k[a * n + b]! ** -B;
      // ½ ∂lnP (|Δ|²/(N²P) − 1) summed over the full grid: a Hermitian pair counts as its two real dofs
      const r = 0.5 * ((re * re + im * im) / (n * n * P) - 1);
      sA += r / A;
      sB += -Math.log(k[a * n + b]!) * r;
    }
    s.push([sA, sB]);
  }
  const F = S.grfFisher(n);
  const cov = [[0, 0], [0, 0]];
  for (const [x, y] of s) { cov[0]![0] += x * x / m; cov[0]![1] += x * y / m; cov[1]![1] += y * y / m; }
  // the score has mean 0; sd of a sample second moment ≈ √(2/m)·scale (Gaussian-ish score), 5 sd
  const tol = 5 * Math.sqrt(2 / m);
  assert.ok(Math.abs(cov[0]![0]! / F[0]![0]! - 1) < tol, `F_AA ${cov[0]![0]} vs ${F[0]![0]}`);
  assert.ok(Math.abs(cov[1]![1]! / F[1]![1]! - 1) < tol, `F_BB ${cov[1]![1]} vs ${F[1]![1]}`);
  assert.ok(Math.abs(cov[0]![1]! - F[0]![1]!) < tol * Math.sqrt(F[0]![0]! * F[1]![1]!), `F_AB ${cov[0]![1]} vs ${F[0]![1]}`);
  // the reference's quadrant count is ~4× too small for this field
  assert.ok(cov[0]![0]! > 2 * S.grfFisherReference(n)[0]![0]!);
});

test.run();
