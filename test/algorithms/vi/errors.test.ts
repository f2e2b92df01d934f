/** Acceptance 6: bad input gives typed errors before any epoch runs. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';

const prior2 = new bt.distributions.MultivariateNormal({ loc: bt.zeros([2]), covariance: bt.eye(2) });
const q2 = new bt.distributions.MultivariateNormal({ loc: bt.zeros([2]), covariance: bt.eye(2) });
const okLoss = (th: bt.Tensor) => th.square().sum();

async function throwsType(fn: () => unknown, type: new (...a: any[]) => Error, pattern: RegExp, what: string): Promise<void> {
  try {
    await fn();
  } catch (e) {
    assert.instance(e, type, `${what}: expected ${type.name}, got ${(e as Error).name}: ${(e as Error).message}`);
    assert.match((e as Error).message, pattern, `${what}: message "${(e as Error).message}"`);
    return;
  }
  assert.unreachable(`${what}: did not throw`);
}

test('a loss returning a non-scalar → ShapeError from run() and step() before any epoch', async () => {
  let calls = 0;
  const bad = (th: bt.Tensor) => {
    calls++;
    return th.square();
  };
  const vi = new bt.vi.VI({ loss: bad, prior: prior2, posteriorEstimator: q2 });
  const before = bt.tree.ravel(vi.state.params)[0].dataSync().slice();
  await throwsType(() => vi.run(null, 10), bt.ShapeError, /scalar \(0-D\).*shape \[2\]/, 'run');
  await throwsType(() => vi.step(null), bt.ShapeError, /scalar \(0-D\)/, 'step');
  assert.is(vi.state.epoch, 0);
  assert.is(vi.lossHistory.total.length, 0);
  assert.equal(bt.tree.ravel(vi.state.params)[0].dataSync(), before);
  assert.is(calls, 2, 'one validation call each, no epoch');
  await throwsType(() => new bt.vi.VI({ loss: (() => 3) as never, prior: prior2, posteriorEstimator: q2 }).run(null, 1), bt.ConfigError, /must return a Tensor/, 'number');
});

test('prior / estimator dimension mismatch → ShapeError at construction', async () => {
  const prior3 = new bt.distributions.MultivariateNormal({ loc: bt.zeros([3]), covariance: bt.eye(3) });
  await throwsType(() => new bt.vi.VI({ loss: okLoss, prior: prior3, posteriorEstimator: q2 }), bt.ShapeError, /event shape \[3\].*\(3 parameters\).*\[2\] \(2\)/, 'dims');
  const batched = new bt.distributions.Normal(bt.zeros([2]), bt.ones([2]));
  await throwsType(() => new bt.vi.VI({ loss: okLoss, prior: batched, posteriorEstimator: q2 }), bt.ShapeError, /batch shape \[2\].*Independent/, 'batch');
});

test('unknown or bad options → ConfigError at construction', async () => {
  const base = { loss: okLoss, prior: prior2, posteriorEstimator: q2 };
  await throwsType(() => new bt.vi.VI({ ...base, learningRate: 1e-3 } as never), bt.ConfigError, /unknown option 'learningRate'/, 'unknown');
  await throwsType(() => new bt.vi.VI({ ...base, diffMode: 'backward' as never }), bt.ConfigError, /diffMode must be one of 'reverse', 'forward'/, 'diffMode');
  await throwsType(() => new bt.vi.VI({ ...base, gradientEstimationMethod: 'reinforce' as never }), bt.ConfigError, /gradientEstimationMethod/, 'method');
  await throwsType(() => new bt.vi.VI({ ...base, nSamplesPerEpoch: 0 }), bt.ConfigError, /nSamplesPerEpoch must be a positive integer/, 'n');
  await throwsType(() => new bt.vi.VI({ ...base, jacobianChunkSize: 1.5 }), bt.ConfigError, /jacobianChunkSize/, 'chunk');
  await throwsType(() => new bt.vi.VI({ ...base, w: -1 }), bt.ConfigError, /w must be/, 'w');
  await throwsType(() => new bt.vi.VI({ ...base, gradientClippingNorm: 0 }), bt.ConfigError, /gradientClippingNorm/, 'clip');
  await throwsType(() => new bt.vi.VI({ ...base, posteriorEstimator: { eventShape: [2], logProb: okLoss } as never }), bt.ConfigError, /trainable distribution/, 'estimator');
  await throwsType(() => new bt.vi.VI({ ...base, optimizer: {} as never }), bt.ConfigError, /gradient transformation/, 'optimizer');
  await throwsType(() => new bt.vi.VI(base).run(null, -1), bt.ConfigError, /nEpochs/, 'nEpochs');
});

test('every sample non-finite → NumericalError naming the epoch; the state is not updated', async () => {
  const vi = new bt.vi.VI({ loss: (th: bt.Tensor, d: { nan: boolean }) => (d.nan ? th.sum().mul(NaN) : th.square().sum()), prior: prior2, posteriorEstimator: q2, nSamplesRegularisation: 100 });
  await vi.step({ nan: false });
  const p = vi.state.params;
  await throwsType(() => vi.step({ nan: true }), bt.NumericalError, /epoch 1 every one of the 10 samples/, 'all NaN');
  assert.is(vi.state.params, p);
  assert.is(vi.state.epoch, 1);
});

test('state stays flat in memory over epochs (tidy per epoch)', async () => {
  const vi = new bt.vi.VI({ loss: okLoss, prior: prior2, posteriorEstimator: q2, nSamplesRegularisation: 100 });
  await vi.run(null, 3, Infinity);
  const n0 = bt.memory().numTensors;
  await vi.run(null, 20, Infinity);
  const n1 = bt.memory().numTensors;
  assert.ok(n1 <= n0, `live tensors ${n0} → ${n1}`);
});

test.run();
