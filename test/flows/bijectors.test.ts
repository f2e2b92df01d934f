/** Bijectors: inverse ∘ forward = id, log|det| vs bt.jacfwd, MADE autoregressive structure, identity at init. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { assertClose, randn } from '../helpers.js';
import { perturb } from './util.js';

const F = bt.flows;
const d = 4;
const makers: [string, () => bt.flows.Bijector][] = [
  ['maf', () => F.maskedAffineAutoregressive({ dim: d, hiddenSizes: [8, 8] })],
  ['coupling', () => F.affineCoupling({ dim: d, mask: [1, 0, 1, 0], hiddenSizes: [8] })],
  ['permutation', () => F.permutation({ dim: d, order: [2, 0, 3, 1] })],
];

for (const [name, make] of makers) {
  test(`${name}: identity at init; inverse(forward(z)) = z; log|det| matches bt.jacfwd both ways`, () => {
    const b = make();
    const p0 = b.init(bt.random.key(1));
    const z = randn([5, d], 2);
    if (name !== 'permutation') {
      const [x0, l0] = b.forward(p0, z);
      assertClose(x0, z, 0, 0);
      assertClose(l0, bt.zeros([5]), 0, 0);
    }
    const p = perturb(p0, 3);
    const [x, ld] = b.forward(p, z);
    const [zb, ldi] = b.inverse(p, x);
    assertClose(zb, z, 1e-12, 1e-12, 'round trip');
    assertClose(ldi, ld.neg(), 1e-12, 1e-12, 'inverse logdet');
    for (let i = 0; i < 5; i++) {
      const zi = bt.reshape(bt.slice(z, [i, 0], [1, d]), [d]);
      const xi = bt.reshape(bt.slice(x, [i, 0], [1, d]), [d]);
      const J = bt.jacfwd((v: bt.Tensor) => bt.reshape(b.forward(p, bt.reshape(v, [1, d]))[0], [d]))(zi) as bt.Tensor;
      assertClose(bt.linalg.slogdet(J)[1], ld.dataSync()[i]!, 1e-10, 1e-12, 'forward jacobian');
      const Ji = bt.jacfwd((v: bt.Tensor) => bt.reshape(b.inverse(p, bt.reshape(v, [1, d]))[0], [d]))(xi) as bt.Tensor;
      assertClose(bt.linalg.slogdet(Ji)[1], ldi.dataSync()[i]!, 1e-10, 1e-12, 'inverse jacobian');
    }
  });
}

test('MADE masks: output i (shift and log-scale) depends only on inputs < i', () => {
  const b = F.maskedAffineAutoregressive({ dim: d, hiddenSizes: [7, 5] });
  const p = perturb(b.init(bt.random.key(4)), 5);
  const x = randn([d], 6);
  // z = inverse(x): ∂z_i/∂x_j = 0 for j > i, and the diagonal is exp(−α_i) ≠ 0
  const J = (bt.jacrev((v: bt.Tensor) => bt.reshape(b.inverse(p, bt.reshape(v, [1, d]))[0], [d]))(x) as bt.Tensor).toArray() as number[][];
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) assert.is(J[i]![j], 0, `J[${i}][${j}]`);
    assert.ok(J[i]![i] !== 0);
  }
  // and the strictly-lower part is used (the network is not degenerate)
  assert.ok(Math.abs(J[d - 1]![0]!) > 0);
  const m = F.madeMasks(3, [4], 2);
  assert.equal(m[0], [[1, 1, 1, 1], [0, 1, 0, 1], [0, 0, 0, 0]]);
});

test('coupling leaves the masked coordinates unchanged', () => {
  const b = F.affineCoupling({ dim: d, mask: [1, 0, 0, 1], hiddenSizes: [6] });
  const p = perturb(b.init(bt.random.key(7)), 8);
  const z = randn([3, d], 9);
  const [x] = b.forward(p, z);
  const zs = z.toArray() as number[][];
  const xs = x.toArray() as number[][];
  for (let i = 0; i < 3; i++) {
    assert.is(xs[i]![0], zs[i]![0]);
    assert.is(xs[i]![3], zs[i]![3]);
    assert.ok(xs[i]![1] !== zs[i]![1]);
  }
});

test('bad input: typed errors', () => {
  assert.throws(() => F.maskedAffineAutoregressive({ dim: 0, hiddenSizes: [4] }), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => F.maskedAffineAutoregressive({ dim: 2, hiddenSizes: [4], bogus: 1 } as never), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => F.affineCoupling({ dim: 3, mask: [1, 0], hiddenSizes: [4] }), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => F.permutation({ dim: 3, order: [0, 0, 1] }), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => F.permutation({ dim: 3, order: 'random' }), (e: unknown) => e instanceof bt.ConfigError);
  const b = F.maskedAffineAutoregressive({ dim: 2, hiddenSizes: [4] });
  assert.throws(() => b.forward(b.init(bt.random.key(0)), bt.zeros([3, 3])), (e: unknown) => e instanceof bt.ShapeError);
});

test.run();
