/**
 * The conv2d primitive against the interim composite it replaced (pad/slice/reshape/concat + one
 * matmul, kept below as it was): one 3×3 1→16 SAME layer on a batch of 100 32×32×1 fields, and an
 * IMNN-like field net (three 3×3 stride-2 convs 1→8→16→32 with leakyRelu, global average pool,
 * dense → 2): forward, weight gradient, and the weight gradient of a forward-mode derivative in x
 * (GradientIMNN's reverse over forward). Milliseconds per call, median of repeated runs: CPU time
 * of the process on the CPU backend (process.cpuUsage, all threads), wall time on WebGPU.
 * Run: npx tsx bench/conv2d.ts [cpu|webgpu]
 */
import * as bt from '../src/index.js';
import { convPadding } from '../src/autodiff/ops/conv.js';

type Conv = (x: bt.Tensor, w: bt.Tensor, o: bt.Conv2dOptions) => bt.Tensor;

/** The interim conv2d (before the primitive), verbatim apart from the imports. */
const composite: Conv = (x, w, opts) => {
  const [sh, sw] = opts.strides ?? [1, 1];
  const padding = opts.padding ?? 'VALID';
  const [n, h, wd, c] = x.shape as [number, number, number, number];
  const [kh, kw, , co] = w.shape as [number, number, number, number];
  const ph = convPadding(h, kh, sh, padding);
  const pw = convPadding(wd, kw, sw, padding);
  const needH = (kh - 1) + ph.out * sh;
  const needW = (kw - 1) + pw.out * sw;
  const xp = bt.pad(x, [0, ph.lo, pw.lo, 0], [0, Math.max(needH - h - ph.lo, 0), Math.max(needW - wd - pw.lo, 0), 0]);
  const taps: bt.Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      let t = bt.slice(xp, [0, i, j, 0], [n, ph.out * sh, pw.out * sw, c]);
      if (sh > 1 || sw > 1) {
        t = bt.slice(bt.reshape(t, [n, ph.out, sh, pw.out, sw, c]), [0, 0, 0, 0, 0, 0], [n, ph.out, 1, pw.out, 1, c]);
        t = bt.reshape(t, [n, ph.out, pw.out, c]);
      }
      taps.push(t);
    }
  }
  return bt.matmul(bt.concat(taps, 3), bt.reshape(w, [kh * kw * c, co]));
};
const primitive: Conv = (x, w, o) => bt.conv2d(x, w, o);

const backend = process.argv[2] ?? 'cpu';
await bt.ready(backend);
bt.setBackend(backend);
// the CPU backend has finished when the call returns; WebGPU is waited for by reading the results
const sync = async (t: unknown) => {
  if (backend === 'cpu') return;
  const leaves = bt.tree.leaves(t as never) as bt.Tensor[];
  await Promise.all(leaves.map((l) => l.data()));
};

/** CPU time of this process (all its threads) on the CPU backend: the 2-core box is shared, so wall time mostly measures the scheduler; wall time on WebGPU. */
const clock = (): number => {
  if (backend !== 'cpu') return performance.now();
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

async function time(fn: () => unknown, reps: number): Promise<number> {
  for (let i = 0; i < 2; i++) {
    const out = bt.tidy(() => fn());
    await sync(out);
    bt.dispose(out as never);
  }
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = clock();
    const out = bt.tidy(() => fn());
    await sync(out);
    ts.push(clock() - t0);
    bt.dispose(out as never);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)]!;
}

const [k1, k2, k3, k4, k5, k6, k7] = [1, 2, 3, 4, 5, 6, 7].map((i) => bt.random.key(i));
const x = bt.random.normal(k1!, [100, 32, 32, 1]);
const dx = bt.random.normal(k7!, [100, 32, 32, 1]);
const w1 = bt.random.normal(k2!, [3, 3, 1, 16]).mul(0.3);
const params = {
  c1: bt.random.normal(k3!, [3, 3, 1, 8]).mul(0.3),
  c2: bt.random.normal(k4!, [3, 3, 8, 16]).mul(0.1),
  c3: bt.random.normal(k5!, [3, 3, 16, 32]).mul(0.1),
  d: bt.random.normal(k6!, [32, 2]).mul(0.1),
};
type P = typeof params;
const net = (conv: Conv) => (p: P, z: bt.Tensor) => {
  let h = bt.nn.leakyRelu(conv(z, p.c1, { strides: [2, 2], padding: 'SAME' }));
  h = bt.nn.leakyRelu(conv(h, p.c2, { strides: [2, 2], padding: 'SAME' }));
  h = bt.nn.leakyRelu(conv(h, p.c3, { strides: [2, 2], padding: 'SAME' }));
  return bt.matmul(bt.mean(h, { axis: [1, 2] }), p.d);
};

const reps = backend === 'cpu' ? 15 : 5;
console.log(`conv2d bench on ${backend} (${bt.withBackend(backend, () => bt.zeros([1]).dtype)}), median ${backend === 'cpu' ? 'CPU' : 'wall'} ms per call of ${reps}`);
console.log('| case | composite (interim) | primitive | speed-up |');
console.log('|---|---|---|---|');
for (const [name, make] of [
  ['3×3 1→16 SAME, [100,32,32,1]: forward', (c: Conv) => () => c(x, w1, { padding: 'SAME' })],
  ['3×3 1→16 SAME: grad in x and w', (c: Conv) => () => bt.grad((a: bt.Tensor, b: bt.Tensor) => bt.sum(bt.square(c(a, b, { padding: 'SAME' }))), { argnums: [0, 1] })(x, w1)],
  ['field net: forward', (c: Conv) => () => net(c)(params, x)],
  ['field net: weight gradient', (c: Conv) => () => bt.grad((p: P) => bt.sum(bt.square(net(c)(p, x))))(params)],
  ['field net: weight grad of jvp in x (IMNN)', (c: Conv) => () => bt.grad((p: P) => bt.sum(bt.square(bt.jvp((z: bt.Tensor) => net(c)(p, z), [x], [dx])[1] as bt.Tensor)))(params)],
] as [string, (c: Conv) => () => unknown][]) {
  const a = await time(make(composite), reps);
  const b = await time(make(primitive), reps);
  console.log(`| ${name} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(a / b).toFixed(2)}× |`);
}
