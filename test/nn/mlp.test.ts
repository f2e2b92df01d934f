/** mlp: structure, forward values, batching, determinism, gradients vs finite differences. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose, numericGrad, randn } from '../helpers.js';

test('params { layers: [{ w, b }] } with w [in, out]; layers drawn from split keys', () => {
  const net = bt.nn.mlp({ sizes: [4, 8, 8, 2] });
  const p = net.init(bt.random.key(0));
  assert.equal(p.layers.map((l) => l.w.shape), [[4, 8], [8, 8], [8, 2]]);
  assert.equal(p.layers.map((l) => l.b!.shape), [[8], [8], [2]]);
  // deterministic by key, different across keys and across layers
  assertClose(net.init(bt.random.key(0)).layers[1]!.w, p.layers[1]!.w, 0, 0);
  assert.not.equal([...net.init(bt.random.key(1)).layers[1]!.w.dataSync()], [...p.layers[1]!.w.dataSync()]);
  const same = bt.nn.mlp({ sizes: [8, 8, 8] }).init(bt.random.key(0));
  assert.not.equal([...same.layers[0]!.w.dataSync()], [...same.layers[1]!.w.dataSync()]);
});

test('apply = act(x w₁ + b₁) w₂ + b₂ (+ outputActivation), over any leading batch axes', () => {
  const x = randn([3, 5, 4], 1);
  for (const [activation, f] of [
    ['tanh', bt.tanh],
    ['relu', bt.relu],
    ['sigmoid', bt.sigmoid],
    ['softplus', bt.softplus],
    ['gelu', (z: bt.Tensor) => z.mul(0.5).mul(bt.erf(z.div(Math.SQRT2)).add(1))],
  ] as const) {
    const net = bt.nn.mlp({ sizes: [4, 6, 2], activation, outputActivation: 'sigmoid' });
    const p = net.init(bt.random.key(3));
    const [l1, l2] = p.layers;
    const want = bt.sigmoid(bt.matmul(f(bt.matmul(x, l1!.w).add(l1!.b!)), l2!.w).add(l2!.b!));
    const got = net.apply(p, x);
    assert.equal(got.shape, [3, 5, 2]);
    assertClose(got, want, 1e-14, 1e-15, activation);
  }
  // a custom activation, and no output activation by default
  const net = bt.nn.mlp({ sizes: [4, 2], activation: (z) => z.mul(2) });
  const p = net.init(bt.random.key(0));
  assertClose(net.apply(p, x), bt.matmul(x, p.layers[0]!.w).add(p.layers[0]!.b!), 1e-15);
});

test('gelu is exact: x·Φ(x)', () => {
  // Φ(1) = 0.8413447460685429
  assertClose(bt.nn.gelu(bt.tensor([1, 0, -1])), [0.8413447460685429, 0, -1 + 0.8413447460685429], 1e-15, 1e-16);
});

test('gradients w.r.t. every parameter leaf match central finite differences', () => {
  for (const activation of ['tanh', 'gelu', 'softplus', 'sigmoid'] as const) {
    const net = bt.nn.mlp({ sizes: [3, 5, 2], activation, init: 'heNormal' });
    const params = net.init(bt.random.key(11));
    const x = randn([7, 3], 5);
    const loss = (p: bt.nn.MlpParams) => bt.sum(bt.square(net.apply(p, x)));
    const g = bt.grad(loss)(params) as bt.nn.MlpParams;
    params.layers.forEach((layer, i) => {
      for (const k of ['w', 'b'] as const) {
        const fd = numericGrad((v) => {
          const layers = params.layers.map((l, j) => (j === i ? { ...l, [k]: v } : l));
          return loss({ layers });
        }, layer[k]!);
        assertClose(g.layers[i]![k]!, fd, 1e-6, 1e-8, `${activation} layers[${i}].${k}`);
      }
    });
  }
});

test('bad input: sizes, activations, parameter count', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => bt.nn.mlp({ sizes: [3] }), /at least two/],
    [() => bt.nn.mlp({ sizes: [3, 0, 1] }), /positive integers/],
    [() => bt.nn.mlp({ sizes: [3, 1], activation: 'swish' as never }), /unknown activation 'swish'/],
    [() => bt.nn.mlp({ sizes: [3, 1], outputActivation: 'soft' as never }), /unknown outputActivation 'soft'/],
    [() => bt.nn.mlp({ sizes: [3, 1], hidden: 4 } as never), /unknown option 'hidden'/],
  ];
  for (const [f, re] of cases) assert.throws(f, (e: Error) => e instanceof bt.ConfigError && re.test(e.message), re.source);
  const net = bt.nn.mlp({ sizes: [3, 4, 1] });
  const p = net.init(bt.random.key(0));
  assert.throws(() => net.apply({ layers: p.layers.slice(1) }, bt.ones([3])), (e: Error) => e instanceof bt.ConfigError && /2 layers/.test(e.message));
  assert.throws(() => net.apply(p, bt.ones([2, 4])), (e: Error) => e instanceof bt.ShapeError);
});

test.run();
