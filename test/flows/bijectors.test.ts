/**
 * Bijectors: inverse ∘ forward = id, log|det| vs bt.jacfwd, MADE autoregressive structure, identity at init.
 *
 * Every body runs on each backend (see ../backend-harness.ts): `name [cpu]` in float64 with the
 * checks and tolerances as before, `name [webgpu]` in float32 (layers built with the backend's
 * dtype) with tolerances from float32 rounding:
 *  - identity at init and pass-through coordinates are exact arithmetic (zero last layer, z·1 + 0),
 *    compared exactly on both;
 *  - the round trip z → x → z: z_i = (x_i − μ_i)e^{−α_i} with x_i = z_i e^{α_i} + μ_i rounded, so
 *    |δz_i| ≲ ULPS·eps·(|z_i| + |μ_i|e^{−α_i}) ≤ ULPS·eps·(2|z_i| + |x_i|e^{−α_i}), e^{α_i} read off
 *    the Jacobian's diagonal (these layers are triangular up to the mask);
 *  - log|det| of the two directions: the same log-scales summed, within ULPS·eps·Σ|α_i|;
 *  - slogdet of the bt.jacfwd Jacobian: the first-order bound of ./util.ts `logdetTol`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../src/index.js';
import { backendsUnderTest, randnB, read, registerAll, type BackendCase } from '../backend-harness.js';
import { close } from '../distributions/mc.js';
import { logdetTol, perturb } from './util.js';

const backends = await backendsUnderTest('flows/bijectors');

const F = bt.flows;
const d = 4;
const makers: [string, (B: BackendCase) => bt.flows.Bijector][] = [
  ['maf', (B) => F.maskedAffineAutoregressive({ dim: d, hiddenSizes: [8, 8], dtype: B.dtype })],
  ['coupling', (B) => F.affineCoupling({ dim: d, mask: [1, 0, 1, 0], hiddenSizes: [8], dtype: B.dtype })],
  ['permutation', () => F.permutation({ dim: d, order: [2, 0, 3, 1] })],
];

/** nested rows of an [r, c] tensor, read asynchronously */
async function rows(t: bt.Tensor): Promise<number[][]> {
  const v = await read(t);
  const c = t.shape[1]!;
  return Array.from({ length: t.shape[0]! }, (_, i) => v.slice(i * c, (i + 1) * c));
}

for (const [name, make] of makers) {
  registerAll(backends, `${name}: identity at init; inverse(forward(z)) = z; log|det| matches bt.jacfwd both ways`, async (B) => {
    const b = make(B);
    const p0 = b.init(bt.random.key(1));
    const z = randnB(B, [5, d], 2);
    if (name !== 'permutation') {
      const [x0, l0] = b.forward(p0, z);
      await close(B, x0, z, 0, 0, 'identity at init', { rtol: 0, scale: 0 });
      await close(B, l0, bt.zeros([5]), 0, 0, 'zero log|det| at init', { rtol: 0, scale: 0 });
    }
    const p = perturb(p0, 3);
    const [x, ld] = b.forward(p, z);
    const [zb, ldi] = b.inverse(p, x);
    const Js: number[][] = [];
    const Jis: number[][] = [];
    const lds = await read(ld);
    const ldis = await read(ldi);
    for (let i = 0; i < 5; i++) {
      const zi = bt.reshape(bt.slice(z, [i, 0], [1, d]), [d]);
      const xi = bt.reshape(bt.slice(x, [i, 0], [1, d]), [d]);
      const J = bt.jacfwd((v: bt.Tensor) => bt.reshape(b.forward(p, bt.reshape(v, [1, d]))[0], [d]))(zi) as bt.Tensor;
      const Ji = bt.jacfwd((v: bt.Tensor) => bt.reshape(b.inverse(p, bt.reshape(v, [1, d]))[0], [d]))(xi) as bt.Tensor;
      const [hJ, hJi] = [await read(J), await read(Ji)];
      Js.push(hJ);
      Jis.push(hJi);
      if (B.name === 'cpu') {
        await close(B, bt.linalg.slogdet(J)[1], lds[i]!, 1e-10, 1e-12, 'forward jacobian');
        await close(B, bt.linalg.slogdet(Ji)[1], ldis[i]!, 1e-10, 1e-12, 'inverse jacobian');
      } else {
        // log|det| from the Jacobian vs the layer's own Σα (itself within ULPS·eps·Σ|α|)
        const sumAbsAlpha = Array.from({ length: d }, (_, k) => Math.abs(Math.log(Math.abs(hJ[k * d + k]!)))).reduce((s, v) => s + v, 0);
        await close(B, bt.linalg.slogdet(J)[1], lds[i]!, 0, 0, 'forward jacobian', { scale: sumAbsAlpha, atol: logdetTol(B, hJ, d) });
        await close(B, bt.linalg.slogdet(Ji)[1], ldis[i]!, 0, 0, 'inverse jacobian', { scale: sumAbsAlpha, atol: logdetTol(B, hJi, d) });
      }
    }
    if (B.name === 'cpu') {
      await close(B, zb, z, 1e-12, 1e-12, 'round trip');
      await close(B, ldi, ld.neg(), 1e-12, 1e-12, 'inverse logdet');
    } else {
      const [hz, hx, hzb] = [await read(z), await read(x), await read(zb)];
      for (let i = 0; i < 5; i++) {
        for (let k = 0; k < d; k++) {
          const e = i * d + k;
          // e^{α_k} on the diagonal for the layers that transform coordinate k (1 for pass-through / permutation)
          const scaleK = name === 'permutation' ? 1 : Math.abs(Js[i]![k * d + k]!);
          const tol = B.adRtol * (2 * Math.abs(hz[e]!) + Math.abs(hx[e]!) / scaleK);
          assert.ok(Math.abs(hzb[e]! - hz[e]!) <= tol, `round trip [${i}, ${k}]: ${hzb[e]} vs ${hz[e]} (|err| ${Math.abs(hzb[e]! - hz[e]!).toExponential(2)} > ${tol.toExponential(2)})`);
        }
        const sumAbsAlpha = name === 'permutation' ? 0 : Array.from({ length: d }, (_, k) => Math.abs(Math.log(Math.abs(Js[i]![k * d + k]!)))).reduce((s, v) => s + v, 0);
        await close(B, ldis[i]!, -lds[i]!, 0, 0, `inverse logdet [${i}]`, { scale: sumAbsAlpha });
      }
    }
  });
}

registerAll(backends, 'MADE masks: output i (shift and log-scale) depends only on inputs < i', async (B) => {
  const b = F.maskedAffineAutoregressive({ dim: d, hiddenSizes: [7, 5], dtype: B.dtype });
  const p = perturb(b.init(bt.random.key(4)), 5);
  const x = randnB(B, [d], 6);
  // z = inverse(x): ∂z_i/∂x_j = 0 for j > i, and the diagonal is exp(−α_i) ≠ 0
  const J = await rows(bt.jacrev((v: bt.Tensor) => bt.reshape(b.inverse(p, bt.reshape(v, [1, d]))[0], [d]))(x) as bt.Tensor);
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) assert.is(J[i]![j], 0, `J[${i}][${j}]`);
    assert.ok(J[i]![i] !== 0);
  }
  // and the strictly-lower part is used (the network is not degenerate)
  assert.ok(Math.abs(J[d - 1]![0]!) > 0);
  const m = F.madeMasks(3, [4], 2);
  assert.equal(m[0], [[1, 1, 1, 1], [0, 1, 0, 1], [0, 0, 0, 0]]);
});

registerAll(backends, 'coupling leaves the masked coordinates unchanged', async (B) => {
  const b = F.affineCoupling({ dim: d, mask: [1, 0, 0, 1], hiddenSizes: [6], dtype: B.dtype });
  const p = perturb(b.init(bt.random.key(7)), 8);
  const z = randnB(B, [3, d], 9);
  const [x] = b.forward(p, z);
  const zs = await rows(z);
  const xs = await rows(x);
  for (let i = 0; i < 3; i++) {
    assert.is(xs[i]![0], zs[i]![0]);
    assert.is(xs[i]![3], zs[i]![3]);
    assert.ok(xs[i]![1] !== zs[i]![1]);
  }
});

registerAll(backends, 'bad input: typed errors', (B) => {
  assert.throws(() => F.maskedAffineAutoregressive({ dim: 0, hiddenSizes: [4] }), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => F.maskedAffineAutoregressive({ dim: 2, hiddenSizes: [4], bogus: 1 } as never), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => F.affineCoupling({ dim: 3, mask: [1, 0], hiddenSizes: [4] }), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => F.permutation({ dim: 3, order: [0, 0, 1] }), (e: unknown) => e instanceof bt.ConfigError);
  assert.throws(() => F.permutation({ dim: 3, order: 'random' }), (e: unknown) => e instanceof bt.ConfigError);
  const b = F.maskedAffineAutoregressive({ dim: 2, hiddenSizes: [4], dtype: B.dtype });
  assert.throws(() => b.forward(b.init(bt.random.key(0)), bt.zeros([3, 3])), (e: unknown) => e instanceof bt.ShapeError);
});

test.run();
