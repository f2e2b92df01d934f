/**
 * jit against eager dispatch on the CPU backend: an 8-D Gaussian log-likelihood at 1-1000 points
 * per call (beside plain JS), and an MLP 32-128-128-2 value+grad step at batch 256.
 * Run: npx tsx bench/jit.ts
 */
import * as bt from '../src/index.js';

const time = (fn: () => void, minMs = 400): number => {
  for (let i = 0; i < 5; i++) fn();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs) {
    fn();
    n++;
  }
  return ((performance.now() - t0) * 1000) / n; // µs per call
};

const D = 8;
const mu = bt.tensor(Array.from({ length: D }, (_, i) => 0.1 * i));
const prec = bt.tensor(Array.from({ length: D }, (_, i) => Array.from({ length: D }, (_, j) => (i === j ? 1.5 : i > j ? 0.1 : 0))));
const muH = mu.dataSync();
const pH = prec.dataSync();
const ll = (x: bt.Tensor) => {
  const r = bt.matmul(x.sub(mu), prec);
  return bt.sum(r.mul(r), { axis: 1 }).mul(-0.5).sub(D * 0.5 * Math.log(2 * Math.PI));
};
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
console.log('8-D Gaussian log-likelihood, µs per call (µs per point)');
for (const n of [1, 10, 100, 1000]) {
  const xh = new Float64Array(n * D).map((_, i) => Math.sin(i));
  const x = bt.tensor(xh, { shape: [n, D] } as any);
  const out = new Float64Array(n);
  const e = time(() => bt.dispose(ll(x)));
  const j = time(() => bt.dispose(jll(x)));
  const p = time(() => plain(xh, n, out));
  console.log(`n=${n}\teager ${e.toFixed(1)} (${(e / n).toFixed(3)})\tjit ${j.toFixed(1)} (${(j / n).toFixed(3)})\tplain JS ${p.toFixed(2)} (${(p / n).toFixed(3)})`);
}

const [k1, k2, k3, k4] = [1, 2, 3, 4].map((i) => bt.random.key(i));
const params = {
  w1: bt.random.normal(k1!, [32, 128]).mul(0.1), b1: bt.zeros([128]),
  w2: bt.random.normal(k2!, [128, 128]).mul(0.1), b2: bt.zeros([128]),
  w3: bt.random.normal(k3!, [128, 2]).mul(0.1), b3: bt.zeros([2]),
};
const xb = bt.random.normal(k4!, [256, 32]);
const yb = bt.tanh(xb.slice([0, 0], [256, 2]));
type P = typeof params;
const loss = (p: P, x: bt.Tensor, y: bt.Tensor) => {
  const h1 = bt.tanh(bt.matmul(x, p.w1).add(p.b1));
  const h2 = bt.tanh(bt.matmul(h1, p.w2).add(p.b2));
  const o = bt.matmul(h2, p.w3).add(p.b3);
  return bt.mean(o.sub(y).square());
};
const vg = bt.valueAndGrad(loss);
const jvg = bt.jit(vg);
const e = time(() => bt.dispose(vg(params, xb, yb)), 1500);
const j = time(() => bt.dispose(jvg(params, xb, yb)), 1500);
console.log(`MLP 32-128-128-2 value+grad batch 256: eager ${(1e6 / e).toFixed(0)} steps/s, jit ${(1e6 / j).toFixed(0)} steps/s`);
