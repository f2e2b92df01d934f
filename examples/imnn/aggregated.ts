/**
 * The Aggregated IMNN classes at the Gaussian problem's full size (nS = nD = 1000, network
 * 10-128-128-128-2; run by hand: npx tsx examples/imnn/aggregated.ts [nPerDevice]): for each of
 * Simulator/Gradient/NumericalGradient, the in-memory class against its Aggregated variant —
 * seconds per update, peak working bytes of an update (live bytes of a metered CPU backend above
 * those before it) and the largest difference of dΛ/dw relative to its largest entry. With a
 * second argument 'cpu' it runs on the plain CPU backend (its WASM kernels; no byte count).
 */
import * as bt from '../../src/index.js';
import { CpuBackend } from '../../src/backends/cpu/index.js';

const nPer = Number(process.argv[2] ?? 100);
const plain = process.argv[3] === 'cpu';
const inner = new CpuBackend();
let peak = 0;
bt.registerBackend('meter', new Proxy(inner, {
  get(t, k) {
    if (k === 'name') return 'meter';
    const v = (t as unknown as Record<string | symbol, unknown>)[k];
    if (typeof v !== 'function') return v;
    if (k === 'run' || k === 'upload') return (...a: unknown[]) => { const r = (v as (...x: unknown[]) => unknown).apply(t, a); peak = Math.max(peak, inner.memory().numBytes); return r; };
    return (v as (...x: unknown[]) => unknown).bind(t);
  },
}) as bt.Backend);
if (!plain) bt.setBackend('meter');

const n = 1000;
const α = bt.imnn.getα(10, 0.1);
const sim = (k: bt.Tensor, θ: bt.Tensor) => bt.random.normal(k, [10]).mul(θ.slice([1], [1]).sqrt()).add(θ.slice([0], [1]));
const common = () => ({ nS: n, nD: n, nParams: 2, nSummaries: 2, inputShape: [10], θFid: [0, 1], model: bt.nn.mlp({ sizes: [10, 128, 128, 128, 2], activation: 'leakyRelu' }), optimiser: bt.optim.sgd({ learningRate: 1e-3 }), keyOrState: bt.random.key(0) });
const z = bt.random.normal(bt.random.key(1), [n, 10]);
const der = bt.stack([bt.onesLike(z), z.mul(0.5)], -1);
const at = (t0: number, t1: number) => z.mul(Math.sqrt(t1)).add(t0);
const nder = bt.stack([bt.stack([at(-0.05, 1), at(0, 0.95)], 1), bt.stack([at(0.05, 1), at(0, 1.05)], 1)], 1);
const agg = { devices: [plain ? 'cpu' : 'meter'], nPerDevice: nPer };
const pairs: [string, () => bt.imnn.IMNNBase, () => bt.imnn.IMNNBase][] = [
  ['Simulator', () => new bt.imnn.SimulatorIMNN({ ...common(), simulator: sim }), () => new bt.imnn.AggregatedSimulatorIMNN({ ...common(), simulator: sim, ...agg })],
  ['Gradient', () => new bt.imnn.GradientIMNN({ ...common(), fiducial: z, derivative: der }), () => new bt.imnn.AggregatedGradientIMNN({ ...common(), fiducial: z, derivative: der, ...agg })],
  ['NumericalGradient', () => new bt.imnn.NumericalGradientIMNN({ ...common(), fiducial: z, derivative: nder, δθ: [0.1, 0.1] }), () => new bt.imnn.AggregatedNumericalGradientIMNN({ ...common(), fiducial: z, derivative: nder, δθ: [0.1, 0.1], ...agg })],
];
const key = bt.random.key(7);
for (const [name, inMem, aggr] of pairs) {
  const row: string[] = [];
  const steps: bt.Tensor[][] = [];
  for (const make of [inMem, aggr]) {
    const m = make();
    const before = inner.memory().numBytes;
    peak = before;
    const t0 = performance.now();
    const w1 = bt.tidy(() => bt.keep(bt.tree.leaves(m.update(m.state, key, 10, α)[0].w) as bt.Tensor[]));
    const s = (performance.now() - t0) / 1000;
    row.push(`${s.toFixed(2)} s${plain ? '' : `, ${((peak - before) / 2 ** 20).toFixed(1)} MiB`}`);
    // with plain gradient descent, w − w₁ = lr · dΛ/dw
    steps.push(w1.map((t, i) => (bt.tree.leaves(m.state.w)[i] as bt.Tensor).sub(t)));
  }
  const scale = Math.max(...steps[0]!.map((t) => t.abs().max().item()));
  const diff = Math.max(...steps[0]!.map((t, i) => t.sub(steps[1]![i]!).abs().max().item()));
  console.log(`${name}IMNN  in memory: ${row[0]}   Aggregated (nPerDevice ${nPer}): ${row[1]}   max |Δ dΛ/dw| / max |dΛ/dw| = ${(diff / scale).toExponential(1)}`);
}
