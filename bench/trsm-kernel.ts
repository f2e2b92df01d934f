/**
 * The Wasm triangular-solve kernels alone (no copies into or out of Wasm memory): a [20, W] block of
 * right-hand sides already in Wasm memory, solved in place REP times (reset each time by an in-memory
 * copy, whose time is measured separately and subtracted). Complements bench/linalg.ts, which times
 * the whole call. Run: npx tsx bench/trsm-kernel.ts [--w 512] [--rep 2000] [--classic]
 *
 * GFLOP/s counts d²·W per solve, as bench/linalg.ts; times are process CPU time, best of 5.
 */
import { loadavg } from 'node:os';
import { assemble } from '../src/backends/cpu/matmul/wasm-emit.js';
import { Wasm, WasmHeap } from '../src/backends/cpu/matmul/wasm-api.js';
import { trsmFunc, trsmName } from '../src/backends/cpu/linalg/wasm-trsm.js';
import { rng } from '../test/seeded.js';

const arg = (name: string, dflt: number) => { const i = process.argv.indexOf(name); return i >= 0 ? Number(process.argv[i + 1]) : dflt; };
const d = 20, W = arg('--w', 512), REP = arg('--rep', 2000);
const NV = 16, TILE_P = 4; // as trsm-wasm.ts (register-lean schedule); --classic: the previous schedule, nv 4
const classic = process.argv.includes('--classic');
const V = classic ? { nv: 4, lean: false } : { nv: NV, lean: true };
const MODES = [[true, false], [true, true], [false, false], [false, true]] as const;
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const r = rng(2026);
const load0 = loadavg();

const funcs = [];
for (const f32 of [false, true]) for (const [lower, trans] of MODES) funcs.push(trsmFunc({ lower, trans, unit: false, f32, ...V }));
const mem = new Wasm.Memory({ initial: 1 });
const heap = new WasmHeap(mem);
const k = new Wasm.Instance(new Wasm.Module(assemble(funcs, { shared: false, maxPages: 0 })), { env: { mem } }).exports as Record<string, (...x: number[]) => void>;

for (const f32 of [false, true]) {
  const es = f32 ? 4 : 8, lanes = 16 / es;
  const xBase = 4096, ld = W * es, saved = xBase + d * ld;
  heap.ensureBytes(saved + d * ld);
  const H = f32 ? heap.f32 : heap.f64;
  // The kernels take A's diagonal as reciprocals (trsm-wasm.ts putA writes them).
  for (let q = 0; q < d * d; q++) { const i = Math.floor(q / d), j = q % d; H[q] = i === j ? 1 / (1 + r()) : (r() - 0.5) * 0.3; }
  for (let q = 0; q < d * W; q++) H[saved / es + q] = r() - 0.5;
  const line: string[] = [];
  for (const [lower, trans] of MODES) {
    const solve = k[trsmName({ lower, trans, unit: false, f32, ...V })]!;
    const panels = Math.floor(W / lanes / V.nv);
    const run = (doSolve: boolean) => {
      for (let t = 0; t < REP; t++) { H.copyWithin(xBase / es, saved / es, saved / es + d * W); if (doSolve) solve(0, xBase, d, ld, panels, TILE_P); }
    };
    run(true); // warm-up (tiers the Wasm code up)
    let withSolve = Infinity, copyOnly = Infinity;
    for (let i = 0; i < 5; i++) {
      let t0 = cpuMs(); run(true); withSolve = Math.min(withSolve, cpuMs() - t0);
      t0 = cpuMs(); run(false); copyOnly = Math.min(copyOnly, cpuMs() - t0);
    }
    const flops = REP * d * d * panels * V.nv * lanes;
    line.push(`${lower ? 'lower' : 'upper'}${trans ? 'ᵀ' : ''} ${(flops / (withSolve - copyOnly) / 1e6).toFixed(2)}`);
  }
  console.log(`${f32 ? 'float32 (f32x4)' : 'float64 (f64x2)'} kernel GFLOP/s, ${classic ? 'classic nv 4' : `lean nv ${NV}`}, d=${d}, W=${W}: ${line.join('  ')}`);
}
const f2 = (x: number) => x.toFixed(2);
console.log(`load average ${load0.map(f2).join(' / ')} at start, ${loadavg().map(f2).join(' / ')} at end`);
