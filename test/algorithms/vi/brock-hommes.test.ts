/**
 * Acceptance 2: on Brock–Hommes (11 parameters, MMD loss, gradient horizon 0), the pathwise
 * gradients of the VI objective by forward mode (every jacobianChunkSize) and by reverse mode
 * agree to float64 rounding, and the chunk sizes 1, 3 and undefined give identical gradients
 * (they share the simulator's random draws: one key per sample for every tangent).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';

const S = bt.simulators;
const T = 60;
const bh = S.brockHommes(T);
const truth = [Math.log(120), 0, 0.9, 0.9, 1.01, 0, 0.2, -0.2, 0, Math.log(0.04), 0];
const y = bt.keep(S.simulate(bh, bt.tensor(truth), bt.random.key(3))[0]!);
const mmd = S.mmdLoss(y);
const loss = (theta: bt.Tensor, _d: null, key: bt.Tensor) => mmd(S.simulate(bh, theta, key, { gradientHorizon: 0 })[0]!);
const q = new bt.distributions.MultivariateNormal({ loc: bt.tensor(truth).add(0.05), covariance: bt.eye(11).mul(0.01) });
const prior = new bt.distributions.MultivariateNormal({ loc: bt.tensor(truth), covariance: bt.eye(11) });

function flatGrad(diffMode: 'forward' | 'reverse', jacobianChunkSize: number | undefined): { g: number[]; loss: number } {
  const r = bt.vi.lossAndGrad(
    { loss, prior, posteriorEstimator: q, w: 0.001, nSamplesPerEpoch: 2, nSamplesRegularisation: 100, diffMode, gradientEstimationMethod: 'pathwise', baseline: 'none', jacobianChunkSize, stickingTheLanding: true },
    q.params(), null, bt.random.key(11),
  );
  const [flat] = bt.tree.ravel(r.grads);
  return { g: Array.from(flat.dataSync()), loss: r.loss.item() };
}

test('forward (chunk 1, 3, undefined) and reverse pathwise gradients agree to float64 rounding', () => {
  const rev = flatGrad('reverse', undefined);
  const scale = Math.max(...rev.g.map(Math.abs));
  assert.ok(scale > 0 && rev.g.every(Number.isFinite), 'a non-trivial finite gradient');
  const fwd = [1, 3, undefined].map((c) => ({ c, ...flatGrad('forward', c) }));
  let worst = 0;
  for (const f of fwd) {
    assert.is(f.loss, rev.loss, `the loss value is the same computation (chunk ${f.c})`);
    for (let i = 0; i < rev.g.length; i++) worst = Math.max(worst, Math.abs(f.g[i]! - rev.g[i]!) / scale);
  }
  // the chunk sizes run the same per-tangent arithmetic: identical gradients
  const identical = fwd.every((f) => f.g.every((v, i) => v === fwd[0]!.g[i]));
  const chunkWorst = Math.max(...fwd.flatMap((f) => f.g.map((v, i) => Math.abs(v - fwd[0]!.g[i]!) / scale)));
  console.log(`\n[note] Brock–Hommes: max |forward − reverse|/max|g| = ${worst.toExponential(2)}; chunk sizes 1/3/all ${identical ? 'bitwise identical' : `differ by ${chunkWorst.toExponential(2)}`}`);
  assert.ok(worst < 1e-12, `forward vs reverse relative difference ${worst}`);
  assert.ok(chunkWorst < 1e-14, `chunk sizes differ by ${chunkWorst}`);
});

test('the jacobianChunkSize option reaches the VI class (same first-epoch record for 1 and undefined)', async () => {
  const recs = [];
  for (const jacobianChunkSize of [1, undefined]) {
    const vi = new bt.vi.VI({ loss, prior, posteriorEstimator: q, w: 0.001, nSamplesPerEpoch: 1, nSamplesRegularisation: 100, diffMode: 'forward', jacobianChunkSize, key: bt.random.key(1) });
    await vi.step(null);
    recs.push(bt.tree.ravel(vi.state.params)[0].dataSync());
  }
  for (let i = 0; i < recs[0]!.length; i++) assert.ok(Math.abs(recs[0]![i]! - recs[1]![i]!) < 1e-14, `param ${i}`);
});

test.run();
