/**
 * The WebGPU matmul's tile configurations, timed one by one on the device (issue 16, item 2: the
 * measurements a tile choice, or an autotuner, would follow).
 *
 *   npx tsx bench/matmul-tiles.ts [--quick] [--seconds S] [--out DIR]
 *
 * For each shape — square n × n (1024, 2048, 4096; --quick: 256, 512), GMMVI's batched
 * [30, 20, 20] @ [30, 20, 20] and [30, 20, 20] @ [30, 20, 9000] — the kernel as it runs by itself
 * ("auto": `chooseTile`'s pick, or the tile autotuner's where it timed the shape at its first run),
 * then forced to each of TILE_CANDIDATES (setTileOverride) that the device can run:
 * GFLOP/s from matmuls queued back to back (about 20 ms of work) with one element of the last read,
 * repeated for S seconds (default 0.5) after a warm run. Every configuration's first result is
 * checked: the sum of C against the float64 value of Σ_k (Σ_i A_ik)(Σ_j B_kj), within K·2⁻²³ of
 * Σ_k (Σ_i |A_ik|)(Σ_j |B_kj|) (any float32 summation order). Writes matmul-tiles.{json,md}.
 * On a software adapter (lavapipe) the timings say nothing about GPU speed; the output says so.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as bt from '../src/index.js';
import type { WebGPUBackend } from '../src/backends/webgpu/index.js';
import { chooseTile, fitsDevice, setTileOverride, shapeClass, TILE_CANDIDATES, tileNeeds, type TileConfig } from '../src/backends/webgpu/kernels/matmul.js';
import { rng } from './peers.js';
import { parseKernelBenchArgs } from './args.js';

const { quick, seconds, out } = parseKernelBenchArgs('matmul-tiles.ts', process.argv.slice(2));

const gpu = (await bt.ready('webgpu')) as WebGPUBackend;
bt.setBackend('webgpu');
const info = gpu.adapterInfo;
const software = info.isFallbackAdapter || /llvmpipe|lavapipe|swiftshader|software/i.test(`${info.description} ${info.architecture} ${info.device}`);
const NOTE = software ? ' — software adapter (lavapipe): not GPU speed' : '';
console.log(`adapter: ${gpu.adapterLabel}${NOTE}`);

interface Shape {
  name: string;
  batch: number;
  M: number;
  K: number;
  N: number;
}
const shapes: Shape[] = [
  ...(quick ? [256, 512] : [1024, 2048, 4096]).map((n) => ({ name: `${n}²`, batch: 1, M: n, K: n, N: n })),
  { name: 'GMMVI [30,20,20]@[30,20,20]', batch: 30, M: 20, K: 20, N: 20 },
  { name: 'GMMVI [30,20,20]@[30,20,9000]', batch: 30, M: 20, K: 20, N: quick ? 900 : 9000 },
];

interface Row {
  shape: string;
  tile: string;
  auto: boolean;
  gflops: number | null;
  msPerMatmul: number | null;
  ok: boolean;
  note?: string;
}
const rows: Row[] = [];
const label = (c: TileConfig) => `${c.bm}×${c.bn} k${c.bk} ${c.tm}×${c.tn}${c.db ? ` db${c.db}` : ''}`;
const limits = gpu.device.limits;

for (const s of shapes) {
  const r = rng(7);
  const A = Float32Array.from({ length: s.batch * s.M * s.K }, () => 2 * r() - 1);
  const B = Float32Array.from({ length: s.batch * s.K * s.N }, () => 2 * r() - 1);
  // Σ C and its float32 error bound, in float64
  let sumRef = 0;
  let magRef = 0;
  for (let z = 0; z < s.batch; z++) {
    for (let k = 0; k < s.K; k++) {
      let ca = 0;
      let cam = 0;
      for (let i = 0; i < s.M; i++) {
        const v = A[(z * s.M + i) * s.K + k]!;
        ca += v;
        cam += Math.abs(v);
      }
      let rb = 0;
      let rbm = 0;
      for (let j = 0; j < s.N; j++) {
        const v = B[(z * s.K + k) * s.N + j]!;
        rb += v;
        rbm += Math.abs(v);
      }
      sumRef += ca * rb;
      magRef += cam * rbm;
    }
  }
  const tol = s.K * 2 ** -23 * magRef + 1e-6 * Math.abs(sumRef);
  const [a, b] = bt.keep(bt.tidy(() => [bt.tensor(A, { shape: [s.batch, s.M, s.K] }), bt.tensor(B, { shape: [s.batch, s.K, s.N] })]));
  const flops = 2 * s.batch * s.M * s.N * s.K;
  const configs: (TileConfig | null)[] = [null, ...TILE_CANDIDATES];
  const auto = chooseTile(s.M, s.N, s.batch);
  for (const cfg of configs) {
    const row: Row = { shape: s.name, tile: cfg ? label(cfg) : `auto (${s.M < 16 || s.N < 16 ? 'dot products' : label(auto)})`, auto: cfg === null, gflops: null, msPerMatmul: null, ok: true };
    rows.push(row);
    if (cfg && !fitsDevice(cfg, limits)) {
      const need = tileNeeds(cfg);
      row.note = `needs ${need.threads} threads, ${need.workgroupBytes} B of workgroup memory: over this device's limits`;
      console.log(`${s.name.padEnd(30)} ${row.tile.padEnd(22)} skipped: ${row.note}`);
      continue;
    }
    setTileOverride(cfg);
    try {
      let t = performance.now();
      const C0 = bt.matmul(a!, b!);
      const c = await C0.data();
      C0.dispose();
      const first = performance.now() - t;
      await gpu.tiles.settled(); // the tile autotuner's own timing, if it started, out of the way
      let sum = 0;
      for (let i = 0; i < c.length; i++) sum += c[i]!;
      row.ok = Math.abs(sum - sumRef) <= tol;
      if (!row.ok) {
        process.exitCode = 1;
        row.note = `WRONG: ΣC = ${sum}, float64 ${sumRef}, bound ${tol.toExponential(2)}`;
      }
      // warm run sizes the queue; then queued runs, one element of the last read
      t = performance.now();
      const one = async (q: number) => {
        let last: bt.Tensor | null = null;
        for (let i = 0; i < q; i++) {
          last?.dispose();
          last = bt.matmul(a!, b!);
        }
        const e = bt.slice(last!.reshape([-1]), [0], [1]);
        await e.data();
        bt.dispose([e, last!]);
      };
      await one(1);
      const warm = performance.now() - t;
      const q = Math.max(1, Math.min(64, Math.round(20 / Math.max(warm, 0.01))));
      let n = 0;
      const t0 = performance.now();
      do {
        await one(q);
        n += q;
      } while (performance.now() - t0 < seconds * 1000 && first < 5000);
      const ms = (performance.now() - t0) / n;
      row.msPerMatmul = ms;
      row.gflops = flops / (ms * 1e6);
      if (!cfg) {
        // the tuner (tile-tuner.ts) may have timed every tile at the first run and switched
        const tuned = gpu.tiles.tile(shapeClass(s.M, s.N, s.K, s.batch, false, false));
        if (tuned) row.tile = `auto: tuned to ${label(tuned)}`;
        else if (tuned === null) row.tile += ', kept by the tuner';
      }
    } catch (e) {
      row.ok = false;
      row.note = `failed: ${(e as Error).message}`;
      process.exitCode = 1;
    } finally {
      setTileOverride(null);
    }
    console.log(`${s.name.padEnd(30)} ${row.tile.padEnd(22)} ${row.gflops === null ? '-' : row.gflops.toFixed(1).padStart(8)} GFLOP/s${row.note ? `  ${row.note}` : ''}`);
  }
  bt.dispose([a, b]);
}

mkdirSync(out, { recursive: true });
const best = (shape: string) => rows.filter((r) => r.shape === shape && r.gflops !== null && r.ok).reduce<Row | null>((m, r) => (m === null || r.gflops! > m.gflops! ? r : m), null);
const md = [
  `# WebGPU matmul by tile configuration (float32)${NOTE}`,
  '',
  `${new Date().toISOString()}, adapter ${gpu.adapterLabel}, Node ${process.version}${quick ? ', --quick' : ''}. "auto" is the kernel by itself (\`chooseTile\`'s pick, or the tile autotuner's); the others are forced with \`setTileOverride\`. GFLOP/s from matmuls queued back to back for ${seconds} s. Tile: bm×bn outputs a workgroup, k: the K step through workgroup memory, tm×tn outputs a thread, db1: the next K step loaded into registers during the product, db2: that and two workgroup tiles in turn (one barrier a step).`,
  '',
  '| shape | tile | GFLOP/s | ms/matmul | best? | note |',
  '|---|---|---:|---:|:---:|---|',
  ...rows.map((r) => `| ${r.shape} | ${r.tile} | ${r.gflops === null ? '-' : r.gflops.toFixed(1)} | ${r.msPerMatmul === null ? '-' : r.msPerMatmul.toFixed(3)} | ${best(r.shape) === r ? '✓' : ''} | ${r.note ?? ''} |`),
  '',
].join('\n');
writeFileSync(resolve(out, 'matmul-tiles.md'), md);
writeFileSync(resolve(out, 'matmul-tiles.json'), JSON.stringify({ adapter: gpu.adapterLabel, software, date: new Date().toISOString(), seconds, rows }, null, 2));
console.log(`wrote ${resolve(out, 'matmul-tiles.md')}`);
gpu.dispose();
