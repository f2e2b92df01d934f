/**
 * Products with few outputs and a long K on WebGPU, with K split across workgroups (`splitK: true`)
 * beside one thread per output (`splitK: false`), on the same device in one run: the gradient of
 * a linear model over n data points, Xᵀr for X of [n, d] (the matmul VJP's transposed product),
 * its row form rᵀX, and a single long dot product.
 *
 *   npx tsx bench/dot-products.ts [--quick] [--seconds S] [--out DIR]
 *
 * ms per product from products queued back to back (about 20 ms of work), one element of the last
 * read, for S seconds (default 0.5) after a warm run; every product's first result is checked
 * against float64 within K·2⁻²³·Σ|ab|. Writes dot-products.{json,md}. On a software adapter
 * (lavapipe) the timings say nothing about GPU speed, and there splitK is off by default.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as bt from '../src/index.js';
import { bind1 } from '../src/autodiff/core.js';
import { matmulPrim } from '../src/autodiff/ops/matmul.js';
import { createWebGPUBackend, type WebGPUBackend } from '../src/backends/webgpu/index.js';
import { rng } from './peers.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
let seconds = quick ? 0.1 : 0.5;
let out = resolve(new URL('./results', import.meta.url).pathname);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  if (a === '--quick') continue;
  else if (a === '--seconds' && Number(argv[i + 1]) > 0) seconds = Number(argv[++i]);
  else if (a === '--out' && argv[i + 1]) out = resolve(argv[++i]!);
  else {
    console.error('usage: npx tsx bench/dot-products.ts [--quick] [--seconds S > 0] [--out DIR]');
    process.exit(2);
  }
}

const backends: Record<'split' | 'one', WebGPUBackend> = {
  split: await createWebGPUBackend({ splitK: true }),
  one: await createWebGPUBackend({ splitK: false }),
};
bt.registerBackend('webgpu-split', backends.split);
bt.registerBackend('webgpu-one', backends.one);
const info = backends.split.adapterInfo;
const software = info.isFallbackAdapter || /llvmpipe|lavapipe|swiftshader|software/i.test(`${info.description} ${info.architecture} ${info.device}`);
const NOTE = software ? ' — software adapter (lavapipe): not GPU speed' : '';
console.log(`adapter: ${backends.split.adapterLabel}${NOTE}`);

interface Shape {
  name: string;
  M: number;
  N: number;
  K: number;
  tA: boolean;
}
const ns = quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
const shapes: Shape[] = [
  ...ns.map((n) => ({ name: `Xᵀr, X [${n}, 30]`, M: 30, N: 1, K: n, tA: true })),
  ...ns.map((n) => ({ name: `rᵀX, X [${n}, 30]`, M: 1, N: 30, K: n, tA: false })),
  { name: `x·y, length ${ns[ns.length - 1]}`, M: 1, N: 1, K: ns[ns.length - 1]!, tA: false },
];

interface Row {
  shape: string;
  msSplit: number | null;
  msOne: number | null;
  ok: boolean;
  note?: string;
}
const rows: Row[] = [];

/** ms per product on `backend`, and whether its first result is right. */
async function time(backend: string, s: Shape, A: Float32Array, B: Float32Array, want: Float64Array, bound: Float64Array): Promise<{ ms: number; ok: boolean }> {
  const [a, b] = bt.withBackend(backend, () => bt.keep([bt.tensor(A, { shape: s.tA ? [s.K, s.M] : [s.M, s.K] }), bt.tensor(B, { shape: [s.K, s.N] })]));
  const product = () => bt.withBackend(backend, () => bind1(matmulPrim, [a!, b!], { transA: s.tA, transB: false }));
  const c0 = product();
  const c = await c0.data();
  c0.dispose();
  const ok = want.every((w, i) => Math.abs(c[i]! - w) <= bound[i]!);
  const queued = async (q: number) => {
    let last: bt.Tensor | null = null;
    for (let i = 0; i < q; i++) {
      last?.dispose();
      last = product();
    }
    await last!.data();
    last!.dispose();
  };
  let t = performance.now();
  await queued(1);
  const q = Math.max(1, Math.min(64, Math.round(20 / Math.max(performance.now() - t, 0.01))));
  let n = 0;
  t = performance.now();
  do {
    await queued(q);
    n += q;
  } while (performance.now() - t < seconds * 1000);
  bt.dispose([a!, b!]);
  return { ms: (performance.now() - t) / n, ok };
}

for (const s of shapes) {
  const r = rng(5);
  const A = Float32Array.from({ length: s.M * s.K }, () => 2 * r() - 1);
  const B = Float32Array.from({ length: s.K * s.N }, () => 2 * r() - 1);
  const want = new Float64Array(s.M * s.N);
  const bound = new Float64Array(s.M * s.N);
  for (let i = 0; i < s.M; i++) {
    for (let j = 0; j < s.N; j++) {
      let sum = 0;
      let mag = 0;
      for (let k = 0; k < s.K; k++) {
        const x = A[s.tA ? k * s.M + i : i * s.K + k]! * B[k * s.N + j]!;
        sum += x;
        mag += Math.abs(x);
      }
      want[i * s.N + j] = sum;
      bound[i * s.N + j] = s.K * 2 ** -23 * mag + 2 ** -126;
    }
  }
  const split = await time('webgpu-split', s, A, B, want, bound);
  const one = await time('webgpu-one', s, A, B, want, bound);
  const row: Row = { shape: s.name, msSplit: split.ms, msOne: one.ms, ok: split.ok && one.ok };
  if (!row.ok) {
    process.exitCode = 1;
    row.note = `WRONG: ${split.ok ? '' : 'split '}${one.ok ? '' : 'one thread'}`;
  }
  rows.push(row);
  console.log(`${s.name.padEnd(28)} split ${split.ms.toFixed(3).padStart(8)} ms   one thread ${one.ms.toFixed(3).padStart(8)} ms   ${(one.ms / split.ms).toFixed(2)}×${row.note ? `  ${row.note}` : ''}`);
}

mkdirSync(out, { recursive: true });
const md = [
  `# WebGPU products with few outputs: K split across workgroups vs one thread per output (float32)${NOTE}`,
  '',
  `${new Date().toISOString()}, adapter ${backends.split.adapterLabel}, Node ${process.version}${quick ? ', --quick' : ''}. Two backends on the same device: \`splitK: true\` and \`splitK: false\`. ms per product from products queued back to back for ${seconds} s; speedup = one thread ÷ split. Every result checked against float64.`,
  '',
  '| product | split, ms | one thread per output, ms | speedup | note |',
  '|---|---:|---:|---:|---|',
  ...rows.map((r) => `| ${r.shape} | ${r.msSplit!.toFixed(3)} | ${r.msOne!.toFixed(3)} | ${(r.msOne! / r.msSplit!).toFixed(2)}× | ${r.note ?? ''} |`),
  '',
].join('\n');
writeFileSync(resolve(out, 'dot-products.md'), md);
writeFileSync(resolve(out, 'dot-products.json'), JSON.stringify({ adapter: backends.split.adapterLabel, software, date: new Date().toISOString(), seconds, rows }, null, 2));
console.log(`wrote ${resolve(out, 'dot-products.md')}`);
backends.split.dispose();
backends.one.dispose();
