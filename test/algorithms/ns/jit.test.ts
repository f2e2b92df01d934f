/**
 * NestedSampler's `jit` option: the jitted batched likelihood gives the eager run's numbers bit
 * for bit on the CPU (log Z, every sample, the evaluation count), traces once per power-of-two
 * batch size rather than once per distinct number of active chains, falls back to eager with one
 * warning for a likelihood that reads the host (jit: true throws), keeps memory flat, and inside
 * evidence maximisation sees each M-step's new θ (the same trajectory as jit: false).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { testBasic } from '../../../examples/ns/em-problems.js';

const { Prior, Model, NestedSampler } = bt.ns;
const D = 4;
const P = bt.keep(bt.tensor(Array.from({ length: D }, (_, i) => Array.from({ length: D }, (_, j) => (i === j ? 2 : 0.3))), { dtype: 'float64' }));
const loc = bt.keep(bt.zeros([D], 'float64'));
const scale = bt.keep(bt.ones([D], 'float64'));
const prior = function* (): Generator<bt.ns.Prior, bt.Tensor, bt.Tensor> {
  return yield new Prior({ dist: 'Normal', loc, scale }, 'x');
};
const gaussian = new Model({ priorModel: prior, logLikelihood: (x: bt.Tensor) => bt.mul(-0.5, bt.sum(bt.mul(x, bt.matmul(P, x)))) });
const small = { numLivePoints: 40, maxSamples: 1200 };

type Results = bt.ns.NestedSamplerResults;
const free = (r: Results) => bt.dispose([r.USamples, r.logLSamples, r.logDpMean, r.logXMean, r.numLivePointsPerSample, r.samples]);

function sameBits(a: bt.Tensor, b: bt.Tensor, what: string) {
  assert.equal(a.shape, b.shape, `${what}: shape`);
  const u = a.dataSync();
  const v = b.dataSync();
  for (let i = 0; i < u.length; i++) if (!Object.is(u[i], v[i])) assert.unreachable(`${what}: element ${i}: ${u[i]} vs ${v[i]}`);
}

function sameRun(a: Results, b: Results, what: string) {
  assert.ok(Object.is(a.logZMean, b.logZMean), `${what}: log Z ${a.logZMean} vs ${b.logZMean}`);
  assert.ok(Object.is(a.logZUncert, b.logZUncert), `${what}: log Z uncertainty`);
  assert.is(a.totalNumLikelihoodEvaluations, b.totalNumLikelihoodEvaluations, `${what}: evaluations`);
  sameBits(a.USamples, b.USamples, `${what}: U`);
  sameBits(a.logLSamples, b.logLSamples, `${what}: log L`);
  sameBits(a.samples.x!, b.samples.x!, `${what}: X`);
}

async function run(model: bt.ns.Model, options: bt.ns.NestedSamplerOptions, seed = 3): Promise<[Results, bt.ns.NestedSampler]> {
  const s = new NestedSampler(model, options);
  const key = bt.random.key(seed);
  const r = await s.run(key);
  key.dispose();
  return [r, s];
}

/** Runs fn with console.warn captured. */
async function warnings<T>(fn: () => Promise<T>): Promise<[T, string[]]> {
  const seen: string[] = [];
  const warn = console.warn;
  console.warn = (...a: unknown[]) => void seen.push(a.join(' '));
  try {
    return [await fn(), seen];
  } finally {
    console.warn = warn;
  }
}

test('jitted (default) and eager runs agree bit for bit: log Z, U, log L, X, evaluations (with and without phantoms)', async () => {
  for (const extra of [{}, { k: 2 }]) {
    const [eager, se] = await run(gaussian, { ...small, ...extra, jit: false });
    const [jitted, sj] = await run(gaussian, { ...small, ...extra });
    assert.is(se.jitInfo().jitted, false);
    assert.is(se.jitInfo().retraces, 0);
    assert.is(sj.jitInfo().jitted, true);
    assert.ok(sj.jitInfo().retraces > 0);
    sameRun(jitted, eager, `k = ${JSON.stringify(extra)}`);
    free(eager);
    free(jitted);
    sj.dispose();
  }
});

test('the device path (chains as tensors, run here on the CPU): jitted and eager agree bit for bit, one trace per batch shape', async () => {
  const go = async (jit: boolean): Promise<[Results, bt.ns.NestedSampler]> => {
    const s = new NestedSampler(gaussian, { ...small, jit });
    s.onDevice = true;
    const key = bt.random.key(5);
    const r = await s.run(key);
    key.dispose();
    return [r, s];
  };
  const [eager] = await go(false);
  const [jitted, s] = await go(true);
  sameRun(jitted, eager, 'device path');
  // all c chains at init, the m of a shell after: two shapes
  assert.is(s.jitInfo().retraces, 2);
  free(eager);
  free(jitted);
  s.dispose();
});

test('retraces are bounded: one per power-of-two batch size, fewer than the distinct numbers of active chains', async () => {
  // a vectorized (traceable) likelihood that records the batch sizes it sees: every call eagerly,
  // only the traces jitted
  const sizes = new Set<number>();
  const model = new Model({
    priorModel: prior,
    logLikelihood: (x: bt.Tensor) => {
      sizes.add(x.shape[0]!);
      return bt.mul(-0.5, bt.sum(bt.mul(x, bt.matmul(x, P)), { axis: 1 }));
    },
    vectorized: true,
  });
  sizes.clear();
  const [eager] = await run(model, { ...small, jit: false });
  const eagerSizes = sizes.size;
  sizes.clear();
  const [jitted, s] = await run(model, small);
  const traced = [...sizes];
  sameRun(jitted, eager, 'vectorized');
  const info = s.jitInfo();
  assert.ok(traced.every((n) => Number.isInteger(Math.log2(n))), `traced sizes ${traced}`);
  assert.is(info.retraces, traced.length);
  // c = 40 chains at most: sizes 1, 2, …, 64
  assert.ok(info.retraces <= Math.ceil(Math.log2(40)) + 1, `retraces ${info.retraces}`);
  assert.ok(eagerSizes > 2 * info.retraces, `eager saw ${eagerSizes} batch sizes, jit traced ${info.retraces}`);
  assert.ok(info.cache!.size <= info.cache!.maxSize);
  assert.ok(info.cache!.hits > 10 * info.cache!.misses, `hits ${info.cache!.hits}`);
  free(eager);
  free(jitted);
  s.dispose();
});

test('a likelihood that reads the host: one warning, eager from then on, the same numbers; jit: true throws a TracerError', async () => {
  const hostRead = new Model({
    priorModel: prior,
    logLikelihood: (x: bt.Tensor) => {
      const v = x.dataSync();
      const n = x.shape[0]!;
      const out = new Float64Array(n);
      for (let p = 0; p < n; p++) for (let d = 0; d < D; d++) out[p] -= 0.5 * v[p * D + d]! ** 2;
      return bt.tensor(out, { dtype: 'float64' });
    },
    vectorized: true,
  });
  const [[jitted, s], seen] = await warnings(() => run(hostRead, small));
  assert.is(seen.length, 1, seen.join('\n'));
  assert.match(seen[0]!, /ns\.NestedSampler.*could not be jitted/);
  assert.is(s.jitInfo().jitted, false);
  const [[eager], quiet] = await warnings(() => run(hostRead, { ...small, jit: false }));
  assert.is(quiet.length, 0);
  sameRun(jitted, eager, 'fallback');
  free(jitted);
  free(eager);
  const strict = new NestedSampler(hostRead, { ...small, jit: true });
  const key = bt.random.key(3);
  try {
    await strict.run(key);
    assert.unreachable('jit: true ran a host read');
  } catch (e) {
    assert.instance(e, bt.TracerError);
  } finally {
    key.dispose();
  }
});

test('jit must be a boolean: ConfigError naming it', () => {
  assert.throws(() => new NestedSampler(gaussian, { jit: 'yes' as unknown as boolean }), (e: unknown) => e instanceof bt.ConfigError && /jit must be true, false/.test((e as Error).message));
});

test('memory stays flat over repeated jitted runs; dispose frees the programs and the sampler still works (retracing)', async () => {
  const s = new NestedSampler(gaussian, small);
  const key = bt.random.key(11);
  free(await s.run(key));
  const before = bt.memory();
  for (let i = 0; i < 3; i++) free(await s.run(key));
  const after = bt.memory();
  assert.is(after.numTensors, before.numTensors, `tensors ${before.numTensors} → ${after.numTensors}`);
  assert.is(after.numBytes, before.numBytes, `bytes ${before.numBytes} → ${after.numBytes}`);
  const r1 = await s.run(key);
  const traces = s.jitInfo().retraces;
  s.dispose();
  assert.is(s.jitInfo().cache!.size, 0);
  const r2 = await s.run(key);
  assert.is(s.jitInfo().retraces, 2 * traces);
  sameRun(r2, r1, 'after dispose');
  free(r1);
  free(r2);
  s.dispose();
  key.dispose();
});

test('evidence maximisation: with jit the E-steps see each new θ (program inputs), the same trajectory as jit: false', async () => {
  // jaxns' test_basic: y = x + Φ⁻¹(quickUnit(θ)) is a parametrised prior, so θ enters T_θ
  const model = testBasic()!;
  const train = async (jit: boolean) =>
    new bt.em.EvidenceMaximisation({ model, nsOptions: { maxSamples: 900, numLivePoints: 30, jit }, solver: 'sgd', logZFtol: 0, logZAtol: 0, key: bt.random.key(21) }).train(2);
  const a = await train(true);
  const b = await train(false);
  assert.is(a.history.length, 2);
  assert.equal(a.history, b.history);
  sameBits(a.params.y_param!, b.params.y_param!, 'θ');
  // θ moved, so the second E-step ran at a θ the first did not
  assert.ok(a.params.y_param!.item() !== 0);
  assert.ok(a.history[0]!.logZ !== a.history[1]!.logZ);
  sameRun(a.results, b.results, 'last E-step');
});

test.run();
