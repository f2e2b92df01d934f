/**
 * jit against eager dispatch on the CPU backend: an 8-D Gaussian log-likelihood at 1-1000 points
 * per call (beside plain JS), an MLP 32-128-128-2 value+grad step at batch 256, and jacfwd of
 * x ↦ tanh(Wx)·x, R^64 → R^64.
 *
 * Times are CPU time of this process (process.cpuUsage) per call, the median of interleaved
 * rounds: on a shared, loaded machine wall time mostly measures the other processes. Each
 * variant runs in every round, so a slow spell hits all of them alike.
 * Run: npx tsx bench/jit.ts [--rounds R] [--json FILE]
 */
import { writeFileSync } from 'node:fs';
import * as bt from '../src/index.js';
import { D, gaussianLogLik, mlpProblem } from './jit-problems.js';

const argv = process.argv.slice(2);
const opt = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const rounds = Number(opt('--rounds') ?? 5);
const jsonOut = opt('--json');

const cpuNow = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
/** CPU µs per call of fn, over at least minMs of wall time. */
const time = (fn: () => void, minMs: number): number => {
  for (let i = 0; i < 3; i++) fn();
  let n = 0;
  const w0 = performance.now();
  const c0 = cpuNow();
  while (performance.now() - w0 < minMs) {
    fn();
    n++;
  }
  return (cpuNow() - c0) / n;
};

const { mu, prec, ll } = gaussianLogLik('float64');
const muH = mu.dataSync();
const pH = prec.dataSync();
const jll = bt.jit(ll);
const plain = (x: Float64Array, n: number, out: Float64Array) => {
  const r = new Float64Array(D);
  for (let p = 0; p < n; p++) {
    let s = 0;
    for (let j = 0; j < D; j++) {
      let a = 0;
      for (let k = 0; k < D; k++) a += (x[p * D + k]! - muH[k]!) * pH[k * D + j]!;
      r[j] = a;
      s += a * a;
    }
    out[p] = -0.5 * s - D * 0.5 * Math.log(2 * Math.PI);
  }
};

const { params, xb, yb, vg } = mlpProblem();
const jvg = bt.jit(vg);

const W = bt.random.normal(bt.random.key(5), [64, 64]).mul(0.1);
const g64 = (x: bt.Tensor) => bt.tanh(bt.matmul(W, x.reshape([64, 1])).reshape([64])).mul(x);
const jac = bt.jacfwd(g64);
const jjac = bt.jit(jac);
const x64 = bt.random.normal(bt.random.key(6), [64]);

const cases: [string, () => void, number][] = [];
const NS = [1, 10, 100, 1000];
for (const n of NS) {
  const xh = new Float64Array(n * D).map((_, i) => Math.sin(i));
  const x = bt.tensor(xh, { shape: [n, D] } as any);
  const out = new Float64Array(n);
  cases.push([`ll${n} eager`, () => bt.dispose(ll(x)), 200]);
  cases.push([`ll${n} jit`, () => bt.dispose(jll(x)), 200]);
  cases.push([`ll${n} plain`, () => plain(xh, n, out), 200]);
}
cases.push(['mlp eager', () => bt.dispose(vg(params, xb, yb)), 1000]);
cases.push(['mlp jit', () => bt.dispose(jvg(params, xb, yb)), 1000]);
cases.push(['jacfwd eager', () => bt.dispose(jac(x64)), 300]);
cases.push(['jacfwd jit', () => bt.dispose(jjac(x64)), 300]);

const samples = new Map<string, number[]>(cases.map(([k]) => [k, []]));
for (let r = 0; r < rounds; r++) for (const [k, fn, ms] of cases) samples.get(k)!.push(time(fn, ms));
const med = (k: string) => {
  const a = samples.get(k)!.slice().sort((x, y) => x - y);
  return a[a.length >> 1]!;
};

console.log(`8-D Gaussian log-likelihood: CPU µs per call (µs per point), median of ${rounds} rounds`);
const result: Record<string, number> = {};
for (const n of NS) {
  const [e, j, p] = ['eager', 'jit', 'plain'].map((v) => med(`ll${n} ${v}`));
  Object.assign(result, { [`ll${n}_eager_us`]: e, [`ll${n}_jit_us`]: j, [`ll${n}_plain_us`]: p });
  console.log(`n=${n}\teager ${e!.toFixed(1)} (${(e! / n).toFixed(3)})\tjit ${j!.toFixed(2)} (${(j! / n).toFixed(3)})\tplain JS ${p!.toFixed(2)} (${(p! / n).toFixed(3)})\tjit/plain ${(j! / p!).toFixed(2)}`);
}
const [me, mj] = [med('mlp eager'), med('mlp jit')];
Object.assign(result, { mlp_eager_steps_per_s: 1e6 / me, mlp_jit_steps_per_s: 1e6 / mj });
console.log(`MLP 32-128-128-2 value+grad batch 256: eager ${(1e6 / me).toFixed(0)} steps/s, jit ${(1e6 / mj).toFixed(0)} steps/s (CPU time)`);
const [je, jj] = [med('jacfwd eager'), med('jacfwd jit')];
Object.assign(result, { jacfwd_eager_per_s: 1e6 / je, jacfwd_jit_per_s: 1e6 / jj });
console.log(`jacfwd R^64→R^64: eager ${(1e6 / je).toFixed(0)} Jacobians/s, jit ${(1e6 / jj).toFixed(0)} Jacobians/s (CPU time)`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ date: new Date().toISOString(), timer: 'process CPU time', rounds, ...result }, null, 2) + '\n');
