/**
 * Long sums with few outputs on WebGPU, two choices each timed against its alternative on the same
 * device in one run:
 *  - split across workgroups (`splitSums: true`) against not (`splitSums: false`): products — a
 *    linear model's gradient over n data points, Xᵀr for X of [n, 30] (the matmul VJP's transposed
 *    product), its row form rᵀX, one long dot product — where the alternative is one thread per
 *    output, and reductions — row and column sums of [30, 10⁵], one sum of 10⁶ — where it is one
 *    workgroup per output;
 *  - sums within a workgroup through subgroup operations (`subgroups: true`, where the device has
 *    them) against a tree in workgroup memory (`subgroups: false`), both unsplit (one workgroup per
 *    output) — rows, columns (an MLP's bias gradient is a column sum), and one long sum.
 *
 *   npx tsx bench/long-sums.ts [--quick] [--seconds S] [--out DIR]
 *
 * ms per op from ops queued back to back (about 20 ms of work), the last one read, for S seconds
 * (default 0.5) after a warm run; every first result is checked against float64 within
 * K·2⁻²³·Σ|terms|. Writes long-sums.{json,md}. On a software adapter (lavapipe) the timings say
 * nothing about GPU speed (and there splitSums is off by default).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as bt from '../src/index.js';
import { bind1 } from '../src/autodiff/core.js';
import { matmulPrim } from '../src/autodiff/ops/matmul.js';
import { createWebGPUBackend, type WebGPUBackend } from '../src/backends/webgpu/index.js';
import { rng } from './peers.js';
import { parseKernelBenchArgs } from './args.js';

const { quick, seconds, out } = parseKernelBenchArgs('long-sums.ts', process.argv.slice(2));

const backends: Record<string, WebGPUBackend> = {
  'webgpu-split': await createWebGPUBackend({ splitSums: true }),
  'webgpu-one': await createWebGPUBackend({ splitSums: false }),
  // unsplit, so both run the one-workgroup-per-output reduction (split with several outputs a
  // workgroup, both would run the same tree)
  'webgpu-subgroups': await createWebGPUBackend({ subgroups: true, splitSums: false }),
  'webgpu-trees': await createWebGPUBackend({ subgroups: false, splitSums: false }),
};
for (const [name, be] of Object.entries(backends)) bt.registerBackend(name, be);
const first = backends['webgpu-split']!;
const info = first.adapterInfo;
const software = info.isFallbackAdapter || /llvmpipe|lavapipe|swiftshader|software/i.test(`${info.description} ${info.architecture} ${info.device}`);
const NOTE = software ? ' — software adapter (lavapipe): not GPU speed' : '';
const hasSubgroups = backends['webgpu-subgroups']!.subgroups;
console.log(`adapter: ${first.adapterLabel}${NOTE}; subgroup operations: ${hasSubgroups ? 'yes' : 'no (both reduction columns are trees)'}`);

/** An op on float32 inputs, with its float64 value and Σ|terms| per output. */
interface Case {
  /** which choice it times: split against not, or subgroups against trees */
  kind: 'split product' | 'split reduction' | 'subgroups';
  name: string;
  inputs: { data: Float32Array; shape: number[] }[];
  op: (xs: bt.Tensor[]) => bt.Tensor;
  terms: number;
  want: Float64Array;
  mag: Float64Array;
}

const values = (n: number, seed: number) => {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => 2 * r() - 1);
};

function product(name: string, M: number, N: number, K: number, tA: boolean): Case {
  const A = values(M * K, 5);
  const B = values(K * N, 6);
  const want = new Float64Array(M * N);
  const mag = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      for (let k = 0; k < K; k++) {
        const x = A[tA ? k * M + i : i * K + k]! * B[k * N + j]!;
        want[i * N + j] += x;
        mag[i * N + j] += Math.abs(x);
      }
    }
  }
  return {
    kind: 'split product',
    name,
    inputs: [{ data: A, shape: tA ? [K, M] : [M, K] }, { data: B, shape: [K, N] }],
    op: ([a, b]) => bind1(matmulPrim, [a!, b!], { transA: tA, transB: false }),
    terms: K,
    want,
    mag,
  };
}

function reduction(kind: Case['kind'], name: string, rows: number, cols: number, axis: 0 | 1 | null): Case {
  const x = values(rows * cols, 7);
  const nOut = axis === null ? 1 : axis === 1 ? rows : cols;
  const want = new Float64Array(nOut);
  const mag = new Float64Array(nOut);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const o = axis === null ? 0 : axis === 1 ? r : c;
      want[o] += x[r * cols + c]!;
      mag[o] += Math.abs(x[r * cols + c]!);
    }
  }
  return {
    kind,
    name,
    inputs: [{ data: x, shape: [rows, cols] }],
    op: ([t]) => (axis === null ? bt.sum(t!) : bt.sum(t!, { axis })),
    terms: axis === null ? rows * cols : axis === 1 ? cols : rows,
    want,
    mag,
  };
}

const ns = quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
const cases: Case[] = [
  ...ns.map((n) => product(`Xᵀr, X [${n}, 30]`, 30, 1, n, true)),
  ...ns.map((n) => product(`rᵀX, X [${n}, 30]`, 1, 30, n, false)),
  product(`x·y, length ${ns[ns.length - 1]}`, 1, 1, ns[ns.length - 1]!, false),
  reduction('split reduction', 'row sums of [30, 100000]', 30, 100_000, 1),
  reduction('split reduction', 'column sums of [100000, 30]', 100_000, 30, 0),
  reduction('split reduction', `sum of ${ns[ns.length - 1]} values`, 1, ns[ns.length - 1]!, null),
  reduction('subgroups', 'column sums of [256, 128] (bias gradient, batch 256)', 256, 128, 0),
  reduction('subgroups', 'column sums of [4096, 128]', 4096, 128, 0),
  reduction('subgroups', 'row sums of [30, 100000]', 30, 100_000, 1),
  reduction('subgroups', `sum of ${ns[ns.length - 1]} values`, 1, ns[ns.length - 1]!, null),
];

/** ms per op on `backend`, and whether its first result is right. */
async function time(backend: string, c: Case): Promise<{ ms: number; ok: boolean }> {
  const xs = bt.withBackend(backend, () => bt.keep(c.inputs.map((i) => bt.tensor(i.data, { shape: i.shape }))));
  const run = () => bt.withBackend(backend, () => c.op(xs));
  const y0 = run();
  const y = await y0.data();
  y0.dispose();
  const ok = y.length === c.want.length && c.want.every((w, i) => Math.abs(y[i]! - w) <= c.terms * 2 ** -23 * c.mag[i]! + 2 ** -126);
  const queued = async (q: number) => {
    let last: bt.Tensor | null = null;
    for (let i = 0; i < q; i++) {
      last?.dispose();
      last = run();
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
  bt.dispose(xs);
  return { ms: (performance.now() - t) / n, ok };
}

interface Row {
  kind: Case['kind'];
  op: string;
  /** the choice (split; subgroups) and its alternative (not split; trees) */
  ms: number;
  msAlternative: number;
  ok: boolean;
  note?: string;
}
const rows: Row[] = [];
for (const c of cases) {
  const [chosen, alternative] = c.kind === 'subgroups' ? ['webgpu-subgroups', 'webgpu-trees'] : ['webgpu-split', 'webgpu-one'];
  const a = await time(chosen, c);
  const b = await time(alternative, c);
  const row: Row = { kind: c.kind, op: c.name, ms: a.ms, msAlternative: b.ms, ok: a.ok && b.ok };
  if (!row.ok) {
    process.exitCode = 1;
    row.note = `WRONG: ${a.ok ? '' : chosen} ${b.ok ? '' : alternative}`.trim();
  }
  rows.push(row);
  console.log(`${c.name.padEnd(52)} ${chosen.slice(7).padStart(9)} ${a.ms.toFixed(3).padStart(8)} ms   ${alternative.slice(7).padStart(5)} ${b.ms.toFixed(3).padStart(8)} ms   ${(b.ms / a.ms).toFixed(2)}×${row.note ? `  ${row.note}` : ''}`);
}

mkdirSync(out, { recursive: true });
const table = (kind: Case['kind'], head: string) => [
  head,
  '|---|---:|---:|---:|---|',
  ...rows.filter((r) => r.kind === kind).map((r) => `| ${r.op} | ${r.ms.toFixed(3)} | ${r.msAlternative.toFixed(3)} | ${(r.msAlternative / r.ms).toFixed(2)}× | ${r.note ?? ''} |`),
];
const md = [
  `# WebGPU long sums with few outputs (float32)${NOTE}`,
  '',
  `${new Date().toISOString()}, adapter ${first.adapterLabel}, Node ${process.version}${quick ? ', --quick' : ''}; subgroup operations ${hasSubgroups ? 'available' : 'not available'}. Backends on the same device differing in one option each; ms per op from ops queued back to back for ${seconds} s; speedup = the alternative's ms ÷ the choice's. Every result checked against float64.`,
  '',
  ...table('split product', '| product | split, ms | one thread per output, ms | speedup | note |'),
  '',
  ...table('split reduction', '| reduction | split, ms | one workgroup per output, ms | speedup | note |'),
  '',
  ...table('subgroups', '| reduction (one workgroup per output) | subgroups, ms | tree, ms | speedup | note |'),
  '',
].join('\n');
writeFileSync(resolve(out, 'long-sums.md'), md);
writeFileSync(resolve(out, 'long-sums.json'), JSON.stringify({ adapter: first.adapterLabel, software, subgroups: hasSubgroups, date: new Date().toISOString(), seconds, rows }, null, 2));
console.log(`wrote ${resolve(out, 'long-sums.md')}`);
for (const be of Object.values(backends)) be.dispose();
