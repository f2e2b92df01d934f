/**
 * VI's batched sample evaluation (samples.ts): one vmapped pass over the epoch's samples gives
 * the numbers of the per-sample loop, to float64 rounding, for every simulator, both
 * differentiation modes and both estimators; non-finite samples are dropped and counted the
 * same way; a loss that cannot be vmapped falls back to the loop under 'auto'.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';

const S = bt.simulators;
type Loss = bt.vi.LossFn<null>;

interface Problem {
  name: string;
  loss: Loss;
  d: number;
  loc: number[];
  scale: number;
}

function problems(): Problem[] {
  const rw = S.randomWalk(20);
  const rwY = bt.keep(S.simulate(rw, bt.tensor([Math.log(1 / 3)]), bt.random.key(1))[0]!);
  const bh = S.brockHommes(30);
  const truth = [Math.log(120), 0, 0.9, 0.9, 1.01, 0, 0.2, -0.2, 0, Math.log(0.04), 0];
  const bhY = bt.keep(S.simulate(bh, bt.tensor(truth), bt.random.key(2))[0]!);
  const mmd = S.mmdLoss(bhY);
  const graph = S.wattsStrogatz(bt.random.key(5), 12, 4, 0.2);
  const sirModel = S.sir(graph, 8);
  const sirY = S.simulate(sirModel, bt.tensor([-1, -0.5, -0.8]), bt.random.key(6)).map((o) => bt.keep(o));
  const toy = S.mvnToy([[1, 0.3], [0.3, 0.5]], 6);
  const toyY = bt.keep(toy(bt.tensor([0.4, -0.2]), bt.random.key(7)));
  return [
    { name: 'random walk', d: 1, loc: [0], scale: 0.3, loss: (th, _y, k) => S.mse(S.simulate(rw, th, k, { gradientHorizon: 0 })[0]!, rwY) },
    { name: 'Brock–Hommes', d: 11, loc: truth.map((v) => v + 0.05), scale: 0.1, loss: (th, _y, k) => mmd(S.simulate(bh, th, k, { gradientHorizon: 0 })[0]!) },
    {
      name: 'SIR', d: 3, loc: [-1, -0.5, -0.8], scale: 0.1,
      loss: (th, _y, k) => {
        const [inf, rec] = S.simulate(sirModel, th, k);
        return bt.add(S.mse(inf!, sirY[0]!), S.mse(rec!, sirY[1]!));
      },
    },
    { name: 'mvn toy', d: 2, loc: [0, 0], scale: 0.5, loss: (th, _y, k) => S.gaussianNll(toyY, th, { scale: bt.tensor([1, 0.7]) }).add(toy(th, k).sum().mul(0.01)) },
  ];
}

function spec(p: Problem, diffMode: 'forward' | 'reverse', method: 'pathwise' | 'score', how: bt.vi.SampleEvaluation, extra: Partial<bt.vi.ObjectiveSpec<null>> = {}) {
  const loc = bt.tensor(p.loc);
  const q = new bt.distributions.MultivariateNormal({ loc, covariance: bt.eye(p.d).mul(p.scale ** 2) });
  const prior = new bt.distributions.MultivariateNormal({ loc, covariance: bt.eye(p.d) });
  const s: bt.vi.ObjectiveSpec<null> = {
    loss: p.loss, prior, posteriorEstimator: q, w: 0.01, nSamplesPerEpoch: 4, nSamplesRegularisation: 50, diffMode,
    gradientEstimationMethod: method, baseline: 'none', jacobianChunkSize: undefined, stickingTheLanding: true, sampleEvaluation: how, ...extra,
  };
  return { s, params: q.params() };
}

function run(p: Problem, diffMode: 'forward' | 'reverse', method: 'pathwise' | 'score', how: bt.vi.SampleEvaluation, extra: Partial<bt.vi.ObjectiveSpec<null>> = {}) {
  const { s, params } = spec(p, diffMode, method, how, extra);
  const r = bt.vi.lossAndGrad(s, params, null, bt.random.key(11));
  return { g: Array.from(bt.tree.ravel(r.grads)[0].dataSync()), loss: r.loss.item(), total: r.total.item(), nDropped: r.nDropped.item() };
}

let worst = 0;

function same(a: ReturnType<typeof run>, b: ReturnType<typeof run>, what: string) {
  const rel = (x: number, y: number) => (x === y ? 0 : Math.abs(x - y) / Math.max(Math.abs(x), Math.abs(y), 1e-300));
  assert.is(a.nDropped, b.nDropped, `${what}: nDropped`);
  worst = Math.max(worst, rel(a.loss, b.loss), rel(a.total, b.total), ...a.g.map((v, i) => rel(v, b.g[i]!)));
  assert.ok(rel(a.loss, b.loss) < 1e-13, `${what}: loss ${a.loss} vs ${b.loss}`);
  assert.ok(rel(a.total, b.total) < 1e-13, `${what}: total ${a.total} vs ${b.total}`);
  const scale = Math.max(...b.g.map(Math.abs));
  assert.ok(scale > 0 && b.g.every(Number.isFinite), `${what}: a non-trivial finite gradient`);
  a.g.forEach((v, i) => assert.ok(Math.abs(v - b.g[i]!) <= 1e-12 * scale, `${what}: grad[${i}] ${v} vs ${b.g[i]}`));
}

test('batched = loop for every simulator, forward and reverse, pathwise and score (CPU float64)', () => {
  for (const p of problems()) {
    for (const diffMode of ['reverse', 'forward'] as const) {
      for (const method of ['pathwise', 'score'] as const) {
        const what = `${p.name} ${diffMode} ${method}`;
        same(run(p, diffMode, method, 'batched'), run(p, diffMode, method, 'loop'), what);
      }
    }
    if (p.d > 1) same(run(p, 'forward', 'pathwise', 'batched', { jacobianChunkSize: 1 }), run(p, 'forward', 'pathwise', 'loop', { jacobianChunkSize: 1 }), `${p.name} forward chunk 1`);
    same(run(p, 'reverse', 'score', 'batched', { baseline: 'mean' }), run(p, 'reverse', 'score', 'loop', { baseline: 'mean' }), `${p.name} score, mean baseline`);
  }
  console.log(`\n[note] batched vs loop: worst relative difference ${worst.toExponential(2)} (loss, total, every gradient entry)`);
});

test('non-finite samples are dropped and counted as the loop does', () => {
  // √(θ + 0.2) is NaN for the samples of N(0, 0.3²) below −0.2 (value and gradient)
  const rw = problems()[0]!;
  const p: Problem = { ...rw, loss: (th, y, k) => rw.loss(th, y, k).add(th.add(0.2).sqrt().sum()) };
  for (const diffMode of ['reverse', 'forward'] as const) {
    for (const method of ['pathwise', 'score'] as const) {
      const b = run(p, diffMode, method, 'batched', { nSamplesPerEpoch: 8 });
      assert.ok(b.nDropped > 0 && b.nDropped < 8, `${diffMode} ${method}: some but not all dropped (${b.nDropped})`);
      same(b, run(p, diffMode, method, 'loop', { nSamplesPerEpoch: 8 }), `${diffMode} ${method} with NaN samples`);
    }
  }
});

test("a loss that reads values on the host cannot be vmapped: 'batched' says so, 'auto' falls back to the loop", () => {
  const rw = problems()[0]!;
  // host-side control flow on θ's value
  const p: Problem = { ...rw, loss: (th, y, k) => rw.loss(th, y, k).mul(th.sum().item() > 0 ? 1 : 2) };
  assert.throws(() => run(p, 'reverse', 'pathwise', 'batched'), (e: Error) => e instanceof bt.ConfigError && /inside vmap/.test(e.message));
  for (const diffMode of ['reverse', 'forward'] as const) same(run(p, diffMode, 'pathwise', 'auto'), run(p, diffMode, 'pathwise', 'loop'), `${diffMode} fallback`);
  // a loss whose error is its own (not vmap's) still reports it under 'auto'
  const bad: Problem = { ...rw, loss: (th) => th.mul(2) };
  assert.throws(() => run(bad, 'reverse', 'pathwise', 'auto'), (e: Error) => e instanceof bt.ShapeError && /scalar/.test(e.message));
});

test.run();
